"""Alembic environment for the qunguard store.

Run through ``qunguard db upgrade`` (or automatically when the bot opens its
store), which hands in an open connection; plain ``alembic -c alembic.ini``
from the project root works too, with the URL from ``-x db=URL``,
``$QUNGUARD_DB`` or alembic.ini.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from alembic import context
from sqlalchemy.engine import Connection

from bot.store.db import UTCDateTime, make_engine
from bot.store.models import Base

config = context.config
target_metadata = Base.metadata


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    # Migrations must not import application types: a UTC timestamp is
    # written as the plain timezone-aware DateTime it is stored as.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    # APScheduler keeps its job tables in the same database and creates them itself.
    return not (type_ == "table" and name is not None and name.startswith("scheduler_jobs"))


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=render_item,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = (
        context.get_x_argument(as_dictionary=True).get("db")
        or os.environ.get("QUNGUARD_DB")
        or config.get_main_option("sqlalchemy.url")
    )
    if not url:
        raise SystemExit("migrations: no database URL (give -x db=URL or set QUNGUARD_DB)")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("qunguard migrations run online only: give a database URL")
run_migrations_online()
