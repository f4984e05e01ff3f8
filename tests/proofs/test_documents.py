"""The versioned JSON documents: published schemas in sync, strict reading, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hashnation.proofs.balances import Balances
from hashnation.proofs.documents import (
    SCHEMA_FILES,
    InclusionProof,
    LiabilitiesRoot,
    ReserveClaim,
    json_schemas,
    load_document,
    parse_document,
)
from hashnation.proofs.errors import ProofInputError
from hashnation.proofs.liabilities import build_liabilities

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_published_schemas_match_the_models() -> None:
    # Regenerate with: python -c "import json; from hashnation.proofs.documents import
    # json_schemas; [open('docs/' + n, 'w').write(json.dumps(s, indent=2, sort_keys=True)
    # + '\n') for n, s in json_schemas().items()]"
    for name, schema in json_schemas().items():
        published = json.loads((DOCS / name).read_text(encoding="utf-8"))
        assert published == schema, name
        assert {"format", "version"} <= set(schema["required"])
    assert set(SCHEMA_FILES) == set(json_schemas())


@pytest.fixture(scope="module")
def proof_text() -> str:
    book = build_liabilities(
        Balances.from_rows([("alice", "BTC", 5), ("bob", "BTC", 7)]),
        height=10,
        secret=b"s" * 32,
        custodian="acme",
        rng=np.random.default_rng(0),
    )
    return book.proof("alice").to_json()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("format"), "alice.json: format: got None"),
        (lambda d: d.update(version=2), "alice.json: version: got 2, expected Input should be 1"),
        (lambda d: d.update(extra=1), "alice.json: extra: got 1"),
        (lambda d: d.update(height="10"), "alice.json: height"),
        (lambda d: d.update(nonce="AB" * 32), "alice.json: nonce"),
        (lambda d: d["assets"][0].update(balance=5), None),  # a JSON integer amount is read
        (lambda d: d["assets"][0].update(balance="05"), "assets.0.balance: got '05'"),
        (lambda d: d["assets"][0].update(balance="5.0"), "assets.0.balance: got '5.0'"),
        (
            lambda d: d["assets"][0]["root"].update(depth=3),
            "assets.0.root: got '<object>', expected depth 1 = ceil(log2(2)) (not 3)",
        ),
        (lambda d: d["assets"][0]["root"].update(unit="BTC"), "assets.0.root"),
        (lambda d: d["assets"][0]["leaves"][0].update(part=64), "leaves.0.part: got 64"),
        (lambda d: d["assets"].append(d["assets"][0]), "assets sorted by asset code, each once"),
    ],
)
def test_proofs_are_read_strictly(proof_text: str, change: object, message: str | None) -> None:
    doc = json.loads(proof_text)
    change(doc)  # type: ignore[operator]
    if message is None:
        parse_document(InclusionProof, json.dumps(doc), "alice.json")
        return
    with pytest.raises(ProofInputError) as caught:
        parse_document(InclusionProof, json.dumps(doc), "alice.json")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_not_json_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(ProofInputError, match="expected a JSON document"):
        parse_document(LiabilitiesRoot, "{nope", "root.json")
    with pytest.raises(ProofInputError, match="a readable file"):
        load_document(ReserveClaim, tmp_path / "reserves.json")


def test_reserve_claim_rules() -> None:
    base = {"format": "hashnation-por-reserves", "version": 1, "custodian": "acme", "height": 5}
    entry = {
        "asset": "BTC",
        "address": "bc1qptqd6902tgrvl5zsj2dm5q4hvvdajh35y4dlup",
        "signature": "smpAA==",
    }
    with pytest.raises(ProofInputError, match="each address once"):
        parse_document(ReserveClaim, json.dumps({**base, "addresses": [entry, entry]}))
    claim = parse_document(ReserveClaim, json.dumps({**base, "addresses": [entry]}))
    assert claim.declared == []
