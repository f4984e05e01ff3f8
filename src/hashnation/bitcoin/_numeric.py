"""Shared helpers for formulas that take a float, a NumPy array or a pandas Series.

The formulas use NumPy ufuncs (``np.multiply``, ``np.divide``), so a pandas
Series stays a Series (index kept) and an array stays an array. When every
input is a plain number the result is turned back into a Python ``float``.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import TYPE_CHECKING, Any, TypeAlias, cast

import numpy as np
import numpy.typing as npt

from hashnation.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

FloatArray: TypeAlias = npt.NDArray[np.float64]
"""A NumPy array of float64 values."""

if TYPE_CHECKING:
    FloatSeries: TypeAlias = pd.Series[float]
    Numeric: TypeAlias = float | FloatArray | FloatSeries


def is_scalar(value: object) -> bool:
    """Return True for a plain real number (Python or NumPy scalar, not bool).

    Parameters
    ----------
    value
        Any object.

    Returns
    -------
    bool
        Whether ``value`` counts as a scalar input.
    """
    return isinstance(value, Real | np.number) and not isinstance(value, bool | np.bool_)


def check_range(
    field: str,
    value: object,
    *,
    minimum: float,
    inclusive: bool,
    error: type[InputError] = InputError,
    unit: str = "",
) -> None:
    """Raise if any entry of ``value`` is below ``minimum`` or infinite.

    NaN entries of an array or Series are let through (they stand for missing
    data and come out as NaN); a NaN scalar is refused.

    Parameters
    ----------
    field
        Name of the argument, used in the error message.
    value
        A number, array or Series.
    minimum
        Lower bound [same unit as ``value``].
    inclusive
        Whether ``minimum`` itself is allowed.
    error
        Error class to raise (an :class:`InputError` subclass).
    unit
        Unit shown in the message, e.g. ``"[s]"``.

    Raises
    ------
    InputError
        Or the given subclass, naming the field, the offending value and the bound.
    """
    relation = ">=" if inclusive else ">"
    expected = f"a finite number {relation} {minimum:g}" + (f" {unit}" if unit else "")
    if isinstance(value, bool | np.bool_):
        raise error(field, value, expected)
    if is_scalar(value):
        number = float(cast(float, value))
        if math.isnan(number) or math.isinf(number):
            raise error(field, value, expected)
        too_low = number < minimum if inclusive else number <= minimum
        if too_low:
            raise error(field, value, expected)
        return
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        raise error(field, value, expected) from None
    if array.dtype.kind not in "iuf":  # ints, unsigned ints and floats only
        raise error(field, f"values of dtype {array.dtype}", expected)
    if array.size == 0:
        return
    bad = np.isinf(array) | ((array < minimum) if inclusive else (array <= minimum))
    if bool(np.any(bad)):
        first_bad = float(array[bad].flat[0])
        raise error(field, first_bad, expected)


def restore_kind(result: Any, *inputs: object) -> Any:
    """Return ``result`` as a Python float when every input was a scalar.

    Parameters
    ----------
    result
        Output of NumPy ufunc arithmetic on ``inputs``.
    *inputs
        The arguments the result was computed from.

    Returns
    -------
    Any
        ``float(result)`` for all-scalar inputs, else ``result`` unchanged
        (an ndarray or a pandas Series).
    """
    if all(is_scalar(item) for item in inputs):
        return float(result)
    return result
