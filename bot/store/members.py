"""Messages, members and rooms: counts per day, last spoke, display names,
joins and leaves, the member facts the ladder asks for, room switches."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import case, insert, or_, select, update
from sqlalchemy.engine import Connection

from bot.events import MemberJoined, MemberLeft, Message
from bot.store.base import (
    _RECENT_CASES,
    DAILY,
    DAILY_SPEAKERS,
    DOWN_ERRORS,
    MEMBERS,
    NAMES,
    ROOMS,
    StoreBase,
    _db,
    _insert,
    _member_view,
    _room_view,
    _Spoke,
    upsert_adding,
    utcnow,
)
from bot.store.views import (
    MemberView,
    RoomView,
)

_MEMBER_UPSERTS: dict[str, Any] = {}


def _member_upsert(conn: Connection) -> Any:
    """A member spoke: insert, or add to the count, move last-spoke forward and
    take a non-empty name. Built once per dialect."""
    stmt = _MEMBER_UPSERTS.get(conn.dialect.name)
    if stmt is None:
        ins = _insert(conn, MEMBERS)
        new = ins.excluded
        stmt = _MEMBER_UPSERTS[conn.dialect.name] = ins.on_conflict_do_update(
            index_elements=["room_id", "contact_id"],
            set_={
                "message_count": MEMBERS.c.message_count + new.message_count,
                "last_spoke_at": case(
                    (
                        or_(MEMBERS.c.last_spoke_at.is_(None), new.last_spoke_at > MEMBERS.c.last_spoke_at),
                        new.last_spoke_at,
                    ),
                    else_=MEMBERS.c.last_spoke_at,
                ),
                "display_name": case(
                    (new.display_name != "", new.display_name), else_=MEMBERS.c.display_name
                ),
            },
        )
    return stmt


class MembersMixin(StoreBase):
    def note_message(
        self, room_id: str | Message, contact_id: str = "", at: datetime | None = None, name: str = ""
    ) -> None:
        """Count a message (daily counts, last spoke, name history); takes a
        :class:`Message` or its room, sender, time and sender name. Cheap: kept in
        memory and written in batches (every ``flush_interval_s`` or ``flush_max``
        messages, on :meth:`flush` and on close); a crash loses at most that batch
        of counts, never a violation. A :class:`Message` counted before (the
        same room and message id, among the last 20,000) is not counted again."""
        message_key: tuple[str, str] | None = None
        if isinstance(room_id, Message):
            message = room_id
            message_key = (message.room_id, message.id)
            room_id, contact_id, at, name = (
                message.room_id,
                message.sender_id,
                message.at,
                message.sender_name,
            )
        assert at is not None, "note_message needs the message time"
        with self._lock:
            if message_key is not None:
                if message_key in self._counted:
                    return
                self._counted[message_key] = None
                if len(self._counted) > 20_000:
                    self._counted.popitem(last=False)
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
        """Three bulk upserts, no lookups: members (count, last spoke, name),
        the day's per-member counts, the day's room counts; plus name history
        for names this process has not written before."""
        self._ensure_rooms(conn, {r for r, _ in self._spoke} | {r for r, _ in self._day_msgs})
        if self._spoke:
            conn.execute(
                _member_upsert(conn),
                [
                    {
                        "room_id": r,
                        "contact_id": c,
                        "display_name": s.name,
                        "last_spoke_at": s.last_at,
                        "message_count": s.count,
                    }
                    for (r, c), s in self._spoke.items()
                ],
            )
        names = []
        for key, s in self._spoke.items():
            if s.name and self._names.get(key) != s.name:
                names.append({"room_id": key[0], "contact_id": key[1], "name": s.name, "seen_at": s.last_at})
                self._names[key] = s.name
                self._names.move_to_end(key)
        while len(self._names) > 100_000:
            self._names.popitem(last=False)
        if names:
            conn.execute(insert(NAMES), names)
        if self._day_speakers:
            conn.execute(
                upsert_adding(conn, DAILY_SPEAKERS),
                [
                    {"room_id": r, "day": d, "contact_id": c, "messages": n}
                    for (r, d, c), n in self._day_speakers.items()
                ],
            )
        if self._day_msgs:
            conn.execute(
                upsert_adding(conn, DAILY),
                [
                    {"room_id": r, "day": d, "messages": n, "joins": 0, "leaves": 0, "violations": 0}
                    for (r, d), n in self._day_msgs.items()
                ],
            )

    def _ensure_rooms(self, conn: Connection, rooms: set[str]) -> None:
        for room in sorted(rooms - self._known_rooms):
            self._ensure_room(conn, room, "")

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
        history: list[tuple[str, datetime]] = []
        for name, at in names:  # a restart may write the same name again: once is enough
            if not history or history[-1][0] != name:
                history.append((name, at))
        return _member_view(row, tuple(history))

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
