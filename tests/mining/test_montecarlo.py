"""Monte Carlo engine: equality with the deterministic model, statistics, reproducibility."""

import math
from pathlib import Path

import numpy as np
import pytest

from hashnation.errors import InputError
from hashnation.mining.drivers import DriverParams
from hashnation.mining.montecarlo import MonteCarlo
from hashnation.mining.program import MiningProgram
from hashnation.mining.scenario import load_scenario, parse_scenario

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _pakistan(years: int = 3) -> MiningProgram:
    sc = load_scenario(EXAMPLES / "pakistan-2000mw.toml")
    sc = sc.model_copy(update={"scenario": sc.scenario.model_copy(update={"years": years})})
    return MiningProgram(sc).run()


@pytest.fixture(scope="module")
def pakistan3() -> MiningProgram:
    return _pakistan(3)


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_zero_volatility_equals_the_deterministic_model(
    pakistan3: MiningProgram, backend: str
) -> None:
    s = pakistan3.results.summary
    r = MonteCarlo(pakistan3, DriverParams.deterministic(), backend=backend).run(
        3, 99, scheduler="synchronous"
    )
    for column, expected in (
        ("npv_usd", s.npv_usd),
        ("btc_mined", s.btc_mined),
        ("energy_mwh", s.energy_mwh),
        ("emissions_tco2", s.emissions_tco2),
        ("revenue_usd", s.revenue_usd),
    ):
        np.testing.assert_allclose(r.paths[column], expected, rtol=1e-9)
    annual = pakistan3.results.annual
    np.testing.assert_allclose(
        r.per_year["btc_mined"].iloc[0].to_numpy(), annual["btc_mined"].to_numpy(), rtol=1e-9
    )


def test_backends_agree(pakistan3: MiningProgram) -> None:
    a = MonteCarlo(pakistan3, DriverParams(), backend="numba").run(12, 4, scheduler="synchronous")
    b = MonteCarlo(pakistan3, DriverParams(), backend="numpy").run(12, 4, scheduler="synchronous")
    np.testing.assert_allclose(a.paths.to_numpy(), b.paths.to_numpy(), rtol=1e-10)


def test_cupy_backend_matches_numpy(pakistan3: MiningProgram) -> None:
    cupy = pytest.importorskip("cupy", reason="CuPy is not installed (no CUDA GPU here)")
    try:
        cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:
        pytest.skip(f"no CUDA device: {exc}")
    a = MonteCarlo(pakistan3, DriverParams(), backend="cupy").run(8, 4, scheduler="synchronous")
    b = MonteCarlo(pakistan3, DriverParams(), backend="numpy").run(8, 4, scheduler="synchronous")
    # Stated tolerance: 1e-9 relative (different summation order on the device).
    np.testing.assert_allclose(a.paths.to_numpy(), b.paths.to_numpy(), rtol=1e-9)


def test_same_seed_same_result_whatever_the_chunking(pakistan3: MiningProgram) -> None:
    mc = MonteCarlo(pakistan3, DriverParams())
    one = mc.run(24, 2024, chunk_paths=24, scheduler="synchronous")
    eight = mc.run(24, 2024, chunk_paths=3, scheduler="synchronous")
    threads = mc.run(24, 2024, chunk_paths=5, scheduler="threads")
    np.testing.assert_array_equal(one.paths.to_numpy(), eight.paths.to_numpy())
    np.testing.assert_array_equal(one.paths.to_numpy(), threads.paths.to_numpy())
    other = mc.run(24, 2025, chunk_paths=24, scheduler="synchronous")
    assert not np.array_equal(one.paths["npv_usd"], other.paths["npv_usd"])


def test_local_cluster_processes_give_the_same_bits(pakistan3: MiningProgram) -> None:
    distributed = pytest.importorskip("distributed")
    mc = MonteCarlo(pakistan3, DriverParams())
    local = mc.run(16, 77, chunk_paths=16, scheduler="synchronous")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        remote = mc.run(16, 77, chunk_paths=2, scheduler=client)
        by_address = mc.run(16, 77, chunk_paths=4, scheduler=cluster.scheduler_address)
    np.testing.assert_array_equal(local.paths.to_numpy(), remote.paths.to_numpy())
    np.testing.assert_array_equal(local.paths.to_numpy(), by_address.paths.to_numpy())


def _flat_price_case(make, **overrides) -> MiningProgram:
    data = make(
        price__drift_pu_per_year=0.1,
        economics__fixed_om_usd_per_mw_year=0.0,
        economics__pool_fee_pu=0.0,
        **overrides,
    )
    return MiningProgram(parse_scenario(data)).run()


def test_revenue_mean_inside_the_analytical_interval(one_mw_scenario) -> None:
    """Price ~ GBM with E[P_t] = deterministic price; mining output fixed.

    Revenue = sum_h btc_h * P_h, so E[revenue] = deterministic revenue exactly;
    the Monte Carlo mean must fall inside mean +- 4 standard errors.
    """
    program = _flat_price_case(one_mw_scenario)
    drivers = DriverParams(
        price_model="gbm",
        price_volatility_pu=0.6,
        hashrate_volatility_pu=0.0,
        hashrate_elasticity=0.0,
        fees_volatility_pu=0.0,
        fees_autocorrelation=0.0,
        block_time_variability=False,
        surplus_volatility_pu=0.0,
        failure_rate_pu_per_year=0.0,
        degradation_spread_pu_per_year=0.0,
    )
    r = MonteCarlo(program, drivers).run(4000, 8, chunk_paths=500, scheduler="synchronous")
    revenue = r.paths["revenue_usd"].to_numpy()
    expected = program.results.summary.revenue_usd
    se = revenue.std(ddof=1) / math.sqrt(revenue.size)
    assert abs(revenue.mean() - expected) < 4 * se
    # BTC mined does not depend on price here.
    np.testing.assert_allclose(r.paths["btc_mined"], program.results.summary.btc_mined, rtol=1e-9)
    # Dispersion grows with the horizon (sqrt-time law of GBM).
    year = r.per_year["price_usd_per_btc"]
    assert year[2].std() > year[1].std()


def test_halving_shock_halves_btc_on_every_path(one_mw_scenario) -> None:
    """Start 52,560 blocks (one programme year at 6 blocks an hour) before the 2028 halving.

    Year 1 is mined at 3.125 BTC a block and year 2 at 1.5625, at the same
    difficulty and hashrate: BTC mined must halve. Block luck moves the halving
    by about sqrt(52,560) = 230 blocks, 0.4 % of a year, on each path.
    """
    program = _flat_price_case(one_mw_scenario, network__start_height=1_050_000 - 52_560)
    det = program.results.annual["btc_mined"]
    assert det.iloc[1] / det.iloc[0] == pytest.approx(0.5, rel=1e-9)
    drivers = DriverParams(
        price_model="gbm",
        price_volatility_pu=0.3,
        hashrate_volatility_pu=0.0,
        hashrate_elasticity=0.0,
        surplus_volatility_pu=0.0,
        failure_rate_pu_per_year=0.0,
        degradation_spread_pu_per_year=0.0,
        block_time_variability=True,
    )
    r = MonteCarlo(program, drivers).run(50, 3, scheduler="synchronous")
    ratio = (r.per_year["btc_mined"][2] / r.per_year["btc_mined"][1]).to_numpy()
    assert np.all(np.abs(ratio - 0.5) < 0.02)
    assert ratio.std() > 0  # luck does move the halving


def test_summary_figures(pakistan3: MiningProgram) -> None:
    r = MonteCarlo(pakistan3, DriverParams()).run(40, 1, scheduler="synchronous")
    s = r.summary()
    assert 0.0 <= s["p_loss"] <= 1.0
    assert s["cvar_usd"] >= s["var_usd"]
    assert s["npv_p5_usd"] <= s["npv_p50_usd"] <= s["npv_p95_usd"]
    fan = r.fan("cumulative_cashflow_usd")
    assert list(fan.columns) == [0.05, 0.25, 0.5, 0.75, 0.95]
    assert len(r.p_loss_by_year()) == 3


def test_bad_inputs(pakistan3: MiningProgram) -> None:
    mc = MonteCarlo(pakistan3, DriverParams())
    with pytest.raises(InputError, match=r"paths: got 0, expected an integer >= 1"):
        mc.run(0, 1)
    with pytest.raises(InputError, match="backend: got 'tpu'"):
        MonteCarlo(pakistan3, DriverParams(), backend="tpu")
    with pytest.raises(InputError, match=r"scheduler: got 'tcp://127\.0\.0\.1:9'"):
        mc.run(2, 1, scheduler="tcp://127.0.0.1:9")
    with pytest.raises(InputError, match="scheduler: got 'bogus'"):
        mc.run(2, 1, scheduler="bogus")
