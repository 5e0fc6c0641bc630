"""The live bot: the one place that wires puppet, rules, ladder, store, outbox and scheduler.

One room message, as a story (:meth:`App.on_message`)::

    event from the puppet
      -> seen before in this process? drop (the store catches redeliveries across restarts)
      -> a room the bot did not know? read it and remember it (rooms are noticed without events too)
      -> a '#' command? run it (an admin's command is not moderated; anyone else's still is)
      -> room not moderated? stop: rooms the bot is merely in are left alone
      -> unknown speaker? treat as a new member (blacklist check, join hooks); not one who left
         (or was removed) after saying it: a late delivery is judged and recorded, but it is no
         join and nothing is decided or sent (no second removal, no warning, no admins' notice)
      -> Sender (admin by contact id, helper bot, exempt, joined_at, inviter) -> Moderator.handle
         (engine -> record violations -> history -> ladder -> record actions)
      -> Executor.execute in the background: dry run, human review, then the chat, through the
         outbox; every outcome recorded on the case; failures told to the admins
      -> message hooks (lifecycle: intro deadlines, last-spoke, ...)

Modules: :mod:`bot.app.core` (:class:`App`, :class:`Hooks`), :mod:`bot.app.executor`
(:class:`Executor`, :class:`CaseContext`, :class:`ReviewGate`), :mod:`bot.app.commands`
(:data:`COMMANDS`, :class:`CommandContext`), :mod:`bot.app.rooms` (:class:`RoomBook`: who is
who, which rooms are moderated), :mod:`bot.app.texts` (every sentence the bot says),
:mod:`bot.app.storeport` (the store as the app uses it).
Timed work: :mod:`bot.jobs` (plain functions with an explicit ``now``) and
:mod:`bot.scheduler` (APScheduler wiring). :mod:`bot.rules_holder` keeps the last good rules.

Extension points (issues 5 and 6 plug in here, without editing the core)
-------------------------------------------------------------------------
Commands (admin commands, ``#群规``, appeals, ``同意 17``)
    Register on the module-level registry at import time::

        from bot.app.commands import COMMANDS, CommandContext, Where

        @COMMANDS.command("警告", "warn", where=Where.BOTH, admin_only=True, usage="#警告 @成员 理由")
        async def warn(ctx: CommandContext) -> None: ...

    or on one app: ``app.commands.command(...)``. ``ctx.is_admin`` is decided by contact id;
    ``ctx.mention_ids`` are the @-mentioned contact ids; ``ctx.reply`` / ``ctx.reply_private``.
    ``app.commands.unknown = handler`` answers unknown ``#words`` (in moderated rooms).
    Handlers run in the *command lane* (``app.in_command_lane``): off the event path, one after
    another in the order typed, so a reply waiting in the outbox never holds up moderation.
    Name your module in :data:`bot.app.plugins.PLUGIN_MODULES`: every App imports it and calls its
    ``install(app)`` (if any) to add hooks, a review gate or jobs.
Private messages that are no command (appeals in free text)
    ``app.hooks.private.append(async fn(app, PrivateMessage) -> bool)``.
Lifecycle (welcome, nickname and intro deadlines, silence, activity)
    ``app.hooks.join`` ``(app, MemberJoined)``, ``app.hooks.leave`` ``(app, MemberLeft)``,
    ``app.hooks.message`` ``(app, Message, Sender, Decision)`` for every message of a moderated
    room (not one delivered after its sender left), ``app.hooks.room_enabled`` / ``room_disabled`` ``(app, room_id)``,
    ``app.hooks.login`` ``(app, LoggedIn)``. These run on the event path, in order: do not await
    a send there (it waits for the rate limit); hand it to ``app.spawn(...)`` instead.
Human review before drastic actions
    ``app.executor.review_gate = gate`` with ``async gate.hold(ctx, action, position) -> bool``
    for the kinds ``ladder.review`` lists in rules.yaml; on approval call
    ``await app.executor.perform(ctx, action, position)`` (records the outcome on the case).
Dry run
    ``config.moderation.dry_run`` / ``dry_run_rooms``; at run time
    ``app.executor.set_dry_run(room_id or None, on)``. Decided in the executor: the admins are
    told "正式运行时将对 … 移出群聊", the case records ``dry_run``.
Acting by hand (admin commands)
    ``await app.executor.execute(CaseContext(...), [Action(...)])`` runs any action through the
    same path (dry run, outbox, outcomes, failures told); ``app.executor.tell_admins(room_id, text)``;
    ``app.port`` (the outbox) for plain sends; ``app.rooms`` for roles; ``app.store``.
    After changing a member in the store (exemption) call ``app.forget_member(room, contact)``
    (member facts are cached a minute); after a mute by hand ``app.note_mute(room, contact, until)``
    so its end is announced (``app.mute_ends``).
Hot reload
    ``await app.rules.reload()`` keeps the last good rules on error; the app tells the admins the
    file:line. ``app.rules.listeners`` hear every reload.
Timed jobs
    Add a plain ``async def job(app, now)`` to :mod:`bot.jobs` or your own module, register it with
    :func:`bot.scheduler.task` and schedule it in a ``login`` hook with
    ``app.scheduler.every / cron / at(job_id, task_name, ..., **task_kwargs)``: stable ids, persisted
    in the database (table ``scheduler_jobs``). The bot's own: ``expire-mutes``, ``reconcile``,
    ``reload-rules``, and one ``confirm-kick:<room>:<contact>`` per kick awaiting its room-leave.

Action outcomes recorded on the case: ``done``, ``failed``, ``fallback_mention``, ``requested_admins``,
``dry_run``, ``awaiting_review``, ``dropped`` (not carried out by design; the detail says why).
"""

from __future__ import annotations

from bot.app.commands import COMMANDS, Command, CommandContext, CommandRegistry, Where
from bot.app.core import App, Hooks
from bot.app.executor import CaseContext, Executor, Outcome, ReviewGate
from bot.app.plugins import PLUGIN_MODULES

__all__ = [
    "COMMANDS",
    "PLUGIN_MODULES",
    "App",
    "CaseContext",
    "Command",
    "CommandContext",
    "CommandRegistry",
    "Executor",
    "Hooks",
    "Outcome",
    "ReviewGate",
    "Where",
]
