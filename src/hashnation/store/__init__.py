"""Persistence: SQLAlchemy engine, sessions and Alembic migrations."""
