"""精华: an admin marks messages (quoted, or by text), members search them, a month becomes Markdown."""

from __future__ import annotations

from datetime import timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.lifecycle import lifecycle_of
from bot.lifecycle.featured import digest_markdown, month_bounds, parse_quote, search
from tests.app.harness import Bot
from tests.lifecycle.helpers import ADMIN, CHEN, LI, ROOM, config, local, play, room

CYANIDE = "全泥氰化适合微细粒金，浸出率能到92%，关键是磨矿细度要够"
FLOTATION = "浮选用丁基黄药效果更稳定，配合少量松醇油"
DASHES = "- - - - - - - - - - - - - - -"


def answers(bot: Bot, to: str) -> list[str]:
    return [s.text for s in bot.wechat.room_said(ROOM) if to in s.mentions]


def test_an_admin_features_a_quoted_message_and_members_find_it(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        bot.clock.now = local(21, 10)
        said = await bot.says(LI, CYANIDE)
        await bot.says(ADMIN, f"「李四：{CYANIDE}」\n{DASHES}\n#精华")
        assert answers(bot, ADMIN)[-1].startswith("已收入精华（本群第 1 条）")
        [kept] = lifecycle_of(bot.app).repo.featured(ROOM)
        assert (kept.message_id, kept.sender_id, kept.sender_name, kept.said_at) == (
            said.id,
            LI,
            "李四",
            said.at,
        )

        await bot.says(ADMIN, f"#精华 {FLOTATION}")
        await bot.says(ADMIN, f"「李四：{CYANIDE}」\n{DASHES}\n#精华")
        assert answers(bot, ADMIN)[-1] == "这条已经在精华里了。"
        assert len(lifecycle_of(bot.app).repo.featured(ROOM)) == 2

        await bot.says(CHEN, "#搜 氰化 磨矿")
        reply = answers(bot, CHEN)[-1]
        assert reply.splitlines()[0] == "精华里与“氰化 磨矿”相关的内容："
        assert reply.splitlines()[1].startswith("1. 全泥氰化适合微细粒金") and "（李四，11-21）" in reply
        assert "丁基黄药" not in reply

        await bot.says(ADMIN, f"#取消精华 {FLOTATION}")
        assert answers(bot, ADMIN)[-1] == "已移出精华。"
        assert [f.text for f in lifecycle_of(bot.app).repo.featured(ROOM)] == [CYANIDE]
        await bot.says(ADMIN, f"#取消精华 {FLOTATION}")
        assert answers(bot, ADMIN)[-1] == "精华里没有这条。"

        await bot.says(CHEN, "#搜 区块链")
        assert len(answers(bot, CHEN)) == 1, "one search per member per 20 seconds"
        bot.clock.advance(seconds=21)
        await bot.says(CHEN, "#搜 区块链")
        assert "没有找到与“区块链”相关的内容" in answers(bot, CHEN)[-1]

    play(story, config=config(), setup=room, db=tmp_path)


def test_a_member_cannot_feature_messages(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(LI, f"#精华 {FLOTATION}")
        await bot.says(LI, f"「陈七：收到」\n{DASHES}\n#精华")
        assert lifecycle_of(bot.app).repo.featured(ROOM) == []
        assert any("仅限本群群主、管理员" in s.text for s in bot.wechat.private_to(LI))

    play(story, config=config(), setup=room, db=tmp_path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"「李四：{CYANIDE}」\n{DASHES}\n#精华", ("李四", CYANIDE, "#精华")),
        ("#精华\n「王工:多行\n原文」", ("王工", "多行\n原文", "#精华")),
        ("「李四：好」\n- - - - -\n说得对", ("李四", "好", "说得对")),
        ("没有引用 #精华", None),
    ],
    ids=["reply-below", "ascii-colon-multiline", "other-reply", "no-quote"],
)
def test_quotes_are_read_in_the_forms_wechat_shows_them(text: str, expected: tuple | None) -> None:
    q = parse_quote(text)
    assert (None if q is None else (q.name, q.text, q.rest)) == expected


def test_search_ranks_whole_keywords_first_then_shared_characters() -> None:
    from bot.store.lifecycle_repo import FeaturedView

    items = [
        FeaturedView(i, ROOM, f"m{i}", text, "", "", None, "", local(20 + i, 10))
        for i, text in enumerate(["氰化尾渣怎么处理", CYANIDE, FLOTATION, "今天天气不错"])
    ]
    assert [f.text for f in search(items, "氰化 磨矿")][:1] == [CYANIDE]
    assert {f.text for f in search(items, "氰化")} == {CYANIDE, "氰化尾渣怎么处理"}
    assert search(items, "黄药浮选")[0].text == FLOTATION, "shared character pairs find reordered words"
    assert search(items, "区块链") == []


def test_digest_is_markdown_by_day_with_special_characters_escaped() -> None:
    from bot.store.lifecycle_repo import FeaturedView

    tz = ZoneInfo("Asia/Shanghai")
    items = [
        FeaturedView(1, ROOM, "m1", CYANIDE, LI, "李四", local(21, 10), ADMIN, local(21, 11)),
        FeaturedView(
            2,
            ROOM,
            "m2",
            "用 *NaCN* 还是 #环保药剂？\n第二行",
            CHEN,
            "陈七",
            local(22, 9, 5),
            ADMIN,
            local(22, 10),
        ),
    ]
    md = digest_markdown(items, topic="金矿提金技术交流群", month="2026-11", tz=tz)
    assert md.splitlines()[0] == "# 「金矿提金技术交流群」2026-11 精华"
    assert "## 11 月 21 日" in md and "## 11 月 22 日" in md
    assert f"- **李四**（10:00）：{CYANIDE}" in md
    assert "用 \\*NaCN\\* 还是 \\#环保药剂？\n  第二行" in md
    assert digest_markdown([], topic="t", month="2026-11", tz=tz).endswith("本月没有收录精华。\n")


def test_month_bounds_are_local_months() -> None:
    start, end = month_bounds("2026-12", ZoneInfo("Asia/Shanghai"))
    assert start.astimezone(timezone.utc).isoformat() == "2026-11-30T16:00:00+00:00"
    assert end.isoformat() == "2026-12-31T16:00:00+00:00"
    with pytest.raises(ValueError):
        month_bounds("2026-13", ZoneInfo("Asia/Shanghai"))
