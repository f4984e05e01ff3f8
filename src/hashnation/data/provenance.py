"""Provenance records of the bundled datasets.

The records live in ``provenance.toml`` next to this module: one ``[[dataset]]``
table per CSV file in ``data/files/``. Other top-level sections (for example
``[[derived]]`` entries describing methods that build data from these files) are
read generically with :func:`provenance_section`.
"""

from __future__ import annotations

import copy
import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType
from typing import Any

from hashnation.errors import DataError

__all__ = [
    "PROVENANCE_FILE",
    "PROVENANCE_KEYS",
    "DatasetProvenance",
    "load_provenance",
    "load_provenance_document",
    "provenance_for",
    "provenance_section",
]

PROVENANCE_FILE = "provenance.toml"
"""Name of the provenance file inside the ``hashnation.data`` package."""

PROVENANCE_KEYS: tuple[str, ...] = (
    "file",
    "title",
    "source",
    "licence",
    "retrieved",
    "columns",
    "range",
    "conversions",
    "notes",
)
"""Keys every ``[[dataset]]`` table must hold."""

_TEXT_KEYS = tuple(key for key in PROVENANCE_KEYS if key != "columns")


@dataclass(frozen=True)
class DatasetProvenance:
    """Where one bundled dataset comes from and what its columns mean.

    Parameters
    ----------
    file
        File name inside ``hashnation/data/files/``.
    title
        One-line description of the dataset.
    source
        ``owner/repo @ commit : path`` for repository copies, or the pages used.
    licence
        Licence stated by the source, or how to treat the data where none is stated.
    retrieved
        Date the copy was taken, ``YYYY-MM-DD`` (UTC).
    columns
        Column name to ``"unit; meaning"``, in file order.
    range
        What the file covers (dates, heights, models).
    conversions
        Every change made to the upstream data.
    notes
        Caveats for users of the data.
    """

    file: str
    title: str
    source: str
    licence: str
    retrieved: str
    columns: Mapping[str, str] = field(hash=False)
    range: str
    conversions: str
    notes: str

    def unit_of(self, column: str) -> str:
        """Return the unit part of a column description.

        Parameters
        ----------
        column
            Column name of the CSV file.

        Returns
        -------
        str
            Text before the first ``;`` of the description (``"EH/s"``).

        Raises
        ------
        DataError
            If the dataset has no such column.
        """
        return self._describe(column)[0]

    def meaning_of(self, column: str) -> str:
        """Return the meaning part of a column description.

        Parameters
        ----------
        column
            Column name of the CSV file.

        Returns
        -------
        str
            Text after the first ``;`` of the description.

        Raises
        ------
        DataError
            If the dataset has no such column.
        """
        return self._describe(column)[1]

    def _describe(self, column: str) -> tuple[str, str]:
        try:
            text = self.columns[column]
        except KeyError:
            raise DataError(
                f"{self.file}.columns", column, f"one of: {', '.join(self.columns)}"
            ) from None
        unit, _, meaning = text.partition(";")
        return unit.strip(), meaning.strip()


@functools.cache
def _document() -> Mapping[str, Any]:
    text = resources.files(__package__ or "hashnation.data").joinpath(PROVENANCE_FILE)
    try:
        parsed = tomllib.loads(text.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise DataError(PROVENANCE_FILE, str(exc), "valid TOML") from exc
    return MappingProxyType(parsed)


def load_provenance_document() -> dict[str, Any]:
    """Return the whole provenance file, parsed.

    Returns
    -------
    dict[str, Any]
        Top-level keys of ``provenance.toml`` (``"dataset"`` and any other
        section) mapped to their parsed TOML values. A fresh copy on each call.
    """
    return copy.deepcopy(dict(_document()))


def provenance_section(name: str, *, missing_ok: bool = False) -> list[dict[str, Any]]:
    """Return the tables of one top-level section of ``provenance.toml``.

    Parameters
    ----------
    name
        Section name, e.g. ``"dataset"`` or ``"derived"``.
    missing_ok
        Return an empty list instead of raising when the section is absent.

    Returns
    -------
    list[dict[str, Any]]
        The section's tables: every ``[[name]]`` entry, or the single ``[name]``
        table wrapped in a list.

    Raises
    ------
    DataError
        If the section is absent (and ``missing_ok`` is false), or is neither a
        table nor an array of tables.
    """
    document = _document()
    if name not in document:
        if missing_ok:
            return []
        raise DataError(
            f"{PROVENANCE_FILE} section", name, f"one of: {', '.join(sorted(document))}"
        )
    value = document[name]
    tables = [value] if isinstance(value, dict) else value
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise DataError(f"{PROVENANCE_FILE}.{name}", value, "a table or an array of tables")
    return [copy.deepcopy(table) for table in tables]


@functools.cache
def _records() -> tuple[DatasetProvenance, ...]:
    records: list[DatasetProvenance] = []
    seen: set[str] = set()
    for i, table in enumerate(provenance_section("dataset")):
        where = f"{PROVENANCE_FILE} dataset[{i}]"
        for key in _TEXT_KEYS:
            value = table.get(key)
            if not isinstance(value, str) or not value.strip():
                raise DataError(f"{where}.{key}", value, "a non-empty string")
        columns = table.get("columns")
        if not isinstance(columns, dict) or not columns:
            raise DataError(f"{where}.columns", columns, 'a table of column = "unit; meaning"')
        for column, text in columns.items():
            if not isinstance(text, str) or ";" not in text:
                raise DataError(f"{where}.columns.{column}", text, 'a string "unit; meaning"')
        file = table["file"]
        if file in seen:
            raise DataError(f"{where}.file", file, "a file not listed before")
        seen.add(file)
        records.append(
            DatasetProvenance(
                file=file,
                title=table["title"],
                source=table["source"],
                licence=table["licence"],
                retrieved=table["retrieved"],
                columns=MappingProxyType(dict(columns)),
                range=table["range"],
                conversions=table["conversions"],
                notes=table["notes"],
            )
        )
    return tuple(records)


def load_provenance() -> list[DatasetProvenance]:
    """Return the provenance record of every bundled dataset.

    Returns
    -------
    list[DatasetProvenance]
        One record per ``[[dataset]]`` table, in file order.

    Raises
    ------
    DataError
        If a table lacks a key, has an empty value, or repeats a file.
    """
    return list(_records())


def provenance_for(file: str) -> DatasetProvenance:
    """Return the provenance record of one bundled dataset.

    Parameters
    ----------
    file
        File name inside ``hashnation/data/files/`` (``"asic_catalogue.csv"``).

    Returns
    -------
    DatasetProvenance
        The matching record.

    Raises
    ------
    DataError
        If no record names that file.
    """
    for record in _records():
        if record.file == file:
            return record
    known = ", ".join(record.file for record in _records())
    raise DataError("provenance.file", file, f"one of: {known}")
