"""Writing the CLI's files atomically, and showing database URLs safely.

A command's output file appears whole or not at all: it is written to a
temporary file in the same folder and renamed over the target only once the
block that fills it succeeds.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["replacing", "safe_url", "write_json_atomically", "write_text_atomically"]


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """Yield a temporary file beside ``path``; it replaces ``path`` only if the block succeeds.

    Parameters
    ----------
    path
        The file to write; its folder is created if missing.

    Yields
    ------
    Path
        The temporary file to fill (removed if the block raises).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomically(path: Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically (see :func:`replacing`)."""
    with replacing(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json_atomically(path: Path, doc: object) -> None:
    """Write ``doc`` as indented JSON (and a final newline) to ``path`` atomically."""
    write_text_atomically(path, json.dumps(doc, indent=2) + "\n")


def safe_url(url: str) -> str:
    """Return a database URL fit to print: password hidden.

    Parameters
    ----------
    url
        A SQLAlchemy URL.

    Returns
    -------
    str
        The URL with its password masked, or only its scheme if it does not parse.
    """
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparseable URL: show its scheme only
        return url.split(":", 1)[0]
