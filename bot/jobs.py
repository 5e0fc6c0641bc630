"""Timed work, as plain functions of the app and an explicit ``now``.

Tests call them directly on a fake clock; :mod:`bot.scheduler` calls them on
the real one (each is registered as a task under its own name).
:func:`schedule_standard_jobs` puts the bot's own recurring jobs on the
scheduler under stable ids.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.app import texts
from bot.errors import NotAFriend, StoreUnavailable
from bot.events import MemberLeft
from bot.scheduler import Scheduler, task
from bot.store import PurgeResult

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

MUTE_CHECK_S = 30
RULES_CHECK_S = 5
PURGE_JOB = "retention-purge"


@task("expire_mutes")
async def expire_mutes(app: App, now: datetime) -> int:
    """Tell members whose mute has ended (each once), privately where possible.

    Whether someone is muted is always decided by time from the store's
    record, so a mute is over at its minute whether or not this has run; the
    ends to announce are re-read from the store at start, so a restart
    forgets none. Returns how many ended."""
    ended = 0
    for key, until in sorted(app.mute_ends.items(), key=lambda kv: kv[1]):
        if until > now:
            continue
        del app.mute_ends[key]
        room_id, contact_id = key
        if app.store.muted_until(room_id, contact_id, now) is not None:
            continue  # muted again meanwhile: that mute's end is announced later
        ended += 1
        try:
            await app.executor.say_private(
                contact_id, texts.fill(texts.MUTE_ENDED, topic=app.rooms.topic(room_id))
            )
        except NotAFriend:
            pass
        except Exception as exc:
            log.info("mute end notice to %s failed: %s", contact_id, exc)
    if ended:
        log.info("%d mute(s) ended", ended)
    return ended


@task("confirm_kicks")
async def confirm_kicks(app: App, now: datetime) -> list[str]:
    """Every kick whose room-leave event has not come by its deadline: see :func:`confirm_kick`.
    Returns who is still in."""
    still_in: list[str] = []
    for pending in [p for p in app.pending_kicks.values() if p.deadline <= now]:
        if not await confirm_kick(
            app, now, pending.room_id, pending.contact_id, pending.case_no, pending.name
        ):
            still_in.append(pending.contact_id)
    return still_in


@task("confirm_kick")
async def confirm_kick(
    app: App, now: datetime, room_id: str, contact_id: str, case_no: int | None = None, name: str = ""
) -> bool:
    """One kick's deadline has come without its room-leave event: check the live member list;
    if the member is still there, tell the admins. True when the member is gone.

    Scheduled as a one-off job per kick (``confirm-kick:<room>:<contact>``, kept in the
    database), so a restart in between still checks it."""
    app.pending_kicks.pop((room_id, contact_id), None)
    try:
        info = await app.puppet.room_info(room_id)
        present = contact_id in info.member_ids
    except Exception as exc:
        log.warning("kick check for %s: room unreadable (%s)", contact_id, exc)
        present = True
    if not present:
        log.info("kick of %s confirmed by the member list (no room-leave event came)", contact_id)
        await app.on_leave(MemberLeft(room_id, contact_id, now))
        return True
    minutes = max(1, round(app.config.moderation.kick_confirm_timeout_s / 60))
    await app.executor.tell_admins(
        room_id,
        texts.fill(
            texts.KICK_UNCONFIRMED,
            case=case_no if case_no is not None and case_no > 0 else "—",
            name=name or contact_id,
            minutes=minutes,
            topic=app.rooms.topic(room_id),
        ),
    )
    return False


@task("reconcile")
async def reconcile(app: App, now: datetime) -> None:
    """Re-read the room list and the member lists: joins without an event are found here."""
    await app.scan_rooms(now)
    await app.reconcile_members(now)


@task("reload_rules")
async def reload_rules(app: App, now: datetime) -> None:
    await app.rules.reload_if_changed()


@task("retention_purge")
async def retention_purge(app: App, now: datetime) -> PurgeResult | None:
    """Retention as ``qunguard purge`` runs it (the same :meth:`Store.purge
    <bot.store.reports.ReportsMixin.purge>`, by ``retention.excerpt_days``): what is
    still undecided and the blacklist stay. Leaves one ``purge`` audit entry and one
    log line saying what went. Running it again removes nothing more. None when
    ``retention.auto_purge`` is off or the database is down (the next day tries again)."""
    retention = app.config.retention
    if not retention.auto_purge:
        log.info("retention purge skipped: retention.auto_purge is off")
        return None
    older_than = timedelta(days=retention.excerpt_days)
    try:
        result = app.store.purge(older_than, now, actor=app.rooms.bot_id or "bot")
    except StoreUnavailable as exc:
        log.warning("retention purge not run: %s", exc)
        return None
    log.info(
        "retention purge (older than %d days): %d message excerpt(s), %d old display name(s), "
        "%d sent message text(s) emptied; open cases, appeals, reviews and the blacklist kept",
        retention.excerpt_days,
        result.excerpts,
        result.names,
        result.messages,
    )
    return result


def schedule_retention_purge(app: App, scheduler: Scheduler) -> bool:
    """Put ``retention-purge`` on the scheduler daily at ``retention.purge_at`` (or take it off
    when ``retention.auto_purge`` is false). True when it is scheduled."""
    retention = app.config.retention
    if not retention.auto_purge:
        scheduler.cancel(PURGE_JOB)
        return False
    hour, minute = (int(part) for part in retention.purge_at.strip().split(":"))
    scheduler.daily(PURGE_JOB, "retention_purge", hour, minute)
    return True


def schedule_standard_jobs(app: App, scheduler: Scheduler) -> None:
    scheduler.every("expire-mutes", "expire_mutes", MUTE_CHECK_S)
    scheduler.every("reconcile", "reconcile", app.config.bot.room_scan_interval_s)
    scheduler.every("reload-rules", "reload_rules", RULES_CHECK_S)
    schedule_retention_purge(app, scheduler)
