"""Small builders for store tests: messages, violations and actions at fixed times."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.actions import Action, ActionKind
from bot.events import Message
from bot.verdicts import Evidence, Severity, Violation

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=CST)
ROOM = "r-gold@chatroom"
ROOM2 = "r-jobs@chatroom"
LI = "wxid_li"
WANG = "wxid_wang"


def msg(
    mid: str,
    *,
    room: str = ROOM,
    sender: str = LI,
    at: datetime = T0,
    text: str = "加我微信 abc123",
    name: str = "李四",
) -> Message:
    return Message(id=mid, room_id=room, sender_id=sender, at=at, text=text, sender_name=name)


def ad(m: Message, rule: str = "ad-contact-handle", severity: Severity = Severity.MINOR) -> Violation:
    return Violation(
        rule=rule,
        category="ad",
        severity=severity,
        room_id=m.room_id,
        sender_id=m.sender_id,
        message_id=m.id,
        evidence=(Evidence("keyword", span="加我微信", detail="联系方式"),),
    )


def warn(m: Message) -> Action:
    return Action(ActionKind.WARN_PRIVATE, m.room_id, m.sender_id, reason="发广告")


def mute(m: Message, hours: int = 24) -> Action:
    return Action(
        ActionKind.MUTE, m.room_id, m.sender_id, duration=timedelta(hours=hours), reason="再次发广告"
    )
