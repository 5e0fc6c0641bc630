"""Commands typed to the bot: ``#启用`` in a room, ``申诉 17 理由`` in a private chat.

A command is a word, in a room after ``#`` (or the full-width ``＃``), in a
private chat with or without it, followed by free text. Handlers register by
word (Chinese words with English aliases), say where they apply, and whether
only admins may use them::

    from bot.app.commands import COMMANDS, Where

    @COMMANDS.command("警告", "warn", where=Where.BOTH, admin_only=True, usage="#警告 @成员 理由")
    async def warn(ctx: CommandContext) -> None:
        ...
        await ctx.reply("已警告。")

``COMMANDS`` is the module-level registry every :class:`~bot.app.App` starts
from (a copy, so tests can add their own with ``app.commands.command(...)``).
Admin rights are decided by contact id: a global admin from the config, or the
room's owner or an admin. An admin-only command from anyone else is answered
with a short private line and goes no further; an unknown word goes to the
``unknown`` handler (default: ignored in rooms, so members' ``#话题`` tags
stay harmless).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from bot.events import Message, PrivateMessage

if TYPE_CHECKING:
    from bot.app.core import App

log = logging.getLogger(__name__)

PREFIXES = ("#", "＃")


class Where(str, enum.Enum):
    ROOM = "room"
    PRIVATE = "private"
    BOTH = "both"

    def allows(self, in_room: bool) -> bool:
        return self is Where.BOTH or (self is Where.ROOM) == in_room


@dataclass(frozen=True)
class CommandContext:
    app: App
    word: str
    """The command word as typed (without ``#``), e.g. ``启用``."""
    args: str
    """Everything after the word, stripped."""
    sender_id: str
    at: datetime
    event: Message | PrivateMessage
    room_id: str = ""
    """Empty in a private chat."""
    is_admin: bool = False
    """Room owner or admin (in a room) or a global admin, by contact id."""

    @property
    def in_room(self) -> bool:
        return bool(self.room_id)

    @property
    def mention_ids(self) -> tuple[str, ...]:
        """Contact ids @-mentioned in the command (resolved by WeChat, not by name)."""
        if isinstance(self.event, Message):
            return tuple(m for m in self.event.mention_ids if m != self.app.rooms.bot_id)
        return ()

    async def reply(self, text: str) -> None:
        """Answer where the command was typed: @the sender in the room, or privately."""
        if self.room_id:
            await self.app.port.say(self.room_id, text, [self.sender_id])
        else:
            await self.reply_private(text)

    async def reply_private(self, text: str) -> None:
        try:
            await self.app.port.say_private(self.sender_id, text)
        except Exception as exc:
            log.info("private reply to %s failed (%s); answering in the room", self.sender_id, exc)
            if self.room_id:
                await self.app.port.say(self.room_id, text, [self.sender_id])


Handler = Callable[[CommandContext], Awaitable[None]]


@dataclass(frozen=True)
class Command:
    words: tuple[str, ...]
    handler: Handler
    where: Where = Where.BOTH
    admin_only: bool = False
    usage: str = ""
    help: str = ""
    for_admins: Callable[[CommandContext], bool] | None = None
    """For a command whose text is addressed to the admins, who judge it (a report quotes what
    it reports): True when this room message is taken as such, and then it is checked for
    flooding (and for a link or QR code of the sender's own), not against the content rules. A message it does not take (a report that
    names nothing, or one over the member's limit) is moderated like any other."""


Recogniser = Callable[[str], tuple[str, str] | None]
"""Room text in another form that still names a command -> ``(word, args)``, else None."""


@dataclass
class CommandRegistry:
    by_word: dict[str, Command] = field(default_factory=dict)
    unknown: Handler | None = None
    """Called for a ``#word`` nobody registered (issue 5: a short usage line)."""
    recognisers: list[Recogniser] = field(default_factory=list)
    """Forms other than ``#word args`` that name a command in a room, tried in order
    (a quote reply whose reply is ``#举报 说明``)."""

    def add(self, command: Command) -> Command:
        for w in command.words:
            self.by_word[w.lower()] = command
        return command

    def command(
        self,
        *words: str,
        where: Where = Where.BOTH,
        admin_only: bool = False,
        usage: str = "",
        help: str = "",
        for_admins: Callable[[CommandContext], bool] | None = None,
    ) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self.add(Command(tuple(words), fn, where, admin_only, usage, help, for_admins))
            return fn

        return register

    def find(self, word: str) -> Command | None:
        return self.by_word.get(word.lower())

    def commands(self) -> list[Command]:
        seen: list[Command] = []
        for c in self.by_word.values():
            if c not in seen:
                seen.append(c)
        return seen

    def parse_room_text(self, text: str) -> tuple[str, str] | None:
        """``(word, args)`` of a command typed in a room, in any form a recogniser knows."""
        found = split_command(text, in_room=True)
        if found is not None:
            return found
        for recognise in self.recognisers:
            found = recognise(text)
            if found is not None:
                return found
        return None

    def copy(self) -> CommandRegistry:
        return CommandRegistry(dict(self.by_word), self.unknown, list(self.recognisers))


COMMANDS = CommandRegistry()
"""The registry every App starts from. Modules register at import time."""


def split_command(text: str, *, in_room: bool) -> tuple[str, str] | None:
    """``'#启用 现在'`` -> ``('启用', '现在')``; None when the text is no command.

    In a room a command must start with ``#``; in a private chat the ``#`` is
    optional (members type ``申诉 17 理由``)."""
    s = text.strip()
    if s.startswith(PREFIXES):
        s = s[1:].lstrip()
    elif in_room:
        return None
    if not s:
        return None
    parts = s.split(maxsplit=1)  # any whitespace, full-width space and newlines too
    return parts[0], parts[1].strip() if len(parts) > 1 else ""
