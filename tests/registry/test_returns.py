"""Periodic returns: one valid example per licence type, readable refusals, breaches."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from hashnation.errors import InputError, ReturnError
from hashnation.proofs.attestation import SolvencyAttestation, attest
from hashnation.proofs.balances import Balances
from hashnation.proofs.documents import LiabilitiesRoot
from hashnation.proofs.liabilities import build_liabilities
from hashnation.proofs.reserves import ControlResult, ReserveProof
from hashnation.registry.licences import LICENCE_SPECS, LicenceType, licence_spec
from hashnation.registry.returns import (
    AdvisorReturn,
    BrokerReturn,
    CustodialWalletReturn,
    ExchangeReturn,
    StablecoinIssuerReturn,
    parse_return,
    return_breaches,
    return_json_schema,
    return_summary,
)

BLOCK = "00000000a3bbe4fd1da16a29dbdaba01cc35d6fc74ee17f794cf3aab94f7aaa0"


def common(licence_type: str) -> dict[str, Any]:
    return {
        "licence_type": licence_type,
        "period_start": "2025-01-01",
        "period_end": "2025-01-31",
        "customers": 1200,
        "complaints_received": 4,
        "complaints_resolved": 4,
        "capital_usd": str(licence_spec(licence_type).min_capital_usd),
        "incidents": [
            {
                "occurred_on": "2025-01-15",
                "kind": "outage",
                "description": "matching engine down 40 minutes",
                "customers_affected": 300,
                "loss_usd": "0",
            }
        ],
    }


EXAMPLES: dict[str, dict[str, Any]] = {
    "exchange": {
        "customer_assets_btc_sat": 1_250_000_000,
        "customer_assets_fiat_usd": "2500000.50",
        "trading_volume_usd": "81000000",
    },
    "custodial_wallet": {
        "customer_assets_btc_sat": 200_000_000,
        "cold_storage_btc_sat": 190_000_000,
    },
    "broker": {"client_orders": 5400, "volume_usd": "12000000", "client_money_usd": "350000"},
    "stablecoin_issuer": {
        "tokens_outstanding_usd": "10000000",
        "reserve_assets": [
            {"kind": "cash", "amount_usd": "2000000"},
            {"kind": "treasury_bills", "amount_usd": "8000000"},
        ],
    },
    "advisor": {"clients_advised": 85},
}
MODELS = {
    "exchange": ExchangeReturn,
    "custodial_wallet": CustodialWalletReturn,
    "broker": BrokerReturn,
    "stablecoin_issuer": StablecoinIssuerReturn,
    "advisor": AdvisorReturn,
}


def example(licence_type: str, /, **changes: Any) -> dict[str, Any]:
    return common(licence_type) | EXAMPLES[licence_type] | changes


def test_examples_cover_every_licence_type() -> None:
    assert set(EXAMPLES) == {t.value for t in LicenceType} == set(MODELS)


@pytest.mark.parametrize("licence_type", sorted(EXAMPLES))
def test_valid_example(licence_type: str) -> None:
    data = example(licence_type)
    ret = parse_return(data, licence_type=licence_type)
    assert type(ret) is MODELS[licence_type]
    assert ret.licence_type == licence_type
    assert ret.period_end == date(2025, 1, 31) and ret.customers == 1200
    assert ret.incidents[0].loss_usd == Decimal(0)
    assert return_breaches(ret, licence_spec(licence_type)) == []
    # JSON round trip: the stored payload reads back to the same return.
    again = parse_return(json.loads(ret.model_dump_json()))
    assert again == ret
    # licence_type may be left to the licence.
    data.pop("licence_type")
    assert parse_return(data, licence_type=licence_type) == ret
    summary = return_summary(ret)
    assert summary["customers"] == "1200" and summary["complaints_open"] == "0"
    schema = return_json_schema(licence_type)
    assert set(schema["properties"]) == set(MODELS[licence_type].model_fields)
    assert set(schema["required"]) >= set(EXAMPLES[licence_type]) | {"period_start", "customers"}


def test_summary_figures() -> None:
    exchange = parse_return(example("exchange"))
    assert return_summary(exchange)["customer_assets_btc"] == "12.5"
    wallet = parse_return(example("custodial_wallet"))
    assert return_summary(wallet)["cold_storage_pct"] == "95.0"
    issuer = parse_return(example("stablecoin_issuer"))
    assert isinstance(issuer, StablecoinIssuerReturn)
    assert issuer.reserve_total_usd == Decimal("10000000")
    assert return_summary(issuer)["reserve_ratio"] == "1.0000"


def _refusal(data: dict[str, Any], **kwargs: Any) -> ReturnError:
    with pytest.raises(ReturnError) as info:
        parse_return(data, **kwargs)
    error = info.value
    assert isinstance(error, InputError)
    message = str(error)
    assert message == f"{error.field}: got {error.value!r}, expected {error.expected}"
    assert "\n" not in message and "pydantic" not in message and "type=" not in message
    return error


def _without(data: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != key}


def _reserve(amount: str) -> dict[str, Any]:
    return {"reserve_assets": [{"kind": "cash", "amount_usd": amount}]}


@pytest.mark.parametrize(
    ("data", "field", "value", "expected"),
    [
        (example("exchange", customers="many"), "customers", "many", "an integer"),
        (_without(example("broker"), "client_orders"), "client_orders", None, "a required field"),
        (
            example("stablecoin_issuer", **_reserve("-1")),
            "reserve_assets.0.amount_usd",
            "-1",
            "a number >= 0",
        ),
        (
            example("advisor", complaints_resolved=5),
            "complaints_resolved",
            5,
            "at most complaints_received (4)",
        ),
        (
            example("advisor", period_end="2024-12-31"),
            "period_end",
            "2024-12-31",
            "a date on or after period_start (2025-01-01)",
        ),
        (
            example("exchange", fee_income_usd="1"),
            "fee_income_usd",
            "1",
            "no such field in this return",
        ),
        (
            example("broker", period_start="2025-02-30"),
            "period_start",
            "2025-02-30",
            "a date (YYYY-MM-DD)",
        ),
        (example("broker", capital_usd="lots"), "capital_usd", "lots", "a number"),
        (
            example("exchange", customer_assets_btc_sat=-5),
            "customer_assets_btc_sat",
            -5,
            "a number >= 0",
        ),
        (
            example("custodial_wallet", cold_storage_btc_sat=200_000_001),
            "cold_storage_btc_sat",
            200_000_001,
            "at most customer_assets_btc_sat (200000000)",
        ),
        (
            example("stablecoin_issuer", reserve_assets=[]),
            "reserve_assets",
            [],
            "a list of at least 1 item",
        ),
        (
            example("stablecoin_issuer", reserve_assets=[{"kind": "gold", "amount_usd": "1"}]),
            "reserve_assets.0.kind",
            "gold",
            "one of 'cash', 'treasury_bills', 'reverse_repo' or 'bank_deposits'",
        ),
        (
            example(
                "advisor",
                incidents=[common("advisor")["incidents"][0] | {"occurred_on": "2025-02-01"}],
            ),
            "incidents.0.occurred_on",
            "2025-02-01",
            "a date inside the period (2025-01-01 to 2025-01-31)",
        ),
        (
            example("advisor", incidents=[common("advisor")["incidents"][0] | {"description": ""}]),
            "incidents.0.description",
            "",
            "text of at least 1 character",
        ),
        (example("broker") | {"licence_type": "bank"}, "licence_type", "bank", None),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_bad_return(data: dict[str, Any], field: str, value: Any, expected: str | None) -> None:
    error = _refusal(data)
    assert (error.field, error.value) == (field, value)
    if expected is not None:
        assert error.expected == expected
    else:
        assert error.expected.startswith("one of exchange, custodial_wallet")


def test_licence_type_mismatch() -> None:
    error = _refusal(example("broker"), licence_type="exchange")
    assert (error.field, error.value, error.expected) == (
        "licence_type",
        "broker",
        "'exchange' (the licence's type)",
    )
    missing = _refusal(_without(example("broker"), "licence_type"))
    assert (missing.field, missing.expected) == ("licence_type", "a required field")
    with pytest.raises(ReturnError, match=r"^licence_type: "):
        return_breaches(parse_return(example("broker")), licence_spec("advisor"))


def test_long_values_are_shortened() -> None:
    text = "x" * 2001
    data = example("advisor", incidents=[common("advisor")["incidents"][0] | {"description": text}])
    error = _refusal(data)
    assert error.field == "incidents.0.description" and len(str(error)) < 200
    assert error.expected == "text of at most 2000 characters"


def test_capital_stablecoin_and_complaint_breaches() -> None:
    spec = licence_spec("stablecoin_issuer")
    below = spec.min_capital_usd - 1
    ret = parse_return(
        example("stablecoin_issuer", capital_usd=str(below), complaints_resolved=1)
        | _reserve("9999999.99")
    )
    breaches = return_breaches(ret, spec)
    assert [(b.code, b.field, b.severity) for b in breaches] == [
        ("capital_below_minimum", "capital_usd", "major"),
        ("reserves_below_tokens", "reserve_assets", "major"),
        ("unresolved_complaints", "complaints_resolved", "minor"),
    ]
    assert str(below) in breaches[0].detail and str(spec.min_capital_usd) in breaches[0].detail
    assert "9999999.99" in breaches[1].detail
    assert "3 of 4" in breaches[2].detail


# --- A return carrying a real proof-of-reserves attestation -------------------------


@pytest.fixture(scope="module")
def root() -> LiabilitiesRoot:
    balances = Balances.from_rows(
        [("alice", "BTC", 900_000_000), ("bob", "BTC", 350_000_000), ("bob", "USDT", 7_000_000)]
    )
    book = build_liabilities(
        balances, height=880_000, secret=b"s" * 32, custodian="acme", rng=np.random.default_rng(7)
    )
    return book.root()


def attestation(root: LiabilitiesRoot, on_chain_sat: int) -> SolvencyAttestation:
    proof = ReserveProof(
        custodian="acme",
        height=880_000,
        block_hash=BLOCK,
        control=(ControlResult("BTC", "bc1qexample", True),),
        holdings=None,
        on_chain_sat=on_chain_sat,
        declared={"USDT": 7_000_000},
    )
    return attest(root, proof)


def _with_attestation(licence_type: str, att: SolvencyAttestation, declared_sat: int) -> Any:
    data = example(licence_type, customer_assets_btc_sat=declared_sat)
    if licence_type == "custodial_wallet":
        data["cold_storage_btc_sat"] = 0
    data["por_attestation"] = json.loads(att.to_json())
    return parse_return(data)


@pytest.mark.parametrize("licence_type", ["exchange", "custodial_wallet"])
def test_good_attestation_is_not_flagged(root: LiabilitiesRoot, licence_type: str) -> None:
    good = attestation(root, 1_300_000_000)
    assert good.solvent
    ret = _with_attestation(licence_type, good, 1_250_000_000)  # the tree's whole BTC total
    assert ret.por_attestation == good
    assert return_breaches(ret, licence_spec(licence_type)) == []
    assert return_summary(ret)["solvent"] == "yes"


@pytest.mark.parametrize("licence_type", ["exchange", "custodial_wallet"])
def test_insolvent_attestation_is_flagged(root: LiabilitiesRoot, licence_type: str) -> None:
    bad = attestation(root, 1_249_999_999)  # one satoshi short
    assert not bad.solvent
    ret = _with_attestation(licence_type, bad, 1_250_000_000)
    breaches = return_breaches(ret, licence_spec(licence_type))
    assert [(b.code, b.severity) for b in breaches] == [("insolvent_attestation", "major")]
    assert "1249999999" in breaches[0].detail and "1250000000" in breaches[0].detail
    assert return_summary(ret)["solvent"] == "no"


@pytest.mark.parametrize("licence_type", ["exchange", "custodial_wallet"])
def test_attestation_below_declared_is_flagged(root: LiabilitiesRoot, licence_type: str) -> None:
    good = attestation(root, 2_000_000_000)
    ret = _with_attestation(licence_type, good, 1_250_000_001)  # one sat more than the tree
    breaches = return_breaches(ret, licence_spec(licence_type))
    assert [(b.code, b.field, b.severity) for b in breaches] == [
        ("attestation_below_declared", "por_attestation", "major")
    ]
    assert "1250000000 sat" in breaches[0].detail and "1250000001 sat" in breaches[0].detail


def test_tampered_attestation_is_refused(root: LiabilitiesRoot) -> None:
    document = json.loads(attestation(root, 1).to_json())
    document["solvent"] = True
    data = example("exchange", por_attestation=document)
    error = _refusal(data)
    assert error.field == "por_attestation" and "solvent" in error.expected


def test_return_schema_embeds_the_attestation() -> None:
    assert "SolvencyAttestation" in json.dumps(return_json_schema("exchange"))
    with pytest.raises(InputError, match=r"^licence_type: "):
        return_json_schema("bank")
    assert set(LICENCE_SPECS) == set(LicenceType)
