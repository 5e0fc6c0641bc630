"""Mutes and the blacklist."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, or_, select, update

from bot.errors import QunguardError
from bot.store.base import (
    BLACKLIST,
    MUTES,
    StoreBase,
    _blacklist_view,
    _db,
    _mute_view,
    utcnow,
)
from bot.store.views import (
    BlacklistView,
    MuteView,
)


class SanctionsMixin(StoreBase):
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
            ).inserted_primary_key[0]  # type: ignore[index]
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
            bid = conn.execute(insert(BLACKLIST).values(**values)).inserted_primary_key[0]  # type: ignore[index]
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
