"""The SQL store: the Records of moderation, plus what the live bot and the
admin tools read and write.

One :class:`Store` per process, sync SQLAlchemy Core on short transactions.
Its moderation path (``record_violations``, ``record_actions``,
``set_action_state``, member joins and leaves) never loses a write: when the
database is unreachable the write goes to the :class:`~bot.store.journal.Journal`
and the bot keeps moderating on in-memory history; on the next write after
``retry_interval_s`` the store tries the database again, replays the journal
in order (each entry idempotent), and carries on. :attr:`Store.outage` and
:meth:`Store.on_outage` let the app tell the admins once. Reads and admin
writes raise :class:`~bot.errors.StoreUnavailable` while the database is down.

Case numbers are the database's; a case recorded during an outage gets a
negative provisional number (``-journal seq``), which :meth:`Store.resolve_case_no`
turns into the real one once the journal is replayed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from functools import wraps
from typing import Any, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, Table, and_, bindparam, delete, func, insert, or_, select, text, update
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

from bot.actions import Action, ActionKind
from bot.errors import QunguardError, StoreUnavailable
from bot.events import MemberJoined, MemberLeft, Message
from bot.moderation import RecordedCase
from bot.store import models as m
from bot.store.db import UTCDateTime
from bot.store.journal import (
    Journal,
    action_from_json,
    action_to_json,
    evidence_to_json,
    message_from_json,
    message_to_json,
    violation_from_json,
    violation_to_json,
)
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
from bot.verdicts import PastOffence, Severity, Violation

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
        self: Store = args[0]  # type: ignore[assignment]
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


class Store:
    """See the module docstring. Open one with :func:`bot.store.open_store`."""

    def __init__(
        self,
        engine: Engine,
        *,
        bot_id: str = "",
        journal: Journal | None = None,
        tz: str = "Asia/Shanghai",
        retry_interval_s: float = 5.0,
        flush_interval_s: float = 1.0,
        flush_max: int = 2000,
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
        self._pending = 0
        self._first_pending = 0.0
        self._closed = False
        self._facts: OrderedDict[tuple[str, str], MemberView] = OrderedDict()
        self.opening: Callable[[], None] | None = None
        """What opening still has to do (upgrade, warm) when the database was down then."""
        self._txn_rooms: set[str] = set()

    # --- lifecycle -------------------------------------------------------------------

    def __enter__(self) -> Store:
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
                self.engine.dispose()

    def warm(self, *, offence_days: int = 60) -> None:
        """Load what the store keeps in memory: mutes in force and recent offences
        (the ladder's history if the database goes away), then replay any journal
        left by an earlier run."""
        with self._lock:
            if self.journal:
                self._replay_journal()
            since = utcnow() - timedelta(days=offence_days)
            with self.engine.connect() as conn:
                self._known_rooms.update(conn.execute(select(ROOMS.c.id)).scalars())
                mutes = conn.execute(
                    select(MUTES.c.room_id, MUTES.c.contact_id, MUTES.c.starts_at, MUTES.c.until)
                    .where(MUTES.c.lifted_at.is_(None))
                    .order_by(MUTES.c.until.desc())
                    .limit(50_000)
                )
                for room, contact, starts, until in mutes:
                    self._mutes[(room, contact)].append((starts, until))
                rows = conn.execute(
                    select(VIOLATIONS, CASES.c.state)
                    .join(CASES, CASES.c.id == VIOLATIONS.c.case_id)
                    .where(VIOLATIONS.c.at >= since, CASES.c.state != "pardoned")
                    .order_by(VIOLATIONS.c.at)
                    .limit(100_000)
                )
                for r in rows:
                    self._remember_offence(
                        r.sender_id,
                        PastOffence(r.at, r.rule, r.category, Severity(r.severity), r.room_id, r.message_id),
                    )

    # --- outage ----------------------------------------------------------------------

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
        return self.journal.append(op, data)

    def _replay_journal(self) -> int:
        """Write every journal entry to the database, in order; idempotent."""
        if not self.journal:
            return 0
        n = 0
        for entry in self.journal.entries():
            d = entry.data
            if entry.op == "violations":
                msg = message_from_json(d["message"])
                vs = [violation_from_json(v) for v in d["violations"]]
                self._write(self._db_record_violations, msg, vs)
            elif entry.op == "actions":
                acts = [action_from_json(a) for a in d["actions"]]
                at = datetime.fromisoformat(d["at"])
                self._write(self._db_record_actions, d["room_id"], d["message_id"], at, acts)
            elif entry.op == "action_state":
                self._write(
                    self._db_set_action_state,
                    d["room_id"],
                    d["message_id"],
                    d["kind"],
                    d["state"],
                    d.get("detail", ""),
                    d.get("by", ""),
                    datetime.fromisoformat(d["at"]),
                    d.get("position"),
                )
            elif entry.op == "joined":
                self._write(
                    self._db_member_joined, MemberJoined(**{**d, "at": datetime.fromisoformat(d["at"])})
                )
            elif entry.op == "left":
                self._write(self._db_member_left, MemberLeft(**{**d, "at": datetime.fromisoformat(d["at"])}))
            else:
                log.warning("journal entry %d: unknown op %r skipped", entry.seq, entry.op)
            n += 1
        self.journal.clear()
        return n

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
        """One transaction; a unique-key race with another process is retried
        (the retry then finds the other's row)."""
        for attempt in range(3):
            try:
                with self._tx() as conn:
                    return fn(conn, *args)
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    # --- Records (bot.moderation.Records) ----------------------------------------------

    def record_violations(self, message: Message, violations: Sequence[Violation]) -> RecordedCase:
        """Commit the violations of one message as one case, before any action is
        taken; a message seen before returns its case with ``is_new=False`` and
        the actions decided then. A case whose actions were never recorded (the
        process died in between) comes back as new, so they are decided now."""
        with self._lock:
            if self._usable():
                try:
                    case, created = self._write(self._db_record_violations, message, violations)
                except DOWN_ERRORS as exc:
                    self._went_down(exc)
                else:
                    if created:
                        self._after_violations(message, violations, case)
                    return case
            return self._journal_violations(message, violations)

    def record_actions(self, case: RecordedCase, message: Message, actions: Sequence[Action]) -> None:
        with self._lock:
            if self._usable():
                try:
                    self._write(
                        self._db_record_actions,
                        message.room_id,
                        message.id,
                        message.at,
                        actions,
                        case.case_no,
                    )
                except DOWN_ERRORS as exc:
                    self._went_down(exc)
                else:
                    self._after_actions(case, message, actions)
                    return
            self._journal(
                "actions",
                {
                    "room_id": message.room_id,
                    "message_id": message.id,
                    "at": message.at.isoformat(),
                    "actions": [action_to_json(a) for a in actions],
                },
            )
            self._after_actions(case, message, actions)

    def history(self, room_id: str | None, contact_id: str, since: datetime) -> list[PastOffence]:
        with self._lock:
            if self._usable():
                try:
                    return self._db_history(room_id, contact_id, since)
                except DOWN_ERRORS as exc:
                    self._went_down(exc)
            return [
                o
                for o in self._offences.get(contact_id, ())
                if o.at >= since and (room_id is None or o.room_id == room_id)
            ]

    def muted_until(self, room_id: str, contact_id: str, at: datetime) -> datetime | None:
        spans = self._mutes.get((room_id, contact_id))
        if not spans:
            return None
        ends = [until for starts, until in spans if starts <= at < until]
        return max(ends) if ends else None

    # --- Records: the database side ------------------------------------------------------
    # The statements of the moderation path are built once: SQLAlchemy then only
    # looks them up in its compiled cache, which halves the cost of each call.

    def _db_record_violations(
        self, conn: Connection, message: Message, violations: Sequence[Violation]
    ) -> tuple[RecordedCase, bool]:
        """(the case, whether this call created it)."""
        self._ensure_room(conn, message.room_id, message.room_topic)
        unique = _first_per_rule(violations)
        severity = max((v.severity for v in unique), key=lambda s: s.rank, default=Severity.MINOR)
        # One statement for the usual case (a new message); a message seen before
        # inserts nothing and is looked up.
        case_id = conn.execute(
            _insert_case(conn),
            {
                "room_id": message.room_id,
                "contact_id": message.sender_id,
                "message_id": message.id,
                "created_at": message.at,
                "severity": severity.value,
                "state": "open",
                "bot_id": self.bot_id,
                "updated_at": utcnow(),
            },
        ).scalar()
        if case_id is None:
            existing = conn.execute(_CASE_BY_KEY, {"r": message.room_id, "m": message.id}).one()
            actions = self._db_actions(conn, existing.id)
            if not actions and existing.state == "open":
                return RecordedCase(existing.id, True), False
            return RecordedCase(existing.id, False, tuple(actions)), False
        excerpt = excerpt_of(message)
        if unique:
            conn.execute(
                _INSERT_VIOLATION,
                [
                    {
                        "case_id": case_id,
                        "room_id": message.room_id,
                        "message_id": message.id,
                        "at": message.at,
                        "sender_id": message.sender_id,
                        "rule": v.rule,
                        "category": v.category,
                        "severity": v.severity.value,
                        "evidence": evidence_to_json(v.evidence),
                        "excerpt": excerpt,
                        "message_type": message.type.value,
                    }
                    for v in unique
                ],
            )
        # Violation counts go in the same transaction: exact across crashes.
        day = self.day_of(message.at)
        self._add_daily(conn, message.room_id, day, violations=len(unique))
        ins = _insert(conn, DAILY_RULES)
        conn.execute(
            ins.on_conflict_do_update(
                index_elements=["room_id", "day", "rule"],
                set_={"count": DAILY_RULES.c.count + ins.excluded.count},
            ),
            [{"room_id": message.room_id, "day": day, "rule": v.rule, "count": 1} for v in unique],
        )
        return RecordedCase(case_id, True), True

    def _db_record_actions(
        self,
        conn: Connection,
        room_id: str,
        message_id: str,
        at: datetime,
        actions: Sequence[Action],
        case_no: int = 0,
    ) -> None:
        if case_no > 0:
            case_id = case_no
        else:
            row = conn.execute(_CASE_BY_KEY, {"r": room_id, "m": message_id}).first()
            if row is None:
                log.error(
                    "no case for message %s in %s: %d actions not recorded", message_id, room_id, len(actions)
                )
                return
            case_id = row.id
        if conn.execute(_ANY_ACTION, {"c": case_id}).first():
            return  # recorded before: a replayed journal entry or a redelivered message
        now = utcnow()
        if not actions:
            conn.execute(_CASE_DONE, {"c": case_id, "now": now})
            return
        conn.execute(
            _INSERT_ACTION,
            [
                {
                    "case_id": case_id,
                    "position": i,
                    "kind": a.kind.value,
                    "params": action_to_json(a),
                    "reason": a.reason,
                    "state": "decided",
                    "actor_id": self.bot_id,
                    "at": at,
                    "updated_at": now,
                }
                for i, a in enumerate(actions)
            ],
        )
        for a in actions:
            if a.kind is ActionKind.MUTE and a.duration is not None:
                conn.execute(
                    _INSERT_MUTE,
                    {
                        "room_id": a.room_id,
                        "contact_id": a.contact_id,
                        "starts_at": at,
                        "until": at + a.duration,
                        "case_id": case_id,
                        "reason": a.reason,
                        "muted_by": self.bot_id,
                    },
                )

    def _db_actions(self, conn: Connection, case_id: int) -> list[Action]:
        rows = conn.execute(_CASE_ACTIONS, {"c": case_id})
        return [action_from_json({"kind": kind, **params}) for params, kind in rows if "room_id" in params]

    def _db_history(self, room_id: str | None, contact_id: str, since: datetime) -> list[PastOffence]:
        with self._read() as conn:
            if room_id is None:
                rows = conn.execute(_HISTORY, {"c": contact_id, "s": since})
            else:
                rows = conn.execute(_HISTORY_IN_ROOM, {"c": contact_id, "s": since, "r": room_id})
            return [PastOffence(r[0], r[1], r[2], Severity(r[3]), r[4], r[5]) for r in rows]

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A read-only connection (on SQLite: a deferred BEGIN, no write lock)."""
        with self.engine.connect() as conn:
            yield conn.execution_options(qunguard_read=True)

    # --- Records: memory ------------------------------------------------------------------

    def _journal_violations(self, message: Message, violations: Sequence[Violation]) -> RecordedCase:
        key = (message.room_id, message.id)
        old = self._recent.get(key)
        if old is not None:
            return RecordedCase(old.case_no, False, old.actions)
        seq = self._journal(
            "violations",
            {"message": message_to_json(message), "violations": [violation_to_json(v) for v in violations]},
        )
        case = RecordedCase(-seq, True)
        self._provisional[-seq] = key
        self._after_violations(message, violations, case)
        return case

    def _after_violations(
        self, message: Message, violations: Sequence[Violation], case: RecordedCase
    ) -> None:
        key = (message.room_id, message.id)
        self._recent[key] = case
        if len(self._recent) > _RECENT_CASES:
            self._recent.popitem(last=False)
        for v in violations:
            self._remember_offence(
                message.sender_id,
                PastOffence(message.at, v.rule, v.category, v.severity, message.room_id, message.id),
            )

    def _remember_offence(self, contact_id: str, offence: PastOffence) -> None:
        mine = self._offences[contact_id]
        mine.append(offence)
        if len(mine) > _OFFENCES_PER_CONTACT:
            del mine[0]

    def _after_actions(self, case: RecordedCase, message: Message, actions: Sequence[Action]) -> None:
        key = (message.room_id, message.id)
        self._recent[key] = RecordedCase(case.case_no, True, tuple(actions))
        for a in actions:
            if a.kind is ActionKind.MUTE and a.duration is not None:
                self._mutes[(a.room_id, a.contact_id)].append((message.at, message.at + a.duration))

    def resolve_case_no(self, case_no: int) -> int | None:
        """The real case number of a provisional (negative) one, once it is in the database."""
        if case_no > 0:
            return case_no
        key = self._provisional.get(case_no)
        if key is None or self._down is not None:
            return None
        try:
            with self.engine.connect() as conn:
                return conn.execute(
                    select(CASES.c.id).where(CASES.c.room_id == key[0], CASES.c.message_id == key[1])
                ).scalar()
        except DOWN_ERRORS as exc:
            self._went_down(exc)
            return None

    # --- actions after the fact ---------------------------------------------------------

    def set_action_state(
        self,
        case_no: int,
        kind: ActionKind | str,
        state: str,
        detail: str = "",
        by: str = "",
        at: datetime | None = None,
        *,
        position: int | None = None,
    ) -> None:
        """Record what became of a case's action: done, failed (with ``detail``),
        dry_run, awaiting_review, requested_admins, dropped, fallback_mention.
        The action is the case's ``position``-th, or every one of that ``kind``;
        the case's state follows. Journaled while the database is down."""
        kind = ActionKind(kind).value if isinstance(kind, ActionKind) else kind
        at = at or utcnow()
        with self._lock:
            key = self._provisional.get(case_no) if case_no < 0 else None
            if self._usable():
                try:
                    if key is None:
                        key = self._case_key(case_no)
                    self._write(
                        self._db_set_action_state,
                        key[0],
                        key[1],
                        kind,
                        state,
                        detail,
                        by or self.bot_id,
                        at,
                        position,
                    )
                    return
                except DOWN_ERRORS as exc:
                    self._went_down(exc)
            if key is None:
                key = next((k for k, c in self._recent.items() if c.case_no == case_no), None)
            if key is None:
                raise StoreUnavailable(f"the database is unreachable and case {case_no} is not in memory")
            self._journal(
                "action_state",
                {
                    "room_id": key[0],
                    "message_id": key[1],
                    "kind": kind,
                    "state": state,
                    "detail": detail,
                    "by": by or self.bot_id,
                    "at": at.isoformat(),
                    "position": position,
                },
            )

    def record_outcome(
        self, case_no: int, position: int, action: Action, state: str, detail: str, at: datetime
    ) -> None:
        """The outcome of the case's ``position``-th action (the app's name for
        :meth:`set_action_state`)."""
        self.set_action_state(case_no, action.kind, state, detail, self.bot_id, at, position=position)

    def _case_key(self, case_no: int) -> tuple[str, str]:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(CASES.c.room_id, CASES.c.message_id).where(CASES.c.id == case_no)
            ).first()
        if row is None:
            raise QunguardError(f"no case {case_no}")
        return row.room_id, row.message_id

    def _db_set_action_state(
        self,
        conn: Connection,
        room_id: str,
        message_id: str,
        kind: str,
        state: str,
        detail: str,
        by: str,
        at: datetime,
        position: int | None = None,
    ) -> None:
        case_id = conn.execute(
            select(CASES.c.id).where(CASES.c.room_id == room_id, CASES.c.message_id == message_id)
        ).scalar()
        if case_id is None:
            log.error("set_action_state: no case for message %s in %s", message_id, room_id)
            return
        which = ACTIONS.c.kind == kind if position is None else ACTIONS.c.position == position
        done = conn.execute(
            update(ACTIONS)
            .where(ACTIONS.c.case_id == case_id, which)
            .values(state=state, detail=detail, actor_id=by, updated_at=at)
        ).rowcount
        if not done:
            position = conn.execute(
                select(func.coalesce(func.max(ACTIONS.c.position) + 1, 0)).where(ACTIONS.c.case_id == case_id)
            ).scalar_one()
            conn.execute(
                insert(ACTIONS).values(
                    case_id=case_id,
                    position=position,
                    kind=kind,
                    params={},
                    state=state,
                    detail=detail,
                    actor_id=by,
                    at=at,
                    updated_at=at,
                )
            )
        self._db_update_case_state(conn, case_id, at)

    def _db_update_case_state(self, conn: Connection, case_id: int, at: datetime) -> None:
        current = conn.execute(select(CASES.c.state).where(CASES.c.id == case_id)).scalar_one()
        if current == "pardoned":
            return
        states = set(conn.execute(select(ACTIONS.c.state).where(ACTIONS.c.case_id == case_id)).scalars())
        if "failed" in states:
            new = "failed"
        elif "awaiting_review" in states:
            new = "awaiting_review"
        elif states <= FINAL_ACTION_STATES:
            new = "done"
        else:
            new = "open"
        if new != current:
            conn.execute(update(CASES).where(CASES.c.id == case_id).values(state=new, updated_at=at))

    @_db
    def add_action(
        self,
        case_no: int,
        action: Action,
        state: str = "decided",
        by: str = "",
        detail: str = "",
        at: datetime | None = None,
    ) -> int:
        """Append an action decided later (an admin's command, a review's outcome);
        returns its position on the case."""
        at = at or utcnow()
        with self._tx() as conn:
            self._require_case(conn, case_no)
            position = conn.execute(select(func.count()).where(ACTIONS.c.case_id == case_no)).scalar_one()
            conn.execute(
                insert(ACTIONS).values(
                    case_id=case_no,
                    position=position,
                    kind=action.kind.value,
                    params=action_to_json(action),
                    reason=action.reason,
                    state=state,
                    detail=detail,
                    actor_id=by or self.bot_id,
                    at=at,
                    updated_at=at,
                )
            )
            if action.kind is ActionKind.MUTE and action.duration is not None:
                conn.execute(
                    insert(MUTES).values(
                        room_id=action.room_id,
                        contact_id=action.contact_id,
                        starts_at=at,
                        until=at + action.duration,
                        case_id=case_no,
                        reason=action.reason,
                        muted_by=by,
                    )
                )
                self._mutes[(action.room_id, action.contact_id)].append((at, at + action.duration))
            self._db_update_case_state(conn, case_no, at)
        return position

    @_db
    def open_case(
        self,
        room_id: str,
        contact_id: str,
        *,
        rule: str = "manual",
        category: str = "manual",
        severity: Severity = Severity.MODERATE,
        by: str = "",
        reason: str = "",
        at: datetime | None = None,
        message_id: str = "",
    ) -> int:
        """A case an admin opens by hand (``#警告 @张三 发广告``): no message, or a
        quoted one. Returns the case number."""
        at = at or utcnow()
        msg = Message(
            id=message_id or f"manual:{by}:{at.timestamp():.6f}",
            room_id=room_id,
            sender_id=contact_id,
            at=at,
            text=reason,
        )
        v = Violation(rule, category, severity, room_id, contact_id, msg.id)
        case, created = self._write(self._db_record_violations, msg, [v])
        if created:
            self._after_violations(msg, [v], case)
        return case.case_no

    def _require_case(self, conn: Connection, case_no: int) -> Any:
        row = conn.execute(select(CASES).where(CASES.c.id == case_no)).first()
        if row is None:
            raise QunguardError(f"no case {case_no}")
        return row

    # --- messages, members and rooms ---------------------------------------------------

    def day_of(self, at: datetime) -> date:
        """The local calendar day (the config's timezone) that daily counts use."""
        return (at if at.tzinfo else at.replace(tzinfo=timezone.utc)).astimezone(self.tz).date()

    def note_message(
        self, room_id: str | Message, contact_id: str = "", at: datetime | None = None, name: str = ""
    ) -> None:
        """Count a message (daily counts, last spoke, name history); takes a
        :class:`Message` or its room, sender, time and sender name. Cheap: kept in
        memory and written in batches (every ``flush_interval_s`` or ``flush_max``
        messages, on :meth:`flush` and on close); a crash loses at most that batch
        of counts, never a violation."""
        if isinstance(room_id, Message):
            room_id, contact_id, at, name = (
                room_id.room_id,
                room_id.sender_id,
                room_id.at,
                room_id.sender_name,
            )
        assert at is not None, "note_message needs the message time"
        with self._lock:
            key = (room_id, contact_id)
            s = self._spoke.get(key)
            if s is None:
                self._spoke[key] = _Spoke(at, name, 1)
            else:
                s.count += 1
                if at >= s.last_at:
                    s.last_at = at
                    s.name = name or s.name
            day = self.day_of(at)
            self._day_msgs[(room_id, day)] += 1
            self._day_speakers[(room_id, day, contact_id)] += 1
            self._mark_pending()

    def _mark_pending(self) -> None:
        now = time.monotonic()
        if self._pending == 0:
            self._first_pending = now
        self._pending += 1
        if self._pending >= self.flush_max or now - self._first_pending >= self.flush_interval_s:
            self.flush()

    def flush(self) -> None:
        """Write the buffered message counts; kept for later if the database is down."""
        with self._lock:
            if not self._pending or not self._usable():
                return
            try:
                with self._tx() as conn:
                    self._db_flush(conn)
            except DOWN_ERRORS as exc:
                self._went_down(exc)
                return
            self._spoke.clear()
            self._day_msgs.clear()
            self._day_speakers.clear()
            self._pending = 0

    def _db_flush(self, conn: Connection) -> None:
        rooms = {r for r, _ in self._spoke} | {r for r, _ in self._day_msgs}
        for room in rooms:
            self._ensure_room(conn, room, "")
        by_room: dict[str, list[str]] = defaultdict(list)
        for room, contact in self._spoke:
            by_room[room].append(contact)
        updates, inserts, names = [], [], []
        for room, contacts in by_room.items():
            for chunk in _chunks(contacts, 500):
                existing = {
                    r.contact_id: r
                    for r in conn.execute(
                        select(
                            MEMBERS.c.id,
                            MEMBERS.c.contact_id,
                            MEMBERS.c.display_name,
                            MEMBERS.c.last_spoke_at,
                        ).where(MEMBERS.c.room_id == room, MEMBERS.c.contact_id.in_(chunk))
                    )
                }
                for contact in chunk:
                    s = self._spoke[(room, contact)]
                    row = existing.get(contact)
                    if row is None:
                        inserts.append(
                            {
                                "room_id": room,
                                "contact_id": contact,
                                "display_name": s.name,
                                "last_spoke_at": s.last_at,
                                "message_count": s.count,
                            }
                        )
                        if s.name:
                            names.append(
                                {"room_id": room, "contact_id": contact, "name": s.name, "seen_at": s.last_at}
                            )
                        continue
                    last = (
                        s.last_at
                        if row.last_spoke_at is None or s.last_at > row.last_spoke_at
                        else row.last_spoke_at
                    )
                    name = s.name or row.display_name
                    updates.append({"_id": row.id, "_name": name, "_last": last, "_n": s.count})
                    if s.name and s.name != row.display_name:
                        names.append(
                            {"room_id": room, "contact_id": contact, "name": s.name, "seen_at": s.last_at}
                        )
        if inserts:
            conn.execute(insert(MEMBERS), inserts)
        if updates:
            conn.execute(
                update(MEMBERS)
                .where(MEMBERS.c.id == bindparam("_id"))
                .values(
                    display_name=bindparam("_name"),
                    last_spoke_at=bindparam("_last"),
                    message_count=MEMBERS.c.message_count + bindparam("_n"),
                ),
                updates,
            )
        if names:
            conn.execute(insert(NAMES), names)
        speakers_new: dict[tuple[str, date], int] = defaultdict(int)
        per_day: dict[tuple[str, date], list[str]] = defaultdict(list)
        for room, day, contact in self._day_speakers:
            per_day[(room, day)].append(contact)
        ins = _insert(conn, DAILY_SPEAKERS)
        for (room, day), contacts in per_day.items():
            for chunk in _chunks(contacts, 500):
                seen = set(
                    conn.execute(
                        select(DAILY_SPEAKERS.c.contact_id).where(
                            DAILY_SPEAKERS.c.room_id == room,
                            DAILY_SPEAKERS.c.day == day,
                            DAILY_SPEAKERS.c.contact_id.in_(chunk),
                        )
                    ).scalars()
                )
                speakers_new[(room, day)] += sum(1 for c in chunk if c not in seen)
            conn.execute(
                ins.on_conflict_do_update(
                    index_elements=["room_id", "day", "contact_id"],
                    set_={"messages": DAILY_SPEAKERS.c.messages + ins.excluded.messages},
                ),
                [
                    {
                        "room_id": room,
                        "day": day,
                        "contact_id": c,
                        "messages": self._day_speakers[(room, day, c)],
                    }
                    for c in contacts
                ],
            )
        for (room, day), n in self._day_msgs.items():
            self._add_daily(conn, room, day, messages=n, speakers=speakers_new.get((room, day), 0))

    def _add_daily(self, conn: Connection, room_id: str, day: date, **counts: int) -> None:
        values = {"messages": 0, "speakers": 0, "joins": 0, "leaves": 0, "violations": 0, **counts}
        ins = _insert(conn, DAILY).values(room_id=room_id, day=day, **values)
        conn.execute(
            ins.on_conflict_do_update(
                index_elements=["room_id", "day"], set_={k: DAILY.c[k] + v for k, v in counts.items()}
            )
        )

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

    def member_joined(self, event: MemberJoined) -> None:
        """Record a join (inviter, time, name); journaled while the database is down."""
        self._journaled_write("joined", self._db_member_joined, event)

    def member_left(self, event: MemberLeft) -> None:
        self._journaled_write("left", self._db_member_left, event)

    def _journaled_write(self, op: str, fn: Callable[..., Any], event: MemberJoined | MemberLeft) -> None:
        with self._lock:
            self._update_facts(event)
            if self._usable():
                try:
                    self._write(fn, event)
                    return
                except DOWN_ERRORS as exc:
                    self._went_down(exc)
            data = {f: getattr(event, f) for f in event.__dataclass_fields__}
            data["at"] = event.at.isoformat()
            self._journal(op, data)

    def _update_facts(self, event: MemberJoined | MemberLeft) -> None:
        key = (event.room_id, event.contact_id)
        old = self._facts.get(key) or MemberView(event.room_id, event.contact_id)
        if isinstance(event, MemberJoined):
            new = replace(
                old,
                display_name=event.name or old.display_name,
                joined_at=event.at,
                inviter_id=event.inviter_id,
                left_at=None,
            )
        else:
            new = replace(old, left_at=event.at)
        self._cache_facts(key, new)

    def _cache_facts(self, key: tuple[str, str], view: MemberView) -> None:
        self._facts[key] = view
        self._facts.move_to_end(key)
        if len(self._facts) > _RECENT_CASES:
            self._facts.popitem(last=False)

    def member_facts(self, room_id: str, contact_id: str) -> MemberView | None:
        """What the ladder needs about a member (joined at, inviter, exempt, present),
        from memory when it can: asked for every message. While the database is
        down, what is in memory or None."""
        key = (room_id, contact_id)
        with self._lock:
            cached = self._facts.get(key)
            if cached is not None:
                return cached
            if not self._usable():
                return None
            try:
                with self.engine.connect() as conn:
                    row = conn.execute(
                        select(MEMBERS).where(
                            MEMBERS.c.room_id == room_id, MEMBERS.c.contact_id == contact_id
                        )
                    ).first()
            except DOWN_ERRORS as exc:
                self._went_down(exc)
                return None
            if row is None:
                return None
            view = _member_view(row)
            self._cache_facts(key, view)
            return view

    def record_join(
        self, room_id: str, contact_id: str, at: datetime, inviter_id: str = "", name: str = ""
    ) -> None:
        self.member_joined(MemberJoined(room_id, contact_id, at, name=name, inviter_id=inviter_id))

    def record_leave(self, room_id: str, contact_id: str, at: datetime) -> None:
        self.member_left(MemberLeft(room_id, contact_id, at))

    @_db
    def present_members(self, room_id: str) -> set[str]:
        """Contact ids of the members in a room now, as far as the store knows."""
        self.flush()
        with self.engine.connect() as conn:
            return set(
                conn.execute(
                    select(MEMBERS.c.contact_id).where(
                        MEMBERS.c.room_id == room_id, MEMBERS.c.left_at.is_(None)
                    )
                ).scalars()
            )

    def _db_member_joined(self, conn: Connection, e: MemberJoined) -> None:
        self._ensure_room(conn, e.room_id, e.room_topic)
        row = conn.execute(
            select(MEMBERS.c.id, MEMBERS.c.joined_at, MEMBERS.c.left_at, MEMBERS.c.display_name).where(
                MEMBERS.c.room_id == e.room_id, MEMBERS.c.contact_id == e.contact_id
            )
        ).first()
        if row is not None and row.joined_at == e.at:
            return  # the same event again
        values = {"joined_at": e.at, "inviter_id": e.inviter_id, "left_at": None}
        if e.name:
            values["display_name"] = e.name
        if row is None:
            conn.execute(insert(MEMBERS).values(room_id=e.room_id, contact_id=e.contact_id, **values))
        else:
            conn.execute(update(MEMBERS).where(MEMBERS.c.id == row.id).values(**values))
        if e.name and (row is None or row.display_name != e.name):
            conn.execute(
                insert(NAMES).values(room_id=e.room_id, contact_id=e.contact_id, name=e.name, seen_at=e.at)
            )
        self._add_daily(conn, e.room_id, self.day_of(e.at), joins=1)

    def _db_member_left(self, conn: Connection, e: MemberLeft) -> None:
        self._ensure_room(conn, e.room_id, "")
        row = conn.execute(
            select(MEMBERS.c.id, MEMBERS.c.left_at).where(
                MEMBERS.c.room_id == e.room_id, MEMBERS.c.contact_id == e.contact_id
            )
        ).first()
        if row is not None and row.left_at is not None and row.left_at >= e.at:
            return
        if row is None:
            conn.execute(insert(MEMBERS).values(room_id=e.room_id, contact_id=e.contact_id, left_at=e.at))
        else:
            conn.execute(update(MEMBERS).where(MEMBERS.c.id == row.id).values(left_at=e.at))
        self._add_daily(conn, e.room_id, self.day_of(e.at), leaves=1)

    @_db
    def member(self, room_id: str, contact_id: str) -> MemberView | None:
        self.flush()
        with self.engine.connect() as conn:
            row = conn.execute(
                select(MEMBERS).where(MEMBERS.c.room_id == room_id, MEMBERS.c.contact_id == contact_id)
            ).first()
            if row is None:
                return None
            names = conn.execute(
                select(NAMES.c.name, NAMES.c.seen_at)
                .where(NAMES.c.room_id == room_id, NAMES.c.contact_id == contact_id)
                .order_by(NAMES.c.seen_at, NAMES.c.id)
            ).all()
        return _member_view(row, tuple((n, at) for n, at in names))

    @_db
    def members(self, room_id: str, *, present: bool = True) -> list[MemberView]:
        """Members of a room (those who have not left, unless ``present=False``)."""
        self.flush()
        q = select(MEMBERS).where(MEMBERS.c.room_id == room_id).order_by(MEMBERS.c.contact_id)
        if present:
            q = q.where(MEMBERS.c.left_at.is_(None))
        with self.engine.connect() as conn:
            return [_member_view(r) for r in conn.execute(q)]

    @_db
    def set_member(
        self,
        room_id: str,
        contact_id: str,
        *,
        nickname_ok: bool | None = None,
        intro_done_at: datetime | None = None,
        exempt: bool | None = None,
        by: str = "",
    ) -> None:
        """Set a member's lifecycle flags or exemption (creating the member if unknown)."""
        values: dict[str, Any] = {}
        if nickname_ok is not None:
            values["nickname_ok"] = nickname_ok
        if intro_done_at is not None:
            values["intro_done_at"] = intro_done_at
        if exempt is not None:
            values["exempt"] = exempt
            values["exempt_by"] = by
        with self._tx() as conn:
            self._ensure_room(conn, room_id, "")
            n = conn.execute(
                update(MEMBERS)
                .where(MEMBERS.c.room_id == room_id, MEMBERS.c.contact_id == contact_id)
                .values(**values)
            ).rowcount
            if not n:
                conn.execute(insert(MEMBERS).values(room_id=room_id, contact_id=contact_id, **values))
        self._facts.pop((room_id, contact_id), None)

    @_db
    def upsert_room(
        self,
        room_id: str,
        *,
        topic: str | None = None,
        owner_id: str | None = None,
        admin_ids: Sequence[str] | None = None,
        member_count: int | None = None,
        member_cap: int | None = None,
    ) -> RoomView:
        """Create or refresh what the bot knows about a room (from WeChat)."""
        now = utcnow()
        values: dict[str, Any] = {"updated_at": now}
        if self.bot_id:
            values["bot_id"] = self.bot_id
        for k, v in (
            ("topic", topic),
            ("owner_id", owner_id),
            ("member_count", member_count),
            ("member_cap", member_cap),
        ):
            if v is not None:
                values[k] = v
        if admin_ids is not None:
            values["admin_ids"] = list(admin_ids)
        with self._tx() as conn:
            self._ensure_room(conn, room_id, topic or "")
            conn.execute(update(ROOMS).where(ROOMS.c.id == room_id).values(**values))
            return _room_view(conn.execute(select(ROOMS).where(ROOMS.c.id == room_id)).one())

    @_db
    def save_room(
        self,
        room_id: str,
        topic: str,
        owner_id: str,
        admin_ids: Sequence[str],
        member_count: int,
        bot_id: str,
        at: datetime,
    ) -> bool:
        """What WeChat says about a room now; True when the store did not know it."""
        with self._tx() as conn:
            new = conn.execute(select(ROOMS.c.id).where(ROOMS.c.id == room_id)).first() is None
            self._ensure_room(conn, room_id, topic)
            conn.execute(
                update(ROOMS)
                .where(ROOMS.c.id == room_id)
                .values(
                    topic=topic,
                    owner_id=owner_id,
                    admin_ids=list(admin_ids),
                    member_count=member_count,
                    bot_id=bot_id,
                    updated_at=at,
                )
            )
        return new

    @_db
    def switched_rooms(self) -> dict[str, bool]:
        """Rooms a person switched on or off (``#启用`` / ``#停用``), of this bot
        (of every bot when the store has no ``bot_id``)."""
        q = select(ROOMS.c.id, ROOMS.c.moderated).where(ROOMS.c.enabled_by.is_not(None))
        if self.bot_id:
            q = q.where(ROOMS.c.bot_id == self.bot_id)
        with self.engine.connect() as conn:
            return {room: bool(on) for room, on in conn.execute(q)}

    @_db
    def set_room_moderated(
        self, room_id: str, moderated: bool, by: str = "", at: datetime | None = None
    ) -> RoomView:
        at = at or utcnow()
        with self._tx() as conn:
            self._ensure_room(conn, room_id, "")
            conn.execute(
                update(ROOMS)
                .where(ROOMS.c.id == room_id)
                .values(
                    moderated=moderated,
                    enabled_by=by,
                    enabled_at=at,
                    updated_at=at,
                    **({"bot_id": self.bot_id} if self.bot_id else {}),
                )
            )
            return _room_view(conn.execute(select(ROOMS).where(ROOMS.c.id == room_id)).one())

    @_db
    def room(self, room_id: str) -> RoomView | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(ROOMS).where(ROOMS.c.id == room_id)).first()
        return _room_view(row) if row else None

    @_db
    def moderated_rooms(self, bot_id: str | None = None) -> list[RoomView]:
        """Rooms enabled for moderation (by this store's bot unless ``bot_id`` is given)."""
        bot = self.bot_id if bot_id is None else bot_id
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(ROOMS).where(ROOMS.c.moderated.is_(True), ROOMS.c.bot_id == bot).order_by(ROOMS.c.id)
            )
            return [_room_view(r) for r in rows]

    # --- cases ----------------------------------------------------------------------------

    @_db
    def case(self, case_no: int) -> CaseStory | None:
        """The whole story of one case: violations, actions, mutes, appeals, reviews, audit."""
        with self.engine.connect() as conn:
            row = conn.execute(select(CASES).where(CASES.c.id == case_no)).first()
            if row is None:
                return None
            vs = [
                _violation_view(r)
                for r in conn.execute(
                    select(VIOLATIONS).where(VIOLATIONS.c.case_id == case_no).order_by(VIOLATIONS.c.id)
                )
            ]
            acts = [
                _action_view(r)
                for r in conn.execute(
                    select(ACTIONS).where(ACTIONS.c.case_id == case_no).order_by(ACTIONS.c.position)
                )
            ]
            mutes = [
                _mute_view(r)
                for r in conn.execute(select(MUTES).where(MUTES.c.case_id == case_no).order_by(MUTES.c.id))
            ]
            appeals = [
                _appeal_view(r)
                for r in conn.execute(
                    select(APPEALS).where(APPEALS.c.case_id == case_no).order_by(APPEALS.c.id)
                )
            ]
            reviews = [
                _review_view(r)
                for r in conn.execute(
                    select(REVIEWS).where(REVIEWS.c.case_id == case_no).order_by(REVIEWS.c.id)
                )
            ]
            audit = [
                _audit_view(r)
                for r in conn.execute(
                    select(AUDIT).where(AUDIT.c.case_id == case_no).order_by(AUDIT.c.at, AUDIT.c.id)
                )
            ]
        return CaseStory(
            _case_view(row, tuple(v.rule for v in vs)),
            tuple(vs),
            tuple(acts),
            tuple(mutes),
            tuple(appeals),
            tuple(reviews),
            tuple(audit),
        )

    @_db
    def case_for_message(self, room_id: str, message_id: str) -> CaseView | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(CASES).where(CASES.c.room_id == room_id, CASES.c.message_id == message_id)
            ).first()
        return _case_view(row) if row else None

    @_db
    def cases(
        self,
        *,
        room_id: str | None = None,
        contact_id: str | None = None,
        state: str | None = None,
        since: datetime | None = None,
        limit: int | None = 100,
    ) -> list[CaseView]:
        """Newest first."""
        q = select(CASES).order_by(CASES.c.id.desc())
        if room_id:
            q = q.where(CASES.c.room_id == room_id)
        if contact_id:
            q = q.where(CASES.c.contact_id == contact_id)
        if state:
            q = q.where(CASES.c.state == state)
        if since:
            q = q.where(CASES.c.created_at >= since)
        if limit:
            q = q.limit(limit)
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
            rules: dict[int, list[str]] = defaultdict(list)
            ids = [r.id for r in rows]
            for chunk in _chunks(ids, 500):
                for case_id, rule in conn.execute(
                    select(VIOLATIONS.c.case_id, VIOLATIONS.c.rule)
                    .where(VIOLATIONS.c.case_id.in_(chunk))
                    .order_by(VIOLATIONS.c.id)
                ):
                    rules[case_id].append(rule)
        return [_case_view(r, tuple(rules[r.id])) for r in rows]

    @_db
    def violations(
        self,
        *,
        room_id: str | None = None,
        contact_id: str | None = None,
        since: datetime | None = None,
        rule: str | None = None,
        limit: int | None = None,
    ) -> list[ViolationView]:
        """Oldest first (pardoned ones included: this is the record, not the ladder)."""
        q = select(VIOLATIONS).order_by(VIOLATIONS.c.at, VIOLATIONS.c.id)
        if room_id:
            q = q.where(VIOLATIONS.c.room_id == room_id)
        if contact_id:
            q = q.where(VIOLATIONS.c.sender_id == contact_id)
        if since:
            q = q.where(VIOLATIONS.c.at >= since)
        if rule:
            q = q.where(VIOLATIONS.c.rule == rule)
        if limit:
            q = q.limit(limit)
        with self.engine.connect() as conn:
            return [_violation_view(r) for r in conn.execute(q)]

    @_db
    def pardon(self, case_no: int, by: str, reason: str = "", at: datetime | None = None) -> CaseView:
        """Pardon a case: its strike leaves the ladder's history, its mute is lifted,
        its blacklist entry removed; audited."""
        at = at or utcnow()
        with self._tx() as conn:
            row = self._require_case(conn, case_no)
            conn.execute(
                update(CASES)
                .where(CASES.c.id == case_no)
                .values(state="pardoned", pardoned_by=by, pardoned_at=at, updated_at=at)
            )
            conn.execute(
                update(MUTES)
                .where(MUTES.c.case_id == case_no, MUTES.c.lifted_at.is_(None))
                .values(lifted_at=at, lifted_by=by)
            )
            conn.execute(
                update(BLACKLIST)
                .where(BLACKLIST.c.case_id == case_no, BLACKLIST.c.removed_at.is_(None))
                .values(removed_at=at, removed_by=by)
            )
            self._audit(
                conn,
                by,
                "pardon",
                row.room_id,
                row.contact_id,
                case_no,
                {"reason": reason} if reason else {},
                at,
            )
            new = conn.execute(select(CASES).where(CASES.c.id == case_no)).one()
        mine = self._offences.get(row.contact_id, [])
        mine[:] = [o for o in mine if not (o.room_id == row.room_id and o.message_id == row.message_id)]
        self._drop_mutes(row.room_id, row.contact_id, at)
        return _case_view(new)

    # --- mutes ----------------------------------------------------------------------------

    @_db
    def active_mutes(self, at: datetime | None = None) -> list[MuteView]:
        """Mutes in force at ``at`` (for re-arming expiry jobs after a restart)."""
        at = at or utcnow()
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(MUTES)
                .where(MUTES.c.lifted_at.is_(None), MUTES.c.starts_at <= at, MUTES.c.until > at)
                .order_by(MUTES.c.until)
            )
            return [_mute_view(r) for r in rows]

    @_db
    def end_mutes(self, now: datetime) -> list[MuteView]:
        """Mutes whose time is up at ``now`` and not yet seen ending: marked ended
        and returned, each once (to tell the member)."""
        with self._tx() as conn:
            rows = conn.execute(
                select(MUTES)
                .where(MUTES.c.lifted_at.is_(None), MUTES.c.ended_at.is_(None), MUTES.c.until <= now)
                .order_by(MUTES.c.until)
            ).all()
            if rows:
                conn.execute(update(MUTES).where(MUTES.c.id.in_([r.id for r in rows])).values(ended_at=now))
        return [replace(_mute_view(r), ended_at=now) for r in rows]

    @_db
    def mute(
        self,
        room_id: str,
        contact_id: str,
        until: datetime,
        *,
        by: str = "",
        case_no: int | None = None,
        reason: str = "",
        at: datetime | None = None,
    ) -> MuteView:
        """An admin's mute by hand."""
        at = at or utcnow()
        with self._tx() as conn:
            self._ensure_room(conn, room_id, "")
            mid = conn.execute(
                insert(MUTES).values(
                    room_id=room_id,
                    contact_id=contact_id,
                    starts_at=at,
                    until=until,
                    case_id=case_no,
                    reason=reason,
                    muted_by=by,
                )
            ).inserted_primary_key[0]
            row = conn.execute(select(MUTES).where(MUTES.c.id == mid)).one()
        self._mutes[(room_id, contact_id)].append((at, until))
        return _mute_view(row)

    @_db
    def lift_mute(self, room_id: str, contact_id: str, by: str = "", at: datetime | None = None) -> int:
        """Lift every mute of a member in a room; returns how many were in force."""
        at = at or utcnow()
        with self._tx() as conn:
            n = conn.execute(
                update(MUTES)
                .where(
                    MUTES.c.room_id == room_id,
                    MUTES.c.contact_id == contact_id,
                    MUTES.c.lifted_at.is_(None),
                    MUTES.c.until > at,
                )
                .values(lifted_at=at, lifted_by=by)
            ).rowcount
        self._drop_mutes(room_id, contact_id, at)
        return n

    def _drop_mutes(self, room_id: str, contact_id: str, at: datetime) -> None:
        spans = self._mutes.get((room_id, contact_id))
        if spans:
            spans[:] = [(s, min(u, at)) for s, u in spans if s < at]

    # --- blacklist --------------------------------------------------------------------------

    @_db
    def blacklist_add(
        self,
        contact_id: str,
        *,
        scope: str = "room",
        room_id: str | None = None,
        reason: str = "",
        by: str = "",
        case_no: int | None = None,
        at: datetime | None = None,
    ) -> BlacklistView:
        """Blacklist a contact. ``scope``: ``room`` (``room_id`` only), ``bot``
        (every room of this bot) or ``all`` (every bot sharing the database)."""
        if scope not in ("room", "bot", "all"):
            raise QunguardError(f"blacklist scope must be room, bot or all, not {scope!r}")
        if scope == "room" and not room_id:
            raise QunguardError("a room-scoped blacklist entry needs a room")
        return self.add_blacklist(
            contact_id,
            room_id if scope == "room" else None,
            None if scope == "all" else self.bot_id,
            reason,
            by,
            case_no,
            at or utcnow(),
        )

    @_db
    def add_blacklist(
        self,
        contact_id: str,
        room_id: str | None,
        bot_id: str | None,
        reason: str,
        by: str,
        case_no: int | None,
        at: datetime,
    ) -> BlacklistView:
        """The primitive under :meth:`blacklist_add`: ``room_id`` None bars every
        room (of ``bot_id``, or of every bot when that is None too)."""
        values = {
            "contact_id": contact_id,
            "room_id": room_id,
            "bot_id": bot_id,
            "reason": reason,
            "added_by": by,
            "added_at": at,
            "case_id": case_no if case_no and case_no > 0 else None,
        }
        with self._tx() as conn:
            bid = conn.execute(insert(BLACKLIST).values(**values)).inserted_primary_key[0]
            return _blacklist_view(conn.execute(select(BLACKLIST).where(BLACKLIST.c.id == bid)).one())

    @_db
    def blacklist_remove(
        self, contact_id: str, *, room_id: str | None = None, by: str = "", at: datetime | None = None
    ) -> int:
        """Remove the entries that bar ``contact_id`` from ``room_id`` (or all of the
        contact's entries when no room is given); returns how many."""
        at = at or utcnow()
        q = update(BLACKLIST).where(BLACKLIST.c.contact_id == contact_id, BLACKLIST.c.removed_at.is_(None))
        if room_id is not None:
            q = q.where(self._covers(room_id))
        with self._tx() as conn:
            return conn.execute(q.values(removed_at=at, removed_by=by)).rowcount

    def _covers(self, room_id: str, bot_id: str | None = None) -> Any:
        bot = bot_id if bot_id is not None else self.bot_id
        return or_(
            BLACKLIST.c.room_id == room_id,
            and_(BLACKLIST.c.room_id.is_(None), or_(BLACKLIST.c.bot_id.is_(None), BLACKLIST.c.bot_id == bot)),
        )

    @_db
    def is_blacklisted(
        self, contact_id: str, room_id: str, bot_id: str | None = None
    ) -> BlacklistView | None:
        """The entry that bars ``contact_id`` from ``room_id``, if any: one for this
        room, one for every room of the bot (``bot_id``, default this store's),
        or one for every bot."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(BLACKLIST)
                .where(
                    BLACKLIST.c.contact_id == contact_id,
                    BLACKLIST.c.removed_at.is_(None),
                    self._covers(room_id, bot_id),
                )
                .order_by(BLACKLIST.c.added_at)
                .limit(1)
            ).first()
        return _blacklist_view(row) if row else None

    @_db
    def blacklist(self, room_id: str | None = None) -> list[BlacklistView]:
        """Entries in force (covering ``room_id`` when given)."""
        q = select(BLACKLIST).where(BLACKLIST.c.removed_at.is_(None)).order_by(BLACKLIST.c.added_at)
        if room_id is not None:
            q = q.where(self._covers(room_id))
        with self.engine.connect() as conn:
            return [_blacklist_view(r) for r in conn.execute(q)]

    # --- appeals, reviews, audit ---------------------------------------------------------

    @_db
    def add_appeal(self, case_no: int, contact_id: str, text_: str, at: datetime | None = None) -> AppealView:
        at = at or utcnow()
        with self._tx() as conn:
            self._require_case(conn, case_no)
            aid = conn.execute(
                insert(APPEALS).values(
                    case_id=case_no, contact_id=contact_id, text=text_, state="open", created_at=at
                )
            ).inserted_primary_key[0]
            return _appeal_view(conn.execute(select(APPEALS).where(APPEALS.c.id == aid)).one())

    @_db
    def decide_appeal(
        self, appeal_id: int, accepted: bool, by: str, answer: str = "", at: datetime | None = None
    ) -> AppealView:
        """Accept (the case is pardoned) or reject an appeal; audited."""
        at = at or utcnow()
        with self._tx() as conn:
            row = conn.execute(select(APPEALS).where(APPEALS.c.id == appeal_id)).first()
            if row is None:
                raise QunguardError(f"no appeal {appeal_id}")
            state = "accepted" if accepted else "rejected"
            conn.execute(
                update(APPEALS)
                .where(APPEALS.c.id == appeal_id)
                .values(state=state, decided_by=by, decided_at=at, answer=answer)
            )
            case = self._require_case(conn, row.case_id)
            self._audit(
                conn,
                by,
                f"appeal_{state}",
                case.room_id,
                row.contact_id,
                row.case_id,
                {"appeal": appeal_id},
                at,
            )
        if accepted:
            self.pardon(row.case_id, by, reason=answer or "appeal accepted", at=at)
        with self.engine.connect() as conn:
            return _appeal_view(conn.execute(select(APPEALS).where(APPEALS.c.id == appeal_id)).one())

    @_db
    def appeals(self, *, state: str | None = "open", case_no: int | None = None) -> list[AppealView]:
        q = select(APPEALS).order_by(APPEALS.c.id)
        if state:
            q = q.where(APPEALS.c.state == state)
        if case_no is not None:
            q = q.where(APPEALS.c.case_id == case_no)
        with self.engine.connect() as conn:
            return [_appeal_view(r) for r in conn.execute(q)]

    @_db
    def request_review(
        self,
        case_no: int,
        action_kind: ActionKind | str,
        deadline: datetime,
        default_decision: str = "drop",
        *,
        position: int | None = None,
        at: datetime | None = None,
    ) -> ReviewView:
        """A drastic action now waits for an admin (``同意 N`` / ``驳回 N``) until
        ``deadline``, then ``default_decision`` (act | drop)."""
        kind = action_kind.value if isinstance(action_kind, ActionKind) else action_kind
        at = at or utcnow()
        with self._tx() as conn:
            self._require_case(conn, case_no)
            rid = conn.execute(
                insert(REVIEWS).values(
                    case_id=case_no,
                    action_kind=kind,
                    action_position=position,
                    requested_at=at,
                    deadline=deadline,
                    default_decision=default_decision,
                    state="pending",
                    bot_id=self.bot_id,
                )
            ).inserted_primary_key[0]
            return _review_view(conn.execute(select(REVIEWS).where(REVIEWS.c.id == rid)).one())

    @_db
    def decide_review(
        self, review_id: int, approved: bool | None, by: str = "", at: datetime | None = None
    ) -> ReviewView:
        """``approved`` True/False for an admin's 同意/驳回; None when the deadline
        passed (state timed_out). Only a pending review changes; audited."""
        at = at or utcnow()
        state = "timed_out" if approved is None else ("approved" if approved else "rejected")
        with self._tx() as conn:
            row = conn.execute(select(REVIEWS).where(REVIEWS.c.id == review_id)).first()
            if row is None:
                raise QunguardError(f"no review request {review_id}")
            if row.state == "pending":
                conn.execute(
                    update(REVIEWS)
                    .where(REVIEWS.c.id == review_id)
                    .values(state=state, decided_by=by, decided_at=at)
                )
                case = self._require_case(conn, row.case_id)
                self._audit(
                    conn,
                    by or self.bot_id,
                    f"review_{state}",
                    case.room_id,
                    case.contact_id,
                    row.case_id,
                    {"review": review_id, "action": row.action_kind},
                    at,
                )
            return _review_view(conn.execute(select(REVIEWS).where(REVIEWS.c.id == review_id)).one())

    @_db
    def pending_reviews(self, *, due_before: datetime | None = None) -> list[ReviewView]:
        q = (
            select(REVIEWS)
            .where(REVIEWS.c.state == "pending", REVIEWS.c.bot_id == self.bot_id)
            .order_by(REVIEWS.c.deadline)
        )
        if due_before is not None:
            q = q.where(REVIEWS.c.deadline <= due_before)
        with self.engine.connect() as conn:
            return [_review_view(r) for r in conn.execute(q)]

    @_db
    def audit(
        self,
        actor_id: str,
        command: str,
        *,
        room_id: str | None = None,
        target_id: str | None = None,
        case_no: int | None = None,
        detail: dict[str, Any] | None = None,
        at: datetime | None = None,
    ) -> int:
        """Record an admin command or decision: who, when, what."""
        with self._tx() as conn:
            return self._audit(
                conn, actor_id, command, room_id, target_id, case_no, detail or {}, at or utcnow()
            )

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
        ).inserted_primary_key[0]

    @_db
    def audit_log(
        self, *, room_id: str | None = None, since: datetime | None = None, limit: int = 100
    ) -> list[AuditView]:
        q = select(AUDIT).order_by(AUDIT.c.at.desc(), AUDIT.c.id.desc()).limit(limit)
        if room_id:
            q = q.where(AUDIT.c.room_id == room_id)
        if since:
            q = q.where(AUDIT.c.at >= since)
        with self.engine.connect() as conn:
            return [_audit_view(r) for r in conn.execute(q)]

    # --- counts, retention, export -----------------------------------------------------------

    @_db
    def daily_counts(self, room_id: str, since: date, until: date | None = None) -> list[DayCounts]:
        """Per-day counts of a room from ``since`` (inclusive), with violations by rule."""
        self.flush()
        q = select(DAILY).where(DAILY.c.room_id == room_id, DAILY.c.day >= since).order_by(DAILY.c.day)
        qr = select(DAILY_RULES).where(DAILY_RULES.c.room_id == room_id, DAILY_RULES.c.day >= since)
        if until is not None:
            q = q.where(DAILY.c.day <= until)
            qr = qr.where(DAILY_RULES.c.day <= until)
        with self.engine.connect() as conn:
            by_rule: dict[date, dict[str, int]] = defaultdict(dict)
            for r in conn.execute(qr):
                by_rule[r.day][r.rule] = r.count
            return [
                DayCounts(
                    r.room_id,
                    r.day,
                    r.messages,
                    r.speakers,
                    r.joins,
                    r.leaves,
                    r.violations,
                    by_rule.get(r.day, {}),
                )
                for r in conn.execute(q)
            ]

    @_db
    def top_speakers(self, room_id: str, since: date, limit: int = 10) -> list[tuple[str, int]]:
        """(contact id, messages) of the most active members since a day."""
        self.flush()
        total = func.sum(DAILY_SPEAKERS.c.messages)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(DAILY_SPEAKERS.c.contact_id, total)
                .where(DAILY_SPEAKERS.c.room_id == room_id, DAILY_SPEAKERS.c.day >= since)
                .group_by(DAILY_SPEAKERS.c.contact_id)
                .order_by(total.desc(), DAILY_SPEAKERS.c.contact_id)
                .limit(limit)
            )
            return [(c, int(n)) for c, n in rows]

    @_db
    def purge(self, older_than: timedelta, now: datetime | None = None) -> PurgeResult:
        """Personal data retention: empty message excerpts and matched spans of
        violations older than ``older_than``, drop old display-name history and
        sent message texts. Cases, violations and every count stay."""
        cutoff = (now or utcnow()) - older_than
        purged_at = now or utcnow()
        excerpts = 0
        with self._tx() as conn:
            while True:
                rows = conn.execute(
                    select(VIOLATIONS.c.id, VIOLATIONS.c.evidence)
                    .where(VIOLATIONS.c.at < cutoff, VIOLATIONS.c.purged_at.is_(None))
                    .limit(1000)
                ).all()
                if not rows:
                    break
                conn.execute(
                    update(VIOLATIONS)
                    .where(VIOLATIONS.c.id == bindparam("_id"))
                    .values(excerpt=None, evidence=bindparam("_ev"), purged_at=purged_at),
                    [{"_id": r.id, "_ev": [{**e, "span": ""} for e in (r.evidence or [])]} for r in rows],
                )
                excerpts += len(rows)
            names = conn.execute(delete(NAMES).where(NAMES.c.seen_at < cutoff)).rowcount
            messages = conn.execute(
                update(OUTGOING)
                .where(OUTGOING.c.created_at < cutoff, OUTGOING.c.state != "pending", OUTGOING.c.text != "")
                .values(text="")
            ).rowcount
        return PurgeResult(excerpts, names, messages)

    @_db
    def export(self, room_id: str) -> Iterator[dict[str, Any]]:
        """Everything kept about a room, one record per row, each with its ``type``."""
        out: list[dict[str, Any]] = []
        tables = (
            ("room", ROOMS, ROOMS.c.id == room_id, ROOMS.c.id),
            ("member", MEMBERS, MEMBERS.c.room_id == room_id, MEMBERS.c.id),
            ("member_name", NAMES, NAMES.c.room_id == room_id, NAMES.c.id),
            ("case", CASES, CASES.c.room_id == room_id, CASES.c.id),
            ("violation", VIOLATIONS, VIOLATIONS.c.room_id == room_id, VIOLATIONS.c.id),
            (
                "action",
                ACTIONS,
                ACTIONS.c.case_id.in_(select(CASES.c.id).where(CASES.c.room_id == room_id)),
                ACTIONS.c.id,
            ),
            ("mute", MUTES, MUTES.c.room_id == room_id, MUTES.c.id),
            (
                "appeal",
                APPEALS,
                APPEALS.c.case_id.in_(select(CASES.c.id).where(CASES.c.room_id == room_id)),
                APPEALS.c.id,
            ),
            (
                "review",
                REVIEWS,
                REVIEWS.c.case_id.in_(select(CASES.c.id).where(CASES.c.room_id == room_id)),
                REVIEWS.c.id,
            ),
            ("blacklist", BLACKLIST, BLACKLIST.c.room_id == room_id, BLACKLIST.c.id),
            ("audit", AUDIT, AUDIT.c.room_id == room_id, AUDIT.c.id),
            ("daily", DAILY, DAILY.c.room_id == room_id, DAILY.c.day),
            ("daily_rule", DAILY_RULES, DAILY_RULES.c.room_id == room_id, DAILY_RULES.c.day),
            (
                "featured",
                m.FeaturedMessage.__table__,
                m.FeaturedMessage.room_id == room_id,
                m.FeaturedMessage.id,
            ),
        )
        self.flush()
        with self.engine.connect() as conn:
            for kind, table, where, order in tables:
                for r in conn.execute(select(table).where(where).order_by(order)):
                    out.append({"type": kind, **r._asdict()})
        return iter(out)


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
