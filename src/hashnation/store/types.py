"""Column types that behave the same on SQLite and PostgreSQL.

* :class:`UTCDateTime` stores timezone-aware UTC times: naive values are refused
  on the way in, and values come back aware in UTC from both back ends (SQLite
  keeps no zone, PostgreSQL answers in the session's zone).
* :class:`Money` is ``NUMERIC(20, 2)``: US dollars as :class:`~decimal.Decimal`
  to the cent. PostgreSQL keeps it exact. SQLite stores a float; values up to
  1e13 USD (15 significant digits) come back exactly, rounded to the cent.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Dialect, Numeric
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = ["CENT", "Money", "UTCDateTime"]

CENT = Decimal("0.01")
"""Smallest amount of money stored, USD."""


class UTCDateTime(TypeDecorator[datetime]):
    """``TIMESTAMP WITH TIME ZONE`` that only accepts and returns aware UTC times."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert an aware time to UTC; refuse naive times."""
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"expected a timezone-aware datetime, got {value!r}")
        utc = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return utc.replace(tzinfo=None)
        return utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return the stored time as an aware UTC time."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Money(TypeDecorator[Decimal]):
    """``NUMERIC(20, 2)`` holding US dollars as :class:`~decimal.Decimal`."""

    impl = Numeric(20, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """Use floats on SQLite (converted back to exact cents on reading)."""
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Numeric(20, 2, asdecimal=False))
        return dialect.type_descriptor(Numeric(20, 2))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        """Pass a Decimal rounded to the cent (a float on SQLite)."""
        if value is None:
            return None
        cents = Decimal(value).quantize(CENT)
        if dialect.name == "sqlite":
            return float(cents)
        return cents

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        """Return a Decimal with two decimal places."""
        if value is None:
            return None
        if isinstance(value, float):
            return Decimal(repr(value)).quantize(CENT)
        return Decimal(value).quantize(CENT)
