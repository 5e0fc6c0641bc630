"""APScheduler wiring, and nothing else: the work itself lives in :mod:`bot.jobs`.

Jobs are kept in the bot's own database (APScheduler's SQLAlchemy job store,
table ``scheduler_jobs``), under stable ids and with ``replace_existing``, so a
restart neither loses a deadline nor doubles a recurring job. A stored job
names a *task* by string (``"expire_mutes"``), never a bound method: the task
registry maps names to plain ``async def task(app, now, **kwargs)`` functions,
and the running :class:`~bot.app.App` is handed in when the job fires.

Register a task::

    from bot.scheduler import task

    @task("daily_report")
    async def daily_report(app, now, room_id: str = "") -> None: ...

and schedule it (in a ``login`` hook, say)::

    app.scheduler.cron("daily-report", "daily_report", "0 21 * * *")
    app.scheduler.at(f"intro-deadline:{room}:{contact}", "intro_deadline", when, room_id=room)
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone, tzinfo
from typing import TYPE_CHECKING, Any

from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

Task = Callable[..., Awaitable[Any]]
TASKS: dict[str, Task] = {}
"""Task name -> ``async def task(app, now, **kwargs)``."""

JOB_TABLE = "scheduler_jobs"


def job_table_for(puppet_endpoint: str, puppet_token: str) -> str:
    """One job table per bot account: several bots may share one PostgreSQL database, and a
    bot must neither run nor replace another's jobs. Stable across restarts of the same bot."""
    if not puppet_endpoint:
        return JOB_TABLE
    digest = hashlib.sha256(f"{puppet_endpoint}\n{puppet_token}".encode()).hexdigest()[:10]
    return f"{JOB_TABLE}_{digest}"


_running: list[App] = []
"""The app whose jobs fire in this process (one bot per process)."""


def task(name: str) -> Callable[[Task], Task]:
    def register(fn: Task) -> Task:
        TASKS[name] = fn
        return fn

    return register


async def run_task(task_name: str, /, **kwargs: Any) -> None:
    """What every stored job calls: look the task and the running app up, pass ``now``."""
    name = task_name
    app = _running[-1] if _running else None
    fn = TASKS.get(name)
    if app is None or fn is None:
        log.warning(
            "scheduled task %r skipped: %s", name, "no running app" if app is None else "unknown task"
        )
        return
    try:
        await fn(app, app.clock(), **kwargs)
    except Exception:
        log.exception("scheduled task %r failed", name)


class Scheduler:
    """An :class:`AsyncIOScheduler` with jobs in ``url`` (or in memory when ``url`` is empty).

    ``every``/``cron``/``at`` take the job id and the task name positionally; every keyword
    argument after them goes to the task."""

    def __init__(self, url: str = "", *, timezone_: tzinfo | None = None, table: str = JOB_TABLE) -> None:
        if url:
            from bot.store.db import make_engine

            store: Any = SQLAlchemyJobStore(engine=make_engine(url), tablename=table)
        else:
            store = MemoryJobStore()
        self.tz = timezone_ or timezone.utc
        self._sched = AsyncIOScheduler(
            jobstores={"default": store},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=self.tz,
        )

    def start(self, app: App) -> None:
        self._app = app
        _running.append(app)
        app.scheduler = self
        self._sched.start()

    def shutdown(self) -> None:
        if self._sched.running:
            self._sched.shutdown(wait=False)
        app = getattr(self, "_app", None)
        if app is not None and app in _running:
            _running.remove(app)

    # --- adding jobs: stable ids, replace_existing -----------------------------

    def every(self, job_id: str, name: str, seconds: float, /, **kwargs: Any) -> None:
        self._add(job_id, name, kwargs, "interval", seconds=max(1.0, seconds))

    def cron(
        self, job_id: str, name: str, expression: str, /, *, late_by_s: int | None = None, **kwargs: Any
    ) -> None:
        """``expression``: ``minute hour day month weekday`` in the scheduler's time zone.

        A stored job with the same expression is kept rather than replaced, so a run missed
        while the bot was down happens once at the next start (``coalesce``), at most
        ``late_by_s`` seconds late (None: however late); a new expression replaces it."""
        self._recurring(
            job_id, name, kwargs, CronTrigger.from_crontab(expression, timezone=self.tz), late_by_s
        )

    def daily(self, job_id: str, name: str, hour: int, minute: int, /, **kwargs: Any) -> None:
        """Every day at ``hour:minute`` in the scheduler's time zone; kept over a restart as
        :meth:`cron` keeps its jobs."""
        self._recurring(job_id, name, kwargs, CronTrigger(hour=hour, minute=minute, timezone=self.tz), None)

    def _recurring(
        self, job_id: str, name: str, kwargs: dict[str, Any], trigger: CronTrigger, late_by_s: int | None
    ) -> None:
        job = self._sched.get_job(job_id)
        if (
            job is not None
            and isinstance(job.trigger, CronTrigger)
            and str(job.trigger) == str(trigger)
            and str(job.trigger.timezone) == str(trigger.timezone)
            and tuple(job.args) == (name,)
            and dict(job.kwargs) == kwargs
            and job.misfire_grace_time == late_by_s
        ):
            return
        self._add(job_id, name, kwargs, trigger, misfire_grace_time=late_by_s)

    def at(self, job_id: str, name: str, when: datetime, /, **kwargs: Any) -> None:
        """Once at ``when``; a deadline missed while the bot was down fires at the next start."""
        self._add(job_id, name, kwargs, "date", run_date=when)

    def cancel(self, job_id: str) -> bool:
        try:
            self._sched.remove_job(job_id)
        except JobLookupError:
            return False
        return True

    def job_ids(self) -> list[str]:
        return sorted(j.id for j in self._sched.get_jobs())

    def next_run(self, job_id: str) -> datetime | None:
        job = self._sched.get_job(job_id)
        return getattr(job, "next_run_time", None) if job is not None else None

    def _add(self, job_id: str, name: str, kwargs: dict[str, Any], trigger: Any, **trigger_args: Any) -> None:
        if name not in TASKS:
            raise KeyError(f"unknown scheduler task {name!r} (known: {', '.join(sorted(TASKS))})")
        self._sched.add_job(
            run_task,
            trigger,
            args=[name],
            kwargs=kwargs,
            id=job_id,
            name=name,
            replace_existing=True,
            **trigger_args,
        )
