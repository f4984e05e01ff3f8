"""Alembic migrations of the ledger schema (script location ``hashnation.store:migrations``)."""
