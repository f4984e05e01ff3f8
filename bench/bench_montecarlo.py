"""Benchmark: Monte Carlo path-hours per second, against a loop and memory bandwidth.

Runs the Pakistan 2,000 MW example for ``--paths`` paths x 10 years at hourly
resolution (10,000 x 87,600 = 8.76e8 path-hours by default) and prints:

* wall time and path-hours/s of the engine (Numba kernel, Dask local threads);
* the ratio against (a) a naive per-path, per-hour Python loop timed on a
  subset and scaled, and (b) the memory-bandwidth bound, estimated in the same
  run by copying with numpy as many bytes as the kernel reads (the hourly
  inputs, 7 float64 per path-hour);
* peak resident memory (RSS) of the process.

Targets: whole run <= 60 s on 2 cores; >= 10x the naive loop.
``--memory-check`` also runs 100,000 and 10,000 paths in fresh processes and
checks that the larger run needs at most 1.5x the memory of the smaller one.

    python bench/bench_montecarlo.py [--paths N] [--memory-check]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from hashnation.bitcoin.subsidy import block_subsidy_sat
from hashnation.mining.drivers import DriverParams
from hashnation.mining.montecarlo import MonteCarlo
from hashnation.mining.program import MiningProgram

ROOT = Path(__file__).resolve().parents[1]
BYTES_PER_PATH_HOUR = 7 * 8


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def naive_path(engine: MonteCarlo, hours: int) -> float:
    """One deterministic path hour by hour in plain Python; returns BTC mined."""
    fleet = engine.fleet
    cap = list(fleet.group_site_power_mw())
    site = sum(cap)
    groups = fleet.groups
    d = engine.start_difficulty
    done = engine.blocks_into_epoch
    elapsed = done * 600.0
    start = 0
    cum = 0.0
    height = engine.start_height
    btc_total = 0.0
    for h in range(hours):
        hashrate = float(engine.hashrate_exo_hs[h]) + engine.hashrate_added_hs
        rate = hashrate * 3600.0 / (d * 2**32)
        subsidy = block_subsidy_sat(math.floor(height)) / 1e8
        hp_btc = (subsidy + float(engine.fees_det[h])) * 86_400e12 / (d * 2**32)
        hp_usd = hp_btc * float(engine.price_det[h])
        height += rate
        cum += rate
        left = min(float(engine.surplus_mw[h]), site)
        ths = 0.0
        for j, g in enumerate(groups):
            mwh = g.efficiency_j_per_th * (1 + fleet.cooling_overhead_pu) * 2.4e-5
            if hp_usd * (1 - engine.costs.pool_fee_pu) / mwh >= float(engine.tariff[h]):
                take = min(left, cap[j])
                left -= take
                ths += take / cap[j] * g.hashrate_ths
        btc_total += ths * fleet.uptime_pu * hp_btc / 24.0
        if cum >= 2016 - done:
            span = min(max(elapsed + (h + 1 - start) * 3600.0, 302_400.0), 4_838_400.0)
            done = cum - (2016 - done)
            d *= 1_209_600.0 / span
            cum, elapsed, start = 0.0, 0.0, h + 1
    return btc_total


def copy_bandwidth_s(total_bytes: float) -> float:
    block = 64 * 1024 * 1024
    src = np.ones(block // 8)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    reps = max(1, int(total_bytes // block))
    t0 = time.perf_counter()
    for _ in range(reps):
        np.copyto(dst, src)
    return (time.perf_counter() - t0) * total_bytes / (reps * block)


def run(paths: int, seed: int) -> dict[str, float]:
    program = MiningProgram.from_toml(ROOT / "examples" / "pakistan-2000mw.toml")
    for step in ("build", "grid_profile", "project_network", "project_price", "tariff"):
        getattr(program, step)()
    engine = MonteCarlo(program, DriverParams())
    engine.run(2, seed, scheduler="synchronous")  # compile the kernel outside the timing
    t0 = time.perf_counter()
    result = engine.run(paths, seed, chunk_paths=50, scheduler="threads")
    wall = time.perf_counter() - t0
    return {
        "paths": float(paths),
        "hours": float(engine.hours),
        "wall_s": wall,
        "p_loss": result.summary()["p_loss"],
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--paths", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--memory-check", action="store_true")
    parser.add_argument("--json", action="store_true", help="print one JSON line only")
    args = parser.parse_args()

    out = run(args.paths, args.seed)
    if args.json:
        print(json.dumps(out))
        return
    path_hours = out["paths"] * out["hours"]
    rate = path_hours / out["wall_s"]
    print(f"cores: {os.cpu_count()}")
    print(f"paths x hours     : {out['paths']:,.0f} x {out['hours']:,.0f} = {path_hours:.3g}")
    print(f"wall time         : {out['wall_s']:.1f} s   (target <= 60 s)")
    print(f"throughput        : {rate:.3g} path-hours/s")
    print(f"peak RSS          : {out['peak_rss_mb']:.0f} MB")

    program = MiningProgram.from_toml(ROOT / "examples" / "pakistan-2000mw.toml")
    for step in ("build", "grid_profile", "project_network", "project_price", "tariff"):
        getattr(program, step)()
    engine = MonteCarlo(program, DriverParams())
    subset = 8760
    t0 = time.perf_counter()
    naive_path(engine, subset)
    naive_rate = subset / (time.perf_counter() - t0)
    print(f"(a) naive loop    : {naive_rate:.3g} path-hours/s on 1 path-year, scaled")
    print(f"    speed-up      : {rate / naive_rate:.0f}x  (target >= 10x)")
    copy_s = copy_bandwidth_s(path_hours * BYTES_PER_PATH_HOUR)
    print(
        f"(b) memory bound  : copying {path_hours * BYTES_PER_PATH_HOUR / 1e9:.0f} GB "
        f"takes {copy_s:.1f} s; engine / copy = {out['wall_s'] / copy_s:.2f}"
    )
    if args.memory_check:
        small, big = (
            json.loads(
                subprocess.run(
                    [sys.executable, __file__, "--paths", str(n), "--json"],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                .stdout.strip()
                .splitlines()[-1]
            )
            for n in (10_000, 100_000)
        )
        ratio = big["peak_rss_mb"] / small["peak_rss_mb"]
        print(
            f"memory: 10,000 paths {small['peak_rss_mb']:.0f} MB, 100,000 paths "
            f"{big['peak_rss_mb']:.0f} MB ({big['wall_s']:.0f} s); ratio {ratio:.2f} "
            "(target <= 1.5)"
        )


if __name__ == "__main__":
    main()
