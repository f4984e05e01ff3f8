"""The solvency attestation: arithmetic, canonical JSON, digest, embedding."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from pydantic import BaseModel

from hashnation.proofs.attestation import (
    SolvencyAttestation,
    attest,
    attestation_digest,
    canonical_attestation,
    check_attestation,
    solvency,
)
from hashnation.proofs.balances import Balances
from hashnation.proofs.canonical import canonical_json
from hashnation.proofs.documents import LiabilitiesRoot, parse_document
from hashnation.proofs.errors import ProofInputError
from hashnation.proofs.liabilities import build_liabilities, liabilities_digest
from hashnation.proofs.reserves import ControlResult, ReserveProof

BLOCK = "00000000a3bbe4fd1da16a29dbdaba01cc35d6fc74ee17f794cf3aab94f7aaa0"


@pytest.fixture(scope="module")
def root() -> LiabilitiesRoot:
    balances = Balances.from_rows(
        [
            ("alice", "BTC", 150_000_000),
            ("bob", "BTC", 50_000_000),
            ("bob", "USDT", 5_000_000),
            ("carol", "USDC", 1),
        ]
    )
    book = build_liabilities(
        balances, height=200, secret=b"k" * 32, custodian="acme", rng=np.random.default_rng(1)
    )
    return book.root()


def reserves(on_chain_sat: int, declared: dict[str, int] | None = None) -> ReserveProof:
    return ReserveProof(
        custodian="acme",
        height=200,
        block_hash=BLOCK,
        control=(ControlResult("BTC", "bc1qexample", True),),
        holdings=None,
        on_chain_sat=on_chain_sat,
        declared=declared or {},
    )


@pytest.mark.parametrize(
    ("liabilities", "held", "expected"),
    [
        (200, 210, (10, "1.050000", True)),
        (200, 200, (0, "1.000000", True)),
        (3, 2, (-1, "0.666666", False)),  # rounded down
        (0, 5, (5, None, True)),
        (2**63 - 1, 2**63 - 1, (0, "1.000000", True)),
    ],
)
def test_solvency(liabilities: int, held: int, expected: tuple[object, ...]) -> None:
    assert solvency(liabilities, held) == expected


def test_attest_every_asset(root: LiabilitiesRoot) -> None:
    attestation = attest(root, reserves(210_000_000, {"USDT": 4_000_000}))
    by_asset = {a.asset: a for a in attestation.assets}
    assert list(by_asset) == ["BTC", "USDC", "USDT"]
    btc = by_asset["BTC"]
    assert (btc.liabilities, btc.reserves, btc.surplus, btc.ratio, btc.solvent) == (
        200_000_000,
        210_000_000,
        10_000_000,
        "1.050000",
        True,
    )
    assert btc.reserves_basis == "bip322+spv" and btc.addresses == ["bc1qexample"]
    assert (by_asset["USDT"].reserves_basis, by_asset["USDT"].solvent) == ("declared", False)
    assert (by_asset["USDC"].reserves_basis, by_asset["USDC"].reserves) == ("none", 0)
    assert attestation.solvent is False
    assert attestation.liabilities_digest == liabilities_digest(root)
    assert all(c.ok for c in check_attestation(attestation, root))


def test_digest_is_sha256_of_canonical_json(root: LiabilitiesRoot) -> None:
    attestation = attest(root, reserves(200_000_000, {"USDT": 5_000_000, "USDC": 1}))
    assert attestation.solvent
    document = json.loads(attestation.to_json())
    # Canonical JSON written independently: sorted keys, no spaces, UTF-8.
    expected = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    assert canonical_attestation(attestation) == expected
    assert attestation_digest(attestation) == hashlib.sha256(expected).hexdigest()
    # Reading the written file back gives the same digest; amounts travel as strings.
    again = parse_document(SolvencyAttestation, attestation.to_json())
    assert attestation_digest(again) == attestation_digest(attestation)
    assert document["assets"][0]["liabilities"] == "200000000"
    # Any change changes the digest.
    changed = attestation.model_copy(update={"min_confirmations": 6})
    assert attestation_digest(changed) != attestation_digest(attestation)


def test_tampered_attestation_is_refused(root: LiabilitiesRoot) -> None:
    document = json.loads(attest(root, reserves(100)).to_json())
    document["assets"][0]["solvent"] = True  # claims solvency it does not have
    with pytest.raises(ProofInputError, match="solvent"):
        parse_document(SolvencyAttestation, json.dumps(document))
    document = json.loads(attest(root, reserves(300_000_000)).to_json())
    document["assets"][0]["surplus"] = "1"
    with pytest.raises(ProofInputError, match="surplus"):
        parse_document(SolvencyAttestation, json.dumps(document))


def test_attestation_about_another_root_is_flagged(root: LiabilitiesRoot) -> None:
    attestation = attest(root, reserves(1))
    other = build_liabilities(
        Balances.from_rows([("zed", "BTC", 1)]), height=200, secret=b"k" * 32, custodian="acme"
    ).root()
    failed = {c.name for c in check_attestation(attestation, other) if not c.ok}
    assert "attestation: liabilities digest" in failed


def test_attest_refuses_mismatched_reserves(root: LiabilitiesRoot) -> None:
    wrong = ReserveProof("other", 200, BLOCK, (), None, 0)
    with pytest.raises(ProofInputError, match="custodian/height"):
        attest(root, wrong)
    with pytest.raises(ProofInputError, match="declared asset"):
        attest(root, reserves(0, {"BTC": 5}))


def test_other_pillars_embed_it(root: LiabilitiesRoot) -> None:
    class PeriodicReturn(BaseModel):  # as a licensed custodian's return would carry it
        licence: str
        solvency: SolvencyAttestation

    attestation = attest(root, reserves(200_000_000))
    filed = PeriodicReturn(licence="VASP-0001", solvency=attestation)
    back = PeriodicReturn.model_validate_json(filed.model_dump_json())
    assert attestation_digest(back.solvency) == attestation_digest(attestation)
    schema = PeriodicReturn.model_json_schema()
    assert "SolvencyAttestation" in json.dumps(schema)


def test_canonical_json_refuses_what_it_cannot_write_canonically() -> None:
    assert (
        canonical_json({"b": 1, "a": ["é", None, True]}) == '{"a":["é",null,true],"b":1}'.encode()
    )
    with pytest.raises(ProofInputError, match="float"):
        canonical_json({"ratio": 1.05})
    with pytest.raises(ProofInputError, match="key"):
        canonical_json({1: "x"})
