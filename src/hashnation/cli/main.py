"""``hashnation``: the command line entry point.

Run ``hashnation --help``; each pillar is a sub-command group::

    hashnation mining run examples/pakistan-2000mw.toml --out out/pakistan
    hashnation mining validate SCENARIO.toml
    hashnation mining asics
    hashnation mining risk examples/pakistan-2000mw.toml --paths 10000 --out out/risk
    hashnation mining sweep SCENARIO.toml --mw 500,2000 --tariff-pkr 18,23 --out out/s
    hashnation data list
    hashnation data provenance asic_catalogue.csv
    hashnation bitcoin subsidy 840000
    hashnation bitcoin bits 0x1d00ffff
    hashnation reserve report --reserve reserve.json --height H --esplora URL --out out/r
    hashnation verify out/r/report.json
    hashnation registry init --db sqlite:///hashnation.db
    hashnation registry queue
    hashnation serve --reserve-report out/r/report.json
    hashnation country list
    hashnation --country el-salvador mining run --out out/el-salvador

Errors a user can fix print ``error: <message>`` on one line to stderr and exit
with code 2 (see :mod:`hashnation.cli.errors`).
"""

from __future__ import annotations

from typing import Annotated

import typer

import hashnation
from hashnation.cli import (
    bitcoin,
    country,
    data,
    mining,
    por,
    records,
    records_registry,
    registry,
    reserve,
    risk,
    serve,
    transparency,
    visa,
)
from hashnation.cli.errors import HashNationGroup

__all__ = ["app", "main", "risk"]

app = typer.Typer(
    name="hashnation",
    cls=HashNationGroup,
    help="HashNation: open tools for a national Bitcoin programme.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(mining.app, name="mining")  # with the risk and sweep commands of cli.risk
app.add_typer(reserve.app, name="reserve")
reserve.app.command("report")(transparency.report_command)
reserve.app.command("demo")(transparency.demo_command)
app.command("verify")(transparency.verify_command)
app.command("serve")(serve.serve_command)
app.add_typer(data.app, name="data")
app.add_typer(bitcoin.app, name="bitcoin")
app.add_typer(por.app, name="por")
app.add_typer(registry.app, name="registry")
app.add_typer(records.app, name="records")
app.add_typer(records_registry.app, name="public-records")
app.add_typer(visa.app, name="visa")
app.add_typer(country.app, name="country")


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"hashnation {hashnation.__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_show_version,
            is_eager=True,
            help="Show the version and exit.",
        ),
    ] = False,
    country_name: Annotated[
        str | None,
        typer.Option(
            "--country",
            envvar=country.COUNTRY_ENV,
            help="Country pack: a name (pakistan, el-salvador, argentina, turkey, or one "
            "in $HASHNATION_COUNTRY_PATH) or a pack folder. Default: pakistan.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """HashNation: open tools for a national Bitcoin programme."""
    country.select(country_name)


def main() -> None:
    """Run the ``hashnation`` command line."""
    app(prog_name="hashnation")


if __name__ == "__main__":
    main()
