"""Migrations: one head, upgrade to head, down and up again step by step, and
the models match what the migrations build (autogenerate finds nothing)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from bot.store import migrate, open_store
from bot.store.db import make_engine
from bot.store.models import Base

ROOT = Path(__file__).resolve().parents[2]


def _revisions() -> list[str]:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def test_there_is_exactly_one_head():
    assert len(ScriptDirectory.from_config(migrate.alembic_config()).get_heads()) == 1


def test_revision_files_are_named_for_their_change():
    for path in (ROOT / "migrations" / "versions").glob("*.py"):
        number, _, slug = path.stem.partition("_")
        assert number.isdigit() and slug, path.name


def test_upgrade_to_head_creates_every_table(db_url):
    engine = make_engine(db_url)
    try:
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision()
        assert set(inspect(engine).get_table_names()) >= set(Base.metadata.tables)
    finally:
        engine.dispose()


def test_models_match_the_migrated_schema(db_url):
    engine = make_engine(db_url)
    try:
        migrate.upgrade(engine)
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(ctx, Base.metadata)
        assert diff == []
    finally:
        engine.dispose()


def test_stairway_down_and_up_one_step_at_a_time(db_url):
    engine = make_engine(db_url)
    try:
        revisions = _revisions()
        for rev in revisions:
            migrate.upgrade(engine, rev)
            migrate.downgrade(engine, "-1")
            migrate.upgrade(engine, rev)
            assert migrate.current_revision(engine) == rev
        for _ in revisions:
            migrate.downgrade(engine, "-1")
        assert migrate.current_revision(engine) is None
        assert not set(inspect(engine).get_table_names()) & set(Base.metadata.tables)
    finally:
        engine.dispose()


def test_opening_the_store_upgrades_and_a_second_open_changes_nothing(db_url, tmp_path):
    with open_store(db_url, journal_dir=tmp_path / "j"):
        pass
    engine = make_engine(db_url)
    try:
        assert not migrate.needs_upgrade(engine)
        before, after = migrate.upgrade(engine)
        assert before == after == migrate.head_revision()
    finally:
        engine.dispose()


def test_db_upgrade_works_from_any_working_directory(tmp_path):
    """The installed bot finds its migrations through the package, not the cwd."""
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    out = subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade", "--db", url],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    engine = make_engine(url)
    try:
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()


def test_migrations_ship_inside_the_package():
    assert (ROOT / "bot" / "store" / "migrations" / "env.py").is_file()
    assert migrate.migrations_dir().resolve() == (ROOT / "migrations").resolve()


def test_several_bots_starting_at_once_migrate_once(db_url, tmp_path):
    """Bot processes sharing one database may start together: one upgrades,
    the others wait and find the schema ready."""
    from concurrent.futures import ThreadPoolExecutor

    def start(i: int) -> str | None:
        with open_store(db_url, journal_dir=None, bot_id=f"wxid_bot{i}") as store:
            return migrate.current_revision(store.engine)

    with ThreadPoolExecutor(4) as pool:
        revisions = list(pool.map(start, range(4)))
    assert revisions == [migrate.head_revision()] * 4
