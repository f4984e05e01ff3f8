"""API tokens of the registry: bearer secrets of which only a hash is kept.

A token is ``hn_`` followed by 32 random bytes in URL-safe base64
(:func:`new_token`, 46 characters). It is shown once, when issued; the store keeps
only its SHA-256 (:func:`token_digest`), so a copy of the database does not give
anyone a usable token. Looking a token up is one indexed query on the digest
(unique), so no secret is compared character by character.

Every function takes a session and leaves the transaction to the caller; the
service (:class:`hashnation.registry.service.Registry`) decides who may issue and
revoke tokens and writes the audit log.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Final, Literal, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from hashnation.errors import AccessError, InputError, NotFoundError
from hashnation.registry.views import TokenView
from hashnation.store.registry_models import ApiToken

__all__ = [
    "TOKEN_PREFIX",
    "find",
    "issue",
    "list_tokens",
    "new_token",
    "revoke",
    "token_digest",
]

TOKEN_PREFIX: Final = "hn_"
"""Prefix of every token (lets secret scanners recognise them)."""

_MAX_TOKEN_CHARS: Final = 200
_MAX_LABEL_CHARS: Final = 200


def new_token() -> str:
    """Make a new random token: ``hn_`` + ``secrets.token_urlsafe(32)``.

    Returns
    -------
    str
        46 characters (256 bits of randomness).
    """
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """SHA-256 of a token's text, the only form stored.

    Parameters
    ----------
    token
        The token as given.

    Returns
    -------
    str
        64 lowercase hex digits.
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _view(row: ApiToken) -> TokenView:
    return TokenView(
        id=row.id,
        role=cast(Literal["staff", "firm"], row.role),
        firm_id=row.firm_id,
        label=row.label,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def issue(
    session: Session,
    *,
    role: str,
    firm_id: int | None,
    label: str,
    created_at: datetime,
) -> tuple[str, TokenView]:
    """Make a token and store its digest.

    Parameters
    ----------
    session
        Open session; the caller commits.
    role
        ``staff`` or ``firm``.
    firm_id
        The firm a ``firm`` token acts for (must be None for ``staff``); the caller
        checks that the firm exists.
    label
        Who holds it (1-200 characters); the actor named in the audit log.
    created_at
        Time of issue, timezone-aware.

    Returns
    -------
    tuple of (str, TokenView)
        The token text (shown once, never stored) and its record.

    Raises
    ------
    InputError
        Field ``role``, ``firm_id`` or ``label``.
    """
    if role not in ("staff", "firm"):
        raise InputError("role", role, "staff or firm")
    if role == "firm" and (isinstance(firm_id, bool) or not isinstance(firm_id, int)):
        raise InputError("firm_id", firm_id, "the id of the firm a firm token acts for")
    if role == "staff" and firm_id is not None:
        raise InputError("firm_id", firm_id, "None for a staff token")
    if not isinstance(label, str) or not label.strip() or len(label) > _MAX_LABEL_CHARS:
        raise InputError("label", label, f"a non-empty label of at most {_MAX_LABEL_CHARS} chars")
    token = new_token()
    row = ApiToken(
        token_sha256=token_digest(token),
        role=role,
        firm_id=firm_id,
        label=label.strip(),
        created_at=created_at,
        revoked_at=None,
    )
    session.add(row)
    session.flush()
    return token, _view(row)


def find(session: Session, token: str) -> TokenView:
    """Look a token up by its digest (one indexed query).

    Parameters
    ----------
    session
        Open session.
    token
        The token text.

    Returns
    -------
    TokenView
        Its record.

    Raises
    ------
    AccessError
        If the token is malformed, unknown or revoked (the message never repeats it).
    """
    if (
        not isinstance(token, str)
        or not token.startswith(TOKEN_PREFIX)
        or len(token) > _MAX_TOKEN_CHARS
    ):
        raise AccessError("token: not a registry API token (expected 'hn_' and 43 characters)")
    row = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == token_digest(token)))
    if row is None:
        raise AccessError("token: unknown token; ask the regulator's staff for a new one")
    if row.revoked_at is not None:
        raise AccessError(
            f"token: token {row.id} ({row.label}) was revoked on {row.revoked_at.date()}"
        )
    return _view(row)


def revoke(session: Session, token_id: int, *, revoked_at: datetime) -> TokenView:
    """Revoke a token; it no longer authenticates.

    Parameters
    ----------
    session
        Open session; the caller commits.
    token_id
        The token's id.
    revoked_at
        Time of revocation, timezone-aware.

    Returns
    -------
    TokenView
        The token's record, revoked (an already revoked token keeps its first time).

    Raises
    ------
    NotFoundError
        If no token has that id.
    """
    row = session.get(ApiToken, token_id, with_for_update=True)
    if row is None:
        raise NotFoundError(f"token_id: no token {token_id!r}")
    if row.revoked_at is None:
        row.revoked_at = revoked_at
        session.flush()
    return _view(row)


def list_tokens(session: Session, *, firm_id: int | None = None) -> list[TokenView]:
    """Tokens issued, oldest first (never their text).

    Parameters
    ----------
    session
        Open session.
    firm_id
        Only this firm's tokens; all when None.

    Returns
    -------
    list of TokenView
        In id order.
    """
    query = select(ApiToken).order_by(ApiToken.id)
    if firm_id is not None:
        query = query.where(ApiToken.firm_id == firm_id)
    return [_view(row) for row in session.scalars(query)]
