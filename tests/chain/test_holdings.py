"""UTXO sets at past heights, rebuilt from history and verified by SPV, on real blocks.

The amounts follow from the real transactions in blocks 9..248: block 9's coinbase
pays 50 BTC to Satoshi's key; block 170 spends it, 10 BTC to Hal Finney and 40 BTC
back; blocks 181, 182, 183 and 248 each spend Satoshi's change again (10, 1, 1 and
10 BTC out, leaving 30, 29, 28 and 18 BTC); block 183's 1 BTC is spent on in 187.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from hashnation.chain import MerkleProof, TxRef
from hashnation.chain.headers import Checkpoint, HeaderStore
from hashnation.chain.holdings import sync_headers, utxos_at
from hashnation.errors import ChainError, InputError, SpvError

SATOSHI = (
    "410411db93e1dcdb8a016b49840f8c53bc1eb68a382e97b1482ecad7b148a6909a5cb2e0eaddfb84cc"
    "f9744464f82e160bfa9b8b64f9d4c03f999b8643f656b412a3ac"
)
HAL = (
    "4104ae1a62fe09c5f51b13905f07f06b99a2f7159b2225f374cd378d71302fa28414e7aab37397f554a7"
    "df5f142c21c1b7303b8a0626f1baded5c72a704f7e6cd84cac"
)
# Paid 1 BTC in block 183, spent in block 187.
KEY_183 = (
    "4104baa9d36653155627c740b3409a734d4eaf5dcca9fb4f736622ee18efcf0aec2b758b2ec40db18fba"
    "e708f691edb2d4a2a3775eb413d16e2e3c0f8d4c69119fd1ac"
)
TX_170 = "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"
COINBASE_9 = "0437cd7f8525ceed2324359c2d0ba26006d92d856a9c20fa0241106ee5a597c9"
BTC = 100_000_000


@pytest.mark.parametrize(
    ("height", "satoshi", "hal", "key_183"),
    [
        (8, 0, 0, 0),
        (9, 50 * BTC, 0, 0),
        (169, 50 * BTC, 0, 0),
        (170, 40 * BTC, 10 * BTC, 0),
        (180, 40 * BTC, 10 * BTC, 0),
        (181, 30 * BTC, 10 * BTC, 0),
        (182, 29 * BTC, 10 * BTC, 0),
        (183, 28 * BTC, 10 * BTC, 1 * BTC),
        (186, 28 * BTC, 10 * BTC, 1 * BTC),
        (187, 28 * BTC, 10 * BTC, 0),
        (247, 28 * BTC, 10 * BTC, 0),
        (248, 18 * BTC, 10 * BTC, 0),
        (255, 18 * BTC, 10 * BTC, 0),
    ],
)
def test_balances_at_heights(
    source: Any, store: HeaderStore, height: int, satoshi: int, hal: int, key_183: int
) -> None:
    holdings = utxos_at(source, [SATOSHI, HAL, KEY_183], height, store)
    assert holdings.balances_sat == {SATOSHI: satoshi, HAL: hal, KEY_183: key_183}
    assert holdings.total_sat == satoshi + hal + key_183
    assert holdings.block_hash == store.header_at(height).hash_hex()
    for utxo in holdings.utxos:
        assert utxo.height <= height
        assert utxo.confirmations == height - utxo.height + 1
        store.verify_inclusion(utxo.txid, utxo.proof.branch, utxo.proof.index, utxo.height)


def test_utxos_after_block_170(source: Any, store: HeaderStore) -> None:
    holdings = utxos_at(source, [SATOSHI, HAL], 170, store)
    assert [(u.owner, u.txid, u.vout, u.value_sat, u.height) for u in holdings.utxos] == [
        (HAL, TX_170, 0, 10 * BTC, 170),
        (SATOSHI, TX_170, 1, 40 * BTC, 170),
    ]
    assert holdings.utxos[0].proof.index == 1
    before = utxos_at(source, [SATOSHI, HAL], 169, store)
    assert [(u.txid, u.vout, u.value_sat, u.height) for u in before.utxos] == [
        (COINBASE_9, 0, 50 * BTC, 9)
    ]


def test_min_confirmations(source: Any, store: HeaderStore) -> None:
    # At 175 Hal's output has 6 confirmations: fine with 6, refused with 7.
    holdings = utxos_at(source, [HAL], 175, store, min_confirmations=6)
    assert holdings.balances_sat == {HAL: 10 * BTC}
    assert holdings.utxos[0].confirmations == 6
    with pytest.raises(
        SpvError, match=f"UTXO {TX_170}:0 .* funded at height 170, expected at most 169"
    ):
        utxos_at(source, [HAL], 175, store, min_confirmations=7)


def test_utxo_below_its_confirmation_height_is_refused(source: Any, store: HeaderStore) -> None:
    with pytest.raises(SpvError, match=TX_170):
        utxos_at(source, [HAL], 170, store, min_confirmations=2)


class _Tamper:
    """Delegates to a real source and alters one kind of answer."""

    def __init__(self, inner: Any, **changes: Any) -> None:
        self.inner = inner
        self.changes = changes

    @property
    def url(self) -> str:
        return str(self.inner.url)

    def tip_height(self) -> int:
        return int(self.inner.tip_height())

    def block_header(self, height: int) -> bytes:
        raw = bytes(self.inner.block_header(height))
        if height == self.changes.get("header_height"):
            raw = raw[:50] + bytes([raw[50] ^ 1]) + raw[51:]
        return raw

    def address_history(self, target: str) -> list[TxRef]:
        refs = list(self.inner.address_history(target))
        shift = self.changes.get("shift_height")
        if shift:
            refs = [TxRef(r.height + (shift if r.txid == TX_170 else 0), r.txid) for r in refs]
        return refs

    def raw_transaction(self, txid: str) -> bytes:
        raw = bytes(self.inner.raw_transaction(txid))
        if self.changes.get("swap_tx") and txid == TX_170:
            raw = bytes(self.inner.raw_transaction(COINBASE_9))
        return raw

    def merkle_proof(self, txid: str, height: int) -> MerkleProof:
        proof: MerkleProof = self.inner.merkle_proof(txid, height)
        level = self.changes.get("branch_level")
        if level is not None and txid == TX_170:
            branch = list(proof.branch)
            branch[level] = bytes([branch[level][0] ^ 0x01]) + branch[level][1:]
            proof = dataclasses.replace(proof, branch=tuple(branch))
        if self.changes.get("extra_level") and txid == TX_170:
            proof = dataclasses.replace(proof, branch=(*proof.branch, proof.branch[0]))
        if self.changes.get("index_shift") and txid == TX_170:
            proof = dataclasses.replace(proof, index=proof.index + 1)
        return proof


def test_tampered_merkle_branch_is_refused(source: Any, store: HeaderStore) -> None:
    with pytest.raises(SpvError, match=f"merkle proof of tx {TX_170} at height 170"):
        utxos_at(_Tamper(source, branch_level=0), [HAL], 200, store)


def test_lengthened_merkle_branch_is_refused(source: Any, store: HeaderStore) -> None:
    with pytest.raises(SpvError, match="expected the header's merkle root"):
        utxos_at(_Tamper(source, extra_level=True), [HAL], 200, store)


def test_wrong_index_is_refused(source: Any, store: HeaderStore) -> None:
    with pytest.raises(SpvError, match=TX_170):
        utxos_at(_Tamper(source, index_shift=True), [HAL], 200, store)


def test_tampered_spend_proof_is_refused(source: Any, store: HeaderStore) -> None:
    # Block 170's tx spends Satoshi's coin: its proof is checked too.
    with pytest.raises(SpvError, match=TX_170):
        utxos_at(_Tamper(source, branch_level=0), [SATOSHI], 200, store)


def test_claimed_at_another_height_is_refused(source: Any, store: HeaderStore) -> None:
    # The source says Hal's payment is in block 169: no proof for that block holds.
    with pytest.raises(ChainError, match=TX_170):
        utxos_at(_Tamper(source, shift_height=-1), [HAL], 200, store)


def test_transaction_bytes_must_match_txid(source: Any, store: HeaderStore) -> None:
    with pytest.raises(SpvError, match=f"hash to txid {COINBASE_9}, expected {TX_170}"):
        utxos_at(_Tamper(source, swap_tx=True), [HAL], 200, store)


def test_sync_headers_from_each_source(source: Any, chain: Any) -> None:
    headers = HeaderStore(Checkpoint(0, chain.headers[0]))
    assert sync_headers(source, headers, 100) == 100
    assert sync_headers(source, headers) == 255
    assert headers.tip.hash_hex() == chain.hashes[255]


def test_sync_headers_refuses_a_tampered_header(source: Any, chain: Any) -> None:
    headers = HeaderStore(Checkpoint(0, chain.headers[0]))
    with pytest.raises(SpvError, match=r"block_header\(42\).*proof of work"):
        sync_headers(_Tamper(source, header_height=42), headers)
    assert headers.tip_height == 41


def test_header_store_must_cover_the_heights(sources: dict[str, Any], chain: Any) -> None:
    source = sources["esplora"]
    partial = HeaderStore(Checkpoint(0, chain.headers[0]))
    partial.extend(chain.headers[1:150])
    with pytest.raises(SpvError, match="audit height 200: not in the header store"):
        utxos_at(source, [HAL], 200, partial)
    late = HeaderStore(Checkpoint(100, chain.headers[100]))
    late.extend(chain.headers[101:])
    # Block 9's coinbase lies below this store's checkpoint: no header to check it with.
    with pytest.raises(SpvError, match="no header at height 9"):
        utxos_at(source, [SATOSHI], 120, late)


def test_bad_arguments(sources: dict[str, Any], store: HeaderStore) -> None:
    source = sources["esplora"]
    with pytest.raises(InputError, match="scripts"):
        utxos_at(source, [], 200, store)
    with pytest.raises(InputError, match="scripts"):
        utxos_at(source, HAL, 200, store)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="each script once"):
        utxos_at(source, [HAL, HAL.upper()], 200, store)
    with pytest.raises(InputError, match="min_confirmations"):
        utxos_at(source, [HAL], 200, store, min_confirmations=0)
