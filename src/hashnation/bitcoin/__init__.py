"""Bitcoin consensus primitives: pure functions, no I/O, no network, no clock.

Amounts are integer satoshis (:mod:`~hashnation.bitcoin.units`); the subsidy
schedule (:mod:`~hashnation.bitcoin.subsidy`), targets, compact ``nBits``,
difficulty and retargeting (:mod:`~hashnation.bitcoin.difficulty`) and the
80-byte block header (:mod:`~hashnation.bitcoin.header`) follow Bitcoin Core's
mainnet rules bit for bit; :mod:`~hashnation.bitcoin.hashprice` turns
difficulty and block reward into expected revenue per TH/s per day.
Invalid values raise :class:`hashnation.errors.ConsensusError`.
"""

from hashnation.bitcoin.difficulty import (
    DIFF1_TARGET,
    HASHES_PER_DIFFICULTY_1,
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
from hashnation.bitcoin.hashprice import (
    HASHES_PER_TH,
    SECONDS_PER_DAY,
    hashprice_btc_per_th_day,
    hashprice_usd_per_th_day,
)
from hashnation.bitcoin.header import HEADER_SIZE_BYTES, BlockHeader, double_sha256
from hashnation.bitcoin.subsidy import (
    HALVING_INTERVAL_BLOCKS,
    INITIAL_SUBSIDY_SAT,
    MAX_HALVINGS,
    block_subsidy_sat,
    block_subsidy_sat_array,
    halving_height,
    halving_heights,
    next_halving_height,
    projected_halving_dates,
    total_supply_sat,
)
from hashnation.bitcoin.units import MAX_MONEY_SAT, SAT_PER_BTC, btc_to_sat, sat_to_btc

__all__ = [
    "DIFF1_TARGET",
    "HALVING_INTERVAL_BLOCKS",
    "HASHES_PER_DIFFICULTY_1",
    "HASHES_PER_TH",
    "HEADER_SIZE_BYTES",
    "INITIAL_SUBSIDY_SAT",
    "MAX_HALVINGS",
    "MAX_MONEY_SAT",
    "POW_LIMIT",
    "POW_LIMIT_BITS",
    "RETARGET_INTERVAL_BLOCKS",
    "SAT_PER_BTC",
    "SECONDS_PER_DAY",
    "TARGET_SPACING_S",
    "TARGET_TIMESPAN_S",
    "BlockHeader",
    "bits_to_difficulty",
    "block_subsidy_sat",
    "block_subsidy_sat_array",
    "btc_to_sat",
    "compact_to_target",
    "decode_compact",
    "difficulty_to_target",
    "double_sha256",
    "expected_hashes_per_block",
    "halving_height",
    "halving_heights",
    "hashprice_btc_per_th_day",
    "hashprice_usd_per_th_day",
    "network_hashrate_hs",
    "next_halving_height",
    "next_retarget_height",
    "next_work_required",
    "projected_halving_dates",
    "sat_to_btc",
    "target_to_compact",
    "target_to_difficulty",
    "total_supply_sat",
    "work_from_target",
]
