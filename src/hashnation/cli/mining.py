"""``hashnation mining``: run and validate scenarios, list the ASIC catalogue."""

from __future__ import annotations

import math
import time
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from hashnation.cli.console import err_console, out_console
from hashnation.cli.errors import HashNationGroup
from hashnation.errors import DataError, InputError, ScenarioError
from hashnation.mining.scenario import Scenario, load_scenario

if TYPE_CHECKING:
    from hashnation.mining.program import MiningResults

# The model, its data and Plotly are imported inside the commands that use
# them, so that `hashnation --help` and light commands start quickly.

__all__ = ["app", "load_checked"]

app = typer.Typer(
    name="mining",
    cls=HashNationGroup,
    help="Mining on surplus power: run and validate scenarios, list the ASIC catalogue.",
    no_args_is_help=True,
)

ScenarioArg = Annotated[
    Path | None,
    typer.Argument(
        metavar="[SCENARIO.toml]",
        help="Scenario file (TOML); the country pack's scenario when omitted "
        "(hashnation --country X ...).",
        show_default=False,
    ),
]


def scenario_path(path: Path | None) -> Path:
    """Return the scenario file given, or the selected country pack's.

    Parameters
    ----------
    path
        The SCENARIO.toml argument, or None when omitted.

    Returns
    -------
    Path
        The file to load.

    Raises
    ------
    InputError
        If no file is given and the pack has no scenario.
    """
    if path is not None:
        return path
    from hashnation.cli.country import selected_pack

    pack = selected_pack()
    if pack.scenario_file is None:
        raise InputError("SCENARIO.toml", None, f"a scenario file (the {pack.slug} pack has none)")
    return pack.scenario_file


def load_checked(path: Path | None) -> Scenario:
    """Load a scenario and check that its catalogue ASIC models exist.

    Parameters
    ----------
    path
        Scenario TOML file; the selected country pack's when None.

    Returns
    -------
    Scenario
        The validated scenario.

    Raises
    ------
    ScenarioError
        Missing or malformed file, invalid field, or an ASIC model that is not
        in the catalogue (``fleet.mix.N.model``; the message lists the models).
    """
    from hashnation.data.loaders import asic_spec

    scenario = load_scenario(scenario_path(path))
    for i, item in enumerate(scenario.fleet.mix):
        if item.hashrate_ths is not None:
            continue  # a custom machine, specified in the file
        try:
            asic_spec(item.model)
        except DataError as exc:
            raise ScenarioError(f"fleet.mix.{i}.model", item.model, exc.expected) from None
    return scenario


def run_with_progress(spec: Scenario) -> MiningResults:
    """Run every step, showing a progress bar on stderr when it is a terminal."""
    from hashnation.mining.program import MiningProgram

    console = err_console()
    steps = len(MiningProgram.STEPS)
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(
        *columns, console=console, transient=True, disable=not console.is_terminal
    ) as progress:
        task = progress.add_task("starting", total=steps)
        started = 0

        def on_step(message: str) -> None:
            nonlocal started
            progress.update(task, description=message, completed=min(started, steps - 1))
            started += 1

        program = MiningProgram(spec, progress=on_step).run()
        progress.update(task, description="done", completed=steps)
    return program.results


def _summary_table(results: MiningResults) -> Table:
    from hashnation.mining.report import headline_rows

    table = Table(
        title=Text(results.summary.scenario),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("figure", overflow="fold", ratio=2)
    table.add_column("value [unit]", overflow="fold", ratio=3)
    for row in headline_rows(results):
        table.add_row(Text(row.label), Text(row.value))
    return table


@app.command("run")
def run_command(
    scenario: ScenarioArg = None,
    *,
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Output folder; created if missing, files of the same names replaced.",
            show_default=False,
        ),
    ],
    hourly_csv: Annotated[
        bool,
        typer.Option(
            "--hourly-csv/--no-hourly-csv",
            help="Write the hourly tables (hourly.csv, hourly.json: one row per hour).",
        ),
    ] = True,
) -> None:
    """Run a scenario and write report.html, summary.json and the tables to --out."""
    scenario = scenario_path(scenario)
    from hashnation.mining.outputs import check_out_dir, write_outputs
    from hashnation.mining.report import subsidy_verdict, timezone_for

    spec = load_checked(scenario)
    check_out_dir(out)
    started = time.perf_counter()
    results = run_with_progress(spec)
    err = err_console()
    with ExitStack() as stack:
        if err.is_terminal:
            stack.enter_context(err.status(Text(f"writing report and tables to {out}")))
        paths = write_outputs(
            results,
            out,
            hourly_csv=hourly_csv,
            timezone=spec.scenario.timezone or timezone_for(spec.scenario.country),
            scenario_file=scenario.name,
        )
    elapsed = time.perf_counter() - started
    console = out_console()
    console.print(_summary_table(results))
    test = results.subsidy
    style = "dim" if test is None else ("bold green" if test.subsidy_free else "bold red")
    console.print(Text(subsidy_verdict(test), style=style), soft_wrap=True)
    console.print(Text(f"report: {paths[0]}"), soft_wrap=True)
    console.print(
        Text(f"{len(paths)} files written to {out} in {elapsed:.1f} s", style="dim"),
        soft_wrap=True,
    )


@app.command("validate")
def validate_command(scenario: ScenarioArg = None) -> None:
    """Check a scenario file without running it; print OK when it is valid."""
    scenario = scenario_path(scenario)
    spec = load_checked(scenario)
    meta = spec.scenario
    models = ", ".join(f"{m.model} ({m.share:g})" for m in spec.fleet.mix)
    out_console().print(
        Text(
            f"OK: {scenario}: '{meta.name}', {meta.years} years from "
            f"{meta.start.isoformat()}, {spec.site.power_mw:g} MW site on the "
            f"{spec.site.grid} grid, fleet {models}"
        ),
        soft_wrap=True,
    )


def _cell(value: object, fmt: str = "{}") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return fmt.format(value)


@app.command("asics")
def asics_command() -> None:
    """List the bundled ASIC catalogue (nameplate figures)."""
    from hashnation.data.loaders import load_asic_catalogue

    catalogue = load_asic_catalogue()
    table = Table(
        title="ASIC catalogue (nameplate; see hashnation data provenance asic_catalogue.csv)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("manufacturer", no_wrap=True)
    table.add_column("model", overflow="fold")
    table.add_column("released", no_wrap=True)
    table.add_column("hashrate\n[TH/s]", justify="right", no_wrap=True)
    table.add_column("power\n[W]", justify="right", no_wrap=True)
    table.add_column("eff.\n[J/TH]", justify="right", no_wrap=True)
    table.add_column("cooling", no_wrap=True)
    for row in catalogue.itertuples(index=False):
        table.add_row(
            Text(_cell(row.manufacturer)),
            Text(_cell(row.model)),
            Text(_cell(row.release_date)),
            _cell(row.hashrate_ths, "{:,.1f}"),
            _cell(row.power_w, "{:,.0f}"),
            _cell(row.efficiency_j_per_th, "{:.1f}"),
            Text(_cell(row.cooling)),
        )
    out_console().print(table)
