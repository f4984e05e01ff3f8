"""Create the registry of the virtual-asset regulator: firms, licences, returns, audit log.

Tables: ``firms``, ``applications`` (which become licences), ``decisions``, ``returns``,
``enforcement_actions``, ``sandbox_cohorts``, ``sandbox_participants``, ``api_tokens``,
the hash-chained ``registry_audit`` log and ``registry_state`` (one row of counters).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LICENCE_TYPES = "'exchange', 'custodial_wallet', 'broker', 'stablecoin_issuer', 'advisor'"
STATUSES = (
    "'draft', 'submitted', 'under_review', 'information_requested', 'approved', 'refused', "
    "'refusal_appealed', 'refusal_upheld', 'licensed', 'suspended', 'revoked', "
    "'revocation_appealed', 'revocation_upheld', 'surrendered', 'withdrawn'"
)
ACTIONS = (
    "'submit', 'withdraw', 'begin_review', 'request_information', 'provide_information', "
    "'approve', 'refuse', 'grant_licence', 'suspend', 'reinstate', 'revoke', 'surrender', "
    "'appeal', 'allow_appeal', 'dismiss_appeal'"
)
ENFORCEMENT_KINDS = "'warning', 'fine', 'suspension', 'revocation'"
PARTICIPANT_STATUSES = "'active', 'graduated', 'exited'"
TOKEN_ROLES = "'staff', 'firm'"


def _id() -> sa.types.TypeEngine[int]:
    # BIGINT keys on PostgreSQL; SQLite only auto-numbers an INTEGER PRIMARY KEY.
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _money() -> sa.Numeric[Decimal]:
    return sa.Numeric(precision=20, scale=2)


def upgrade() -> None:
    """Create the registry tables and their indexes."""
    op.create_table(
        "firms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("registration_number", sa.String(length=50), nullable=False),
        sa.Column("commercial_name", sa.String(length=200), nullable=False),
        sa.Column("lei", sa.String(length=20), nullable=True),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("website", sa.String(length=300), nullable=False),
        sa.Column("home_country", sa.String(length=2), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_firms")),
        sa.UniqueConstraint("lei", name=op.f("uq_firms_lei")),
        sa.UniqueConstraint("registration_number", name=op.f("uq_firms_registration_number")),
    )
    op.create_index(op.f("ix_firms_name"), "firms", ["name"])
    op.create_table(
        "registry_audit",
        sa.Column("id", _id(), nullable=False),
        sa.Column("recorded_at", _time(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_audit")),
        sa.UniqueConstraint("entry_hash", name=op.f("uq_registry_audit_entry_hash")),
        sa.UniqueConstraint("prev_hash", name=op.f("uq_registry_audit_prev_hash")),
    )
    op.create_index(op.f("ix_registry_audit_subject"), "registry_audit", ["subject"])
    op.create_table(
        "sandbox_cohorts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("opens_on", sa.Date(), nullable=False),
        sa.Column("max_customers", sa.Integer(), nullable=False),
        sa.Column("max_volume_usd", _money(), nullable=False),
        sa.Column("max_duration_days", sa.Integer(), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.CheckConstraint(
            "max_customers > 0", name=op.f("ck_sandbox_cohorts_max_customers_positive")
        ),
        sa.CheckConstraint(
            "max_duration_days > 0", name=op.f("ck_sandbox_cohorts_max_duration_positive")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_cohorts")),
        sa.UniqueConstraint("code", name=op.f("uq_sandbox_cohorts_code")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("firm_id", sa.Integer(), nullable=True),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("revoked_at", _time(), nullable=True),
        sa.CheckConstraint(
            "(role = 'firm') = (firm_id IS NOT NULL)", name=op.f("ck_api_tokens_firm_role")
        ),
        sa.CheckConstraint(f"role IN ({TOKEN_ROLES})", name=op.f("ck_api_tokens_role")),
        sa.ForeignKeyConstraint(
            ["firm_id"], ["firms.id"], name=op.f("fk_api_tokens_firm_id_firms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_api_tokens_token_sha256")),
    )
    op.create_index(op.f("ix_api_tokens_firm_id"), "api_tokens", ["firm_id"])
    op.create_table(
        "applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("firm_id", sa.Integer(), nullable=False),
        sa.Column("licence_type", sa.String(length=30), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.Column("capital_usd", _money(), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("licence_number", sa.String(length=30), nullable=True),
        sa.Column("licence_sequence", sa.Integer(), nullable=True),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("submitted_at", _time(), nullable=True),
        sa.Column("status_since", _time(), nullable=False),
        sa.Column("authorised_on", sa.Date(), nullable=True),
        sa.CheckConstraint(
            f"licence_type IN ({LICENCE_TYPES})", name=op.f("ck_applications_licence_type")
        ),
        sa.CheckConstraint(f"status IN ({STATUSES})", name=op.f("ck_applications_status")),
        sa.ForeignKeyConstraint(
            ["firm_id"], ["firms.id"], name=op.f("fk_applications_firm_id_firms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applications")),
        sa.UniqueConstraint("licence_number", name=op.f("uq_applications_licence_number")),
        sa.UniqueConstraint("licence_type", "licence_sequence", name="uq_applications_sequence"),
    )
    op.create_index(op.f("ix_applications_firm_id"), "applications", ["firm_id"])
    op.create_index(
        "ix_applications_status_licence_type", "applications", ["status", "licence_type"]
    )
    op.create_table(
        "sandbox_participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("firm_id", sa.Integer(), nullable=False),
        sa.Column("product", sa.Text(), nullable=False),
        sa.Column("admitted_on", sa.Date(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("usage_as_of", sa.Date(), nullable=True),
        sa.Column("customers", sa.Integer(), nullable=True),
        sa.Column("volume_usd", _money(), nullable=True),
        sa.Column("exit_decision", sa.String(length=20), nullable=True),
        sa.Column("exit_reason", sa.Text(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.CheckConstraint(
            f"status IN ({PARTICIPANT_STATUSES})", name=op.f("ck_sandbox_participants_status")
        ),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["sandbox_cohorts.id"],
            name=op.f("fk_sandbox_participants_cohort_id_sandbox_cohorts"),
        ),
        sa.ForeignKeyConstraint(
            ["firm_id"], ["firms.id"], name=op.f("fk_sandbox_participants_firm_id_firms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_participants")),
        sa.UniqueConstraint("cohort_id", "firm_id", name="uq_sandbox_participants_cohort_firm"),
    )
    op.create_index(op.f("ix_sandbox_participants_firm_id"), "sandbox_participants", ["firm_id"])
    op.create_table(
        "decisions",
        sa.Column("id", _id(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("from_status", sa.String(length=30), nullable=False),
        sa.Column("to_status", sa.String(length=30), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("decided_at", _time(), nullable=False),
        sa.CheckConstraint(f"action IN ({ACTIONS})", name=op.f("ck_decisions_action")),
        sa.CheckConstraint(f"from_status IN ({STATUSES})", name=op.f("ck_decisions_from_status")),
        sa.CheckConstraint(f"to_status IN ({STATUSES})", name=op.f("ck_decisions_to_status")),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_decisions_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
    )
    op.create_index(op.f("ix_decisions_application_id"), "decisions", ["application_id"])
    op.create_table(
        "enforcement_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("firm_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("fine_usd", _money(), nullable=True),
        sa.Column("breach_codes", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", _time(), nullable=False),
        sa.CheckConstraint(
            f"kind IN ({ENFORCEMENT_KINDS})", name=op.f("ck_enforcement_actions_kind")
        ),
        sa.CheckConstraint(
            "fine_usd IS NULL OR fine_usd > 0", name=op.f("ck_enforcement_actions_fine_positive")
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_enforcement_actions_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["firm_id"], ["firms.id"], name=op.f("fk_enforcement_actions_firm_id_firms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enforcement_actions")),
    )
    op.create_index(
        op.f("ix_enforcement_actions_application_id"), "enforcement_actions", ["application_id"]
    )
    op.create_index(op.f("ix_enforcement_actions_firm_id"), "enforcement_actions", ["firm_id"])
    op.create_table(
        "returns",
        sa.Column("id", _id(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("firm_id", sa.Integer(), nullable=False),
        sa.Column("licence_type", sa.String(length=30), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("filed_at", _time(), nullable=False),
        sa.Column("filed_by", sa.String(length=200), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("breaches", sa.JSON(), nullable=False),
        sa.CheckConstraint("version >= 1", name=op.f("ck_returns_version_positive")),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_returns_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(["firm_id"], ["firms.id"], name=op.f("fk_returns_firm_id_firms")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_returns")),
        sa.UniqueConstraint(
            "application_id", "period_start", "period_end", "version", name="uq_returns_version"
        ),
    )
    op.create_index(
        "ix_returns_application_id_period_end", "returns", ["application_id", "period_end"]
    )
    op.create_index(op.f("ix_returns_firm_id"), "returns", ["firm_id"])
    state = op.create_table(
        "registry_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_state")),
    )
    op.bulk_insert(state, [{"id": 1, "public_version": 0}])


def downgrade() -> None:
    """Drop the registry's tables."""
    op.drop_table("registry_state")
    op.drop_index(op.f("ix_returns_firm_id"), table_name="returns")
    op.drop_index("ix_returns_application_id_period_end", table_name="returns")
    op.drop_table("returns")
    op.drop_index(op.f("ix_enforcement_actions_firm_id"), table_name="enforcement_actions")
    op.drop_index(op.f("ix_enforcement_actions_application_id"), table_name="enforcement_actions")
    op.drop_table("enforcement_actions")
    op.drop_index(op.f("ix_decisions_application_id"), table_name="decisions")
    op.drop_table("decisions")
    op.drop_index(op.f("ix_sandbox_participants_firm_id"), table_name="sandbox_participants")
    op.drop_table("sandbox_participants")
    op.drop_index("ix_applications_status_licence_type", table_name="applications")
    op.drop_index(op.f("ix_applications_firm_id"), table_name="applications")
    op.drop_table("applications")
    op.drop_index(op.f("ix_api_tokens_firm_id"), table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_table("sandbox_cohorts")
    op.drop_index(op.f("ix_registry_audit_subject"), table_name="registry_audit")
    op.drop_table("registry_audit")
    op.drop_index(op.f("ix_firms_name"), table_name="firms")
    op.drop_table("firms")
