"""Licence types of a virtual-asset regulator and what each one requires.

Every licence type has a :class:`LicenceSpec`: the documents an application
must carry, the minimum capital, how often the licensee files a periodic
return and how many days it has to file it, and whether it holds customer
assets (and must therefore prove its reserves)::

    spec = licence_spec("exchange")
    check_application(spec.type, documents, capital_usd=Decimal("2000000"))
    licence_number(spec.type, 7)          # 'VA-EXC-0007'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Literal

from hashnation.errors import InputError

__all__ = [
    "LICENCE_SPECS",
    "LicenceSpec",
    "LicenceType",
    "Specs",
    "check_application",
    "licence_number",
    "licence_spec",
    "missing_documents",
    "rules_for",
]


class LicenceType(StrEnum):
    """The kinds of virtual-asset service provider a licence covers."""

    EXCHANGE = "exchange"
    CUSTODIAL_WALLET = "custodial_wallet"
    BROKER = "broker"
    STABLECOIN_ISSUER = "stablecoin_issuer"
    ADVISOR = "advisor"


@dataclass(frozen=True)
class LicenceSpec:
    """What one licence type requires of an applicant and a licensee.

    Parameters
    ----------
    type
        The licence type.
    title
        Title in words (``Virtual-asset exchange``).
    code
        Three capital letters used in licence numbers (``EXC``).
    required_documents
        Documents an application must carry, by name, in the order shown to applicants.
    min_capital_usd
        Minimum paid-up capital [USD].
    return_frequency
        ``monthly`` or ``quarterly`` periodic returns.
    filing_days
        Days after a period's end by which its return is due [days].
    holds_customer_assets
        True when the licensee holds customer assets (and must prove its reserves).
    """

    type: LicenceType
    title: str
    code: str
    required_documents: tuple[str, ...]
    min_capital_usd: Decimal
    return_frequency: Literal["monthly", "quarterly"]
    filing_days: int
    holds_customer_assets: bool


_COMMON_DOCUMENTS = (
    "business_plan",
    "constitutional_documents",
    "fit_and_proper_declarations",
    "aml_cft_policy",
    "governance_arrangements",
    "ict_security_policy",
    "complaints_procedure",
    "audited_financial_statements",
)

# The documents, capital minimums and filing deadlines below are illustrative defaults
# for a generic regulator; a country pack overrides them with its own rules.
LICENCE_SPECS: Mapping[LicenceType, LicenceSpec] = MappingProxyType(
    {
        LicenceType.EXCHANGE: LicenceSpec(
            type=LicenceType.EXCHANGE,
            title="Virtual-asset exchange",
            code="EXC",
            required_documents=(
                *_COMMON_DOCUMENTS,
                "custody_policy",
                "market_abuse_surveillance_policy",
                "listing_policy",
                "proof_of_reserves_plan",
            ),
            min_capital_usd=Decimal("1000000"),
            return_frequency="monthly",
            filing_days=15,
            holds_customer_assets=True,
        ),
        LicenceType.CUSTODIAL_WALLET: LicenceSpec(
            type=LicenceType.CUSTODIAL_WALLET,
            title="Custodial wallet provider",
            code="CUS",
            required_documents=(
                *_COMMON_DOCUMENTS,
                "custody_policy",
                "key_management_policy",
                "proof_of_reserves_plan",
            ),
            min_capital_usd=Decimal("500000"),
            return_frequency="monthly",
            filing_days=15,
            holds_customer_assets=True,
        ),
        LicenceType.BROKER: LicenceSpec(
            type=LicenceType.BROKER,
            title="Virtual-asset broker-dealer",
            code="BRK",
            required_documents=(
                *_COMMON_DOCUMENTS,
                "best_execution_policy",
                "client_money_policy",
            ),
            min_capital_usd=Decimal("250000"),
            return_frequency="quarterly",
            filing_days=30,
            holds_customer_assets=False,
        ),
        LicenceType.STABLECOIN_ISSUER: LicenceSpec(
            type=LicenceType.STABLECOIN_ISSUER,
            title="Stablecoin issuer",
            code="STB",
            required_documents=(
                *_COMMON_DOCUMENTS,
                "white_paper",
                "reserve_management_policy",
                "redemption_policy",
                "custody_policy",
            ),
            min_capital_usd=Decimal("5000000"),
            return_frequency="monthly",
            filing_days=10,
            holds_customer_assets=True,
        ),
        LicenceType.ADVISOR: LicenceSpec(
            type=LicenceType.ADVISOR,
            title="Virtual-asset investment adviser",
            code="ADV",
            required_documents=(
                *_COMMON_DOCUMENTS,
                "suitability_policy",
                "conflicts_of_interest_policy",
            ),
            min_capital_usd=Decimal("50000"),
            return_frequency="quarterly",
            filing_days=30,
            holds_customer_assets=False,
        ),
    }
)


Specs = Mapping[LicenceType, LicenceSpec]
"""The licence types a regulator grants and its rules for each (a country pack's)."""


def _choices(specs: Specs) -> str:
    return "one of " + ", ".join(t.value for t in specs)


def licence_spec(value: LicenceType | str, specs: Specs = LICENCE_SPECS) -> LicenceSpec:
    """Look up the spec of a licence type.

    Parameters
    ----------
    value
        A :class:`LicenceType` or its value (``exchange``).
    specs
        The regulator's licence types (default: every type, with the default rules).

    Returns
    -------
    LicenceSpec
        The licence type's spec.

    Raises
    ------
    InputError
        If ``value`` names no licence type the regulator grants (field ``licence_type``).
    """
    try:
        return specs[LicenceType(value)]
    except (ValueError, KeyError):
        raise InputError("licence_type", value, _choices(specs)) from None


def rules_for(licence_type: LicenceType | str, specs: Specs = LICENCE_SPECS) -> LicenceSpec:
    """Look up a licence type's rules, falling back to the defaults for a type not granted.

    A licence granted under a type the regulator no longer offers keeps the default
    rules, so that the registry can still read and supervise it.

    Parameters
    ----------
    licence_type
        The type, as stored (a :class:`LicenceType` or its value).
    specs
        The regulator's licence types.

    Returns
    -------
    LicenceSpec
        The regulator's rules for the type, or the default ones.

    Raises
    ------
    InputError
        If ``licence_type`` is no licence type at all.
    """
    try:
        kind = LicenceType(licence_type)
    except ValueError:
        raise InputError("licence_type", licence_type, _choices(LICENCE_SPECS)) from None
    return specs.get(kind) or LICENCE_SPECS[kind]


def missing_documents(
    licence_type: LicenceType | str, provided: Iterable[str], specs: Specs = LICENCE_SPECS
) -> list[str]:
    """List the required documents not among those provided.

    Parameters
    ----------
    licence_type
        The licence type applied for.
    provided
        Names of the documents given (surrounding spaces ignored).
    specs
        The regulator's licence types.

    Returns
    -------
    list of str
        The missing ones, in the spec's order (empty when complete).
    """
    given = {name.strip() for name in provided}
    return [d for d in rules_for(licence_type, specs).required_documents if d not in given]


def check_application(
    licence_type: LicenceType | str,
    documents: Iterable[str],
    capital_usd: Decimal,
    specs: Specs = LICENCE_SPECS,
) -> None:
    """Refuse an application that lacks a document or enough capital.

    Parameters
    ----------
    licence_type
        The licence type applied for.
    documents
        Names of the documents given.
    capital_usd
        The applicant's paid-up capital [USD].
    specs
        The regulator's licence types.

    Raises
    ------
    InputError
        Field ``documents`` naming the missing documents, or ``capital_usd``
        naming the minimum.
    """
    spec = licence_spec(licence_type, specs)
    given = sorted({d.strip() for d in documents})
    missing = missing_documents(spec.type, given, specs)
    if missing:
        raise InputError(
            "documents", given, f"every required document (missing: {', '.join(missing)})"
        )
    if not isinstance(capital_usd, Decimal) or not capital_usd.is_finite():
        raise InputError("capital_usd", capital_usd, "a finite Decimal amount [USD]")
    if capital_usd < spec.min_capital_usd:
        raise InputError(
            "capital_usd",
            capital_usd,
            f"at least {spec.min_capital_usd} USD (the {spec.type.value} minimum)",
        )


def licence_number(
    licence_type: LicenceType | str,
    sequence: int,
    prefix: str = "VA",
    specs: Specs = LICENCE_SPECS,
) -> str:
    """Format the public number of a licence (``VA-EXC-0007``).

    Parameters
    ----------
    licence_type
        The licence type.
    sequence
        The licence's sequence number, >= 1 (at least four digits are written).
    prefix
        The authority's prefix (letters and digits).
    specs
        The regulator's licence types (for the type's code).

    Returns
    -------
    str
        ``{prefix}-{code}-{sequence:04d}``.

    Raises
    ------
    InputError
        If ``sequence`` is not a positive integer or ``prefix`` is not alphanumeric.
    """
    spec = licence_spec(licence_type, specs)
    if isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 1:
        raise InputError("sequence", sequence, "an integer >= 1")
    if not prefix or not (prefix.isascii() and prefix.isalnum()):
        raise InputError("prefix", prefix, "ASCII letters and digits")
    return f"{prefix}-{spec.code}-{sequence:04d}"
