"""HeaderStore on the real mainnet chain, checkpoints and retarget windows."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from hashnation.bitcoin.difficulty import compact_to_target, work_from_target
from hashnation.bitcoin.header import BlockHeader
from hashnation.chain.headers import Checkpoint, HeaderStore
from hashnation.chain.merkle import merkle_branch
from hashnation.errors import InputError, SpvError

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "chain"


def _load(name: str) -> Any:
    return json.loads((VECTORS / name).read_text("utf-8"))


BITCOINJ = _load("bitcoinj_checkpoints_mainnet.json")
ELECTRUM = _load("electrum_checkpoints_mainnet.json")
RETARGET = _load("retarget_mainnet.json")["retarget_vectors"]
REAL_WINDOWS = [v for v in RETARGET if v["heights_form_a_retarget_window"]]
SPV = _load("spv_merkle_proof_mainnet.json")["proof"]
WORK_DIFF1 = work_from_target(compact_to_target(0x1D00FFFF))


def _flip(raw: bytes, offset: int) -> bytes:
    return raw[:offset] + bytes([raw[offset] ^ 0x01]) + raw[offset + 1 :]


def test_real_chain_0_to_255(store: HeaderStore, chain: Any) -> None:
    assert (store.base_height, store.tip_height, len(store)) == (0, 255, 256)
    for height in (0, 1, 170, 255):
        assert store.header_at(height).hash_hex() == chain.hashes[height]
        assert store.hash_at(height)[::-1].hex() == chain.hashes[height]
    assert store.header_at(170).hash_hex().startswith("00000000d1145790")
    assert store.tip.hash_hex() == chain.hashes[255]
    # 256 blocks at difficulty 1: chainwork 256 * 0x100010001 = 0x10001000100.
    assert store.chainwork == 256 * WORK_DIFF1 == 0x10001000100
    assert not store.chainwork_is_total
    assert 170 in store and 256 not in store and -1 not in store


def test_header_at_outside_the_store(store: HeaderStore) -> None:
    with pytest.raises(SpvError, match="no header at height 256"):
        store.header_at(256)
    with pytest.raises(InputError):
        store.header_at(-1)


def test_confirmations(store: HeaderStore) -> None:
    assert store.confirmations(170) == 86
    assert store.confirmations(170, at_height=170) == 1
    assert store.confirmations(171, at_height=170) == 0


def test_verify_inclusion_of_block_170_spend(store: HeaderStore, chain: Any) -> None:
    txid = "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"
    branch = merkle_branch(chain.block_txids[170], 1)
    assert store.verify_inclusion(txid, branch, 1, 170) == store.header_at(170)
    with pytest.raises(SpvError, match=f"tx {txid} at height 171"):
        store.verify_inclusion(txid, branch, 1, 171)
    tampered = [_flip(branch[0], 31)]
    with pytest.raises(SpvError, match="expected the header's merkle root"):
        store.verify_inclusion(txid, tampered, 1, 170)
    with pytest.raises(SpvError, match="index"):
        store.verify_inclusion(txid, branch, 2, 170)


def test_tampered_header_byte_is_rejected(genesis_store: HeaderStore, chain: Any) -> None:
    genesis_store.extend(chain.headers[1:100])
    good = chain.headers[100]
    # A byte of the merkle root: still links, same bits, but the hash misses the target.
    with pytest.raises(SpvError, match="expected valid proof of work"):
        genesis_store.add(_flip(good, 40))
    # A byte of prev_block_hash: broken link.
    with pytest.raises(SpvError, match="broken link"):
        genesis_store.add(_flip(good, 10))
    # The nonce: proof of work.
    with pytest.raises(SpvError, match=r"height 100.*proof of work"):
        genesis_store.add(_flip(good, 77))
    assert genesis_store.tip_height == 99
    assert genesis_store.add(good) == 100


def test_headers_out_of_order_break_the_link(genesis_store: HeaderStore, chain: Any) -> None:
    with pytest.raises(SpvError, match="broken link"):
        genesis_store.add(chain.headers[2])
    with pytest.raises(SpvError, match="broken link"):
        genesis_store.add(chain.headers[0])


def test_wrong_bits_inside_a_period(genesis_store: HeaderStore, chain: Any) -> None:
    header = BlockHeader.from_bytes(chain.headers[1])
    easier = dataclasses.replace(header, bits=0x1D01FFFF)
    with pytest.raises(SpvError, match=r"bits 0x1d01ffff, expected 0x1d00ffff \(unchanged"):
        genesis_store.add(easier)


def test_time_not_above_median_is_rejected(genesis_store: HeaderStore, chain: Any) -> None:
    genesis_store.extend(chain.headers[1:20])
    header = BlockHeader.from_bytes(chain.headers[20])
    stale = dataclasses.replace(header, time=BlockHeader.from_bytes(chain.headers[9]).time)
    with pytest.raises(SpvError, match="expected above the median"):
        genesis_store.add(stale)


def test_malformed_header_bytes(genesis_store: HeaderStore, chain: Any) -> None:
    with pytest.raises(SpvError, match="80 bytes"):
        genesis_store.add(chain.headers[1][:79])


def test_store_from_every_bitcoinj_checkpoint() -> None:
    # 436 trusted starting points: each passes PoW and keeps its chainwork.
    previous = None
    for entry in BITCOINJ:
        store = HeaderStore(
            Checkpoint(entry["height"], entry["header_hex"], int(entry["chainwork_hex"], 16))
        )
        assert store.tip.hash_hex() == entry["block_hash"]
        assert store.chainwork == int(entry["chainwork_hex"], 16)
        assert store.chainwork_is_total
        if previous is not None:
            # The next checkpoint is 2016 blocks on, not the next block.
            with pytest.raises(SpvError, match="broken link"):
                previous.add(entry["header_hex"])
        previous = store


def test_bitcoinj_chainwork_identity_first_period() -> None:
    first = BITCOINJ[0]
    assert first["height"] == 2016
    assert int(first["chainwork_hex"], 16) == 2017 * WORK_DIFF1


def test_bitcoinj_and_electrum_checkpoints_link() -> None:
    # Electrum entry i is the last block of period i; bitcoinj's 2016(i+1) follows it.
    by_height = {entry["height"]: entry for entry in BITCOINJ}
    checked = 0
    for i, (block_hash, target) in enumerate(ELECTRUM):
        entry = by_height.get(2016 * (i + 1))
        if entry is None:
            continue
        assert entry["prev_block_hash"] == block_hash
        assert compact_to_target(entry["nbits"]) == target
        checked += 1
    assert checked == len(BITCOINJ) == 436


def test_checkpoint_with_bad_pow_is_refused(chain: Any) -> None:
    with pytest.raises(SpvError, match="checkpoint header"):
        HeaderStore(Checkpoint(1, _flip(chain.headers[1], 40)))


def test_checkpoint_inputs() -> None:
    header = BITCOINJ[0]["header_hex"]
    with pytest.raises(InputError, match="period_start_time"):
        Checkpoint(2016, header, period_start_time=1)
    with pytest.raises(InputError, match="chainwork"):
        Checkpoint(2016, header, chainwork=0)
    with pytest.raises(InputError, match="height"):
        Checkpoint(-1, header)
    with pytest.raises(SpvError, match=r"checkpoint\.header"):
        Checkpoint(2016, "zz")
    assert Checkpoint(2016, header).period_start_time == BITCOINJ[0]["time"]


@pytest.mark.parametrize(
    "window", REAL_WINDOWS, ids=lambda w: str(w["first_block_of_next_period"]["height"])
)
def test_retarget_boundary_checked_exactly(window: dict[str, Any]) -> None:
    first = window["first_block_of_period"]
    last = window["last_block_of_period"]
    nxt = window["first_block_of_next_period"]
    assert nxt["height"] % 2016 == 0 and last["height"] == nxt["height"] - 1
    store = HeaderStore(
        Checkpoint(last["height"], last["header_hex"], period_start_time=first["time"])
    )
    assert store.add(nxt["header_hex"]) == nxt["height"]
    assert store.header_at(nxt["height"]).bits == int(window["computed_next_nbits_hex"], 16)


@pytest.mark.parametrize(
    "window", REAL_WINDOWS, ids=lambda w: str(w["first_block_of_next_period"]["height"])
)
def test_retarget_wrong_bits_rejected(window: dict[str, Any]) -> None:
    first = window["first_block_of_period"]
    last = window["last_block_of_period"]
    nxt = BlockHeader.from_hex(window["first_block_of_next_period"]["header_hex"])
    store = HeaderStore(
        Checkpoint(last["height"], last["header_hex"], period_start_time=first["time"])
    )
    # One more unit of mantissa: an easier target, still inside the 4x clamp.
    wrong = dataclasses.replace(nxt, bits=nxt.bits + 1)
    with pytest.raises(SpvError, match=f"expected 0x{nxt.bits:08x} \\(retarget"):
        store.add(wrong)
    # A wrong period start time gives another required value: the real header fails.
    skewed = HeaderStore(
        Checkpoint(last["height"], last["header_hex"], period_start_time=first["time"] - 86_400)
    )
    with pytest.raises(SpvError, match="retarget"):
        skewed.add(nxt)


def test_retarget_without_period_start_uses_the_clamp() -> None:
    window = REAL_WINDOWS[0]
    last = window["last_block_of_period"]
    nxt = BlockHeader.from_hex(window["first_block_of_next_period"]["header_hex"])
    store = HeaderStore(Checkpoint(last["height"], last["header_hex"]))
    assert store.add(nxt) == last["height"] + 1
    loose = HeaderStore(Checkpoint(last["height"], last["header_hex"]))
    far = dataclasses.replace(nxt, bits=last["nbits"] + 0x0100_0000)  # 256x easier
    with pytest.raises(SpvError, match="at most 4x"):
        loose.add(far)


def test_spv_proof_against_a_store_at_its_height() -> None:
    # The confirming header of the real SPV proof as a checkpoint, then the proof.
    store = HeaderStore(Checkpoint(SPV["header_height"], SPV["header_hex"]))
    branch = [bytes.fromhex(h) for h in SPV["branch_internal_order_hex"]]
    store.verify_inclusion(SPV["txid"], branch, SPV["index"], SPV["header_height"])
    branch[3] = _flip(branch[3], 0)
    with pytest.raises(SpvError, match=SPV["txid"]):
        store.verify_inclusion(SPV["txid"], branch, SPV["index"], SPV["header_height"])
