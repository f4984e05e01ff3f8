"""``hashnation mining risk`` and ``hashnation mining sweep``: Monte Carlo risk and design sweeps.

Both validate everything (scenario, driver parameters, backend, scheduler)
before any work, show a Rich progress bar over chunks or designs, and write
their report and tables atomically to ``--out``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich import box
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from hashnation.cli.console import err_console, out_console
from hashnation.cli.mining import ScenarioArg, app, load_checked
from hashnation.errors import InputError

if TYPE_CHECKING:
    from hashnation.mining.drivers import DriverParams
    from hashnation.mining.scenario import Scenario

__all__ = ["risk_command", "sweep_command"]

OutOption = Annotated[
    Path,
    typer.Option("--out", "-o", help="Output folder (created if missing).", show_default=False),
]
SeedOption = Annotated[int, typer.Option("--seed", help="Root seed; same seed, same result.")]
SchedulerOption = Annotated[
    str,
    typer.Option(
        "--scheduler",
        help="threads (Dask local threads), synchronous, processes, or tcp://host:port.",
    ),
]


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None]]:
    console = err_console()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as p:
        task = p.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            p.update(task, completed=done, total=total)

        yield update


def _drivers(spec: Scenario, overrides: dict[str, Any]) -> DriverParams:
    from hashnation.mining.drivers import DriverParams

    values = spec.risk.model_dump()
    values.update({k: v for k, v in overrides.items() if v is not None})
    return DriverParams.from_mapping(values)


def _check_scheduler(scheduler: str) -> None:
    if scheduler in ("threads", "synchronous", "processes") or scheduler.startswith("tcp://"):
        return
    raise InputError("--scheduler", scheduler, "threads, synchronous, processes or tcp://host:port")


def _floats(text: str, option: str) -> list[float]:
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise InputError(option, text, "comma-separated numbers, e.g. 500,1000,2000") from None
    if not values:
        raise InputError(option, text, "at least one number")
    return values


@app.command("risk")
def risk_command(
    scenario: ScenarioArg = None,
    *,
    out: OutOption,
    paths: Annotated[int, typer.Option("--paths", help="Monte Carlo paths.")] = 10_000,
    seed: SeedOption = 1,
    backend: Annotated[
        str, typer.Option("--backend", help="numba (CPU, default), numpy or cupy (GPU).")
    ] = "numba",
    scheduler: SchedulerOption = "threads",
    chunk_paths: Annotated[
        int, typer.Option("--chunk-paths", help="Paths per task (bounds memory).")
    ] = 50,
    price_model: Annotated[
        str | None, typer.Option("--price-model", help="bootstrap or gbm.")
    ] = None,
    price_volatility: Annotated[
        float | None,
        typer.Option("--price-volatility", help="Annualised price volatility [pu]."),
    ] = None,
    tornado_paths: Annotated[
        int, typer.Option("--tornado-paths", help="Paths per tornado run; 0 to skip.")
    ] = 200,
    sobol_base: Annotated[
        int, typer.Option("--sobol", help="Sobol base sample size (N); 0 to skip.")
    ] = 0,
) -> None:
    """Monte Carlo risk of a scenario: P(loss), VaR/CVaR, fan charts, tornado, Sobol."""
    from hashnation.mining.montecarlo import MonteCarlo, array_module
    from hashnation.mining.outputs import check_out_dir
    from hashnation.mining.program import MiningProgram
    from hashnation.mining.risk_outputs import write_risk_outputs
    from hashnation.mining.sensitivity import sobol, tornado

    spec = load_checked(scenario)
    drivers = _drivers(spec, {"price_model": price_model, "price_volatility_pu": price_volatility})
    _check_scheduler(scheduler)
    array_module(backend)
    if paths < 1:
        raise InputError("--paths", paths, "an integer >= 1")
    if tornado_paths < 0 or sobol_base < 0:
        raise InputError("--tornado-paths/--sobol", (tornado_paths, sobol_base), ">= 0")
    check_out_dir(out)
    started = time.perf_counter()
    program = MiningProgram(spec).run()
    engine = MonteCarlo(program, drivers, backend=backend)
    with _progress(f"{paths:,} paths") as tick:
        result = engine.run(
            paths, seed, chunk_paths=chunk_paths, scheduler=scheduler, progress=tick
        )
    table = None
    if tornado_paths:
        with _progress("tornado") as tick:
            table = tornado(
                spec, drivers, paths=tornado_paths, seed=seed, scheduler=scheduler, progress=tick
            )
    indices = None
    if sobol_base:
        with _progress("Sobol indices") as tick:
            indices = sobol(
                spec, drivers, n_base=sobol_base, seed=seed, scheduler=scheduler, progress=tick
            )
    written = write_risk_outputs(result, out, spec.scenario.name, tornado=table, sobol=indices)
    s = result.summary()
    rows = [
        ("paths / seed", f"{int(s['paths']):,} / {seed}"),
        ("P(loss) = P(NPV < 0)", f"{s['p_loss']:.1%}"),
        (
            "NPV P5 / P50 / P95 [USD m]",
            f"{s['npv_p5_usd'] / 1e6:,.0f} / {s['npv_p50_usd'] / 1e6:,.0f} / "
            f"{s['npv_p95_usd'] / 1e6:,.0f}",
        ),
        (
            "VaR 95 % / CVaR 95 % of NPV [USD m]",
            f"{s['var_usd'] / 1e6:,.0f} / {s['cvar_usd'] / 1e6:,.0f}",
        ),
        ("deterministic NPV [USD m]", f"{s['deterministic_npv_usd'] / 1e6:,.0f}"),
        ("BTC mined P50 [BTC]", f"{s['btc_mined_p50']:,.0f}"),
        ("wall time [s]", f"{result.wall_s:.1f} ({result.chunks} chunks, {backend})"),
    ]
    console = out_console()
    console.print(_table(spec.scenario.name + " - Monte Carlo", rows))
    console.print(Text(f"report: {written[0]}"), soft_wrap=True)
    console.print(
        Text(
            f"{len(written)} files written to {out} in {time.perf_counter() - started:.1f} s",
            style="dim",
        ),
        soft_wrap=True,
    )


@app.command("sweep")
def sweep_command(
    scenario: ScenarioArg = None,
    *,
    out: OutOption,
    mw: Annotated[str, typer.Option("--mw", help="Site sizes, e.g. 500,1000,2000 [MW].")],
    tariff_pkr: Annotated[
        str | None, typer.Option("--tariff-pkr", help="Flat tariffs [PKR/kWh], e.g. 18,23,28.")
    ] = None,
    tariff_usd: Annotated[
        str | None, typer.Option("--tariff-usd", help="Flat tariffs [USD/kWh], e.g. 0.05,0.08.")
    ] = None,
    mix: Annotated[
        list[str] | None,
        typer.Option(
            "--mix",
            help="ASIC mix to try, 'MODEL:SHARE,MODEL:SHARE' (repeat the option for several).",
        ),
    ] = None,
    paths: Annotated[int, typer.Option("--paths", help="Monte Carlo paths per design.")] = 100,
    seed: SeedOption = 1,
    scheduler: SchedulerOption = "threads",
) -> None:
    """Sweep programme designs (MW x tariff x ASIC mix): NPV P5/P50/P95 and P(loss) for each."""
    from hashnation.mining.outputs import check_out_dir
    from hashnation.mining.risk_outputs import write_sweep_outputs
    from hashnation.mining.sweep import sweep

    spec = load_checked(scenario)
    drivers = _drivers(spec, {})
    _check_scheduler(scheduler)
    if (tariff_pkr is None) == (tariff_usd is None):
        raise InputError("--tariff-pkr/--tariff-usd", None, "exactly one of the two")
    unit: Literal["pkr_per_kwh", "usd_per_kwh"] = (
        "pkr_per_kwh" if tariff_pkr is not None else "usd_per_kwh"
    )
    tariffs = _floats(
        tariff_pkr if tariff_pkr is not None else str(tariff_usd),
        "--tariff-pkr" if tariff_pkr is not None else "--tariff-usd",
    )
    sizes = _floats(mw, "--mw")
    mixes = [_mix(text) for text in mix] if mix else None
    check_out_dir(out)
    started = time.perf_counter()
    with _progress("designs") as tick:
        table = sweep(
            spec,
            drivers,
            power_mw=sizes,
            tariffs=tariffs,
            tariff_unit=unit,
            asic_mixes=mixes,
            paths=paths,
            seed=seed,
            scheduler=scheduler,
            progress=tick,
        )
    written = write_sweep_outputs(table, out, spec.scenario.name)
    tcol = f"tariff_{unit}"
    rows = [
        (
            f"{r['power_mw']:,.0f} MW @ {r[tcol]:g} {unit.replace('_per_', '/')}"
            + (f", {r['asic_mix']}" if mixes else ""),
            f"NPV P50 {r['npv_p50_usd'] / 1e6:,.0f} m USD, P(loss) {r['p_loss']:.0%}",
        )
        for r in table.to_dict(orient="records")
    ]
    console = out_console()
    console.print(_table(spec.scenario.name + " - design sweep", rows))
    console.print(Text(f"report: {written[0]}"), soft_wrap=True)
    console.print(
        Text(
            f"{len(written)} files written to {out} in {time.perf_counter() - started:.1f} s",
            style="dim",
        ),
        soft_wrap=True,
    )


def _mix(text: str) -> list[tuple[str, float]]:
    """Parse ``'MODEL:SHARE,MODEL:SHARE'`` into (model, share) pairs."""
    pairs = []
    for part in text.split(","):
        model, sep, share = part.rpartition(":")
        try:
            value = float(share)
        except ValueError:
            value = float("nan")
        if not sep or not model.strip() or not value > 0:
            raise InputError("--mix", text, "'MODEL:SHARE,MODEL:SHARE' with shares > 0")
        pairs.append((model.strip(), value))
    return pairs


def _table(title: str, rows: list[tuple[str, str]]) -> Table:
    table = Table(title=Text(title), title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("figure", overflow="fold")
    table.add_column("value", overflow="fold")
    for label, value in rows:
        table.add_row(Text(label), Text(value))
    return table
