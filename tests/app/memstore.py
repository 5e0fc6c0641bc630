"""A temporary in-memory AppStore, until bot.store lands (then: a real SQLite file)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.actions import Action
from bot.app.storeport import EndedMute, MemberFacts
from bot.moderation import MemoryRecords


@dataclass
class MemoryAppStore(MemoryRecords):
    outcomes: list[tuple[int, int, str, str, str]] = field(default_factory=list)
    rooms: dict[str, dict] = field(default_factory=dict)
    switched: dict[str, bool] = field(default_factory=dict)
    members: dict[tuple[str, str], MemberFacts] = field(default_factory=dict)
    blacklist: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    ended: set[tuple[str, str, datetime]] = field(default_factory=set)
    messages: int = 0

    def record_outcome(self, case_no: int, position: int, action: Action, state: str, detail: str, at: datetime) -> None:
        self.outcomes.append((case_no, position, action.kind.value, state, detail))

    def save_room(self, room_id, topic, owner_id, admin_ids, member_count, bot_id, at) -> bool:
        new = room_id not in self.rooms
        self.rooms[room_id] = {"topic": topic, "owner": owner_id}
        return new

    def set_room_moderated(self, room_id: str, moderated: bool, by: str, at: datetime) -> None:
        self.switched[room_id] = moderated

    def switched_rooms(self) -> dict[str, bool]:
        return dict(self.switched)

    def record_join(self, room_id: str, contact_id: str, at: datetime, inviter_id: str = "", name: str = "") -> None:
        self.members[(room_id, contact_id)] = MemberFacts(at, inviter_id)

    def record_leave(self, room_id: str, contact_id: str, at: datetime) -> None:
        old = self.members.get((room_id, contact_id))
        if old is not None:
            self.members[(room_id, contact_id)] = MemberFacts(old.joined_at, old.inviter_id, old.exempt, False)

    def member_facts(self, room_id: str, contact_id: str) -> MemberFacts | None:
        return self.members.get((room_id, contact_id))

    def present_members(self, room_id: str) -> set[str]:
        return {c for (r, c), f in self.members.items() if r == room_id and f.present}

    def note_message(self, room_id: str, contact_id: str, at: datetime, name: str = "") -> None:
        self.messages += 1

    def add_blacklist(self, contact_id, room_id, bot_id, reason, by, case_no, at) -> None:
        self.blacklist.append((contact_id, room_id, bot_id))

    def is_blacklisted(self, contact_id: str, room_id: str, bot_id: str) -> bool:
        return any(
            c == contact_id and (r is None or r == room_id) and (b is None or b == bot_id)
            for c, r, b in self.blacklist
        )

    def end_mutes(self, now: datetime) -> list[EndedMute]:
        out = []
        for (room, contact), until in self.mutes.items():
            if until <= now and (room, contact, until) not in self.ended:
                self.ended.add((room, contact, until))
                out.append(EndedMute(room, contact, until))
        return out

    def states(self, case_no: int) -> dict[str, str]:
        return {kind: state for c, _, kind, state, _ in self.outcomes if c == case_no}


