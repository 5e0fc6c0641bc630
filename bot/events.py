"""What happens in a chat, as plain frozen objects.

The puppet adapter (live WeChat), the embedded local puppet and the transcript
reader all produce these; everything above them consumes only these. People
and rooms are identified by id: display names are free text, kept for display
and never used to decide who someone is.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class MessageType(str, enum.Enum):
    """Message kinds, by name. Wechaty's numeric enums differ between its gRPC
    and TypeScript definitions, so adapters map by name onto this."""

    TEXT = "text"
    URL = "url"
    MINI_PROGRAM = "mini_program"
    CONTACT_CARD = "contact_card"
    IMAGE = "image"
    VIDEO = "video"
    FILE = "file"
    EMOTICON = "emoticon"
    AUDIO = "audio"
    LOCATION = "location"
    RECALLED = "recalled"
    OTHER = "other"

    @classmethod
    def parse(cls, value: str) -> MessageType:
        try:
            return cls(value)
        except ValueError:
            return cls.OTHER


MEDIA_TYPES = frozenset({MessageType.IMAGE, MessageType.VIDEO, MessageType.FILE})


@dataclass(frozen=True, slots=True)
class Message:
    """A message said in a room.

    ``text`` holds what a person reads: the text of a text message, or for a
    card the fields that a rule may match (title, description, app, card name).
    ``qr_payloads`` holds what QR codes in an attached image decode to; the
    adapter decodes them before the engine sees the message, so the engine
    never does I/O.
    """

    id: str
    room_id: str
    sender_id: str
    at: datetime
    type: MessageType = MessageType.TEXT
    text: str = ""
    room_topic: str = ""
    sender_name: str = ""
    url: str = ""
    title: str = ""
    description: str = ""
    app: str = ""
    card_id: str = ""
    card_name: str = ""
    file_name: str = ""
    media_key: str = ""
    qr_payloads: tuple[str, ...] = ()
    mention_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PrivateMessage:
    """A one-to-one message to the bot (admin commands, appeals)."""

    id: str
    sender_id: str
    at: datetime
    text: str
    sender_name: str = ""


@dataclass(frozen=True, slots=True)
class MemberJoined:
    room_id: str
    contact_id: str
    at: datetime
    name: str = ""
    inviter_id: str = ""
    room_topic: str = ""


@dataclass(frozen=True, slots=True)
class MemberLeft:
    room_id: str
    contact_id: str
    at: datetime
    remover_id: str = ""


@dataclass(frozen=True, slots=True)
class TopicChanged:
    room_id: str
    topic: str
    changer_id: str
    at: datetime
    old_topic: str = ""


@dataclass(frozen=True, slots=True)
class MessageRecalled:
    room_id: str
    message_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class RoomInvitation:
    """Someone invited the bot into a room."""

    invitation_id: str
    inviter_id: str
    room_topic: str
    at: datetime


@dataclass(frozen=True, slots=True)
class LoggedIn:
    bot_id: str
    at: datetime
    name: str = ""


@dataclass(frozen=True, slots=True)
class LoggedOut:
    at: datetime
    reason: str = ""


@dataclass(frozen=True, slots=True)
class PuppetError:
    at: datetime
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Sender:
    """What the bot knows about whoever sent a message, at that moment.

    Built by the application (from the config, the room's owner and admins,
    and the store) or by replay (from the transcript), and handed to the
    engine, which has no other way to learn it."""

    contact_id: str
    is_admin: bool = False
    """Room owner or admin, or a global admin from the config."""
    is_exempt: bool = False
    """On an exemption list (trusted contributor, configured exemption)."""
    is_bot: bool = False
    """The bot itself or a configured helper bot: never punished."""
    joined_at: datetime | None = None
    inviter_id: str = ""


@dataclass(frozen=True, slots=True)
class RoomInfo:
    """What the bot knows about a room it is in."""

    id: str
    topic: str = ""
    owner_id: str = ""
    admin_ids: tuple[str, ...] = ()
    member_ids: tuple[str, ...] = field(default_factory=tuple)


Event = (
    Message
    | PrivateMessage
    | MemberJoined
    | MemberLeft
    | TopicChanged
    | MessageRecalled
    | RoomInvitation
    | LoggedIn
    | LoggedOut
    | PuppetError
)
