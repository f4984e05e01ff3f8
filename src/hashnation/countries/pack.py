"""Country packs: everything one country's programme needs, as data in one folder.

A pack is a folder holding ``country.toml`` and the files it names::

    countries/pakistan/
        country.toml     name, ISO code, language, time zone, currency, regulator,
                         reserve and visa terms
        strings.toml     the public portal's texts in the country's language
        mining.toml      the country's mining scenario (a scenario file)
        reserve.json     the reserve's watch-only descriptors (a reserve file)

``hashnation --country NAME`` selects a pack by name (a folder of the bundled packs or
of a folder listed in ``$HASHNATION_COUNTRY_PATH``) or by path; nothing in the code
names a country, so adding one is writing a folder. :func:`load_pack` checks every
value and the files it names, and refuses a bad one with a one-line
:class:`~hashnation.errors.InputError` naming the file and the field.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hashnation.errors import InputError
from hashnation.registry.licences import LICENCE_SPECS, LicenceSpec, LicenceType

__all__ = [
    "COUNTRY_PATH_ENV",
    "DEFAULT_COUNTRY",
    "PACK_FILE",
    "CountryPack",
    "Currency",
    "VisaTerms",
    "available_packs",
    "bundled_packs_dir",
    "load_pack",
    "pack_folders",
    "pack_kind",
]

DEFAULT_COUNTRY: Final = "pakistan"
"""The pack used when no ``--country`` is given."""

COUNTRY_PATH_ENV: Final = "HASHNATION_COUNTRY_PATH"
"""Environment variable: folders (separated by ``os.pathsep``) searched for packs first."""

PACK_FILE: Final = "country.toml"
"""The file that makes a folder a country pack."""

_SLUG_RE: Final = re.compile(r"[a-z][a-z0-9-]{1,39}")
_LANG_RE: Final = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")
_SECTIONS: Final = frozenset({"country", "currency", "mining", "regulator", "reserve", "visa"})
_OVERRIDABLE: Final = frozenset(
    {"title", "code", "min_capital_usd", "return_frequency", "filing_days", "extra_documents"}
)


@dataclass(frozen=True, slots=True)
class Currency:
    """The country's currency and the rate the pack states for it.

    Parameters
    ----------
    code
        ISO 4217 code (``PKR``).
    symbol
        Symbol shown before amounts (``Rs``).
    per_usd
        Units of the currency per US dollar [currency/USD], as stated by the pack.
    source
        Where the rate comes from, and its date.
    """

    code: str
    symbol: str
    per_usd: Decimal
    source: str

    def from_usd(self, amount_usd: Decimal | float) -> Decimal:
        """Convert a USD amount at the stated rate [currency units]."""
        return Decimal(str(amount_usd)) * self.per_usd


@dataclass(frozen=True, slots=True)
class VisaTerms:
    """The investor-residency visa programme's terms, as the pack states them.

    ``hashnation visa configure`` takes its defaults from these; see
    :class:`hashnation.visa.rules.VisaRules` for their meaning.

    Parameters
    ----------
    name
        The programme's name.
    amount_usd
        Fee per visa [USD], paid in bitcoin at the stated price.
    price_usd_per_btc
        Price used to convert the fee [USD/BTC] until the programme states another.
    invoice_validity_hours
        How long an invoice may be paid [h].
    confirmations_required
        Confirmations a payment needs [blocks].
    yearly_quota
        Visas granted per calendar year.
    tolerance_sat
        Shortfall accepted / excess kept [sat].
    descriptor
        Watch-only descriptor (``/<0;1>/*``) whose addresses receive the fees, or
        ``None`` when the programme sets it later.
    source
        Where the terms come from.
    """

    name: str
    amount_usd: Decimal
    price_usd_per_btc: Decimal
    invoice_validity_hours: int
    confirmations_required: int
    yearly_quota: int
    tolerance_sat: int
    descriptor: str | None
    source: str


@dataclass(frozen=True, slots=True)
class CountryPack:
    """One country's configuration, read from its pack folder.

    Parameters
    ----------
    slug
        The pack's name (its folder's name: ``el-salvador``).
    name
        The country's name in English (``El Salvador``).
    iso2
        ISO 3166-1 alpha-2 code (``SV``).
    language
        BCP 47 language tag of the portal's texts (``es``).
    timezone
        IANA time zone (``America/El_Salvador``).
    currency
        The currency and its stated rate.
    strings
        The portal's texts from ``strings.toml``, flat keys (``portal.title``).
    scenario_file
        The mining scenario file, or ``None`` when the pack has none.
    authority
        The virtual-asset regulator's name.
    licence_prefix
        Prefix of licence numbers (``PVARA`` gives ``PVARA-EXC-0001``).
    licences
        The licence types this regulator grants, with the pack's rules.
    reserve_name
        Name of the strategic reserve.
    reserve_file
        The reserve's watch-only descriptors (a reserve JSON file), or ``None``.
    visa
        The visa programme's terms, or ``None`` when the country runs none.
    path
        The pack folder.
    """

    slug: str
    name: str
    iso2: str
    language: str
    timezone: str
    currency: Currency
    strings: Mapping[str, str]
    scenario_file: Path | None
    authority: str
    licence_prefix: str
    licences: Mapping[LicenceType, LicenceSpec]
    reserve_name: str
    reserve_file: Path | None
    visa: VisaTerms | None
    path: Path

    def text(self, key: str, default: str) -> str:
        """Return the pack's text for ``key``, or ``default`` when it has none."""
        return self.strings.get(key, default)


def bundled_packs_dir() -> Path:
    """Return the folder of the packs shipped with HashNation."""
    return Path(str(resources.files("hashnation.countries")))


def pack_folders() -> list[Path]:
    """Folders searched for packs by name: ``$HASHNATION_COUNTRY_PATH`` first, then bundled."""
    extra = os.environ.get(COUNTRY_PATH_ENV, "")
    found = [Path(p) for p in extra.split(os.pathsep) if p.strip()]
    return [*found, bundled_packs_dir()]


def _iter_pack_dirs() -> Iterator[Path]:
    seen: set[str] = set()
    for folder in pack_folders():
        if not folder.is_dir():
            continue
        for child in sorted(folder.iterdir()):
            if (child / PACK_FILE).is_file() and child.name not in seen:
                seen.add(child.name)
                yield child


def available_packs() -> list[CountryPack]:
    """Every pack found by name, in name order (a name found twice: the first folder wins).

    Returns
    -------
    list of CountryPack
        The packs, each loaded and checked.
    """
    return sorted((load_pack(d) for d in _iter_pack_dirs()), key=lambda p: p.slug)


def _find(name: str) -> Path:
    candidate = Path(name).expanduser()
    if (candidate / PACK_FILE).is_file():
        return candidate
    if _SLUG_RE.fullmatch(name):
        for folder in pack_folders():
            if (folder / name / PACK_FILE).is_file():
                return folder / name
    names = sorted(d.name for d in _iter_pack_dirs())
    raise InputError(
        "country", name, "a country pack name (" + ", ".join(names) + ") or a pack folder"
    )


class _Reader:
    """Typed access to one pack file's tables, naming ``file: section.key`` in errors."""

    def __init__(self, path: Path, doc: Mapping[str, Any]) -> None:
        self.path = path
        self.doc = doc

    def field(self, dotted: str) -> str:
        return f"{self.path.name}: {dotted}"

    def table(self, name: str, *, required: bool = True) -> Mapping[str, Any] | None:
        value = self.doc.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, Mapping):
            raise InputError(self.field(f"[{name}]"), value, "a table")
        return value

    def text(self, table: Mapping[str, Any], section: str, key: str, **opt: Any) -> str:
        value = table.get(key, opt.get("default"))
        limit = int(opt.get("limit", 200))
        if not isinstance(value, str) or not value.strip() or len(value) > limit:
            raise InputError(
                self.field(f"{section}.{key}"), value, f"a non-empty string of <= {limit} chars"
            )
        return value.strip()

    def decimal(self, table: Mapping[str, Any], section: str, key: str) -> Decimal:
        value = table.get(key)
        try:
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise InvalidOperation
            number = Decimal(str(value))
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite() or number <= 0:
            raise InputError(self.field(f"{section}.{key}"), value, "a number > 0")
        return number

    def integer(
        self, table: Mapping[str, Any], section: str, key: str, low: int, default: int | None
    ) -> int:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise InputError(self.field(f"{section}.{key}"), value, f"an integer >= {low}")
        return value

    def file(self, table: Mapping[str, Any], section: str, key: str) -> Path | None:
        value = table.get(key)
        if value is None:
            return None
        shown = self.field(f"{section}.{key}")
        if not isinstance(value, str) or not value or Path(value).is_absolute() or ".." in value:
            raise InputError(shown, value, "a file name inside the pack folder")
        path = self.path.parent / value
        if not path.is_file():
            raise InputError(shown, value, f"an existing file in {self.path.parent.name}/")
        return path


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path.name, str(path), f"a readable UTF-8 file ({exc})") from None
    except ValueError as exc:  # TOMLDecodeError, or an integer too long to convert
        raise InputError(path.name, str(path), f"valid TOML ({exc})") from None
    except RecursionError:
        raise InputError(path.name, str(path), "valid TOML nested less deeply") from None


def _flatten(prefix: str, table: Mapping[str, Any], out: dict[str, str], path: Path) -> None:
    for key, value in table.items():
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            _flatten(dotted, value, out, path)
        elif isinstance(value, str):
            out[dotted] = value
        else:
            raise InputError(f"{path.name}: {dotted}", value, "a string")


def _strings(folder: Path) -> Mapping[str, str]:
    path = folder / "strings.toml"
    if not path.is_file():
        return MappingProxyType({})
    flat: dict[str, str] = {}
    _flatten("", _read_toml(path), flat, path)
    from hashnation.web.portal_text import check_strings

    check_strings(flat, source=f"{folder.name}/strings.toml")
    return MappingProxyType(flat)


def _currency(r: _Reader) -> Currency:
    t = r.table("currency")
    assert t is not None
    code = r.text(t, "currency", "code")
    if re.fullmatch(r"[A-Z]{3}", code) is None:
        raise InputError(r.field("currency.code"), code, "an ISO 4217 code (PKR)")
    return Currency(
        code=code,
        symbol=r.text(t, "currency", "symbol", limit=8),
        per_usd=r.decimal(t, "currency", "per_usd"),
        source=r.text(t, "currency", "source", limit=500),
    )


def _licence(r: _Reader, kind: LicenceType, rules: Mapping[str, Any]) -> LicenceSpec:
    section = f"regulator.licences.{kind.value}"
    unknown = sorted(set(rules) - _OVERRIDABLE)
    if unknown:
        raise InputError(
            r.field(f"{section}.{unknown[0]}"),
            unknown[0],
            "one of " + ", ".join(sorted(_OVERRIDABLE)),
        )
    base = LICENCE_SPECS[kind]
    changes: dict[str, Any] = {}
    if "title" in rules:
        changes["title"] = r.text(rules, section, "title")
    if "code" in rules:
        code = r.text(rules, section, "code")
        if re.fullmatch(r"[A-Z]{3}", code) is None:
            raise InputError(r.field(f"{section}.code"), code, "three capital letters (EXC)")
        changes["code"] = code
    if "min_capital_usd" in rules:
        changes["min_capital_usd"] = r.decimal(rules, section, "min_capital_usd")
    if "return_frequency" in rules:
        freq = rules["return_frequency"]
        if freq not in ("monthly", "quarterly"):
            raise InputError(r.field(f"{section}.return_frequency"), freq, "monthly or quarterly")
        changes["return_frequency"] = freq
    if "filing_days" in rules:
        changes["filing_days"] = r.integer(rules, section, "filing_days", 1, None)
    extra = rules.get("extra_documents", [])
    if not isinstance(extra, list) or not all(
        isinstance(d, str) and re.fullmatch(r"[a-z][a-z0-9_]{1,60}", d) for d in extra
    ):
        raise InputError(
            r.field(f"{section}.extra_documents"), extra, "a list of snake_case document names"
        )
    if extra:
        documents = tuple(dict.fromkeys((*base.required_documents, *extra)))
        changes["required_documents"] = documents
    return replace(base, **changes)


def _regulator(r: _Reader) -> tuple[str, str, Mapping[LicenceType, LicenceSpec]]:
    t = r.table("regulator")
    assert t is not None
    authority = r.text(t, "regulator", "authority")
    prefix = r.text(t, "regulator", "licence_prefix", limit=12)
    if not (prefix.isascii() and prefix.isalnum()):
        raise InputError(r.field("regulator.licence_prefix"), prefix, "ASCII letters and digits")
    offered = t.get("offered", [k.value for k in LicenceType])
    choices = "a non-empty list of: " + ", ".join(k.value for k in LicenceType)
    if not isinstance(offered, list) or not offered:
        raise InputError(r.field("regulator.offered"), offered, choices)
    kinds: list[LicenceType] = []
    for item in offered:
        try:
            kinds.append(LicenceType(item))
        except ValueError:
            raise InputError(r.field("regulator.offered"), item, choices) from None
    rules = t.get("licences", {})
    if not isinstance(rules, Mapping):
        raise InputError(r.field("regulator.licences"), rules, "a table of licence types")
    for name in rules:
        if name not in offered:
            raise InputError(
                r.field(f"regulator.licences.{name}"), name, "a licence type listed in offered"
            )
    specs = {k: _licence(r, k, rules.get(k.value, {})) for k in kinds}
    codes = [s.code for s in specs.values()]
    if len(set(codes)) != len(codes):
        raise InputError(r.field("regulator.licences"), codes, "a distinct code per licence type")
    return authority, prefix, MappingProxyType(specs)


def _visa(r: _Reader) -> VisaTerms | None:
    t = r.table("visa", required=False)
    if t is None or t.get("enabled", True) is False:
        return None
    descriptor = t.get("descriptor")
    if descriptor is not None and (not isinstance(descriptor, str) or not descriptor.strip()):
        raise InputError(r.field("visa.descriptor"), descriptor, "a watch-only descriptor")
    return VisaTerms(
        name=r.text(t, "visa", "name"),
        amount_usd=r.decimal(t, "visa", "amount_usd"),
        price_usd_per_btc=r.decimal(t, "visa", "price_usd_per_btc"),
        invoice_validity_hours=r.integer(t, "visa", "invoice_validity_hours", 1, 72),
        confirmations_required=r.integer(t, "visa", "confirmations_required", 1, 3),
        yearly_quota=r.integer(t, "visa", "yearly_quota", 1, None),
        tolerance_sat=r.integer(t, "visa", "tolerance_sat", 0, 0),
        descriptor=descriptor.strip() if isinstance(descriptor, str) else None,
        source=r.text(t, "visa", "source", limit=500),
    )


def _check_files(pack: CountryPack) -> None:
    """Parse the files a pack names, so that a broken pack fails when it is selected."""
    if pack.scenario_file is not None:
        from hashnation.mining.scenario import load_scenario

        load_scenario(pack.scenario_file)
    if pack.reserve_file is not None:
        import json

        from hashnation.reserve.descriptors import ReserveDescriptors

        try:
            data = json.loads(pack.reserve_file.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError) as exc:
            raise InputError(
                f"{pack.slug}: reserve.descriptors",
                pack.reserve_file.name,
                f"a JSON reserve file ({exc})",
            ) from None
        ReserveDescriptors.from_dict(data)


def load_pack(name: str | Path = DEFAULT_COUNTRY, *, check_files: bool = True) -> CountryPack:
    """Load and check a country pack.

    Parameters
    ----------
    name
        A pack name (``el-salvador``: looked up in ``$HASHNATION_COUNTRY_PATH``, then
        among the bundled packs) or the path of a pack folder.
    check_files
        Also parse the scenario and reserve files the pack names.

    Returns
    -------
    CountryPack
        The pack.

    Raises
    ------
    InputError
        If no pack has that name, or a value in the pack is wrong (the message names
        the file and the field).
    """
    folder = _find(str(name))
    path = folder / PACK_FILE
    doc = _read_toml(path)
    r = _Reader(path, doc)
    unknown = sorted(set(doc) - _SECTIONS)
    if unknown:
        raise InputError(
            r.field(f"[{unknown[0]}]"), unknown[0], "one of " + ", ".join(sorted(_SECTIONS))
        )
    c = r.table("country")
    assert c is not None
    slug = folder.resolve().name
    if _SLUG_RE.fullmatch(slug) is None:
        raise InputError("country", slug, "a pack folder named in lower case letters, digits, '-'")
    iso2 = r.text(c, "country", "iso2", limit=2)
    if re.fullmatch(r"[A-Z]{2}", iso2) is None:
        raise InputError(r.field("country.iso2"), iso2, "an ISO 3166-1 alpha-2 code (PK)")
    language = r.text(c, "country", "language", limit=20)
    if _LANG_RE.fullmatch(language) is None:
        raise InputError(r.field("country.language"), language, "a BCP 47 language tag (en, es)")
    timezone = r.text(c, "country", "timezone", limit=60)
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(r.field("country.timezone"), timezone, "an IANA time zone") from None
    mining = r.table("mining", required=False) or {}
    reserve = r.table("reserve")
    assert reserve is not None
    authority, prefix, licences = _regulator(r)
    pack = CountryPack(
        slug=slug,
        name=r.text(c, "country", "name"),
        iso2=iso2,
        language=language,
        timezone=timezone,
        currency=_currency(r),
        strings=_strings(folder),
        scenario_file=r.file(mining, "mining", "scenario"),
        authority=authority,
        licence_prefix=prefix,
        licences=licences,
        reserve_name=r.text(reserve, "reserve", "name"),
        reserve_file=r.file(reserve, "reserve", "descriptors"),
        visa=_visa(r),
        path=folder,
    )
    if check_files:
        _check_files(pack)
    return pack


def pack_kind(pack: CountryPack) -> Literal["bundled", "extra"]:
    """Whether a pack is one of the bundled packs or comes from another folder."""
    return "bundled" if pack.path.parent.resolve() == bundled_packs_dir().resolve() else "extra"
