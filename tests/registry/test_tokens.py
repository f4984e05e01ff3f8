"""API tokens on SQLite and PostgreSQL: only hashes stored, authentication, revocation."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from hashnation.errors import AccessError, InputError, NotFoundError
from hashnation.registry.service import PUBLIC_PRINCIPAL, Principal, Registry
from hashnation.registry.tokens import new_token, token_digest

STAFF = Principal.staff("officer")


@pytest.fixture
def registry(db_url: str) -> Iterator[Registry]:
    with Registry(db_url, clock=lambda: datetime(2026, 1, 5, 9, tzinfo=UTC)) as reg:
        yield reg


def test_new_tokens_are_prefixed_random_and_urlsafe() -> None:
    made = {new_token() for _ in range(50)}
    assert len(made) == 50
    for token in made:
        assert token.startswith("hn_")
        assert len(token) == 46
        assert set(token[3:]) <= set(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        )
    assert token_digest("hn_x") == hashlib.sha256(b"hn_x").hexdigest()


def test_only_the_digest_is_stored(registry: Registry) -> None:
    token = registry.issue_token(STAFF, role="staff", label="alice")
    with registry.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM api_tokens")).mappings().all()
        audit_rows = conn.execute(sa.text("SELECT * FROM registry_audit")).mappings().all()
    assert len(rows) == 1
    assert rows[0]["token_sha256"] == token_digest(token)
    dumped = repr(rows) + repr(audit_rows)
    assert token not in dumped
    assert token[3:] not in dumped


def test_authenticate_staff_and_firm_tokens(registry: Registry) -> None:
    firm = registry.register_firm(STAFF, name="Indus Exchange", registration_number="001")
    staff_token = registry.issue_token(STAFF, role="staff", label="alice")
    firm_token = registry.issue_token(STAFF, role="firm", firm_id=firm.id, label="indus-api")
    assert registry.authenticate(staff_token) == Principal("staff", None, "alice")
    assert registry.authenticate(firm_token) == Principal("firm", firm.id, "indus-api")
    assert registry.authenticate(None) is PUBLIC_PRINCIPAL


@pytest.mark.parametrize("token", ["", "Bearer x", "hn_" + "x" * 43, "hn_" + "y" * 300])
def test_unknown_or_malformed_tokens_are_refused(registry: Registry, token: str) -> None:
    registry.issue_token(STAFF, role="staff", label="alice")
    with pytest.raises(AccessError, match="token"):
        registry.authenticate(token)


def test_revoked_tokens_are_refused(registry: Registry) -> None:
    token = registry.issue_token(STAFF, role="staff", label="alice")
    (view,) = registry.list_tokens(STAFF)
    revoked = registry.revoke_token(STAFF, view.id)
    assert revoked.revoked_at == datetime(2026, 1, 5, 9, tzinfo=UTC)
    with pytest.raises(AccessError, match="revoked"):
        registry.authenticate(token)
    with pytest.raises(NotFoundError):
        registry.revoke_token(STAFF, 999)
    actions = [e.action for e in registry.audit_log(STAFF)]
    assert actions == ["token.revoked", "token.issued"]


def test_only_staff_issue_list_and_revoke(registry: Registry) -> None:
    firm = registry.register_firm(STAFF, name="Indus Exchange", registration_number="001")
    as_firm = Principal.firm(firm.id, "indus")
    for principal in (as_firm, PUBLIC_PRINCIPAL):
        with pytest.raises(AccessError):
            registry.issue_token(principal, role="staff", label="me")
        with pytest.raises(AccessError):
            registry.list_tokens(principal)
        with pytest.raises(AccessError):
            registry.revoke_token(principal, 1)


def test_token_fields_are_checked(registry: Registry) -> None:
    with pytest.raises(NotFoundError, match="firm_id"):
        registry.issue_token(STAFF, role="firm", firm_id=42, label="ghost")
    with pytest.raises(InputError, match="role"):
        registry.issue_token(STAFF, role="admin", label="x")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="firm_id"):
        registry.issue_token(STAFF, role="staff", firm_id=1, label="x")
    with pytest.raises(InputError, match="label"):
        registry.issue_token(STAFF, role="staff", label=" ")
    assert registry.list_tokens(STAFF) == []
    assert registry.verify_audit().entries == 0
