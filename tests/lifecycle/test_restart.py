"""A deadline set before a restart fires once after it: the job waits in the database
(APScheduler's SQLAlchemy job store) and the deadline row decides that it acts once."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bot.lifecycle import lifecycle_of
from bot.lifecycle.jobs import lifecycle_tick
from bot.scheduler import Scheduler
from tests.app.harness import Bot
from tests.lifecycle.helpers import ADMIN, NEW, ROOM, config, play, room

JOBS = [f"deadline:nickname:{ROOM}:{NEW}:due", f"deadline:nickname:{ROOM}:{NEW}:remind"]


def room_with_new(wechat) -> None:
    """The room after the restart: the new member is still in it."""
    room(wechat)
    info = wechat.rooms_[ROOM]
    wechat.rooms_[ROOM] = replace(info, member_ids=(*info.member_ids, NEW))


def notes(bot: Bot) -> list[str]:
    return [s.text for s in bot.wechat.private_to(ADMIN) if "群昵称未改" in s.text]


def test_a_deadline_set_before_a_restart_fires_once_after_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'qunguard.db'}"
    # The bot's clock runs a day ahead of the machine's, so the real scheduler never fires
    # a job by itself before the restart; after it, the jobs are made due explicitly.
    joined = (datetime.now(timezone.utc) + timedelta(days=1)).replace(microsecond=0)
    cfg = config(nickname_pattern="单位-姓名")

    async def before(bot: Bot) -> None:
        bot.clock.now = joined
        sched = Scheduler(url, timezone_=bot.app.tz)
        sched.start(bot.app)
        try:
            await bot.joins(NEW)
            assert sched.job_ids() == JOBS
            assert sched.next_run(JOBS[0]) == joined + timedelta(hours=24)
        finally:
            sched.shutdown()  # the bot stops before the reminder and the deadline

    async def after(bot: Bot) -> None:
        bot.clock.now = joined + timedelta(hours=25)  # down through both
        sched = Scheduler(url, timezone_=bot.app.tz)
        sched.start(bot.app)
        try:
            assert sched.job_ids() == JOBS, "the restart lost no job"
            for job_id in JOBS:  # both missed while down: due now, as at a real start
                sched._sched.modify_job(job_id, next_run_time=datetime.now(timezone.utc))
            for _ in range(300):
                await asyncio.sleep(0.01)
                if notes(bot) and not sched.job_ids():
                    break
            await bot.settle()
            assert len(notes(bot)) == 1
            assert sched.job_ids() == []
            await lifecycle_tick(bot.app, bot.clock())  # the safety net finds nothing left to do
            await bot.settle()
            assert len(notes(bot)) == 1
            assert lifecycle_of(bot.app).repo.deadline(ROOM, NEW, "nickname").state == "expired"
        finally:
            sched.shutdown()

    play(before, config=cfg, setup=room, db=tmp_path)
    bot = play(after, config=cfg, setup=room_with_new, db=tmp_path)
    assert len(notes(bot)) == 1


def test_without_a_scheduler_the_tick_finds_the_deadline_after_a_restart(tmp_path: Path) -> None:
    cfg = config(intro_deadline_h=24, intro_action="remind")

    async def before(bot: Bot) -> None:
        await bot.joins(NEW)

    async def after(bot: Bot) -> None:
        bot.clock.advance(hours=30)
        await lifecycle_tick(bot.app, bot.clock())
        await bot.settle()
        await lifecycle_tick(bot.app, bot.clock())
        await bot.settle()
        last = [s.text for s in bot.wechat.room_said(ROOM) if NEW in s.mentions]
        assert last == ["还没看到你的自我介绍，请尽快在群里介绍一下自己，谢谢。"]

    play(before, config=cfg, setup=room, db=tmp_path)
    play(after, config=cfg, setup=room_with_new, db=tmp_path)


def test_a_notice_sent_before_a_restart_is_not_sent_again_after_it(tmp_path: Path) -> None:
    from bot.config import NoticeConfig
    from bot.lifecycle.jobs import scheduled_notice
    from tests.lifecycle.helpers import local

    notice = NoticeConfig(id="morning", room=ROOM, cron="0 9 * * *", text="早上好，今天聊聊堆浸。")
    cfg = config(schedule={"notices": (notice,)})

    async def before(bot: Bot) -> None:
        bot.clock.now = local(21, 9)
        assert await scheduled_notice(bot.app, bot.clock(), "morning") == [ROOM]
        await bot.settle()

    async def after(bot: Bot) -> None:
        bot.clock.now = local(21, 9, 2)  # restarted at once: the stored job catches up on its slot
        assert await scheduled_notice(bot.app, bot.clock(), "morning") == []
        await bot.settle()
        assert notice.text not in [s.text for s in bot.wechat.room_said(ROOM)]

    first = play(before, config=cfg, setup=room, db=tmp_path)
    assert [s.text for s in first.wechat.room_said(ROOM)].count(notice.text) == 1
    play(after, config=cfg, setup=room, db=tmp_path)
