"""What each pillar's orchestrating object needs of the database: engine, clock, transactions.

:class:`~hashnation.registry.service.Registry`,
:class:`~hashnation.visa.service.VisaProgramme` and
:class:`~hashnation.records.service.RecordsRegistry` each keep one engine (made from a
URL, or borrowed), read in short sessions, write each operation in one transaction,
and stamp what they store with a clock that tests can set. :class:`StoreService`
holds that plumbing once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Self, TypeVar

from sqlalchemy import Engine
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker

from hashnation.errors import InputError
from hashnation.store.db import make_engine

__all__ = ["StoreService"]

T = TypeVar("T")


class StoreService:
    """One engine, a clock and transactions, for a pillar's orchestrating object.

    Parameters
    ----------
    bind
        An engine (left open by :meth:`close`), or a database URL for an engine made
        here and disposed of by :meth:`close`; the default SQLite file when None. The
        schema must exist (:func:`hashnation.store.db.upgrade`).
    clock
        Returns the current time (timezone-aware); ``datetime.now(UTC)`` by default.
    """

    def __init__(
        self,
        bind: Engine | str | URL | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._owns_engine = not isinstance(bind, Engine)
        self._engine: Engine = bind if isinstance(bind, Engine) else make_engine(bind)
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        self._clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))

    @property
    def engine(self) -> Engine:
        """The engine every transaction runs on."""
        return self._engine

    def close(self) -> None:
        """Dispose of the engine if it was made here (from a URL)."""
        if self._owns_engine:
            self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def now(self) -> datetime:
        """Read the clock: the current time, timezone-aware UTC.

        Raises
        ------
        InputError
            If the clock returned a naive time.
        """
        moment = self._clock()
        if not isinstance(moment, datetime) or moment.utcoffset() is None:
            raise InputError("clock", moment, "a timezone-aware datetime")
        return moment.astimezone(UTC)

    @contextmanager
    def _read(self) -> Iterator[Session]:
        """Yield a session for reading; its transaction is rolled back at the end."""
        session = self._sessions()
        try:
            yield session
        finally:
            session.close()

    def _transaction(
        self,
        work: Callable[[Session], T],
        *,
        first: Callable[[Session], None] | None = None,
        retry_if: Callable[[BaseException], bool] | None = None,
        attempts: int = 1,
    ) -> T:
        """Run ``work`` in one transaction: commit if it returns, roll back if it raises.

        Parameters
        ----------
        work
            The operation; it gets the session and returns the result.
        first
            Run at the start of the transaction (take a lock).
        retry_if
            Tells an error worth running the whole transaction again for (a lost race).
        attempts
            Runs at most.

        Returns
        -------
        T
            What ``work`` returned.
        """
        for attempt in range(attempts):
            session = self._sessions()
            try:
                if first is not None:
                    first(session)
                result = work(session)
                session.commit()
                return result
            except BaseException as exc:
                session.rollback()
                if attempt + 1 < attempts and retry_if is not None and retry_if(exc):
                    continue
                raise
            finally:
                session.close()
        raise AssertionError("unreachable")  # pragma: no cover
