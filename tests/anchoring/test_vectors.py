"""The opentimestamps-client example proofs (tests/vectors/opentimestamps/), read verbatim."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from hashnation.anchoring import AnchorInputError, proof_info, verify_proof, verify_proofs
from hashnation.anchoring.verify import Verification
from hashnation.chain.headers import REGTEST, HeaderStore
from hashnation.chain.regtest import RegtestChain

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "opentimestamps"
VALID = sorted(p for p in VECTORS.rglob("*.ots") if "invalid" not in p.parts)
INVALID = sorted((VECTORS / "invalid").glob("*.ots"))


def _rel(path: Path) -> str:
    return path.relative_to(VECTORS).as_posix()


def _bitcoin_attestations(manifest: dict[str, Any]) -> list[tuple[str, int, str]]:
    return [
        (entry["proof"], att["height"], att["commitment_internal_hex"])
        for entry in manifest["proofs"]
        for att in entry["attestations"]
        if att["type"] == "bitcoin"
    ]


def test_vector_counts(manifest: dict[str, Any]) -> None:
    assert len(VALID) == manifest["counts"]["proofs"] == 14
    assert len(INVALID) == manifest["counts"]["invalid"] == 3
    assert len(_bitcoin_attestations(manifest)) == manifest["counts"]["bitcoin_attestations"]


@pytest.mark.parametrize("path", VALID, ids=_rel)
def test_every_example_proof_parses(path: Path, manifest: dict[str, Any]) -> None:
    result = verify_proof(path.read_bytes(), None)
    entry = next(e for e in manifest["proofs"] if e["proof"] == _rel(path))
    assert result.file_digest.hex() == entry["file_digest_hex"]
    assert result.file_hash_op == entry["file_hash_op"]
    assert not result.ok
    assert proof_info(path.read_bytes()).startswith(
        f"File {entry['file_hash_op']} hash: {entry['file_digest_hex']}\nTimestamp:\n"
    )


def test_bitcoin_commitments_match_manifest(manifest: dict[str, Any]) -> None:
    """Each Bitcoin attestation's computed commitment equals the manifest's (not our output)."""
    for proof_name, height, commitment_hex in _bitcoin_attestations(manifest):
        result = verify_proof((VECTORS / proof_name).read_bytes(), None)
        found = {(c.height, c.commitment.hex()) for c in result.attestations if c.kind == "bitcoin"}
        assert (height, commitment_hex) in found, proof_name


def test_missing_headers_are_reported_not_success(manifest: dict[str, Any]) -> None:
    store = HeaderStore(RegtestChain().checkpoint(), params=REGTEST)
    for proof_name, height, _ in _bitcoin_attestations(manifest):
        result = verify_proof((VECTORS / proof_name).read_bytes(), store)
        assert result.status == "missing-header", proof_name
        assert not result.ok
        assert f"header for height {height} not in the store" in result.message


def test_documented_heights() -> None:
    for name, height in (("hello-world.txt.ots", 358391), ("empty.ots", 129405)):
        result = verify_proof((VECTORS / name).read_bytes(), None)
        assert [c.height for c in result.attestations if c.kind == "bitcoin"] == [height]


def test_stamped_files_match_their_proofs(manifest: dict[str, Any]) -> None:
    checked = 0
    for entry in manifest["proofs"]:
        files = entry["stamped_file"]
        if files is None:
            continue
        for name in files if isinstance(files, list) else [files]:
            data = (VECTORS / name).read_bytes()
            proof = (VECTORS / entry["proof"]).read_bytes()
            result = verify_proof(proof, None, data=data)
            assert result.status != "failed", name
            changed = bytes([data[0] ^ 1]) + data[1:] if data else b"\x00"
            bad = verify_proof(proof, None, data=changed)
            assert bad.status == "failed" and "differs from the proof" in bad.message
            checked += 1
    assert checked == 13


def test_sha1_collision_pair_share_a_proof() -> None:
    proof = (VECTORS / "sha1" / "a-or-b.ots").read_bytes()
    a, b = (VECTORS / "sha1" / "a").read_bytes(), (VECTORS / "sha1" / "b").read_bytes()
    assert a != b and hashlib.sha1(a).digest() == hashlib.sha1(b).digest()
    assert verify_proof(proof, None, data=a).file_hash_op == "sha1"


def test_changed_proof_byte_changes_the_commitment(manifest: dict[str, Any]) -> None:
    """Flipping any byte after the file digest refuses the proof or moves its commitment."""
    proof = (VECTORS / "hello-world.txt.ots").read_bytes()
    want = "007ee445d23ad061af4a36b809501fab1ac4f2d7e7a739817dd0cbb7ec661b8a"
    same = 0
    for at in range(len(proof)):
        mutated = bytearray(proof)
        mutated[at] ^= 0x01
        try:
            result = verify_proof(bytes(mutated), None)
        except AnchorInputError:
            continue
        commitments = {c.commitment.hex() for c in result.attestations if c.height == 358391}
        digest_ok = result.file_digest.hex() == manifest["proofs"][0]["file_digest_hex"]
        if want in commitments and digest_ok:
            # Only append <-> prepend of a node's own copy (Bitcoin pairs an odd last
            # node with itself) leaves the result unchanged.
            assert {proof[at], mutated[at]} == {0xF0, 0xF1}, at
            same += 1
    assert same <= 2


def test_bad_stamp_differs_from_hello_world() -> None:
    hello = verify_proof((VECTORS / "hello-world.txt.ots").read_bytes(), None)
    bad = verify_proof((VECTORS / "bad-stamp.txt.ots").read_bytes(), None)
    assert hello.attestations[0].height == bad.attestations[0].height == 358391
    assert hello.attestations[0].commitment != bad.attestations[0].commitment


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("bad-major-version.ots", "1151"),
        ("exceeds-max-msg-length.ots", "4096"),
        ("invalid-file-digest-type.ots", "0xf3"),
    ],
)
def test_invalid_proofs_refused_in_one_line(name: str, words: str) -> None:
    with pytest.raises(AnchorInputError) as info:
        verify_proof((VECTORS / "invalid" / name).read_bytes(), None)
    message = str(info.value)
    assert "\n" not in message and words in message
    with pytest.raises(AnchorInputError):
        proof_info((VECTORS / "invalid" / name).read_bytes())


def test_pending_and_unknown_notary_reported() -> None:
    incomplete = verify_proof((VECTORS / "incomplete.txt.ots").read_bytes(), None)
    assert incomplete.status == "pending"
    assert "alice.btc.calendar.opentimestamps.org" in incomplete.message
    unknown = verify_proof((VECTORS / "unknown-notary.txt.ots").read_bytes(), None)
    assert unknown.status == "unknown-notary" and "0102030405060708" in unknown.message
    mixed = verify_proof((VECTORS / "different-blockchains.txt.ots").read_bytes(), None)
    assert {c.kind for c in mixed.attestations} >= {"bitcoin", "pending", "ethereum"}


def test_verify_proofs_equals_verify_proof() -> None:
    proofs = [p.read_bytes() for p in VALID]
    fast = list(verify_proofs(proofs, None))
    slow = [verify_proof(p, None) for p in proofs]
    assert [_key(v) for v in fast] == [_key(v) for v in slow]


def _key(v: Verification) -> tuple[object, ...]:
    return (
        v.status,
        v.file_digest,
        sorted((c.kind, c.status, c.commitment) for c in v.attestations),
    )
