"""One place where HashNation errors become a one-line message and exit code 2.

Every command group of the CLI uses :class:`HashNationGroup`. Its
:meth:`~HashNationGroup.invoke` wraps the whole command tree, so any
:class:`~hashnation.errors.HashNationError` raised by a command prints
``error: <message>`` on one line to stderr and exits with
:data:`EXIT_USAGE` (2), the code Typer also uses for usage errors. Other
exceptions are bugs: they propagate with their traceback.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from hashnation.errors import HashNationError

__all__ = ["EXIT_USAGE", "HashNationGroup", "error_line"]

EXIT_USAGE = 2
"""Exit code for bad input: HashNation errors and command line usage errors."""


def error_line(exc: BaseException) -> str:
    """Return ``error: <message>`` with the message folded onto one line.

    Parameters
    ----------
    exc
        The error to report.

    Returns
    -------
    str
        A single line without a trailing newline.
    """
    message = " ".join(str(exc).split()) or type(exc).__name__
    return f"error: {message}"


class HashNationGroup(TyperGroup):
    """Typer group that turns :class:`HashNationError` into ``error: ...`` and exit 2."""

    def invoke(self, ctx: Any) -> Any:
        """Run the group's command; report HashNation errors on one line.

        Parameters
        ----------
        ctx
            Click context of this group.
        """
        try:
            return super().invoke(ctx)
        except HashNationError as exc:
            typer.echo(error_line(exc), err=True)
            raise typer.Exit(code=EXIT_USAGE) from None
