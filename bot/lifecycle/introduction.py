"""The bot's self-introduction in rooms the config selects, posted once per room.

``#启用`` posts the introduction (what the bot does, the rules, how to appeal)
when an admin switches a room on (:meth:`bot.app.App.enable_room`). A room
moderated because ``bot.rooms`` selects it was never switched on by anyone, so
its members would not learn that the bot moderates them or how to appeal.
This module posts the same introduction in such a room the first time the bot
sees it moderated: at login (after the room lists are read), on the first
message or join in it, or at the next :data:`CHECK_S` check (a room the bot
joined later, a room renamed into a ``name_contains`` pattern).

Each introduction is claimed first in ``sent_notices`` (notice id
:data:`NOTICE_ID`, one row per room), so a restart or a second process never
posts it again; ``#启用`` claims it too. It goes through the outbox like
everything else and waits out quiet hours (:meth:`Lifecycle.say_room`).
``bot.introduce_in_rooms: false`` turns it off.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from bot.app.plugins import plugin_state
from bot.errors import StoreUnavailable
from bot.scheduler import task

if TYPE_CHECKING:
    from bot.app import App
    from bot.events import LoggedIn, MemberJoined, Message, Sender
    from bot.moderation import Decision
    from bot.scheduler import Scheduler

log = logging.getLogger(__name__)

NOTICE_ID = "introduction"
SLOT = datetime(2000, 1, 1, tzinfo=timezone.utc)
"""The one slot of the introduction in ``sent_notices``: once per room, ever."""
CHECK_S = 60
JOB_ID = "room-introductions"


class Introductions:
    """Which rooms this process already knows to be introduced (a store read per room, once)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.done: set[str] = set()

    def wanted(self, room_id: str) -> bool:
        """Moderated by the config alone: not switched on (#启用 introduces) nor off (#停用)."""
        rooms = self.app.rooms
        return (
            self.app.config.bot.introduce_in_rooms
            and room_id not in self.done
            and room_id not in rooms.switched
            and room_id in rooms.info
            and rooms.moderated(room_id)
        )

    def introduce(self, room_id: str, now: datetime) -> bool:
        """Post the introduction in ``room_id`` unless it went out before; True when posted
        (or held for after quiet hours) now. A store that is down leaves it for a later try."""
        if not self.wanted(room_id):
            return False
        from bot.lifecycle import lifecycle_of

        lc = lifecycle_of(self.app)
        try:
            claimed = lc.repo.claim_notice(NOTICE_ID, room_id, SLOT, now)
        except StoreUnavailable as exc:
            log.warning("room %s: introduction not posted yet (%s)", room_id, exc)
            return False
        self.done.add(room_id)
        if not claimed:
            return False
        log.info(
            "room %s (%s): selected by the config; introducing the bot",
            room_id,
            self.app.rooms.topic(room_id),
        )
        lc.say_room(room_id, self.app.introduction(), now=now)
        return True

    def introduce_all(self, now: datetime) -> list[str]:
        """Every room that wants its introduction; returns those posted to now."""
        return [rid for rid in list(self.app.rooms.info) if self.wanted(rid) and self.introduce(rid, now)]

    def enabled(self, room_id: str, now: datetime) -> None:
        """``#启用`` posted the introduction itself: record it, so it is never posted again."""
        from bot.lifecycle import lifecycle_of

        try:
            lifecycle_of(self.app).repo.claim_notice(NOTICE_ID, room_id, SLOT, now)
        except StoreUnavailable as exc:
            log.info("room %s: introduction by #启用 not recorded (%s)", room_id, exc)
        self.done.add(room_id)


def introductions_of(app: App) -> Introductions:
    return plugin_state(app, "introductions", lambda: Introductions(app))


@task("room_introductions")
async def room_introductions(app: App, now: datetime) -> list[str]:
    """Introduce the bot in configured rooms it has not yet introduced itself in."""
    return introductions_of(app).introduce_all(now)


def schedule(app: App, scheduler: Scheduler) -> None:
    if app.config.bot.introduce_in_rooms:
        scheduler.every(JOB_ID, "room_introductions", CHECK_S)
    else:
        scheduler.cancel(JOB_ID)


# --- hooks (installed by bot.lifecycle.install) -------------------------------------------


async def on_login(app: App, event: LoggedIn) -> None:
    introductions_of(app).introduce_all(event.at)
    if app.scheduler is not None:
        schedule(app, app.scheduler)


async def on_message(app: App, msg: Message, _sender: Sender, _decision: Decision) -> None:
    introductions_of(app).introduce(msg.room_id, msg.at)


async def on_join(app: App, event: MemberJoined) -> None:
    introductions_of(app).introduce(event.room_id, event.at)


async def on_room_enabled(app: App, room_id: str) -> None:
    introductions_of(app).enabled(room_id, app.clock())


def install(app: App) -> None:
    introductions_of(app)
    app.hooks.login.append(on_login)
    app.hooks.message.append(on_message)
    app.hooks.join.append(on_join)
    app.hooks.room_enabled.append(on_room_enabled)
