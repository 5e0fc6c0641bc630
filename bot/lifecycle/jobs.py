"""The lifecycle's timed work, as plain functions of the app and an explicit ``now``.

Registered as scheduler tasks (:func:`bot.scheduler.task`) and put on the
scheduler at login by :func:`schedule_lifecycle_jobs` under stable ids:

=====================  ===========================================  =======================
job id                 task                                         when
=====================  ===========================================  =======================
``lifecycle-tick``     :func:`lifecycle_tick` (held messages out,    every minute
                       due deadlines stepped)
``activity-report``    :func:`activity_report`                      ``daily_report_at`` daily,
                                                                    or Mondays (weekly)
``silence-report``     :func:`silence_report`                       ``silence_report_cron``
``notice:<id>``        :func:`scheduled_notice`                     the notice's cron
``deadline:…``         :func:`lifecycle_deadline`                   each member's deadline
=====================  ===========================================  =======================

Whatever goes out on a schedule is claimed first in ``sent_notices`` under
(job, room, the cron slot it belongs to), so a restart, a catch-up run after
downtime or a second process never repeats it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from apscheduler.triggers.cron import CronTrigger

from bot.actions import Action, ActionKind
from bot.app.executor import CaseContext
from bot.app.texts import fill
from bot.config import NoticeConfig
from bot.lifecycle import texts
from bot.lifecycle.core import Step
from bot.lifecycle.report import admin_text, collect, report_days
from bot.lifecycle.settings import parse_hhmm
from bot.scheduler import Scheduler, task
from bot.store import MemberView
from bot.verdicts import CATEGORY_ZH

if TYPE_CHECKING:
    from bot.app import App
    from bot.lifecycle.core import Lifecycle

log = logging.getLogger(__name__)

TICK_S = 60
NOTICE_STALE = timedelta(hours=6)
"""A notice that could not go out within this long after its time (the bot was down) is skipped."""
NAMES_SHOWN = 30
WEEKDAYS = "一二三四五六日"


def _lc(app: App) -> Lifecycle:
    from bot.lifecycle import lifecycle_of

    return lifecycle_of(app)


def last_fire(expression: str, tz: tzinfo, now: datetime) -> datetime | None:
    """The latest time at or before ``now`` that a cron expression fires (the slot ``now`` belongs to)."""
    trigger = CronTrigger.from_crontab(expression, timezone=tz)
    for back in (timedelta(hours=1), timedelta(days=1), timedelta(days=32), timedelta(days=367)):
        first = trigger.get_next_fire_time(None, now - back)
        if first is None or first > now:
            continue
        last = first
        while True:
            nxt = trigger.get_next_fire_time(last, last + timedelta(seconds=1))
            if nxt is None or nxt > now:
                return last
            last = nxt
    return None


def report_cron(app: App) -> str | None:
    period = app.config.schedule.report_period
    if period == "off":
        return None
    h, m = parse_hhmm(app.config.schedule.daily_report_at, "schedule.daily_report_at")
    return f"{m} {h} * * {'mon' if period == 'weekly' else '*'}"


# --- deadlines and held messages -------------------------------------------------------------


@task("lifecycle_tick")
async def lifecycle_tick(app: App, now: datetime) -> list[Step]:
    return await _lc(app).tick(now)


@task("lifecycle_deadline")
async def lifecycle_deadline(
    app: App, now: datetime, room_id: str = "", contact_id: str = "", kind: str = ""
) -> Step:
    return await _lc(app).check_deadline(room_id, contact_id, kind, now)


# --- scheduled notices ------------------------------------------------------------------------


def notice_rooms(app: App, notice: NoticeConfig) -> list[str]:
    """The moderated rooms a notice goes to: by id, by part of the name, or all ("")."""
    rooms = app.rooms.moderated_ids()
    if not notice.room:
        return rooms
    exact = [r for r in rooms if r == notice.room]
    return exact or [r for r in rooms if notice.room in app.rooms.topic(r)]


def notice_id(notice: NoticeConfig, index: int) -> str:
    return notice.id or f"notice-{index + 1}"


@task("scheduled_notice")
async def scheduled_notice(app: App, now: datetime, notice_id_: str = "") -> list[str]:
    """Post one configured notice in its rooms, once for its slot (fields: ``{topic}``, ``{date}``,
    ``{weekday}``, ``{rules}``). Returns the rooms posted to (or held for after quiet hours)."""
    found = [(notice_id(n, i), n) for i, n in enumerate(app.config.schedule.notices)]
    notice = next((n for nid, n in found if nid == notice_id_), None)
    if notice is None:
        log.info("notice %r is no longer configured", notice_id_)
        return []
    slot = last_fire(notice.cron, app.tz, now)
    if slot is None or now - slot > NOTICE_STALE:
        log.info("notice %r: its time has passed long ago (%s); skipped", notice_id_, slot)
        return []
    lc = _lc(app)
    posted = []
    for room_id in notice_rooms(app, notice):
        if lc.repo.claim_notice(f"notice:{notice_id_}", room_id, slot, now):
            local = slot.astimezone(app.tz)
            text = fill(
                notice.text,
                topic=app.rooms.topic(room_id),
                date=f"{local.month}月{local.day}日",
                weekday=WEEKDAYS[local.weekday()],
                rules=app.rules.summary(),
            )
            lc.say_room(room_id, text, now=now)
            posted.append(room_id)
    return posted


# --- activity reports -----------------------------------------------------------------------------


def rule_labels(app: App) -> dict[str, str]:
    out = {}
    for rule in getattr(app.rules.ruleset, "rules", ()) or ():
        desc = (getattr(rule, "description", "") or "").strip()
        label = desc if desc and len(desc) <= 12 else CATEGORY_ZH.get(rule.category, rule.category)
        out[rule.name] = label
    return out


@task("activity_report")
async def activity_report(app: App, now: datetime) -> dict[str, str]:
    """The daily (or weekly) activity report of each moderated room, privately to its admins.
    Returns room id -> text of the reports sent (or held) now."""
    period = app.config.schedule.report_period
    if period == "off":
        return {}
    first, last = report_days(now, app.tz, period)
    slot = datetime.combine(first, datetime.min.time(), tzinfo=app.tz)
    lc = _lc(app)
    labels = rule_labels(app)
    sent = {}
    for room_id in app.rooms.moderated_ids():
        if not lc.repo.claim_notice(f"report:{period}", room_id, slot, now):
            continue
        activity = collect(app.store, room_id, first, last, topic=app.rooms.topic(room_id))
        sent[room_id] = admin_text(activity, labels)
    lc.tell_admins_of_rooms(sent, now=now)
    return sent


# --- silence --------------------------------------------------------------------------------------


@dataclass
class Silence:
    room_id: str
    by_threshold: dict[int, list[MemberView]] = field(default_factory=dict)
    """Threshold in days -> the members silent at least that long (and less than the next)."""
    removed: list[str] = field(default_factory=list)
    nudged: list[str] = field(default_factory=list)


def silent_members(app: App, room_id: str, now: datetime) -> Silence:
    """Who has been quiet how long, counted from their last message (or their join)."""
    thresholds = sorted({d for d in app.config.schedule.silence_days if d > 0})
    out = Silence(room_id, {t: [] for t in thresholds})
    if not thresholds:
        return out
    for m in app.store.members(room_id):
        if app.rooms.is_bot(m.contact_id) or app.rooms.is_admin(room_id, m.contact_id) or m.exempt:
            continue
        since = m.last_spoke_at or m.joined_at
        if since is None:
            continue
        days = (now - since).days
        reached = [t for t in thresholds if days >= t]
        if reached:
            out.by_threshold[reached[-1]].append(m)
    for members in out.by_threshold.values():
        members.sort(key=lambda m: m.last_spoke_at or m.joined_at or now)
    return out


def silence_text(silence: Silence, topic: str, day: str) -> str:
    lines = [fill(texts.SILENCE_HEAD, topic=topic, date=day)]
    thresholds = sorted(silence.by_threshold)
    for i, t in enumerate(thresholds):
        members = silence.by_threshold[t]
        if not members:
            continue
        from_top = len(thresholds) - 1 - i  # the longest silence: suggest removal; the next: 待清理
        template = (
            texts.SILENCE_REMOVE
            if from_top == 0
            else texts.SILENCE_CLEAN
            if from_top == 1
            else texts.SILENCE_NUDGE
        )
        names = "、".join(m.display_name or m.contact_id for m in members[:NAMES_SHOWN])
        if len(members) > NAMES_SHOWN:
            names += f" 等 {len(members)} 人"
        lines.append(fill(template, days=t, n=len(members), names=names))
    if len(lines) == 1:
        lines.append(texts.SILENCE_NONE)
    return "\n".join(lines)


@task("silence_report")
async def silence_report(app: App, now: datetime) -> dict[str, Silence]:
    """Members silent for the configured days, per room, privately to the admins; members
    are removed only when ``lifecycle.silence_remove_days`` says so."""
    lc = _lc(app)
    slot = last_fire(app.config.schedule.silence_report_cron, app.tz, now) or now
    remove_days = app.config.lifecycle.silence_remove_days
    out = {}
    texts_by_room: dict[str, str] = {}
    for room_id in app.rooms.moderated_ids():
        if not lc.repo.claim_notice("silence-report", room_id, slot, now):
            continue
        silence = silent_members(app, room_id, now)
        for members in silence.by_threshold.values():
            for i, m in enumerate(members):
                if not m.display_name:
                    name = await lc._name(m.contact_id, room_id)
                    members[i] = replace(m, display_name=name) if name else m
        topic = app.rooms.topic(room_id)
        text = silence_text(silence, topic, f"{now.astimezone(app.tz):%m-%d}")
        nudge = app.config.lifecycle.silence_nudge
        thresholds = sorted(silence.by_threshold)
        if nudge and len(thresholds) > 1:  # the first bucket only: longer silences are the admins' call
            for m in silence.by_threshold[thresholds[0]]:
                note = fill(nudge, name=m.display_name or "你", topic=topic)
                lc.say_private(m.contact_id, note, now=now)
                silence.nudged.append(m.contact_id)
            if silence.nudged:
                text += "\n" + fill(texts.SILENCE_NUDGED, n=len(silence.nudged))
        if remove_days > 0:
            for members in silence.by_threshold.values():
                for m in members:
                    since = m.last_spoke_at or m.joined_at
                    if since is not None and (now - since).days >= remove_days:
                        silence.removed.append(m.contact_id)
                        reason = fill(texts.SILENCE_KICK, days=remove_days)
                        ctx = CaseContext(
                            room_id=room_id, contact_id=m.contact_id, at=now, name=m.display_name, topic=topic
                        )
                        app.spawn(
                            app.executor.execute(
                                ctx, [Action(ActionKind.KICK, room_id, m.contact_id, reason=reason)]
                            ),
                            name=f"silence-kick-{m.contact_id}",
                        )
            if silence.removed:
                text += "\n" + fill(texts.SILENCE_REMOVED, n=len(silence.removed), days=remove_days)
        texts_by_room[room_id] = text
        out[room_id] = silence
    lc.tell_admins_of_rooms(texts_by_room, now=now)
    return out


# --- putting it on the scheduler -------------------------------------------------------------------


NOTICE_LATE_S = 3600
"""A scheduled notice missed while the bot was down goes out at the next start if that is at
most an hour late; later than that it would announce what is past (reports are sent however
late)."""


def schedule_lifecycle_jobs(app: App, scheduler: Scheduler) -> list[str]:
    """Put the lifecycle's jobs on the scheduler (stable ids; notices no longer configured are
    taken off). Returns the ids scheduled."""
    ids = ["lifecycle-tick"]
    scheduler.every("lifecycle-tick", "lifecycle_tick", TICK_S)
    cron = report_cron(app)
    if cron:
        scheduler.cron("activity-report", "activity_report", cron)
        ids.append("activity-report")
    else:
        scheduler.cancel("activity-report")
    if app.config.schedule.silence_days and app.config.schedule.silence_report_cron:
        scheduler.cron("silence-report", "silence_report", app.config.schedule.silence_report_cron)
        ids.append("silence-report")
    else:
        scheduler.cancel("silence-report")
    wanted = set()
    for i, notice in enumerate(app.config.schedule.notices):
        nid = notice_id(notice, i)
        if not notice.cron or not notice.text:
            log.warning("notice %r has no cron or no text; skipped", nid)
            continue
        job_id = f"notice:{nid}"
        scheduler.cron(job_id, "scheduled_notice", notice.cron, late_by_s=NOTICE_LATE_S, notice_id_=nid)
        wanted.add(job_id)
        ids.append(job_id)
    for job_id in scheduler.job_ids():
        if job_id.startswith("notice:") and job_id not in wanted:
            scheduler.cancel(job_id)
    return ids
