"""Timed work on a fake clock: silence report, scheduled notices, activity reports, quiet hours."""

from __future__ import annotations

from pathlib import Path

from bot.config import NoticeConfig
from bot.lifecycle.jobs import activity_report, lifecycle_tick, scheduled_notice, silence_report
from bot.scheduler import Scheduler
from tests.app.harness import Bot
from tests.lifecycle.helpers import ADMIN, CHEN, LI, NEW, OWNER, ROOM, config, local, play, room


def private(bot: Bot, who: str, word: str) -> list[str]:
    return [s.text for s in bot.wechat.private_to(who) if word in s.text]


def room_text(bot: Bot) -> list[str]:
    return [s.text for s in bot.wechat.room_said(ROOM)]


# --- silence ------------------------------------------------------------------------------------


def test_silence_report_lists_quiet_members_privately_and_not_twice(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        # everyone present was seen at login (Nov 20, 09:00); LI speaks on the 21st, CHEN never
        bot.clock.now = local(21, 10)
        await bot.says(LI, "早上好")
        bot.clock.now = local(30, 10)  # a Monday, 10:00: the default cron "0 10 * * 1"
        sent = await silence_report(bot.app, bot.clock())
        await bot.settle()
        by_days = {t: sorted(m.contact_id for m in ms) for t, ms in sent[ROOM].by_threshold.items()}
        assert by_days == {7: [CHEN, LI], 14: [], 90: []}, "admins are never listed"
        [report] = private(bot, ADMIN, "潜水成员")
        assert report.startswith("【潜水成员】「金矿提金技术交流群」截至 11-30：")
        assert "7 天以上未发言（可私下提醒）2 人：陈七、李四" in report
        assert bot.wechat.kicked == [], "nobody is removed unless the config says so"
        bot.clock.now = local(30, 10, 30)
        assert await silence_report(bot.app, bot.clock()) == {}, "the same slot is not reported twice"

    play(story, config=config(), setup=room, db=tmp_path)


def test_silence_thresholds_are_configurable(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        bot.clock.now = local(21, 10)
        await bot.says(LI, "早上好")
        bot.clock.now = local(30, 10)
        await silence_report(bot.app, bot.clock())
        await bot.settle()
        [report] = private(bot, ADMIN, "潜水成员")
        assert "3 天以上未发言（可私下提醒）" not in report
        assert "5 天以上未发言（待清理）2 人" in report

    play(story, config=config(schedule={"silence_days": (3, 5, 60)}), setup=room, db=tmp_path)


def test_silence_removal_happens_only_when_configured(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        bot.clock.now = local(20, 10)
        await bot.says(LI, "我还在")
        bot.clock.now = local(20, 10).replace(year=2027, month=3, day=1)
        result = await silence_report(bot.app, bot.clock())
        await bot.settle()
        assert sorted(result[ROOM].removed) == [CHEN, LI]
        assert sorted(k for _, k in bot.wechat.kicked) == [CHEN, LI]
        assert (ROOM, OWNER) not in bot.wechat.kicked and (ROOM, ADMIN) not in bot.wechat.kicked
        [report] = private(bot, ADMIN, "潜水成员")
        assert "已按配置移出 2 位 90 天以上未发言的成员" in report

    play(story, config=config(silence_remove_days=90), setup=room, db=tmp_path)


# --- scheduled notices ------------------------------------------------------------------------------

MORNING = NoticeConfig(id="morning", room=ROOM, cron="0 9 * * *", text="早上好！今日话题：低品位金矿的堆浸。")
REVIEW = NoticeConfig(
    id="rules-review", room="提金", cron="0 9 1-7 * mon", text="{date}（周{weekday}）是规则复习日。"
)


def test_a_scheduled_notice_goes_out_once_per_slot(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        bot.clock.now = local(21, 9)
        assert await scheduled_notice(bot.app, bot.clock(), "morning") == [ROOM]
        await bot.settle()
        bot.clock.now = local(21, 9, 1)  # fired again (a restart catching up): not repeated
        assert await scheduled_notice(bot.app, bot.clock(), "morning") == []
        bot.clock.now = local(22, 9)
        assert await scheduled_notice(bot.app, bot.clock(), "morning") == [ROOM]
        await bot.settle()
        assert room_text(bot).count(MORNING.text) == 2
        bot.clock.now = local(23, 17)  # down all day: a morning notice is not sent at 17:00
        assert await scheduled_notice(bot.app, bot.clock(), "morning") == []

    play(story, config=config(schedule={"notices": (MORNING,)}), setup=room, db=tmp_path)


def test_the_first_monday_notice_picks_its_room_by_name(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        bot.clock.now = local(30, 9)  # Monday the 30th is no first Monday
        await scheduled_notice(bot.app, bot.clock(), "rules-review")
        bot.clock.now = local(30, 9).replace(month=12, day=7, hour=1)  # Monday 7 December, 09:00 local
        assert await scheduled_notice(bot.app, bot.clock(), "rules-review") == [ROOM]
        await bot.settle()
        assert room_text(bot) == ["12月7日（周一）是规则复习日。"]

    play(story, config=config(schedule={"notices": (REVIEW,)}), setup=room, db=tmp_path)


def test_jobs_go_on_the_scheduler_under_stable_ids(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        from bot.lifecycle.jobs import schedule_lifecycle_jobs

        sched = Scheduler("", timezone_=bot.app.tz)
        sched.start(bot.app)
        try:
            sched.cron("notice:old", "scheduled_notice", "0 8 * * *", notice_id_="old")
            schedule_lifecycle_jobs(bot.app, sched)
            assert sched.job_ids() == [
                "activity-report",
                "lifecycle-tick",
                "notice:morning",
                "notice:rules-review",
                "silence-report",
            ]
            nxt = sched.next_run("activity-report")
            assert nxt is not None and (nxt.hour, nxt.minute) == (21, 0)
        finally:
            sched.shutdown()
            bot.app.scheduler = None

    play(story, config=config(schedule={"notices": (MORNING, REVIEW)}), setup=room, db=tmp_path)


# --- activity reports ------------------------------------------------------------------------------------


async def busy_day(bot: Bot) -> None:
    """Nov 21: LI three messages (one an ad), CHEN one, NEW joins, CHEN... stays."""
    bot.clock.now = local(21, 10)
    await bot.says(LI, "早上好")
    await bot.says(LI, "今天讨论堆浸")
    await bot.says(CHEN, "好的")
    await bot.says(LI, "有资料的加微信")
    await bot.joins(NEW)


def test_daily_report_goes_privately_to_the_admins_once(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await busy_day(bot)
        bot.clock.now = local(21, 21)
        sent = await activity_report(bot.app, bot.clock())
        await bot.settle()
        text = sent[ROOM]
        assert text.startswith("【群日报】「金矿提金技术交流群」11-21")
        assert "消息 4 条，发言 2 人，入群 1 人，退群 0 人" in text
        assert "违规消息 1 条，涉及：禁止广告引流 1" in text
        assert "活跃榜：李四 3、陈七 1" in text
        assert private(bot, ADMIN, "群日报") == [text] and private(bot, OWNER, "群日报") == [text]
        assert private(bot, LI, "群日报") == [], "only admins get it"
        assert await activity_report(bot.app, bot.clock()) == {}, "not twice for one day"

    play(story, config=config(), setup=room, db=tmp_path)


def test_a_morning_report_covers_the_day_before_and_weekly_covers_seven_days(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await busy_day(bot)
        bot.clock.now = local(23, 8)  # Monday 08:00
        sent = await activity_report(bot.app, bot.clock())
        assert sent[ROOM].startswith("【群周报】「金矿提金技术交流群」11-16 至 11-22")
        assert "消息 4 条" in sent[ROOM]

    play(
        story,
        config=config(schedule={"report_period": "weekly", "daily_report_at": "08:00"}),
        setup=room,
        db=tmp_path,
    )


# --- quiet hours ------------------------------------------------------------------------------------------


def test_quiet_hours_hold_everything_but_urgent_notices_to_admins(tmp_path: Path) -> None:
    night = NoticeConfig(id="night", room=ROOM, cron="30 23 * * *", text="晚安，明天见。")

    async def story(bot: Bot) -> None:
        await busy_day(bot)
        before = len(bot.wechat.said)
        bot.clock.now = local(21, 23, 30)
        assert await scheduled_notice(bot.app, bot.clock(), "night") == [ROOM]
        await activity_report(bot.app, bot.clock())
        await bot.joins("wxid_late")  # welcome held; the cap alert (urgent) goes at once
        await bot.settle()
        new = bot.wechat.said[before:]
        assert [s.to for s in new] == [OWNER, ADMIN] and all("群快满了" in s.text for s in new)

        bot.clock.now = local(22, 7, 0)
        await lifecycle_tick(bot.app, bot.clock())
        await bot.settle()
        assert len(bot.wechat.said) == before + 2, "still quiet at 07:00"

        bot.clock.now = local(22, 7, 31)
        await lifecycle_tick(bot.app, bot.clock())
        await bot.settle()
        later = bot.wechat.said[before + 2 :]
        assert "晚安，明天见。" in [s.text for s in later]
        assert any(s.text.startswith("欢迎") and s.mentions == ("wxid_late",) for s in later)
        assert len(private(bot, ADMIN, "群日报")) == 1
        await lifecycle_tick(bot.app, bot.clock())
        await bot.settle()
        assert len(bot.wechat.said) == before + 2 + len(later), "held messages go out once"

    cfg = config(
        welcome="欢迎 {name}！",
        member_cap_alert=7,
        schedule={"quiet_hours": "23:00-07:30", "notices": (night,)},
    )
    play(story, config=cfg, setup=room, db=tmp_path)


def test_a_reminder_falling_in_quiet_hours_waits_for_the_morning(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        bot.clock.now = local(21, 14)  # joins at 14:00: reminder at 02:00, deadline at 14:00 tomorrow
        await bot.joins(NEW)
        before = len(bot.wechat.room_said(ROOM))
        bot.clock.now = local(22, 2, 1)
        await lifecycle_tick(bot.app, bot.clock())
        await bot.settle()
        assert len(bot.wechat.room_said(ROOM)) == before, "nothing said at night"
        bot.clock.now = local(22, 7, 31)
        await lifecycle_tick(bot.app, bot.clock())
        await bot.settle()
        [reminder] = bot.wechat.room_said(ROOM)[before:]
        assert "请把群昵称改为「单位-姓名」" in reminder.text and reminder.mentions == (NEW,)
        assert "还剩约 6 小时" in reminder.text, "counted from when it is said"

    cfg = config(nickname_pattern="单位-姓名", schedule={"quiet_hours": "23:00-07:30"})
    play(story, config=cfg, setup=room, db=tmp_path)


def test_an_admin_of_several_rooms_gets_their_reports_in_one_message(tmp_path: Path) -> None:
    from dataclasses import replace

    from bot.config import RoomSelector

    room2, owner2 = "20000000002@chatroom", "wxid_owner_liu"

    def setup(w) -> None:
        room(w)
        w.add_room(room2, "招聘求职群", owner2, [owner2, LI])
        w.friends.add(owner2)

    async def story(bot: Bot) -> None:
        await busy_day(bot)
        bot.clock.now = local(21, 21)
        sent = await activity_report(bot.app, bot.clock())
        await bot.settle()
        assert set(sent) == {ROOM, room2}
        [both] = private(bot, ADMIN, "【群日报】")
        assert both.index("金矿提金技术交流群") < both.index("招聘求职群"), "one message, both rooms"
        [own] = private(bot, owner2, "【群日报】")
        assert "招聘求职群" in own and "金矿提金" not in own, "a room's admin sees only their room"

    cfg = config()
    cfg = replace(cfg, bot=replace(cfg.bot, rooms=(RoomSelector(id=ROOM), RoomSelector(id=room2))))
    play(story, config=cfg, setup=setup, db=tmp_path)


def test_members_silent_a_week_get_a_friendly_private_note_when_configured(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        bot.clock.now = local(21, 10)
        await bot.says(LI, "早上好")
        bot.clock.now = local(30, 10)
        result = await silence_report(bot.app, bot.clock())
        await bot.settle()
        assert sorted(result[ROOM].nudged) == [CHEN, LI]
        [note] = bot.wechat.private_to(LI)
        assert note.text == "李四，好久没在「金矿提金技术交流群」看到你发言了，欢迎来群里聊聊。"
        [report] = private(bot, ADMIN, "潜水成员")
        assert "已私下问候其中 2 位" in report

    cfg = config(silence_nudge="{name}，好久没在「{topic}」看到你发言了，欢迎来群里聊聊。")
    play(story, config=cfg, setup=room, db=tmp_path)
