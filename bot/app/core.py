"""The App: puppet events in, moderation, actions out. See :mod:`bot.app` for the story."""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.actions import Action, ActionKind
from bot.app import texts
from bot.app.commands import COMMANDS, Command, CommandContext, CommandRegistry, split_command
from bot.app.executor import CaseContext, Executor
from bot.app.plugins import install_plugins
from bot.app.rooms import RoomBook
from bot.config import Config
from bot.errors import StoreUnavailable
from bot.events import (
    Event,
    LoggedIn,
    LoggedOut,
    MemberJoined,
    MemberLeft,
    Message,
    MessageRecalled,
    PrivateMessage,
    PuppetError,
    RoomInfo,
    RoomInvitation,
    Sender,
    TopicChanged,
)
from bot.moderation import Decision, Moderator
from bot.puppet.outbox import Outbox
from bot.puppet.port import Puppet
from bot.quotes import own_words
from bot.rules_holder import RulesHolder
from bot.store import MemberView, Outage, Store

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


# --- lifecycle hooks (issue 5/6 plug in here) ---------------------------------

MessageHook = Callable[["App", Message, Sender, Decision], Awaitable[None]]
JoinHook = Callable[["App", MemberJoined], Awaitable[None]]
LeaveHook = Callable[["App", MemberLeft], Awaitable[None]]
PrivateHook = Callable[["App", PrivateMessage], Awaitable[bool]]
RoomHook = Callable[["App", str], Awaitable[None]]
LoginHook = Callable[["App", LoggedIn], Awaitable[None]]


@dataclass
class Hooks:
    """Lists of async callables, run in order; one failing is logged and the rest still run."""

    message: list[MessageHook] = field(default_factory=list)
    """Every message in a moderated room, after moderation: ``(app, message, sender, decision)``;
    not one delivered after its sender left or was removed (a self-introduction or a nickname
    of someone no longer there is nothing to act on)."""
    join: list[JoinHook] = field(default_factory=list)
    """A new member of a moderated room (join event, reconciliation, or an unknown speaker);
    not for blacklisted members the bot removed, nor for members found when a room is first seen."""
    leave: list[LeaveHook] = field(default_factory=list)
    private: list[PrivateHook] = field(default_factory=list)
    """A private message no command took; return True when handled (the rest are skipped)."""
    room_enabled: list[RoomHook] = field(default_factory=list)
    room_disabled: list[RoomHook] = field(default_factory=list)
    login: list[LoginHook] = field(default_factory=list)


class Judged(enum.Enum):
    """How moderation treats a room message, once the commands have seen it."""

    FULLY = "fully"
    """Every rule: ordinary chat, a member's ``#话题`` tag, a member trying an admin command."""
    FLOOD_ONLY = "flood_only"
    """A report the admins get (:attr:`Command.for_admins`): the flood rules, a mute in force and
    a link or QR code the reporter posts count; the rest of the content rules do not, since a
    report quotes what it reports and the admins judge it."""
    NOT_AT_ALL = "not_at_all"
    """An admin's command."""


MEMBER_CACHE_S = 60.0
ADMIN_RECHECK_S = 30.0
LATE_DELIVERY_SKEW = timedelta(seconds=2)
"""A message stamped at most this long after the bot's ``room.del`` went through was still
said before it: the kick time is the bot's clock, the message's WeChat's (whole seconds)."""
MUTE_OUTLASTS_LEAVE = timedelta(seconds=1)
"""A mute ends this long after its member's leave: a late message stamped in the second they
went was said before it (``_said_before_leaving``), still while muted (whole seconds)."""


@dataclass
class PendingKick:
    room_id: str
    contact_id: str
    case_no: int | None
    name: str
    deadline: datetime
    kicked_at: datetime | None = None
    """When ``room.del`` went through (the bot's clock): what they said up to then may still
    be delivered."""


class App:
    """Wires one puppet, the rules, the store, the outbox and the scheduler.

    ``await app.handle(event)`` for each event (``run`` does it for the
    puppet's events); ``await app.idle()`` waits for the actions those events
    started (tests)."""

    def __init__(
        self,
        config: Config,
        puppet: Puppet,
        store: Store,
        rules: RulesHolder,
        *,
        outbox: Outbox | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.config = config
        self.puppet = puppet
        self.store = store
        self.rules = rules
        self.clock = clock
        self.tz = _zone(config.schedule.timezone)
        self.outbox = outbox or Outbox.from_config(puppet, config.outbox)
        self.port = self.outbox
        """Every send goes through here (rate limit, merging)."""
        self.rooms = RoomBook(config)
        self.commands: CommandRegistry = COMMANDS.copy()
        self.hooks = Hooks()
        self.moderator = Moderator(rules.engine, rules.ladder, store)
        self.executor = Executor(
            port=self.outbox,
            store=store,
            rooms=self.rooms,
            config=config,
            clock=clock,
            tz=self.tz,
            needs_review=lambda a: self.rules.ladder.needs_review(a),
        )
        self.executor.on_kicked.append(self._expect_leave)
        self.pending_kicks: dict[tuple[str, str], PendingKick] = {}
        """Kicks done, waiting for their room-leave event (``jobs.confirm_kicks``)."""
        self.removals_underway: dict[tuple[str, str], int | None] = {}
        """Members a case has decided to remove, until that case's actions have gone out (the
        kick waits its turn in the outbox): the case number per (room, member)."""
        self.mute_ends: dict[tuple[str, str], datetime] = {}
        """When each mute in force ends (``jobs.expire_mutes``); re-read from the store at start."""
        self._members: dict[tuple[str, str], tuple[float, MemberView | None]] = {}
        self.scheduler: Any = None
        """The :class:`bot.scheduler.Scheduler`, once ``Scheduler.start(app)`` attached it."""
        self._tasks: set[asyncio.Task[Any]] = set()
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._command_lane: asyncio.Task[Any] | None = None
        self._admins_read: dict[str, float] = {}
        self._seeded: set[str] = set()
        """Rooms whose live member list was compared with the store (reconciled) in this process."""
        self._started = False
        self._outage_told = False
        store.on_outage(self._on_outage)
        self.executor.on_muted.append(self._remember_mute)
        _register_builtin_commands(self.commands)
        rules.listeners.append(self._rules_reloaded)
        install_plugins(self)

    # --- lifecycle -----------------------------------------------------------

    def start(self) -> None:
        """Read what must survive a restart: the mutes in force (rooms are read as they are seen)."""
        if self._started:
            return
        self._started = True
        if self.store.outage is not None:  # the database was down before we were listening
            self._on_outage(self.store.outage)
        self.load_mutes(self.clock())

    def load_mutes(self, now: datetime) -> None:
        mutes = self._read(lambda: self.store.active_mutes(now), [])
        for m in mutes:
            key = (m.room_id, m.contact_id)
            self.mute_ends[key] = max(m.until, self.mute_ends.get(key, m.until))

    async def run(self) -> None:
        """Handle the puppet's events until it stops."""
        self.start()
        self.outbox.start()
        await self.puppet.run(self.handle)

    async def stop(self, timeout_s: float = 10.0) -> None:
        """Send what is queued while still connected (up to ``timeout_s``), then disconnect."""
        await self.drain(timeout_s)
        await self.puppet.stop()
        await self.idle(timeout_s)

    async def drain(self, timeout_s: float) -> None:
        """Let the actions under way finish and the outbox send what it holds (then it is closed:
        whatever is still unsent is recorded as failed on its case)."""
        await self.idle(timeout_s)
        await self.outbox.close(timeout_s)
        await self.idle(min(timeout_s, 1.0))

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str = "") -> asyncio.Task[Any]:
        """Run ``coro`` in the background, kept and logged (actions that wait on the outbox)."""
        task = asyncio.get_running_loop().create_task(self._guard(coro, name), name=name or None)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def idle(self, timeout_s: float | None = None) -> None:
        """Wait until every background action has finished."""
        while self._tasks:
            done, _ = await asyncio.wait(set(self._tasks), timeout=timeout_s)
            if not done:
                break

    async def _guard(self, coro: Coroutine[Any, Any, Any], name: str) -> Any:
        try:
            return await coro
        except asyncio.CancelledError:
            raise
        except StoreUnavailable as exc:
            self._store_down(exc)
        except Exception:
            log.exception("background task %s failed", name or coro)
        return None

    # --- events ------------------------------------------------------------------

    async def handle(self, event: Event) -> None:
        """One event; never raises (one bad event must not stop the bot)."""
        try:
            await self._dispatch(event)
        except StoreUnavailable as exc:
            self._store_down(exc)
        except Exception:
            log.exception("event %r failed; carrying on", type(event).__name__)

    async def _dispatch(self, event: Event) -> None:
        if isinstance(event, Message):
            await self.on_message(event)
        elif isinstance(event, PrivateMessage):
            await self.on_private(event)
        elif isinstance(event, MemberJoined):
            await self.on_join(event)
        elif isinstance(event, MemberLeft):
            await self.on_leave(event)
        elif isinstance(event, TopicChanged):
            await self.on_topic(event)
        elif isinstance(event, RoomInvitation):
            await self.on_invitation(event)
        elif isinstance(event, LoggedIn):
            await self.on_login(event)
        elif isinstance(event, LoggedOut):
            log.warning("logged out: %s", event.reason or "no reason given")
        elif isinstance(event, PuppetError):
            log.warning("puppet error: %s", event.detail)
        elif isinstance(event, MessageRecalled):
            log.info("message %s recalled in %s (its record, if any, stays)", event.message_id, event.room_id)

    async def on_topic(self, event: TopicChanged) -> None:
        """A renamed room may now match (or no longer match) a name pattern of the config."""
        was = self.rooms.moderated(event.room_id)
        self.rooms.set_topic(event.room_id, event.topic)
        await self._save_room(event.room_id)
        now = self.rooms.moderated(event.room_id)
        if now != was:
            log.info(
                "room %s renamed to %r: %s", event.room_id, event.topic, "moderated" if now else "left alone"
            )
        if now and not was:
            await self.reconcile_room(event.room_id, event.at)

    async def on_login(self, event: LoggedIn) -> None:
        self.rooms.bot_id = event.bot_id
        if not self.store.bot_id:
            self.store.bot_id = event.bot_id
        self.start()
        log.info("logged in as %s (%s)", event.name or "?", event.bot_id)
        await self.scan_rooms(event.at)
        await self.reconcile_members(event.at)
        await self._run_hooks(self.hooks.login, event)

    # --- room messages -----------------------------------------------------------

    async def on_message(self, msg: Message) -> None:
        if not self.rooms.bot_id:
            self.rooms.bot_id = self.puppet.bot_id
        if msg.sender_id == self.rooms.bot_id:
            return
        key = (msg.room_id, msg.id)
        if key in self._seen:
            log.info("message %s in %s delivered again; handled once", msg.id, msg.room_id)
            return
        self._seen[key] = None
        if len(self._seen) > 20_000:
            self._seen.popitem(last=False)
        if msg.room_id not in self.rooms.info:
            await self.notice_room(msg.room_id, msg.at, topic=msg.room_topic)
        judged = await self._maybe_command(msg)
        if judged is Judged.NOT_AT_ALL:
            return
        if not self.rooms.moderated(msg.room_id, msg.room_topic):
            return
        facts = self.member(msg.room_id, msg.sender_id)
        late = self._said_before_going(msg, facts)
        underway = (msg.room_id, msg.sender_id) in self.removals_underway
        if underway and not late:
            # The rest of a burst while their removal is on its way: judged and recorded, but
            # the case that removes them has said all there is to say. No warning, reminder or
            # admins' notice per message, and no second removal.
            log.info(
                "message %s in %s: %s is being removed (case %s): recorded, nothing sent",
                msg.id,
                msg.room_id,
                msg.sender_id,
                self.removals_underway[(msg.room_id, msg.sender_id)],
            )
        if late:
            # Delivered late (the burst they were removed for): judged and recorded like any
            # message, but no sign they are back (no join), and nothing to do about it: the
            # ladder is not asked, so no second removal, no warning to someone no longer
            # there, no new notice to the admins.
            log.info(
                "message %s in %s was said before %s went: recorded, nothing sent",
                msg.id,
                msg.room_id,
                msg.sender_id,
            )
            unknown = False
        else:
            self.rooms.add_member(msg.room_id, msg.sender_id)  # whoever speaks is in the room
            unknown = facts is None or not facts.present
        if unknown and self.store.available and not self.rooms.is_bot(msg.sender_id):
            # room-join events miss some ways of joining: an unknown speaker is a new member
            joined = MemberJoined(msg.room_id, msg.sender_id, msg.at, name=msg.sender_name)
            # Until the room's member list was read once, speakers are existing members being
            # discovered, not newcomers to welcome.
            seeding = msg.room_id not in self._seeded
            if not await self.on_join(joined, source="speaker", seeding=seeding):
                return
            facts = self.member(msg.room_id, msg.sender_id)
        sender = Sender(
            contact_id=msg.sender_id,
            is_admin=self.rooms.is_admin(msg.room_id, msg.sender_id),
            is_exempt=bool(facts and facts.exempt),
            is_bot=self.rooms.is_bot(msg.sender_id),
            joined_at=facts.joined_at if facts else None,
            inviter_id=facts.inviter_id if facts else "",
        )
        # Local time for the ladder's texts ("禁言至 11-24 23:28"); the store keeps UTC.
        decision = self.moderator.handle(
            replace(msg, at=msg.at.astimezone(self.tz)),
            sender,
            content=judged is Judged.FULLY,
            own_words=own_words(msg.text) if judged is Judged.FLOOD_ONLY else None,
            decide=not (late or underway),
        )
        if decision.duplicate:  # redelivered after a restart: counted and acted on the first time
            log.info("message %s in %s was handled before (case %s)", msg.id, msg.room_id, decision.case_no)
            return
        self.store.note_message(msg.room_id, msg.sender_id, msg.at, msg.sender_name)
        if decision.actions:
            log.info(
                "case %s: %s in %s broke %s -> %s",
                decision.case_no,
                msg.sender_id,
                msg.room_id,
                ",".join(v.rule for v in decision.violations),
                ",".join(a.kind.value for a in decision.actions),
            )
            ctx = CaseContext(
                room_id=msg.room_id,
                contact_id=msg.sender_id,
                at=msg.at,
                case_no=decision.case_no,
                name=msg.sender_name,
                topic=msg.room_topic or self.rooms.topic(msg.room_id),
                message=msg,
                violations=decision.violations,
                inviter_id=sender.inviter_id,
                actions=decision.actions,
            )
            removes = any(a.kind is ActionKind.KICK for a in decision.actions)
            if removes:
                self.removals_underway[(msg.room_id, msg.sender_id)] = decision.case_no
            self.spawn(self._act(ctx, decision.actions, removes), name=f"case-{decision.case_no}")
        if not late:
            await self._run_hooks(self.hooks.message, msg, sender, decision)

    async def _maybe_command(self, msg: Message) -> Judged:
        """Run a registered ``#word`` command; say how moderation should judge the message."""
        parsed = self.commands.parse_room_text(msg.text)
        if parsed is None:
            return Judged.FULLY
        word, args = parsed
        command = self.commands.find(word)
        is_admin = self.rooms.is_admin(msg.room_id, msg.sender_id)
        ctx = CommandContext(self, word, args, msg.sender_id, msg.at, msg, msg.room_id, is_admin)
        if command is None or not command.where.allows(True):
            if self.commands.unknown is not None and self.rooms.moderated(msg.room_id, msg.room_topic):
                await self.commands.unknown(ctx)
            return Judged.FULLY
        if command.admin_only and not is_admin:
            is_admin = await self._recheck_admin(msg.room_id, msg.sender_id)
            ctx = replace(ctx, is_admin=is_admin)
        if command.admin_only and not is_admin:
            if self.rooms.moderated(msg.room_id, msg.room_topic):
                self.in_command_lane(ctx.reply_private(texts.NOT_ADMIN), "not-admin")
            return Judged.FULLY  # and the message is moderated like any other
        # Asked before the handler runs: a report is counted against its limit in typing order.
        for_admins = self._for_admins(command, ctx)
        self.in_command_lane(command.handler(ctx), f"#{word}")
        if for_admins:  # a report: its words are the admins' to judge, its pace is ours
            return Judged.FLOOD_ONLY
        return Judged.NOT_AT_ALL if is_admin else Judged.FULLY

    @staticmethod
    def _for_admins(command: Command, ctx: CommandContext) -> bool:
        if command.for_admins is None:
            return False
        try:
            return command.for_admins(ctx)
        except Exception:  # moderated like any other message, then
            log.exception("command #%s: cannot tell whether the message is for the admins", ctx.word)
            return False

    async def _recheck_admin(self, room_id: str, contact_id: str) -> bool:
        """Room admins change without an event: read the room again before refusing
        (at most every ``ADMIN_RECHECK_S`` per room, so a member typing admin commands
        cannot make the bot hammer the puppet service)."""
        now = time.monotonic()
        if now - self._admins_read.get(room_id, -ADMIN_RECHECK_S) >= ADMIN_RECHECK_S:
            self._admins_read[room_id] = now
            try:
                self.rooms.remember(await self.puppet.room_info(room_id))
            except Exception as exc:
                log.info("room %s: cannot re-read its admins (%s)", room_id, exc)
        return self.rooms.is_admin(room_id, contact_id)

    # --- private messages ----------------------------------------------------------

    async def on_private(self, msg: PrivateMessage) -> None:
        if msg.sender_id == self.rooms.bot_id:
            return
        parsed = split_command(msg.text, in_room=False)
        if parsed is not None:
            word, args = parsed
            command = self.commands.find(word)
            if command is not None and command.where.allows(False):
                is_admin = self.rooms.is_global_admin(msg.sender_id)
                ctx = CommandContext(self, word, args, msg.sender_id, msg.at, msg, "", is_admin)
                if command.admin_only and not is_admin and not self._admin_anywhere(msg.sender_id):
                    self.in_command_lane(ctx.reply_private(texts.NOT_ADMIN), "not-admin")
                    return
                self.in_command_lane(command.handler(ctx), word)
                return
        if self.hooks.private:
            self.in_command_lane(self._private_hooks(msg), "private")

    async def _private_hooks(self, msg: PrivateMessage) -> None:
        for hook in self.hooks.private:
            try:
                if await hook(self, msg):
                    return
            except Exception:
                log.exception("private-message hook failed")

    def in_command_lane(self, coro: Awaitable[Any], name: str = "") -> asyncio.Task[Any]:
        """Run a command (or a reply) off the event path, after the commands before it.

        Replies wait in the outbox (rate limit); moderation of the next messages must not
        wait with them, while commands still take effect in the order they were typed."""
        previous = self._command_lane

        async def in_turn() -> Any:
            if previous is not None and not previous.done():
                await asyncio.wait({previous})
            return await coro

        self._command_lane = self.spawn(in_turn(), name=f"command {name}".strip())
        return self._command_lane

    def _admin_anywhere(self, contact_id: str) -> bool:
        return any(contact_id in self.rooms.room_admin_ids(r) for r in self.rooms.info)

    # --- members -----------------------------------------------------------------

    async def on_join(self, event: MemberJoined, *, source: str = "event", seeding: bool = False) -> bool:
        """Record a join; remove a blacklisted member. True when the member stays."""
        if event.contact_id == self.rooms.bot_id:
            await self.notice_room(event.room_id, event.at)
            return True
        if event.room_id not in self.rooms.info:
            await self.notice_room(event.room_id, event.at, topic=event.room_topic)
        self.rooms.add_member(event.room_id, event.contact_id)
        self.executor.removed.pop((event.room_id, event.contact_id), None)  # back: a new removal counts
        if not self.rooms.moderated(event.room_id, event.room_topic):
            return True
        self.store.member_joined(event)
        self._members.pop((event.room_id, event.contact_id), None)
        if self._read(lambda: self.store.is_blacklisted(event.contact_id, event.room_id), None):
            await self._remove_blacklisted(event, source)
            return False
        if not seeding:
            await self._run_hooks(self.hooks.join, event)
        return True

    async def _remove_blacklisted(self, event: MemberJoined, source: str) -> None:
        name = event.name or await self._name(event.contact_id, event.room_id)
        log.info("blacklisted %s joined %s (%s): removing", event.contact_id, event.room_id, source)
        ctx = CaseContext(
            room_id=event.room_id,
            contact_id=event.contact_id,
            at=event.at,
            name=name,
            topic=self.rooms.topic(event.room_id),
            inviter_id=event.inviter_id,
        )
        kick = Action(ActionKind.KICK, event.room_id, event.contact_id, reason=texts.BLACKLIST_JOIN_REASON)
        tell = Action(
            ActionKind.NOTIFY_ADMINS,
            event.room_id,
            event.contact_id,
            reason=texts.BLACKLIST_JOIN_REASON
            + (f"（邀请人 {event.inviter_id}）" if event.inviter_id else ""),
        )
        actions = [kick, tell]
        if event.inviter_id and not self.rooms.is_bot(event.inviter_id):
            actions.append(
                Action(
                    ActionKind.NOTIFY_INVITER, event.room_id, event.contact_id, reason=texts.BLACKLIST_INVITER
                )
            )
        self.spawn(self._remove_and_audit(ctx, actions, source), name=f"blacklist-{event.contact_id}")

    async def _remove_and_audit(self, ctx: CaseContext, actions: list[Action], source: str) -> None:
        """No case for a blacklisted joiner (they said nothing): the audit log keeps what was done."""
        outcomes = await self.executor.execute(ctx, actions)
        detail = {
            "source": source,
            "inviter": ctx.inviter_id,
            **{o.action.kind.value: o.state for o in outcomes},
        }
        self._audit(
            "blacklist_removal", room_id=ctx.room_id, target_id=ctx.contact_id, detail=detail, at=ctx.at
        )

    async def on_leave(self, event: MemberLeft) -> None:
        self.rooms.drop_member(event.room_id, event.contact_id)
        pending = self.pending_kicks.pop((event.room_id, event.contact_id), None)
        if pending is not None:
            log.info("kick of %s from %s confirmed by room-leave", event.contact_id, event.room_id)
        if self.scheduler is not None:
            self.scheduler.cancel(_kick_job(event.room_id, event.contact_id))
        if event.contact_id == self.rooms.bot_id:
            log.warning("the bot left or was removed from %s", event.room_id)
            return
        self._members.pop((event.room_id, event.contact_id), None)
        if self.rooms.moderated(event.room_id):
            self.store.member_left(event)
            by_bot = pending is not None or (bool(event.remover_id) and event.remover_id == self.rooms.bot_id)
            self._end_mute_on_leave(event, removed=by_bot)
            await self._run_hooks(self.hooks.leave, event)

    def _end_mute_on_leave(self, event: MemberLeft, *, removed: bool) -> None:
        """A mute binds a member of the room: one who leaves or is removed is no longer muted, so
        when the admins invite them back their first word is not speaking while muted. Lifted as
        ``#解除禁言`` lifts it, by the bot; what they said before going still counts as muted."""
        self.mute_ends.pop((event.room_id, event.contact_id), None)
        bot = self.rooms.bot_id or "qunguard"
        at = event.at + MUTE_OUTLASTS_LEAVE
        lifted = self._read(lambda: self.store.lift_mute(event.room_id, event.contact_id, by=bot, at=at), 0)
        if lifted:
            self._audit(
                "unmute",
                actor_id=bot,
                at=at,
                room_id=event.room_id,
                target_id=event.contact_id,
                detail={"lifted": lifted, "reason": texts.MUTE_ENDED_ON_LEAVE, "removed": removed},
            )

    async def _act(self, ctx: CaseContext, actions: tuple[Action, ...], removes: bool) -> None:
        """Carry out a case's actions; a removal is no longer underway once they have gone out
        (done, asked of the admins, held for review, or failed)."""
        try:
            await self.executor.execute(ctx, actions)
        finally:
            key = (ctx.room_id, ctx.contact_id)
            if removes and key in self.removals_underway and self.removals_underway[key] == ctx.case_no:
                del self.removals_underway[key]

    def _said_before_going(self, msg: Message, facts: MemberView | None) -> bool:
        """Said by a member no longer in the room, before they went (a late delivery): they
        left after it, or the bot has removed them since and the room-leave has not come."""
        if _said_before_leaving(msg, facts):
            return True
        pending = self.pending_kicks.get((msg.room_id, msg.sender_id))
        return (
            pending is not None
            and pending.kicked_at is not None
            and msg.at <= pending.kicked_at + LATE_DELIVERY_SKEW
        )

    async def _expect_leave(self, ctx: CaseContext, _action: Action) -> None:
        deadline = self.clock() + timedelta(seconds=self.config.moderation.kick_confirm_timeout_s)
        self.pending_kicks[(ctx.room_id, ctx.contact_id)] = PendingKick(
            ctx.room_id, ctx.contact_id, ctx.case_no, ctx.display, deadline, kicked_at=self.clock()
        )
        if self.scheduler is not None:  # kept in the database: a restart still checks it
            self.scheduler.at(
                _kick_job(ctx.room_id, ctx.contact_id),
                "confirm_kick",
                deadline,
                room_id=ctx.room_id,
                contact_id=ctx.contact_id,
                case_no=ctx.case_no,
                name=ctx.display,
            )

    # --- rooms -------------------------------------------------------------------

    async def on_invitation(self, event: RoomInvitation) -> None:
        allowed = self.config.bot.accept_invites_from == "anyone" or self.rooms.is_global_admin(
            event.inviter_id
        )
        if not allowed:
            log.info("invitation to %r from %s declined (not an admin)", event.room_topic, event.inviter_id)
            return
        await self.puppet.accept_invitation(event.invitation_id)
        log.info("accepted the invitation to %r from %s", event.room_topic, event.inviter_id)
        self.spawn(self.scan_rooms(event.at), name="scan-after-invite")
        if not any(
            sel.name_contains and sel.name_contains in event.room_topic for sel in self.config.bot.rooms
        ):
            self.spawn(
                self._tell_quietly(
                    event.inviter_id, texts.fill(texts.INVITE_ACCEPTED, topic=event.room_topic)
                )
            )

    async def notice_room(self, room_id: str, at: datetime, *, topic: str = "") -> RoomInfo:
        """A room the bot is in but did not know: read it, remember it, and seed its members."""
        try:
            info = await self.puppet.room_info(room_id)
        except Exception as exc:
            log.warning("room %s: cannot read its details (%s)", room_id, exc)
            info = RoomInfo(room_id, topic)
        if topic and not info.topic:
            info = RoomInfo(info.id, topic, info.owner_id, info.admin_ids, info.member_ids)
        await self._learn_room(info, at)
        return info

    async def _learn_room(self, info: RoomInfo, at: datetime) -> None:
        new = self.rooms.remember(info)
        if new:
            known = self._read(lambda: self.store.room(info.id), None)
            if known is not None and known.enabled_by is not None:
                self.rooms.switched[info.id] = known.moderated  # #启用 / #停用 from an earlier run
        await self._save_room(info.id)
        if not new:
            return
        moderated = self.rooms.moderated(info.id)
        log.info(
            "room %s (%s): %s", info.id, info.topic or "?", "moderated" if moderated else "not moderated"
        )
        if moderated:
            try:
                await self.reconcile_room(info.id, at, live=info)
            except StoreUnavailable:
                raise
            except Exception as exc:  # the next scan tries again; moderation goes on meanwhile
                log.warning("room %s: members not read (%s)", info.id, exc)

    async def scan_rooms(self, at: datetime | None = None) -> None:
        """Read the room list: rooms the bot was added to without an event are noticed here."""
        at = at or self.clock()
        listed = await self.puppet.rooms()
        for info in listed:
            try:
                await self._learn_room(info, at)
            except StoreUnavailable:
                raise
            except Exception:
                log.exception("room %s: scan failed", info.id)
        if listed:  # rooms the bot is no longer in (removed, dissolved): stop looking at them
            for gone in set(self.rooms.info) - {i.id for i in listed}:
                log.info("room %s (%s) is no longer in the bot's room list", gone, self.rooms.topic(gone))
                self.rooms.info.pop(gone, None)

    async def reconcile_members(self, at: datetime | None = None) -> None:
        """Compare each moderated room's live member list with the store."""
        at = at or self.clock()
        for room_id in self.rooms.moderated_ids():
            try:
                await self.reconcile_room(room_id, at)
            except StoreUnavailable:
                raise
            except Exception:
                log.exception("room %s: member reconciliation failed", room_id)

    async def reconcile_room(self, room_id: str, at: datetime, *, live: RoomInfo | None = None) -> None:
        if live is None or not live.member_ids:
            live = await self.puppet.room_info(room_id)
            self.rooms.remember(live)
        if not live.member_ids:
            return
        known = {m.contact_id for m in self._read(lambda: self.store.members(room_id), None) or ()}
        if not self.store.available:
            return
        seeding = not known
        for cid in live.member_ids:
            if cid not in known and cid != self.rooms.bot_id:
                await self.on_join(MemberJoined(room_id, cid, at), source="reconcile", seeding=seeding)
        current = set(live.member_ids)
        for cid in known - current:
            await self.on_leave(MemberLeft(room_id, cid, at))
        self._seeded.add(room_id)

    async def _save_room(self, room_id: str) -> None:
        info = self.rooms.info.get(room_id)
        if info is None:
            return
        self._read(
            lambda: self.store.upsert_room(
                info.id,
                topic=info.topic or None,
                owner_id=info.owner_id or None,
                admin_ids=info.admin_ids if (info.owner_id or info.admin_ids) else None,
                member_count=len(info.member_ids) or None,
            ),
            None,
        )

    async def enable_room(self, room_id: str, by: str, at: datetime) -> bool:
        """Switch moderation on (``#启用``); post the self-introduction. False if it already was on."""
        was = self.rooms.moderated(room_id)
        self.rooms.switched[room_id] = True
        self.store.set_room_moderated(room_id, True, by, at)
        self._audit("enable", room_id=room_id, detail={"was_moderated": was}, at=at, actor_id=by)
        if was:
            return False
        await self.reconcile_room(room_id, at)
        await self.port.say(room_id, self.introduction())
        await self._run_hooks(self.hooks.room_enabled, room_id)
        return True

    async def disable_room(self, room_id: str, by: str, at: datetime) -> bool:
        was = self.rooms.moderated(room_id)
        self.rooms.switched[room_id] = False
        self.store.set_room_moderated(room_id, False, by, at)
        self._audit("disable", room_id=room_id, detail={"was_moderated": was}, at=at, actor_id=by)
        if was:
            await self._run_hooks(self.hooks.room_disabled, room_id)
        return was

    def introduction(self) -> str:
        return texts.fill(
            texts.INTRO,
            bot=self.config.bot.name,
            rules=self.rules.summary(),
            ladder=texts.ladder_summary(self.rules.ladder.policy),
        )

    # --- store health ------------------------------------------------------------

    def member(self, room_id: str, contact_id: str) -> MemberView | None:
        """What the store knows of a member (cached for a minute; None when unknown or unreadable)."""
        key = (room_id, contact_id)
        now = time.monotonic()
        hit = self._members.get(key)
        if hit is not None and now - hit[0] < MEMBER_CACHE_S:
            return hit[1]
        view = self._read(lambda: self.store.member(room_id, contact_id), None)
        if self.store.available:
            if len(self._members) > 50_000:
                self._members.clear()
            self._members[key] = (now, view)
        return view

    def _audit(self, command: str, *, actor_id: str = "", at: datetime | None = None, **fields: Any) -> None:
        """Who did what, for ``qunguard case`` and the admins' questions; never stops the bot."""
        self._read(lambda: self.store.audit(actor_id or self.rooms.bot_id, command, at=at, **fields), None)

    def forget_member(self, room_id: str, contact_id: str) -> None:
        """Drop the cached member facts (after changing them in the store, e.g. an exemption)."""
        self._members.pop((room_id, contact_id), None)

    def _read(self, fn: Callable[[], Any], default: Any) -> Any:
        """A store read that must not stop moderation: the default while the database is down."""
        try:
            return fn()
        except StoreUnavailable as exc:
            self._store_down(exc)
            return default

    def _on_outage(self, outage: Outage | None) -> None:
        """The store lost (Outage) or regained (None) its database: tell the admins once each way."""
        if (outage is not None) == self._outage_told:
            return
        self._outage_told = outage is not None
        text = texts.STORE_DOWN if outage is not None else texts.STORE_BACK
        try:
            self.spawn(self._tell_all_admins(text), name="store-outage")
        except RuntimeError:  # no running loop (start-up): the log says it
            log.error("store: %s", text)

    def _store_down(self, exc: Exception) -> None:
        log.error("store unavailable: %s", exc)
        self._on_outage(self.store.outage or Outage(self.clock(), str(exc), ""))

    async def _tell_quietly(self, contact_id: str, text: str) -> None:
        """A private note that may go unsent (not a friend): nothing else depends on it."""
        try:
            await self.executor.say_private(contact_id, text)
        except Exception as exc:
            log.info("note to %s not sent: %s", contact_id, exc)

    async def _tell_all_admins(self, text: str) -> None:
        """Global admins, or else the admins of the first moderated room."""
        rooms = self.rooms.moderated_ids()
        await self.executor.tell_admins(rooms[0] if rooms and not self.config.bot.admins else "", text)

    async def _remember_mute(self, ctx: CaseContext, action: Action) -> None:
        self.note_mute(ctx.room_id, ctx.contact_id, ctx.at + (action.duration or timedelta(hours=24)))

    def note_mute(self, room_id: str, contact_id: str, until: datetime) -> None:
        """Announce the end of this mute when it comes (call after ``store.mute`` by hand)."""
        key = (room_id, contact_id)
        self.mute_ends[key] = max(until, self.mute_ends.get(key, until))

    async def _rules_reloaded(self, error: Exception | None) -> None:
        if error is None:
            self.moderator.engine = self.rules.engine
            self.moderator.ladder = self.rules.ladder
            return
        await self._tell_all_admins(texts.fill(texts.RULES_BROKEN, error=str(error)))

    # --- helpers -------------------------------------------------------------------

    async def _name(self, contact_id: str, room_id: str = "") -> str:
        try:
            return await self.puppet.contact_name(contact_id, room_id) or contact_id
        except Exception:
            return contact_id

    async def _run_hooks(self, hooks: list[Any], *args: Any) -> None:
        for hook in list(hooks):
            try:
                await hook(self, *args)
            except StoreUnavailable:
                raise
            except Exception:
                log.exception("hook %s failed", getattr(hook, "__qualname__", hook))


def _said_before_leaving(msg: Message, facts: MemberView | None) -> bool:
    """A message from a member who has left, sent before they left (a late delivery), not
    after: someone who really came back speaks after their leave. No allowance here: a
    leave may be the bot's own finding (a member missing from the room's list when it
    starts), and a member back in the room speaks a moment after that."""
    if facts is None or facts.left_at is None:
        return False
    return msg.at <= facts.left_at


def _kick_job(room_id: str, contact_id: str) -> str:
    return f"confirm-kick:{room_id}:{contact_id}"


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown time zone %r; using UTC", name)
        return timezone.utc


# --- built-in room commands ----------------------------------------------------------


def _register_builtin_commands(registry: CommandRegistry) -> None:
    from bot.app.commands import Where

    async def enable(ctx: CommandContext) -> None:
        if not await ctx.app.enable_room(ctx.room_id, ctx.sender_id, ctx.at):
            await ctx.reply(texts.ENABLED_ALREADY)
        if ctx.app.rooms.bot_can_kick(ctx.room_id) is False:
            await ctx.app._tell_quietly(ctx.sender_id, texts.NO_KICK_RIGHTS)

    async def disable(ctx: CommandContext) -> None:
        if await ctx.app.disable_room(ctx.room_id, ctx.sender_id, ctx.at):
            await ctx.reply(texts.DISABLED)
        else:
            await ctx.reply(texts.DISABLED_ALREADY)

    if registry.find("启用") is None:
        registry.add(
            Command(
                ("启用", "enable"), enable, Where.ROOM, admin_only=True, usage="#启用", help="本群开启群管"
            )
        )
    if registry.find("停用") is None:
        registry.add(
            Command(
                ("停用", "disable"), disable, Where.ROOM, admin_only=True, usage="#停用", help="本群停用群管"
            )
        )
