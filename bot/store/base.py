"""Shared machinery of the store: the tables and the statements built once,
what counts as "the database is down", the outage and journal plumbing,
transactions, and rows turned into views.

:class:`bot.store.store.Store` is composed of :class:`StoreBase` and the parts
in ``members.py``, ``cases.py``, ``sanctions.py`` and ``reports.py``; they share
the state set up here.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import wraps
from typing import Any, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, Table, bindparam, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import (
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout

from bot.errors import QunguardError, StoreUnavailable
from bot.events import Message
from bot.moderation import RecordedCase
from bot.store import models as m
from bot.store.db import UTCDateTime
from bot.store.journal import Journal
from bot.store.views import (
    ActionView,
    AppealView,
    AuditView,
    BlacklistView,
    CaseView,
    MemberView,
    MuteView,
    Outage,
    ReviewView,
    RoomView,
    ViolationView,
)
from bot.verdicts import PastOffence, Violation

log = logging.getLogger(__name__)

DOWN_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)
"""Errors that mean "the database cannot be reached", as opposed to a bug."""

ROOMS: Table = m.Room.__table__  # type: ignore[assignment]
MEMBERS: Table = m.Member.__table__  # type: ignore[assignment]
NAMES: Table = m.MemberName.__table__  # type: ignore[assignment]
CASES: Table = m.Case.__table__  # type: ignore[assignment]
VIOLATIONS: Table = m.ViolationRow.__table__  # type: ignore[assignment]
ACTIONS: Table = m.CaseAction.__table__  # type: ignore[assignment]
MUTES: Table = m.Mute.__table__  # type: ignore[assignment]
BLACKLIST: Table = m.BlacklistEntry.__table__  # type: ignore[assignment]
APPEALS: Table = m.Appeal.__table__  # type: ignore[assignment]
REVIEWS: Table = m.ReviewRequest.__table__  # type: ignore[assignment]
AUDIT: Table = m.AuditEntry.__table__  # type: ignore[assignment]
DAILY: Table = m.DailyCount.__table__  # type: ignore[assignment]
DAILY_RULES: Table = m.DailyRuleCount.__table__  # type: ignore[assignment]
DAILY_SPEAKERS: Table = m.DailySpeakerCount.__table__  # type: ignore[assignment]
OUTGOING: Table = m.OutgoingMessage.__table__  # type: ignore[assignment]

_CASE_BY_KEY = select(CASES.c.id, CASES.c.state).where(
    CASES.c.room_id == bindparam("r"), CASES.c.message_id == bindparam("m")
)
_INSERT_CASE = {
    "sqlite": sqlite_insert(CASES)
    .on_conflict_do_nothing(index_elements=["room_id", "message_id"])
    .returning(CASES.c.id),
    "postgresql": pg_insert(CASES)
    .on_conflict_do_nothing(index_elements=["room_id", "message_id"])
    .returning(CASES.c.id),
}


def _insert_case(conn: Connection) -> Any:
    try:
        return _INSERT_CASE[conn.dialect.name]
    except KeyError:
        raise QunguardError(f"unsupported database {conn.dialect.name!r}: use SQLite or PostgreSQL") from None


_INSERT_VIOLATION = insert(VIOLATIONS)
_INSERT_ACTION = insert(ACTIONS)
_INSERT_MUTE = insert(MUTES)
_ANY_ACTION = select(ACTIONS.c.id).where(ACTIONS.c.case_id == bindparam("c")).limit(1)
_CASE_ACTIONS = (
    select(ACTIONS.c.params, ACTIONS.c.kind)
    .where(ACTIONS.c.case_id == bindparam("c"))
    .order_by(ACTIONS.c.position)
)
_CASE_DONE = (
    update(CASES)
    .where(CASES.c.id == bindparam("c"), CASES.c.state == "open")
    .values(state="done", updated_at=bindparam("now"))
)
_HISTORY = (
    select(
        VIOLATIONS.c.at,
        VIOLATIONS.c.rule,
        VIOLATIONS.c.category,
        VIOLATIONS.c.severity,
        VIOLATIONS.c.room_id,
        VIOLATIONS.c.message_id,
    )
    .join(CASES, CASES.c.id == VIOLATIONS.c.case_id)
    .where(
        VIOLATIONS.c.sender_id == bindparam("c"),
        VIOLATIONS.c.at >= bindparam("s", type_=UTCDateTime()),
        CASES.c.state != "pardoned",
    )
    .order_by(VIOLATIONS.c.at, VIOLATIONS.c.id)
)
_HISTORY_IN_ROOM = _HISTORY.where(VIOLATIONS.c.room_id == bindparam("r"))

EXCERPT_CHARS = 200
FINAL_ACTION_STATES = {"done", "dry_run", "requested_admins", "dropped", "fallback_mention"}
_RECENT_CASES = 20_000
_OFFENCES_PER_CONTACT = 200

P = ParamSpec("P")
R = TypeVar("R")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def excerpt_of(message: Message) -> str:
    parts = [
        message.text,
        message.title,
        message.description,
        message.url,
        message.card_name,
        message.file_name,
    ]
    parts += list(message.qr_payloads)
    text_ = " | ".join(p for p in parts if p)
    return text_ if len(text_) <= EXCERPT_CHARS else text_[: EXCERPT_CHARS - 1] + "…"


_UPSERTS: dict[tuple[str, str], Any] = {}


def upsert_adding(conn: Connection, table: Table) -> Any:
    """``INSERT ... ON CONFLICT (primary key) DO UPDATE`` that adds the inserted
    counts to the stored ones: for the count tables. Built once per dialect."""
    key = (conn.dialect.name, table.name)
    stmt = _UPSERTS.get(key)
    if stmt is None:
        ins = _insert(conn, table)
        keys = [c.name for c in table.primary_key.columns]
        adds = {c.name: c + ins.excluded[c.name] for c in table.columns if c.name not in keys}
        stmt = _UPSERTS[key] = ins.on_conflict_do_update(index_elements=keys, set_=adds)
    return stmt


def _insert(conn: Connection, table: Table) -> Any:
    name = conn.dialect.name
    if name == "postgresql":
        return pg_insert(table)
    if name == "sqlite":
        return sqlite_insert(table)
    raise QunguardError(f"unsupported database {name!r}: use SQLite or PostgreSQL")


def _db(fn: Callable[P, R]) -> Callable[P, R]:
    """Reads and admin writes: a database that is down becomes StoreUnavailable."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        self: StoreBase = args[0]  # type: ignore[assignment]
        with self._lock:
            # While down, try the database again only every retry_interval_s: a
            # read must not stall the bot on a connect timeout each time.
            if self._down is not None and not self._try_recover():
                raise StoreUnavailable(f"the database is unreachable ({self._down.reason})")
            try:
                return fn(*args, **kwargs)
            except DOWN_ERRORS as exc:
                self._went_down(exc)
                raise StoreUnavailable(f"the database is unreachable ({_short(exc)})") from exc

    return wrapper


def _short(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return str(orig).strip().splitlines()[0][:200] if str(orig).strip() else type(orig).__name__


@dataclass
class _Spoke:
    last_at: datetime
    name: str
    count: int = 0


def _first_per_rule(violations: Sequence[Violation]) -> list[Violation]:
    seen: dict[str, Violation] = {}
    for v in violations:
        seen.setdefault(v.rule, v)
    return list(seen.values())


def _chunks(items: Sequence[Any], n: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


def _room_view(r: Any) -> RoomView:
    return RoomView(
        r.id,
        r.topic,
        bool(r.moderated),
        r.enabled_by,
        r.enabled_at,
        r.bot_id,
        r.owner_id,
        tuple(r.admin_ids or ()),
        r.member_count,
        r.member_cap,
        r.cap_alerted_at,
    )


def _member_view(r: Any, names: tuple[tuple[str, datetime], ...] = ()) -> MemberView:
    return MemberView(
        r.room_id,
        r.contact_id,
        r.display_name,
        r.joined_at,
        r.inviter_id,
        r.left_at,
        r.last_spoke_at,
        r.message_count,
        r.nickname_ok,
        r.intro_done_at,
        bool(r.exempt),
        names,
    )


def _case_view(r: Any, rules: tuple[str, ...] = ()) -> CaseView:
    return CaseView(
        r.id,
        r.room_id,
        r.contact_id,
        r.message_id,
        r.created_at,
        r.severity,
        r.state,
        rules,
        r.pardoned_by,
        r.pardoned_at,
        r.bot_id,
    )


def _violation_view(r: Any) -> ViolationView:
    return ViolationView(
        r.id,
        r.case_id,
        r.room_id,
        r.message_id,
        r.at,
        r.sender_id,
        r.rule,
        r.category,
        r.severity,
        tuple(r.evidence or ()),
        r.excerpt,
        r.message_type,
    )


def _action_view(r: Any) -> ActionView:
    return ActionView(
        r.position, r.kind, r.state, r.at, dict(r.params or {}), r.reason, r.detail, r.actor_id, r.updated_at
    )


def _mute_view(r: Any) -> MuteView:
    return MuteView(
        r.id,
        r.room_id,
        r.contact_id,
        r.starts_at,
        r.until,
        r.case_id,
        r.reason,
        r.muted_by,
        r.lifted_at,
        r.lifted_by,
        r.ended_at,
    )


def _blacklist_view(r: Any) -> BlacklistView:
    return BlacklistView(
        r.id,
        r.contact_id,
        r.room_id,
        r.bot_id,
        r.reason,
        r.added_by,
        r.added_at,
        r.case_id,
        r.removed_at,
        r.removed_by,
    )


def _appeal_view(r: Any) -> AppealView:
    return AppealView(
        r.id, r.case_id, r.contact_id, r.text, r.state, r.created_at, r.decided_by, r.decided_at, r.answer
    )


def _review_view(r: Any) -> ReviewView:
    return ReviewView(
        r.id,
        r.case_id,
        r.action_kind,
        r.requested_at,
        r.deadline,
        r.default_decision,
        r.state,
        r.action_position,
        r.decided_by,
        r.decided_at,
    )


def _audit_view(r: Any) -> AuditView:
    return AuditView(
        r.id, r.at, r.actor_id, r.command, r.room_id, r.target_id, r.case_id, dict(r.detail or {})
    )


_S = TypeVar("_S", bound="StoreBase")


class StoreBase:
    """State and plumbing that every part of the Store shares."""

    def __init__(
        self,
        engine: Engine,
        *,
        bot_id: str = "",
        journal: Journal | None = None,
        tz: str = "Asia/Shanghai",
        retry_interval_s: float = 5.0,
        flush_interval_s: float = 2.0,
        flush_max: int = 10_000,
    ) -> None:
        self.engine = engine
        self.bot_id = bot_id
        self.journal = journal
        self.tz = ZoneInfo(tz)
        self.retry_interval_s = retry_interval_s
        self.flush_interval_s = flush_interval_s
        self.flush_max = flush_max
        self._lock = threading.RLock()
        self._down: Outage | None = None
        self._last_try = 0.0
        self._listeners: list[Callable[[Outage | None], None]] = []
        self._known_rooms: set[str] = set()
        self._recent: OrderedDict[tuple[str, str], RecordedCase] = OrderedDict()
        self._offences: dict[str, list[PastOffence]] = defaultdict(list)
        self._mutes: dict[tuple[str, str], list[tuple[datetime, datetime]]] = defaultdict(list)
        self._provisional: dict[int, tuple[str, str]] = {}
        self._spoke: dict[tuple[str, str], _Spoke] = {}
        self._day_msgs: dict[tuple[str, date], int] = defaultdict(int)
        self._day_speakers: dict[tuple[str, date, str], int] = defaultdict(int)
        self._names: OrderedDict[tuple[str, str], str] = OrderedDict()
        """Display names this process last wrote, to add name history only on a change."""
        self._pending = 0
        self._counted: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._first_pending = 0.0
        self._closed = False
        self._facts: OrderedDict[tuple[str, str], MemberView] = OrderedDict()
        self.opening: Callable[[], None] | None = None
        """What opening still has to do (upgrade, warm) when the database was down then."""
        self._txn_rooms: set[str] = set()

    def __enter__(self: _S) -> _S:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._closed:
            return
        with self._lock:
            try:
                if self._down is not None:
                    self._try_recover(force=True)  # leave nothing in the journal if we can
                self.flush()
            finally:
                self._closed = True
                if self.journal is not None:
                    self.journal.close()
                self.engine.dispose()

    @property
    def outage(self) -> Outage | None:
        """Set while the database is unreachable."""
        return self._down

    @property
    def available(self) -> bool:
        return self._down is None

    def on_outage(self, callback: Callable[[Outage | None], None]) -> None:
        """``callback(Outage)`` once when the database goes away, ``callback(None)``
        once when it is back and the journal is replayed."""
        self._listeners.append(callback)

    def _went_down(self, exc: BaseException) -> None:
        self._last_try = time.monotonic()
        try:
            self.engine.dispose()
        except Exception:  # a broken pool must not hide the outage itself
            log.debug("engine dispose failed", exc_info=True)
        if self._down is not None:
            return
        where = str(self.journal.path) if self.journal is not None else ""
        self._down = Outage(since=utcnow(), reason=_short(exc), journal=where)
        log.error(
            "database unreachable (%s): moderating on; violations and actions go to the journal %s",
            self._down.reason,
            where or "(none: writes will fail)",
        )
        self._notify(self._down)

    def _notify(self, outage: Outage | None) -> None:
        for cb in self._listeners:
            try:
                cb(outage)
            except Exception:
                log.exception("outage callback failed")

    def _usable(self) -> bool:
        return self._down is None or self._try_recover()

    def _try_recover(self, force: bool = False) -> bool:
        if self._down is None:
            return True
        if not force and time.monotonic() - self._last_try < self.retry_interval_s:
            return False
        self._last_try = time.monotonic()
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            if self.opening is not None:  # the database was down when the store opened
                self.opening()
                self.opening = None
            replayed = self._replay_journal()
        except DOWN_ERRORS as exc:
            log.debug("database still unreachable: %s", _short(exc))
            self.engine.dispose()
            return False
        log.warning(
            "database reachable again after %s; %d journal entries written", self._down.since, replayed
        )
        self._down = None
        self._notify(None)
        return True

    def _journal(self, op: str, data: dict[str, Any]) -> int:
        if self.journal is None:
            reason = self._down.reason if self._down else "unknown"
            raise StoreUnavailable(f"the database is unreachable ({reason}) and this store has no journal")
        try:
            return self.journal.append(op, data)
        except OSError as exc:
            log.critical("journal %s cannot be written (%s): this %s is lost", self.journal.path, exc, op)
            raise StoreUnavailable(
                f"the database is unreachable and the journal cannot be written: {exc}"
            ) from exc

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        """A write transaction; rooms it created leave the room cache if it fails."""
        self._txn_rooms = set()
        try:
            with self.engine.begin() as conn:
                yield conn
        except BaseException:
            self._known_rooms -= self._txn_rooms
            raise
        finally:
            self._txn_rooms = set()

    def _write(self, fn: Callable[..., R], *args: Any) -> R:
        """One transaction. Retried: after a unique-key race with another process
        (the retry finds the other's row), and once on a fresh connection when a
        pooled one turns out dead (a server restart). Every write is idempotent,
        so a retry after a commit whose answer was lost adds nothing."""
        fresh_tried = False
        for attempt in range(3):
            try:
                with self._tx() as conn:
                    return fn(conn, *args)
            except IntegrityError:
                if attempt == 2:
                    raise
            except DOWN_ERRORS as exc:
                if fresh_tried or not getattr(exc, "connection_invalidated", False):
                    raise
                fresh_tried = True
        raise AssertionError("unreachable")

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A read-only connection: on SQLite a deferred BEGIN (no write lock), on
        PostgreSQL autocommit (no BEGIN and ROLLBACK round trips)."""
        with self.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                yield conn.execution_options(isolation_level="AUTOCOMMIT")
            else:
                yield conn.execution_options(qunguard_read=True)

    def _require_case(self, conn: Connection, case_no: int) -> Any:
        row = conn.execute(select(CASES).where(CASES.c.id == case_no)).first()
        if row is None:
            raise QunguardError(f"no case {case_no}")
        return row

    def day_of(self, at: datetime) -> date:
        """The local calendar day (the config's timezone) that daily counts use."""
        return (at if at.tzinfo else at.replace(tzinfo=timezone.utc)).astimezone(self.tz).date()

    def _add_daily(self, conn: Connection, room_id: str, day: date, **counts: int) -> None:
        values = {"messages": 0, "joins": 0, "leaves": 0, "violations": 0, **counts}
        conn.execute(upsert_adding(conn, DAILY), {"room_id": room_id, "day": day, **values})

    def _ensure_room(self, conn: Connection, room_id: str, topic: str) -> None:
        if room_id in self._known_rooms:
            return
        now = utcnow()
        conn.execute(
            _insert(conn, ROOMS)
            .values(
                id=room_id,
                topic=topic or "",
                bot_id=self.bot_id,
                admin_ids=[],
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["id"])
        )
        self._known_rooms.add(room_id)
        self._txn_rooms.add(room_id)

    def _drop_mutes(self, room_id: str, contact_id: str, at: datetime) -> None:
        spans = self._mutes.get((room_id, contact_id))
        if spans:
            spans[:] = [(s, min(u, at)) for s, u in spans if s < at]

    def _audit(
        self,
        conn: Connection,
        actor: str,
        command: str,
        room_id: str | None,
        target_id: str | None,
        case_no: int | None,
        detail: dict[str, Any],
        at: datetime,
    ) -> int:
        return conn.execute(
            insert(AUDIT).values(
                at=at,
                actor_id=actor,
                command=command,
                room_id=room_id,
                target_id=target_id,
                case_id=case_no,
                detail=detail,
                bot_id=self.bot_id,
            )
        ).inserted_primary_key[0]  # type: ignore[index]

    # Defined by the parts; declared here so each part type-checks on its own.

    def _replay_journal(self) -> int:  # Store
        raise NotImplementedError

    def _db_record_violations(
        self, conn: Connection, message: Message, violations: Sequence[Violation]
    ) -> tuple[RecordedCase, bool]:  # Store
        raise NotImplementedError

    def _after_violations(
        self, message: Message, violations: Sequence[Violation], case: RecordedCase
    ) -> None:  # Store
        raise NotImplementedError

    def flush(self) -> None:  # defined by MembersMixin
        raise NotImplementedError

    def _db_update_case_state(self, conn: Connection, case_id: int, at: datetime) -> None:  # Store
        raise NotImplementedError
