"""Who is calling the API: bearer tokens turned into registry principals.

A caller sends ``Authorization: Bearer <token>`` with a token issued by the
regulator's staff (``POST /api/v1/tokens``); the registry keeps only each token's
SHA-256 and :meth:`~hashnation.registry.service.Registry.authenticate` looks it up
in one indexed query. A caller without the header is the public
(:data:`~hashnation.registry.service.PUBLIC_PRINCIPAL`).

Refusals are ``401 Unauthorized`` with a ``WWW-Authenticate: Bearer ...`` header
(RFC 6750): a header that is not ``Bearer <token>``, a token that is malformed,
unknown or revoked, or no token at all on an endpoint that needs one. A caller who
is known but may not do something gets ``403`` from the service's
:class:`~hashnation.errors.AccessError` instead.

The OpenAPI document names the scheme ``BearerToken`` (HTTP ``bearer``).
"""

# No ``from __future__ import annotations`` here: FastAPI reads the dependencies'
# annotations at run time, and they name closures (``current_principal``).
from collections.abc import Awaitable, Callable
from typing import Annotated, Final

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hashnation.errors import AccessError
from hashnation.registry.service import PUBLIC_PRINCIPAL, Principal, Registry

__all__ = [
    "BEARER",
    "REALM",
    "SCHEME_NAME",
    "authenticated_dependency",
    "principal_dependency",
    "unauthorized",
]

SCHEME_NAME: Final = "BearerToken"
"""Name of the security scheme in the OpenAPI document."""

REALM: Final = "hashnation-registry"
"""Realm named in ``WWW-Authenticate``."""

BEARER: Final = HTTPBearer(
    auto_error=False,
    scheme_name=SCHEME_NAME,
    bearerFormat="hn_ + 43 URL-safe base64 characters",
    description=(
        "An API token issued by the regulator's staff (POST /api/v1/tokens), sent as "
        "`Authorization: Bearer <token>`. Staff tokens act for the regulator, firm "
        "tokens for one firm. Without a token the caller is the public."
    ),
)
"""The bearer scheme (never refuses by itself: :func:`principal_dependency` does)."""


def unauthorized(detail: str, *, invalid_token: bool) -> HTTPException:
    """Build a ``401`` refusal with its ``WWW-Authenticate`` challenge.

    Parameters
    ----------
    detail
        Why, in one line (never repeats the token).
    invalid_token
        True when a token was sent and refused (``error="invalid_token"``); False
        when none was sent.

    Returns
    -------
    HTTPException
        To raise.
    """
    challenge = f'Bearer realm="{REALM}"'
    if invalid_token:
        challenge += ', error="invalid_token"'
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": challenge})


def principal_dependency(registry: Registry) -> Callable[..., Principal]:
    """Make a dependency giving the caller's principal (public when no token is sent).

    Parameters
    ----------
    registry
        The registry that authenticates tokens.

    Returns
    -------
    callable
        A FastAPI dependency (sync: the token lookup is one database query, run in
        the thread pool) returning the :class:`~hashnation.registry.service.Principal`.
        It raises a ``401`` for a header that is not ``Bearer <token>`` and for a
        malformed, unknown or revoked token.
    """

    def current_principal(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)],
    ) -> Principal:
        if request.headers.get("authorization") is None:
            return PUBLIC_PRINCIPAL
        if credentials is None:
            raise unauthorized(
                "authorization: not a bearer token, expected 'Bearer <token>'",
                invalid_token=True,
            )
        try:
            return registry.authenticate(credentials.credentials)
        except AccessError as exc:
            raise unauthorized(str(exc), invalid_token=True) from None

    return current_principal


def authenticated_dependency(registry: Registry) -> Callable[..., Awaitable[Principal]]:
    """Make a dependency giving the caller's principal, refusing the public with ``401``.

    Parameters
    ----------
    registry
        The registry that authenticates tokens.

    Returns
    -------
    callable
        A FastAPI dependency returning a staff or firm principal.
    """
    current_principal = principal_dependency(registry)

    async def authenticated_principal(
        principal: Annotated[Principal, Depends(current_principal)],
    ) -> Principal:
        if principal.role == "public":
            raise unauthorized(
                "authorization: no token, expected 'Bearer <token>' (a staff or firm API token)",
                invalid_token=False,
            )
        return principal

    return authenticated_principal
