"""A chat port that only records what reaches the wire, on a manual clock."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pytest

from bot.events import RoomInfo
from bot.puppet.outbox import ManualClock


@dataclass(frozen=True)
class Sent:
    at: float
    kind: str
    target: str
    text: str
    mention_ids: tuple[str, ...] = ()
    message_id: str = ""


class WirePort:
    """The far side of the outbox: records every send with the fake time.

    ``fail`` decides, per attempt, whether a send raises: it gets
    ``(kind, target, text)`` and returns an exception or ``None``."""

    bot_id = "wxid_bot"

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.sent: list[Sent] = []
        self.attempts: list[Sent] = []
        self.kicks: list[tuple[float, str, str]] = []
        self.fail: Callable[[str, str, str], BaseException | None] = lambda *_: None
        self.kick_error: BaseException | None = None

    async def _send(self, kind: str, target: str, text: str, mention_ids: Sequence[str] = ()) -> str:
        attempt = Sent(self.clock.monotonic(), kind, target, text, tuple(mention_ids))
        self.attempts.append(attempt)
        error = self.fail(kind, target, text)
        if error is not None:
            raise error
        message_id = f"m{len(self.sent) + 1}"
        self.sent.append(Sent(attempt.at, kind, target, text, tuple(mention_ids), message_id))
        return message_id

    async def say(self, room_id: str, text: str, mention_ids: Sequence[str] = ()) -> str:
        return await self._send("say", room_id, text, mention_ids)

    async def say_private(self, contact_id: str, text: str) -> str:
        return await self._send("say_private", contact_id, text)

    async def announce(self, room_id: str, text: str) -> None:
        await self._send("announce", room_id, text)

    async def kick(self, room_id: str, contact_id: str) -> None:
        self.kicks.append((self.clock.monotonic(), room_id, contact_id))
        if self.kick_error is not None:
            raise self.kick_error

    async def room_info(self, room_id: str) -> RoomInfo:
        return RoomInfo(id=room_id, topic="测试群", owner_id=self.bot_id)

    async def rooms(self) -> list[RoomInfo]:
        return [await self.room_info("r1")]

    async def is_friend(self, contact_id: str) -> bool:
        return contact_id != "stranger"

    async def contact_name(self, contact_id: str, room_id: str = "") -> str:
        return contact_id.upper()

    async def accept_invitation(self, invitation_id: str) -> None:
        return None

    def by_id(self, message_id: str) -> Sent:
        return next(s for s in self.sent if s.message_id == message_id)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def wire(clock: ManualClock) -> WirePort:
    return WirePort(clock)


@pytest.fixture
def make_wire() -> type[WirePort]:
    """For tests that need a fresh wire per example (hypothesis)."""
    return WirePort
