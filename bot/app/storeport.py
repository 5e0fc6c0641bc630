"""The store as the application uses it: :class:`bot.moderation.Records` plus
rooms, members, action outcomes, the blacklist and mutes.

Declared by the consumer; implemented by :class:`bot.store.Store`. Every
method is synchronous (SQLite and PostgreSQL answer in well under a
millisecond to a few ms); a store that cannot reach its database keeps
writes in its journal and raises :class:`bot.errors.StoreUnavailable` only
for reads it cannot answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.actions import Action
from bot.moderation import Records


@dataclass(frozen=True, slots=True)
class MemberFacts:
    joined_at: datetime | None = None
    inviter_id: str = ""
    exempt: bool = False
    present: bool = True


@dataclass(frozen=True, slots=True)
class EndedMute:
    room_id: str
    contact_id: str
    until: datetime
    case_no: int | None = None


class AppStore(Records, Protocol):
    def record_outcome(
        self, case_no: int, position: int, action: Action, state: str, detail: str, at: datetime
    ) -> None:
        """The outcome of the case's ``position``-th action: done, failed, fallback_mention,
        requested_admins, dry_run, awaiting_review, ..."""

    def save_room(
        self,
        room_id: str,
        topic: str,
        owner_id: str,
        admin_ids: Sequence[str],
        member_count: int,
        bot_id: str,
        at: datetime,
    ) -> None: ...

    def set_room_moderated(self, room_id: str, moderated: bool, by: str, at: datetime) -> None: ...

    def switched_rooms(self) -> dict[str, bool]:
        """Rooms a person switched on or off (``#启用`` / ``#停用``)."""

    def record_join(
        self, room_id: str, contact_id: str, at: datetime, inviter_id: str = "", name: str = ""
    ) -> None: ...

    def record_leave(self, room_id: str, contact_id: str, at: datetime) -> None: ...

    def member_facts(self, room_id: str, contact_id: str) -> MemberFacts | None: ...

    def present_members(self, room_id: str) -> set[str]: ...

    def note_message(self, room_id: str, contact_id: str, at: datetime, name: str = "") -> None:
        """Activity counts and last-spoke time."""

    def add_blacklist(
        self,
        contact_id: str,
        room_id: str | None,
        bot_id: str | None,
        reason: str,
        by: str,
        case_no: int | None,
        at: datetime,
    ) -> None: ...

    def is_blacklisted(self, contact_id: str, room_id: str, bot_id: str) -> bool: ...

    def end_mutes(self, now: datetime) -> list[EndedMute]:
        """Mark mutes whose time is up as ended and return them (each once)."""
