"""Rich consoles for the CLI, created per call so that redirected streams are honoured."""

from __future__ import annotations

from rich.console import Console

__all__ = ["err_console", "out_console"]


def out_console() -> Console:
    """Console on stdout for results (no syntax highlighting of numbers)."""
    return Console(highlight=False, soft_wrap=False)


def err_console() -> Console:
    """Console on stderr for progress displays."""
    return Console(stderr=True, highlight=False)
