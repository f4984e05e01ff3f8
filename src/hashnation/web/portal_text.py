"""The public portal's texts and number formats, with a country pack's overrides.

Every text the portal shows has a key with an English default in
:data:`DEFAULT_STRINGS`; a country pack's ``strings.toml`` replaces any of them in
its own language (flat keys: ``portal.mining.heading``, or the same key written as
a TOML table). :func:`check_strings` refuses a pack text whose key is unknown or
that names a ``{placeholder}`` the default does not, so a typo fails when the pack
is loaded rather than when a page is drawn. :class:`Texts` looks texts up and
formats numbers with the pack's decimal and thousands separators
(``portal.number.decimal`` and ``portal.number.group``).

Pure: no file, no web framework; the pack loader may call :func:`check_strings`.
"""

from __future__ import annotations

import math
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Final

from hashnation.errors import InputError

__all__ = ["DEFAULT_STRINGS", "LANGUAGE_SEPARATORS", "Texts", "check_strings", "placeholders"]

DEFAULT_STRINGS: Final[Mapping[str, str]] = MappingProxyType(
    {
        # ------------------------------------------------ page frame
        "portal.title": "{country}: national Bitcoin programme",
        "portal.lead": (
            "One place to see the programme: what the mines produce, what the reserve "
            "holds and proves, who is licensed, and which public records are anchored "
            "in Bitcoin."
        ),
        "portal.skip": "Skip to main content",
        "portal.nav.label": "Site",
        "portal.nav.home": "Home",
        "portal.nav.mining": "Mining",
        "portal.nav.reserve": "Reserve",
        "portal.nav.register": "Register",
        "portal.nav.records": "Records",
        "portal.nav.visa": "Visa",
        "portal.nav.countries": "Countries",
        "portal.toc.label": "On this page",
        "portal.footer.authority": "Licensing authority: {authority}.",
        "portal.footer.rate": (
            "Amounts in {currency} are converted from US dollars at {rate} {currency} per "
            "USD ({source})."
        ),
        "portal.footer.software": "Published with HashNation {version}, free and open-source.",
        "portal.number.decimal": ".",
        "portal.number.group": ",",
        "portal.unit.million": "m",
        "portal.unit.billion": "bn",
        "portal.size": "about {size}",
        "portal.percent": "{value} %",
        "portal.not_found.title": "Page not found",
        "portal.not_found.text": "There is no page at this address.",
        "portal.not_found.home": "Go to the home page",
        # ------------------------------------------------ mining
        "portal.mining.heading": "Mining",
        "portal.mining.intro": (
            "Latest scenario report “{scenario}”: a {power} MW site over {years} years from "
            "{start}, modelled hour by hour on the country's surplus power."
        ),
        "portal.mining.figures": "Headline figures",
        "portal.mining.btc_mined": "Bitcoin mined",
        "portal.mining.energy": "Energy used",
        "portal.mining.curtailed": "Site energy left unused (curtailed)",
        "portal.mining.emissions": "Emissions",
        "portal.mining.coal_share": "Share of the energy from coal",
        "portal.mining.revenue": "Revenue",
        "portal.mining.cost_per_btc": "All-in cost per bitcoin",
        "portal.mining.tariff": "Electricity tariff",
        "portal.mining.per_kwh": "{amount} per kWh",
        "portal.mining.per_mwh": "{amount} per MWh",
        "portal.mining.breakeven": "Break-even bitcoin price",
        "portal.mining.start_price": "Bitcoin price at the start",
        "portal.mining.halving": "Next halving",
        "portal.mining.halving_block": "block {height}",
        "portal.mining.halving_date": "expected around {date}",
        "portal.mining.npv": "Net present value",
        "portal.mining.payback": "Payback",
        "portal.mining.payback_years": "{years} years",
        "portal.mining.payback_never": "does not pay back",
        "portal.mining.capex": "Initial investment",
        "portal.mining.opex": "Operating costs",
        "portal.mining.fleet": "Mining fleet",
        "portal.mining.fleet_units": "{units} machines",
        "portal.mining.annual_caption": "Year by year",
        "portal.mining.col.year": "Year",
        "portal.mining.col.start": "Starts",
        "portal.mining.col.btc": "BTC mined",
        "portal.mining.col.energy": "Energy (MWh)",
        "portal.mining.col.curtailed": "Curtailed (MWh)",
        "portal.mining.col.revenue": "Revenue ({currency})",
        "portal.mining.col.cost": "Cost per BTC (USD)",
        "portal.mining.col.price": "BTC price (USD)",
        "portal.mining.col.emissions": "Emissions (tCO₂)",
        "portal.mining.dashboard_link": "Mining dashboard: every figure, year by year",
        "portal.mining.report_link": "Full interactive report with charts",
        "portal.mining.none": "No mining report is published on this site yet.",
        "portal.mining.howto": (
            "Run the country's scenario with {command} and serve the folder with {serve}."
        ),
        "portal.mining.notes": "Notes on the data",
        "portal.mining.files": "The full report and its data",
        "portal.mining.page_title": "{country}: mining dashboard",
        "portal.mining.page_lead": (
            "Figures of the latest mining scenario report, as the model computes them. Money "
            "is shown in {currency} at the stated rate, with US dollars."
        ),
        # ------------------------------------------------ reserve
        "portal.reserve.heading": "Strategic bitcoin reserve",
        "portal.reserve.intro": (
            "{reserve}: holdings proven from the Bitcoin block chain in a published report "
            "that anyone can re-check."
        ),
        "portal.reserve.held": "Bitcoin held",
        "portal.reserve.at_block": "at block {height}",
        "portal.reserve.test_chain": "on a private test chain (regtest), not Bitcoin's main chain",
        "portal.reserve.block_time": "Time of that block",
        "portal.reserve.utxos": "Unspent outputs",
        "portal.reserve.value": "Value",
        "portal.reserve.price": "Price used",
        "portal.reserve.ledger": "Custody ledger balance",
        "portal.reserve.checks_caption": "Checks of the published report",
        "portal.reserve.col.check": "Check",
        "portal.reserve.col.result": "Result",
        "portal.reserve.col.detail": "Detail",
        "portal.reserve.passed": "passed",
        "portal.reserve.failed": "failed",
        "portal.reserve.page_link": "Reserve page with its history and charts",
        "portal.reserve.json_link": "Download the report (JSON)",
        "portal.reserve.verify": "Re-check it on your own computer, offline:",
        "portal.reserve.verify_link": "How to verify the report",
        "portal.reserve.none": (
            "No transparency report is published on this site yet. The reserve's "
            "watch-only descriptors are public: anyone can watch these addresses."
        ),
        "portal.reserve.descriptors_caption": "Watch-only descriptors of the reserve",
        "portal.reserve.col.label": "Wallet",
        "portal.reserve.col.descriptor": "Descriptor",
        "portal.reserve.col.address": "First receiving addresses",
        "portal.reserve.no_descriptors": "The country publishes no reserve descriptors.",
        # ------------------------------------------------ register
        "portal.register.heading": "Licensed virtual-asset firms",
        "portal.register.intro": (
            "Authority: {authority}. Firms whose licence is in force, and licences "
            "suspended or revoked."
        ),
        "portal.register.counts_caption": "Licences in force, by type",
        "portal.register.col.type": "Licence type",
        "portal.register.col.count": "Licensed firms",
        "portal.register.total": "Total",
        "portal.register.latest_caption": "Latest decisions",
        "portal.register.col.date": "Date",
        "portal.register.col.firm": "Firm",
        "portal.register.col.licence": "Licence",
        "portal.register.col.status": "Status",
        "portal.register.no_decisions": "No decision published yet.",
        "portal.register.search_label": "Search the register by name or licence number",
        "portal.register.search_button": "Search",
        "portal.register.link": "Open the full register",
        "portal.register.none": "The register is not served on this site.",
        "portal.status.licensed": "licensed",
        "portal.status.suspended": "suspended",
        "portal.status.revoked": "revoked",
        "portal.status.revocation_appealed": "revocation appealed",
        "portal.status.revocation_upheld": "revocation upheld",
        "portal.status.surrendered": "surrendered",
        # ------------------------------------------------ records
        "portal.records.heading": "Public records anchored in Bitcoin",
        "portal.records.intro": (
            "Land titles, tax filing receipts, identity attestations and licence decisions: "
            "each version is timestamped in Bitcoin with an OpenTimestamps proof anyone can "
            "check."
        ),
        "portal.records.search_label": "Record reference or digest",
        "portal.records.search_button": "Look up",
        "portal.records.batches_caption": "Latest anchoring batches",
        "portal.records.col.batch": "Batch",
        "portal.records.col.stamped": "Stamped",
        "portal.records.col.count": "Records",
        "portal.records.col.root": "Merkle root",
        "portal.records.col.block": "Bitcoin block",
        "portal.records.waiting": "waiting for a block",
        "portal.records.no_batches": "No batch stamped yet.",
        "portal.records.link": "Open the records lookup",
        "portal.records.none": "Public records are not served on this site.",
        # ------------------------------------------------ visa
        "portal.visa.heading": "Investor residency visa",
        "portal.visa.intro": (
            "{name}: the fee is paid in bitcoin to an address of the programme, and every "
            "payment is checked on the block chain."
        ),
        "portal.visa.fee": "Fee",
        "portal.visa.fee_note": "about {btc} BTC at USD {price} per BTC",
        "portal.visa.validity": "Time to pay an invoice",
        "portal.visa.validity_value": "{hours} hours",
        "portal.visa.confirmations": "Confirmations required",
        "portal.visa.quota": "Visas granted per year",
        "portal.visa.source": "Terms stated by",
        "portal.visa.status_link": "Check the status of an application",
        "portal.visa.none": "{country} runs no investor visa programme.",
        # ------------------------------------------------ countries
        "portal.countries.title": "Countries on this site",
        "portal.countries.lead": (
            "The country packs installed here. Each one sets the country's language, "
            "currency, regulator, reserve and programmes."
        ),
        "portal.countries.caption": "Installed country packs",
        "portal.countries.col.country": "Country",
        "portal.countries.col.language": "Language",
        "portal.countries.col.currency": "Currency",
        "portal.countries.col.authority": "Regulator",
        "portal.countries.col.programmes": "Programmes",
        "portal.countries.current": "served here",
        "portal.programme.mining": "mining",
        "portal.programme.reserve": "reserve",
        "portal.programme.licensing": "licensing",
        "portal.programme.visa": "visa",
    }
)
"""English text of every key the portal shows; ``{name}`` marks a value filled in."""

LANGUAGE_SEPARATORS: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {
        "en": (".", ","),
        "es": (",", "."),
        "tr": (",", "."),
        "fr": (",", "\u202f"),
        "de": (",", "."),
        "pt": (",", "."),
    }
)
"""Decimal mark and thousands separator by primary language, when a pack states none."""

_FORMATTER: Final = string.Formatter()


def placeholders(text: str) -> frozenset[str]:
    """Names of the ``{placeholders}`` in ``text``.

    Raises
    ------
    ValueError
        If the braces do not pair (``{country`` or a lone ``}``).
    """
    return frozenset(name for _, name, _, _ in _FORMATTER.parse(text) if name is not None)


def check_strings(strings: Mapping[str, object], *, source: str = "strings.toml") -> None:
    """Check a pack's portal texts: known keys only, each a string with known placeholders.

    Parameters
    ----------
    strings
        Flat keys (``portal.mining.heading``) to texts, as read from the pack.
    source
        Name of the file, written in errors (``el-salvador/strings.toml``).

    Raises
    ------
    InputError
        One line naming the file and the first key that is not a portal text, whose
        value is not a non-empty string, or whose ``{placeholder}`` the English text
        does not have (or whose braces do not pair).
    """
    for key in sorted(strings):
        field = f"{source}: {key}"
        if key not in DEFAULT_STRINGS:
            raise InputError(field, key, "a portal text key (see DEFAULT_STRINGS)")
        value = strings[key]
        if not isinstance(value, str) or not value.strip():
            raise InputError(field, value, "a non-empty string")
        allowed = placeholders(DEFAULT_STRINGS[key])
        try:
            used = placeholders(value)
        except ValueError:
            raise InputError(field, value, "text whose { and } pair") from None
        extra = sorted(used - allowed)
        if extra:
            names = ", ".join("{" + n + "}" for n in sorted(allowed)) or "none"
            raise InputError(field, value, f"only the placeholders {names}")


@dataclass(frozen=True, slots=True)
class Texts:
    """The portal's texts in one language, and its number format.

    Parameters
    ----------
    language
        BCP 47 tag of the texts (``es``), written in ``<html lang>``.
    overrides
        The pack's texts (checked with :func:`check_strings`); missing keys read the
        English default.
    """

    language: str = "en"
    overrides: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_strings(self.overrides)

    def __call__(self, key: str, **values: object) -> str:
        """Return the text of ``key`` with its placeholders filled in (plain, not escaped).

        Raises
        ------
        KeyError
            If ``key`` has no English default (a programming error).
        """
        text = self.overrides.get(key) or DEFAULT_STRINGS[key]
        return text.format_map({k: str(v) for k, v in values.items()}) if values else text

    @property
    def separators(self) -> tuple[str, str]:
        """Decimal mark and thousands separator."""
        base = LANGUAGE_SEPARATORS.get(self.language.split("-")[0].lower(), (".", ","))
        decimal = self.overrides.get("portal.number.decimal", base[0])
        group = self.overrides.get("portal.number.group", base[1])
        return decimal, group

    def num(self, value: float | Decimal | int | None, decimals: int = 0) -> str:
        """Format a number with the language's separators (``1.234,5`` in Spanish).

        Parameters
        ----------
        value
            The number; None, NaN or infinity give ``-``.
        decimals
            Digits after the decimal mark.

        Returns
        -------
        str
            The number, thousands grouped.
        """
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return "-"
        if isinstance(value, Decimal) and not value.is_finite():
            return "-"
        text = f"{value:,.{decimals}f}"
        decimal, group = self.separators
        return text.replace(",", "\0").replace(".", decimal).replace("\0", group)

    def percent(self, share: float | None, decimals: int = 1) -> str:
        """Format a share [pu] as a percentage (``74.0 %``; ``%74,0`` in Turkish)."""
        if share is None or not math.isfinite(share):
            return "-"
        return self("portal.percent", value=self.num(share * 100, decimals))

    def compact(self, value: float | Decimal | None) -> str:
        """Format a large amount with millions or billions in words (``7.33 bn``).

        Parameters
        ----------
        value
            The amount; below a million it is written in full.

        Returns
        -------
        str
            ``950``, ``2.50 m``, ``7.33 bn`` (units from ``portal.unit.*``).
        """
        if value is None:
            return "-"
        number = float(value)
        if not math.isfinite(number):
            return "-"
        size = abs(number)
        if size >= 1e9:
            return f"{self.num(number / 1e9, 2)} {self('portal.unit.billion')}"
        if size >= 1e6:
            return f"{self.num(number / 1e6, 2)} {self('portal.unit.million')}"
        return self.num(number, 0)

    def size(self, n_bytes: int) -> str:
        """Format a size in bytes for a link label (``about 5.2 MB``)."""
        if n_bytes >= 1_000_000:
            shown = f"{self.num(n_bytes / 1_000_000, 1)} MB"
        else:
            shown = f"{self.num(max(1, round(n_bytes / 1000)), 0)} kB"
        return self("portal.size", size=shown)
