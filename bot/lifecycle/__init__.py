"""Member lifecycle and schedules (issue 6): welcome, real-name nicknames,
self-introductions, the member cap, silent members, scheduled notices, quiet
hours, activity reports and featured messages (精华).

Plugged into every :class:`~bot.app.App` through :data:`bot.app.plugins.PLUGIN_MODULES`:
:func:`install` adds the join, leave, message and login hooks and the ``#精华`` /
``#搜`` commands; at login the jobs go on the scheduler (:mod:`bot.lifecycle.jobs`).

Modules: :mod:`~bot.lifecycle.core` (:class:`Lifecycle`: joins, deadlines, quiet
hours), :mod:`~bot.lifecycle.jobs` (timed work, plain functions of ``app`` and
``now``), :mod:`~bot.lifecycle.report` and :mod:`~bot.lifecycle.charts` (activity
reports, ``qunguard report``), :mod:`~bot.lifecycle.featured` (精华, ``#搜``,
``qunguard digest``), :mod:`~bot.lifecycle.settings` (per-room settings, quiet
hours), :mod:`~bot.lifecycle.texts` (every sentence). Store access:
:mod:`bot.store.lifecycle_repo`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.app.plugins import plugin_state
from bot.lifecycle.core import Lifecycle

if TYPE_CHECKING:
    from bot.app import App
    from bot.events import LoggedIn, MemberJoined, MemberLeft, Message, Sender
    from bot.moderation import Decision

log = logging.getLogger(__name__)

__all__ = ["Lifecycle", "install", "lifecycle_of"]


def lifecycle_of(app: App) -> Lifecycle:
    return plugin_state(app, "lifecycle", lambda: Lifecycle(app))


async def _on_join(app: App, event: MemberJoined) -> None:
    await lifecycle_of(app).on_join(event)


async def _on_leave(app: App, event: MemberLeft) -> None:
    await lifecycle_of(app).on_leave(event)


async def _on_message(app: App, msg: Message, sender: Sender, decision: Decision) -> None:
    await lifecycle_of(app).on_message(msg, sender, decision)


async def _on_login(app: App, event: LoggedIn) -> None:
    from bot.lifecycle.jobs import schedule_lifecycle_jobs

    lc = lifecycle_of(app)
    lc.load()
    if app.scheduler is not None:
        schedule_lifecycle_jobs(app, app.scheduler)
    for room_id in app.rooms.moderated_ids():
        await lc.check_cap(room_id, event.at)


async def _on_room_enabled(app: App, room_id: str) -> None:
    await lifecycle_of(app).check_cap(room_id, app.clock())


def install(app: App) -> None:
    from bot.lifecycle import featured, introduction, jobs  # noqa: F401  (commands and scheduler tasks register on import)
    from bot.lifecycle.settings import check

    check(
        app.config.lifecycle, app.config.schedule, app.tz, app.config.source
    )  # a broken pattern stops the start, named by key
    lifecycle_of(app)
    for word in (featured.FEATURE_WORDS[0], featured.UNFEATURE_WORDS[0], featured.SEARCH_WORDS[0]):
        command = featured.COMMANDS.find(word)  # the App copied the registry before this import
        if command is not None and app.commands.find(word) is None:
            app.commands.add(command)
    introduction.install(app)  # before the welcome: a new room hears who the bot is first
    app.hooks.join.append(_on_join)
    app.hooks.leave.append(_on_leave)
    app.hooks.message.append(_on_message)
    app.hooks.login.append(_on_login)
    app.hooks.room_enabled.append(_on_room_enabled)
