"""Flood detection on the message clock: bursts, repeats, cross-room copies.

The scenarios follow the labelling rules of the development corpus: a member's
6th message inside 30 s is a burst, the 3rd copy inside 10 minutes a repeat,
and different members never flood together.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.engine import Engine, parse_rules
from bot.engine.flood import FloodTracker
from bot.events import Message, MessageType, Sender

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)

RULES = """
rules:
  - name: flood-burst
    category: flood
    severity: minor
    message: 请勿刷屏
    flood:
      burst: {messages: 5, seconds: 30}
      album_seconds: 5
  - name: flood-repeat
    category: flood
    severity: minor
    message: 请勿重复
    flood:
      repeat: {copies: 3, seconds: 10m}
  - name: flood-cross-room
    category: flood
    severity: moderate
    message: 请勿多群转发
    flood:
      cross_room: {rooms: 3, seconds: 10m}
rooms:
  - match: {name_contains: [内推]}
    flood: {flood-burst: {burst: {messages: 8, seconds: 30}}}
"""


class Chat:
    """Feeds messages into one engine and records which lines were flagged."""

    def __init__(self) -> None:
        self.engine = Engine(parse_rules(RULES))
        self.n = 0

    def post(
        self,
        sender: str,
        seconds: float,
        text: str = "",
        *,
        room: str = "r1",
        topic: str = "群",
        type: MessageType = MessageType.TEXT,
        **kw,
    ) -> list[str]:
        self.n += 1
        message = Message(
            id=f"m{self.n}",
            room_id=room,
            sender_id=sender,
            at=T0 + timedelta(seconds=seconds),
            type=type,
            text=text,
            room_topic=topic,
            **kw,
        )
        return [v.rule for v in self.engine.evaluate(message, Sender(sender)) if v.category == "flood"]


def flagged(chat: Chat, posts: list[tuple]) -> list[int]:
    out = []
    for i, (sender, seconds, text, *rest) in enumerate(posts, 1):
        kw = rest[0] if rest else {}
        if chat.post(sender, seconds, text, **kw):
            out.append(i)
    return out


def test_sixth_message_inside_thirty_seconds_is_a_burst():
    chat = Chat()
    posts = [("a", s, f"第{s}句话不一样{chr(0x4E00 + s)}") for s in range(0, 24, 2)]  # 12 fragments in 22 s
    assert flagged(chat, posts) == [6, 7, 8, 9, 10, 11, 12]


def test_lively_discussion_under_the_threshold_is_not_a_burst():
    chat = Chat()
    posts = [("a", s * 7, f"观点{chr(0x4E00 + s)}") for s in range(10)]  # one every 7 s: at most 5 in 30 s
    assert flagged(chat, posts) == []


def test_different_members_never_flood_together():
    chat = Chat()
    posts = [(f"member{i}", i * 5, "收到") for i in range(15)]  # 15 colleagues say 收到 in 75 s
    assert flagged(chat, posts) == []


def test_jielong_reposts_by_different_members_are_clean():
    chat = Chat()
    lines = ["接龙：聚餐报名"]
    posts = []
    for i in range(12):
        lines.append(f"{i + 1}. 同学{chr(0x4E00 + i)}")
        posts.append((f"m{i}", i * 20, "\n".join(lines)))
    assert flagged(chat, posts) == []


def test_nine_photos_at_once_count_as_one_album():
    chat = Chat()
    posts = [("a", i * 0.5, "", {"type": MessageType.IMAGE, "file_name": f"IMG_{i}.jpg"}) for i in range(9)]
    assert flagged(chat, posts) == []


def test_fifteen_stickers_in_a_row_are_a_burst():
    chat = Chat()
    posts = [
        ("a", i * 1.5, "", {"type": MessageType.EMOTICON, "media_key": f"sticker{i % 4}"}) for i in range(15)
    ]
    assert flagged(chat, posts)[0] == 6


def test_third_copy_with_changed_digits_and_emoji_is_a_repeat():
    chat = Chat()
    posts = [
        ("a", 0, "仅剩3个名额，速来🔥"),
        ("a", 120, "仅剩2个名额，速来🔥🔥"),
        ("b", 130, "仅剩2个名额，速来"),
        ("a", 240, "仅剩1个名额！速来"),
    ]
    assert flagged(chat, posts) == [4]


def test_copies_spread_over_more_than_ten_minutes_are_not_a_repeat():
    chat = Chat()
    posts = [
        ("a", 0, "报销什么时候到账"),
        ("a", 400, "报销什么时候到账？"),
        ("a", 800, "报销什么时候到账？？"),
    ]
    assert flagged(chat, posts) == []


def test_same_image_posted_three_times_is_a_repeat():
    chat = Chat()
    qr = {"type": MessageType.IMAGE, "file_name": "qr_poster.png"}
    posts = [("a", 0, "", qr), ("a", 100, "", qr), ("a", 200, "", qr)]
    assert flagged(chat, posts) == [3]


def test_same_card_posted_three_times_is_a_repeat_but_different_cards_are_not():
    chat = Chat()
    card = {"type": MessageType.MINI_PROGRAM, "title": "帮我砍一刀", "app": "拼多多"}
    assert flagged(chat, [("a", 0, "", card), ("a", 60, "", card), ("a", 120, "", card)]) == [3]
    chat = Chat()
    cards = [
        (
            "a",
            i * 60,
            "",
            {"type": MessageType.URL, "title": f"职位{chr(0x4E00 + i)}", "url": f"https://x.cn/{i}"},
        )
        for i in range(3)
    ]
    assert flagged(chat, cards) == []


def test_same_text_into_three_rooms_is_cross_room_flood():
    chat = Chat()
    ad = "低价出售二手浮选机，九成新，需要的私聊"
    assert chat.post("a", 0, ad, room="r1") == []
    assert chat.post("a", 60, ad, room="r2") == []
    assert chat.post("a", 120, ad, room="r3") == ["flood-cross-room"]


def test_short_acknowledgements_in_several_rooms_are_not_cross_room_flood():
    chat = Chat()
    for i, room in enumerate(["r1", "r2", "r3", "r4"]):
        assert chat.post("admin", i * 30, "收到", room=room) == []


def test_room_override_raises_the_burst_threshold():
    chat = Chat()
    posts = [
        ("hr", s * 3, f"职位{chr(0x4E00 + s)}", {"room": "r-pm", "topic": "产品经理内推群"})
        for s in range(10)
    ]
    assert flagged(chat, posts) == [9, 10]


def test_clock_is_the_message_time_not_the_wall_clock():
    chat = Chat()
    # a transcript from 2020, replayed now: windows are measured between messages
    old = datetime(2020, 1, 1, tzinfo=timezone.utc)
    hits = []
    for i in range(7):
        m = Message(
            id=f"x{i}", room_id="r", sender_id="s", at=old + timedelta(seconds=i), text=f"话{chr(0x4E00 + i)}"
        )
        hits.append(bool(chat.engine.evaluate(m, Sender("s"))))
    assert hits == [False] * 5 + [True, True]


def test_idle_members_are_forgotten_so_state_stays_bounded():
    engine = Engine(parse_rules(RULES))

    def post(i: int, at: datetime) -> None:
        member = f"m{i}"
        message = Message(id=f"{at}-{i}", room_id=f"room{i % 100}", sender_id=member, at=at, text="你好")
        engine.evaluate(message, Sender(member))

    for i in range(20_000):  # 100 rooms x 200 members, all within five minutes
        post(i, T0 + timedelta(seconds=i * 0.015))
    assert len(engine.flood) == 20_000
    later = T0 + timedelta(hours=1)
    for i in range(3_000):  # an hour later a few members talk; the idle ones are dropped as they do
        post(i, later + timedelta(seconds=i * 0.1))
    assert len(engine.flood) <= 3_000
    # texts kept to fingerprint later go with their members
    assert sum(map(len, engine.flood._pending.values())) <= 3_000


@pytest.mark.parametrize("n", [0, 1])
def test_tracker_clear_forgets_everything(n):
    tracker = FloodTracker()
    engine = Engine(parse_rules(RULES), flood=tracker)
    for i in range(3 + n):
        engine.evaluate(Message(id=str(i), room_id="r", sender_id="s", at=T0, text="x"), Sender("s"))
    tracker.clear()
    assert len(tracker) == 0


def test_emoji_only_lines_and_stickers_are_never_repeats():
    chat = Chat()
    posts = [("a", i * 120, "👏" * (i + 1)) for i in range(4)]
    posts += [("a", 600 + i * 120, "", {"type": MessageType.EMOTICON, "media_key": "clap"}) for i in range(4)]
    assert flagged(chat, posts) == []


def test_windows_include_their_boundary():
    # messages exactly 6 s apart: the 6th comes exactly 30 s after the 1st, which still counts
    chat = Chat()
    posts = [("a", s * 6, f"第{chr(0x4E00 + s)}句") for s in range(6)]
    assert flagged(chat, posts) == [6]
    chat = Chat()
    copies = [("a", 0, "报销什么时候到"), ("a", 300, "报销什么时候到？"), ("a", 600, "报销什么时候到？？")]
    assert flagged(chat, copies) == [3]


def test_a_member_whose_history_expired_during_an_untracked_look_is_still_judged():
    chat = Chat()
    chat.post("a", 0, "早上好")
    hour_later = Message(id="try", room_id="r1", sender_id="a", at=T0 + timedelta(hours=1), text="看看")
    chat.engine.evaluate(hour_later, Sender("a"), track=False)  # drops the old entry, records nothing
    assert chat.post("a", 3601, "大家好") == []
