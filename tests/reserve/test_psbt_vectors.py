"""PSBT parsing and the BIP174 roles against the BIP174, BIP370 and BIP371 test vectors."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from btclib.tx import Tx

from hashnation.errors import PrivateKeyError, PsbtError
from hashnation.reserve.custody import (
    combine_psbts,
    extract_transaction,
    finalize_psbt,
    inspect_psbt,
    parse_psbt,
    psbt_to_bytes,
    spend_id,
)

VECTORS = Path(__file__).parents[1] / "vectors"


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    return data


BIP174 = _load("bip174_psbt.json")
BIP370 = _load("bip370_psbt_v2.json")
BIP371 = _load("bip371_psbt_taproot.json")


def _cases(section: str) -> list[Any]:
    cases = []
    for bip, data in (("174", BIP174), ("370", BIP370), ("371", BIP371)):
        for number, case in enumerate(data.get(section, [])):
            cases.append(pytest.param(case, id=f"bip{bip}-{section}-{number}"))
    return cases


def _forms(case: dict[str, str]) -> list[str | bytes]:
    return [case["hex"], case["base64"], bytes.fromhex(case["hex"]), f"  {case['base64']}\n"]


def test_vector_counts() -> None:
    assert (len(BIP174["invalid"]), len(BIP174["valid"])) == (20, 10)
    assert (len(BIP370["invalid"]), len(BIP370["valid"])) == (24, 14)
    assert (len(BIP371["invalid"]), len(BIP371["valid"])) == (11, 6)
    for data in (BIP174, BIP370, BIP371):
        for section in ("invalid", "valid"):
            for case in data[section]:
                assert base64.b64decode(case["base64"]) == bytes.fromhex(case["hex"])


@pytest.mark.parametrize("case", _cases("invalid"))
def test_invalid_vectors_are_refused_on_one_line(case: dict[str, str]) -> None:
    for form in _forms(case):
        with pytest.raises(PsbtError) as caught:
            parse_psbt(form)
        message = str(caught.value)
        assert "\n" not in message
        assert message.startswith("psbt: got ")
        assert "expected a valid PSBT" in message or "expected" in message
        assert len(message) < 600


@pytest.mark.parametrize("case", _cases("valid") + _cases("fails_signer_checks"))
def test_valid_vectors_parse_in_every_form(case: dict[str, str]) -> None:
    parsed = [parse_psbt(form) for form in _forms(case)]
    ids = {spend_id(psbt) for psbt in parsed}
    assert len(ids) == 1
    again = parse_psbt(psbt_to_bytes(parsed[0]))
    assert spend_id(again) == spend_id(parsed[0])
    summary = inspect_psbt(parsed[0])  # any valid PSBT can be summarized
    assert summary.spend_id == spend_id(parsed[0])
    assert len(summary.inputs) == len(parsed[0].inputs)
    json.dumps(summary.to_dict())


@pytest.mark.parametrize("case", _cases("locktime_determination"))
def test_bip370_locktime_determination(case: dict[str, Any]) -> None:
    expected = case["expected_locktime"]
    if expected is None:
        with pytest.raises(PsbtError) as caught:
            spend_id(parse_psbt(case["hex"]))
        assert "\n" not in str(caught.value)
        return
    psbt = parse_psbt(case["base64"])
    assert psbt.lock_time == expected
    assert inspect_psbt(psbt).lock_time == expected


def _workflow_psbt(step: str) -> Any:
    return parse_psbt(BIP174["workflow"][step]["result_psbt"]["base64"])


def test_bip174_workflow_combiner_finalizer_extractor() -> None:
    workflow = BIP174["workflow"]
    signed_1, signed_2 = _workflow_psbt("signer_1"), _workflow_psbt("signer_2")
    unsigned = _workflow_psbt("updater_sighash_all")

    summary = inspect_psbt(unsigned)
    assert not summary.satisfied and summary.signers == ()
    assert [i.required_signatures for i in summary.inputs] == [2, 2]
    assert [i.script_type for i in summary.inputs] == ["p2sh", "p2sh-p2wsh"]
    half = inspect_psbt(signed_1)
    assert [len(i.signed) for i in half.inputs] == [1, 1]
    assert [i.missing_signatures for i in half.inputs] == [1, 1]
    assert half.signers == ("d90c6a4f",)
    with pytest.raises(PsbtError, match=r"input 0 \(.*\) has 1 of 2 required signatures"):
        finalize_psbt(signed_1)

    combined = combine_psbts([signed_1, signed_2])
    expected = parse_psbt(workflow["combiner"]["result_psbt"]["hex"])
    # Same fields and values as the BIP's combined PSBT. Bitcoin Core writes the partial
    # signatures of an input in key-id (hash160) order, btclib_wallet in public-key order,
    # so the bytes are compared once both are written by the same serializer.
    assert psbt_to_bytes(combined) == psbt_to_bytes(expected)
    assert [i.partial_sigs for i in combined.inputs] == [i.partial_sigs for i in expected.inputs]
    assert psbt_to_bytes(combine_psbts([signed_2, signed_1])) == psbt_to_bytes(expected)
    assert inspect_psbt(combined).satisfied

    final = finalize_psbt(combined)
    assert psbt_to_bytes(final).hex() == workflow["input_finalizer"]["result_psbt"]["hex"]

    tx_hex, txid = extract_transaction(final)
    assert tx_hex == workflow["transaction_extractor"]["result_tx_hex"]
    assert txid == bytes(Tx.parse(bytes.fromhex(tx_hex)).id).hex()
    # input 0 is legacy P2SH: its scriptSig is part of the txid, so the final txid is not
    # the spend id (the unsigned transaction's id), as it is for segwit-only spends
    assert txid != spend_id(unsigned)


def test_bip174_combiner_with_unknown_keys() -> None:
    case = BIP174["combiner_unknown_keys"]
    inputs = [parse_psbt(item["base64"]) for item in case["inputs"]]
    combined = combine_psbts(inputs)
    assert psbt_to_bytes(combined).hex() == case["result_psbt"]["hex"]


def test_bip174_workflow_keys_are_refused_unechoed() -> None:
    workflow = BIP174["workflow"]
    secrets = [workflow["master_key"]["extended_private_key"]]
    secrets.append(workflow["master_key"]["seed_as_given_in_bip"])
    for step in ("signer_1", "signer_2"):
        secrets += [key["wif"] for key in workflow[step]["keys"]]
    for secret in secrets:
        for form in (secret, secret.encode("ascii"), f"{secret}\n"):
            with pytest.raises(PrivateKeyError) as caught:
                parse_psbt(form)
            assert secret not in str(caught.value)
            assert secret[:12] not in str(caught.value)


def test_combine_refuses_copies_of_different_spends() -> None:
    one = _workflow_psbt("signer_1")
    other = parse_psbt(BIP174["valid"][0]["base64"])
    with pytest.raises(PsbtError, match=r"psbts\[1\]: got 'spend [0-9a-f]{64}'"):
        combine_psbts([one, other])
