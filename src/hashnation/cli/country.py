"""``hashnation --country X`` and ``hashnation country``: which country pack the commands use.

The root option ``--country`` (or ``$HASHNATION_COUNTRY``) names a pack, bundled or in
a folder of ``$HASHNATION_COUNTRY_PATH``, or gives a pack folder's path; commands that
have country defaults (the mining scenario, the regulator's licence rules, the reserve's
descriptors, the visa terms, the portal) read them from :func:`selected_pack`.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from hashnation.cli.console import out_console
from hashnation.cli.errors import HashNationGroup

if TYPE_CHECKING:
    from hashnation.countries import CountryPack

__all__ = ["COUNTRY_ENV", "app", "pack_summary", "select", "selected_country", "selected_pack"]

COUNTRY_ENV = "HASHNATION_COUNTRY"
"""Environment variable naming the pack when ``--country`` is not given."""

app = typer.Typer(
    name="country",
    cls=HashNationGroup,
    help="Country packs: list them, show what one configures.",
    no_args_is_help=True,
)


_selected: list[str | None] = [None]


def select(name: str | None) -> None:
    """Record the ``--country`` value of this invocation (``None``: not given)."""
    _selected[0] = name


def selected_country() -> str:
    """Name the pack chosen by ``--country``, ``$HASHNATION_COUNTRY`` or the default."""
    from hashnation.countries import DEFAULT_COUNTRY

    return _selected[0] or os.environ.get(COUNTRY_ENV) or DEFAULT_COUNTRY


@lru_cache(maxsize=8)
def _load(name: str) -> CountryPack:
    from hashnation.countries import load_pack

    return load_pack(name)


def selected_pack() -> CountryPack:
    """Load (once per name) the selected country pack.

    Returns
    -------
    CountryPack
        The pack.

    Raises
    ------
    InputError
        If the name matches no pack or the pack is malformed.
    """
    return _load(selected_country())


def pack_summary(pack: CountryPack) -> dict[str, Any]:
    """Describe what a pack configures, as JSON-able data (``country show --json``).

    Parameters
    ----------
    pack
        The pack.

    Returns
    -------
    dict
        Country, currency, mining scenario, regulator and licence rules, reserve, visa.
    """
    visa = pack.visa
    return {
        "slug": pack.slug,
        "name": pack.name,
        "iso2": pack.iso2,
        "language": pack.language,
        "timezone": pack.timezone,
        "currency": {
            "code": pack.currency.code,
            "symbol": pack.currency.symbol,
            "per_usd": str(pack.currency.per_usd),
            "source": pack.currency.source,
        },
        "mining_scenario": str(pack.scenario_file) if pack.scenario_file else None,
        "regulator": {
            "authority": pack.authority,
            "licence_prefix": pack.licence_prefix,
            "licences": {
                kind.value: {
                    "title": spec.title,
                    "code": spec.code,
                    "min_capital_usd": str(spec.min_capital_usd),
                    "return_frequency": spec.return_frequency,
                    "filing_days": spec.filing_days,
                    "required_documents": list(spec.required_documents),
                }
                for kind, spec in pack.licences.items()
            },
        },
        "reserve": {
            "name": pack.reserve_name,
            "descriptors": str(pack.reserve_file) if pack.reserve_file else None,
        },
        "visa": None
        if visa is None
        else {
            "name": visa.name,
            "amount_usd": str(visa.amount_usd),
            "price_usd_per_btc": str(visa.price_usd_per_btc),
            "invoice_validity_hours": visa.invoice_validity_hours,
            "confirmations_required": visa.confirmations_required,
            "yearly_quota": visa.yearly_quota,
            "descriptor": visa.descriptor,
            "source": visa.source,
        },
        "path": str(pack.path),
    }


@app.command("list")
def list_command() -> None:
    """List the country packs found (bundled and in $HASHNATION_COUNTRY_PATH)."""
    from hashnation.countries import available_packs, pack_kind

    table = Table("pack", "country", "currency", "regulator", "visa", "source")
    for pack in available_packs():
        table.add_row(
            pack.slug,
            pack.name,
            pack.currency.code,
            pack.authority,
            pack.visa.name if pack.visa else "none",
            pack_kind(pack),
        )
    out_console().print(table)


@app.command("show")
def show_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show what the selected pack (``hashnation --country X country show``) configures."""
    pack = selected_pack()
    summary = pack_summary(pack)
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    console = out_console()
    console.print(Text(f"{pack.name} ({pack.iso2}) — pack '{pack.slug}' at {pack.path}"))
    cur = pack.currency
    console.print(f"currency: {cur.code} ({cur.symbol}), {cur.per_usd} per USD — {cur.source}")
    console.print(f"language: {pack.language}, time zone: {pack.timezone}")
    console.print(f"mining scenario: {summary['mining_scenario'] or 'none'}")
    console.print(f"regulator: {pack.authority}, licence numbers {pack.licence_prefix}-XXX-0001")
    table = Table("licence type", "title", "code", "min capital [USD]", "returns", "due [days]")
    for kind, spec in pack.licences.items():
        table.add_row(
            kind.value,
            spec.title,
            spec.code,
            f"{spec.min_capital_usd:,}",
            spec.return_frequency,
            str(spec.filing_days),
        )
    console.print(table)
    console.print(f"reserve: {pack.reserve_name} ({summary['reserve']['descriptors'] or 'none'})")
    visa = pack.visa
    console.print(
        "visa: none"
        if visa is None
        else f"visa: {visa.name}, {visa.amount_usd:,} USD, {visa.yearly_quota} a year"
    )
