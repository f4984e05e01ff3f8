"""``hashnation data``: the bundled datasets and where they come from."""

from __future__ import annotations

from typing import Annotated

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from hashnation.cli.console import out_console
from hashnation.cli.errors import HashNationGroup

__all__ = ["app"]

app = typer.Typer(
    name="data",
    cls=HashNationGroup,
    help="Bundled datasets: list them, show the provenance of one.",
    no_args_is_help=True,
)


@app.command("list")
def list_command() -> None:
    """List the bundled data files with their title and licence."""
    from hashnation.data.provenance import load_provenance

    table = Table(
        title="Bundled datasets (details: hashnation data provenance FILE)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("file", no_wrap=True)
    table.add_column("title; licence", overflow="fold")
    for record in load_provenance():
        cell = Text(record.title)
        cell.append(f"\nlicence: {record.licence}", style="dim")
        table.add_row(Text(record.file), cell)
    out_console().print(table)


@app.command("provenance")
def provenance_command(
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE",
            help="Data file name, e.g. asic_catalogue.csv (see: hashnation data list).",
            show_default=False,
        ),
    ],
) -> None:
    """Show the full provenance record of one bundled data file."""
    from hashnation.data.provenance import provenance_for

    record = provenance_for(file)
    console = out_console()
    fields = Table(title=Text(record.file), title_justify="left", show_header=False, box=box.SIMPLE)
    fields.add_column("key", style="bold", no_wrap=True)
    fields.add_column("value", overflow="fold")
    for key in ("title", "source", "licence", "retrieved", "range", "conversions", "notes"):
        fields.add_row(key, Text(str(getattr(record, key))))
    console.print(fields)
    columns = Table(title="columns", title_justify="left", box=box.SIMPLE_HEAD)
    columns.add_column("column", no_wrap=True)
    columns.add_column("unit", overflow="fold")
    columns.add_column("meaning", overflow="fold")
    for column in record.columns:
        columns.add_row(Text(column), Text(record.unit_of(column)), Text(record.meaning_of(column)))
    console.print(columns)
