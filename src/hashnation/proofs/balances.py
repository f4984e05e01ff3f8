"""Customer balances: the input of a liabilities tree, checked before anything is built.

A balances file is CSV with a header naming three columns, in any order::

    customer_id,asset,amount
    alice,BTC,150000000
    alice,USDT,2500000000
    bob,BTC,0

* ``customer_id``: 1 to 128 ASCII letters, digits and ``. _ @ + -``, not
  starting with a symbol; case-sensitive, but two ids differing only by case
  are refused (each customer's proof file is named by the id);
* ``asset``: a registered asset code (:data:`~hashnation.proofs.assets.ASSETS`);
* ``amount``: a non-negative integer of the asset's smallest unit (satoshi for
  BTC), written as digits only, at most ``2**63 - 1``.

One row per customer and asset. Each asset's total must stay at most
``2**63 - 1``. Any fault is refused with one line naming the row (the line
number in the file, the header being line 1) and the column.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from hashnation.proofs.assets import ASSETS
from hashnation.proofs.documents import CUSTOMER_ID_PATTERN
from hashnation.proofs.errors import ProofInputError
from hashnation.proofs.hashing import MAX_AMOUNT

__all__ = ["BALANCE_COLUMNS", "Balances", "parse_balances_csv", "read_balances_csv"]

BALANCE_COLUMNS = ("customer_id", "asset", "amount")
"""Columns of a balances file."""

_ID = re.compile(CUSTOMER_ID_PATTERN.removeprefix("^").removesuffix("$"))
_ALNUM = np.zeros(256, dtype=bool)
for _char in b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789":
    _ALNUM[_char] = True
_ID_BYTE = _ALNUM.copy()
for _char in b"._@+-":
    _ID_BYTE[_char] = True


def _all_ids_valid(ids: Sequence[object]) -> bool:
    """Check many ids against :data:`CUSTOMER_ID_PATTERN` at once, with numpy."""
    try:
        raw = "\n".join(ids).encode("ascii")  # type: ignore[arg-type]
    except (TypeError, UnicodeEncodeError):  # not all strings, or not all ASCII
        return False
    chars = np.frombuffer(raw, dtype=np.uint8)
    newlines = np.flatnonzero(chars == ord("\n"))
    if len(newlines) != len(ids) - 1:
        return False
    starts = np.concatenate([[0], newlines + 1])
    lengths = np.concatenate([newlines, [len(chars)]]) - starts
    return bool(
        (lengths >= 1).all()
        and (lengths <= 128).all()
        and _ALNUM[chars[starts[lengths >= 1]]].all()
        and _ID_BYTE[chars[chars != ord("\n")]].all()
    )


_AMOUNT_EXPECTED = "a whole number >= 0 of the asset's smallest unit (sat for BTC), digits only"


def _exact_total(amounts: npt.NDArray[np.uint64]) -> int:
    """Sum of ``uint64`` amounts without wrapping (halves summed apart)."""
    high = int(np.sum(amounts >> np.uint64(32), dtype=np.uint64))
    low = int(np.sum(amounts & np.uint64(0xFFFFFFFF), dtype=np.uint64))
    return (high << 32) + low


@dataclass(frozen=True, slots=True)
class Balances:
    """Validated balances: customers and, per asset, who holds how much.

    Parameters
    ----------
    customer_ids
        Every customer, each once.
    holdings
        Per asset code: the index in ``customer_ids`` of each holder (``int64``)
        and the amount held (``uint64``) [smallest unit of the asset]. A
        customer appears at most once per asset.
    totals
        Per asset: the sum of its amounts [smallest unit], at most ``2**63 - 1``.
    """

    customer_ids: Sequence[str]
    holdings: dict[str, tuple[npt.NDArray[np.int64], npt.NDArray[np.uint64]]]
    totals: dict[str, int]

    @classmethod
    def from_rows(
        cls,
        rows: Iterable[tuple[str, str, int]],
        where: str = "balances",
        lines: Sequence[int] | None = None,
    ) -> Balances:
        """Check ``(customer_id, asset, amount)`` rows and gather them.

        Parameters
        ----------
        rows
            One row per customer and asset; amount [smallest unit].
        where
            Name of the source, for messages.
        lines
            Line number of each row in its file, for messages; by default rows
            are numbered from 2, as lines of a file with a one-line header.

        Returns
        -------
        Balances
            The balances.

        Raises
        ------
        ProofInputError
            On a malformed id, an unknown asset, an amount that is not an int in
            range, a repeated customer and asset, or a total over ``2**63 - 1``.
        """
        index: dict[str, int] = {}
        folded: dict[str, str] = {}
        ids: list[str] = []
        seen: dict[tuple[int, str], int] = {}
        per_asset: dict[str, tuple[list[int], list[int]]] = {}
        totals: dict[str, int] = {}
        for number_in_input, (customer_id, asset, amount) in enumerate(rows):
            line = number_in_input + 2 if lines is None else lines[number_in_input]
            at = f"{where} row {line}"
            if not isinstance(customer_id, str) or not _ID.fullmatch(customer_id):
                raise ProofInputError(
                    f"{at} customer_id",
                    customer_id,
                    "1 to 128 ASCII letters, digits and . _ @ + -, not starting with a symbol",
                )
            if asset not in ASSETS:
                raise ProofInputError(f"{at} asset", asset, f"one of {', '.join(sorted(ASSETS))}")
            if isinstance(amount, bool) or not isinstance(amount, int):
                raise ProofInputError(f"{at} amount", amount, _AMOUNT_EXPECTED)
            if not 0 <= amount <= MAX_AMOUNT:
                raise ProofInputError(
                    f"{at} amount", amount, f"an amount in [0, 2**63 - 1] ({MAX_AMOUNT})"
                )
            number: int | None = index.get(customer_id)
            if number is None:
                other = folded.get(customer_id.lower())
                if other is not None:
                    raise ProofInputError(
                        f"{at} customer_id",
                        customer_id,
                        f"an id not differing from {other!r} only by case "
                        "(proof files are named by id)",
                    )
                number = index[customer_id] = len(ids)
                folded[customer_id.lower()] = customer_id
                ids.append(customer_id)
            first = seen.setdefault((number, asset), line)
            if first != line:
                raise ProofInputError(
                    f"{at} customer_id",
                    customer_id,
                    f"one row per customer and asset ({asset} already given in row {first})",
                )
            holders, amounts = per_asset.setdefault(asset, ([], []))
            holders.append(number)
            amounts.append(amount)
            totals[asset] = totals.get(asset, 0) + amount
            if totals[asset] > MAX_AMOUNT:
                raise ProofInputError(
                    f"{at} amount",
                    amount,
                    f"a {asset} total at most 2**63 - 1 ({MAX_AMOUNT}); the total passes it here",
                )
        if not ids:
            raise ProofInputError(where, "no rows", "at least one balance")
        holdings = {
            asset: (np.asarray(h, dtype=np.int64), np.asarray(a, dtype=np.uint64))
            for asset, (h, a) in sorted(per_asset.items())
        }
        return cls(tuple(ids), holdings, dict(sorted(totals.items())))

    @classmethod
    def single_asset(
        cls, customer_ids: Sequence[str], asset: str, amounts: npt.ArrayLike
    ) -> Balances:
        """Balances of one asset, one amount per customer, checked with numpy.

        The fast path for large books (the benchmark's ten million accounts):
        amounts are checked as an array; ids are checked for form and
        uniqueness.

        Parameters
        ----------
        customer_ids
            Customers, each once.
        asset
            Asset code.
        amounts
            Amount of each customer [smallest unit of the asset].

        Returns
        -------
        Balances
            The balances.

        Raises
        ------
        ProofInputError
            As :meth:`from_rows`.
        """
        if asset not in ASSETS:
            raise ProofInputError("asset", asset, f"one of {', '.join(sorted(ASSETS))}")
        values = np.asarray(amounts)
        if values.ndim != 1 or len(values) != len(customer_ids) or not len(values):
            raise ProofInputError(
                "amounts", values.shape, f"one amount per customer ({len(customer_ids)})"
            )
        if values.dtype.kind not in "iu":
            raise ProofInputError("amounts", str(values.dtype), "an integer array")
        if values.dtype.kind == "i" and (values < 0).any():
            raise ProofInputError("amounts", int(values.min()), "amounts >= 0")
        as_u64 = values.astype(np.uint64)
        if (as_u64 > np.uint64(MAX_AMOUNT)).any():
            raise ProofInputError("amounts", int(as_u64.max()), "amounts at most 2**63 - 1")
        total = _exact_total(as_u64)
        if total > MAX_AMOUNT:
            raise ProofInputError(f"{asset} total", total, "at most 2**63 - 1")
        ids = tuple(customer_ids)
        if not _all_ids_valid(ids):  # the slow loop only to name the bad one
            bad = next((c for c in ids if not isinstance(c, str) or not _ID.fullmatch(c)), None)
            raise ProofInputError("customer_id", bad, "1 to 128 ASCII letters, digits and ._@+-")
        if len(set("\n".join(ids).lower().split("\n"))) != len(ids):
            raise ProofInputError("customer_ids", "repeated id", "each customer once")
        holders = np.arange(len(ids), dtype=np.int64)
        return cls(ids, {asset: (holders, as_u64)}, {asset: total})


def _amount_cell(text: str, at: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise ProofInputError(f"{at} amount", text, _AMOUNT_EXPECTED)
    return int(text)


def parse_balances_csv(text: str, where: str = "balances.csv") -> Balances:
    """Read balances from CSV text (see the module docstring).

    Parameters
    ----------
    text
        The file's content.
    where
        File name, for messages.

    Returns
    -------
    Balances
        The balances.

    Raises
    ------
    ProofInputError
        On a missing or unknown column, a row of the wrong width, a malformed
        CSV, or any fault :meth:`Balances.from_rows` refuses; nothing is kept.
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise ProofInputError(where, "an empty file", f"a header {','.join(BALANCE_COLUMNS)}")
        names = [name.strip() for name in header]
        if sorted(names) != sorted(BALANCE_COLUMNS):
            raise ProofInputError(
                f"{where} row 1", ",".join(header), f"the columns {', '.join(BALANCE_COLUMNS)}"
            )
        order = [names.index(column) for column in BALANCE_COLUMNS]
        rows: list[tuple[str, str, int]] = []
        lines: list[int] = []
        for cells in reader:
            line = reader.line_num
            at = f"{where} row {line}"
            if not cells:
                continue  # a blank line
            if len(cells) != len(BALANCE_COLUMNS):
                raise ProofInputError(
                    at, ",".join(cells), f"{len(BALANCE_COLUMNS)} fields: {','.join(names)}"
                )
            customer_id, asset, amount = (cells[i].strip() for i in order)
            rows.append((customer_id, asset, _amount_cell(amount, at)))
            lines.append(line)
    except csv.Error as exc:
        raise ProofInputError(
            f"{where} row {reader.line_num}", str(exc), "well-formed CSV"
        ) from None

    return Balances.from_rows(rows, where, lines)


def read_balances_csv(path: Path) -> Balances:
    """Read a balances file (see the module docstring).

    Parameters
    ----------
    path
        The CSV file, UTF-8.

    Returns
    -------
    Balances
        The balances.

    Raises
    ------
    ProofInputError
        If the file cannot be read or its content is refused.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ProofInputError(str(path), exc.strerror or str(exc), "a readable file") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ProofInputError(
            f"{path.name} row {line}", raw[exc.start : exc.start + 1], "UTF-8 text"
        ) from None
    return parse_balances_csv(text, path.name)
