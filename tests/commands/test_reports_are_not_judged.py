"""A report quotes what it reports: the admins judge its words, the content rules do not.

``#举报 @吴八 他在群里发澳门赌场广告`` names gambling because the reported member
posted it; punishing the reporter for that would teach members never to report.
A report (the ``#举报`` command, or a quote reply ending in ``#举报``) is therefore
forwarded to the admins and checked for flooding only, and for a link the reporter posts
themselves (a link works on whoever reads it, whatever the words around it). The same words said as an
ordinary message are still moderated, and so is a "report" the admins would not get.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

from tests.app.harness import RULES, Bot, play
from tests.commands.helpers import CHEN, LI, OWNER, ROOM, TOPIC, WU, config, last_private, two_rooms

QUOTE_LINE = "- - - - - - - - - - - - - - -"
LONG_AGO = datetime(2020, 1, 1).astimezone()


def strikes(bot: Bot, contact: str) -> list[str]:
    """The rules ``contact`` broke in the room, as the ladder counts them."""
    return [o.rule for o in bot.store.history(ROOM, contact, LONG_AGO)]


def reports_to(bot: Bot, admin: str) -> list[str]:
    return [s.text for s in bot.wechat.private_to(admin) if s.text.startswith("【举报】")]


def test_a_member_reporting_a_gambling_ad_is_not_punished_and_the_admins_get_the_report(
    tmp_path: Path,
) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(LI, "#举报 @吴八\u2005 他在群里发澳门赌场广告，还说加微信领彩金", mentions=(WU,))

        assert reports_to(bot, OWNER) == [
            f"【举报】「{TOPIC}」李四（{LI}）举报 吴八（{WU}）：\n他在群里发澳门赌场广告，还说加微信领彩金"
        ]
        assert strikes(bot, LI) == [], "the reporter broke no rule by naming the offence"
        assert bot.wechat.private_to(LI)[-1].text.startswith("收到你的举报")
        assert not any("违反了群规" in s.text for s in bot.wechat.private_to(LI))
        assert bot.wechat.room_said(ROOM) == [], "no public warning, no removal"
        assert strikes(bot, WU) == [], "the reported member is judged by the admins, not by the report"

    play(story, config=config(), setup=two_rooms, db=tmp_path)


def test_a_quote_reply_report_is_not_judged_as_the_reporters_own_words(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(WU, "澳门赌场上线了，首充送彩金")
        assert strikes(bot, WU) == ["gambling"]

        await bot.says(LI, f"「吴八：澳门赌场上线了，首充送彩金」\n{QUOTE_LINE}\n#举报 又在发赌场广告")

        assert strikes(bot, LI) == [], "quoting the ad to report it is no ad"
        told = reports_to(bot, OWNER)[-1]
        assert "又在发赌场广告\n被举报的消息：「吴八：澳门赌场上线了，首充送彩金」" in told
        assert last_private(bot, LI).startswith("收到你的举报")

    play(story, config=config(), setup=two_rooms, db=tmp_path)


def test_the_same_words_without_the_report_command_are_still_moderated(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(LI, "他在群里发澳门赌场广告")
        assert strikes(bot, LI) == ["gambling"]

        await bot.says(CHEN, "大家看 #举报 加微信领资料", msg_id="later")  # the command must come first
        await bot.says(CHEN, "#话题 加微信领资料", msg_id="tagged")  # a #tag is no report
        await bot.says(CHEN, f"「吴八：明天见」\n{QUOTE_LINE}\n加微信领资料", msg_id="quote")
        cases = {o.message_id for o in bot.store.history(ROOM, CHEN, LONG_AGO)}
        assert cases == {"later", "tagged", "quote"}
        assert reports_to(bot, OWNER) == []

    play(story, config=config(), setup=two_rooms, db=tmp_path)


def with_rule(tmp_path: Path, rule: str) -> Path:
    """The app tests' rules plus one more rule (YAML lines under ``rules:``)."""
    rules = tmp_path / "rules.yaml"
    shutil.copyfile(RULES, rules)
    with rules.open("a", encoding="utf-8") as f:
        f.write(rule)
    return rules


def with_flood_rule(tmp_path: Path) -> Path:
    return with_rule(
        tmp_path,
        "  - name: flood-burst\n"
        "    category: flood\n"
        "    severity: minor\n"
        "    description: 短时间内连发多条\n"
        "    message: 请勿刷屏，有问题一条说完整就好。\n"
        "    flood: {burst: {messages: 2, seconds: 60}}\n",
    )


def test_a_member_spamming_reports_is_still_caught_flooding(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        bot.app.rules.path = with_flood_rule(tmp_path)
        assert await bot.app.rules.reload() is None

        for i in range(3):
            await bot.says(LI, f"#举报 @吴八\u2005 第{i + 1}次：赌场广告", mentions=(WU,))
            bot.clock.advance(seconds=5)

        assert strikes(bot, LI) == ["flood-burst"], "flooding counts; the words in the reports do not"
        assert "请勿刷屏" in "".join(s.text for s in bot.wechat.private_to(LI))
        assert len(reports_to(bot, OWNER)) == 3

    play(story, config=config(), setup=two_rooms, db=tmp_path)


def test_past_the_report_limit_a_report_is_moderated_like_any_message(tmp_path: Path) -> None:
    """Every message the content rules skip reaches the admins: past three reports in ten
    minutes nothing is forwarded, so nothing is skipped either (an ad cannot ride on #举报)."""

    async def story(bot: Bot) -> None:
        for i in range(3):
            await bot.says(LI, f"#举报 @吴八\u2005 第{i + 1}条", mentions=(WU,))
            bot.clock.advance(minutes=1)
        assert strikes(bot, LI) == []

        await bot.says(LI, "#举报 @吴八\u2005 需要资料的加微信 li888", mentions=(WU,), msg_id="fourth")

        assert len(reports_to(bot, OWNER)) == 3, "not forwarded"
        assert [o.message_id for o in bot.store.history(ROOM, LI, LONG_AGO)] == ["fourth"]
        said = "".join(s.text for s in bot.wechat.private_to(LI))
        assert "你的举报已收到多条，管理员会逐一处理，请稍后再提交。" in said
        assert "违反了群规：请勿在群内发布广告或引流信息。" in said

    play(story, config=config(), setup=two_rooms, db=tmp_path)


def test_a_link_the_reporter_posts_is_judged_but_one_in_the_quoted_message_is_not(
    tmp_path: Path,
) -> None:
    """A link works on whoever reads the room, whatever the words around it say: in a
    report's own words it is judged like anywhere else. Inside a quote reply's quote it is
    the reported message, which the admins get and judge."""

    async def story(bot: Bot) -> None:
        bot.app.rules.path = with_rule(
            tmp_path,
            "  - name: ad-short-link\n"
            "    category: ad\n"
            "    severity: minor\n"
            "    description: 短链接\n"
            "    message: 群内禁止发短链接。\n"
            "    when: {domain: {deny: [t.cn]}}\n",
        )
        assert await bot.app.rules.reload() is None

        await bot.says(
            LI, "#举报 @吴八\u2005 他发的就是这个 https://t.cn/A6abcd", mentions=(WU,), msg_id="own"
        )
        bot.clock.advance(minutes=1)
        await bot.says(
            LI, f"「吴八：领红包 https://t.cn/A6abcd」\n{QUOTE_LINE}\n#举报 又在发短链接", msg_id="quoted"
        )

        assert [(o.message_id, o.rule) for o in bot.store.history(ROOM, LI, LONG_AGO)] == [
            ("own", "ad-short-link")
        ]
        assert len(reports_to(bot, OWNER)) == 2, "both reports still reach the admins"

    play(story, config=config(), setup=two_rooms, db=tmp_path)
