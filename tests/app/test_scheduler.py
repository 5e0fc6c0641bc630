"""The scheduler keeps jobs in the database: stable ids, nothing doubled or lost over a restart."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bot.scheduler import Scheduler, task


@dataclass
class Host:
    """What a task receives as ``app``: here only a clock and a notebook."""

    calls: list[tuple[str, str]] = field(default_factory=list)
    scheduler: object = None

    def clock(self) -> datetime:
        return datetime.now(timezone.utc)


@task("test_note")
async def note(app: Host, now: datetime, what: str = "") -> None:
    app.calls.append(("note", what))


def url(tmp: Path) -> str:
    return f"sqlite:///{tmp / 'jobs.db'}"


def test_recurring_jobs_keep_their_ids_across_a_restart(tmp_path: Path) -> None:
    async def main() -> list[str]:
        for _ in range(2):  # start, add the standard set, stop; then again
            s = Scheduler(url(tmp_path))
            s.start(Host())  # type: ignore[arg-type]
            s.every("tick", "test_note", 3600, what="tick")
            s.cron("weekly", "test_note", "0 9 * * mon", what="weekly")
            ids = s.job_ids()
            s.shutdown()
        return ids

    assert asyncio.run(main()) == ["tick", "weekly"]


def test_a_deadline_set_before_a_restart_fires_once_after_it(tmp_path: Path) -> None:
    async def main() -> Host:
        first = Scheduler(url(tmp_path))
        first.start(Host())  # type: ignore[arg-type]
        first.at(
            "deadline:room:wxid_li",
            "test_note",
            datetime.now(timezone.utc) + timedelta(seconds=0.3),
            what="deadline",
        )
        first.shutdown()  # the bot stops before the deadline
        await asyncio.sleep(0.5)
        host = Host()
        second = Scheduler(url(tmp_path))
        second.start(host)  # type: ignore[arg-type]
        for _ in range(100):
            if host.calls:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        assert second.job_ids() == [], "a one-off job is gone once it ran"
        second.shutdown()
        return host

    assert asyncio.run(main()).calls == [("note", "deadline")]


def test_an_unknown_task_name_is_refused_when_scheduled(tmp_path: Path) -> None:
    import pytest

    async def main() -> None:
        s = Scheduler("")
        s.start(Host())  # type: ignore[arg-type]
        try:
            with pytest.raises(KeyError, match="unknown scheduler task"):
                s.every("x", "no_such_task", 60)
        finally:
            s.shutdown()

    asyncio.run(main())


def test_each_bot_account_keeps_its_jobs_in_its_own_table() -> None:
    from bot.scheduler import job_table_for

    a = job_table_for("10.0.0.1:8788", "token-a")
    assert a == job_table_for("10.0.0.1:8788", "token-a"), "stable across restarts"
    assert a != job_table_for("10.0.0.1:8788", "token-b")
    assert job_table_for("", "") == "scheduler_jobs"


async def _restart_after_missing(tmp_path: Path, late: timedelta, late_by_s: int | None) -> Host:
    """Schedule a weekly job, stop the bot, let its run be missed by ``late``, start again."""
    first = Scheduler(url(tmp_path))
    first.start(Host())  # type: ignore[arg-type]
    first.cron("weekly", "test_note", "0 9 * * mon", late_by_s=late_by_s, what="weekly")
    first._sched.pause()
    first._sched.modify_job("weekly", next_run_time=datetime.now(timezone.utc) - late)
    first.shutdown()
    host = Host()
    second = Scheduler(url(tmp_path))
    second.start(host)  # type: ignore[arg-type]
    second.cron("weekly", "test_note", "0 9 * * mon", late_by_s=late_by_s, what="weekly")  # as at every start
    for _ in range(40):
        if host.calls:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    nxt = second.next_run("weekly")
    assert nxt is not None and nxt > datetime.now(timezone.utc), "then on schedule again"
    second.shutdown()
    return host


def test_a_cron_run_missed_while_the_bot_was_down_happens_once_at_the_next_start(tmp_path: Path) -> None:
    host = asyncio.run(_restart_after_missing(tmp_path, timedelta(days=15), late_by_s=None))
    assert host.calls == [("note", "weekly")], "two missed weeks, one run"


def test_a_run_missed_by_more_than_it_may_be_late_is_skipped(tmp_path: Path) -> None:
    assert asyncio.run(_restart_after_missing(tmp_path, timedelta(hours=3), late_by_s=3600)).calls == []
    assert asyncio.run(_restart_after_missing(tmp_path, timedelta(minutes=20), late_by_s=3600)).calls == [
        ("note", "weekly")
    ]


def test_a_changed_cron_expression_replaces_the_stored_job(tmp_path: Path) -> None:
    async def main() -> list[int]:
        hours = []
        for expression in ("0 9 * * mon", "0 18 * * mon"):
            s = Scheduler(url(tmp_path))
            s.start(Host())  # type: ignore[arg-type]
            s.cron("weekly", "test_note", expression, what="weekly")
            nxt = s.next_run("weekly")
            assert nxt is not None
            hours.append(nxt.astimezone(s.tz).hour)
            s.shutdown()
        return hours

    assert asyncio.run(main()) == [9, 18]
