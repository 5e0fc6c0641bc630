"""A fake WeChat behind the Puppet port: the wire, and nothing above it.

It keeps rooms (owner, admins, members), the bot's friends, and everything the
bot said or did, and feeds events to whoever runs it. A kick by an owner/admin
bot removes the member and, like WeChat, reports the room-leave (unless the
test switches that off to see the bot notice the silence).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone

from bot.errors import ActionFailed, NotAFriend, NotPermitted
from bot.events import Event, MemberLeft, RoomInfo
from bot.puppet.port import EventHandler

BOT = "wxid_bot"
T0 = datetime(2026, 11, 20, 1, 0, tzinfo=timezone.utc)


@dataclass
class Said:
    where: str  # room id, or "private"
    to: str  # contact id for private messages; "" for room messages
    text: str
    mentions: tuple[str, ...] = ()


class FakeClock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> datetime:
        self.now += timedelta(**kw)
        return self.now


@dataclass
class FakeWeChat:
    """Implements :class:`bot.puppet.port.Puppet`."""

    bot_id: str = BOT
    rooms_: dict[str, RoomInfo] = field(default_factory=dict)
    friends: set[str] = field(default_factory=set)
    names: dict[str, str] = field(default_factory=dict)
    invitations: dict[str, RoomInfo] = field(default_factory=dict)
    leave_after_kick: bool = True
    kick_error: Exception | None = None
    kick_gate: asyncio.Event | None = None
    """When set, ``room.del`` waits for it: a kick still on its way while the member goes on."""
    said: list[Said] = field(default_factory=list)
    kicked: list[tuple[str, str]] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    clock: FakeClock = field(default_factory=FakeClock)

    def __post_init__(self) -> None:
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue()

    # --- test side -------------------------------------------------------------

    def add_room(
        self, room_id: str, topic: str, owner: str, members: Sequence[str], admins: Sequence[str] = ()
    ) -> None:
        members = tuple(dict.fromkeys([*members, self.bot_id]))
        self.rooms_[room_id] = RoomInfo(room_id, topic, owner, tuple(admins), members)

    def emit(self, event: Event) -> None:
        self.queue.put_nowait(event)

    def room_said(self, room_id: str) -> list[Said]:
        return [s for s in self.said if s.where == room_id]

    def private_to(self, contact_id: str) -> list[Said]:
        return [s for s in self.said if s.where == "private" and s.to == contact_id]

    # --- Puppet -------------------------------------------------------------------

    async def say(self, room_id: str, text: str, mention_ids: Sequence[str] = ()) -> str:
        if room_id not in self.rooms_:
            raise ActionFailed(f"not in room {room_id}")
        self.said.append(Said(room_id, "", text, tuple(mention_ids)))
        return f"out-{len(self.said)}"

    async def say_private(self, contact_id: str, text: str) -> str:
        if contact_id not in self.friends:
            raise NotAFriend(f"{contact_id} is not a friend")
        self.said.append(Said("private", contact_id, text))
        return f"out-{len(self.said)}"

    async def kick(self, room_id: str, contact_id: str) -> None:
        if self.kick_gate is not None:
            await self.kick_gate.wait()
        room = self.rooms_[room_id]
        if self.kick_error is not None:
            raise self.kick_error
        if self.bot_id not in (room.owner_id, *room.admin_ids):
            raise NotPermitted("the bot is neither owner nor admin of the room")
        self.kicked.append((room_id, contact_id))
        self.rooms_[room_id] = replace(room, member_ids=tuple(m for m in room.member_ids if m != contact_id))
        if self.leave_after_kick:
            self.emit(MemberLeft(room_id, contact_id, self.clock(), remover_id=self.bot_id))

    async def announce(self, room_id: str, text: str) -> None:
        self.said.append(Said(room_id, "", "[公告]" + text))

    async def room_info(self, room_id: str) -> RoomInfo:
        if room_id not in self.rooms_:
            raise ActionFailed(f"no room {room_id}")
        return self.rooms_[room_id]

    async def rooms(self) -> list[RoomInfo]:
        return list(self.rooms_.values())

    async def is_friend(self, contact_id: str) -> bool:
        return contact_id in self.friends

    async def contact_name(self, contact_id: str, room_id: str = "") -> str:
        return self.names.get(contact_id, "")

    async def accept_invitation(self, invitation_id: str) -> None:
        room = self.invitations.pop(invitation_id)
        self.accepted.append(invitation_id)
        self.rooms_[room.id] = replace(room, member_ids=(*room.member_ids, self.bot_id))

    async def run(self, handler: EventHandler) -> None:
        while True:
            event = await self.queue.get()
            try:
                if event is None:
                    return
                await handler(event)
            finally:
                self.queue.task_done()

    async def stop(self) -> None:
        self.queue.put_nowait(None)
