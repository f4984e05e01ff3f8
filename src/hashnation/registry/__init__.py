"""Virtual-asset regulator: licensing, sandboxes, returns, enforcement, public register.

The domain here is pure (no database, no network, no clock):

- :mod:`~hashnation.registry.licences`: licence types, their required documents,
  minimum capital and filing frequency, and licence numbers;
- :mod:`~hashnation.registry.workflow`: the application and licence state machine
  and the decisions that move it;
- :mod:`~hashnation.registry.sandbox`: sandbox cohorts, caps and exit decisions;
- :mod:`~hashnation.registry.returns`: periodic returns per licence type (pydantic),
  with proof-of-reserves attestations, and the breaches they show;
- :mod:`~hashnation.registry.schedule`: the filing calendar, late and missing returns;
- :mod:`~hashnation.registry.enforcement`: warnings, fines, suspensions, revocations;
- :mod:`~hashnation.registry.register`: the public register and its CSV/JSON exports.

The service layer (:mod:`hashnation.registry.service`) stores them and checks who
may do what; it is not imported here.
"""

from hashnation.registry.breaches import Breach
from hashnation.registry.enforcement import (
    EnforcementAction,
    EnforcementKind,
    enforcement_action,
    licence_action,
)
from hashnation.registry.licences import (
    LICENCE_SPECS,
    LicenceSpec,
    LicenceType,
    check_application,
    licence_number,
    licence_spec,
    missing_documents,
)
from hashnation.registry.register import (
    REGISTER_COLUMNS,
    SERVICES,
    RegisterRow,
    register_csv,
    register_json,
    search,
)
from hashnation.registry.returns import (
    AdvisorReturn,
    BrokerReturn,
    CustodialWalletReturn,
    ExchangeReturn,
    Incident,
    PeriodicReturn,
    ReserveAsset,
    StablecoinIssuerReturn,
    parse_return,
    return_breaches,
    return_json_schema,
    return_summary,
)
from hashnation.registry.sandbox import (
    Cohort,
    ExitDecision,
    SandboxCaps,
    SandboxExit,
    SandboxUsage,
    cap_breaches,
    cohort,
    decide_exit,
)
from hashnation.registry.schedule import (
    FilingState,
    due_on,
    filing_breaches,
    filing_calendar,
    reporting_periods,
)
from hashnation.registry.workflow import (
    AUTHORISED,
    FIRM_ACTIONS,
    PUBLIC,
    REASON_REQUIRED,
    STAFF_ACTIONS,
    TERMINAL,
    TRANSITIONS,
    Action,
    Decision,
    Status,
    allowed_actions,
    decide,
    next_status,
    parse_action,
    parse_status,
)

__all__ = [
    "AUTHORISED",
    "FIRM_ACTIONS",
    "LICENCE_SPECS",
    "PUBLIC",
    "REASON_REQUIRED",
    "REGISTER_COLUMNS",
    "SERVICES",
    "STAFF_ACTIONS",
    "TERMINAL",
    "TRANSITIONS",
    "Action",
    "AdvisorReturn",
    "Breach",
    "BrokerReturn",
    "Cohort",
    "CustodialWalletReturn",
    "Decision",
    "EnforcementAction",
    "EnforcementKind",
    "ExchangeReturn",
    "ExitDecision",
    "FilingState",
    "Incident",
    "LicenceSpec",
    "LicenceType",
    "PeriodicReturn",
    "RegisterRow",
    "ReserveAsset",
    "SandboxCaps",
    "SandboxExit",
    "SandboxUsage",
    "StablecoinIssuerReturn",
    "Status",
    "allowed_actions",
    "cap_breaches",
    "check_application",
    "cohort",
    "decide",
    "decide_exit",
    "due_on",
    "enforcement_action",
    "filing_breaches",
    "filing_calendar",
    "licence_action",
    "licence_number",
    "licence_spec",
    "missing_documents",
    "next_status",
    "parse_action",
    "parse_return",
    "parse_status",
    "register_csv",
    "register_json",
    "reporting_periods",
    "return_breaches",
    "return_json_schema",
    "return_summary",
    "search",
]
