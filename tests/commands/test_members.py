"""Members in the loop: the rules on request, appeals answered, reports forwarded."""

from __future__ import annotations

from pathlib import Path

from tests.app.harness import Bot, play
from tests.commands.helpers import (
    ADMIN,
    LI,
    MOD,
    OWNER,
    ROOM,
    TOPIC,
    WU,
    config,
    last_private,
    private,
    two_rooms,
)


def test_rules_in_the_room_once_then_privately(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(LI, "#群规")
        text = bot.wechat.room_said(ROOM)[-1].text
        assert (
            text.startswith("本群群规要点：") and "广告" in text and "违规处理：" in text and "申诉" in text
        )
        await bot.says(WU, "#rules")
        assert len(bot.wechat.room_said(ROOM)) == 1, (
            "asked again soon after: answered privately, the room is spared"
        )
        assert last_private(bot, WU).startswith("本群群规要点：")
        bot.clock.advance(minutes=11)
        await bot.says(WU, "#群规")
        assert len(bot.wechat.room_said(ROOM)) == 2
        await private(bot, LI, "群规")
        assert last_private(bot, LI).startswith("本群群规要点：")
        await bot.says(LI, "#规则")  # the word members also use
        assert last_private(bot, LI).startswith("本群群规要点：")

    play(story, config=config(), setup=two_rooms, db=tmp_path)


def test_the_appeal_flow_member_appeals_admins_told_pardon_member_told_strike_gone(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(WU, "需要资料的加微信 wu888")
        assert "申诉 1 理由" in last_private(bot, WU)
        assert len(bot.store.history(ROOM, WU, bot.clock().replace(year=2020))) == 1

        await private(bot, WU, "申诉 1 我是分享公司招聘的联系方式，不是广告")
        assert last_private(bot, WU) == "已收到你对案件 1 的申诉，管理员会尽快复核，结果会私信告诉你。"
        appeal = bot.store.appeals(case_no=1)[0]
        assert appeal.text == "我是分享公司招聘的联系方式，不是广告" and appeal.state == "open"
        for admin in (OWNER, MOD, ADMIN):  # the room's owner and admins, and the global admin
            told = last_private(bot, admin)
            assert told.startswith(f"【申诉】「{TOPIC}」吴八（{WU}）对案件 1 提出申诉") and "同意 1" in told

        await private(bot, MOD, "同意 1")
        assert bot.store.appeals(case_no=1, state=None)[0].state == "accepted"
        assert bot.store.case(1).case.state == "pardoned"
        assert bot.store.history(ROOM, WU, bot.clock().replace(year=2020)) == [], "the strike is gone"
        assert "申诉已通过" in last_private(bot, WU)
        assert "案件 1 已撤销" in last_private(bot, MOD)
        commands = [a.command for a in bot.store.case(1).audit]
        assert "appeal" in commands and "appeal_accepted" in commands and "pardon" in commands

    play(story, config=config(), setup=two_rooms, db=tmp_path)


def test_a_rejected_appeal_is_answered_with_the_admins_reason(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(WU, "需要资料的加微信 wu888")
        await private(bot, WU, "申诉1，我没发广告")  # no space, full-width comma: still an appeal
        assert bot.store.appeals(case_no=1)[0].text == "我没发广告"
        await private(bot, OWNER, "驳回 1 截图里是你的微信号")
        assert bot.store.appeals(case_no=1, state=None)[0].state == "rejected"
        assert (
            last_private(bot, WU)
            == "你好，你对案件 1 的申诉经管理员复核未获通过：截图里是你的微信号。感谢理解，请继续遵守群规。"
        )
        assert bot.store.case(1).case.state != "pardoned"
        await private(bot, WU, "申诉 1 再申诉一次")
        assert "已处理过" in last_private(bot, WU)

    play(story, config=config(), setup=two_rooms, db=tmp_path)


def test_an_appeal_on_someone_elses_case_or_a_missing_case_is_refused(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(WU, "需要资料的加微信 wu888")
        await private(bot, LI, "申诉 1 帮他申诉")
        assert "没有找到你名下的案件 1" in last_private(bot, LI)
        await private(bot, LI, "申诉 99 理由")
        assert "没有找到你名下的案件 99" in last_private(bot, LI)
        await private(bot, LI, "申诉")
        assert last_private(bot, LI).startswith("申诉请私聊我发送：申诉 案件号 理由")
        assert bot.store.appeals(state=None) == []

    play(story, config=config(), setup=two_rooms, db=tmp_path)


def test_an_appeal_of_an_admin_decided_mute_lifts_it_when_accepted(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(MOD, "#禁言 @吴八\u2005 1d 刷屏", mentions=(WU,))
        await private(bot, WU, "申诉 1 我只发了一条")
        await private(bot, OWNER, "同意 1 确认误判")
        assert bot.store.muted_until(ROOM, WU, bot.clock()) is None
        assert "禁言已解除" in last_private(bot, WU)

    play(story, config=config(), setup=two_rooms, db=tmp_path)


def test_a_report_in_the_room_is_forwarded_to_the_admins_with_who_reported_whom(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(LI, "#举报 @吴八\u2005 私聊拉人进博彩群", mentions=(WU,))
        told = last_private(bot, OWNER)
        assert told == f"【举报】「{TOPIC}」李四（{LI}）举报 吴八（{WU}）：\n私聊拉人进博彩群"
        assert last_private(bot, LI) == "收到你的举报，已转给管理员处理，谢谢你帮忙维护群秩序。"
        entry = next(a for a in bot.store.audit_log() if a.command == "report")
        assert (entry.actor_id, entry.target_id, entry.room_id) == (LI, WU, ROOM)

    play(story, config=config(), setup=two_rooms, db=tmp_path)


def test_a_private_report_goes_to_the_admins_of_the_reporters_rooms(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await private(bot, WU, "#举报 有人在群里发假冒客服的链接")
        assert "假冒客服" in last_private(bot, OWNER)
        await private(bot, WU, "#举报")
        assert last_private(bot, WU).startswith("举报请写明对象和原因")

    play(story, config=config(), setup=two_rooms, db=tmp_path)


QUOTE_LINE = "- - - - - - - - - - - - - - -"


def test_quoting_a_message_and_replying_report_forwards_the_quoted_message(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(WU, f"「吴八：周末一起去看球\u3002」\n{QUOTE_LINE}\n#举报 这是外围赌球的暗号")
        told = last_private(bot, OWNER)
        assert "举报：\n这是外围赌球的暗号\n被举报的消息：「吴八：周末一起去看球。」" in told
        assert last_private(bot, WU).startswith("收到你的举报")
        await private(bot, WU, f"「李四：明天见」\n{QUOTE_LINE}\n举报")
        assert "被举报的消息：「李四：明天见」" in last_private(bot, OWNER)
        await bot.says(WU, f"「李四：明天见」\n{QUOTE_LINE}\n好的")
        assert sum("【举报】" in s.text for s in bot.wechat.private_to(OWNER)) == 2, (
            "a plain quote reply is no report"
        )

    play(story, config=config(), setup=two_rooms, db=tmp_path)


def test_a_member_flooding_reports_is_asked_to_wait(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        for i in range(4):
            await private(bot, WU, f"#举报 第{i}条")
        assert sum("【举报】" in s.text for s in bot.wechat.private_to(OWNER)) == 3
        assert last_private(bot, WU) == "你的举报已收到多条，管理员会逐一处理，请稍后再提交。"
        bot.clock.advance(minutes=11)
        await private(bot, WU, "#举报 又一条")
        assert sum("【举报】" in s.text for s in bot.wechat.private_to(OWNER)) == 4

    play(story, config=config(), setup=two_rooms, db=tmp_path)


def test_an_appeal_written_as_a_sentence_is_filed(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(WU, "需要资料的加微信 wu888")
        await private(bot, WU, "我要申诉 1 我没发广告，是同事问我要联系方式")
        assert last_private(bot, WU) == "已收到你对案件 1 的申诉，管理员会尽快复核，结果会私信告诉你。"
        assert bot.store.appeals(case_no=1)[0].text == "我没发广告，是同事问我要联系方式"

    play(story, config=config(), setup=two_rooms, db=tmp_path)


def test_a_member_who_asks_about_a_penalty_is_told_how_to_appeal_and_their_case_numbers(
    tmp_path: Path,
) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(WU, "需要资料的加微信 wu888")
        await private(bot, WU, "为什么禁言我？我冤枉啊")
        told = last_private(bot, WU)
        assert told.startswith("申诉请私聊我发送：申诉 案件号 理由")
        assert f"你最近的案件：案件 1（「{TOPIC}」，" in told
        assert bot.store.appeals(state=None) == [], "nothing filed without a case number"

        before = len(bot.wechat.private_to(LI))
        await private(bot, LI, "你好，周末活动几点集合？")
        assert len(bot.wechat.private_to(LI)) == before, "other private chat is left alone"

    play(story, config=config(), setup=two_rooms, db=tmp_path)


def test_an_admin_decision_without_a_case_number_is_no_appeal(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(WU, "需要资料的加微信 wu888")
        await private(bot, WU, "申诉 1 我没发广告")
        before = len(bot.wechat.private_to(OWNER))
        await private(bot, OWNER, "同意，复核过了")
        assert bot.store.appeals(case_no=1)[0].state == "open"
        assert not any("申诉请私聊我发送" in s.text for s in bot.wechat.private_to(OWNER)[before:])

    play(story, config=config(), setup=two_rooms, db=tmp_path)
