"""Multisig custody spends end to end: build, sign (test-side), combine, finalize, verify."""

from __future__ import annotations

import importlib.util
import json
import math
import random
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from btclib.script.engine import verify_transaction
from btclib.tx import Tx, TxOut

from hashnation.errors import DescriptorError, InputError, PrivateKeyError, PsbtError
from hashnation.reserve.custody import (
    SpendableUtxo,
    build_spend,
    combine_psbts,
    extract_transaction,
    finalize_psbt,
    inspect_psbt,
    parse_psbt,
    psbt_sha256,
    psbt_to_base64,
    psbt_to_bytes,
    spend_id,
    verify_spend,
)
from hashnation.reserve.descriptors import derive_addresses, parse_descriptor


def _helpers() -> ModuleType:
    name = "hashnation_custody_test_helpers"
    if name not in sys.modules:
        path = Path(__file__).with_name("custody_helpers.py")
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


H = _helpers()
DEST = H.DESTINATION


@pytest.fixture(scope="module")
def cosigners() -> list[Any]:
    return [H.Cosigner.new() for _ in range(4)]


@pytest.fixture(scope="module")
def multisig(cosigners: list[Any]) -> Any:
    keys = ",".join(f"{c.key()}/<0;1>/*" for c in cosigners[:3])
    return parse_descriptor(f"wsh(sortedmulti(2,{keys}))")


def _flip_signature_byte(tx_hex: str) -> str:
    tx = Tx.parse(bytes.fromhex(tx_hex))
    stack = list(tx.vin[0].script_witness.stack)
    sig = bytearray(stack[1])  # [empty (CHECKMULTISIG dummy), sig, sig, witness script]
    sig[10] ^= 0x01
    stack[1] = bytes(sig)
    tx.vin[0].script_witness = type(tx.vin[0].script_witness)(stack)
    return bytes(tx.serialize(include_witness=True, check_validity=False)).hex()


def test_two_of_three_spend_end_to_end(cosigners: list[Any], multisig: Any) -> None:
    a, b, c = cosigners[:3]
    funding, utxos = H.fund(multisig, [120_000, 80_000, 300_000])
    psbt = build_spend(
        multisig, utxos, [(DEST, 150_000)], 5.0, 7, label="treasury", rng=random.Random(7)
    )
    sid = spend_id(psbt)

    # unsigned: every input needs 2 of the 3 cosigners, nobody has signed
    summary = inspect_psbt(psbt, multisig)
    assert summary.psbt_version == 0 and not summary.satisfied and summary.signers == ()
    assert {i.required_signatures for i in summary.inputs} == {2}
    assert {i.cosigner_count for i in summary.inputs} == {3}
    assert all(i.branch == 0 and i.descriptor_index is not None for i in summary.inputs)
    assert all(i.amount_vouched and i.sequence == 0xFFFFFFFD for i in summary.inputs)
    fingerprints = {k.fingerprint for k in summary.inputs[0].paths[0].groups[0].keys}
    assert fingerprints == {a.fingerprint, b.fingerprint, c.fingerprint}
    assert len(psbt.hd_key_paths) == 3  # the cosigners' account xpubs (PSBT_GLOBAL_XPUB)

    # outputs: the payment, and change to the change branch (/1/*) at index 7
    paid = [o for o in summary.outputs if not o.is_change]
    change = [o for o in summary.outputs if o.is_change]
    assert [(o.address, o.amount_sat) for o in paid] == [(DEST, 150_000)]
    assert len(change) == 1 and (change[0].branch, change[0].descriptor_index) == (1, 7)
    expected_change = derive_addresses(multisig, 7, 1, change=True)[0]
    assert change[0].script_pubkey_hex == expected_change.script_pubkey_hex
    assert change[0].address == expected_change.address
    assert summary.fee_sat == summary.input_total_sat - summary.output_total_sat
    assert summary.fee_sat is not None and summary.vsize_vb is not None
    assert summary.fee_rate_sat_per_vb is not None and summary.fee_rate_sat_per_vb >= 5.0
    json.dumps(summary.to_dict())

    # signer 1 signs its copy: 1 of 2, not satisfied, and finalize says what is missing
    copy_a = a.sign(parse_psbt(psbt_to_base64(psbt)))
    half = inspect_psbt(copy_a, multisig)
    assert half.signers == (a.fingerprint,) and not half.satisfied
    assert all(i.missing_signatures == 1 and len(i.signed) == 1 for i in half.inputs)
    assert all(i.signed[0].path is not None for i in half.inputs)
    with pytest.raises(PsbtError) as caught:
        finalize_psbt(copy_a, multisig)
    message = str(caught.value)
    assert "\n" not in message
    first = half.inputs[0]
    assert f"input 0 ({first.outpoint}) has 1 of 2 required signatures (needs 1 more)" in message

    # signer 3 signs its own copy of the original; the coordinator combines the two
    copy_c = c.sign(parse_psbt(psbt_to_bytes(psbt)))
    combined = combine_psbts([copy_a, copy_c])
    assert spend_id(combined) == sid
    assert psbt_sha256(combined) == psbt_sha256(combine_psbts([copy_c, copy_a]))
    full = inspect_psbt(combined, multisig)
    assert full.satisfied and set(full.signers) == {a.fingerprint, c.fingerprint}
    assert all(i.satisfied and i.missing_signatures == 0 for i in full.inputs)

    final = finalize_psbt(combined, multisig)
    assert inspect_psbt(final, multisig).satisfied
    tx_hex, txid = extract_transaction(final)
    assert txid == sid  # segwit only: the spend id is the final txid
    final_vsize = inspect_psbt(final).vsize_vb
    assert final_vsize is not None and final_vsize <= summary.vsize_vb

    # btclib's script engine accepts every witness, and refuses one flipped signature byte
    outpoints = [i.outpoint for i in full.inputs]
    spent = H.prevouts(utxos, outpoints)
    verify_spend(tx_hex, spent)
    tx = Tx.parse(bytes.fromhex(tx_hex))
    verify_transaction([TxOut(v, bytes.fromhex(s)) for v, s in spent], tx)
    with pytest.raises(PsbtError, match=r"^tx: got 'transaction [0-9a-f]{64}'"):
        verify_spend(_flip_signature_byte(tx_hex), spent)
    with pytest.raises(Exception):  # noqa: B017 - the engine's own error type
        verify_transaction(
            [TxOut(v, bytes.fromhex(s)) for v, s in spent],
            Tx.parse(bytes.fromhex(_flip_signature_byte(tx_hex))),
        )
    assert funding.vout[0].value == 120_000


def test_only_verified_signatures_count(cosigners: list[Any], multisig: Any) -> None:
    a, b = cosigners[:2]
    _, utxos = H.fund(multisig, [200_000])
    psbt = build_spend(multisig, utxos, [(DEST, 50_000)], 2.0, 0, rng=random.Random(1))
    other = build_spend(multisig, utxos, [(DEST, 60_000)], 2.0, 0, rng=random.Random(1))
    signed_other = a.sign(other)
    forged = parse_psbt(psbt_to_bytes(psbt))
    # a's signature of another spend, filed under a's key in this one
    forged.inputs[0].partial_sigs = dict(signed_other.inputs[0].partial_sigs)
    summary = inspect_psbt(forged, multisig)
    assert summary.inputs[0].signed == () and summary.signers == ()
    assert summary.inputs[0].invalid_signatures == tuple(
        key.hex() for key in signed_other.inputs[0].partial_sigs
    )
    with pytest.raises(PsbtError, match=r"psbts\[0\]: got 'input 0 .*does not"):
        combine_psbts([forged, b.sign(psbt)])
    with pytest.raises(PsbtError, match="has 0 of 2 required signatures"):
        finalize_psbt(forged)


def test_timelocked_recovery_path(cosigners: list[Any]) -> None:
    a, b, c, recovery = cosigners
    keys = ",".join(f"{x.key()}/<0;1>/*" for x in (a, b, c))
    text = f"wsh(or_d(multi(2,{keys}),and_v(v:pkh({recovery.key()}/<0;1>/*),older(144))))"
    with pytest.raises(DescriptorError):
        parse_descriptor(text)  # beyond multi/sortedmulti: refused unless asked for
    desc = parse_descriptor(text, allow_miniscript=True)
    assert desc.kind == "wsh-miniscript" and desc.is_multipath
    _, utxos = H.fund(desc, [90_000, 110_000])

    # the recovery key alone, with the inputs' sequence set to the relative lock
    psbt = build_spend(desc, utxos, [(DEST, 150_000)], 3.0, 0, recovery_path=True)
    summary = inspect_psbt(psbt, desc)
    assert all(i.sequence == 144 for i in summary.inputs)
    primary, fallback = summary.inputs[0].paths
    assert (primary.required_signatures, primary.relative_lock_blocks) == (2, None)
    assert (fallback.required_signatures, fallback.relative_lock_blocks) == (1, 144)
    assert fallback.locks_met and fallback.groups[0].keys[0].fingerprint == recovery.fingerprint
    signed = recovery.sign(psbt)
    assert inspect_psbt(signed, desc).satisfied
    tx_hex, txid = extract_transaction(finalize_psbt(signed, desc))
    assert txid == spend_id(psbt)
    spent = H.prevouts(utxos, [i.outpoint for i in summary.inputs])
    verify_spend(tx_hex, spent)
    assert all(vin.sequence == 144 for vin in Tx.parse(bytes.fromhex(tx_hex)).vin)

    # the same key on an ordinary spend (final-ish sequence): the lock is not met
    plain = build_spend(desc, utxos, [(DEST, 150_000)], 3.0, 0)
    early = recovery.sign(plain)
    early_summary = inspect_psbt(early, desc)
    assert not early_summary.satisfied and not early_summary.inputs[0].paths[1].locks_met
    with pytest.raises(PsbtError, match="timelocked path 2 is signed but needs 144 blocks"):
        finalize_psbt(early, desc)

    # the 2-of-3 quorum needs no lock
    quorum = combine_psbts([a.sign(plain), c.sign(plain)])
    tx_hex, _ = extract_transaction(finalize_psbt(quorum, desc))
    verify_spend(tx_hex, H.prevouts(utxos, [i.outpoint for i in inspect_psbt(plain).inputs]))


def test_taproot_multi_a_spend(cosigners: list[Any]) -> None:
    a, b, c = cosigners[:3]
    keys = ",".join(f"{x.key()}/<0;1>/*" for x in (a, b, c))
    desc = parse_descriptor(f"tr({H.NUMS_KEY},sortedmulti_a(2,{keys}))")
    assert desc.kind == "tr-tree"
    _, utxos = H.fund(desc, [70_000, 70_000], with_funding_tx=False)
    psbt = build_spend(desc, utxos, [(DEST, 100_000)], 2.0, 3, rng=random.Random(3))
    summary = inspect_psbt(psbt, desc)
    assert summary.inputs[0].script_type == "p2tr" and summary.inputs[0].amount_vouched
    assert (summary.inputs[0].required_signatures, summary.inputs[0].cosigner_count) == (2, 3)
    assert [p.name for p in summary.inputs[0].paths] == ["leaf 1 path 1", "key path"]
    assert [o.descriptor_index for o in summary.outputs if o.is_change] == [3]
    copy_b = b.sign(psbt)
    assert not inspect_psbt(copy_b, desc).satisfied
    with pytest.raises(PsbtError, match="has 1 of 2 required signatures"):
        finalize_psbt(copy_b)
    combined = combine_psbts([copy_b, c.sign(psbt)])
    full = inspect_psbt(combined, desc)
    assert full.satisfied and set(full.signers) == {b.fingerprint, c.fingerprint}
    tx_hex, txid = extract_transaction(finalize_psbt(combined))
    assert txid == spend_id(psbt)
    verify_spend(tx_hex, H.prevouts(utxos, [i.outpoint for i in summary.inputs]))


def test_nested_segwit_and_separate_change_descriptor(cosigners: list[Any]) -> None:
    a, b, c = cosigners[:3]
    receive = parse_descriptor(
        "sh(wsh(multi(2," + ",".join(f"{x.key()}/0/*" for x in (a, b, c)) + ")))"
    )
    change = parse_descriptor(
        "sh(wsh(multi(2," + ",".join(f"{x.key()}/1/*" for x in (a, b, c)) + ")))"
    )
    _, utxos = H.fund(receive, [500_000])
    with pytest.raises(InputError, match="change_descriptor for change"):
        build_spend(receive, utxos, [(DEST, 100_000)], 4.0, 2)
    psbt = build_spend(receive, utxos, [(DEST, 100_000)], 4.0, 2, change_descriptor=change)
    summary = inspect_psbt(psbt, receive, change_descriptor=change)
    assert summary.inputs[0].script_type == "p2sh-p2wsh"
    assert [(o.branch, o.descriptor_index) for o in summary.outputs if o.is_change] == [(1, 2)]
    assert not any(o.is_change for o in inspect_psbt(psbt, receive).outputs)
    combined = combine_psbts([a.sign(psbt), b.sign(psbt)])
    tx_hex, _ = extract_transaction(finalize_psbt(combined))
    verify_spend(tx_hex, H.prevouts(utxos, [i.outpoint for i in summary.inputs]))


def test_small_change_goes_to_the_fee(multisig: Any) -> None:
    _, utxos = H.fund(multisig, [100_000])
    psbt = build_spend(multisig, utxos, [(DEST, 99_700)], 1.0, 0)
    summary = inspect_psbt(psbt, multisig)
    assert len(summary.outputs) == 1 and summary.change_total_sat == 0
    assert summary.fee_sat == 300  # 300 - 189 sat of change would be dust


def test_build_spend_refuses_bad_input(cosigners: list[Any], multisig: Any) -> None:
    funding, utxos = H.fund(multisig, [100_000, 50_000], first_index=3)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"destinations": [(DEST, 1_000_000)]}, r"^utxos: got '150000 sat in 2 UTXOs'"),
        ({"destinations": [(DEST, 149_500)]}, r"^utxos: .*plus the fee"),
        ({"destinations": [(DEST, 100)]}, r"^destinations\[0\]\.amount_sat: got 100, .*dust"),
        ({"destinations": [(H.MAINNET_DESTINATION, 1_000)]}, r"'test' address, not 'main'"),
        ({"destinations": [("tb1qnotanaddress", 1_000)]}, r"^destinations\[0\]\.address"),
        ({"destinations": []}, r"^destinations: "),
        ({"destinations": [(DEST, 0)]}, r"amount_sat: got 0"),
        ({"fee_rate_sat_per_vb": 0.5}, r"^fee_rate_sat_per_vb: got 0\.5, expected a fee rate"),
        ({"fee_rate_sat_per_vb": 5_000}, r"^fee_rate_sat_per_vb: got 5000"),
        ({"fee_rate_sat_per_vb": math.nan}, r"^fee_rate_sat_per_vb: got nan"),
        ({"fee_rate_sat_per_vb": True}, r"^fee_rate_sat_per_vb: got True"),
        ({"change_index": -1}, r"^change_index: got -1"),
        ({"label": "cold"}, r"^utxos\[0\]\.label: got 'treasury', expected 'cold'"),
        ({"recovery_path": True}, r"^recovery_path: got True, expected a descriptor with"),
        ({"utxos": []}, r"^utxos: got \[\]"),
        ({"utxos": [utxos[0], utxos[0]]}, r"^utxos\[1\]: got '.*:0', expected each outpoint once"),
    ]
    base: dict[str, Any] = {
        "destinations": [(DEST, 20_000)],
        "fee_rate_sat_per_vb": 2.0,
        "change_index": 0,
        "utxos": utxos,
    }
    for changes, pattern in cases:
        args = {**base, **changes}
        with pytest.raises(InputError, match=pattern) as caught:
            build_spend(
                multisig,
                args.pop("utxos"),
                args.pop("destinations"),
                args.pop("fee_rate_sat_per_vb"),
                args.pop("change_index"),
                **args,
            )
        assert "\n" not in str(caught.value)

    wrong_index = SpendableUtxo(**{**utxos[0].to_dict(), "index": 4})
    with pytest.raises(InputError, match=r"utxos\[0\]\.script_pubkey_hex: .*branch 0 index 4"):
        build_spend(multisig, [wrong_index], [(DEST, 20_000)], 2.0, 0)
    wrong_amount = SpendableUtxo(**{**utxos[0].to_dict(), "value_sat": 100_001})
    with pytest.raises(InputError, match=r"utxos\[0\]\.funding_tx_hex: got 'output 0 of 100000"):
        build_spend(multisig, [wrong_amount], [(DEST, 20_000)], 2.0, 0)
    with pytest.raises(PsbtError, match="a spend the PSBT library can fund"):
        build_spend(multisig, utxos, [(DEST, 20_000)], 100.0, 0, max_fee_sat=10_000)
    with pytest.raises(PrivateKeyError) as caught:
        build_spend(multisig, utxos, [(cosigners[0].root, 20_000)], 2.0, 0)
    assert cosigners[0].root[:20] not in str(caught.value)
    assert funding.vout[1].value == 50_000


def test_utxo_dict_round_trip_and_checks(multisig: Any) -> None:
    _, utxos = H.fund(multisig, [10_000])
    doc = utxos[0].to_dict()
    assert SpendableUtxo.from_dict(json.loads(json.dumps(doc))) == utxos[0]
    for bad, pattern in (
        ({**doc, "colour": "red"}, r"^utxo: got 'colour', expected only the keys"),
        ({k: v for k, v in doc.items() if k != "vout"}, r"^utxo\.vout: got None"),
        ({**doc, "txid": "ab"}, r"^utxo\.txid: got 'ab', expected 64 lowercase hex"),
        ({**doc, "value_sat": 0}, r"^utxo\.value_sat: got 0"),
        ({**doc, "branch": True}, r"^utxo\.branch: got True"),
        ({**doc, "funding_tx_hex": "zz"}, r"^utxo\.funding_tx_hex"),
    ):
        with pytest.raises(InputError, match=pattern):
            SpendableUtxo.from_dict(bad)


def test_parse_psbt_refuses_private_key_material(multisig: Any, cosigners: list[Any]) -> None:
    _, utxos = H.fund(multisig, [100_000])
    psbt = build_spend(multisig, utxos, [(DEST, 50_000)], 2.0, 0)
    seed = "abandon " * 11 + "about"
    wif = "cP53pDbR5WtAD8dYAW9hhTjuvvTVaEiQBdrz9XPrgLBeRFiyCbQr"
    for secret in (cosigners[0].root, wif, seed, f"{psbt_to_base64(psbt)}\n{wif}"):
        with pytest.raises(PrivateKeyError) as caught:
            parse_psbt(secret)
        assert wif not in str(caught.value) and "abandon" not in str(caught.value)
        assert cosigners[0].root[4:30] not in str(caught.value)
    smuggled = parse_psbt(psbt_to_bytes(psbt))
    smuggled.unknown = {b"\xfc\x05hello": cosigners[0].root.encode("ascii")}
    raw = psbt_to_bytes(smuggled)
    for form in (raw, raw.hex(), psbt_to_base64(smuggled)):
        with pytest.raises(PrivateKeyError, match="redacted extended private key"):
            parse_psbt(form)
    text = psbt_to_base64(psbt)
    if text.endswith("="):  # set a padding bit: same bytes, no longer canonical base64
        body = text.rstrip("=")
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        sloppy = body[:-1] + alphabet[alphabet.index(body[-1]) + 1] + text[len(body) :]
        with pytest.raises(PsbtError, match="canonical base64"):
            parse_psbt(sloppy)
    for junk, pattern in (
        ("", r"^psbt: got '', expected a PSBT in base64"),
        (b"\x00\xff", r"^psbt: got '<2 bytes>'"),
        ("cHNidP8BAAAA*", r"canonical base64"),
        ("70736274ff0", r"even number of hex digits"),
        (12, r"^psbt: got 'int', expected PSBT bytes or text"),
    ):
        with pytest.raises(PsbtError, match=pattern):
            parse_psbt(junk)  # type: ignore[arg-type]


def test_extract_and_verify_refuse_bad_input(multisig: Any) -> None:
    _, utxos = H.fund(multisig, [100_000])
    psbt = build_spend(multisig, utxos, [(DEST, 50_000)], 2.0, 0)
    with pytest.raises(PsbtError, match=r"^psbt: got 'input 0', expected a finalized PSBT"):
        extract_transaction(psbt)
    with pytest.raises(PsbtError, match=r"^tx: got 'zz'"):
        verify_spend("zz", [])
    funding_hex = utxos[0].funding_tx_hex
    assert funding_hex is not None
    with pytest.raises(InputError, match=r"^prevouts\[0\]\.value_sat: got 'x'"):
        verify_spend(funding_hex, [("x", "y")])  # type: ignore[list-item]
    with pytest.raises(PsbtError, match=r"^tx: got 'transaction [0-9a-f]{64}'"):
        verify_spend(funding_hex, [])  # one input, no prevout


def test_absolute_timelock_recovery_in_nested_segwit(cosigners: list[Any]) -> None:
    a, b, c, recovery = cosigners
    keys = ",".join(f"{x.key()}/0/*" for x in (a, b, c))
    text = f"sh(wsh(or_d(multi(2,{keys}),and_v(v:pkh({recovery.key()}/0/*),after(950000)))))"
    desc = parse_descriptor(text, allow_miniscript=True)
    assert desc.kind == "sh-wsh-miniscript"
    _, utxos = H.fund(desc, [80_000])
    change = parse_descriptor(text.replace("/0/*", "/1/*"), allow_miniscript=True)
    psbt = build_spend(
        desc, utxos, [(DEST, 30_000)], 2.0, 0, change_descriptor=change, recovery_path=True
    )
    summary = inspect_psbt(psbt, desc, change_descriptor=change)
    assert summary.lock_time == 950_000 and summary.inputs[0].sequence == 0xFFFFFFFD
    recovery_path = summary.inputs[0].paths[1]
    assert (recovery_path.absolute_lock_height, recovery_path.locks_met) == (950_000, True)
    assert [o.is_change for o in summary.outputs] == [False, True]
    tx_hex, _ = extract_transaction(finalize_psbt(recovery.sign(psbt)))
    verify_spend(tx_hex, H.prevouts(utxos, [summary.inputs[0].outpoint]))


def test_legacy_p2sh_multisig_needs_the_funding_transaction(cosigners: list[Any]) -> None:
    a, b, c = cosigners[:3]
    keys = ",".join(f"{x.key()}/<0;1>/*" for x in (a, b, c))
    desc = parse_descriptor(f"sh(sortedmulti(2,{keys}))")
    _, bare = H.fund(desc, [60_000], with_funding_tx=False)
    with pytest.raises(InputError, match=r"utxos\[0\]\.funding_tx_hex: got None.*legacy"):
        build_spend(desc, bare, [(DEST, 20_000)], 2.0, 0)
    _, utxos = H.fund(desc, [60_000])
    psbt = build_spend(desc, utxos, [(DEST, 20_000)], 2.0, 0)
    summary = inspect_psbt(psbt, desc)
    assert summary.inputs[0].script_type == "p2sh" and summary.inputs[0].amount_vouched
    combined = combine_psbts([b.sign(psbt), c.sign(psbt)])
    tx_hex, txid = extract_transaction(finalize_psbt(combined, desc))
    assert txid != spend_id(psbt)  # the scriptSig is part of a legacy txid
    verify_spend(tx_hex, H.prevouts(utxos, [summary.inputs[0].outpoint]))
