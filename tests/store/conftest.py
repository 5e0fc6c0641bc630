"""Fixtures: the same store tests on a SQLite file and on a real PostgreSQL.

PostgreSQL comes from ``$QUNGUARD_TEST_PG_URL`` (``.ci/run`` starts one), or
else from a throwaway server this session starts when PostgreSQL's binaries
are installed. Without either the PostgreSQL cases are skipped, except under
``CI=true``, where a missing PostgreSQL is a failure.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.store import Store, migrate, open_store
from bot.store.db import make_engine, normalize_url
from bot.store.models import Base
from tests.store.pgserver import pg_bindir, throwaway_server

IN_CI = os.environ.get("CI", "").lower() == "true"


def _no_postgres(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true but PostgreSQL is unavailable: {reason}")
    pytest.skip(f"PostgreSQL unavailable: {reason}")


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """A PostgreSQL server URL whose user may create databases."""
    url = os.environ.get("QUNGUARD_TEST_PG_URL")
    if url:
        yield url
        return
    if pg_bindir() is None:
        _no_postgres("QUNGUARD_TEST_PG_URL is unset and initdb is not installed")
    try:
        with throwaway_server() as server:
            yield server.url
    except (OSError, Exception) as exc:  # a server that would not start
        if isinstance(exc, (pytest.skip.Exception, pytest.fail.Exception)):
            raise
        _no_postgres(f"could not start a throwaway server: {exc}")


def _fresh_pg_database(admin_url: str, template: str = "") -> tuple[str, Callable[[], None]]:
    admin_url = normalize_url(admin_url)
    name = f"qg_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    except Exception as exc:
        admin.dispose()
        _no_postgres(f"cannot create a database at {make_url(admin_url).render_as_string()}: {exc}")

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """An empty database: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'qunguard.db'}"
        return
    url, drop = _fresh_pg_database(request.getfixturevalue("pg_admin_url"))
    try:
        yield url
    finally:
        drop()


@pytest.fixture
def pg_url(pg_admin_url: str) -> Iterator[str]:
    url, drop = _fresh_pg_database(pg_admin_url)
    try:
        yield url
    finally:
        drop()


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A database of each kind migrated to head once, copied for each test."""
    folder = tmp_path_factory.mktemp("template")
    sqlite_file = folder / "template.db"
    engine = make_engine(f"sqlite:///{sqlite_file}")
    migrate.upgrade(engine)
    engine.dispose()
    yield {"sqlite": str(sqlite_file)}


@pytest.fixture(scope="session")
def pg_migrated(pg_admin_url: str) -> Iterator[str]:
    """One PostgreSQL database at the newest schema for the session; emptied
    before each test that uses it (faster than a database per test)."""
    url, drop = _fresh_pg_database(pg_admin_url)
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        drop()


def _empty_every_table(url: str) -> None:
    engine = make_engine(url)
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def migrated_db_url(request: pytest.FixtureRequest, tmp_path, migrated_templates) -> Iterator[str]:
    """A database at the newest schema, empty: a SQLite file or a PostgreSQL database."""
    if request.param == "sqlite":
        target = tmp_path / "qunguard.db"
        shutil.copyfile(migrated_templates["sqlite"], target)
        yield f"sqlite:///{target}"
        return
    url = request.getfixturevalue("pg_migrated")
    _empty_every_table(url)
    yield url


@pytest.fixture
def store(migrated_db_url: str, tmp_path) -> Iterator[Store]:
    s = open_store(migrated_db_url, journal_dir=tmp_path / "journal", bot_id="wxid_bot")
    try:
        yield s
    finally:
        s.close()
