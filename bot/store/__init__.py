"""The SQL store: every violation and action kept (SQLite by default,
PostgreSQL at scale), with a local journal for when the database is down.

The only importer of sqlalchemy in qunguard. Callers use :func:`open_store`
(the live bot, the CLI) or :func:`open_records` (``replay --db``) and get back
a :class:`Store` whose methods return the plain dataclasses of
:mod:`bot.store.views`.

The Store at a glance (times are timezone-aware; ``at=None`` means now):

- moderation (:class:`bot.moderation.Records`, journaled while the database
  is down): ``record_violations``, ``record_actions``, ``history``,
  ``muted_until``; outcomes ``set_action_state(case_no, kind, state, detail,
  by, position=)`` / ``record_outcome``; ``resolve_case_no`` for a
  provisional (negative) case number; ``outage``, ``available``, ``on_outage``.
- messages and members: ``note_message`` (batched counts), ``flush``,
  ``member_joined`` / ``member_left`` (journaled), ``record_join`` /
  ``record_leave``, ``member_facts`` (cached), ``member``, ``members``,
  ``present_members``, ``set_member`` (exempt, nickname_ok, intro_done_at).
- rooms: ``upsert_room``, ``save_room``, ``set_room_moderated``,
  ``switched_rooms``, ``room``, ``moderated_rooms``.
- cases: ``case`` (a :class:`CaseStory`), ``case_for_message``, ``cases``,
  ``violations``, ``open_case`` and ``add_action`` (by hand), ``pardon``.
- mutes and blacklist: ``active_mutes``, ``end_mutes``, ``mute``,
  ``lift_mute``, ``blacklist_add(scope=room|bot|all)``, ``add_blacklist``,
  ``blacklist_remove``, ``is_blacklisted``, ``blacklist``.
- people in the loop: ``add_appeal``, ``decide_appeal``, ``appeals``,
  ``request_review``, ``decide_review``, ``pending_reviews``, ``audit``,
  ``audit_log``.
- reports and retention: ``daily_counts``, ``top_speakers``, ``purge``,
  ``export``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from bot.errors import StoreUnavailable
from bot.store.db import DEFAULT_URL, make_engine, normalize_url
from bot.store.journal import Journal, journal_path, journal_prefix
from bot.store.store import DOWN_ERRORS, Store
from bot.store.views import (
    ActionView,
    AppealView,
    AuditView,
    BlacklistView,
    CaseStory,
    CaseView,
    DayCounts,
    MemberView,
    MuteView,
    Outage,
    PurgeResult,
    ReviewView,
    RoomView,
    ViolationView,
)

__all__ = [
    "DEFAULT_URL",
    "ActionView",
    "AppealView",
    "AuditView",
    "BlacklistView",
    "CaseStory",
    "CaseView",
    "DayCounts",
    "MemberView",
    "MuteView",
    "Outage",
    "PurgeResult",
    "ReviewView",
    "RoomView",
    "Store",
    "ViolationView",
    "open_records",
    "open_store",
]

log = logging.getLogger(__name__)

DEFAULT_JOURNAL_DIR = Path(".qunguard") / "journal"


def open_store(
    url: str | None = None,
    *,
    journal_dir: str | os.PathLike[str] | None = DEFAULT_JOURNAL_DIR,
    upgrade: bool = True,
    bot_id: str = "",
    tz: str = "Asia/Shanghai",
    retry_interval_s: float = 5.0,
) -> Store:
    """Open the store at ``url`` (default ``sqlite:///qunguard.db``).

    With ``upgrade`` the schema is brought to the newest migration first (what
    the bot does at start); without it an out-of-date schema is an error that
    says to run ``qunguard db upgrade``. With a ``journal_dir`` (the bot's
    data dir + ``/journal``), a database that cannot be reached at start is
    not fatal: the store starts in outage mode and journals. ``journal_dir=None``
    makes every outage a :class:`StoreUnavailable`.
    """
    from bot.store import migrate

    url = normalize_url(url or DEFAULT_URL)
    engine = make_engine(url)
    journal = (
        Journal(journal_path(journal_dir, url, bot_id), siblings=f"{journal_prefix(url)}*.jsonl")
        if journal_dir is not None
        else None
    )
    store = Store(engine, bot_id=bot_id, journal=journal, tz=tz, retry_interval_s=retry_interval_s)

    def opening() -> None:
        if upgrade:
            migrate.upgrade(engine)
        elif migrate.needs_upgrade(engine):
            engine.dispose()
            raise StoreUnavailable(
                f"the database schema is not up to date ({migrate.current_revision(engine) or 'empty'}, "
                f"newest {migrate.head_revision()}): run `qunguard db upgrade --db {_safe(url)}`"
            )
        store.warm()

    try:
        opening()
    except DOWN_ERRORS as exc:
        if journal is None:
            engine.dispose()
            raise StoreUnavailable(f"cannot reach the database {_safe(url)}: {_reason(exc)}") from exc
        store.opening = opening
        store._went_down(exc)
    return store


def open_records(
    url: str | None = None,
    *,
    journal_dir: str | os.PathLike[str] | None = DEFAULT_JOURNAL_DIR,
    bot_id: str = "",
) -> Store:
    """The store as :class:`bot.moderation.Records` for ``replay --db``: the same
    writes the live bot makes. A context manager; ``close()`` flushes."""
    return open_store(url, journal_dir=journal_dir, bot_id=bot_id)


def _reason(exc: BaseException) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
