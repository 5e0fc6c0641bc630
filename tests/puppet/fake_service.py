"""A fake Wechaty puppet-service server: real gRPC on 127.0.0.1, fake WeChat.

Speaks the wire of a 1.x puppet-service server (what providers run today)
with grpclib and the ``wechaty_grpc`` message classes, for the calls the bot
makes:

* message types go out as the TypeScript enum numbers, as 1.x servers send them;
* ``error`` events carry ``{gerror}``, not ``{data}``;
* media over 20 KB is a UUID FileBox, streamed by ``Download``;
* ``RoomAnnounce``/``RoomTopic``/``ContactAlias`` read field 3 and answer in field 2;
* a new ``Event`` stream gets a ``login`` first when the bot is logged in, and
  ``Stop`` ends the streams already open (another client taking the session).

Tests drive it through a small Python API (``say``, ``post``, ``join``,
``leave``, ``error``, ``restart``, ``take_session``...) and read what the bot
did from ``sent``, ``kicks``, ``announcements`` and ``calls``.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from grpclib.const import Cardinality, Handler, Status
from grpclib.exceptions import GRPCError
from grpclib.server import Server
from wechaty_grpc.wechaty import puppet as pb

from bot.puppet.compat import DownloadRequest, DownloadResponse, OptionalTextRequest, TextResponse

# wechaty-puppet's TypeScript MessageType: what a 1.x server puts on the wire
TS_TYPE = {
    "attachment": 1,
    "audio": 2,
    "contact": 3,
    "emoticon": 5,
    "image": 6,
    "text": 7,
    "location": 8,
    "mini_program": 9,
    "recalled": 13,
    "url": 14,
    "video": 15,
    "post": 16,
}
INLINE_LIMIT = 20 * 1024  # the 1.x server hands out bigger files as UUID FileBoxes
CHUNK = 16 * 1024

EV = pb.EventType


@dataclass
class Contact:
    id: str
    name: str
    friend: bool = False
    alias: str = ""


@dataclass
class Room:
    id: str
    topic: str
    owner_id: str
    admin_ids: list[str]
    member_ids: list[str]
    announcement: str = ""
    aliases: dict[str, str] = field(default_factory=dict)


@dataclass
class Sent:
    conversation_id: str
    text: str
    mention_ids: list[str]
    id: str


class FakePuppetService:
    """The server plus its simulated WeChat. Use as ``async with``."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_id: str = "wxid_bot",
        bot_name: str = "群管机器人",
        redeliver_on_connect: int = 0,
    ) -> None:
        assert host.startswith("127."), "loopback only"
        self.host = host
        self.port = port
        self.bot_id = bot_id
        self.redeliver_on_connect = redeliver_on_connect
        self.contacts: dict[str, Contact] = {bot_id: Contact(bot_id, bot_name)}
        self.rooms: dict[str, Room] = {}
        self.messages: dict[str, dict[str, Any]] = {}
        self.media: dict[str, dict[str, Any]] = {}  # message id -> FileBox JSON
        self.uuids: dict[str, bytes] = {}
        self.cards: dict[str, str] = {}  # message id -> url/mini program JSON or contact id
        self.invitations: dict[str, dict[str, Any]] = {}
        self.sent: list[Sent] = []
        self.kicks: list[tuple[str, str]] = []
        self.calls: list[str] = []
        self.logged_in = False
        self.ding_hangs = False  # True: Ding never answers (a wedged server)
        self.ding_fails = False  # True: Ding answers with an error (alive, but not ready)
        self.delivered: list[tuple[int, str]] = []  # recent events, for re-delivery
        self._streams: list[asyncio.Queue[tuple[int, str] | None]] = []
        self._server: Server | None = None
        self._protocols: list[Any] = []
        self._ids = itertools.count(1)

    # ------------------------------------------------------------------ lifecycle

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port}"

    async def start(self) -> None:
        self._server = server = Server([self])
        make_protocol = server._protocol_factory

        def track() -> Any:  # remember connections, to drop them as a dying process would
            protocol = make_protocol()
            self._protocols.append(protocol)
            return protocol

        server._protocol_factory = track  # type: ignore[method-assign]
        await server.start(self.host, self.port)
        if not self.port:
            sock = self._server._server.sockets[0]  # type: ignore[union-attr]
            self.port = sock.getsockname()[1]

    async def close(self) -> None:
        """Go away like a killed process: the listening socket and every
        connection close at once."""
        server, self._server = self._server, None
        self._streams.clear()
        if server is not None:
            server.close()
            for protocol in self._protocols:
                transport = getattr(getattr(protocol, "connection", None), "_transport", None)
                if transport is not None:
                    transport.abort()
            self._protocols.clear()
            await server.wait_closed()

    async def restart(self, down_s: float = 0.3) -> None:
        """Die, stay down ``down_s``, come back on the same port with the same
        WeChat state (a logged-in provider restarting)."""
        await self.close()
        await asyncio.sleep(down_s)
        await self.start()

    def take_session(self) -> None:
        """End the open event streams without an error, as when another client
        calls Stop/Start with the same token."""
        for q in self._streams:
            q.put_nowait(None)
        self._streams.clear()

    async def __aenter__(self) -> FakePuppetService:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def attached(self) -> int:
        return len(self._streams)

    # ------------------------------------------------------------------ the simulated WeChat

    def add_contact(self, id: str, name: str, friend: bool = False) -> Contact:
        self.contacts[id] = Contact(id, name, friend)
        return self.contacts[id]

    def add_room(
        self, id: str, topic: str, members: Iterable[str], owner: str = "", admins: Iterable[str] = ()
    ) -> Room:
        for m in members:
            self.contacts.setdefault(m, Contact(m, m))
        self.rooms[id] = Room(id, topic, owner, list(admins), list(members))
        return self.rooms[id]

    def emit(self, type_: EV, payload: dict[str, Any]) -> None:
        item = (int(type_), json.dumps(payload, ensure_ascii=False))
        if type_ == EV.EVENT_TYPE_MESSAGE:
            self.delivered.append(item)
            del self.delivered[:-50]
        for q in self._streams:
            q.put_nowait(item)

    def _message(
        self,
        sender: str,
        kind: str,
        *,
        room: str = "",
        to: str = "",
        text: str = "",
        mentions: Iterable[str] = (),
        filename: str = "",
    ) -> str:
        mid = f"msg-{next(self._ids)}"
        self.messages[mid] = {
            "id": mid,
            "type": TS_TYPE[kind],
            "text": text,
            "from_id": sender,
            "room_id": room,
            "to_id": to if not room else "",
            "mention_ids": list(mentions),
            "filename": filename,
            "timestamp": int(time.time() * 1000),
        }
        return mid

    def say(self, sender: str, text: str, room: str = "", to: str = "", mentions: Iterable[str] = ()) -> str:
        """``sender`` says ``text`` in ``room`` (or privately to ``to``)."""
        mid = self._message(
            sender,
            "text",
            room=room,
            to=to or (self.bot_id if not room else ""),
            text=text,
            mentions=mentions,
        )
        self.emit(EV.EVENT_TYPE_MESSAGE, {"messageId": mid})
        return mid

    def post(
        self,
        sender: str,
        room: str,
        kind: str,
        *,
        text: str = "",
        data: bytes = b"",
        name: str = "",
        card: dict[str, Any] | None = None,
        contact_id: str = "",
    ) -> str:
        """A non-text message: ``image``/``attachment``/``video`` (``data``),
        ``url``/``mini_program`` (``card``), ``contact`` (``contact_id``),
        ``emoticon``, ``recalled`` (``text`` = the recalled message id)..."""
        mid = self._message(sender, kind, room=room, text=text, filename=name)
        if data:
            if len(data) > INLINE_LIMIT:
                key = str(uuid.uuid4())
                self.uuids[key] = data
                self.media[mid] = {"type": 7, "boxType": 7, "uuid": key, "name": name, "size": len(data)}
            else:
                self.media[mid] = {
                    "type": 1,
                    "boxType": 1,
                    "base64": base64.b64encode(data).decode(),
                    "name": name,
                }
        if card is not None:
            self.cards[mid] = json.dumps(card, ensure_ascii=False)
        if contact_id:
            self.cards[mid] = contact_id
        self.emit(EV.EVENT_TYPE_MESSAGE, {"messageId": mid})
        return mid

    def join(self, room: str, contacts: Iterable[str], inviter: str) -> None:
        ids = list(contacts)
        for c in ids:
            self.contacts.setdefault(c, Contact(c, c))
            if c not in self.rooms[room].member_ids:
                self.rooms[room].member_ids.append(c)
        self.emit(
            EV.EVENT_TYPE_ROOM_JOIN,
            {
                "inviteeIdList": ids,
                "inviterId": inviter,
                "roomId": room,
                "timestamp": int(time.time() * 1000),
            },
        )

    def leave(self, room: str, contact: str, remover: str = "") -> None:
        if contact in self.rooms[room].member_ids:
            self.rooms[room].member_ids.remove(contact)
        self.emit(
            EV.EVENT_TYPE_ROOM_LEAVE,
            {
                "removeeIdList": [contact],
                "removerId": remover or contact,
                "roomId": room,
                "timestamp": int(time.time() * 1000),
            },
        )

    def rename(self, room: str, topic: str, by: str) -> None:
        old, self.rooms[room].topic = self.rooms[room].topic, topic
        self.emit(
            EV.EVENT_TYPE_ROOM_TOPIC,
            {
                "changerId": by,
                "newTopic": topic,
                "oldTopic": old,
                "roomId": room,
                "timestamp": int(time.time() * 1000),
            },
        )

    def invite(self, inviter: str, topic: str) -> str:
        iid = f"inv-{next(self._ids)}"
        self.invitations[iid] = {
            "inviter_id": inviter,
            "topic": topic,
            "accepted": False,
            "timestamp": int(time.time()),
        }
        self.emit(EV.EVENT_TYPE_ROOM_INVITE, {"roomInvitationId": iid})
        return iid

    def error(self, message: str = "fake puppet error") -> None:
        """An ``error`` event the way every 1.x puppet sends it."""
        gerror = json.dumps({"code": 2, "details": message, "message": message, "name": "Error"})
        self.emit(EV.EVENT_TYPE_ERROR, {"gerror": gerror})

    def logout(self) -> None:
        self.logged_in = False
        self.emit(EV.EVENT_TYPE_LOGOUT, {"contactId": self.bot_id, "data": "logged out from the phone"})

    # ------------------------------------------------------------------ gRPC

    def __mapping__(self) -> dict[str, Handler]:
        u = Cardinality.UNARY_UNARY
        table: dict[str, tuple[Callable[[Any], Awaitable[Any]], type, type]] = {
            "Start": (self._start, pb.StartRequest, pb.StartResponse),
            "Stop": (self._stop, pb.StopRequest, pb.StopResponse),
            "Ding": (self._ding, pb.DingRequest, pb.DingResponse),
            "Logout": (self._logout, pb.LogoutRequest, pb.LogoutResponse),
            "MessagePayload": (self._message_payload, pb.MessagePayloadRequest, pb.MessagePayloadResponse),
            "ContactPayload": (self._contact_payload, pb.ContactPayloadRequest, pb.ContactPayloadResponse),
            "RoomPayload": (self._room_payload, pb.RoomPayloadRequest, pb.RoomPayloadResponse),
            "RoomList": (self._room_list, pb.RoomListRequest, pb.RoomListResponse),
            "RoomMemberList": (self._room_member_list, pb.RoomMemberListRequest, pb.RoomMemberListResponse),
            "RoomMemberPayload": (
                self._room_member_payload,
                pb.RoomMemberPayloadRequest,
                pb.RoomMemberPayloadResponse,
            ),
            "MessageSendText": (self._send_text, pb.MessageSendTextRequest, pb.MessageSendTextResponse),
            "RoomDel": (self._room_del, pb.RoomDelRequest, pb.RoomDelResponse),
            "RoomAnnounce": (self._room_announce, OptionalTextRequest, TextResponse),
            "RoomTopic": (self._room_topic, OptionalTextRequest, TextResponse),
            "ContactAlias": (self._contact_alias, OptionalTextRequest, TextResponse),
            "MessageImage": (self._message_image, pb.MessageImageRequest, pb.MessageImageResponse),
            "MessageFile": (self._message_file, pb.MessageFileRequest, pb.MessageFileResponse),
            "MessageUrl": (self._message_url, pb.MessageUrlRequest, pb.MessageUrlResponse),
            "MessageMiniProgram": (
                self._message_mini_program,
                pb.MessageMiniProgramRequest,
                pb.MessageMiniProgramResponse,
            ),
            "MessageContact": (self._message_contact, pb.MessageContactRequest, pb.MessageContactResponse),
            "RoomInvitationPayload": (
                self._invitation_payload,
                pb.RoomInvitationPayloadRequest,
                pb.RoomInvitationPayloadResponse,
            ),
            "RoomInvitationAccept": (
                self._invitation_accept,
                pb.RoomInvitationAcceptRequest,
                pb.RoomInvitationAcceptResponse,
            ),
        }
        mapping = {
            f"/wechaty.Puppet/{name}": Handler(self._unary(name, fn), u, req, resp)
            for name, (fn, req, resp) in table.items()
        }
        mapping["/wechaty.Puppet/Event"] = Handler(
            self._event, Cardinality.UNARY_STREAM, pb.EventRequest, pb.EventResponse
        )
        mapping["/wechaty.Puppet/Download"] = Handler(
            self._download, Cardinality.UNARY_STREAM, DownloadRequest, DownloadResponse
        )
        return mapping

    def _unary(self, name: str, fn: Callable[[Any], Awaitable[Any]]) -> Callable[[Any], Awaitable[None]]:
        async def handle(stream: Any) -> None:
            request = await stream.recv_message()
            self.calls.append(name)
            await stream.send_message(await fn(request))

        return handle

    async def _event(self, stream: Any) -> None:
        await stream.recv_message()
        self.calls.append("Event")
        q: asyncio.Queue[tuple[int, str] | None] = asyncio.Queue()
        self._streams.append(q)
        if self.logged_in:
            q.put_nowait((int(EV.EVENT_TYPE_LOGIN), json.dumps({"contactId": self.bot_id})))
            for item in self.delivered[-self.redeliver_on_connect :] if self.redeliver_on_connect else ():
                q.put_nowait(item)
        try:
            while (item := await q.get()) is not None:
                await stream.send_message(pb.EventResponse(type=item[0], payload=item[1]))
        finally:
            if q in self._streams:
                self._streams.remove(q)

    async def _download(self, stream: Any) -> None:
        request = await stream.recv_message()
        self.calls.append("Download")
        data = self.uuids.get(request.id)
        if data is None:
            raise GRPCError(Status.NOT_FOUND, f"no file {request.id}")
        for i in range(0, len(data), CHUNK):
            await stream.send_message(DownloadResponse(chunk=data[i : i + CHUNK]))

    async def _start(self, _req: Any) -> Any:
        if not self.logged_in:
            self.logged_in = True
            self.emit(EV.EVENT_TYPE_LOGIN, {"contactId": self.bot_id})
        return pb.StartResponse()

    async def _stop(self, _req: Any) -> Any:
        self.take_session()
        return pb.StopResponse()

    async def _ding(self, req: Any) -> Any:
        if self.ding_hangs:
            await asyncio.sleep(3600)
        if self.ding_fails:
            raise GRPCError(Status.UNAVAILABLE, "puppet not ready")
        self.emit(EV.EVENT_TYPE_DONG, {"data": req.data})
        return pb.DingResponse()

    async def _logout(self, _req: Any) -> Any:
        self.logout()
        return pb.LogoutResponse()

    def _get(self, table: dict[str, Any], key: str, what: str) -> Any:
        if key not in table:
            raise GRPCError(Status.NOT_FOUND, f"no {what} {key!r}")
        return table[key]

    async def _message_payload(self, req: Any) -> Any:
        m = self._get(self.messages, req.id, "message")
        return pb.MessagePayloadResponse(**m)

    async def _contact_payload(self, req: Any) -> Any:
        c = self._get(self.contacts, req.id, "contact")
        return pb.ContactPayloadResponse(id=c.id, name=c.name, friend=c.friend, alias=c.alias)

    async def _room_payload(self, req: Any) -> Any:
        r = self._get(self.rooms, req.id, "room")
        return pb.RoomPayloadResponse(
            id=r.id,
            topic=r.topic,
            owner_id=r.owner_id,
            admin_ids=list(r.admin_ids),
            member_ids=list(r.member_ids),
        )

    async def _room_list(self, _req: Any) -> Any:
        return pb.RoomListResponse(ids=list(self.rooms))

    async def _room_member_list(self, req: Any) -> Any:
        return pb.RoomMemberListResponse(member_ids=list(self._get(self.rooms, req.id, "room").member_ids))

    async def _room_member_payload(self, req: Any) -> Any:
        r = self._get(self.rooms, req.id, "room")
        c = self._get(self.contacts, req.member_id, "contact")
        return pb.RoomMemberPayloadResponse(id=c.id, name=c.name, room_alias=r.aliases.get(c.id, ""))

    async def _send_text(self, req: Any) -> Any:
        if not self.logged_in:
            raise GRPCError(Status.FAILED_PRECONDITION, "not logged in")
        target = req.conversation_id
        if target not in self.rooms and target not in self.contacts:
            raise GRPCError(Status.NOT_FOUND, f"no conversation {target!r}")
        room = target if target in self.rooms else ""
        mid = self._message(
            self.bot_id,
            "text",
            room=room,
            to="" if room else target,
            text=req.text,
            mentions=req.mentonal_ids,
        )
        self.sent.append(Sent(target, req.text, list(req.mentonal_ids), mid))
        self.emit(EV.EVENT_TYPE_MESSAGE, {"messageId": mid})  # echoed, as real puppets do
        return pb.MessageSendTextResponse(id=mid)

    async def _room_del(self, req: Any) -> Any:
        r = self._get(self.rooms, req.id, "room")
        if req.contact_id not in r.member_ids:
            raise GRPCError(Status.NOT_FOUND, f"{req.contact_id} is not in {req.id}")
        self.kicks.append((req.id, req.contact_id))
        self.leave(req.id, req.contact_id, remover=self.bot_id)
        return pb.RoomDelResponse()

    async def _room_announce(self, req: OptionalTextRequest) -> Any:
        r = self._get(self.rooms, req.id, "room")
        if req.value is not None:  # 1.x: only field 3 sets; field 2 alone is a get
            r.announcement = req.value
            return TextResponse()
        return TextResponse(text=r.announcement)

    async def _room_topic(self, req: OptionalTextRequest) -> Any:
        r = self._get(self.rooms, req.id, "room")
        if req.value is not None:
            self.rename(r.id, req.value, self.bot_id)
            return TextResponse()
        return TextResponse(text=r.topic)

    async def _contact_alias(self, req: OptionalTextRequest) -> Any:
        c = self._get(self.contacts, req.id, "contact")
        if req.value is not None:
            c.alias = req.value
            return TextResponse()
        return TextResponse(text=c.alias)

    async def _message_image(self, req: Any) -> Any:
        return pb.MessageImageResponse(filebox=json.dumps(self._get(self.media, req.id, "image")))

    async def _message_file(self, req: Any) -> Any:
        return pb.MessageFileResponse(filebox=json.dumps(self._get(self.media, req.id, "file")))

    async def _message_url(self, req: Any) -> Any:
        return pb.MessageUrlResponse(url_link=self._get(self.cards, req.id, "url card"))

    async def _message_mini_program(self, req: Any) -> Any:
        return pb.MessageMiniProgramResponse(mini_program=self._get(self.cards, req.id, "mini program"))

    async def _message_contact(self, req: Any) -> Any:
        return pb.MessageContactResponse(id=self._get(self.cards, req.id, "contact card"))

    async def _invitation_payload(self, req: Any) -> Any:
        inv = self._get(self.invitations, req.id, "invitation")
        return pb.RoomInvitationPayloadResponse(
            id=req.id, inviter_id=inv["inviter_id"], topic=inv["topic"], timestamp=inv["timestamp"]
        )

    async def _invitation_accept(self, req: Any) -> Any:
        self._get(self.invitations, req.id, "invitation")["accepted"] = True
        return pb.RoomInvitationAcceptResponse()
