"""Alembic, configured in code: the bot needs no alembic.ini and no particular
working directory.

The migration scripts live in the project's top-level ``migrations/``;
``bot/store/migrations`` links to it and is shipped as package data, so an
installed package finds them next to this module.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

log = logging.getLogger(__name__)

_HERE = Path(__file__).resolve().parent


def migrations_dir() -> Path:
    for candidate in (_HERE / "migrations", _HERE.parent.parent / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise FileNotFoundError(f"qunguard's migration scripts are missing (looked in {_HERE / 'migrations'})")


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    return cfg


def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    return heads[0] if len(heads) == 1 else ",".join(heads)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


_LOCK_ID = 0x716E6775  # "qngu": one migrator at a time across bot processes


def _run(engine: Engine, fn: str, revision: str) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_ID})
        cfg.attributes["connection"] = conn
        getattr(command, fn)(cfg, revision)


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Upgrade to ``revision``; returns (before, after)."""
    before = current_revision(engine)
    _run(engine, "upgrade", revision)
    after = current_revision(engine)
    if before != after:
        log.info("store schema upgraded from %s to %s", before or "empty", after)
    return before, after


def downgrade(engine: Engine, revision: str = "-1") -> tuple[str | None, str | None]:
    before = current_revision(engine)
    _run(engine, "downgrade", revision)
    return before, current_revision(engine)


def needs_upgrade(engine: Engine) -> bool:
    return current_revision(engine) != head_revision()
