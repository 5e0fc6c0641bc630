"""The moderation pipeline's own switches (the app decides when to use them)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from bot.actions import ActionKind
from bot.engine import Engine, parse_rules
from bot.events import Message, Sender
from bot.ladder import Ladder
from bot.moderation import MemoryRecords, Moderator

RULES = parse_rules((Path(__file__).parent / "app" / "data" / "rules.yaml").read_text(encoding="utf-8"))
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
ROOM = "20000000001@chatroom"
LI = "wxid_li"


def says(n: int, text: str) -> Message:
    return Message(id=f"m{n}", room_id=ROOM, sender_id=LI, at=T0 + timedelta(minutes=10 * n), text=text)


def test_deciding_nothing_still_records_the_violations_and_they_count_later() -> None:
    records = MemoryRecords()
    moderator = Moderator(Engine(RULES), Ladder.from_rules(RULES), records)

    for n in range(1, 3):  # incidents 10 minutes apart: the ladder would warn, then mute
        quiet = moderator.handle(says(n, "加微信 abc123"), Sender(LI), decide=False)
        assert quiet.violations and quiet.case_no is not None
        assert quiet.actions == (), "the ladder is not asked"
    assert records.muted_until(ROOM, LI, T0 + timedelta(minutes=25)) is None, "no mute recorded"
    assert len(records.history(ROOM, LI, T0)) == 2, "every violation recorded"

    third = moderator.handle(says(3, "加微信 abc123"), Sender(LI))
    assert [a.kind for a in third.actions] == [
        ActionKind.KICK,
        ActionKind.NOTIFY_INVITER,
        ActionKind.NOTIFY_ADMINS,
    ], "the third incident is judged as the third: what was recorded quietly counts"
