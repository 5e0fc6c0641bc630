"""The embedded local puppet: one simulated WeChat group in the terminal.

``qunguard run`` with no puppet service configured uses this, so a newcomer
sees moderation work without a WeChat account. The operator plays every
member: ``名字: 消息`` lines become :class:`bot.events.Message` events (the
name picks or creates a member whose contact id is ``local-<名字>``), slash
commands simulate joins, leaves, images, links and admin rights (see
:data:`bot.puppet.local_input.HELP`). What the bot does through the
:class:`~bot.puppet.port.Puppet` calls is printed: room messages, private
messages as ``[私聊→名字]``, kicks and group notices.

The bot owns the simulated room, so kicks work (``/owner 名字`` takes that
right away to try the "ask the admins" path). Standard input is read by a
daemon thread, so the asyncio loop never blocks, a pty and a pipe behave the
same, and an exit never waits on a blocked read; end of input ends the session
like ``/quit``.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import io
import logging
import os
import re
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from bot.errors import ActionFailed, NotAFriend, NotPermitted
from bot.events import (
    Event,
    LoggedIn,
    LoggedOut,
    MemberJoined,
    MemberLeft,
    Message,
    MessageRecalled,
    MessageType,
    PrivateMessage,
    RoomInfo,
    TopicChanged,
)
from bot.puppet.local_input import HELP, MAX_REPEAT, Command, Say, Unreadable, parse_line, split_name
from bot.puppet.port import EventHandler
from bot.qr import MAX_IMAGE_BYTES, decode_qr

log = logging.getLogger(__name__)

ROOM_ID = "local-room"
BOT_ID = "local-bot"
ID_PREFIX = "local-"

PIPED_PACE_S = 0.5
"""Pause after each piped line: long enough for the outbox to send a reply
(the run command shortens its merge wait and gap for the local group)."""

EXAMPLE_AD = "兼职日结300元，手机就能做，加微信 vx8866123 详聊"


def contact_id_for(name: str) -> str:
    """The stable contact id of a simulated member."""
    return ID_PREFIX + name


class _EndOfInput:
    pass


class _Stop:
    pass


_EOF = _EndOfInput()
_STOP = _Stop()


class _Style:
    """ANSI colours on a terminal (unless ``NO_COLOR``), plain text otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def _wrap(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.enabled else text

    def bot(self, text: str) -> str:
        return self._wrap("1;36", text)

    def private(self, text: str) -> str:
        return self._wrap("1;35", text)

    def kick(self, text: str) -> str:
        return self._wrap("1;31", text)

    def notice(self, text: str) -> str:
        return self._wrap("1;33", text)

    def info(self, text: str) -> str:
        return self._wrap("2", text)


class LocalPuppet:
    """A :class:`~bot.puppet.port.Puppet` over one simulated room.

    ``stdin`` (binary or text, default ``sys.stdin``) is where the operator
    types; ``stdout`` (text, default ``sys.stdout``) is where the group is
    shown. ``echo`` repeats typed lines on the output (default: when
    ``stdin`` is not a terminal, so a piped session reads as a transcript).
    ``pace_s`` is a pause after each typed line (default: :data:`PIPED_PACE_S`
    when ``stdin`` is not a terminal, so the bot's replies print next to the
    line that caused them, as they would while a person types; else none).
    ``now`` gives each event's time.
    """

    room_id = ROOM_ID

    def __init__(
        self,
        *,
        stdin: IO[bytes] | IO[str] | None = None,
        stdout: IO[str] | None = None,
        room_topic: str = "本地测试群",
        bot_name: str = "群管机器人",
        echo: bool | None = None,
        pace_s: float | None = None,
        color: bool | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self._in = stdin if stdin is not None else getattr(sys.stdin, "buffer", sys.stdin)
        self._out = stdout if stdout is not None else sys.stdout
        self.room_topic = room_topic
        self.bot_name = bot_name
        self._now = now or (lambda: datetime.now(timezone.utc))
        self._echo = (not _isatty(self._in)) if echo is None else echo
        self._pace_s = (0.0 if _isatty(self._in) else PIPED_PACE_S) if pace_s is None else pace_s
        if color is None:
            color = _isatty(self._out) and not os.environ.get("NO_COLOR")
        self._style = _Style(color)
        self.members: dict[str, str] = {BOT_ID: bot_name}
        """Contact id -> display name, the bot included, in joining order."""
        self.owner_id = BOT_ID
        self.admin_ids: set[str] = set()
        self.strangers: set[str] = set()
        self._names: dict[str, str] = {BOT_ID: bot_name}
        self._gone: set[str] = set()
        """Members who left or were removed: they speak again only after /join."""
        self._last_message: dict[str, str] = {}
        """Contact id -> id of their last message, for /recall."""
        self._last_speaker = ""
        self._session = self._now().strftime("%Y%m%d%H%M%S%f")
        self._message_no = 0
        self._sent_no = 0
        self._queue: asyncio.Queue[object] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running = False
        self._quit_requested = False
        self._caused: list[Event] = []
        self._handling = False

    # --- Puppet: events ----------------------------------------------------

    @property
    def bot_id(self) -> str:
        return BOT_ID

    async def run(self, handler: EventHandler) -> None:
        """Print the welcome, then turn typed lines into events for
        ``handler`` until ``/quit``, end of input or :meth:`stop`."""
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        self._running = True
        self._print_banner()
        threading.Thread(target=self._read_input, name="qunguard-local-stdin", daemon=True).start()
        await self._deliver(handler, LoggedIn(BOT_ID, self._now(), self.bot_name))
        ending = False
        while True:
            if ending and self._queue.empty():
                break
            item = await self._queue.get()
            if isinstance(item, _Stop):
                break
            if isinstance(item, _EndOfInput):
                ending = True
                continue
            if isinstance(item, str):
                events = await self._handle_line(item)
                for event in events:
                    await self._deliver(handler, event)
                if events and self._pace_s > 0:
                    await asyncio.sleep(self._pace_s)
            else:
                await self._deliver(handler, item)  # type: ignore[arg-type]
            if self._quit_requested:
                break
        self._running = False
        await self._deliver(handler, LoggedOut(self._now(), "local session ended"))
        self._line(self._style.info("（输入结束 / end of input）"))

    async def stop(self) -> None:
        if self._queue is not None and self._running:
            self._queue.put_nowait(_STOP)

    async def _deliver(self, handler: EventHandler, event: Event) -> None:
        """Hand ``event`` over, then what it caused (a kick's leave event)
        before the next typed line."""
        pending = [event]
        while pending:
            current = pending.pop(0)
            self._handling = True
            try:
                await handler(current)
            except Exception as exc:  # one bad event never ends the session
                log.exception("local puppet: handling %s failed", type(current).__name__)
                self._line(self._style.kick(f"（处理出错 / handler error: {exc}）"))
            finally:
                self._handling = False
            pending.extend(self._caused)
            self._caused.clear()

    def _read_input(self) -> None:
        """Runs in a daemon thread: hands each line to the loop.

        A real file descriptor is read with ``os.read``: a daemon thread
        blocked inside ``sys.stdin.buffer.readline`` holds the buffer's lock,
        and the interpreter then aborts at exit ("could not acquire lock for
        <stdin> at interpreter shutdown")."""
        loop, queue = self._loop, self._queue
        assert loop is not None and queue is not None
        try:
            for line in self._input_lines():
                loop.call_soon_threadsafe(queue.put_nowait, line)
        except RuntimeError:  # the loop is gone; nothing to tell
            return
        except Exception as exc:  # no, closed or broken stdin: end the session
            log.debug("local puppet: input ended: %s", exc)
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(queue.put_nowait, _EOF)

    def _input_lines(self) -> Iterator[str]:
        try:
            fd = self._in.fileno()
        except (AttributeError, OSError, ValueError):
            fd = None
        if fd is None:
            while raw := self._in.readline():
                yield raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
            return
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        pending = ""
        while chunk := os.read(fd, 65536):
            pending += decoder.decode(chunk)
            *lines, pending = pending.split("\n")
            yield from (line + "\n" for line in lines)
        pending += decoder.decode(b"", final=True)
        if pending:
            yield pending

    # --- typed lines -> events --------------------------------------------

    async def _handle_line(self, raw: str) -> list[Event]:
        parsed = parse_line(raw)
        if parsed is None:
            return []
        if self._echo:
            self._line(self._style.info("> ") + raw.rstrip("\r\n"))
        if isinstance(parsed, Unreadable):
            self._line(self._style.info(parsed.reason))
            return []
        if isinstance(parsed, Say):
            return self._speak(parsed.name, parsed.text)
        return await self._command(parsed)

    def _speak(self, name: str, text: str) -> list[Event]:
        contact = self._member(name, create=True)
        if contact is None:
            return []
        return [self._message(contact, text=text, mention_ids=self._mentions(text))]

    async def _command(self, cmd: Command) -> list[Event]:
        handler: Callable[[str], Awaitable[list[Event]]] = getattr(self, f"_cmd_{cmd.name}")
        return await handler(cmd.args)

    async def _cmd_help(self, _args: str) -> list[Event]:
        self._line(HELP)
        return []

    async def _cmd_quit(self, _args: str) -> list[Event]:
        self._quit_requested = True
        return []

    async def _cmd_members(self, _args: str) -> list[Event]:
        for contact, name in self.members.items():
            role = "群主" if contact == self.owner_id else ("管理员" if contact in self.admin_ids else "")
            extra = "，非好友" if contact in self.strangers else ""
            self._line(self._style.info(f"  {name}  ({contact}){'  ' + role if role else ''}{extra}"))
        return []

    async def _cmd_join(self, args: str) -> list[Event]:
        name, inviter_name = split_name(args)
        if not name:
            return self._usage("/join 名字 [邀请人]")
        contact = contact_id_for(name)
        if contact in self.members or name == self.bot_name:
            self._line(self._style.info(f"{name} 已经在群里了 / already in the room"))
            return []
        inviter = ""
        if inviter_name:
            inviter = self._member(inviter_name, create=True) or ""
        self._add(contact, name)
        by = f"（邀请人：{self._names[inviter]}）" if inviter else ""
        self._line(self._style.info(f"[入群] {name} 加入了群聊{by}"))
        return [MemberJoined(ROOM_ID, contact, self._now(), name, inviter, self.room_topic)]

    async def _cmd_leave(self, args: str) -> list[Event]:
        name = args.strip()
        if not name:
            return self._usage("/leave 名字")
        contact = contact_id_for(name)
        if contact not in self.members or contact == BOT_ID:
            self._line(self._style.info(f"{name} 不在群里 / not in the room"))
            return []
        self._remove(contact)
        self._line(self._style.info(f"[退群] {name} 退出了群聊"))
        return [MemberLeft(ROOM_ID, contact, self._now())]

    async def _cmd_admin(self, args: str) -> list[Event]:
        name = args.strip()
        if not name:
            return self._usage("/admin 名字")
        if name == self.bot_name:
            self.admin_ids.add(BOT_ID)
            self._line(
                self._style.info("· 机器人是群管理员，可以移人 / the bot is a room admin and can kick")
            )
            return []
        contact = self._member(name, create=True)
        if contact:
            self.admin_ids.add(contact)
            self._line(self._style.info(f"· {name} 现在是群管理员 / is now a room admin"))
        return []

    async def _cmd_owner(self, args: str) -> list[Event]:
        name = args.strip()
        if not name or name == self.bot_name:
            self.owner_id = BOT_ID
            self._line(self._style.info("· 机器人是群主，可以移人 / the bot owns the room and can kick"))
            return []
        contact = self._member(name, create=True)
        if contact:
            self.owner_id = contact
            self.admin_ids.discard(contact)
            self._line(
                self._style.info(
                    f"· {name} 现在是群主；机器人不再能移人 / the bot can no longer kick (/owner 还给机器人)"
                )
            )
        return []

    async def _cmd_stranger(self, args: str) -> list[Event]:
        name = args.strip()
        if not name:
            return self._usage("/stranger 名字")
        contact = contact_id_for(name)
        if contact in self.strangers:
            self.strangers.discard(contact)
            self._line(self._style.info(f"· {name} 是机器人的好友了 / is the bot's friend again"))
        else:
            self.strangers.add(contact)
            self._line(
                self._style.info(f"· {name} 不是机器人的好友，机器人不能私聊他 / not the bot's friend")
            )
        return []

    async def _cmd_pm(self, args: str) -> list[Event]:
        name, text = split_name(args)
        if not name or not text:
            return self._usage("/pm 名字 消息")
        contact = contact_id_for(name)
        self._names.setdefault(contact, name)
        self._message_no += 1
        return [PrivateMessage(self._next_id(), contact, self._now(), text, name)]

    async def _cmd_repeat(self, args: str) -> list[Event]:
        name, rest = split_name(args)
        count, text = split_name(rest)
        if not name or not count.isdigit() or not 1 <= int(count) <= MAX_REPEAT or not text:
            return self._usage(f"/repeat 名字 次数(1-{MAX_REPEAT}) 消息，例如 /repeat 小王 8 收到")
        events: list[Event] = []
        for _ in range(int(count)):
            events.extend(self._speak(name, text))
        return events

    async def _cmd_recall(self, args: str) -> list[Event]:
        name = args.strip()
        if not name:
            return self._usage("/recall 名字")
        message_id = self._last_message.pop(contact_id_for(name), "")
        if not message_id:
            self._line(self._style.info(f"{name} 没有可撤回的消息 / nothing to recall"))
            return []
        self._line(self._style.info(f"[撤回] {name} 撤回了一条消息"))
        return [MessageRecalled(ROOM_ID, message_id, self._now())]

    async def _cmd_topic(self, args: str) -> list[Event]:
        name, topic = split_name(args)
        if not name or not topic:
            return self._usage("/topic 名字 新群名")
        contact = self._member(name, create=True)
        if contact is None:
            return []
        old, self.room_topic = self.room_topic, topic
        self._line(self._style.info(f"[改群名] {name} 将群名改为「{topic}」"))
        return [TopicChanged(ROOM_ID, topic, contact, self._now(), old)]

    async def _cmd_url(self, args: str) -> list[Event]:
        name, rest = split_name(args)
        url, title = split_name(rest)
        if not name or not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://\S+$", url):
            return self._usage("/url 名字 网址 标题，例如 /url 小王 https://example.com 好文分享")
        contact = self._member(name, create=True)
        if contact is None:
            return []
        title = title or url
        return [self._message(contact, type=MessageType.URL, text=title, url=url, title=title)]

    async def _cmd_image(self, args: str) -> list[Event]:
        args = args.strip()
        if not args:
            return self._usage("/image [名字] 图片路径")
        path, name = Path(args).expanduser(), ""
        if not path.is_file():
            name, rest = split_name(args)
            path = Path(rest).expanduser()
        if name:
            contact = self._member(name, create=True)
        elif self._last_speaker in self.members:
            contact = self._last_speaker
        else:
            self._line(self._style.info("先有人发言，或写上名字：/image 名字 图片路径 / who sends it?"))
            return []
        if contact is None:
            return []
        try:
            size = path.stat().st_size
            if size > MAX_IMAGE_BYTES:
                raise OSError(f"too large ({size} bytes)")
            data = await asyncio.to_thread(path.read_bytes)
        except OSError as exc:
            self._line(self._style.info(f"读不了图片 / cannot read {str(path)!r}: {exc.strerror or exc}"))
            return []
        return await self._image(contact, data, path.name, str(path))

    async def _cmd_qr(self, args: str) -> list[Event]:
        """A QR-code image made on the spot, for trying the QR rules without a file."""
        name, payload = split_name(args)
        if not name or not payload:
            return self._usage("/qr 名字 二维码内容，例如 /qr 小李 https://u.wechat.com/AbC123")
        contact = self._member(name, create=True)
        if contact is None:
            return []
        try:
            data = await asyncio.to_thread(qr_png, payload)
        except Exception as exc:  # zxing refuses some payloads (too long)
            self._line(self._style.info(f"生成不了二维码 / cannot make a QR code: {exc}"))
            return []
        return await self._image(contact, data, "qrcode.png", "")

    async def _image(self, contact: str, data: bytes, file_name: str, media_key: str) -> list[Event]:
        """An image message, with its QR codes decoded as the adapter does."""
        payloads = await asyncio.to_thread(decode_qr, data)
        found = "、".join(payloads) if payloads else "无 / none"
        self._line(
            self._style.info(f"（{self._names[contact]} 发了图片 {file_name}；图中二维码 / QR: {found}）")
        )
        return [
            self._message(
                contact,
                type=MessageType.IMAGE,
                file_name=file_name,
                media_key=media_key,
                qr_payloads=payloads,
            )
        ]

    def _usage(self, usage: str) -> list[Event]:
        self._line(self._style.info(f"用法 / usage: {usage}"))
        return []

    # --- the simulated room ------------------------------------------------

    def _member(self, name: str, *, create: bool) -> str | None:
        """The contact id of ``name``; a new name becomes a member who was
        already in the room (no join event, as with members WeChat never
        announced)."""
        contact = contact_id_for(name)
        if contact == contact_id_for(self.bot_name):
            self._line(self._style.info("那是机器人的名字，换一个 / that is the bot's name"))
            return None
        if contact in self.members:
            return contact
        if contact in self._gone:
            self._line(self._style.info(f"{name} 已不在群里；用 /join {name} 让他重新入群 / not in the room"))
            return None
        if not create:
            return None
        self._add(contact, name)
        self._line(self._style.info(f"· 新成员 {name}（id {contact}）/ new member"))
        return contact

    def _add(self, contact: str, name: str) -> None:
        self.members[contact] = name
        self._names[contact] = name
        self._gone.discard(contact)

    def _remove(self, contact: str) -> None:
        self.members.pop(contact, None)
        self.admin_ids.discard(contact)
        self._gone.add(contact)
        if self.owner_id == contact:
            self.owner_id = BOT_ID

    def _mentions(self, text: str) -> tuple[str, ...]:
        found = []
        for contact, name in sorted(self.members.items(), key=lambda kv: -len(kv[1])):
            if f"@{name}" in text:
                found.append(contact)
        return tuple(found)

    def _next_id(self) -> str:
        return f"local-{self._session}-{self._message_no:06d}"

    def _message(self, contact: str, **fields: object) -> Message:
        self._message_no += 1
        self._last_speaker = contact
        self._last_message[contact] = self._next_id()
        return Message(
            id=self._next_id(),
            room_id=ROOM_ID,
            sender_id=contact,
            at=self._now(),
            room_topic=self.room_topic,
            sender_name=self.members[contact],
            **fields,  # type: ignore[arg-type]
        )

    def _name_of(self, contact: str) -> str:
        return self._names.get(contact) or contact.removeprefix(ID_PREFIX)

    # --- Puppet: actions (what the bot does, printed) --------------------------

    async def say(self, room_id: str, text: str, mention_ids: Sequence[str] = ()) -> str:
        self._check_room(room_id)
        mentions = "".join(f"@{self._name_of(c)} " for c in mention_ids)
        self._block(self._style.bot(f"[群] {self.bot_name}: "), mentions + text)
        return self._sent_id()

    async def say_private(self, contact_id: str, text: str) -> str:
        if contact_id in self.strangers:
            raise NotAFriend(f"{self._name_of(contact_id)} ({contact_id}) 不是机器人的好友")
        self._block(self._style.private(f"[私聊→{self._name_of(contact_id)}] "), text)
        return self._sent_id()

    async def kick(self, room_id: str, contact_id: str) -> None:
        self._check_room(room_id)
        if self.owner_id != BOT_ID and BOT_ID not in self.admin_ids:
            raise NotPermitted(f"机器人不是「{self.room_topic}」的群主或管理员，不能移人")
        if contact_id in self._gone:  # removed twice (two cases at once): already done, as in WeChat
            self._line(self._style.info(f"（{self._name_of(contact_id)} 已不在群里 / already gone）"))
            return
        if contact_id not in self.members or contact_id == BOT_ID:
            raise ActionFailed(f"{self._name_of(contact_id)} ({contact_id}) 不在群里")
        if contact_id == self.owner_id:
            raise NotPermitted("不能移出群主")
        self._remove(contact_id)
        self._line(self._style.kick(f"[移出] {self.bot_name} 将 {self._name_of(contact_id)} 移出了群聊"))
        left = MemberLeft(ROOM_ID, contact_id, self._now(), BOT_ID)
        if self._handling:
            self._caused.append(left)
        elif self._queue is not None and self._running:
            self._queue.put_nowait(left)

    async def announce(self, room_id: str, text: str) -> None:
        self._check_room(room_id)
        self._block(self._style.notice("[群公告] "), text)

    async def room_info(self, room_id: str) -> RoomInfo:
        self._check_room(room_id)
        return RoomInfo(
            id=ROOM_ID,
            topic=self.room_topic,
            owner_id=self.owner_id,
            admin_ids=tuple(sorted(self.admin_ids)),
            member_ids=tuple(self.members),
        )

    async def rooms(self) -> list[RoomInfo]:
        return [await self.room_info(ROOM_ID)]

    async def is_friend(self, contact_id: str) -> bool:
        return contact_id not in self.strangers

    async def contact_name(self, contact_id: str, room_id: str = "") -> str:
        return self._name_of(contact_id)

    async def accept_invitation(self, invitation_id: str) -> None:
        self._line(self._style.info(f"（机器人接受了入群邀请 {invitation_id} / invitation accepted）"))

    def outbox_throttled(self, pending: int, wait_s: float) -> None:
        """Called by the outbox when the send limit holds the bot's replies back."""
        self._line(
            self._style.info(
                f"（机器人发言已达频率上限，{pending} 条消息排队，约 {wait_s:.0f} 秒后继续发送；"
                f"真实微信号发得太快会被封 / rate limit: {pending} queued, next in {wait_s:.0f} s）"
            )
        )

    def _check_room(self, room_id: str) -> None:
        if room_id != ROOM_ID:
            raise ActionFailed(f"本地模拟只有一个群 {ROOM_ID!r}，没有 {room_id!r}")

    def _sent_id(self) -> str:
        self._sent_no += 1
        return f"local-{self._session}-bot-{self._sent_no:06d}"

    # --- output ------------------------------------------------------------

    def _print_banner(self) -> None:
        s = self._style
        self._line(
            s.bot(
                f"qunguard 本地模拟群「{self.room_topic}」— 不需要微信账号 / a simulated group, no WeChat account"
            )
        )
        self._line(
            f"你来扮演群成员：每行输入 {s.bot('名字: 消息')}   (type one line per message: name: message)"
        )
        self._line("试试 / try:")
        self._line(f"  {s.bot('小王: 大家好，我是新来的')}")
        self._line(f"  {s.bot('小李: ' + EXAMPLE_AD)}    ← 一条广告 / an ad: the bot warns 小李")
        self._line(
            f"机器人「{self.bot_name}」是群主，可以移人。命令 / commands: "
            "/join /leave /image /qr /url /admin /pm /repeat /recall /help /quit"
        )
        self._line(
            s.info("机器人的回复会显示在下方；私聊显示为 [私聊→名字] / the bot's replies appear below")
        )

    def _block(self, head: str, text: str) -> None:
        lines = text.split("\n") or [""]
        indent = " " * 4
        self._line(head + lines[0] + "".join("\n" + indent + rest for rest in lines[1:]))

    def _line(self, text: str) -> None:
        try:
            self._out.write(text + "\n")
            self._out.flush()
        except (OSError, ValueError):  # a closed terminal must not stop moderation
            pass


def qr_png(payload: str) -> bytes:
    """A PNG image of a QR code holding ``payload``."""
    import zxingcpp
    from PIL import Image

    image: Any = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.QRCode).to_image(scale=6)
    bitmap = memoryview(image)  # zxingcpp's Image has the buffer protocol; its stubs do not say so
    height, width = bitmap.shape[0], bitmap.shape[1]  # type: ignore[index]
    buf = io.BytesIO()
    Image.frombytes("L", (width, height), bytes(bitmap)).save(buf, "PNG")
    return buf.getvalue()


def _isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError, OSError):
        return False
