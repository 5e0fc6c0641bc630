"""The one compatibility shim between python-wechaty 0.10.7 and today's world.

python-wechaty 0.10.7 (with wechaty-puppet-service 0.8.10 and wechaty-grpc
0.20) predates Python 3.11, pyee 9+, urllib3 2 and the 1.x puppet-service
servers every provider runs now. Everything needed to make it import and work
lives here, so the adapter (:mod:`bot.puppet.wechaty`) stays plain:

* :func:`load_wechaty` patches the import-time breakage (``PuppetOptions`` as a
  dataclass default on 3.11, ``pyee.AsyncIOEventEmitter`` and
  ``urllib3.get_host`` that newer releases removed) and points python-wechaty's
  cache directory (APScheduler's ``job.db``, plugin settings) at ours instead
  of ``./.wechaty``.
* :class:`CompatPuppetService` is the stock gRPC client with the 1.x fixes:
  an ``error`` event arriving as ``{gerror}`` no longer kills the event loop,
  one undecodable event is logged and skipped, files over 20 KB that the
  server hands out as a UUID FileBox are streamed with the ``Download`` RPC,
  and ``RoomAnnounce``/``RoomTopic``/``ContactAlias`` send proto field 3 and
  read field 2 of the answer. It never looks an endpoint up on the internet
  and never blocks the event loop with a telnet "ping".

Wire numbers appear only here (the 1.x proto's field numbers and the
TypeScript message-type enum the 1.x server puts on the wire); the adapter maps
message types by name.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Optional

log = logging.getLogger(__name__)

_loaded = False


def load_wechaty(cache_dir: str | os.PathLike[str] | None = None) -> Any:
    """Import and return the ``wechaty`` package, patched to work here.

    ``cache_dir`` becomes python-wechaty's ``CACHE_DIR`` (it evaluates it at
    import time for its scheduler's ``job.db``, and creates the directory).
    """
    global _loaded
    if cache_dir is None and not _loaded and "CACHE_DIR" not in os.environ:
        # imported without a data dir (a tool, a test): anywhere but ./.wechaty
        cache_dir = os.path.join(tempfile.gettempdir(), f"qunguard-wechaty-{os.getuid()}")
    if cache_dir is not None:
        os.makedirs(cache_dir, exist_ok=True)
        os.environ["CACHE_DIR"] = os.fspath(cache_dir)
    if not _loaded:
        _patch_imports()
        _loaded = True
    import wechaty

    return wechaty


def _patch_imports() -> None:
    # python-wechaty's get_logger() gives each module its own stderr handler at
    # INFO ("load contact ..." per message) and cuts it off from the root
    # logger. Route them all under the "wechaty" logger, at WARNING unless the
    # application says otherwise.
    import wechaty_puppet.logger as wechaty_logger

    def get_logger(name: str | None = None, file: str | None = None) -> logging.Logger:
        return logging.getLogger(f"wechaty.{name or 'root'}")

    wechaty_logger.get_logger = get_logger
    import wechaty_puppet

    wechaty_puppet.get_logger = get_logger
    theirs = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if (
            isinstance(logger, logging.Logger)
            and not logger.propagate
            and any(getattr(h.formatter, "_fmt", "") == theirs for h in logger.handlers)
        ):
            logger.handlers, logger.propagate = [], True
            logger.setLevel(logging.WARNING)
    if logging.getLogger("wechaty").level == logging.NOTSET:
        logging.getLogger("wechaty").setLevel(logging.WARNING)

    # Python 3.11's dataclasses reject an unhashable default
    # (WechatyOptions.puppet_options = PuppetOptions()). The adapter always
    # passes its own PuppetOptions, so the shared default is never mutated.
    import wechaty_puppet.schemas.puppet as puppet_schema

    if puppet_schema.PuppetOptions.__hash__ is None:
        puppet_schema.PuppetOptions.__hash__ = object.__hash__  # type: ignore[assignment]

    # pyee >= 9 moved AsyncIOEventEmitter to pyee.asyncio (and 12 removed the alias).
    import pyee

    if not hasattr(pyee, "AsyncIOEventEmitter"):
        from pyee.asyncio import AsyncIOEventEmitter

        pyee.AsyncIOEventEmitter = AsyncIOEventEmitter  # type: ignore[attr-defined]

    # urllib3 2 removed get_host(url) -> (scheme, host, port); url_link.py imports it.
    import urllib3

    if not hasattr(urllib3, "get_host"):
        from urllib3.util import parse_url

        def get_host(url: str) -> tuple[str, str | None, int | None]:
            parsed = parse_url(url)
            return parsed.scheme or "http", parsed.host, parsed.port

        urllib3.get_host = get_host  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- wire

# wechaty-puppet (TypeScript) MessageType, which 1.x servers put on the wire
# as is, by name of the wechaty-grpc enum member it corresponds to.
TS_MESSAGE_TYPE_NAMES: dict[int, str] = {
    0: "MESSAGE_TYPE_UNSPECIFIED",
    1: "MESSAGE_TYPE_ATTACHMENT",
    2: "MESSAGE_TYPE_AUDIO",
    3: "MESSAGE_TYPE_CONTACT",
    4: "MESSAGE_TYPE_CHAT_HISTORY",
    5: "MESSAGE_TYPE_EMOTICON",
    6: "MESSAGE_TYPE_IMAGE",
    7: "MESSAGE_TYPE_TEXT",
    8: "MESSAGE_TYPE_LOCATION",
    9: "MESSAGE_TYPE_MINI_PROGRAM",
    10: "MESSAGE_TYPE_UNSPECIFIED",  # GroupNote: no gRPC counterpart
    11: "MESSAGE_TYPE_TRANSFER",
    12: "MESSAGE_TYPE_RED_ENVELOPE",
    13: "MESSAGE_TYPE_RECALLED",
    14: "MESSAGE_TYPE_URL",
    15: "MESSAGE_TYPE_VIDEO",
}

# file-box's FileBoxType numbers in a FileBox's JSON form
BOX_BASE64, BOX_URL, BOX_QRCODE, BOX_UUID = 1, 2, 3, 7


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _string_field(number: int, value: str) -> bytes:
    data = value.encode("utf-8")
    return _varint(number << 3 | 2) + _varint(len(data)) + data


class OptionalTextRequest:
    """The 1.x request of RoomAnnounce, RoomTopic and ContactAlias::

        string id = 1;
        google.protobuf.StringValue <name>_string_value_deprecated = 2;
        optional string <name> = 3;

    A get sends no field 3; a set sends field 3 even when it is empty (proto3
    ``optional`` presence, which betterproto 1.2.5 cannot express, so this
    class encodes and decodes the wire itself). ``deprecated`` holds field 2
    when decoding, which is what the 0.20 client sends.
    """

    def __init__(self, id: str = "", value: str | None = None, deprecated: str | None = None) -> None:
        self.id = id
        self.value = value
        self.deprecated = deprecated

    def SerializeToString(self) -> bytes:
        out = _string_field(1, self.id) if self.id else b""
        if self.value is not None:
            out += _string_field(3, self.value)
        return out

    __bytes__ = SerializeToString

    @classmethod
    def FromString(cls, data: bytes) -> OptionalTextRequest:
        from betterproto import parse_fields

        req = cls()
        for f in parse_fields(data):
            if f.number == 1 and f.wire_type == 2:
                req.id = f.value.decode("utf-8")
            elif f.number == 3 and f.wire_type == 2:
                req.value = f.value.decode("utf-8")
            elif f.number == 2 and f.wire_type == 2:
                inner = {g.number: g.value for g in parse_fields(f.value)}
                req.deprecated = inner.get(1, b"").decode("utf-8")
        return req

    def __repr__(self) -> str:
        return f"OptionalTextRequest(id={self.id!r}, value={self.value!r}, deprecated={self.deprecated!r})"


def _wire_classes() -> tuple[type, type, type]:
    import betterproto

    @dataclass(eq=False, repr=False)
    class TextResponse(betterproto.Message):
        """1.x response of RoomAnnounce/RoomTopic/ContactAlias: the deprecated
        StringValue in field 1, the value in field 2."""

        # betterproto 1.2.5 understands typing.Optional, not the X | None form
        deprecated: Optional[str] = betterproto.message_field(1, wraps=betterproto.TYPE_STRING)  # noqa: UP045
        text: str = betterproto.string_field(2)

    @dataclass(eq=False, repr=False)
    class DownloadRequest(betterproto.Message):
        id: str = betterproto.string_field(1)

    @dataclass(eq=False, repr=False)
    class DownloadResponse(betterproto.Message):
        chunk: bytes = betterproto.bytes_field(1)

    return TextResponse, DownloadRequest, DownloadResponse


TextResponse, DownloadRequest, DownloadResponse = _wire_classes()

DOWNLOAD_ROUTE = "/wechaty.Puppet/Download"
MAX_DOWNLOAD_BYTES = 50 * 1024 * 1024


def error_detail(payload: dict[str, Any]) -> str:
    """A readable line from an ``error`` event: 0.x sends ``{data}``, 1.x
    ``{gerror}`` (a GError as JSON text)."""
    raw = payload.get("data") or payload.get("gerror") or ""
    if isinstance(raw, str):
        try:
            parsed = json.loads(raw)
        except ValueError:
            return raw
        raw = parsed
    if isinstance(raw, dict):
        return str(raw.get("message") or raw.get("details") or raw)
    return str(raw)


# --------------------------------------------------------------------------- client


def make_puppet_service_class() -> type:
    """Build :class:`CompatPuppetService` (after :func:`load_wechaty`, since its
    base class imports pyee)."""
    load_wechaty()
    from grpclib.client import Channel
    from grpclib.const import Cardinality
    from wechaty_grpc.wechaty import PuppetStub
    from wechaty_grpc.wechaty.puppet import EventType, MessageType
    from wechaty_puppet import (
        EventDongPayload,
        EventErrorPayload,
        EventFriendshipPayload,
        EventHeartbeatPayload,
        EventLoginPayload,
        EventLogoutPayload,
        EventMessagePayload,
        EventReadyPayload,
        EventRoomInvitePayload,
        EventRoomJoinPayload,
        EventRoomLeavePayload,
        EventRoomTopicPayload,
        EventScanPayload,
        FileBox,
        PuppetOptions,
        ScanStatus,
    )
    from wechaty_puppet.exceptions import WechatyPuppetConfigurationError
    from wechaty_puppet_service import PuppetService
    from wechaty_puppet_service.utils import extract_host_and_port

    def _scan(p: dict[str, Any]) -> Any:
        return EventScanPayload(
            status=ScanStatus(p.get("status", 0)), qrcode=p.get("qrcode"), data=p.get("data")
        )

    parsers: dict[str, tuple[str, Callable[[dict[str, Any]], Any]]] = {
        "EVENT_TYPE_MESSAGE": ("message", lambda p: EventMessagePayload(message_id=p["messageId"])),
        "EVENT_TYPE_LOGIN": ("login", lambda p: EventLoginPayload(contact_id=p["contactId"])),
        "EVENT_TYPE_LOGOUT": (
            "logout",
            lambda p: EventLogoutPayload(contact_id=p.get("contactId", ""), data=p.get("data") or ""),
        ),
        "EVENT_TYPE_ERROR": ("error", lambda p: EventErrorPayload(data=error_detail(p))),
        "EVENT_TYPE_HEARTBEAT": ("heartbeat", lambda p: EventHeartbeatPayload(data=str(p.get("data", "")))),
        "EVENT_TYPE_READY": ("ready", lambda p: EventReadyPayload(data=str(p.get("data", "")))),
        "EVENT_TYPE_DONG": ("dong", lambda p: EventDongPayload(data=str(p.get("data", "")))),
        "EVENT_TYPE_SCAN": ("scan", _scan),
        "EVENT_TYPE_FRIENDSHIP": (
            "friendship",
            lambda p: EventFriendshipPayload(friendship_id=p.get("friendshipId")),
        ),
        "EVENT_TYPE_ROOM_INVITE": (
            "room-invite",
            lambda p: EventRoomInvitePayload(room_invitation_id=p.get("roomInvitationId")),
        ),
        "EVENT_TYPE_ROOM_JOIN": (
            "room-join",
            lambda p: EventRoomJoinPayload(
                invited_ids=p.get("inviteeIdList") or [],
                inviter_id=p.get("inviterId") or "",
                room_id=p.get("roomId") or "",
                timestamp=p.get("timestamp") or 0,
            ),
        ),
        "EVENT_TYPE_ROOM_LEAVE": (
            "room-leave",
            lambda p: EventRoomLeavePayload(
                removed_ids=p.get("removeeIdList") or [],
                remover_id=p.get("removerId") or "",
                room_id=p.get("roomId") or "",
                timestamp=p.get("timestamp") or 0,
            ),
        ),
        "EVENT_TYPE_ROOM_TOPIC": (
            "room-topic",
            lambda p: EventRoomTopicPayload(
                changer_id=p.get("changerId") or "",
                new_topic=p.get("newTopic") or "",
                old_topic=p.get("oldTopic") or "",
                room_id=p.get("roomId") or "",
                timestamp=p.get("timestamp") or 0,
            ),
        ),
        # 1.x only: a payload changed on the server, drop our cached copy
        "EVENT_TYPE_DIRTY": ("dirty", lambda p: (int(p.get("payloadType", 0)), str(p.get("payloadId", "")))),
    }

    class CompatPuppetService(PuppetService):  # type: ignore[misc]
        """wechaty-puppet-service 0.8.10's client, fixed for 1.x servers."""

        def __init__(self, endpoint: str, token: str, name: str = "qunguard") -> None:
            # PuppetService.__init__ reads the environment and logs the token; skip it.
            options = PuppetOptions()
            options.end_point = endpoint
            options.token = token
            super(PuppetService, self).__init__(options, name)
            if not endpoint:
                raise WechatyPuppetConfigurationError("a puppet-service endpoint (host:port) is required")
            self.channel: Channel | None = None
            self._puppet_stub: PuppetStub | None = None
            from pyee.asyncio import AsyncIOEventEmitter

            self._event_stream = AsyncIOEventEmitter()
            self.login_user_id: str | None = None
            self.stream_ended_cleanly = False

        def _init_puppet(self) -> None:
            host, port = extract_host_and_port(self.options.end_point)
            self.channel = Channel(host=host, port=port)
            # the 1.x server takes the token from :authority (grpclib has no other hook)
            self.channel._authority = self.options.token  # type: ignore[attr-defined]
            self._puppet_stub = PuppetStub(self.channel)

        async def start(self) -> None:
            """Connect, (re)start the server-side puppet and pump events until
            the stream ends. Returns normally when the server closed the stream
            without an error (another client took the session); raises when
            the connection broke."""
            self._init_puppet()
            self.stream_ended_cleanly = False
            try:
                await self.puppet_stub.stop()
            finally:
                await self.puppet_stub.start()
            await self._listen_for_event()
            self.stream_ended_cleanly = True

        async def stop(self) -> None:
            """Close the channel; keep listeners (the adapter reconnects with them)."""
            channel, self.channel, self._puppet_stub = self.channel, None, None
            if channel is not None:
                channel.close()

        async def _listen_for_event(self) -> None:
            async for response in self.puppet_stub.event():
                if response is not None:
                    self.dispatch(int(response.type), response.payload)

        def dispatch(self, type_number: int, raw_payload: str) -> None:
            """Parse one event and emit it; a bad one is logged, never fatal."""
            try:
                name = EventType(type_number).name
            except ValueError:
                log.debug("puppet event of unknown type %s ignored", type_number)
                return
            parser = parsers.get(name)
            if parser is None:
                return
            event_name, parse = parser
            try:
                data = json.loads(raw_payload) if raw_payload else {}
                if not isinstance(data, dict):
                    raise ValueError("payload is not a JSON object")
                payload = parse(data)
            except Exception as exc:
                log.warning("undecodable %s event skipped (%s): %.300s", event_name, exc, raw_payload)
                return
            if event_name == "login":
                self.login_user_id = payload.contact_id
            elif event_name == "logout":
                self.login_user_id = None
            try:
                self._event_stream.emit(event_name, payload)
            except Exception:
                log.exception("a %s listener failed", event_name)

        async def message_payload(self, message_id: str) -> Any:
            response = await self.puppet_stub.message_payload(id=message_id)
            name = TS_MESSAGE_TYPE_NAMES.get(int(response.type or 0), "MESSAGE_TYPE_UNSPECIFIED")
            response.type = MessageType[name]
            return response

        # -- 1.x field-3 setters -------------------------------------------

        async def _optional_text(self, route: str, id: str, value: str | None) -> str:
            stream: Any
            async with self.channel_or_raise().request(
                route, Cardinality.UNARY_UNARY, OptionalTextRequest, TextResponse
            ) as stream:
                await stream.send_message(OptionalTextRequest(id=id, value=value), end=True)
                response = await stream.recv_message()
            if response is None:
                return ""
            return response.text or response.deprecated or ""

        def channel_or_raise(self) -> Channel:
            if self.channel is None:
                raise ConnectionError("not connected to the puppet service")
            return self.channel

        async def room_announce(self, room_id: str, announcement: str | None = None) -> str:
            text = await self._optional_text("/wechaty.Puppet/RoomAnnounce", room_id, announcement)
            return text if announcement is None else announcement

        async def room_topic(  # type: ignore[override]  # the 1.x service returns the topic, not None
            self, room_id: str, new_topic: str | None = None
        ) -> str:
            topic = await self._optional_text("/wechaty.Puppet/RoomTopic", room_id, new_topic)
            return topic if new_topic is None else new_topic

        async def contact_alias(self, contact_id: str, alias: str | None = None) -> str:
            current = await self._optional_text("/wechaty.Puppet/ContactAlias", contact_id, alias)
            return current if alias is None else alias

        # -- media ------------------------------------------------------------

        async def download(self, uuid: str, limit: int = MAX_DOWNLOAD_BYTES) -> bytes:
            """Stream the bytes of a UUID FileBox with the 1.x ``Download`` RPC."""
            chunks: list[bytes] = []
            size = 0
            stream: Any
            async with self.channel_or_raise().request(
                DOWNLOAD_ROUTE, Cardinality.UNARY_STREAM, DownloadRequest, DownloadResponse
            ) as stream:
                await stream.send_message(DownloadRequest(id=uuid), end=True)
                async for part in stream:
                    size += len(part.chunk)
                    if size > limit:
                        await stream.cancel()
                        raise ValueError(f"file {uuid} is larger than {limit} bytes")
                    chunks.append(part.chunk)
            return b"".join(chunks)

        async def media_json(self, message_id: str, image: bool) -> dict[str, Any]:
            """The FileBox JSON of a message's image (artwork size) or file."""
            if image:
                response = await self.puppet_stub.message_image(id=message_id, type=3)
            else:
                response = await self.puppet_stub.message_file(id=message_id)
            box = json.loads(response.filebox or "{}")
            if not isinstance(box, dict):
                raise ValueError(f"message {message_id}: FileBox is not a JSON object")
            return box

        async def media_bytes(self, box: dict[str, Any], limit: int = MAX_DOWNLOAD_BYTES) -> bytes:
            """The content of a FileBox in its JSON form (base64 inline or UUID).
            URL boxes are not fetched here (see the adapter)."""
            kind = box.get("type", box.get("boxType"))
            if kind == BOX_BASE64:
                data = base64.b64decode(box.get("base64") or "")
                if len(data) > limit:
                    raise ValueError(f"file larger than {limit} bytes")
                return data
            if kind == BOX_UUID:
                return await self.download(str(box.get("uuid")), limit)
            raise ValueError(f"FileBox of type {kind} carries no bytes")

        async def _file_box(self, message_id: str, image: bool) -> Any:
            box = await self.media_json(message_id, image)
            kind = box.get("type", box.get("boxType"))
            if kind == BOX_UUID:
                data = await self.download(str(box.get("uuid")))
                return FileBox.from_base64(base64.b64encode(data), name=box.get("name") or "file.dat")
            return FileBox.from_json(box)

        async def message_image(self, message_id: str, image_type: int = 3) -> Any:
            return await self._file_box(message_id, image=True)

        async def message_file(self, message_id: str) -> Any:
            return await self._file_box(message_id, image=False)

    return CompatPuppetService


_service_class: type | None = None


def puppet_service_class() -> type:
    global _service_class
    if _service_class is None:
        _service_class = make_puppet_service_class()
    return _service_class
