"""Network projection: retargets, halvings, fees."""

import numpy as np
import pandas as pd
import pytest

from hashnation.errors import InputError
from hashnation.mining.grid import hourly_index
from hashnation.mining.network import NetworkScenario, hashprice_btc_per_th_day, project_network

START = pd.Timestamp("2026-01-01", tz="UTC")


def test_steady_hashrate_keeps_difficulty_and_six_blocks_an_hour() -> None:
    idx = hourly_index(START, 24 * 60)
    net = project_network(idx, NetworkScenario(start_height=900_000, start_difficulty=1e14))
    np.testing.assert_allclose(net["blocks"], 6.0, rtol=1e-12)
    # Retargets happen (every ~336 h) but leave difficulty within rounding to the hour.
    assert net["retarget"].sum() == 4
    np.testing.assert_allclose(net["difficulty"], 1e14, rtol=0.01)


def test_growth_raises_difficulty_by_the_epoch_growth() -> None:
    idx = hourly_index(START, 24 * 400)
    g = 0.5
    net = project_network(
        idx,
        NetworkScenario(start_height=900_000, start_difficulty=1e14, hashrate_growth_pu_per_year=g),
    )
    # After a year the difficulty trails hashrate by about one epoch (two weeks).
    one_year = 8766
    d = net["difficulty"].iloc[one_year]
    assert d == pytest.approx(1e14 * 1.5, rel=0.05)
    assert (np.diff(net["difficulty"].to_numpy()) >= 0).all()


def test_retarget_is_clamped_to_four_times() -> None:
    idx = hourly_index(START, 24 * 30)
    net = project_network(
        idx,
        NetworkScenario(
            start_height=900_000,
            start_difficulty=1e14,
            start_hashrate_ehs=1e14 * 2**32 / 600 * 10 / 1e18,
        ),
    )
    after = net["difficulty"][net["retarget"]].iloc[0]
    assert after == pytest.approx(4e14, rel=1e-12)


def test_halving_happens_at_the_consensus_height() -> None:
    idx = hourly_index(START, 400)
    net = project_network(idx, NetworkScenario(start_height=1_049_000, start_difficulty=1e14))
    drop = int(np.argmax(net["subsidy_btc_per_block"].to_numpy() < 3.125))
    # 1000 blocks at 6 per hour: the first hour starting at or past 1,050,000.
    assert drop == int(np.ceil(1000 / 6))
    assert net["subsidy_btc_per_block"].iloc[drop] == 1.5625
    assert net["height"].iloc[drop] >= 1_050_000 > net["height"].iloc[drop - 1]


def test_hashprice_by_hand() -> None:
    idx = hourly_index(START, 2)
    net = project_network(
        idx, NetworkScenario(start_height=900_000, start_difficulty=1e14, fees_btc_per_block=0.5)
    )
    # (3.125 + 0.5) * 86400e12 / (1e14 * 2**32) = 7.2923e-7 BTC per TH/s per day
    expected = 3.625 * 86_400e12 / (1e14 * 4_294_967_296)
    np.testing.assert_allclose(hashprice_btc_per_th_day(net), expected, rtol=1e-12)


def test_bad_network_inputs() -> None:
    with pytest.raises(InputError, match=r"hashrate_growth_pu_per_year.*-1\.5"):
        NetworkScenario(start_height=1, start_difficulty=1e14, hashrate_growth_pu_per_year=-1.5)
    with pytest.raises(InputError, match="start_difficulty"):
        NetworkScenario(start_height=1, start_difficulty=0.5)
