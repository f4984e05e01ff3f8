"""A small HTTP client on :mod:`http.client` for the chain adapters.

Every failure becomes a :class:`~hashnation.errors.ChainError` naming the URL
(without credentials) and the call, so that an operator sees at once which
source and which request failed.
"""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import SplitResult, urlsplit

from hashnation.errors import ChainError, InputError

__all__ = ["HttpEndpoint", "decode_json"]

_MAX_BODY_BYTES = 64 * 1024 * 1024
_EXCERPT_CHARS = 200


def _excerpt(body: bytes) -> str:
    text = body[:_EXCERPT_CHARS].decode("utf-8", "replace")
    return repr(text + ("..." if len(body) > _EXCERPT_CHARS else ""))


def decode_json(body: bytes, where: str) -> Any:
    """Decode a JSON body; numbers with a fraction become :class:`~decimal.Decimal`.

    Parameters
    ----------
    body
        Response body.
    where
        URL and call, for the message.

    Returns
    -------
    Any
        The decoded value.

    Raises
    ------
    ChainError
        If the body is not valid UTF-8 JSON.
    """
    try:
        return json.loads(body.decode("utf-8"), parse_float=Decimal)
    except (UnicodeDecodeError, ValueError):
        raise ChainError(f"{where}: got {_excerpt(body)}, expected a JSON body") from None


@dataclass(frozen=True, slots=True)
class HttpEndpoint:
    """An HTTP(S) base URL and a timeout.

    Parameters
    ----------
    base_url
        ``http://host:port/prefix`` or ``https://...``; user info in it is ignored
        (pass credentials separately).
    timeout_s
        Connect and read timeout [s] > 0.
    """

    base_url: str
    timeout_s: float

    def __post_init__(self) -> None:
        """Check the URL scheme and host and the timeout."""
        parts = self.split()
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError("url", self.base_url, "an http:// or https:// URL with a host")
        if (
            isinstance(self.timeout_s, bool)
            or not isinstance(self.timeout_s, int | float)
            or not self.timeout_s > 0
        ):
            raise InputError("timeout_s", self.timeout_s, "a number of seconds > 0")

    def split(self) -> SplitResult:
        """Split the base URL into its parts.

        Returns
        -------
        SplitResult
            As :func:`urllib.parse.urlsplit` gives them.
        """
        return urlsplit(self.base_url)

    @property
    def display_url(self) -> str:
        """The base URL without user info or trailing slash."""
        parts = self.split()
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{host}{port}{parts.path.rstrip('/')}"

    def request(
        self,
        method: str,
        path: str,
        what: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        """Send one request and read the whole response.

        Parameters
        ----------
        method
            ``GET`` or ``POST``.
        path
            Path appended to the base URL's path (``/blocks/tip/height``); empty
            for the base URL itself.
        what
            Name of the call for messages (an RPC method or the REST path).
        body
            Request body.
        headers
            Extra request headers.

        Returns
        -------
        tuple of (int, bytes)
            HTTP status and body.

        Raises
        ------
        ChainError
            If the connection is refused, times out or breaks, or the body is
            larger than 64 MiB.
        """
        parts = self.split()
        where = f"{self.display_url} {what}"
        connection_class = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        connection = connection_class(parts.hostname or "", parts.port, timeout=self.timeout_s)
        try:
            target = (parts.path.rstrip("/") + path) or "/"
            connection.request(method, target, body=body, headers=headers or {})
            response = connection.getresponse()
            data = response.read(_MAX_BODY_BYTES + 1)
        except TimeoutError:
            raise ChainError(
                f"{where}: no answer within {self.timeout_s} s, expected a response in time"
            ) from None
        except ConnectionRefusedError:
            raise ChainError(
                f"{where}: connection refused, expected a server listening there"
            ) from None
        except (OSError, http.client.HTTPException) as exc:
            kind = "bad HTTP response" if isinstance(exc, http.client.HTTPException) else "error"
            raise ChainError(f"{where}: {kind} {exc!r}, expected an HTTP response") from None
        finally:
            connection.close()
        if len(data) > _MAX_BODY_BYTES:
            raise ChainError(f"{where}: body over {_MAX_BODY_BYTES} bytes, expected less")
        return response.status, data

    def where(self, what: str) -> str:
        """Return ``"<url> <what>"`` for messages.

        Parameters
        ----------
        what
            The call.

        Returns
        -------
        str
            The prefix used in this endpoint's error messages.
        """
        return f"{self.display_url} {what}"
