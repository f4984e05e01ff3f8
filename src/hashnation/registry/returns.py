"""Periodic returns licensees file, one schema per licence type.

A return covers one reporting period (a calendar month or quarter, see
:mod:`hashnation.registry.schedule`) and carries the figures every licensee
reports (customers, complaints, capital, incidents) plus those of its licence
type. Firms that hold customers' bitcoin can attach a
:class:`~hashnation.proofs.attestation.SolvencyAttestation` from the proofs
pillar; :func:`return_breaches` then checks that it is solvent and that its
liabilities tree covers at least the customer bitcoin the firm declares.

Returns are pydantic v2 models that refuse unknown fields. :func:`parse_return`
reads a JSON-like mapping and turns the first validation error into one
:class:`~hashnation.errors.ReturnError` naming the dotted field, the value and
what was expected::

    ret = parse_return(payload, licence_type="exchange")
    breaches = return_breaches(ret, licence_spec("exchange"))
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from hashnation.bitcoin.units import MAX_MONEY_SAT, sat_to_btc
from hashnation.errors import ReturnError
from hashnation.proofs.attestation import SolvencyAttestation
from hashnation.registry.breaches import Breach
from hashnation.registry.licences import LicenceSpec, LicenceType, licence_spec

__all__ = [
    "RETURN_MODELS",
    "AdvisorReturn",
    "BrokerReturn",
    "CustodialWalletReturn",
    "ExchangeReturn",
    "Incident",
    "PeriodicReturn",
    "ReserveAsset",
    "ReturnBase",
    "StablecoinIssuerReturn",
    "parse_return",
    "return_breaches",
    "return_json_schema",
    "return_summary",
]

Count = Annotated[int, Field(ge=0)]
"""A count of people or items, >= 0."""

AmountUsd = Annotated[Decimal, Field(ge=0)]
"""A USD amount, >= 0 [USD]; a decimal string in JSON."""

AmountSat = Annotated[int, Field(ge=0, le=MAX_MONEY_SAT)]
"""A bitcoin amount, 0 .. 21 million BTC [sat]."""

_RULE = "return_rule"


def _rule(field: str, value: object, expected: str) -> PydanticCustomError:
    """Report a broken cross-field rule with the field it belongs to (see parse_return)."""
    return PydanticCustomError(
        _RULE,
        "{field}: got {value}, expected {expected}",
        {"field": field, "value": value, "expected": expected},
    )


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Incident(_Model):
    """A security, operational or fraud incident during the period.

    Parameters
    ----------
    occurred_on
        Day it occurred (inside the return's period).
    kind
        ``security``, ``outage``, ``fraud``, ``data_breach`` or ``other``.
    description
        What happened, 1 to 2000 characters.
    customers_affected
        Customers affected [customers].
    loss_usd
        Loss, to the firm or its customers [USD].
    """

    occurred_on: date
    kind: Literal["security", "outage", "fraud", "data_breach", "other"]
    description: str = Field(min_length=1, max_length=2000)
    customers_affected: Count
    loss_usd: AmountUsd


class ReturnBase(_Model):
    """Figures every licensee reports for a period.

    Parameters
    ----------
    period_start
        First day of the period.
    period_end
        Last day of the period (on or after ``period_start``).
    customers
        Customers at the period's end [customers].
    complaints_received
        Complaints received during the period [complaints].
    complaints_resolved
        Of those, complaints resolved (at most ``complaints_received``) [complaints].
    capital_usd
        Paid-up capital at the period's end [USD].
    incidents
        Incidents during the period (each dated inside it).
    """

    period_start: date
    period_end: date
    customers: Count
    complaints_received: Count
    complaints_resolved: Count
    capital_usd: AmountUsd
    incidents: list[Incident] = Field(default_factory=list)

    @model_validator(mode="after")
    def _period_and_complaints(self) -> ReturnBase:
        if self.period_end < self.period_start:
            raise _rule(
                "period_end",
                self.period_end.isoformat(),
                f"a date on or after period_start ({self.period_start.isoformat()})",
            )
        if self.complaints_resolved > self.complaints_received:
            raise _rule(
                "complaints_resolved",
                self.complaints_resolved,
                f"at most complaints_received ({self.complaints_received})",
            )
        for index, incident in enumerate(self.incidents):
            if not self.period_start <= incident.occurred_on <= self.period_end:
                raise _rule(
                    f"incidents.{index}.occurred_on",
                    incident.occurred_on.isoformat(),
                    f"a date inside the period ({self.period_start.isoformat()} to "
                    f"{self.period_end.isoformat()})",
                )
        return self


class ExchangeReturn(ReturnBase):
    """Return of a virtual-asset exchange.

    Parameters
    ----------
    licence_type
        ``exchange``.
    customer_assets_btc_sat
        Customers' bitcoin held at the period's end [sat].
    customer_assets_fiat_usd
        Customers' fiat money held at the period's end [USD].
    trading_volume_usd
        Volume traded during the period [USD].
    por_attestation
        A proof-of-reserves solvency attestation at or near the period's end.
    """

    licence_type: Literal["exchange"]
    customer_assets_btc_sat: AmountSat
    customer_assets_fiat_usd: AmountUsd
    trading_volume_usd: AmountUsd
    por_attestation: SolvencyAttestation | None = None


class CustodialWalletReturn(ReturnBase):
    """Return of a custodial wallet provider.

    Parameters
    ----------
    licence_type
        ``custodial_wallet``.
    customer_assets_btc_sat
        Customers' bitcoin held at the period's end [sat].
    cold_storage_btc_sat
        Of that, bitcoin in cold storage (at most ``customer_assets_btc_sat``) [sat].
    por_attestation
        A proof-of-reserves solvency attestation at or near the period's end.
    """

    licence_type: Literal["custodial_wallet"]
    customer_assets_btc_sat: AmountSat
    cold_storage_btc_sat: AmountSat
    por_attestation: SolvencyAttestation | None = None

    @model_validator(mode="after")
    def _cold_storage(self) -> CustodialWalletReturn:
        if self.cold_storage_btc_sat > self.customer_assets_btc_sat:
            raise _rule(
                "cold_storage_btc_sat",
                self.cold_storage_btc_sat,
                f"at most customer_assets_btc_sat ({self.customer_assets_btc_sat})",
            )
        return self


class BrokerReturn(ReturnBase):
    """Return of a virtual-asset broker-dealer.

    Parameters
    ----------
    licence_type
        ``broker``.
    client_orders
        Client orders executed during the period [orders].
    volume_usd
        Value of those orders [USD].
    client_money_usd
        Client money held at the period's end [USD].
    """

    licence_type: Literal["broker"]
    client_orders: Count
    volume_usd: AmountUsd
    client_money_usd: AmountUsd


class ReserveAsset(_Model):
    """One class of assets backing a stablecoin.

    Parameters
    ----------
    kind
        ``cash``, ``treasury_bills``, ``reverse_repo`` or ``bank_deposits``.
    amount_usd
        Value at the period's end [USD].
    """

    kind: Literal["cash", "treasury_bills", "reverse_repo", "bank_deposits"]
    amount_usd: AmountUsd


class StablecoinIssuerReturn(ReturnBase):
    """Return of a stablecoin issuer.

    Parameters
    ----------
    licence_type
        ``stablecoin_issuer``.
    tokens_outstanding_usd
        Face value of the tokens in circulation at the period's end [USD].
    reserve_assets
        The reserve, by asset class (at least one entry).
    """

    licence_type: Literal["stablecoin_issuer"]
    tokens_outstanding_usd: AmountUsd
    reserve_assets: list[ReserveAsset] = Field(min_length=1)

    @property
    def reserve_total_usd(self) -> Decimal:
        """Total of the reserve assets [USD]."""
        return sum((a.amount_usd for a in self.reserve_assets), Decimal(0))


class AdvisorReturn(ReturnBase):
    """Return of a virtual-asset investment adviser.

    Parameters
    ----------
    licence_type
        ``advisor``.
    clients_advised
        Clients advised during the period [clients].
    """

    licence_type: Literal["advisor"]
    clients_advised: Count


PeriodicReturn = Annotated[
    ExchangeReturn | CustodialWalletReturn | BrokerReturn | StablecoinIssuerReturn | AdvisorReturn,
    Field(discriminator="licence_type"),
]
"""Any licence type's return, told apart by ``licence_type``."""

RETURN_MODELS: Mapping[LicenceType, type[ReturnBase]] = {
    LicenceType.EXCHANGE: ExchangeReturn,
    LicenceType.CUSTODIAL_WALLET: CustodialWalletReturn,
    LicenceType.BROKER: BrokerReturn,
    LicenceType.STABLECOIN_ISSUER: StablecoinIssuerReturn,
    LicenceType.ADVISOR: AdvisorReturn,
}
"""The return model of each licence type."""


def _shown(value: object) -> object:
    """Shorten a value for a one-line message."""
    if isinstance(value, Mapping) and value:
        return "{...}"
    if isinstance(value, list | tuple) and value:
        return "[...]"
    if isinstance(value, str) and len(value) > 60:
        return value[:57] + "..."
    return value


_EXPECTED: Mapping[str, str] = {
    "missing": "a required field",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer (no fraction)",
    "decimal_type": "a number",
    "decimal_parsing": "a number",
    "finite_number": "a finite number",
    "float_parsing": "a number",
    "date_type": "a date (YYYY-MM-DD)",
    "date_parsing": "a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "a date (YYYY-MM-DD)",
    "date_from_datetime_inexact": "a date without a time of day",
    "string_type": "text",
    "list_type": "a list",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
}


def _count(number: object, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _expected(error: Mapping[str, Any]) -> str:
    """Readable words for what a pydantic error expected."""
    kind = str(error["type"])
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    if kind in _EXPECTED:
        return _EXPECTED[kind]
    if kind == "greater_than_equal":
        return f"a number >= {ctx['ge']}"
    if kind == "greater_than":
        return f"a number > {ctx['gt']}"
    if kind == "less_than_equal":
        return f"a number <= {ctx['le']}"
    if kind == "less_than":
        return f"a number < {ctx['lt']}"
    if kind == "literal_error":
        return f"one of {ctx['expected']}"
    if kind == "string_too_short":
        return f"text of at least {_count(ctx['min_length'], 'character')}"
    if kind == "string_too_long":
        return f"text of at most {_count(ctx['max_length'], 'character')}"
    if kind == "too_short":
        return f"a list of at least {_count(ctx['min_length'], 'item')}"
    if kind == "too_long":
        return f"a list of at most {_count(ctx['max_length'], 'item')}"
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if message[:1].isupper() and not message[1:2].isupper():
        message = message[0].lower() + message[1:]
    return message or "a valid value"


def _return_error(exc: ValidationError) -> ReturnError:
    """Turn the first error of a validation into one ReturnError."""
    error = exc.errors(include_url=False)[0]
    loc = ".".join(str(part) for part in error["loc"])
    if error["type"] == _RULE:
        ctx = error["ctx"]
        field = f"{loc}.{ctx['field']}" if loc else str(ctx["field"])
        return ReturnError(field, ctx["value"], str(ctx["expected"]))
    field = loc or "return"
    if error["type"] == "missing":
        return ReturnError(field, None, _EXPECTED["missing"])
    if error["type"] == "extra_forbidden":
        return ReturnError(field, _shown(error.get("input")), "no such field in this return")
    return ReturnError(field, _shown(error.get("input")), _expected(error))


def _licence_type(value: object, field: str = "licence_type") -> LicenceType:
    try:
        return LicenceType(value)  # type: ignore[arg-type]
    except ValueError:
        raise ReturnError(
            field, _shown(value), "one of " + ", ".join(t.value for t in LicenceType)
        ) from None


def parse_return(
    data: Mapping[str, Any], *, licence_type: LicenceType | str | None = None
) -> PeriodicReturn:
    """Validate a return given as a JSON-like mapping.

    Parameters
    ----------
    data
        The return: dates as ``YYYY-MM-DD`` strings or dates, amounts as numbers
        or decimal strings, the attestation as its JSON object.
    licence_type
        The type of the licence it is filed under. When given, ``data`` may leave
        out ``licence_type``; when it names another type the return is refused.

    Returns
    -------
    PeriodicReturn
        The return model of its licence type.

    Raises
    ------
    ReturnError
        For the first error found: ``field`` is the dotted location
        (``reserve_assets.0.amount_usd``), ``value`` the value given and
        ``expected`` what would have been accepted, in words.
    """
    if not isinstance(data, Mapping):
        raise ReturnError("return", type(data).__name__, "an object of named fields")
    payload = dict(data)
    expected_type = None if licence_type is None else _licence_type(licence_type)
    if "licence_type" not in payload:
        if expected_type is None:
            raise ReturnError("licence_type", None, _EXPECTED["missing"])
        payload["licence_type"] = expected_type.value
    given = _licence_type(payload["licence_type"])
    if expected_type is not None and given is not expected_type:
        raise ReturnError(
            "licence_type", payload["licence_type"], f"{expected_type.value!r} (the licence's type)"
        )
    try:
        model = RETURN_MODELS[given].model_validate(payload)
    except ValidationError as exc:
        raise _return_error(exc) from None
    return model  # type: ignore[return-value]


def return_json_schema(licence_type: LicenceType | str) -> dict[str, Any]:
    """JSON Schema of a licence type's return (for forms and API documentation).

    Parameters
    ----------
    licence_type
        The licence type.

    Returns
    -------
    dict
        The schema (draft 2020-12, as pydantic writes it).

    Raises
    ------
    InputError
        If ``licence_type`` names no licence type.
    """
    return RETURN_MODELS[licence_spec(licence_type).type].model_json_schema()


def _btc(amount_sat: int) -> str:
    return f"{sat_to_btc(amount_sat).normalize():f}"


def _btc_liabilities_sat(attestation: SolvencyAttestation) -> int:
    return sum(a.liabilities for a in attestation.assets if a.asset == "BTC")


def return_breaches(ret: PeriodicReturn, spec: LicenceSpec) -> list[Breach]:
    """Rules a validated return shows the licensee breaking.

    Parameters
    ----------
    ret
        The return.
    spec
        The spec of the licence it is filed under.

    Returns
    -------
    list of Breach
        ``capital_below_minimum`` (major), ``reserves_below_tokens`` (stablecoin
        reserve below the tokens outstanding, major), ``insolvent_attestation``
        (the attached attestation is not solvent, major),
        ``attestation_below_declared`` (the attestation's BTC liabilities are
        less than the customer bitcoin the return declares: its tree leaves
        customers out, major) and ``unresolved_complaints`` (minor), in that order.

    Raises
    ------
    ReturnError
        If the return is of another licence type than ``spec``.
    """
    if ret.licence_type != spec.type.value:
        raise ReturnError(
            "licence_type", ret.licence_type, f"{spec.type.value!r} (the licence's type)"
        )
    found: list[Breach] = []
    if ret.capital_usd < spec.min_capital_usd:
        found.append(
            Breach(
                "capital_below_minimum",
                "capital_usd",
                f"capital {ret.capital_usd} USD is below the minimum of {spec.min_capital_usd} USD",
                "major",
            )
        )
    if (
        isinstance(ret, StablecoinIssuerReturn)
        and ret.reserve_total_usd < ret.tokens_outstanding_usd
    ):
        found.append(
            Breach(
                "reserves_below_tokens",
                "reserve_assets",
                f"reserve assets {ret.reserve_total_usd} USD are below the "
                f"{ret.tokens_outstanding_usd} USD of tokens outstanding",
                "major",
            )
        )
    if isinstance(ret, ExchangeReturn | CustodialWalletReturn) and ret.por_attestation:
        attestation = ret.por_attestation
        if not attestation.solvent:
            short = ", ".join(
                f"{a.asset} reserves {a.reserves} {a.unit} < liabilities {a.liabilities} {a.unit}"
                for a in attestation.assets
                if not a.solvent
            )
            found.append(
                Breach(
                    "insolvent_attestation",
                    "por_attestation",
                    f"the attestation at height {attestation.height} is not solvent: {short}",
                    "major",
                )
            )
        attested_sat = _btc_liabilities_sat(attestation)
        if attested_sat < ret.customer_assets_btc_sat:
            found.append(
                Breach(
                    "attestation_below_declared",
                    "por_attestation",
                    f"the attestation's BTC liabilities ({attested_sat} sat) are below the "
                    f"customer_assets_btc_sat declared ({ret.customer_assets_btc_sat} sat)",
                    "major",
                )
            )
    unresolved = ret.complaints_received - ret.complaints_resolved
    if unresolved > 0:
        found.append(
            Breach(
                "unresolved_complaints",
                "complaints_resolved",
                f"{unresolved} of {ret.complaints_received} complaints unresolved at period end",
                "minor",
            )
        )
    return found


def return_summary(ret: PeriodicReturn) -> dict[str, str]:
    """Headline figures of a return, as display strings.

    Parameters
    ----------
    ret
        The return.

    Returns
    -------
    dict of str to str
        ``period``, ``customers``, ``complaints_open``, ``capital_usd``, then the
        licence type's own: ``customer_assets_btc`` [BTC] and, with an attestation,
        ``solvent`` (exchange, custodial wallet); ``cold_storage_pct`` [%];
        ``client_orders``, ``volume_usd``, ``client_money_usd`` (broker);
        ``tokens_outstanding_usd``, ``reserve_total_usd``, ``reserve_ratio``
        (stablecoin issuer); ``clients_advised`` (advisor).
    """
    summary = {
        "period": f"{ret.period_start.isoformat()} to {ret.period_end.isoformat()}",
        "customers": str(ret.customers),
        "complaints_open": str(ret.complaints_received - ret.complaints_resolved),
        "capital_usd": str(ret.capital_usd),
    }
    if isinstance(ret, ExchangeReturn):
        summary["customer_assets_btc"] = _btc(ret.customer_assets_btc_sat)
        summary["customer_assets_fiat_usd"] = str(ret.customer_assets_fiat_usd)
        summary["trading_volume_usd"] = str(ret.trading_volume_usd)
    elif isinstance(ret, CustodialWalletReturn):
        summary["customer_assets_btc"] = _btc(ret.customer_assets_btc_sat)
        if ret.customer_assets_btc_sat:
            share = Decimal(100 * ret.cold_storage_btc_sat) / ret.customer_assets_btc_sat
            summary["cold_storage_pct"] = f"{share:.1f}"
    elif isinstance(ret, BrokerReturn):
        summary["client_orders"] = str(ret.client_orders)
        summary["volume_usd"] = str(ret.volume_usd)
        summary["client_money_usd"] = str(ret.client_money_usd)
    elif isinstance(ret, StablecoinIssuerReturn):
        summary["tokens_outstanding_usd"] = str(ret.tokens_outstanding_usd)
        summary["reserve_total_usd"] = str(ret.reserve_total_usd)
        if ret.tokens_outstanding_usd:
            ratio = ret.reserve_total_usd / ret.tokens_outstanding_usd
            summary["reserve_ratio"] = f"{ratio:.4f}"
    else:
        summary["clients_advised"] = str(ret.clients_advised)
    if isinstance(ret, ExchangeReturn | CustodialWalletReturn) and ret.por_attestation:
        summary["solvent"] = "yes" if ret.por_attestation.solvent else "no"
    return summary
