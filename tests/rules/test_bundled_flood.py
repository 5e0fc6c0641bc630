"""The bundled flood thresholds on short scenes of group life, judged on the messages' own clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.config import BUNDLED_RULES
from bot.engine import Engine, load_rules
from bot.events import Message, MessageType, Sender

T0 = datetime(2026, 11, 20, 20, 0, tzinfo=timezone(timedelta(hours=8)))


def msg(
    n: int, seconds: float, sender: str, text: str = "", kind: str = "text", room: str = "r1", **kw
) -> Message:
    return Message(
        id=f"m{n}",
        room_id=room,
        room_topic="08级化工2班同学群",
        sender_id=sender,
        at=T0 + timedelta(seconds=seconds),
        type=MessageType(kind),
        text=text,
        **kw,
    )


@pytest.fixture(scope="module")
def rules():
    return load_rules(BUNDLED_RULES)


def flooders(rules, scene: list[Message]) -> set[str]:
    engine = Engine(rules)
    found: set[str] = set()
    for m in scene:
        if any(v.category == "flood" for v in engine.evaluate(m, Sender(m.sender_id))):
            found.add(m.sender_id)
    return found


def burst_of_fragments() -> list[Message]:
    words = ["有人吗", "请教一下", "浸出率低", "急", "在线等", "老板催", "帮帮忙", "谢谢"]
    return [msg(i, i * 3, "wxid_new", w) for i, w in enumerate(words)]


def stickers() -> list[Message]:
    return [msg(i, i * 2, "wxid_fan", kind="emoticon") for i in range(8)]


def album() -> list[Message]:
    photos = [
        msg(i, i * 0.8, "wxid_photo", kind="image", file_name=f"IMG_{i}.jpg", media_key=f"k{i}")
        for i in range(9)
    ]
    return [*photos, msg(20, 12, "wxid_photo", "聚会的照片，大家存一下")]


def ack_round() -> list[Message]:
    return [msg(i, 3 * i, f"wxid_c{i}", "收到") for i in range(15)]


def jielong() -> list[Message]:
    names = ["刘洋", "王磊", "李娜", "张伟", "陈静", "杨帆", "赵敏", "孙丽"]
    return [
        msg(
            i,
            40 * i,
            f"wxid_j{i}",
            "#接龙\n聚会报名\n" + "\n".join(f"{k + 1}. {n}" for k, n in enumerate(names[: i + 1])),
        )
        for i in range(len(names))
    ]


def same_question_four_times() -> list[Message]:
    texts = [
        "报销什么时候能批？急用",
        "报销什么时候能批？急用！",
        "报销什么时候能批？？急用！！",
        "报销什么时候能批",
    ]
    return [msg(i, 90 * i, "wxid_wait", t) for i, t in enumerate(texts)]


def pasted_essay() -> list[Message]:
    parts = [
        "读后感（1/3）" + "很长的一段话" * 20,
        "（2/3）" + "第二段内容" * 20,
        "（3/3）" + "最后一段" * 20,
    ]
    return [msg(i, 15 * i, "wxid_reader", t) for i, t in enumerate(parts)]


def six_lines_in_exactly_thirty_seconds() -> list[Message]:
    words = ["在吗", "问个事", "选厂缺人", "有推荐吗", "急", "谢谢"]
    return [msg(i, 6 * i, "wxid_even", w) for i, w in enumerate(words)]  # at 0, 6, ..., 30 s


def third_copy_exactly_ten_minutes_after_the_first() -> list[Message]:
    return [msg(i, 300 * i, "wxid_again", "报销什么时候能批") for i in range(3)]  # at 0, 5, 10 min


def clapping_now_and_then() -> list[Message]:
    claps = ["👏", "👏👏", "👏", "👍"]
    return [msg(i, 150 * i, "wxid_fan", c) for i, c in enumerate(claps)]


def ad_into_three_rooms() -> list[Message]:
    ad = "周末户外徒步活动报名，人均88元，名额有限"
    return [msg(i, 60 * i, "wxid_spam", ad, room=f"r{i}") for i in range(3)]


@pytest.mark.parametrize(
    ("scene", "expected"),
    [
        pytest.param(burst_of_fragments, {"wxid_new"}, id="eight-fragments-in-21s-is-a-burst"),
        pytest.param(stickers, {"wxid_fan"}, id="eight-stickers-in-14s-is-a-burst"),
        pytest.param(album, set(), id="nine-photos-at-once-are-one-album"),
        pytest.param(ack_round, set(), id="fifteen-people-saying-收到-is-no-flood"),
        pytest.param(jielong, set(), id="a-接龙-reposted-by-everyone-is-no-flood"),
        pytest.param(same_question_four_times, {"wxid_wait"}, id="third-copy-of-a-question-is-a-repeat"),
        pytest.param(pasted_essay, set(), id="an-essay-in-three-parts-is-no-flood"),
        pytest.param(ad_into_three_rooms, {"wxid_spam"}, id="same-text-into-three-rooms"),
        pytest.param(clapping_now_and_then, set(), id="emoji-only-lines-are-never-copies"),
        pytest.param(
            six_lines_in_exactly_thirty_seconds, {"wxid_even"}, id="burst-window-includes-its-boundary"
        ),
        pytest.param(
            third_copy_exactly_ten_minutes_after_the_first,
            {"wxid_again"},
            id="repeat-window-includes-its-boundary",
        ),
    ],
)
def test_flood_scenes(rules, scene, expected):
    assert flooders(rules, scene()) == expected
