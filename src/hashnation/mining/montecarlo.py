"""Monte Carlo engine: many paths of the mining programme at hourly resolution.

The engine takes a built :class:`~hashnation.mining.program.MiningProgram`
(fleet, grid, tariff and the deterministic network and price paths) and a set
of :class:`~hashnation.mining.drivers.DriverParams`. Each path perturbs the
deterministic paths with its own random draws (see ``drivers``), applies the
consensus retarget rule to its own hashrate, dispatches the fleet hour by
hour with the same curtailment rule as the deterministic model, and values the
result. With every volatility at zero a path *is* the deterministic run.

Paths are computed in chunks (``chunk_paths`` at a time, memory bounded by
the chunk) and chunks are independent tasks: run in-process, on Dask's local
threads (default), or on a Dask cluster (``scheduler="tcp://host:port"``).
Because every path has its own generator keyed by ``(seed, path)`` and all
arithmetic is per path, results are identical bit for bit whatever the
chunking or scheduler. The hourly dispatch kernel can run on CuPy
(``backend="cupy"``); the retarget recursion and the daily drivers stay on the
CPU.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from hashnation.bitcoin.subsidy import block_subsidy_sat_array
from hashnation.bitcoin.units import SAT_PER_BTC
from hashnation.errors import InputError
from hashnation.mining.drivers import (
    DriverParams,
    PathShocks,
    draw_shocks,
    hashrate_deviation,
)
from hashnation.mining.economics import CostParams, yearly_cashflow_usd
from hashnation.mining.fleet import Fleet
from hashnation.mining.network import (
    HASHES_PER_DIFFICULTY,
    retarget_paths,
)
from hashnation.mining.program import HOURS_PER_PROGRAM_YEAR, MiningProgram
from hashnation.mining.tasks import map_tasks

FloatArray = NDArray[np.float64]
Backend = Literal["numba", "numpy", "cupy"]
BACKENDS: tuple[str, ...] = ("numba", "numpy", "cupy")
PATH_COLUMNS: tuple[str, ...] = (
    "npv_usd",
    "btc_mined",
    "revenue_usd",
    "opex_usd",
    "capex_usd",
    "cost_usd_per_btc",
    "energy_mwh",
    "curtailed_share_pu",
    "emissions_tco2",
    "coal_share_pu",
    "years_below_breakeven",
)
YEAR_FIELDS: tuple[str, ...] = (
    "btc_mined",
    "revenue_usd",
    "cashflow_usd",
    "cumulative_cashflow_usd",
    "price_usd_per_btc",
    "hashprice_usd_per_th_day",
    "energy_mwh",
    "emissions_tco2",
)


def array_module(backend: str) -> ModuleType:
    """Return the array module of ``backend`` (``numba`` and ``numpy`` use numpy).

    Raises
    ------
    InputError
        Unknown backend, or CuPy / a CUDA device not available.
    """
    if backend in ("numpy", "numba"):
        return np
    if backend == "cupy":
        try:
            import cupy  # type: ignore[import-not-found]

            cupy.cuda.runtime.getDeviceCount()
        except Exception as exc:  # no CuPy, no driver, or no device
            raise InputError(
                "backend", backend, f"a backend that can run here: numpy (cupy failed: {exc})"
            ) from None
        return cupy  # type: ignore[no-any-return]
    raise InputError("backend", backend, "one of: " + ", ".join(BACKENDS))


def _to_numpy(a: Any) -> FloatArray:
    get = getattr(a, "get", None)
    return np.asarray(get() if callable(get) else a, dtype=np.float64)


@dataclass
class ChunkResult:
    """Per-path outputs of one chunk.

    Attributes
    ----------
    first_path
        Global number of the chunk's first path.
    per_path
        Shape ``(paths, len(PATH_COLUMNS))``.
    per_year
        Field name -> array of shape ``(paths, years)``.
    """

    first_path: int
    per_path: FloatArray
    per_year: dict[str, FloatArray]


@dataclass
class RiskResult:
    """Outputs of a Monte Carlo run.

    Attributes
    ----------
    paths
        One row per path, columns :data:`PATH_COLUMNS` (units in the names).
    per_year
        Field -> DataFrame (rows: paths, columns: programme years 1..Y).
    seed
        Root seed; the same seed gives the same result.
    drivers
        Resolved driver parameters.
    wall_s
        Wall time of the run [s].
    """

    paths: pd.DataFrame
    per_year: dict[str, pd.DataFrame]
    seed: int
    drivers: DriverParams
    deterministic_npv_usd: float
    wall_s: float = 0.0
    chunks: int = 1
    meta: dict[str, Any] = field(default_factory=dict)

    def summary(self, alpha: float = 0.05) -> dict[str, float]:
        """Headline risk figures.

        ``var_usd`` is the loss not exceeded with probability ``1 - alpha``
        (minus the ``alpha`` quantile of NPV), ``cvar_usd`` the mean loss in the
        worst ``alpha`` tail; both positive for losses [USD].
        """
        npv = self.paths["npv_usd"].to_numpy()
        q = float(np.quantile(npv, alpha))
        tail = npv[npv <= q]
        return {
            "paths": float(len(npv)),
            "p_loss": float((npv < 0).mean()),
            "npv_mean_usd": float(npv.mean()),
            "npv_p5_usd": float(np.quantile(npv, 0.05)),
            "npv_p50_usd": float(np.quantile(npv, 0.50)),
            "npv_p95_usd": float(np.quantile(npv, 0.95)),
            "var_usd": -q,
            "cvar_usd": -float(tail.mean()),
            "alpha": alpha,
            "btc_mined_p50": float(self.paths["btc_mined"].median()),
            "cost_usd_per_btc_p50": float(self.paths["cost_usd_per_btc"].median()),
            "emissions_tco2_p50": float(self.paths["emissions_tco2"].median()),
            "curtailed_share_p50": float(self.paths["curtailed_share_pu"].median()),
            "deterministic_npv_usd": self.deterministic_npv_usd,
        }

    def fan(
        self, field_name: str, quantiles: Sequence[float] = (0.05, 0.25, 0.5, 0.75, 0.95)
    ) -> pd.DataFrame:
        """Percentiles of a per-year field across paths (rows: years)."""
        frame = self.per_year[field_name]
        return frame.quantile(list(quantiles), axis=0).T

    def p_loss_by_year(self) -> pd.Series:
        """Share of paths whose cumulative cash (incl. capex) is negative at each year end."""
        cum = self.per_year["cumulative_cashflow_usd"]
        return (cum < 0).mean(axis=0)


class MonteCarlo:
    """Monte Carlo over a mining scenario.

    Parameters
    ----------
    program
        The scenario; its deterministic steps are run here if they have not been.
    drivers
        Driver parameters; ``None`` fields are fitted to bundled history.
    backend
        ``"numba"`` (fused compiled kernel, default), ``"numpy"`` (array code)
        or ``"cupy"`` (array code on a CUDA GPU).
    """

    def __init__(
        self,
        program: MiningProgram,
        drivers: DriverParams | None = None,
        backend: str = "numba",
    ) -> None:
        array_module(backend)
        self.backend = backend
        self.drivers = (drivers or DriverParams()).resolved()
        # Run the deterministic steps this engine builds on, unless already run.
        for step, result in (
            ("build", "fleet"),
            ("grid_profile", "grid_hourly"),
            ("project_network", "network"),
            ("project_price", "price_usd_per_btc"),
            ("tariff", "tariff_usd_per_mwh"),
        ):
            if getattr(program, result) is None:
                getattr(program, step)()
        self.program = program
        self._prepare()

    # ------------------------------------------------------------ setup

    def _prepare(self) -> None:
        prog = self.program
        assert prog.index is not None and prog.fleet is not None
        assert prog.network_scenario is not None and prog.cost_params is not None
        assert prog.network is not None and prog.price_usd_per_btc is not None
        assert prog.tariff_usd_per_mwh is not None and prog.grid_hourly is not None
        net = prog.network_scenario
        n = len(prog.index)
        if n % 24 or n % HOURS_PER_PROGRAM_YEAR:
            raise InputError("scenario.years", n / HOURS_PER_PROGRAM_YEAR, "whole years")
        self.hours = n
        self.days = n // 24
        self.years = n // HOURS_PER_PROGRAM_YEAR
        self.start_difficulty = net.difficulty0
        self.hashrate_exo_hs = net.exogenous_hashrate_hs(n)
        self.hashrate_added_hs = net.added_hashrate_ehs * 1e18
        self.blocks_into_epoch = float(net.blocks_into_epoch)
        self.start_height = float(net.start_height)
        self.fees_det = prog.network["fees_btc_per_block"].to_numpy(dtype=np.float64)
        self.subsidy_det = prog.network["subsidy_btc_per_block"].to_numpy(dtype=np.float64)
        self.price_det = np.asarray(prog.price_usd_per_btc, dtype=np.float64)
        grid = prog.grid_hourly
        self.surplus_mw = grid["surplus_mw"].to_numpy(dtype=np.float64)
        self.emission = grid["emission_tco2_per_mwh"].to_numpy(dtype=np.float64)
        self.coal = grid["coal_share_pu"].to_numpy(dtype=np.float64)
        self.tariff = np.asarray(prog.tariff_usd_per_mwh, dtype=np.float64)
        fleet: Fleet = prog.fleet
        self.fleet = fleet
        self.costs: CostParams = prog.cost_params
        dr = prog.scenario.demand_response
        self.dr_rate = dr.payment_usd_per_mwh if dr.enabled else 0.0
        plan = prog.capital_plan()
        self.initial_capex = plan.initial_usd
        self.replacements = plan.replacements_usd
        self.fixed_om = plan.fixed_om_usd_per_year
        self.periods = int(self.hours / (14 * 24) * 4) + 8

    # ------------------------------------------------------------ one chunk

    def run_paths(self, first: int, count: int, seed: int) -> ChunkResult:
        """Compute paths ``first .. first + count - 1`` (pure, no I/O)."""
        p = self.drivers
        shocks = draw_shocks(
            p,
            range(first, first + count),
            seed,
            self.days,
            self.years,
            self.periods,
            2016.0 - self.blocks_into_epoch,
            self.fleet.degradation_pu_per_year,
        )
        start_of_day = np.arange(self.days) * 24
        # Deviations apply from the day after they are drawn (day 0 is the start state).
        price_dev = np.concatenate((np.zeros((count, 1)), shocks.price_log[:, :-1]), axis=1)
        fees_mult = np.exp(shocks.fees_log)
        sub_d = self.subsidy_det[start_of_day]
        fee_d = self.fees_det[start_of_day]
        with np.errstate(divide="ignore", invalid="ignore"):
            reward_ratio = (sub_d + fee_d * fees_mult) / (sub_d + fee_d)
        revenue_log = price_dev + np.log(np.where(np.isfinite(reward_ratio), reward_ratio, 1.0))
        x = hashrate_deviation(
            revenue_log, shocks.hashrate_noise, p.hashrate_elasticity, p.hashrate_lag_days
        )
        if self.backend == "numba":
            sums = self._yearly_sums_kernel(x, shocks, price_dev, fees_mult)
        else:
            sums = self._yearly_sums_arrays(x, shocks, price_dev, fees_mult)
        per_path, per_year = self._value(sums)
        return ChunkResult(first, per_path, per_year)

    def _group_arrays(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        fleet = self.fleet
        cap = fleet.group_site_power_mw()
        mwh = fleet.group_mwh_per_th_day()
        ths_per_mw = np.array([g.hashrate_ths for g in fleet.groups]) / cap
        return cap, mwh, ths_per_mw

    def _ageing(self, shocks: PathShocks) -> tuple[FloatArray, FloatArray]:
        age = np.mod(np.arange(self.years, dtype=np.float64), float(self.fleet.replacement_years))
        alive = (1.0 - shocks.failure_rate_pu_per_year[:, None]) ** age[None, :]
        degr = (1.0 - shocks.degradation_pu_per_year[:, None]) ** age[None, :]
        return alive, degr

    def _yearly_sums_kernel(
        self, x: FloatArray, shocks: PathShocks, price_dev: FloatArray, fees_mult: FloatArray
    ) -> dict[str, FloatArray]:
        from hashnation.mining.kernel import OUT_FIELDS, simulate_paths

        count = x.shape[0]
        cap, mwh, ths_per_mw = self._group_arrays()
        alive, degr = self._ageing(shocks)
        work = shocks.epoch_work_blocks
        out = simulate_paths(
            self.hashrate_exo_hs,
            float(self.hashrate_added_hs),
            np.ascontiguousarray(x),
            float(self.start_difficulty),
            float(self.blocks_into_epoch),
            float(self.start_height),
            work if work is not None else np.zeros((count, 1)),
            work is not None,
            self.fees_det,
            np.ascontiguousarray(fees_mult),
            self.price_det,
            np.ascontiguousarray(price_dev),
            self.surplus_mw,
            np.ascontiguousarray(np.exp(shocks.surplus_log)),
            self.tariff + self.costs.variable_om_usd_per_mwh,
            self.emission,
            self.coal,
            mwh,
            cap,
            ths_per_mw,
            alive,
            degr,
            float(self.fleet.uptime_pu),
            float(self.costs.pool_fee_pu),
            HOURS_PER_PROGRAM_YEAR,
        )
        return {name: np.ascontiguousarray(out[:, k, :]) for k, name in enumerate(OUT_FIELDS)}

    def _yearly_sums_arrays(
        self, x: FloatArray, shocks: PathShocks, price_dev: FloatArray, fees_mult: FloatArray
    ) -> dict[str, FloatArray]:
        """Array version of the kernel (numpy or cupy): many passes, same model."""
        xp = array_module(self.backend)
        count = x.shape[0]
        day_of_hour = np.arange(self.hours) // 24
        hashrate = (
            self.hashrate_exo_hs[None, :] * np.exp(x[:, day_of_hour]) + self.hashrate_added_hs
        )
        difficulty, blocks, _ = retarget_paths(
            hashrate,
            np.full(count, self.start_difficulty),
            np.full(count, self.blocks_into_epoch),
            shocks.epoch_work_blocks,
        )
        height = self.start_height + np.concatenate(
            (np.zeros((count, 1)), np.cumsum(blocks, axis=1)[:, :-1]), axis=1
        )
        subsidy = block_subsidy_sat_array(np.floor(height).astype(np.int64)) / SAT_PER_BTC
        fees = self.fees_det[None, :] * fees_mult[:, day_of_hour]
        hp_btc = (subsidy + fees) * (86_400.0 * 1e12) / (difficulty * HASHES_PER_DIFFICULTY)
        price = self.price_det[None, :] * np.exp(price_dev[:, day_of_hour])
        fleet = self.fleet
        costs = self.costs
        years = self.years
        hy = HOURS_PER_PROGRAM_YEAR
        cap, mwh, ths_per_mw = self._group_arrays()
        site = float(cap.sum())
        alive, degr = self._ageing(shocks)
        hp_btc_x = xp.asarray(hp_btc).reshape(count, years, hy)
        price_x = xp.asarray(price).reshape(count, years, hy)
        hp_usd = hp_btc_x * price_x
        net_usd = hp_usd * ((1.0 - costs.pool_fee_pu) * xp.asarray(degr)[:, :, None])
        cost = xp.asarray(self.tariff + costs.variable_om_usd_per_mwh).reshape(1, years, hy)
        surplus = xp.asarray(self.surplus_mw).reshape(1, years, hy)
        scale = xp.asarray(np.exp(shocks.surplus_log))[:, :, None]
        alive_x = xp.asarray(alive)[:, :, None]
        site_alive = site * alive_x
        allowed = xp.minimum(surplus * scale, site_alive)
        left = allowed.copy()
        ths = xp.zeros_like(left)
        for j in range(len(fleet.groups)):
            run = (net_usd / mwh[j]) >= cost
            take = xp.where(run, xp.minimum(left, cap[j] * alive_x), 0.0)
            left -= take
            ths += take * ths_per_mw[j]
        used = allowed - left
        online = ths * (xp.asarray(degr)[:, :, None] * fleet.uptime_pu)
        btc_h = online * hp_btc_x / 24.0
        energy_h = used * fleet.uptime_pu
        emission = xp.asarray(self.emission).reshape(1, years, hy)
        coal = xp.asarray(self.coal).reshape(1, years, hy)
        return {
            "btc_mined": _to_numpy(btc_h.sum(axis=2)),
            "revenue_usd": _to_numpy((btc_h * price_x).sum(axis=2)),
            "energy_mwh": _to_numpy(energy_h.sum(axis=2)),
            "energy_cost_usd": _to_numpy((energy_h * cost).sum(axis=2)),
            "emissions_tco2": _to_numpy((energy_h * emission).sum(axis=2)),
            "coal_energy_mwh": _to_numpy((energy_h * coal).sum(axis=2)),
            "grid_short_mwh": _to_numpy((site_alive - allowed).sum(axis=2)),
            "curtailed_mwh": _to_numpy((site - used).sum(axis=2)),
            "price_usd_per_btc": _to_numpy(price_x.mean(axis=2)),
            "hashprice_usd_per_th_day": _to_numpy(hp_usd.mean(axis=2)),
        }

    def _value(self, sums: dict[str, FloatArray]) -> tuple[FloatArray, dict[str, FloatArray]]:
        """Yearly sums to cash flows, NPV and per-path outputs (shared by all backends)."""
        costs = self.costs
        years = self.years
        btc = sums["btc_mined"]
        revenue = sums["revenue_usd"]
        energy = sums["energy_mwh"]
        count = btc.shape[0]
        site = float(self.fleet.group_site_power_mw().sum())
        pool_fee = revenue * costs.pool_fee_pu
        dr_revenue = sums["grid_short_mwh"] * self.dr_rate
        opex, operating, cashflow = yearly_cashflow_usd(
            revenue,
            dr_revenue,
            sums["energy_cost_usd"],
            pool_fee,
            self.fixed_om,
            self.replacements[None, :],
        )
        rate = costs.discount_rate_pu
        disc = (1.0 + rate) ** np.arange(1, years + 1, dtype=np.float64)
        npv = -self.initial_capex + (cashflow / disc[None, :]).sum(axis=1)
        btc_total = btc.sum(axis=1)
        opex_total = opex.sum(axis=1)
        capex_total = self.initial_capex + float(self.replacements.sum())
        energy_total = energy.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            cost_per_btc = np.where(btc_total > 0, (opex_total + capex_total) / btc_total, np.nan)
            coal_share = np.where(
                energy_total > 0, sums["coal_energy_mwh"].sum(axis=1) / energy_total, 0.0
            )
        per_path = np.column_stack(
            [
                npv,
                btc_total,
                revenue.sum(axis=1),
                opex_total,
                np.full(count, capex_total),
                cost_per_btc,
                energy_total,
                sums["curtailed_mwh"].sum(axis=1) / (site * self.hours),
                sums["emissions_tco2"].sum(axis=1),
                coal_share,
                (operating < 0).sum(axis=1).astype(np.float64),
            ]
        )
        per_year = {
            "btc_mined": btc,
            "revenue_usd": revenue,
            "cashflow_usd": cashflow,
            "cumulative_cashflow_usd": np.cumsum(cashflow, axis=1) - self.initial_capex,
            "energy_mwh": energy,
            "emissions_tco2": sums["emissions_tco2"],
            "price_usd_per_btc": sums["price_usd_per_btc"],
            "hashprice_usd_per_th_day": sums["hashprice_usd_per_th_day"],
        }
        return per_path, per_year

    # ------------------------------------------------------------ orchestration

    def run(
        self,
        paths: int,
        seed: int,
        *,
        chunk_paths: int = 50,
        scheduler: str | Any | None = "threads",
        progress: Callable[[int, int], None] | None = None,
    ) -> RiskResult:
        """Run ``paths`` paths in chunks.

        Parameters
        ----------
        paths
            Number of paths (>= 1).
        seed
            Root seed (>= 0); logged in the result.
        chunk_paths
            Paths per task; bounds memory (about 0.1 GB per path-decade).
        scheduler
            ``"threads"`` (Dask local threads, default), ``"synchronous"``
            (in-process, no Dask), ``"processes"``, a ``tcp://host:port``
            address of a Dask scheduler, or a ``distributed.Client``.
        progress
            Called with (chunks done, chunks) as chunks finish.
        """
        if not isinstance(paths, int) or paths < 1:
            raise InputError("paths", paths, "an integer >= 1")
        if not isinstance(seed, int) or seed < 0:
            raise InputError("seed", seed, "an integer >= 0")
        if not isinstance(chunk_paths, int) or chunk_paths < 1:
            raise InputError("chunk_paths", chunk_paths, "an integer >= 1")
        t0 = time.perf_counter()
        starts = list(range(0, paths, chunk_paths))
        sizes = [min(chunk_paths, paths - s) for s in starts]
        results = map_tasks(
            MonteCarlo.run_paths,
            [(s, c, seed) for s, c in zip(starts, sizes, strict=True)],
            scheduler=scheduler,
            progress=progress,
            shared=self,
        )
        per_path = np.concatenate([r.per_path for r in results], axis=0)
        frame = pd.DataFrame(per_path, columns=list(PATH_COLUMNS))
        frame.index.name = "path"
        years = list(range(1, self.years + 1))
        per_year = {
            name: pd.DataFrame(
                np.concatenate([r.per_year[name] for r in results], axis=0),
                columns=pd.Index(years, name="program_year"),
            )
            for name in results[0].per_year
        }
        summary = self.program.summary
        det_npv = summary.npv_usd if summary is not None else float("nan")
        return RiskResult(
            paths=frame,
            per_year=per_year,
            seed=seed,
            drivers=self.drivers,
            deterministic_npv_usd=det_npv,
            wall_s=time.perf_counter() - t0,
            chunks=len(starts),
            meta={"backend": self.backend, "chunk_paths": chunk_paths},
        )
