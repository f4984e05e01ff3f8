"""Targets, compact nBits, difficulty and retargeting, checked against real chain data.

Sources (see tests/vectors/README.md): Bitcoin Core chain parameters and pow_tests cases
(consensus_facts.json), bitcoin-spv retarget vectors, bitcoinjs target vectors, bitcoinj and
Electrum checkpoints.
"""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hashnation.bitcoin.difficulty import (
    DIFF1_TARGET,
    POW_LIMIT,
    POW_LIMIT_BITS,
    RETARGET_INTERVAL_BLOCKS,
    TARGET_SPACING_S,
    TARGET_TIMESPAN_S,
    bits_to_difficulty,
    compact_to_target,
    decode_compact,
    difficulty_to_target,
    expected_hashes_per_block,
    network_hashrate_hs,
    next_retarget_height,
    next_work_required,
    target_to_compact,
    target_to_difficulty,
    work_from_target,
)
from hashnation.bitcoin.header import BlockHeader
from hashnation.errors import ConsensusError, InputError

VECTORS = Path(__file__).resolve().parents[1] / "vectors"


def _load(name: str) -> Any:
    return json.loads((VECTORS / name).read_text("utf-8"))


FACTS: dict[str, Any] = _load("consensus_facts.json")
RETARGET: dict[str, Any] = _load("chain/retarget_mainnet.json")
BITCOINJS: dict[str, Any] = _load("chain/bitcoinjs_block_fixtures_mainnet.json")
CHECKPOINTS: list[dict[str, Any]] = _load("chain/bitcoinj_checkpoints_mainnet.json")
ELECTRUM: list[list[Any]] = _load("chain/electrum_checkpoints_mainnet.json")

SPV_WINDOWS = [v for v in RETARGET["retarget_vectors"] if v["heights_form_a_retarget_window"]]
SPV_NOT_WINDOWS = [
    v for v in RETARGET["retarget_vectors"] if not v["heights_form_a_retarget_window"]
]


def _hex(value: str) -> int:
    return int(value, 16)


# --- constants -------------------------------------------------------------------------------


def test_constants_match_bitcoin_core_chainparams() -> None:
    mainnet = FACTS["mainnet"]
    assert mainnet["nPowTargetTimespan_seconds"]["value"] == TARGET_TIMESPAN_S
    assert mainnet["nPowTargetSpacing_seconds"]["value"] == TARGET_SPACING_S
    assert mainnet["difficulty_adjustment_interval_blocks"]["value"] == RETARGET_INTERVAL_BLOCKS
    assert _hex(mainnet["powLimit"]["value"]) == POW_LIMIT
    assert _hex(mainnet["powLimit"]["compact_nBits"]) == POW_LIMIT_BITS
    # GetCompact(powLimit) truncates to the genesis bits; decoding them stays under powLimit.
    assert target_to_compact(POW_LIMIT) == POW_LIMIT_BITS
    assert compact_to_target(POW_LIMIT_BITS) == DIFF1_TARGET <= POW_LIMIT


# --- retargeting -----------------------------------------------------------------------------


@pytest.mark.parametrize("case", FACTS["retarget_cases"], ids=lambda c: c["name"])
def test_core_pow_tests_retarget_cases(case: dict[str, Any]) -> None:
    last = case["last_block"]
    result = next_work_required(_hex(last["nBits"]), case["nLastRetargetTime"], last["nTime"])
    assert result == _hex(case["expected_next_nBits"])
    # Every case's last block closes a retarget period.
    assert next_retarget_height(last["height"]) == last["height"] + 1


@pytest.mark.parametrize(
    "case", RETARGET["bitcoin_core_pow_tests"]["cases"], ids=lambda c: c["name"]
)
def test_core_pow_tests_retarget_cases_second_copy(case: dict[str, Any]) -> None:
    result = next_work_required(
        _hex(case["last_nbits"]), case["last_retarget_time"], case["last_time"]
    )
    assert result == _hex(case["expected_next_nbits"])


@pytest.mark.parametrize(
    "vector", SPV_WINDOWS, ids=lambda v: str(v["first_block_of_period"]["height"])
)
def test_bitcoin_spv_real_retarget_windows(vector: dict[str, Any]) -> None:
    blocks = [
        vector["first_block_of_period"],
        vector["last_block_of_period"],
        vector["first_block_of_next_period"],
    ]
    headers = [BlockHeader.from_hex(block["header_hex"]) for block in blocks]
    for block, header in zip(blocks, headers, strict=True):
        assert header.hash_hex() == block["block_hash"]
        assert header.time == block["time"]
        assert header.bits == block["nbits"]
        assert header.check_pow()
    first, last, following = headers
    first_height = vector["first_block_of_period"]["height"]
    assert first_height % RETARGET_INTERVAL_BLOCKS == 0
    assert vector["last_block_of_period"]["height"] == first_height + RETARGET_INTERVAL_BLOCKS - 1
    assert (
        next_retarget_height(vector["last_block_of_period"]["height"])
        == (vector["first_block_of_next_period"]["height"])
    )
    assert first.bits == last.bits
    assert next_work_required(last.bits, first.time, last.time) == following.bits
    # bitcoin-spv's expected output is the new difficulty, truncated to an integer.
    assert int(bits_to_difficulty(following.bits)) == vector["source_output"]


@pytest.mark.parametrize(
    "vector", SPV_NOT_WINDOWS, ids=lambda v: str(v["first_block_of_period"]["height"])
)
def test_bitcoin_spv_vector_that_is_not_a_window_hits_the_lower_clamp(
    vector: dict[str, Any],
) -> None:
    # Heights 66528 / 66543 do not span a period; the data notes it only matches because the
    # timespan/4 clamp applies. Check exactly that, and that it agrees with Core's
    # get_next_work_lower_limit_actual case over the real 66528..68543 window.
    first = BlockHeader.from_hex(vector["first_block_of_period"]["header_hex"])
    last = BlockHeader.from_hex(vector["last_block_of_period"]["header_hex"])
    following = BlockHeader.from_hex(vector["first_block_of_next_period"]["header_hex"])
    assert last.time - first.time < TARGET_TIMESPAN_S // 4
    result = next_work_required(last.bits, first.time, last.time)
    assert result == following.bits
    core_case = next(
        c for c in FACTS["retarget_cases"] if c["name"] == "get_next_work_lower_limit_actual"
    )
    assert core_case["nLastRetargetTime"] == first.time
    assert result == _hex(core_case["expected_next_nBits"])
    assert int(bits_to_difficulty(following.bits)) == vector["source_output"]


def test_retarget_over_every_checkpoint_period() -> None:
    # Consecutive bitcoinj checkpoints are the first blocks of consecutive periods. Their bits
    # must follow from a retarget whose clamp range contains the (unknown) real timespan, so the
    # new target lies within [old/4, old*4] (capped at powLimit).
    for before, after in pairwise(CHECKPOINTS):
        old = compact_to_target(before["nbits"])
        new = compact_to_target(after["nbits"])
        assert after["height"] - before["height"] == RETARGET_INTERVAL_BLOCKS
        # Lower bound: old/4, less what the 3-byte mantissa truncation can remove (2**-15).
        assert old // 4 - (old >> 15) <= new <= min(old * 4, POW_LIMIT), after["height"]


def test_next_work_required_rejects_bad_input() -> None:
    with pytest.raises(ConsensusError, match="last_bits"):
        next_work_required(0x1D01FFFF, 0, TARGET_TIMESPAN_S)  # target above powLimit
    with pytest.raises(ConsensusError, match="last_bits"):
        next_work_required(0x1D000000, 0, TARGET_TIMESPAN_S)  # zero target
    with pytest.raises(ConsensusError, match="bits"):
        next_work_required(0x1D80FFFF, 0, TARGET_TIMESPAN_S)  # sign bit
    with pytest.raises(ConsensusError, match="first_block_time_s"):
        next_work_required(POW_LIMIT_BITS, 1.5, TARGET_TIMESPAN_S)  # type: ignore[arg-type]


def test_next_work_required_clamps() -> None:
    # Any span beyond 4x (or below 1/4) of two weeks gives the same result as the bound.
    bits = 0x1C05A3F4
    assert next_work_required(bits, 0, 10**9) == next_work_required(bits, 0, 4 * TARGET_TIMESPAN_S)
    assert next_work_required(bits, 10**9, 0) == next_work_required(bits, 0, TARGET_TIMESPAN_S // 4)
    assert next_work_required(bits, 0, TARGET_TIMESPAN_S) == bits


def test_next_retarget_height() -> None:
    assert next_retarget_height(0) == RETARGET_INTERVAL_BLOCKS
    assert next_retarget_height(2015) == 2016
    assert next_retarget_height(2016) == 4032
    with pytest.raises(ConsensusError, match="height"):
        next_retarget_height(-1)


# --- compact encoding ------------------------------------------------------------------------


@pytest.mark.parametrize("vector", BITCOINJS["targets"], ids=lambda v: v["bits"])
def test_bitcoinjs_target_vectors(vector: dict[str, Any]) -> None:
    bits = _hex(vector["bits"])
    expected = _hex(vector["expected"])
    magnitude, negative, overflow = decode_compact(bits)
    assert magnitude == expected
    assert not overflow
    if negative:
        # bitcoinjs ignores the sign bit (0x00800000); Core's SetCompact flags it and Core
        # rejects such bits, so the strict decoder must refuse them.
        assert bits & 0x0080_0000
        with pytest.raises(ConsensusError, match="bits"):
            compact_to_target(bits)
        assert target_to_compact(expected) == bits & ~0x0080_0000
    else:
        assert compact_to_target(bits) == expected
        assert target_to_compact(expected) == bits


@pytest.mark.parametrize(
    ("bits", "field_value"),
    [
        (0x04923456, "0x04923456"),  # sign bit set, mantissa non-zero
        (0x01FEDCBA, "0x01fedcba"),
        (0xFF123456, "0xff123456"),  # more than 256 bits
        (0x23000100, "0x23000100"),
        (0x22010000, "0x22010000"),
    ],
)
def test_malformed_bits_raise_naming_the_field(bits: int, field_value: str) -> None:
    with pytest.raises(ConsensusError) as excinfo:
        compact_to_target(bits)
    assert excinfo.value.field == "bits"
    assert str(excinfo.value).startswith(f"bits: got '{field_value}', expected ")


def test_decode_compact_flags() -> None:
    assert decode_compact(0x04923456) == (0x12345600, True, False)
    assert decode_compact(0x04123456) == (0x12345600, False, False)
    assert decode_compact(0x00800000) == (0, False, False)  # sign bit with zero mantissa
    assert decode_compact(0x01123456) == (0x12, False, False)
    assert decode_compact(0xFF123456)[2] is True
    assert decode_compact(0x20123456) == (0x123456 << 232, False, False)
    # Largest sizes: the value must still fit in 256 bits.
    assert decode_compact(0x2100FFFF) == (0xFFFF << 240, False, False)
    assert decode_compact(0x220000FF) == (0xFF << 248, False, False)
    assert decode_compact(0x21010000)[2] is True  # 2**256
    assert decode_compact(0x22000100)[2] is True  # 2**256
    for bad in (-1, 2**32, True, 1.0, "0x1d00ffff"):
        with pytest.raises(ConsensusError, match="bits"):
            decode_compact(bad)  # type: ignore[arg-type]


# Valid bits: any size byte up to 34 and a non-negative mantissa, minus the overflowing ones.
VALID_BITS = st.builds(
    lambda size, mantissa: (size << 24) | mantissa,
    st.integers(min_value=0, max_value=34),
    st.integers(min_value=0, max_value=0x7F_FFFF),
).filter(lambda bits: not decode_compact(bits)[2])


@given(VALID_BITS)
def test_compact_round_trip_property(bits: int) -> None:
    target = compact_to_target(bits)
    compact = target_to_compact(target)
    assert compact_to_target(compact) == target
    assert compact & 0x0080_0000 == 0  # GetCompact never sets the sign bit
    assert target_to_compact(compact_to_target(compact)) == compact  # canonical form is stable


@given(st.integers(min_value=0, max_value=2**256 - 1))
def test_compact_truncates_never_rounds_up(target: int) -> None:
    decoded = compact_to_target(target_to_compact(target))
    assert decoded <= target
    assert target - decoded < max(1, 2 ** (target.bit_length() - 15))


def test_target_to_compact_rejects() -> None:
    for bad in (-1, 2**256, 1.5, True):
        with pytest.raises(ConsensusError, match="target"):
            target_to_compact(bad)  # type: ignore[arg-type]


# --- checkpoints ------------------------------------------------------------------------------


def test_every_bitcoinj_checkpoint_passes_pow_and_round_trips_bits() -> None:
    assert len(CHECKPOINTS) == 436
    failures = []
    for checkpoint in CHECKPOINTS:
        header = BlockHeader.from_hex(checkpoint["header_hex"])
        ok = (
            header.hash_hex() == checkpoint["block_hash"]
            and header.bits == checkpoint["nbits"] == _hex(checkpoint["nbits_hex"])
            and header.check_pow()
            and target_to_compact(compact_to_target(checkpoint["nbits"])) == checkpoint["nbits"]
            and bits_to_difficulty(checkpoint["nbits"]) >= 1.0
        )
        if not ok:
            failures.append(checkpoint["height"])
    assert failures == []


def test_bitcoinj_chainwork_identity() -> None:
    # chainwork(2016) covers blocks 0..2016, all at 0x1d00ffff; each later checkpoint adds the
    # 2015 remaining blocks of the previous period plus its own first block.
    first = CHECKPOINTS[0]
    assert first["height"] == 2016
    genesis_work = work_from_target(compact_to_target(POW_LIMIT_BITS))
    assert _hex(first["chainwork_hex"]) == 2017 * genesis_work
    pairs = list(pairwise(CHECKPOINTS))
    assert len(pairs) == 435
    for before, after in pairs:
        added = _hex(after["chainwork_hex"]) - _hex(before["chainwork_hex"])
        work_before = work_from_target(compact_to_target(before["nbits"]))
        work_after = work_from_target(compact_to_target(after["nbits"]))
        assert added == 2015 * work_before + work_after, after["height"]


def test_electrum_targets_match_bitcoinj_bits() -> None:
    # Electrum entry i is block 2016*(i+1) - 1 (last of period i) with the target of period
    # i+1; bitcoinj's checkpoint at 2016*(i+1) is the next block, so it links to the Electrum
    # hash and carries that target in its nBits.
    by_height = {c["height"]: c for c in CHECKPOINTS}
    paired = 0
    for index, (block_hash, target) in enumerate(ELECTRUM):
        assert target <= POW_LIMIT
        assert compact_to_target(target_to_compact(target)) == target
        checkpoint = by_height.get(RETARGET_INTERVAL_BLOCKS * (index + 1))
        if checkpoint is None:
            continue
        assert checkpoint["prev_block_hash"] == block_hash
        assert compact_to_target(checkpoint["nbits"]) == target
        paired += 1
    assert paired == len(CHECKPOINTS) == 436


# --- difficulty and hashrate -----------------------------------------------------------------


def test_difficulty_one() -> None:
    assert bits_to_difficulty(0x1D00FFFF) == 1.0
    assert target_to_difficulty(DIFF1_TARGET) == 1.0
    assert difficulty_to_target(1.0) == DIFF1_TARGET
    assert expected_hashes_per_block(1.0) == 2**32


def test_difficulty_to_target_round_trips_real_difficulties() -> None:
    for checkpoint in CHECKPOINTS:
        target = compact_to_target(checkpoint["nbits"])
        back = difficulty_to_target(bits_to_difficulty(checkpoint["nbits"]))
        assert abs(back - target) <= target * 1e-15, checkpoint["height"]


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf"), True, 1e-300, 1e80])
def test_difficulty_to_target_rejects(bad: float) -> None:
    with pytest.raises(ConsensusError, match="difficulty"):
        difficulty_to_target(bad)


def test_target_and_work_reject_zero() -> None:
    with pytest.raises(ConsensusError, match="target"):
        target_to_difficulty(0)
    with pytest.raises(ConsensusError, match="target"):
        work_from_target(0)
    with pytest.raises(ConsensusError, match="bits"):
        bits_to_difficulty(0x1D000000)
    assert work_from_target(2**256 - 1) == 1


def test_network_hashrate_real_difficulties() -> None:
    # Checkpoint 878976 (January 2025): difficulty about 1.1e14, i.e. several hundred EH/s.
    latest = CHECKPOINTS[-1]
    assert latest["height"] == 878_976
    difficulty = bits_to_difficulty(latest["nbits"])
    assert 1e14 < difficulty < 2e14
    hashrate_ehs = network_hashrate_hs(difficulty) / 1e18
    assert 100 < hashrate_ehs < 1000
    # bitcoin-spv window ending December 2018: difficulty 5.6e12, a few tens of EH/s.
    spv = SPV_WINDOWS[0]
    assert 10 < network_hashrate_hs(float(spv["source_output"])) / 1e18 < 100
    # Slower blocks mean less hashrate for the same difficulty.
    assert network_hashrate_hs(difficulty, 1200.0) == pytest.approx(
        network_hashrate_hs(difficulty) / 2
    )


def test_hashrate_functions_keep_the_input_kind() -> None:
    difficulties = [bits_to_difficulty(c["nbits"]) for c in CHECKPOINTS[-5:]]
    array = np.array(difficulties)
    series = pd.Series(difficulties, index=[c["height"] for c in CHECKPOINTS[-5:]])
    scalar = [network_hashrate_hs(d) for d in difficulties]
    assert all(type(value) is float for value in scalar)
    from_array = network_hashrate_hs(array)
    assert isinstance(from_array, np.ndarray)
    np.testing.assert_allclose(from_array, scalar, rtol=1e-15)
    from_series = network_hashrate_hs(series)
    assert isinstance(from_series, pd.Series)
    assert list(from_series.index) == list(series.index)
    np.testing.assert_allclose(from_series.to_numpy(), scalar, rtol=1e-15)
    hashes = expected_hashes_per_block(array)
    assert isinstance(hashes, np.ndarray)
    np.testing.assert_allclose(hashes, array * 2**32, rtol=1e-15)
    assert isinstance(expected_hashes_per_block(series), pd.Series)
    assert type(expected_hashes_per_block(2)) is float


def test_hashrate_functions_reject_bad_values() -> None:
    with pytest.raises(ConsensusError, match="difficulty"):
        network_hashrate_hs(0.0)
    with pytest.raises(ConsensusError, match="difficulty"):
        expected_hashes_per_block(np.array([1.0, -2.0]))
    with pytest.raises(InputError, match="block_interval_s"):
        network_hashrate_hs(1.0, 0.0)
