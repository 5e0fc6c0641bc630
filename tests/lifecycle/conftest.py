"""The store fixtures of tests/store (a SQLite file and a real PostgreSQL) for the lifecycle's repository."""

from tests.store.conftest import (  # noqa: F401  (pytest finds fixtures by name)
    migrated_db_url,
    migrated_templates,
    pg_admin_url,
    pg_migrated,
    store,
)
