"""WeChat through a Wechaty puppet service: events in, actions out.

:class:`WechatyPuppet` implements :class:`bot.puppet.port.Puppet` on top of
python-wechaty 0.10.7 (its ``Wechaty`` user classes and the gRPC
puppet-service client, fixed for 1.x servers in :mod:`bot.puppet.compat`).

What it adds over ``Wechaty.start()``:

* one connection loop that reconnects with backoff (not a fixed 60 s), logs
  every reconnect, re-fires login handling on each connection, and notices a
  stream that ended without an error (another client took the session) or a
  server that stopped answering ``Ding``;
* events are handled one at a time, in arrival order, by the caller's
  handler; an event that cannot be converted, or that the handler chokes on,
  is logged and skipped: nothing kills the loop;
* a message id seen before (a server re-delivering after a restart) is
  handled once; the bot's own messages are ignored;
* Wechaty's message types are mapped by name; mentions and every person are
  contact ids;
* images are fetched (inline, ``Download`` stream or URL) and their QR codes
  decoded before the event leaves the adapter;
* python-wechaty's plugin web server is configured for 127.0.0.1 on a free
  port (it only starts when a plugin registers routes, and none does) and its
  cache directory (``job.db``) is ``<data_dir>/wechaty``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bot import events as ev
from bot.errors import ActionFailed, NotAFriend, NotPermitted, PuppetUnavailable
from bot.puppet import compat
from bot.puppet.port import EventHandler
from bot.puppet.wechaty_media import MAX_MEDIA_BYTES, fetch_media

log = logging.getLogger(__name__)

AT_SEPARATOR = "\u2005"

# wechaty-grpc MessageType member name -> ours. Never by number: the gRPC enum
# and the TypeScript enum (which 1.x servers send) number them differently.
MESSAGE_TYPES: dict[str, ev.MessageType] = {
    "MESSAGE_TYPE_TEXT": ev.MessageType.TEXT,
    "MESSAGE_TYPE_URL": ev.MessageType.URL,
    "MESSAGE_TYPE_MINI_PROGRAM": ev.MessageType.MINI_PROGRAM,
    "MESSAGE_TYPE_CONTACT": ev.MessageType.CONTACT_CARD,
    "MESSAGE_TYPE_IMAGE": ev.MessageType.IMAGE,
    "MESSAGE_TYPE_VIDEO": ev.MessageType.VIDEO,
    "MESSAGE_TYPE_ATTACHMENT": ev.MessageType.FILE,
    "MESSAGE_TYPE_EMOTICON": ev.MessageType.EMOTICON,
    "MESSAGE_TYPE_AUDIO": ev.MessageType.AUDIO,
    "MESSAGE_TYPE_LOCATION": ev.MessageType.LOCATION,
    "MESSAGE_TYPE_RECALLED": ev.MessageType.RECALLED,
}

# dirty-payload kinds (same numbers in wechaty-grpc's PayloadType and wechaty-puppet's DirtyType)
_DIRTY_CONTACT, _DIRTY_ROOM, _DIRTY_ROOM_MEMBER = 2, 3, 4

_ROOM_CHANGES = frozenset({"room-join", "room-leave", "room-topic"})
_QUEUED_EVENTS = (
    "message",
    "login",
    "logout",
    "error",
    "room-join",
    "room-leave",
    "room-topic",
    "room-invite",
)


def message_type_of(name: str) -> ev.MessageType:
    return MESSAGE_TYPES.get(name, ev.MessageType.OTHER)


def to_datetime(timestamp: float | int | None) -> datetime:
    """Wechaty timestamps come in seconds or milliseconds; 0 means now."""
    if not timestamp:
        return datetime.now(timezone.utc)
    seconds = timestamp / 1000 if timestamp > 10_000_000_000 else timestamp
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def free_local_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Backoff:
    """Exponential backoff with jitter: 0.5 s, 1 s, 2 s, ... up to ``max_s``."""

    def __init__(self, min_s: float = 0.5, max_s: float = 30.0) -> None:
        self.min_s = min_s
        self.max_s = max(max_s, min_s)
        self.attempt = 0

    def next(self) -> float:
        delay = min(self.max_s, self.min_s * 2**self.attempt)
        self.attempt += 1
        return delay * random.uniform(0.8, 1.0)

    def reset(self) -> None:
        self.attempt = 0


class _Seen:
    """The last ``size`` event keys, to handle a re-delivered event once."""

    def __init__(self, size: int = 20_000) -> None:
        self._keys: OrderedDict[tuple[Any, ...], None] = OrderedDict()
        self._size = size

    def add(self, key: tuple[Any, ...]) -> bool:
        """Record ``key``; False if it was already there."""
        if key in self._keys:
            self._keys.move_to_end(key)
            return False
        self._keys[key] = None
        if len(self._keys) > self._size:
            self._keys.popitem(last=False)
        return True

    def forget(self, key: tuple[Any, ...]) -> None:
        self._keys.pop(key, None)


class WechatyPuppet:
    """A :class:`bot.puppet.port.Puppet` on a Wechaty puppet-service endpoint.

    ``endpoint`` is ``host:port`` of the puppet service (plain gRPC), ``token``
    its token; ``data_dir`` holds python-wechaty's cache (``wechaty/``).
    Actions raise :class:`~bot.errors.PuppetUnavailable` while disconnected,
    :class:`~bot.errors.NotAFriend` / :class:`~bot.errors.NotPermitted` as the
    port says, and :class:`~bot.errors.ActionFailed` when the server refuses.
    """

    def __init__(
        self,
        endpoint: str,
        token: str,
        data_dir: str | Path,
        *,
        reconnect_min_s: float = 0.5,
        reconnect_max_s: float = 30.0,
        rpc_timeout_s: float = 30.0,
        ping_interval_s: float = 30.0,
        max_media_bytes: int = MAX_MEDIA_BYTES,
        name: str = "qunguard",
    ) -> None:
        if not endpoint:
            raise PuppetUnavailable(
                "no puppet endpoint: set puppet.endpoint or WECHATY_PUPPET_SERVICE_ENDPOINT"
            )
        self.endpoint = endpoint
        self._token = token
        self.data_dir = Path(data_dir)
        self.cache_dir = self.data_dir / "wechaty"
        self.rpc_timeout_s = rpc_timeout_s
        self.ping_interval_s = ping_interval_s
        self.max_media_bytes = max_media_bytes
        self._backoff = Backoff(reconnect_min_s, reconnect_max_s)
        self._name = name

        wechaty = compat.load_wechaty(self.cache_dir)
        self._service_class = compat.puppet_service_class()
        self.web_port = free_local_port()
        from wechaty.schema import WechatySchedulerOptions

        self._wechaty_module = wechaty
        self._scheduler_options = WechatySchedulerOptions(
            job_store=f"sqlite:///{(self.cache_dir / 'job.db').resolve()}",
        )
        self._bot: Any = None
        self._puppet: Any = None
        self._bot_id = ""
        self._session_login = ""
        self._queue: asyncio.Queue[tuple[str, Any, tuple[Any, ...] | None]] = asyncio.Queue()
        self._seen = _Seen()
        self._stopping = asyncio.Event()
        self._connected = asyncio.Event()
        self._handler: EventHandler | None = None
        self.connections = 0
        """How many times a session was established (for tests and logs)."""

    @classmethod
    def from_config(cls, config: Any, **kwargs: Any) -> WechatyPuppet:
        """Build from :class:`bot.config.Config` (``puppet.endpoint``/``token``
        or the ``WECHATY_PUPPET_SERVICE_*`` environment)."""
        return cls(
            config.puppet_endpoint,
            config.puppet_token,
            config.data_dir,
            reconnect_max_s=config.puppet.reconnect_max_s,
            **kwargs,
        )

    # ------------------------------------------------------------------ port

    @property
    def bot_id(self) -> str:
        return self._bot_id

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def wait_connected(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self._connected.wait(), timeout)

    async def say(self, room_id: str, text: str, mention_ids: Sequence[str] = ()) -> str:
        mention_ids = [m for m in dict.fromkeys(mention_ids) if m]
        prefix = ""
        for contact_id in mention_ids:
            try:
                prefix += f"@{await self._display_name(contact_id, room_id)}{AT_SEPARATOR}"
            except ActionFailed as exc:  # still mentioned by id; just not spelled out
                log.info("no display name for %s in %s: %s", contact_id, room_id, exc)
        return await self._send(room_id, prefix + text, mention_ids)

    async def say_private(self, contact_id: str, text: str) -> str:
        if not await self.is_friend(contact_id):
            raise NotAFriend(f"{contact_id} is not the bot's friend: cannot message them privately")
        return await self._send(contact_id, text, [])

    async def kick(self, room_id: str, contact_id: str) -> None:
        await self._require_admin(room_id, "remove a member")
        await self._call(f"remove {contact_id} from {room_id}", self._p().room_delete(room_id, contact_id))
        self._forget_room(room_id)

    async def announce(self, room_id: str, text: str) -> None:
        await self._require_admin(room_id, "set the group notice")
        await self._call(f"set the notice of {room_id}", self._p().room_announce(room_id, text))

    async def room_info(self, room_id: str) -> ev.RoomInfo:
        puppet = self._p()
        payload = await self._call(f"read room {room_id}", puppet.room_payload(room_id))
        members = await self._call(f"list members of {room_id}", puppet.room_members(room_id))
        return ev.RoomInfo(
            id=room_id,
            topic=payload.topic or "",
            owner_id=payload.owner_id or "",
            admin_ids=tuple(payload.admin_ids or ()),
            member_ids=tuple(members or payload.member_ids or ()),
        )

    async def rooms(self) -> list[ev.RoomInfo]:
        ids = await self._call("list rooms", self._p().room_list())
        out: list[ev.RoomInfo] = []
        for room_id in ids:
            try:
                out.append(await self.room_info(room_id))
            except ActionFailed as exc:
                log.warning("room %s skipped: %s", room_id, exc)
        return out

    async def is_friend(self, contact_id: str) -> bool:
        payload = await self._call(f"read contact {contact_id}", self._p().contact_payload(contact_id))
        return bool(payload.friend)

    async def contact_name(self, contact_id: str, room_id: str = "") -> str:
        try:
            return await self._display_name(contact_id, room_id)
        except (ActionFailed, PuppetUnavailable):
            return contact_id

    async def accept_invitation(self, invitation_id: str) -> None:
        await self._call(
            f"accept invitation {invitation_id}", self._p().room_invitation_accept(invitation_id)
        )

    # ------------------------------------------------------------------ running

    async def run(self, handler: EventHandler) -> None:
        """Connect, deliver events to ``handler`` one by one, reconnect when the
        link drops; return after :meth:`stop`."""
        self._handler = handler
        consumer = asyncio.create_task(self._consume(), name="wechaty-events")
        clean_ends = 0
        try:
            while not self._stopping.is_set():
                started = asyncio.get_running_loop().time()
                try:
                    await self._session()
                    clean_ends += 1
                    reason = (
                        "the event stream ended without an error (another client may have taken the session)"
                    )
                    if clean_ends >= 3:
                        log.error(
                            "the puppet session was taken away %d times in a row: is another bot "
                            "using the same puppet service token?",
                            clean_ends,
                        )
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    clean_ends = 0
                    reason = f"lost the puppet service: {type(exc).__name__}: {exc}"
                    if _is_unauthenticated(exc):
                        log.error(
                            "the puppet service at %s rejected the token (check puppet.token or "
                            "WECHATY_PUPPET_SERVICE_TOKEN): %s",
                            self.endpoint,
                            exc,
                        )
                        self._backoff.attempt = max(self._backoff.attempt, 16)  # wait the longest
                if self._stopping.is_set():
                    break
                if asyncio.get_running_loop().time() - started > 60:
                    self._backoff.reset()
                delay = self._backoff.next()
                log.warning(
                    "%s; reconnecting to %s in %.1f s (attempt %d)",
                    reason,
                    self.endpoint,
                    delay,
                    self._backoff.attempt,
                )
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)
        finally:
            await _cancel(consumer)
            self._connected.clear()

    async def stop(self) -> None:
        self._stopping.set()
        puppet = self._puppet
        if puppet is not None:
            await puppet.stop()

    async def _session(self) -> None:
        puppet = self._service_class(self.endpoint, self._token, name=self._name)
        self._session_login = ""
        for name in (*_QUEUED_EVENTS, "dirty", "scan"):
            puppet.on(name, self._listener(name))
        self._bind(puppet)
        start = asyncio.create_task(puppet.start(), name="wechaty-stream")
        keepalive = asyncio.create_task(self._keepalive(puppet), name="wechaty-keepalive")
        try:
            done, _ = await asyncio.wait({start, keepalive}, return_when=asyncio.FIRST_COMPLETED)
            if start not in done:
                await _cancel(start)
                keepalive.result()  # raises why the server stopped answering
                raise PuppetUnavailable("keepalive stopped")
            start.result()
        finally:
            self._connected.clear()
            await _cancel(keepalive)
            await _cancel(start)
            await puppet.stop()
            if self._puppet is puppet:
                self._puppet = None

    def _bind(self, puppet: Any) -> None:
        """Point python-wechaty's user classes at this connection's puppet."""
        wechaty = self._wechaty_module
        if self._bot is None:
            from wechaty_puppet import PuppetOptions

            options = wechaty.WechatyOptions(
                puppet=puppet,
                puppet_options=PuppetOptions(),
                host="127.0.0.1",
                port=self.web_port,
                scheduler=self._scheduler_options,
            )
            self._bot = wechaty.Wechaty(options)
        self._bot._options.puppet = puppet
        self._bot._puppet = puppet
        _init_user_classes(self._bot, puppet)
        # payloads cached by python-wechaty's class-wide pools belong to the old connection
        wechaty.Room._pool.clear()
        wechaty.Contact._pool.clear()
        self._puppet = puppet

    async def _keepalive(self, puppet: Any) -> None:
        """Ding the server now and then; a server that does not answer within
        the RPC timeout is treated as gone."""
        from grpclib.exceptions import GRPCError

        while True:
            await asyncio.sleep(self.ping_interval_s)
            if puppet.channel is None:
                return
            try:
                await asyncio.wait_for(puppet.ding("qunguard"), self.rpc_timeout_s)
            except GRPCError as exc:  # it answered, so it is alive (e.g. still logging in)
                log.debug("Ding answered with %s", exc)

    def _listener(self, name: str) -> Callable[[Any], None]:
        def listener(payload: Any) -> None:
            if name == "dirty":
                self._on_dirty(*payload)
                return
            if name == "scan":
                log.warning(
                    "the puppet service needs a QR-code scan to log in (status %s): %s",
                    getattr(payload.status, "name", payload.status),
                    payload.qrcode or payload.data or "",
                )
                return
            if name == "login":
                if self._session_login == payload.contact_id:
                    return  # the same login announced twice in one session
                self._session_login = payload.contact_id
                self.connections += 1
                self._connected.set()
                self._backoff.reset()
                log.info("logged in to %s as %s", self.endpoint, payload.contact_id)
            elif name == "logout":
                self._session_login = ""
            key = _event_key(name, payload)
            if key is not None and not self._seen.add(key):
                log.info("duplicate %s event ignored: %s", name, key[1:])
                return
            if name in _ROOM_CHANGES:  # messages after this one must not read the cached room
                self._forget_room(payload.room_id)
            self._queue.put_nowait((name, payload, key))

        return listener

    def _on_dirty(self, kind: int, payload_id: str) -> None:
        if kind in (_DIRTY_ROOM, _DIRTY_ROOM_MEMBER):
            self._forget_room(payload_id)
        elif kind == _DIRTY_CONTACT:
            self._wechaty_module.Contact._pool.pop(payload_id, None)

    def _forget_room(self, room_id: str) -> None:
        self._wechaty_module.Room._pool.pop(room_id, None)

    async def _consume(self) -> None:
        while True:
            name, payload, key = await self._queue.get()
            try:
                converted = await asyncio.wait_for(self._convert(name, payload), self.rpc_timeout_s * 3)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.log(
                    logging.DEBUG if self._stopping.is_set() else logging.WARNING,
                    "%s event skipped, could not be read (%s: %s): %s",
                    name,
                    type(exc).__name__,
                    exc,
                    payload,
                )
                if key is not None:
                    self._seen.forget(key)  # a re-delivery may succeed
                continue
            for event in converted:
                try:
                    assert self._handler is not None
                    await self._handler(event)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("event handler failed on %r", event)

    # ------------------------------------------------------------------ conversion

    async def _convert(self, name: str, payload: Any) -> list[ev.Event]:
        converter = _CONVERTERS[name]
        return await converter(self, payload)

    async def _on_login(self, payload: Any) -> list[ev.Event]:
        self._bot_id = payload.contact_id
        self._bot.contact_id = payload.contact_id
        name = ""
        try:
            name = (await self._p().contact_payload(payload.contact_id)).name or ""
        except Exception as exc:
            log.debug("bot's own contact payload unavailable: %s", exc)
        return [ev.LoggedIn(bot_id=payload.contact_id, at=_now(), name=name)]

    async def _on_logout(self, payload: Any) -> list[ev.Event]:
        return [ev.LoggedOut(at=_now(), reason=str(payload.data or ""))]

    async def _on_error(self, payload: Any) -> list[ev.Event]:
        detail = str(payload.data or "")
        log.warning("the puppet service reported an error: %s", detail)
        return [ev.PuppetError(at=_now(), detail=detail)]

    async def _on_message(self, payload: Any) -> list[ev.Event]:
        msg = self._bot.Message.load(payload.message_id)
        # Not msg.ready(): it gives up on the whole message when the sender's or
        # the room's payload cannot be read, and a stranger's ad must still be seen.
        msg.payload = await self._p().message_payload(payload.message_id)
        data = msg.payload
        talker_id = data.from_id or ""
        if talker_id and talker_id == (self._bot_id or self._p().login_user_id):
            return []
        kind = message_type_of(data.type.name)
        at = to_datetime(data.timestamp)
        room = msg.room()
        for accessory in (msg.talker() if talker_id else None, room):
            if accessory is not None and not accessory.is_ready():
                try:
                    await accessory.ready()
                except Exception as exc:
                    log.info(
                        "message %s: %s unreadable (%s); kept without it", msg.message_id, accessory, exc
                    )
        if room is None:
            if kind is not ev.MessageType.TEXT:
                return []
            return [
                ev.PrivateMessage(
                    id=msg.message_id,
                    sender_id=talker_id,
                    at=at,
                    text=data.text or "",
                    sender_name=_name_of(msg.talker()),
                )
            ]
        if kind is ev.MessageType.RECALLED:
            return [ev.MessageRecalled(room_id=room.room_id, message_id=(data.text or "").strip(), at=at)]
        fields: dict[str, Any] = {}
        text = data.text or ""
        try:
            fields, text = await self._message_details(msg, kind, text)
        except Exception as exc:
            log.warning("message %s (%s): details unavailable: %s", msg.message_id, kind.value, exc)
        return [
            ev.Message(
                id=msg.message_id,
                room_id=room.room_id,
                sender_id=talker_id,
                at=at,
                type=kind,
                text=text,
                room_topic=(room.payload.topic or "") if room.is_ready() else "",
                sender_name=_name_of(msg.talker()),
                mention_ids=tuple(data.mention_ids or ()),
                **fields,
            )
        ]

    async def _message_details(self, msg: Any, kind: ev.MessageType, text: str) -> tuple[dict[str, Any], str]:
        """Card fields and media of non-text messages; ``text`` becomes what a
        rule may match in them."""
        if kind is ev.MessageType.URL:
            link = (await msg.to_url_link()).payload
            return {
                "url": link.url or "",
                "title": link.title or "",
                "description": link.description or "",
            }, _join(link.title, link.description, link.url)
        if kind is ev.MessageType.MINI_PROGRAM:
            mp = (await msg.to_mini_program()).payload
            app = mp.description or mp.username or mp.appid or ""
            return {"title": mp.title or "", "app": app, "description": mp.description or ""}, _join(
                mp.title, app
            )
        if kind is ev.MessageType.CONTACT_CARD:
            card = await msg.to_contact()
            name = _name_of(card)
            return {"card_id": card.contact_id, "card_name": name}, name
        if kind in (ev.MessageType.IMAGE, ev.MessageType.FILE, ev.MessageType.VIDEO):
            fields: dict[str, Any] = {"file_name": msg.payload.filename or ""}
            if kind is not ev.MessageType.VIDEO:  # videos are not worth their download
                try:
                    media = await asyncio.wait_for(
                        fetch_media(
                            self._p(),
                            msg.message_id,
                            image=kind is ev.MessageType.IMAGE,
                            decode=kind is ev.MessageType.IMAGE,
                            limit=self.max_media_bytes,
                        ),
                        self.rpc_timeout_s,
                    )
                except Exception as exc:
                    log.warning("message %s: %s not fetched: %s", msg.message_id, kind.value, exc)
                else:
                    fields.update(
                        file_name=fields["file_name"] or media.name,
                        media_key=media.key,
                        qr_payloads=media.qr_payloads,
                    )
            return fields, fields["file_name"] if kind is ev.MessageType.FILE else ""
        if kind is ev.MessageType.EMOTICON:
            return {}, ""
        return {}, text

    async def _on_room_join(self, payload: Any) -> list[ev.Event]:
        self._forget_room(payload.room_id)
        topic = await self._topic(payload.room_id)
        at = to_datetime(payload.timestamp)
        out: list[ev.Event] = []
        for contact_id in payload.invited_ids:
            out.append(
                ev.MemberJoined(
                    room_id=payload.room_id,
                    contact_id=contact_id,
                    at=at,
                    name=await self.contact_name(contact_id),
                    inviter_id=payload.inviter_id or "",
                    room_topic=topic,
                )
            )
        return out

    async def _on_room_leave(self, payload: Any) -> list[ev.Event]:
        self._forget_room(payload.room_id)
        at = to_datetime(payload.timestamp)
        return [
            ev.MemberLeft(room_id=payload.room_id, contact_id=c, at=at, remover_id=payload.remover_id or "")
            for c in payload.removed_ids
        ]

    async def _on_room_topic(self, payload: Any) -> list[ev.Event]:
        self._forget_room(payload.room_id)
        return [
            ev.TopicChanged(
                room_id=payload.room_id,
                topic=payload.new_topic or "",
                changer_id=payload.changer_id or "",
                at=to_datetime(payload.timestamp),
                old_topic=payload.old_topic or "",
            )
        ]

    async def _on_room_invite(self, payload: Any) -> list[ev.Event]:
        invitation_id = payload.room_invitation_id or ""
        try:
            info = await self._call(
                f"read invitation {invitation_id}",
                self._p().puppet_stub.room_invitation_payload(id=invitation_id),
            )
        except ActionFailed as exc:  # still worth telling: "anyone may invite" can accept it
            log.warning("invitation %s arrived without its details: %s", invitation_id, exc)
            return [ev.RoomInvitation(invitation_id=invitation_id, inviter_id="", room_topic="", at=_now())]
        return [
            ev.RoomInvitation(
                invitation_id=invitation_id,
                inviter_id=info.inviter_id or "",
                room_topic=info.topic or "",
                at=to_datetime(info.timestamp),
            )
        ]

    # ------------------------------------------------------------------ helpers

    def _p(self) -> Any:
        puppet = self._puppet
        if puppet is None or puppet.channel is None:
            raise PuppetUnavailable(f"not connected to the puppet service at {self.endpoint}")
        return puppet

    async def _call(self, what: str, call: Awaitable[Any]) -> Any:
        try:
            return await asyncio.wait_for(call, self.rpc_timeout_s)
        except (ActionFailed, PuppetUnavailable):
            raise
        except (ConnectionError, OSError, asyncio.TimeoutError) as exc:
            raise PuppetUnavailable(f"cannot {what}: the puppet service did not answer ({exc!r})") from exc
        except Exception as exc:
            raise ActionFailed(f"cannot {what}: {type(exc).__name__}: {exc}") from exc

    async def _send(self, conversation_id: str, text: str, mention_ids: list[str]) -> str:
        message_id = await self._call(
            f"send a message to {conversation_id}",
            self._p().message_send_text(conversation_id, text, mention_ids or None),
        )
        return message_id or ""

    async def _require_admin(self, room_id: str, what: str) -> None:
        payload = await self._call(f"read room {room_id}", self._p().room_payload(room_id))
        me = self._bot_id or self._p().login_user_id or ""
        if not me or (me != payload.owner_id and me not in (payload.admin_ids or ())):
            raise NotPermitted(f"the bot is neither owner nor admin of {room_id}: cannot {what}")

    async def _display_name(self, contact_id: str, room_id: str = "") -> str:
        puppet = self._p()
        if room_id:
            try:
                member = await self._call(
                    f"read member {contact_id}", puppet.room_member_payload(room_id, contact_id)
                )
                if member.room_alias or member.name:
                    return str(member.room_alias or member.name)
            except ActionFailed:
                pass
        contact = await self._call(f"read contact {contact_id}", puppet.contact_payload(contact_id))
        return str(contact.name or contact_id)

    async def _topic(self, room_id: str) -> str:
        try:
            return str(
                (await self._call(f"read room {room_id}", self._p().room_payload(room_id))).topic or ""
            )
        except (ActionFailed, PuppetUnavailable):
            return ""


_CONVERTERS: dict[str, Callable[[WechatyPuppet, Any], Awaitable[list[ev.Event]]]] = {
    "login": WechatyPuppet._on_login,
    "logout": WechatyPuppet._on_logout,
    "error": WechatyPuppet._on_error,
    "message": WechatyPuppet._on_message,
    "room-join": WechatyPuppet._on_room_join,
    "room-leave": WechatyPuppet._on_room_leave,
    "room-topic": WechatyPuppet._on_room_topic,
    "room-invite": WechatyPuppet._on_room_invite,
}


def _init_user_classes(bot: Any, puppet: Any) -> None:
    """What ``Wechaty.init_puppet()`` does, minus re-loading the puppet:
    per-bot subclasses of the user classes bound to this puppet."""
    from wechaty.user import (
        Contact,
        ContactSelf,
        Favorite,
        Friendship,
        Image,
        Message,
        MiniProgram,
        Room,
        RoomInvitation,
        Tag,
    )
    from wechaty.user.url_link import UrlLink

    meta = {"_puppet": puppet, "_wechaty": bot, "abstract": False}
    for cls in (
        ContactSelf,
        Contact,
        Favorite,
        Friendship,
        Image,
        Message,
        MiniProgram,
        UrlLink,
        Room,
        RoomInvitation,
        Tag,
    ):
        setattr(bot, cls.__name__, type(cls.__name__, (cls,), meta))


def _event_key(name: str, payload: Any) -> tuple[Any, ...] | None:
    if name == "message":
        return ("message", payload.message_id)
    if name == "room-join":
        return (name, payload.room_id, tuple(payload.invited_ids), payload.inviter_id, payload.timestamp)
    if name == "room-leave":
        return (name, payload.room_id, tuple(payload.removed_ids), payload.remover_id, payload.timestamp)
    if name == "room-topic":
        return (name, payload.room_id, payload.new_topic, payload.changer_id, payload.timestamp)
    if name == "room-invite":
        return (name, payload.room_invitation_id)
    return None


def _is_unauthenticated(exc: BaseException) -> bool:
    from grpclib.const import Status
    from grpclib.exceptions import GRPCError

    return isinstance(exc, GRPCError) and exc.status == Status.UNAUTHENTICATED


def _name_of(contact: Any) -> str:
    try:
        return str(contact.payload.name or "") if contact is not None and contact.is_ready() else ""
    except Exception:
        return ""


def _join(*parts: str | None) -> str:
    return "\n".join(p for p in parts if p)


def _now() -> datetime:
    return datetime.now(timezone.utc)


async def _cancel(task: asyncio.Task[Any] | None) -> None:
    if task is None or task.done():
        if task is not None and not task.cancelled():
            task.exception()  # mark retrieved
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
