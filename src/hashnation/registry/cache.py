"""A small cache for public reads, valid for one version of the public register.

The register is read far more often than it changes. Every change that can alter
what the public sees bumps ``registry_state.public_version`` in its own
transaction (:class:`hashnation.registry.service.Registry` does it when it writes
the audit entry), so a reader that first reads the version and then the data may
keep the data under that version: a copy is used only while the version it was
stored under is still the current one. Readers in other processes bump and read
the same row, so no process serves a register older than the last committed
change.

Values must be immutable (tuples, frozen dataclasses) or copied by the caller.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Final

__all__ = ["VersionedCache"]

_MISSING: Final = object()


class VersionedCache:
    """Least-recently-used cache whose entries belong to one data version.

    Parameters
    ----------
    max_entries
        Entries kept at most; the least recently used go first.
    """

    def __init__(self, max_entries: int = 4096) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be >= 1")
        self._max = max_entries
        self._entries: OrderedDict[Hashable, tuple[int, object]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        """Lookups answered from the cache [count]."""
        self.misses = 0
        """Lookups that were not [count]."""

    def get(self, version: int, key: Hashable) -> object:
        """Return the value stored for ``key`` at ``version``, or :data:`MISSING`.

        Parameters
        ----------
        version
            The current data version.
        key
            What was asked (method name and arguments).

        Returns
        -------
        object
            The value, or the module's sentinel (compare with :meth:`missing`).
        """
        with self._lock:
            found = self._entries.get(key)
            if found is None or found[0] != version:
                self.misses += 1
                return _MISSING
            self._entries.move_to_end(key)
            self.hits += 1
            return found[1]

    def put(self, version: int, key: Hashable, value: object) -> None:
        """Store ``value`` for ``key`` at ``version``.

        Parameters
        ----------
        version
            The data version read *before* the value was read.
        key
            What was asked.
        value
            The answer.
        """
        with self._lock:
            self._entries[key] = (version, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    @staticmethod
    def missing(value: object) -> bool:
        """Tell whether :meth:`get` found nothing usable."""
        return value is _MISSING
