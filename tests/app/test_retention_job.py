"""The bot purges old personal data by itself once a day, as ``qunguard purge`` does.

The job is :func:`bot.jobs.retention_purge`, put on the scheduler by
:func:`bot.jobs.schedule_retention_purge` as ``retention-purge`` at
``retention.purge_at`` (local time, ``schedule.timezone``).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import jobs
from bot.actions import ActionKind
from bot.config import Config, RetentionConfig
from bot.scheduler import Scheduler
from bot.store import PurgeResult, Store
from tests.app.harness import Bot, make_config, play
from tests.store.helpers import ROOM, ad, msg

CST = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 20, 4, 30, tzinfo=CST)
"""The fake clock starts at the default purge time."""


def configured(**retention: object) -> Config:
    return replace(make_config(), retention=RetentionConfig(**retention))  # type: ignore[arg-type]


def old_and_new_records(store: Store) -> None:
    """Records 200 days old (past the default 180) of every kind, and one from 25 hours ago."""
    long_ago = START - timedelta(days=200)

    def case(mid: str, sender: str, *, settle: bool = True, at: datetime = long_ago):
        m = msg(mid, sender=sender, at=at)
        store.note_message(m)
        recorded = store.record_violations(m, [ad(m)])
        if settle:
            store.record_actions(recorded, m, [])
        return recorded

    case("settled", "wxid_a")
    case("still-open", "wxid_b", settle=False)
    appealed = case("appealed", "wxid_c")
    store.add_appeal(appealed.case_no, "wxid_c", "我发的是单位招聘，不是广告", at=START - timedelta(days=1))
    reviewed = case("in-review", "wxid_d")
    store.request_review(reviewed.case_no, ActionKind.KICK, START + timedelta(minutes=30), at=START)
    barred = case("barred", "wxid_e")
    store.blacklist_add("wxid_e", room_id=ROOM, reason="屡次发广告", case_no=barred.case_no, at=long_ago)
    case("recent", "wxid_f", at=START - timedelta(days=1, hours=1))
    store.flush()


def excerpts(store: Store) -> dict[str, bool]:
    """message id -> whether its excerpt is still there."""
    return {v.message_id: v.excerpt is not None for v in store.violations()}


def purge_audits(store: Store) -> list[dict]:
    return [a.detail for a in store.audit_log() if a.command == "purge"]


def test_the_daily_purge_empties_what_is_past_retention_and_keeps_what_is_undecided(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        result = await jobs.retention_purge(bot.app, bot.clock())
        assert result == PurgeResult(excerpts=2, names=2, messages=0), (
            "names: the old name history, but for the three members whose cases are undecided"
        )
        assert excerpts(bot.store) == {
            "settled": False,
            "barred": False,
            "still-open": True,
            "appealed": True,
            "in-review": True,
            "recent": True,
        }
        assert [e.contact_id for e in bot.store.blacklist(ROOM)] == ["wxid_e"], "the blacklist stays"
        assert len(bot.store.cases()) == 6, "cases stay"
        assert purge_audits(bot.store) == [{"older_than_days": 180, "excerpts": 2, "names": 2, "messages": 0}]

    play(story, configured(), db=tmp_path, before=old_and_new_records, start=START)


def test_a_second_run_removes_nothing_more(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        first = await jobs.retention_purge(bot.app, bot.clock())
        kept = excerpts(bot.store)
        again = await jobs.retention_purge(bot.app, bot.clock.advance(days=1))
        assert first is not None and first.excerpts == 2
        assert again == PurgeResult(0, 0, 0)
        assert excerpts(bot.store) == kept

    play(story, configured(), db=tmp_path, before=old_and_new_records, start=START)


def test_retention_days_come_from_the_config(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        result = await jobs.retention_purge(bot.app, bot.clock())
        assert result is not None and result.excerpts == 3, "yesterday's settled case goes too"
        assert excerpts(bot.store)["recent"] is False

    play(story, configured(excerpt_days=1), db=tmp_path, before=old_and_new_records, start=START)


def test_switched_off_the_job_is_not_scheduled_and_purges_nothing(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        sched = Scheduler("", timezone_=CST)
        sched.start(bot.app)
        try:
            on = replace(bot.app.config, retention=RetentionConfig())
            bot.app.config = on
            assert jobs.schedule_retention_purge(bot.app, sched) is True
            bot.app.config = replace(on, retention=RetentionConfig(auto_purge=False))
            assert jobs.schedule_retention_purge(bot.app, sched) is False
            assert jobs.PURGE_JOB not in sched.job_ids(), "switching it off takes the stored job off"
            assert await jobs.retention_purge(bot.app, bot.clock()) is None
        finally:
            sched.shutdown()
        assert all(excerpts(bot.store).values())
        assert purge_audits(bot.store) == []

    play(story, configured(auto_purge=False), db=tmp_path, before=old_and_new_records, start=START)


@pytest.mark.parametrize(
    ("purge_at", "timezone", "hour", "minute"),
    [
        pytest.param("04:30", "Asia/Shanghai", 4, 30, id="default-quiet-hour"),
        pytest.param("23:05", "Asia/Shanghai", 23, 5, id="late-evening"),
        pytest.param("3:00", "Europe/Berlin", 3, 0, id="another-time-zone"),
    ],
)
def test_the_job_fires_daily_at_the_configured_local_time(
    purge_at: str, timezone: str, hour: int, minute: int
) -> None:
    async def main() -> None:
        tz = ZoneInfo(timezone)
        sched = Scheduler("", timezone_=tz)
        app = _Host(configured(purge_at=purge_at))
        sched.start(app)  # type: ignore[arg-type]
        try:
            assert jobs.schedule_retention_purge(app, sched)  # type: ignore[arg-type]
            nxt = sched.next_run(jobs.PURGE_JOB)
            assert nxt is not None
            local = nxt.astimezone(tz)
            assert (local.hour, local.minute) == (hour, minute)
            assert timedelta(0) < nxt - datetime.now(tz) <= timedelta(days=1, hours=1)
        finally:
            sched.shutdown()

    asyncio.run(main())


def test_the_standard_jobs_include_the_purge() -> None:
    async def main() -> list[str]:
        sched = Scheduler("", timezone_=CST)
        app = _Host(configured())
        sched.start(app)  # type: ignore[arg-type]
        try:
            jobs.schedule_standard_jobs(app, sched)  # type: ignore[arg-type]
            return sched.job_ids()
        finally:
            sched.shutdown()

    assert jobs.PURGE_JOB in asyncio.run(main())


def test_a_restart_keeps_one_job_and_a_missed_day_is_purged_once(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        url = f"sqlite:///{tmp_path / 'qunguard.db'}"  # the bot's own database, as in `qunguard run`

        async def restart() -> Scheduler:
            sched = Scheduler(url, timezone_=CST)
            sched.start(bot.app)
            jobs.schedule_standard_jobs(bot.app, sched)
            await asyncio.sleep(0.2)
            return sched

        first = await restart()
        planned = first.next_run(jobs.PURGE_JOB)
        first.shutdown()
        second = await restart()
        assert second.job_ids().count(jobs.PURGE_JOB) == 1
        assert second.next_run(jobs.PURGE_JOB) == planned, "an unchanged job keeps its next run"
        assert purge_audits(bot.store) == [], "nothing was due"
        # The bot is down when its purge is due (two days pass): the next start runs it once.
        second._sched.pause()
        second._sched.modify_job(jobs.PURGE_JOB, next_run_time=datetime.now(CST) - timedelta(days=2))
        second.shutdown()
        third = await restart()
        for _ in range(100):
            if purge_audits(bot.store):
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)
        try:
            assert len(purge_audits(bot.store)) == 1, "missed days are purged once, not once per day"
            assert excerpts(bot.store)["settled"] is False
            assert third.job_ids().count(jobs.PURGE_JOB) == 1
            nxt = third.next_run(jobs.PURGE_JOB)
            assert nxt is not None and nxt > datetime.now(CST)
            assert (nxt.astimezone(CST).hour, nxt.astimezone(CST).minute) == (4, 30)
        finally:
            third.shutdown()

    play(story, configured(), db=tmp_path, before=old_and_new_records, start=START)


def test_a_new_purge_time_replaces_the_stored_job(tmp_path: Path) -> None:
    async def main() -> list[tuple[int, int]]:
        url = f"sqlite:///{tmp_path / 'jobs.db'}"
        times = []
        for purge_at in ("04:30", "02:15"):
            sched = Scheduler(url, timezone_=CST)
            app = _Host(configured(purge_at=purge_at))
            sched.start(app)  # type: ignore[arg-type]
            jobs.schedule_retention_purge(app, sched)  # type: ignore[arg-type]
            nxt = sched.next_run(jobs.PURGE_JOB)
            assert nxt is not None and sched.job_ids() == [jobs.PURGE_JOB]
            times.append((nxt.astimezone(CST).hour, nxt.astimezone(CST).minute))
            sched.shutdown()
        return times

    assert asyncio.run(main()) == [(4, 30), (2, 15)]


class _Host:
    """What scheduling needs of the app: its config (the jobs do not run here)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.scheduler: object = None

    def clock(self) -> datetime:
        return datetime.now(CST)
