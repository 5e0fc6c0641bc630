"""The narrow port through which the bot acts on a chat.

Declared by its consumer (the application), implemented by the Wechaty
adapter, the embedded local puppet and the test fakes. Only the calls the bot
makes; errors are those of :mod:`bot.errors` (``NotAFriend``,
``NotPermitted``, ``ActionFailed``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from bot.events import Event, RoomInfo

EventHandler = Callable[[Event], Awaitable[None]]


class ChatPort(Protocol):
    @property
    def bot_id(self) -> str: ...

    def say(self, room_id: str, text: str, mention_ids: Sequence[str] = ()) -> Awaitable[str]:
        """Say ``text`` in a room, @-mentioning ``mention_ids``; the message id when awaited.
        (Awaitable rather than a coroutine: the outbox hands back a queued delivery.)"""
        ...

    def say_private(self, contact_id: str, text: str) -> Awaitable[str]:
        """Say ``text`` one-to-one; raise ``NotAFriend`` if the bot cannot."""
        ...

    async def kick(self, room_id: str, contact_id: str) -> None:
        """Remove a member; raise ``NotPermitted`` without owner or admin rights."""

    def announce(self, room_id: str, text: str) -> Awaitable[object]:
        """Set the group notice (群公告)."""
        ...

    async def room_info(self, room_id: str) -> RoomInfo:
        """Topic, owner, admins and the live member list of a room."""

    async def rooms(self) -> list[RoomInfo]:
        """Every room the bot is in."""

    async def is_friend(self, contact_id: str) -> bool: ...

    async def contact_name(self, contact_id: str, room_id: str = "") -> str:
        """Display name, for showing only: never for deciding who someone is."""

    async def accept_invitation(self, invitation_id: str) -> None: ...


class Puppet(ChatPort, Protocol):
    """A port that also delivers events: ``run`` calls ``handler`` for each one
    until ``stop`` is called, reconnecting on its own when the link drops."""

    async def run(self, handler: EventHandler) -> None: ...

    async def stop(self) -> None: ...
