"""Store access for the member lifecycle (:mod:`bot.lifecycle`): deadlines,
sent notices, featured messages, the member-cap alert and speaker counts.

Written on the existing tables (no migration of its own). Each write that
must happen once — a deadline's reminder, its action, a scheduled notice — is
a conditional ``UPDATE`` or a unique ``INSERT``, so two firings of one job
(a restart, two processes on one database) act once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Table, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from bot.errors import StoreUnavailable
from bot.store import models as m
from bot.store.store import CASES, DOWN_ERRORS, MEMBERS, ROOMS, Store, _short, utcnow

DEADLINES: Table = m.LifecycleDeadline.__table__  # type: ignore[assignment]
SENT: Table = m.SentNotice.__table__  # type: ignore[assignment]
FEATURED: Table = m.FeaturedMessage.__table__  # type: ignore[assignment]
SPEAKERS: Table = m.DailySpeakerCount.__table__  # type: ignore[assignment]

OPEN_STATES = ("pending", "reminded")

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class DeadlineView:
    room_id: str
    contact_id: str
    kind: str
    """nickname | intro"""
    due_at: datetime
    state: str
    """pending | reminded | done | expired | cancelled"""
    created_at: datetime
    reminded_at: datetime | None = None
    done_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class FeaturedView:
    id: int
    room_id: str
    message_id: str
    text: str
    sender_id: str
    sender_name: str
    said_at: datetime | None
    marked_by: str
    at: datetime


def _db(fn: Callable[P, R]) -> Callable[P, R]:
    """An unreachable database becomes :class:`StoreUnavailable` (and the store's outage)."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        repo: LifecycleRepo = args[0]  # type: ignore[assignment]
        store = repo.store
        with store._lock:
            if store._down is not None and not store._try_recover(force=True):
                raise StoreUnavailable(f"the database is unreachable ({store._down.reason})")
            try:
                return fn(*args, **kwargs)
            except DOWN_ERRORS as exc:
                store._went_down(exc)
                raise StoreUnavailable(f"the database is unreachable ({_short(exc)})") from exc

    return wrapper


class LifecycleRepo:
    def __init__(self, store: Store) -> None:
        self.store = store

    # --- deadlines ---------------------------------------------------------------

    @_db
    def set_deadline(self, room_id: str, contact_id: str, kind: str, due_at: datetime, now: datetime) -> None:
        """Start (or, on a rejoin, restart) a member's deadline."""
        values = {
            "due_at": due_at,
            "state": "pending",
            "reminded_at": None,
            "done_at": None,
            "created_at": now,
        }
        with self.store._tx() as conn:
            self.store._ensure_room(conn, room_id, "")
            n = conn.execute(
                update(DEADLINES)
                .where(
                    DEADLINES.c.room_id == room_id,
                    DEADLINES.c.contact_id == contact_id,
                    DEADLINES.c.kind == kind,
                )
                .values(**values)
            ).rowcount
            if not n:
                conn.execute(
                    insert(DEADLINES).values(room_id=room_id, contact_id=contact_id, kind=kind, **values)
                )

    @_db
    def deadline(self, room_id: str, contact_id: str, kind: str) -> DeadlineView | None:
        with self.store.engine.connect() as conn:
            row = conn.execute(
                select(DEADLINES).where(
                    DEADLINES.c.room_id == room_id,
                    DEADLINES.c.contact_id == contact_id,
                    DEADLINES.c.kind == kind,
                )
            ).first()
        return _deadline_view(row) if row is not None else None

    @_db
    def open_deadlines(self, room_id: str | None = None) -> list[DeadlineView]:
        """Deadlines still running (pending or reminded), soonest first."""
        q = (
            select(DEADLINES)
            .where(DEADLINES.c.state.in_(OPEN_STATES))
            .order_by(DEADLINES.c.due_at, DEADLINES.c.id)
        )
        if room_id is not None:
            q = q.where(DEADLINES.c.room_id == room_id)
        with self.store.engine.connect() as conn:
            return [_deadline_view(r) for r in conn.execute(q)]

    @_db
    def move_deadline(
        self,
        room_id: str,
        contact_id: str,
        kind: str,
        from_states: tuple[str, ...],
        to_state: str,
        at: datetime,
    ) -> bool:
        """Move a deadline from one of ``from_states`` to ``to_state``; True for the one caller that did."""
        values: dict[str, Any] = {"state": to_state}
        if to_state == "reminded":
            values["reminded_at"] = at
        else:
            values["done_at"] = at
        with self.store._tx() as conn:
            n = conn.execute(
                update(DEADLINES)
                .where(
                    DEADLINES.c.room_id == room_id,
                    DEADLINES.c.contact_id == contact_id,
                    DEADLINES.c.kind == kind,
                    DEADLINES.c.state.in_(from_states),
                )
                .values(**values)
            ).rowcount
        return n == 1

    # --- notices sent once ---------------------------------------------------------

    @_db
    def claim_notice(self, notice_id: str, room_id: str, fire_at: datetime, now: datetime) -> bool:
        """Record that ``notice_id`` goes out in ``room_id`` for the slot ``fire_at``;
        False if it already went (a restart, a second firing)."""
        try:
            with self.store._tx() as conn:
                conn.execute(
                    insert(SENT).values(
                        notice_id=notice_id,
                        room_id=room_id,
                        fire_at=fire_at,
                        sent_at=now,
                        bot_id=self.store.bot_id,
                    )
                )
        except IntegrityError:
            return False
        return True

    @_db
    def notice_sent(self, notice_id: str, room_id: str, fire_at: datetime) -> bool:
        with self.store.engine.connect() as conn:
            row = conn.execute(
                select(SENT.c.id).where(
                    SENT.c.notice_id == notice_id, SENT.c.room_id == room_id, SENT.c.fire_at == fire_at
                )
            ).first()
        return row is not None

    # --- featured messages (精华) ---------------------------------------------------------

    @_db
    def add_featured(
        self,
        room_id: str,
        message_id: str,
        text: str,
        *,
        sender_id: str = "",
        sender_name: str = "",
        said_at: datetime | None = None,
        marked_by: str = "",
        at: datetime | None = None,
    ) -> tuple[FeaturedView, bool]:
        """Keep a featured message; ``(view, False)`` when it was featured before."""
        at = at or utcnow()
        try:
            with self.store._tx() as conn:
                self.store._ensure_room(conn, room_id, "")
                conn.execute(
                    insert(FEATURED).values(
                        room_id=room_id,
                        message_id=message_id,
                        text=text,
                        sender_id=sender_id,
                        sender_name=sender_name,
                        said_at=said_at,
                        marked_by=marked_by,
                        at=at,
                    )
                )
            new = True
        except IntegrityError:
            new = False
        with self.store.engine.connect() as conn:
            row = conn.execute(
                select(FEATURED).where(FEATURED.c.room_id == room_id, FEATURED.c.message_id == message_id)
            ).one()
        return _featured_view(row), new

    @_db
    def remove_featured(self, room_id: str, *, message_id: str = "", text: str = "") -> int:
        """Take a featured message out (by its message id, or by its exact text); how many went."""
        conds = []
        if message_id:
            conds.append(FEATURED.c.message_id == message_id)
        if text:
            conds.append(FEATURED.c.text == text)
        if not conds:
            return 0
        with self.store._tx() as conn:
            return int(
                conn.execute(delete(FEATURED).where(FEATURED.c.room_id == room_id, or_(*conds))).rowcount
            )

    @_db
    def featured(
        self, room_id: str, since: datetime | None = None, until: datetime | None = None
    ) -> list[FeaturedView]:
        """A room's featured messages, oldest first; ``since``/``until`` on when they were said
        (or marked, when the time said is unknown)."""
        when = func.coalesce(FEATURED.c.said_at, FEATURED.c.at)
        q = select(FEATURED).where(FEATURED.c.room_id == room_id).order_by(when, FEATURED.c.id)
        if since is not None:
            q = q.where(when >= since)
        if until is not None:
            q = q.where(when < until)
        with self.store.engine.connect() as conn:
            return [_featured_view(r) for r in conn.execute(q)]

    # --- rooms and speakers ------------------------------------------------------------

    @_db
    def set_cap_alerted(self, room_id: str, at: datetime | None) -> None:
        """When the admins were told the room is nearly full (None: again below the mark)."""
        with self.store._tx() as conn:
            self.store._ensure_room(conn, room_id, "")
            conn.execute(update(ROOMS).where(ROOMS.c.id == room_id).values(cap_alerted_at=at))

    @_db
    def speakers_between(
        self, room_id: str, since: date, until: date, limit: int = 10
    ) -> list[tuple[str, str, int]]:
        """(contact id, display name, messages) of the most active members between two local days (inclusive)."""
        self.store.flush()
        total = func.sum(SPEAKERS.c.messages)
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                select(SPEAKERS.c.contact_id, total)
                .where(SPEAKERS.c.room_id == room_id, SPEAKERS.c.day >= since, SPEAKERS.c.day <= until)
                .group_by(SPEAKERS.c.contact_id)
                .order_by(total.desc(), SPEAKERS.c.contact_id)
                .limit(limit)
            ).all()
            ids = [c for c, _ in rows]
            names = (
                dict(
                    conn.execute(
                        select(MEMBERS.c.contact_id, MEMBERS.c.display_name).where(
                            MEMBERS.c.room_id == room_id, MEMBERS.c.contact_id.in_(ids)
                        )
                    ).all()
                )
                if ids
                else {}
            )
        return [(c, names.get(c) or "", int(n)) for c, n in rows]

    @_db
    def distinct_speakers(self, room_id: str, since: date, until: date) -> int:
        """How many different members spoke between two local days (inclusive)."""
        self.store.flush()
        with self.store.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count(func.distinct(SPEAKERS.c.contact_id))).where(
                        SPEAKERS.c.room_id == room_id, SPEAKERS.c.day >= since, SPEAKERS.c.day <= until
                    )
                ).scalar_one()
            )

    @_db
    def cases_by_day(self, room_id: str, since: date, until: date) -> dict[date, int]:
        """Messages that broke a rule (cases, pardoned ones left out) per local day (inclusive)."""
        start = datetime.combine(since, time.min, tzinfo=self.store.tz) - timedelta(days=1)
        end = datetime.combine(until, time.min, tzinfo=self.store.tz) + timedelta(days=2)
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                select(CASES.c.created_at).where(
                    CASES.c.room_id == room_id,
                    CASES.c.created_at >= start,
                    CASES.c.created_at < end,
                    CASES.c.state != "pardoned",
                )
            ).scalars()
            out: dict[date, int] = {}
            for at in rows:
                day = self.store.day_of(at)
                if since <= day <= until:
                    out[day] = out.get(day, 0) + 1
        return out

    @_db
    def rooms_like(self, needle: str) -> list[tuple[str, str]]:
        """(id, topic) of rooms whose id is ``needle`` or whose topic contains it (every room for "")."""
        with self.store.engine.connect() as conn:
            rows = conn.execute(select(ROOMS.c.id, ROOMS.c.topic).order_by(ROOMS.c.id)).all()
        if not needle:
            return [(i, t or "") for i, t in rows]
        exact = [(i, t or "") for i, t in rows if i == needle]
        return exact or [(i, t or "") for i, t in rows if needle and needle in (t or "")]


def _deadline_view(r: Any) -> DeadlineView:
    return DeadlineView(
        r.room_id, r.contact_id, r.kind, r.due_at, r.state, r.created_at, r.reminded_at, r.done_at
    )


def _featured_view(r: Any) -> FeaturedView:
    return FeaturedView(
        r.id,
        r.room_id,
        r.message_id,
        r.text or "",
        r.sender_id or "",
        r.sender_name or "",
        r.said_at,
        r.marked_by or "",
        r.at,
    )


OUTGOING: Table = m.OutgoingMessage.__table__  # type: ignore[assignment]
HELD = "held: quiet hours"
"""``detail`` of the rows this module keeps: other users of the table are left alone."""


@dataclass(frozen=True, slots=True)
class HeldMessage:
    """A message held back (quiet hours) until ``not_before``."""

    id: int
    room_id: str | None
    to_id: str | None
    text: str
    mention_ids: tuple[str, ...]
    not_before: datetime | None


def _held_view(r: Any) -> HeldMessage:
    return HeldMessage(r.id, r.room_id, r.to_id, r.text, tuple(r.mention_ids or ()), r.not_before)


class HeldMessages:
    """Messages kept in ``outgoing_messages`` until a time (quiet hours), so a restart
    sends them rather than losing them, and sends each once."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @_db
    def hold(
        self,
        text: str,
        not_before: datetime,
        *,
        room_id: str | None = None,
        to_id: str | None = None,
        mention_ids: tuple[str, ...] = (),
        now: datetime | None = None,
    ) -> int:
        with self.store._tx() as conn:
            key = conn.execute(
                insert(OUTGOING).values(
                    bot_id=self.store.bot_id,
                    room_id=room_id,
                    to_id=to_id,
                    mention_ids=list(mention_ids),
                    text=text,
                    created_at=now or utcnow(),
                    not_before=not_before,
                    state="pending",
                    detail=HELD,
                )
            ).inserted_primary_key
        assert key is not None
        return int(key[0])

    @_db
    def due(self, now: datetime) -> list[HeldMessage]:
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                select(OUTGOING)
                .where(
                    OUTGOING.c.bot_id == self.store.bot_id,
                    OUTGOING.c.state == "pending",
                    OUTGOING.c.detail == HELD,
                    OUTGOING.c.not_before <= now,
                )
                .order_by(OUTGOING.c.not_before, OUTGOING.c.id)
            )
            return [_held_view(r) for r in rows]

    @_db
    def pending(self) -> list[HeldMessage]:
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                select(OUTGOING)
                .where(
                    OUTGOING.c.bot_id == self.store.bot_id,
                    OUTGOING.c.state == "pending",
                    OUTGOING.c.detail == HELD,
                )
                .order_by(OUTGOING.c.id)
            )
            return [_held_view(r) for r in rows]

    @_db
    def claim(
        self, message_id: int, now: datetime, state: str = "sent", detail: str = "sent after quiet hours"
    ) -> bool:
        """pending -> ``state``; True for the one caller that moved it (then it sends)."""
        with self.store._tx() as conn:
            n = conn.execute(
                update(OUTGOING)
                .where(OUTGOING.c.id == message_id, OUTGOING.c.state == "pending")
                .values(state=state, sent_at=now, detail=detail)
            ).rowcount
        return n == 1
