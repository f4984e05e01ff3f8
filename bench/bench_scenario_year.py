"""Benchmark: one scenario-year (8,760 h x fleet) of the hourly dispatch.

Runs the Pakistan 2,000 MW example's first year through the vectorised
dispatch and through the plain per-hour Python loop (the reference
implementation) in the same process, checks they agree, and prints wall times
and the speed-up. Target: the vectorised dispatch >= 50x the loop.

    python bench/bench_scenario_year.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from hashnation.mining.dispatch import DispatchInputs, dispatch, dispatch_loop
from hashnation.mining.program import MiningProgram
from hashnation.mining.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
HOURS = 8760


def _time(func: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    scenario = load_scenario(ROOT / "examples" / "pakistan-2000mw.toml")
    scenario = scenario.model_copy(
        update={"scenario": scenario.scenario.model_copy(update={"years": 1})}
    )
    program = MiningProgram(scenario)
    for step in ("build", "grid_profile", "project_network", "project_price", "tariff"):
        getattr(program, step)()
    assert program.network is not None and program.price_usd_per_btc is not None
    assert program.tariff_usd_per_mwh is not None and program.fleet is not None
    inputs: DispatchInputs = program.dispatch_inputs(
        program.network, program.price_usd_per_btc, program.tariff_usd_per_mwh
    )
    # Make the hour-to-hour decisions non-trivial: vary the tariff across the year.
    swing = 1.0 + 0.5 * np.sin(np.arange(HOURS) * 2 * np.pi / 24.0)
    inputs = replace(inputs, tariff_usd_per_mwh=inputs.tariff_usd_per_mwh * swing)
    fleet = program.fleet

    def fast() -> object:
        return dispatch(fleet, inputs, pool_fee_pu=0.02)

    def slow() -> object:
        return dispatch_loop(fleet, inputs, pool_fee_pu=0.02)

    a, b = dispatch(fleet, inputs, pool_fee_pu=0.02), dispatch_loop(fleet, inputs, pool_fee_pu=0.02)
    np.testing.assert_allclose(a.btc_mined, b.btc_mined, rtol=1e-12)
    t_fast = _time(fast, args.repeat * 4)
    t_slow = _time(slow, max(1, args.repeat // 2))
    print(f"scenario-year: {HOURS} h x {len(fleet.groups)} ASIC groups")
    print(f"vectorised dispatch : {t_fast * 1e3:9.2f} ms")
    print(f"per-hour Python loop: {t_slow * 1e3:9.2f} ms")
    print(f"speed-up            : {t_slow / t_fast:9.1f}x  (target >= 50x)")
    t_run = _time(lambda: MiningProgram(scenario).run(), 1)
    print(f"whole MiningProgram.run() for the year incl. breakevens: {t_run:.2f} s")


if __name__ == "__main__":
    main()
