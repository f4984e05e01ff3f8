"""Proof of reserves: BIP322 control (official vectors, our challenge) and SPV balances.

The balances come from :func:`hashnation.chain.holdings.utxos_at` through the
three real-protocol servers of ``tests/chain/servers.py`` (mainnet blocks
0..255) and a header store validated header by header. The keys signing the
challenges here are test keys, so the addresses they control hold nothing on
that chain: the funded outputs of 2009 pay keys nobody can sign with. Their
balances are still looked up and proved (zero) through each adapter, and an
address whose signature fails is never looked up at all.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from btclib import b32, b58
from btclib.key import PrvKeyData
from btclib.script.script_pub_key import ScriptPubKey
from btclib.script.taproot import output_pubkey
from btclib_wallet import bip322

from hashnation.chain import MerkleProof, TxRef
from hashnation.chain.headers import HeaderStore
from hashnation.proofs.attestation import attest, attestation_digest
from hashnation.proofs.balances import Balances
from hashnation.proofs.documents import (
    DeclaredReserve,
    LiabilitiesRoot,
    ReserveAddress,
    ReserveClaim,
)
from hashnation.proofs.errors import ProofInputError
from hashnation.proofs.liabilities import build_liabilities
from hashnation.proofs.reserves import (
    challenge_message,
    message_hash,
    prove_reserves,
    verify_bip322,
    verify_control,
)

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
KEY = PrvKeyData(0x1234567890ABCDEF)
OTHER_KEY = PrvKeyData(0xFEDCBA0987654321)
P2WPKH = b32.p2wpkh(KEY.pub)
P2TR = b32.p2tr(output_pubkey(KEY.pub)[0])
P2PKH = b58.p2pkh(KEY.pub)
P2SH_P2WPKH = b58.p2wpkh_p2sh(KEY.pub)
HEIGHT = 200


def load(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def signed_cases() -> list[tuple[str, str, str, str]]:
    cases = []
    for name in ("bip322_basic-test-vectors.json", "bip322_generated-test-vectors.json"):
        data = load(name)
        for section in ("simple", "full", "proof_of_funds"):
            for vector in data.get(section, []):
                for signature in vector["bip322_signatures"]:
                    cases.append((vector["message"], vector["address"], signature, vector["type"]))
    return cases


def error_cases() -> list[tuple[str, str, str, str]]:
    cases = []
    for name in ("bip322_basic-test-vectors.json", "bip322_generated-test-vectors.json"):
        for vector in load(name)["error"]:
            cases.append(
                (vector["message"], vector["address"], vector["signature"], vector["description"])
            )
    return cases


def test_vector_counts() -> None:
    # 4 + 4 simple vectors (2 signatures each in the basic file), 10 full, 3 proof-of-funds.
    assert len(signed_cases()) == 23
    assert len(error_cases()) == 8 + 28
    kinds = {case[3] for case in signed_cases()}
    assert {"p2wpkh", "p2tr", "p2pkh", "p2sh-p2wpkh", "p2wsh-multisig-2of2"} <= kinds


@pytest.mark.parametrize(("message", "address", "signature", "kind"), signed_cases())
def test_official_signatures_verify(message: str, address: str, signature: str, kind: str) -> None:
    assert verify_bip322(message, address, signature) == (True, "")


@pytest.mark.parametrize(("message", "address", "signature", "description"), error_cases())
def test_official_error_cases_are_refused(
    message: str, address: str, signature: str, description: str
) -> None:
    ok, reason = verify_bip322(message, address, signature)
    assert not ok and reason


def test_official_message_hashes_and_virtual_transactions() -> None:
    for vector in load("bip322_basic-test-vectors.json")["tx_hashes"]:
        assert message_hash(vector["message"]).hex() == vector["message_hash"]
        script = ScriptPubKey.from_address(vector["address"]).script
        spend = bip322.to_spend(vector["message"].encode("utf-8"), script)
        assert spend.id.hex() == vector["to_spend_tx_hash"]
        assert bip322.to_sign(spend).id.hex() == vector["to_sign_tx_hash"]


def sign(message: str, address: str, variant: str, key: PrvKeyData = KEY) -> str:
    sig = bip322.sign(message.encode("utf-8"), key, address)
    if variant == "full" and sig.variant == bip322.SIMPLE:
        spend = bip322.to_spend(message.encode("utf-8"), ScriptPubKey.from_address(address).script)
        sig = bip322.Sig(bip322.to_sign(spend, witness=sig.payload))
    assert sig.variant == (bip322.FULL if variant == "full" else bip322.SIMPLE)
    return sig.b64encode()


@pytest.fixture(scope="module")
def root() -> LiabilitiesRoot:
    balances = Balances.from_rows(
        [("alice", "BTC", 150_000_000), ("bob", "BTC", 20_000), ("bob", "USDT", 5_000_000)]
    )
    book = build_liabilities(
        balances, height=HEIGHT, secret=b"k" * 32, custodian="acme", rng=np.random.default_rng(1)
    )
    return book.root()


def challenge(root: LiabilitiesRoot, address: str, **changes: Any) -> str:
    btc = root.asset_root("BTC")
    fields: dict[str, Any] = {
        "custodian": root.custodian,
        "asset": "BTC",
        "height": root.height,
        "liabilities_root": btc.digest,
        "liabilities_total": btc.total,
        "address": address,
    }
    fields.update(changes)
    return challenge_message(**fields)


@pytest.mark.parametrize(
    ("address", "variant"),
    [
        (P2WPKH, "simple"),
        (P2WPKH, "full"),
        (P2TR, "simple"),
        (P2TR, "full"),
        (P2PKH, "full"),
        (P2SH_P2WPKH, "full"),
    ],
)
def test_challenge_signatures_bind_everything(
    root: LiabilitiesRoot, address: str, variant: str
) -> None:
    message = challenge(root, address)
    assert message.splitlines()[0] == "HashNation proof of reserves v1"
    assert f"liabilities_root: {root.asset_root('BTC').digest}" in message
    signature = sign(message, address, variant)
    assert verify_bip322(message, address, signature) == (True, "")
    for change in (
        {"custodian": "other"},
        {"height": HEIGHT + 1},
        {"liabilities_root": "00" * 32},
        {"liabilities_total": root.asset_root("BTC").total - 1},
        {"asset": "USDT"},
    ):
        ok, reason = verify_bip322(challenge(root, address, **change), address, signature)
        assert not ok and reason.startswith("invalid signature")
    other = b32.p2wpkh(OTHER_KEY.pub)
    assert not verify_bip322(challenge(root, other), other, signature)[0]


def claim_for(root: LiabilitiesRoot, bad_address: str | None = None) -> ReserveClaim:
    entries = [
        ReserveAddress(
            asset="BTC", address=P2WPKH, signature=sign(challenge(root, P2WPKH), P2WPKH, "simple")
        ),
        ReserveAddress(
            asset="BTC", address=P2TR, signature=sign(challenge(root, P2TR), P2TR, "full")
        ),
    ]
    if bad_address is not None:
        # Signed for another height: a signature that proves nothing about this attestation.
        stale = sign(
            challenge(root, bad_address, height=HEIGHT - 1), bad_address, "simple", OTHER_KEY
        )
        entries.append(ReserveAddress(asset="BTC", address=bad_address, signature=stale))
    return ReserveClaim(
        custodian="acme",
        height=HEIGHT,
        addresses=entries,
        declared=[DeclaredReserve(asset="USDT", amount=6_000_000, evidence="issuer statement")],
    )


def test_verify_control(root: LiabilitiesRoot) -> None:
    stale_address = b32.p2wpkh(OTHER_KEY.pub)
    results = verify_control(claim_for(root, stale_address), root)
    assert [(r.address, r.ok) for r in results] == [
        (P2WPKH, True),
        (P2TR, True),
        (stale_address, False),
    ]
    wrong_height = claim_for(root).model_copy(update={"height": HEIGHT + 1})
    with pytest.raises(ProofInputError, match="custodian/height"):
        verify_control(wrong_height, root)
    usdt = ReserveAddress(asset="USDT", address=P2WPKH, signature="smpAA==")
    with pytest.raises(ProofInputError, match="BTC"):
        verify_control(claim_for(root).model_copy(update={"addresses": [usdt]}), root)


class Spy:
    """A chain source that records which addresses it was asked about."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.asked: list[str] = []

    @property
    def url(self) -> str:
        return str(self.inner.url)

    def tip_height(self) -> int:
        return int(self.inner.tip_height())

    def block_header(self, height: int) -> bytes:
        return bytes(self.inner.block_header(height))

    def address_history(self, target: str) -> list[TxRef]:
        self.asked.append(target)
        return list(self.inner.address_history(target))

    def raw_transaction(self, txid: str) -> bytes:
        return bytes(self.inner.raw_transaction(txid))

    def merkle_proof(self, txid: str, height: int) -> MerkleProof:
        proof: MerkleProof = self.inner.merkle_proof(txid, height)
        return proof


@pytest.mark.parametrize("adapter", ["bitcoind", "esplora", "electrum"])
def test_prove_reserves_through_each_adapter(
    adapter: str, chain_sources: dict[str, Any], store: HeaderStore, root: LiabilitiesRoot
) -> None:
    stale_address = b32.p2wpkh(OTHER_KEY.pub)
    spy = Spy(chain_sources[adapter])
    proof = prove_reserves(claim_for(root, stale_address), root, spy, store)  # type: ignore[arg-type]
    assert proof.proved_addresses == [P2WPKH, P2TR]
    assert [r.address for r in proof.refused] == [stale_address]
    assert stale_address not in spy.asked  # a refused address is never looked up
    assert proof.holdings is not None
    assert proof.holdings.balances_sat == {P2WPKH: 0, P2TR: 0}
    assert proof.block_hash == store.header_at(HEIGHT).hash_hex()
    attestation = attest(root, proof)
    btc, usdt = attestation.assets
    assert (btc.reserves, btc.reserves_basis, btc.ratio, btc.solvent) == (
        0,
        "bip322+spv",
        "0.000000",
        False,
    )
    assert btc.addresses == [P2WPKH, P2TR]
    assert (usdt.reserves, usdt.reserves_basis, usdt.ratio, usdt.solvent) == (
        6_000_000,
        "declared",
        "1.200000",
        True,
    )
    assert not attestation.solvent
    assert len(attestation_digest(attestation)) == 64


def test_height_outside_the_header_store_is_refused(
    chain_sources: dict[str, Any], chain: Any, root: LiabilitiesRoot
) -> None:
    from hashnation.chain.headers import Checkpoint

    short = HeaderStore(Checkpoint(0, chain.headers[0]))
    short.extend(chain.headers[1:100])
    from hashnation.errors import SpvError

    with pytest.raises(SpvError):
        prove_reserves(claim_for(root), root, chain_sources["esplora"], short)


def test_regtest_addresses_are_proved_on_a_regtest_chain() -> None:
    """bcrt1 addresses, which the chain pillar does not decode, are looked up by their script."""
    from btclib.script.script_pub_key import ScriptPubKey

    from hashnation.chain.headers import REGTEST
    from hashnation.chain.holdings import sync_headers
    from hashnation.chain.regtest import RegtestChain, payment_transaction
    from hashnation.errors import InputError

    key = PrvKeyData(KEY.q, "regtest")
    wpkh, tr = b32.p2wpkh(key.pub), b32.p2tr(output_pubkey(key.pub)[0], network="regtest")
    assert wpkh.startswith("bcrt1q") and tr.startswith("bcrt1p")
    chain = RegtestChain()
    scripts = [bytes(ScriptPubKey.from_address(a).script) for a in (wpkh, tr)]
    chain.mine([payment_transaction([(scripts[0], 70_000), (scripts[1], 80_000)], tag=1)])
    chain.mine([payment_transaction([(scripts[0], 5_000)], tag=2)])
    chain.mine()
    headers = HeaderStore(chain.checkpoint(), REGTEST)
    sync_headers(chain, headers)
    balances = Balances.from_rows([("alice", "BTC", 150_000)])
    root = build_liabilities(balances, height=2, secret=b"r" * 32, custodian="acme").root()

    def entry(address: str) -> ReserveAddress:
        signature = bip322.sign(challenge(root, address).encode("utf-8"), key, address)
        return ReserveAddress(asset="BTC", address=address, signature=signature.b64encode())

    claim = ReserveClaim(custodian="acme", height=2, addresses=[entry(wpkh), entry(tr)])
    proof = prove_reserves(claim, root, chain, headers, min_confirmations=1)
    assert proof.proved_addresses == [wpkh, tr]
    assert proof.holdings is not None
    assert proof.holdings.balances_sat == {wpkh: 75_000, tr: 80_000}
    assert sorted(u.owner for u in proof.holdings.utxos) == sorted([wpkh, wpkh, tr])
    assert proof.on_chain_sat == 155_000 and attest(root, proof).solvent
    # The same script under two spellings is still refused, as it is for mainnet addresses.
    twice = claim.model_copy(update={"addresses": [entry(wpkh), entry(wpkh.upper())]})
    with pytest.raises(InputError, match="each script once"):
        prove_reserves(twice, root, chain, headers)
