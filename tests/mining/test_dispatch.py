"""Hourly dispatch: the hand-checkable case, the curtailment rule, loop vs vector."""

import numpy as np
import pandas as pd
import pytest

from hashnation.errors import InputError
from hashnation.mining.dispatch import (
    DispatchInputs,
    dispatch,
    dispatch_loop,
    value_usd_per_mwh,
)
from hashnation.mining.fleet import Fleet, FleetGroup, build_fleet
from hashnation.mining.grid import hourly_index
from hashnation.mining.network import NetworkScenario, hashprice_btc_per_th_day, project_network


def one_mw_of_20_j_per_th() -> Fleet:
    # 250 machines x 4,000 W = 1 MW; 200 TH/s each at 20 J/TH -> 50,000 TH/s.
    group = FleetGroup("test-20J", 250, 200.0, 4000.0, "air")
    return Fleet((group,), 1.0, 0.0, 1.0, 0.0, 5)


def test_one_mw_of_20_j_per_th_for_one_day_by_hand() -> None:
    """1 MW of 20 J/TH ASICs for one day at difficulty 1e14 and 100,000 USD/BTC.

    Worked by hand:

    * hashrate: 1e6 W / 20 J/TH = 50,000 TH/s = 5e16 H/s;
    * hashes in a day: 5e16 * 86,400 s = 4.32e21;
    * hashes per block: 1e14 * 2**32 = 4.294967296e23;
    * expected blocks: 4.32e21 / 4.294967296e23 = 0.0100582838;
    * BTC at 3.125 BTC per block (height 900,000, fourth era, no fees):
      0.0100582838 * 3.125 = 0.0314321369 BTC;
    * USD at 100,000 USD/BTC: 3,143.21 USD;
    * energy: 1 MW * 24 h = 24 MWh.
    """
    fleet = one_mw_of_20_j_per_th()
    assert fleet.hashrate_ths == 50_000.0
    assert fleet.efficiency_j_per_th == 20.0
    idx = hourly_index(pd.Timestamp("2026-01-01", tz="UTC"), 24)
    net = project_network(idx, NetworkScenario(start_height=900_000, start_difficulty=1e14))
    hp_btc = hashprice_btc_per_th_day(net)
    price = np.full(24, 100_000.0)
    inputs = DispatchInputs(
        allowed_mw=np.full(24, 1.0),
        tariff_usd_per_mwh=np.zeros(24),
        hashprice_usd_per_th_day=hp_btc * price,
        hashprice_btc_per_th_day=hp_btc,
        degradation_pu=np.ones(24),
    )
    res = dispatch(fleet, inputs)
    assert res.btc_mined.sum() == pytest.approx(0.0314321369, rel=1e-8)
    assert (res.btc_mined * price).sum() == pytest.approx(3143.21369, rel=1e-8)
    assert res.energy_mwh.sum() == pytest.approx(24.0)


def test_value_per_mwh_by_hand() -> None:
    # 0.05 USD/TH/day at 20 J/TH: a MWh powers 1 / (20 * 2.4e-5) = 2083.33 TH/s-days.
    assert float(value_usd_per_mwh(0.05, 20.0)) == pytest.approx(104.1666667)
    # With 8 % cooling and a 2 % pool fee.
    assert float(value_usd_per_mwh(0.05, 20.0, cooling_overhead_pu=0.08, pool_fee_pu=0.02)) == (
        pytest.approx(104.1666667 * 0.98 / 1.08)
    )


def _inputs(n: int, tariff: float, hp_usd: float) -> DispatchInputs:
    return DispatchInputs(
        allowed_mw=np.full(n, 1.0),
        tariff_usd_per_mwh=np.full(n, tariff),
        hashprice_usd_per_th_day=np.full(n, hp_usd),
        hashprice_btc_per_th_day=np.full(n, hp_usd / 100_000.0),
        degradation_pu=np.ones(n),
    )


def test_curtailment_rule_switches_at_hashprice_over_j_per_th() -> None:
    fleet = one_mw_of_20_j_per_th()
    on = dispatch(fleet, _inputs(3, 104.16, 0.05))
    off = dispatch(fleet, _inputs(3, 104.17, 0.05))
    assert on.running_pu.tolist() == [1.0, 1.0, 1.0]
    assert off.running_pu.tolist() == [0.0, 0.0, 0.0]
    assert off.economic_curtailed_mwh.sum() == pytest.approx(3.0)
    assert off.btc_mined.sum() == 0.0


def test_surplus_goes_to_the_most_efficient_group_first() -> None:
    fleet = Fleet(
        (
            FleetGroup("good", 100, 200.0, 3000.0, "air"),  # 15 J/TH, 0.3 MW
            FleetGroup("poor", 100, 100.0, 3000.0, "air"),  # 30 J/TH, 0.3 MW
        ),
        0.6,
        0.0,
        1.0,
        0.0,
        5,
    )
    inputs = DispatchInputs(
        allowed_mw=np.array([0.6, 0.4, 0.2, 0.0]),
        tariff_usd_per_mwh=np.zeros(4),
        hashprice_usd_per_th_day=np.full(4, 0.05),
        hashprice_btc_per_th_day=np.full(4, 5e-7),
        degradation_pu=np.ones(4),
    )
    res = dispatch(fleet, inputs)
    np.testing.assert_allclose(res.power_mw, [[0.3, 0.3], [0.3, 0.1], [0.2, 0.0], [0.0, 0.0]])
    np.testing.assert_allclose(res.grid_curtailed_mwh, [0.0, 0.2, 0.4, 0.6])


def test_vectorised_equals_per_hour_loop() -> None:
    rng = np.random.default_rng(20260101)
    fleet = build_fleet(
        50.0,
        [("Antminer S21 XP", 0.4), ("Antminer S19", 0.3), ("AvalonMiner 1066", 0.3)],
        uptime_pu=0.93,
    )
    n = 2000
    hp_btc = rng.uniform(2e-7, 9e-7, n)
    price = rng.uniform(30_000, 150_000, n)
    inputs = DispatchInputs(
        allowed_mw=rng.uniform(0, 60, n),
        tariff_usd_per_mwh=rng.uniform(0, 120, n),
        hashprice_usd_per_th_day=hp_btc * price,
        hashprice_btc_per_th_day=hp_btc,
        degradation_pu=rng.uniform(0.85, 1.0, n),
    )
    fast = dispatch(fleet, inputs, pool_fee_pu=0.02, variable_om_usd_per_mwh=3.0)
    slow = dispatch_loop(fleet, inputs, pool_fee_pu=0.02, variable_om_usd_per_mwh=3.0)
    for name in (
        "power_mw",
        "energy_mwh",
        "hashrate_ths",
        "btc_mined",
        "economic_curtailed_mwh",
        "grid_curtailed_mwh",
        "running_pu",
        "value_usd_per_mwh",
    ):
        np.testing.assert_allclose(getattr(fast, name), getattr(slow, name), rtol=1e-12, atol=1e-9)
    assert 0 < fast.running_pu.mean() < 1


def test_uptime_scales_energy_and_btc() -> None:
    full = one_mw_of_20_j_per_th()
    from dataclasses import replace

    half = replace(full, uptime_pu=0.5)
    a = dispatch(full, _inputs(5, 0.0, 0.05))
    b = dispatch(half, _inputs(5, 0.0, 0.05))
    np.testing.assert_allclose(b.energy_mwh, a.energy_mwh / 2)
    np.testing.assert_allclose(b.btc_mined, a.btc_mined / 2)


def test_bad_inputs() -> None:
    fleet = one_mw_of_20_j_per_th()
    with pytest.raises(InputError, match="pool_fee_pu"):
        dispatch(fleet, _inputs(2, 0.0, 0.05), pool_fee_pu=1.5)
    with pytest.raises(InputError, match=r"dispatch\.tariff_usd_per_mwh"):
        DispatchInputs(
            allowed_mw=np.ones(3),
            tariff_usd_per_mwh=np.ones(2),
            hashprice_usd_per_th_day=np.ones(3),
            hashprice_btc_per_th_day=np.ones(3),
            degradation_pu=np.ones(3),
        )
    with pytest.raises(InputError, match=r"fleet\.site_power_mw.*-5"):
        build_fleet(-5.0, [("Antminer S21", 1.0)])
    with pytest.raises(InputError, match="Antminer S21"):
        build_fleet(5.0, [("Antminer S99", 1.0)])
