"""Admin commands as admins use them, in the room and in a private chat with the bot."""

from __future__ import annotations

from pathlib import Path

from bot.events import MemberJoined
from tests.app.harness import Bot, play, states
from tests.commands.helpers import (
    ADMIN,
    CHEN,
    LI,
    MOD,
    OWNER,
    OWNER_B,
    ROOM,
    ROOM_B,
    TOPIC,
    WU,
    config,
    last_private,
    private,
    two_rooms,
)


def audited(bot: Bot, command: str) -> list:
    return [a for a in bot.store.audit_log(limit=500) if a.command == command]


def test_warn_by_mention_posts_a_public_notice_with_reason_and_case_and_is_audited(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(MOD, "#警告 @李四\u2005发广告", mentions=(LI,))
        notice = bot.wechat.room_said(ROOM)[-1]
        assert notice.mentions == (LI,)
        assert notice.text == "请注意：发广告（案件号 1）"
        assert states(bot.store, 1) == {"warn_public": "done"}
        story_ = bot.store.case(1)
        assert story_.case.contact_id == LI and story_.violations[0].rule == "admin-warn"
        entry = audited(bot, "warn")[0]
        assert (entry.actor_id, entry.target_id, entry.case_no, entry.room_id) == (MOD, LI, 1, ROOM)
        assert entry.detail["reason"] == "发广告"

    play(story, config=config(), setup=two_rooms, db=tmp_path)


def test_english_alias_and_a_private_warn_by_contact_id(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await private(bot, ADMIN, "#warn wxid_wu 请勿在群里发二维码")
        assert "请勿在群里发二维码" in last_private(bot, WU) and "案件号 1" in last_private(bot, WU)
        assert "已警告" in last_private(bot, ADMIN)
        assert bot.wechat.room_said(ROOM) == []

    play(story, config=config(), setup=two_rooms, db=tmp_path)


def test_a_private_command_about_a_member_of_two_rooms_asks_for_the_room(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await private(bot, ADMIN, "警告 wxid_li 发广告")  # LI is in both rooms; ADMIN is global
        assert "多个群" in last_private(bot, ADMIN)
        assert bot.store.cases() == []

    play(story, config=config(), setup=two_rooms, db=tmp_path)


def test_mute_with_a_duration_records_the_mute_and_muted_speaking_is_escalated(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(OWNER, "#禁言 @李四\u2005 2h 刷屏", mentions=(LI,))
        notice = bot.wechat.room_said(ROOM)[-1]
        assert "刷屏" in notice.text and "禁言至 11-20 11:00" in notice.text  # 09:00 Shanghai + 2h
        until = bot.store.muted_until(ROOM, LI, bot.clock())
        assert until is not None and (until - bot.clock()).total_seconds() == 7200
        assert bot.app.mute_ends[(ROOM, LI)] == until
        bot.clock.advance(minutes=5)
        await bot.says(LI, "我就说一句")
        assert "禁言" in last_private(bot, LI), "speaking while muted is reminded"
        assert audited(bot, "mute")[0].detail["minutes"] == 120

    play(story, config=config(), setup=two_rooms, db=tmp_path)


def test_mute_without_a_duration_takes_24h_and_a_bad_duration_gets_the_usage(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(MOD, "#mute @陈七\u2005 99x 吵架", mentions=(CHEN,))
        assert "用法：#禁言" in last_private(bot, MOD)
        await bot.says(MOD, "#mute @陈七\u2005吵架", mentions=(CHEN,))
        until = bot.store.muted_until(ROOM, CHEN, bot.clock())
        assert until is not None and (until - bot.clock()).total_seconds() == 86400

    play(story, config=config(), setup=two_rooms, db=tmp_path)


def test_unmute_lifts_the_mute_and_tells_the_member_in_the_room(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(MOD, "#禁言 @李四\u2005 1h", mentions=(LI,))
        await bot.says(MOD, "#解禁 @李四\u2005", mentions=(LI,))
        assert bot.store.muted_until(ROOM, LI, bot.clock()) is None
        assert "解除你的禁言" in bot.wechat.room_said(ROOM)[-1].text
        assert (ROOM, LI) not in bot.app.mute_ends
        await bot.says(MOD, "#unmute @李四\u2005", mentions=(LI,))
        assert "没有被禁言" in last_private(bot, MOD)
        assert len(audited(bot, "unmute")) == 2

    play(story, config=config(), setup=two_rooms, db=tmp_path)


def test_kick_removes_the_member_and_posts_the_reason_and_case(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(OWNER, "#踢 @李四\u2005 多次发广告", mentions=(LI,))
        assert bot.wechat.kicked == [(ROOM, LI)]
        assert "李四 因违反群规（多次发广告）已被移出群聊，案件号 1" in bot.wechat.room_said(ROOM)[-1].text
        assert states(bot.store, 1) == {"kick": "done"}
        assert audited(bot, "kick")[0].case_no == 1
        told = last_private(bot, LI)
        assert told.startswith(f"你好，你因违反群规（多次发广告）已被移出「{TOPIC}」，案件号 1。")
        assert "申诉 1 理由" in told, "a removed member can still appeal"

    play(story, config=config(), setup=two_rooms, db=tmp_path)


def test_kick_without_owner_rights_asks_the_human_admins(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await private(bot, ADMIN, "#kick wxid_wu 刷屏")
        assert bot.wechat.kicked == []
        assert "请协助移出" in last_private(bot, OWNER)
        assert "没有本群的管理权限" in last_private(bot, ADMIN)
        assert states(bot.store, 1) == {"kick": "requested_admins"}

    play(story, config=config(), setup=lambda w: two_rooms(w, bot_is_owner=False), db=tmp_path)


def test_ban_kicks_and_blacklists_and_unban_lets_them_back(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(OWNER, "#拉黑 @陈七\u2005 诈骗", mentions=(CHEN,))
        assert bot.wechat.kicked == [(ROOM, CHEN)]
        entry = bot.store.is_blacklisted(CHEN, ROOM)
        assert entry is not None and entry.case_no == 1
        assert states(bot.store, 1) == {"kick": "done", "blacklist": "done"}
        await bot.says(OWNER, "#解除拉黑 wxid_chen")  # a removed member cannot be @mentioned
        assert bot.store.is_blacklisted(CHEN, ROOM) is None
        assert "移出黑名单" in last_private(bot, OWNER)
        await bot.joins(CHEN, inviter=LI)
        assert bot.wechat.kicked == [(ROOM, CHEN)], "unbanned: may join again"

    play(story, config=config(), setup=two_rooms, db=tmp_path)


def test_pardon_removes_the_strike_lifts_the_mute_and_tells_the_member(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(LI, "加微信 abc123")  # case 1, private warning
        bot.clock.advance(minutes=10)
        await bot.says(LI, "加微信 abc123 再来")  # case 2: public warning and mute
        assert bot.store.muted_until(ROOM, LI, bot.clock()) is not None
        await private(bot, OWNER, "撤销 2 误判，是群里约好的资料分享")
        assert bot.store.case(2).case.state == "pardoned"
        assert bot.store.muted_until(ROOM, LI, bot.clock()) is None
        assert "案件 2 已由管理员撤销" in last_private(bot, LI) and "禁言已解除" in last_private(bot, LI)
        assert "案件 2 已撤销" in last_private(bot, OWNER)
        await private(bot, OWNER, "#记录 wxid_li")
        assert "违规 1 次" in last_private(bot, OWNER) and "案件 1（11-20 09:00）广告" in last_private(
            bot, OWNER
        )
        assert "案件 2" not in last_private(bot, OWNER)
        assert [(a.command, a.actor_id) for a in bot.store.case(2).audit] == [("pardon", OWNER)]

    play(story, config=config(), setup=two_rooms, db=tmp_path)


def test_strikes_of_a_member_without_any(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(MOD, "#strikes @陈七\u2005", mentions=(CHEN,))
        assert "近 30 天没有违规记录" in last_private(bot, MOD)
        assert bot.wechat.room_said(ROOM) == [], "answers go to the admin privately"

    play(story, config=config(), setup=two_rooms, db=tmp_path)


def test_an_exempt_member_is_not_moderated_until_unexempted(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(MOD, "#豁免 @陈七\u2005", mentions=(CHEN,))
        assert "信任成员" in last_private(bot, MOD)
        assert bot.store.member(ROOM, CHEN).exempt
        await bot.says(CHEN, "有需要资料的加微信 chen123")
        assert bot.store.cases(contact_id=CHEN) == []
        await bot.says(MOD, "#取消豁免 @陈七\u2005", mentions=(CHEN,))
        await bot.says(CHEN, "有需要资料的加微信 chen123")
        assert len(bot.store.cases(contact_id=CHEN)) == 1

    play(story, config=config(), setup=two_rooms, db=tmp_path)


def test_dry_run_on_and_off_in_a_room(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(MOD, "#试运行 开")
        assert "本群已切换为试运行" in bot.wechat.room_said(ROOM)[-1].text
        await bot.says(LI, "澳门赌场上线了")
        assert bot.wechat.kicked == []
        assert "【试运行】" in last_private(bot, MOD) and "移出群聊" in last_private(bot, MOD)
        assert states(bot.store, 1)["kick"] == "dry_run"
        assert bot.app.executor.is_dry_run(ROOM) and not bot.app.executor.is_dry_run(ROOM_B)
        await bot.says(MOD, "#dryrun off")
        await bot.says(CHEN, "澳门赌场上线了")
        assert bot.wechat.kicked == [(ROOM, CHEN)]

    play(story, config=config(), setup=two_rooms, db=tmp_path)


def test_dry_run_for_every_room_only_from_a_global_admin_in_private(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await private(bot, MOD, "试运行 开")
        assert "总管理员" in last_private(bot, MOD)
        assert not bot.app.executor.is_dry_run(ROOM)
        await private(bot, ADMIN, "试运行 开")
        assert bot.app.executor.is_dry_run(ROOM) and bot.app.executor.is_dry_run(ROOM_B)
        assert "所有群已切换为试运行" in last_private(bot, ADMIN)

    play(story, config=config(), setup=two_rooms, db=tmp_path)


def test_stats_for_today(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(CHEN, "大家好")
        await bot.says(LI, "加微信 abc123")
        bot.wechat.emit(MemberJoined(ROOM, "wxid_new", bot.clock(), name="新人"))
        await bot.settle()
        await bot.says(MOD, "#统计")
        text = last_private(bot, MOD)
        assert text.startswith(f"「{TOPIC}」今日统计（11-20）")
        assert "消息 2 条，发言 2 人" in text and "入群" in text
        assert "违规 1 次（广告 1）" in text and "立案 1 起" in text

    play(story, config=config(), setup=two_rooms, db=tmp_path)


def test_help_lists_admin_commands_for_admins_and_member_commands_for_members(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await private(bot, MOD, "帮助")
        text = last_private(bot, MOD)
        for usage in (
            "#警告 @成员 理由",
            "#禁言",
            "#解禁",
            "#踢",
            "#拉黑",
            "#解除拉黑",
            "#撤销 案件号",
            "#记录",
            "#豁免",
            "#取消豁免",
            "#试运行",
            "#重载规则",
            "#统计",
            "同意 案件号",
            "#群规",
        ):
            assert usage in text, usage
        await private(bot, LI, "#help")
        member_help = last_private(bot, LI)
        assert "#群规" in member_help and "申诉 案件号 理由" in member_help and "#警告" not in member_help

    play(story, config=config(), setup=two_rooms, db=tmp_path)


def test_unknown_and_malformed_commands_get_a_short_usage_line_privately(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(MOD, "#踢人吧")
        assert last_private(bot, MOD) == "没有“踢人吧”这个命令。发送 #帮助 查看可用命令。"
        await bot.says(MOD, "#警告")
        assert last_private(bot, MOD) == "用法：#警告 @成员 理由"
        await bot.says(MOD, "#踢 @李四\u2005@陈七\u2005 刷屏", mentions=(LI, CHEN))
        assert last_private(bot, MOD) == "一条命令只处理一位成员，请分别发送。" and bot.wechat.kicked == []
        await bot.says(MOD, "#撤销 abc")
        assert last_private(bot, MOD) == "用法：#撤销 案件号 理由"
        await private(bot, MOD, "#foo")
        assert "没有“foo”这个命令" in last_private(bot, MOD)
        await bot.says(LI, "#今日话题 提金工艺")
        assert bot.wechat.private_to(LI) == [], "members' #topics are not commands"
        assert bot.wechat.room_said(ROOM) == [], "usage lines never go to the room"

    play(story, config=config(), setup=two_rooms, db=tmp_path)


def test_dry_run_switches_survive_a_restart(tmp_path: Path) -> None:
    async def first(bot: Bot) -> None:
        await bot.says(MOD, "#试运行 开")
        await private(bot, ADMIN, "试运行 关")
        await bot.says(MOD, "#试运行 开")

    async def second(bot: Bot) -> None:
        assert bot.app.executor.is_dry_run(ROOM) and not bot.app.executor.is_dry_run(ROOM_B)

    play(first, config=config(), setup=two_rooms, db=tmp_path)
    play(second, config=config(), setup=two_rooms, db=tmp_path)


def test_commands_in_a_room_the_bot_does_not_moderate_are_ignored(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(MOD, "#警告 @李四\u2005 发广告", mentions=(LI,))
        await bot.says(LI, "#群规")
        assert bot.wechat.said == [] and bot.store.cases() == []

    from tests.app.harness import make_config

    play(story, config=make_config(), setup=two_rooms, db=tmp_path)


def test_qunguard_case_shows_the_appeal_and_every_decision_with_who_and_when(tmp_path: Path, capsys) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(WU, "需要资料的加微信 wu888")
        await private(bot, WU, "申诉 1 误会")
        await private(bot, MOD, "同意 1 误判")

    play(story, config=config(), setup=two_rooms, db=tmp_path)
    from bot.cli import main

    capsys.readouterr()
    assert main(["case", "1", "--db", f"sqlite:///{tmp_path / 'qunguard.db'}"]) == 0
    out = capsys.readouterr().out
    assert "案件 #1  pardoned" in out and f"pardoned by {MOD}" in out
    assert f"appeal #1 by {WU}" in out and f"accepted by {MOD}" in out
    audit_lines = out.split("audit:")[1]
    for who, what in ((WU, "appeal"), (MOD, "appeal_accepted"), (MOD, "pardon")):
        assert f"{who} {what}" in audit_lines, (who, what)


def test_todo_lists_waiting_reviews_and_open_appeals_of_the_admins_rooms(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(MOD, "#待办")
        assert last_private(bot, MOD) == "目前没有待确认的处理，也没有待处理的申诉。"
        await bot.says(WU, "澳门赌场上线了")  # case 1 waits for review
        await bot.says(LI, "有需要的加微信 li666")  # case 2
        await private(bot, LI, "申诉 2 误会")
        await private(bot, MOD, "todo")
        text = last_private(bot, MOD)
        assert "案件 1：「金矿提金技术交流群」吴八，拟移出群聊，待确认" in text
        assert "案件 2：「金矿提金技术交流群」李四 申诉：误会" in text
        await private(bot, OWNER_B, "待办")
        assert last_private(bot, OWNER_B).startswith("目前没有"), "another room's matters are not shown"

    play(story, config=config(review=True), setup=two_rooms, db=tmp_path)


def test_dry_run_without_a_word_tells_the_current_state(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(MOD, "#试运行")
        assert last_private(bot, MOD).startswith("本群当前为正式运行。用法：#试运行 开/关")

    play(story, config=config(), setup=two_rooms, db=tmp_path)


def test_a_command_delivered_twice_after_a_restart_acts_once(tmp_path: Path) -> None:
    sent: list = []

    async def first(bot: Bot) -> None:
        sent.append(await bot.says(OWNER, "#踢 @吴八\u2005 刷屏", mentions=(WU,), msg_id="wx-cmd-1"))

    async def second(bot: Bot) -> None:
        bot.wechat.emit(sent[0])  # the puppet service re-delivers it
        await bot.settle()
        assert bot.wechat.kicked == []
        assert len(bot.store.cases()) == 1

    play(first, config=config(), setup=two_rooms, db=tmp_path)
    play(second, config=config(), setup=two_rooms, db=tmp_path)


def test_with_the_database_down_a_command_is_answered_not_lost_in_silence(tmp_path: Path) -> None:
    down = "postgresql+psycopg://qunguard@127.0.0.1:1/qunguard"  # nothing listens on port 1

    async def story(bot: Bot) -> None:
        assert bot.store.outage is not None
        await bot.says(MOD, "#警告 @吴八\u2005 发广告", mentions=(WU,))
        assert last_private(bot, MOD) == "系统暂时无法记录，请稍后再发一次。"
        await private(bot, WU, "申诉 1 理由")
        assert last_private(bot, WU) == "系统暂时无法记录，请稍后再发一次。"

    play(story, config=config(), setup=two_rooms, db=tmp_path, url=down)
