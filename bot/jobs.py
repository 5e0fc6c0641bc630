"""Timed work, as plain functions of the app and an explicit ``now``.

Tests call them directly on a fake clock; :mod:`bot.scheduler` calls them on
the real one (each is registered as a task under its own name).
:func:`schedule_standard_jobs` puts the bot's own recurring jobs on the
scheduler under stable ids.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from bot.app import texts
from bot.errors import NotAFriend
from bot.scheduler import Scheduler, task

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

MUTE_CHECK_S = 30
KICK_CHECK_S = 30
RULES_CHECK_S = 5


@task("expire_mutes")
async def expire_mutes(app: App, now: datetime) -> int:
    """End the mutes whose time is up (each once) and tell the member, privately where possible.

    Whether a member is muted is always read from the store by time, so a mute
    is over at its minute even before this runs, and after a restart too."""
    ended = app.store.end_mutes(now)
    for mute in ended:
        topic = app.rooms.topic(mute.room_id)
        try:
            await app.executor.say_private(mute.contact_id, texts.fill(texts.MUTE_ENDED, topic=topic))
        except NotAFriend:
            pass
        except Exception as exc:
            log.info("mute end notice to %s failed: %s", mute.contact_id, exc)
    if ended:
        log.info("%d mute(s) ended", len(ended))
    return len(ended)


@task("confirm_kicks")
async def confirm_kicks(app: App, now: datetime) -> list[str]:
    """Kicks whose room-leave event has not come by their deadline: check the live
    member list; if the member is still there, tell the admins. Returns who is still in."""
    still_in: list[str] = []
    for key, pending in list(app.pending_kicks.items()):
        if pending.deadline > now:
            continue
        del app.pending_kicks[key]
        try:
            info = await app.puppet.room_info(pending.room_id)
            present = pending.contact_id in info.member_ids
        except Exception as exc:
            log.warning("kick check for %s: room unreadable (%s)", pending.contact_id, exc)
            present = True
        if not present:
            log.info("kick of %s confirmed by the member list (no room-leave event came)", pending.contact_id)
            app.store.record_leave(pending.room_id, pending.contact_id, now)
            continue
        still_in.append(pending.contact_id)
        minutes = max(1, round(app.config.moderation.kick_confirm_timeout_s / 60))
        await app.executor.tell_admins(
            pending.room_id,
            texts.fill(
                texts.KICK_UNCONFIRMED,
                case=pending.case_no if pending.case_no is not None else "—",
                name=pending.name or pending.contact_id,
                minutes=minutes,
                topic=app.rooms.topic(pending.room_id),
            ),
        )
    return still_in


@task("reconcile")
async def reconcile(app: App, now: datetime) -> None:
    """Re-read the room list and the member lists: joins without an event are found here."""
    await app.scan_rooms(now)
    await app.reconcile_members(now)


@task("reload_rules")
async def reload_rules(app: App, now: datetime) -> None:
    await app.rules.reload_if_changed()


def schedule_standard_jobs(app: App, scheduler: Scheduler) -> None:
    scheduler.every("expire-mutes", "expire_mutes", MUTE_CHECK_S)
    scheduler.every("confirm-kicks", "confirm_kicks", KICK_CHECK_S)
    scheduler.every("reconcile", "reconcile", app.config.bot.room_scan_interval_s)
    scheduler.every("reload-rules", "reload_rules", RULES_CHECK_S)
