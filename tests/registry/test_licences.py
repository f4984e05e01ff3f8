"""Licence types: specs, documents, capital, licence numbers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hashnation.errors import InputError
from hashnation.registry.licences import (
    LICENCE_SPECS,
    LicenceType,
    check_application,
    licence_number,
    licence_spec,
    missing_documents,
)


def test_every_type_has_a_consistent_spec() -> None:
    assert set(LICENCE_SPECS) == set(LicenceType)
    codes = [spec.code for spec in LICENCE_SPECS.values()]
    assert len(set(codes)) == len(codes)
    for kind, spec in LICENCE_SPECS.items():
        assert spec.type is kind
        assert len(spec.code) == 3 and spec.code.isupper()
        assert spec.min_capital_usd > 0 and spec.filing_days > 0
        assert spec.required_documents and len(set(spec.required_documents)) == len(
            spec.required_documents
        )
        assert {"business_plan", "aml_cft_policy"} <= set(spec.required_documents)
        if spec.holds_customer_assets:
            assert "custody_policy" in spec.required_documents
    holders = {k for k, s in LICENCE_SPECS.items() if s.holds_customer_assets}
    assert holders == {
        LicenceType.EXCHANGE,
        LicenceType.CUSTODIAL_WALLET,
        LicenceType.STABLECOIN_ISSUER,
    }
    assert [s.code for s in LICENCE_SPECS.values()] == ["EXC", "CUS", "BRK", "STB", "ADV"]


def test_licence_spec_lookup() -> None:
    assert licence_spec("broker") is LICENCE_SPECS[LicenceType.BROKER]
    assert licence_spec(LicenceType.ADVISOR).title
    with pytest.raises(InputError, match=r"^licence_type: got 'bank', expected one of exchange, "):
        licence_spec("bank")


def test_missing_documents_in_spec_order() -> None:
    required = LICENCE_SPECS[LicenceType.EXCHANGE].required_documents
    assert missing_documents("exchange", required) == []
    provided = [required[0], f" {required[2]} ", "brochure"]
    assert missing_documents("exchange", provided) == [
        d for i, d in enumerate(required) if i not in (0, 2)
    ]


def test_check_application() -> None:
    spec = licence_spec("custodial_wallet")
    docs = list(spec.required_documents)
    check_application("custodial_wallet", docs, spec.min_capital_usd)  # exactly the minimum
    with pytest.raises(InputError) as info:
        check_application("custodial_wallet", docs[1:], spec.min_capital_usd)
    assert info.value.field == "documents"
    assert str(info.value).endswith(f"(missing: {docs[0]})")
    below = spec.min_capital_usd - Decimal("0.01")
    with pytest.raises(InputError) as info:
        check_application("custodial_wallet", docs, below)
    assert info.value.field == "capital_usd" and info.value.value == below
    assert f"at least {spec.min_capital_usd} USD" in str(info.value)
    with pytest.raises(InputError, match=r"^capital_usd: "):
        check_application("custodial_wallet", docs, Decimal("NaN"))


def test_licence_number() -> None:
    assert licence_number("exchange", 7) == "VA-EXC-0007"
    assert licence_number(LicenceType.STABLECOIN_ISSUER, 12345, prefix="PVARA") == (
        "PVARA-STB-12345"
    )
    for bad in (0, -1, True):
        with pytest.raises(InputError, match=r"^sequence: "):
            licence_number("advisor", bad)
    with pytest.raises(InputError, match=r"^prefix: "):
        licence_number("advisor", 1, prefix="V A")
