"""Carrying out the ladder's actions in WeChat, and recording how each went.

Every action of a case passes :meth:`Executor.execute`, which, in order:

1. **dry run** (``config.moderation.dry_run``, ``dry_run_rooms``, or
   :meth:`Executor.set_dry_run` at run time): nothing happens in the room; the
   admins are told what would have happened ("正式运行时将对 … 移出群聊");
   outcome ``dry_run``.
2. **human review** (``ladder.review`` in rules.yaml lists the drastic kinds):
   when a :class:`ReviewGate` is installed (issue 5), it may hold the action;
   outcome ``awaiting_review``. When the admin approves, call
   :meth:`Executor.perform` with the same :class:`CaseContext`.
3. the action itself, through the outbox. Outcomes: ``done``, ``failed``,
   ``fallback_mention`` (a private warning to a non-friend became an @mention),
   ``requested_admins`` (no kick right: the room's admins were asked).

The notices (``notify_inviter``, then ``notify_admins``) go last, whatever their
place in the tier, and say what became of the other actions, never what was only
decided: while a removal waits for review the inviter is not told yet (that
notice waits too, and the review gate sends it once the removal is carried
out), and the admins' summary is the review request itself; a removal the bot
had to ask the admins for reads as asked for, not as done.

Every outcome is written to the case; a failed action is also told to the
admins. Nothing here raises: one bad action never stops the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Protocol

from bot.actions import Action, ActionKind
from bot.app import texts
from bot.app.rooms import RoomBook
from bot.config import Config
from bot.errors import NotAFriend, NotPermitted, QunguardError, StoreUnavailable
from bot.events import Message
from bot.moderation import MUTED_SPEAKING_RULE
from bot.puppet.outbox import Outbox
from bot.puppet.port import ChatPort
from bot.store import Store
from bot.verdicts import Violation

log = logging.getLogger(__name__)

DONE = "done"
FAILED = "failed"
FALLBACK = "fallback_mention"
SKIPPED = "dropped"
"""Not carried out by design (not a friend and no fallback, no inviter, no admin known); the
detail says why. The store's word for it, so the case still counts as settled."""
REQUESTED_ADMINS = "requested_admins"
DRY_RUN = "dry_run"
AWAITING_REVIEW = "awaiting_review"


@dataclass(frozen=True)
class CaseContext:
    """Everything an action needs to be carried out and explained."""

    room_id: str
    contact_id: str
    at: datetime
    case_no: int | None = None
    name: str = ""
    """Display name, for showing only."""
    topic: str = ""
    message: Message | None = None
    violations: tuple[Violation, ...] = ()
    inviter_id: str = ""
    actions: tuple[Action, ...] = ()
    """All actions decided for this case (for the admins' summary)."""

    @property
    def case_text(self) -> str:
        """The case number members see; a provisional one (database down) shows as 待补登."""
        if self.case_no is None:
            return "—"
        return str(self.case_no) if self.case_no > 0 else "待补登"

    @property
    def display(self) -> str:
        return self.name or self.contact_id


@dataclass(frozen=True)
class Outcome:
    action: Action
    state: str
    detail: str = ""


class ReviewGate(Protocol):
    """Human review before drastic actions (issue 5).

    ``hold`` returns True when the action now waits for an admin's decision
    (the gate records the request and asks the admins); the executor then
    records ``awaiting_review`` and moves on. On approval the gate calls
    ``executor.perform(ctx, action, position)``."""

    async def hold(self, ctx: CaseContext, action: Action, position: int) -> bool: ...


KickListener = Callable[[CaseContext, Action], Awaitable[None]]


@dataclass
class Executor:
    port: ChatPort
    """The outbox (rate-limited) in production; sends and kicks go through it."""
    store: Store
    rooms: RoomBook
    config: Config
    clock: Callable[[], datetime]
    tz: tzinfo | None = None
    review_gate: ReviewGate | None = None
    needs_review: Callable[[Action], bool] = lambda _a: False
    on_kicked: list[KickListener] = field(default_factory=list)
    """Called after a successful ``room.del`` (the app waits for the room-leave)."""
    on_muted: list[KickListener] = field(default_factory=list)
    """Called after a mute is announced (the app arms its expiry)."""
    removed: dict[tuple[str, str], tuple[str, datetime]] = field(default_factory=dict)
    """(room, contact) -> case and time of the removal done or asked for: another case within
    ``kick_confirm_timeout_s`` does not kick (or ask) again. Forgotten when they join again."""
    dry_run_override: dict[str, bool] = field(default_factory=dict)
    """Run-time dry-run switches: room id -> on/off, ``"*"`` for every room."""

    # --- policy -----------------------------------------------------------------

    def is_dry_run(self, room_id: str) -> bool:
        if room_id in self.dry_run_override:
            return self.dry_run_override[room_id]
        if "*" in self.dry_run_override:
            return self.dry_run_override["*"]
        m = self.config.moderation
        return m.dry_run or room_id in m.dry_run_rooms

    def set_dry_run(self, room_id: str | None, on: bool) -> None:
        """Switch dry run for one room, or for every room with ``None``."""
        self.dry_run_override[room_id or "*"] = on

    # --- the case ---------------------------------------------------------------

    async def execute(self, ctx: CaseContext, actions: Sequence[Action]) -> list[Outcome]:
        if actions and self.is_dry_run(ctx.room_id):
            return await self._dry_run(ctx, actions)
        by_position: dict[int, Outcome] = {}
        room_lines: list[str] = []  # @mention lines for the member, merged into one message
        # the notices last (stable otherwise): they report what became of the rest
        for position in sorted(range(len(actions)), key=lambda i: _NOTICE_ORDER.get(actions[i].kind, 0)):
            action = actions[position]
            try:
                outcome = await self._one(ctx, action, position, room_lines, list(by_position.values()))
            except Exception as exc:  # never let one action stop the others
                log.exception("case %s: %s failed", ctx.case_text, action.kind.value)
                outcome = Outcome(action, FAILED, _why(exc))
            by_position[position] = outcome
        outcomes = [by_position[i] for i in range(len(actions))]
        if room_lines:
            try:
                await self.port.say(ctx.room_id, "\n".join(room_lines), [ctx.contact_id])
            except Exception as exc:
                log.warning("case %s: room notice failed: %s", ctx.case_text, exc)
                outcomes = [
                    Outcome(o.action, FAILED, _why(exc)) if o.state in (DONE, FALLBACK) and _in_room(o) else o
                    for o in outcomes
                ]
        if self._muted_speaking_without_warning(ctx, actions):
            until = self.store.muted_until(ctx.room_id, ctx.contact_id, ctx.at)
            await self._safe_say(
                ctx, texts.fill(texts.MUTED_REMINDER, until=texts.until_text(until, self.tz))
            )
        log.info(
            "case %s: %s",
            ctx.case_text,
            ", ".join(f"{o.action.kind.value} {o.state}" for o in outcomes) or "nothing",
        )
        for position, outcome in enumerate(outcomes):
            self._record(ctx, position, outcome)
            if outcome.state == FAILED:
                await self.tell_admins(
                    ctx.room_id,
                    texts.fill(
                        texts.ACTION_FAILED,
                        case=ctx.case_text,
                        name=ctx.display,
                        action=texts.ACTION_ZH[outcome.action.kind],
                        error=outcome.detail,
                    ),
                )
        return outcomes

    async def perform(
        self, ctx: CaseContext, action: Action, position: int, others: Sequence[Outcome] = ()
    ) -> Outcome:
        """Carry out one action now, past dry run and review (an admin approved it).

        ``others``: what became of the case's other actions, for a notice to report."""
        lines: list[str] = []
        try:
            outcome = await self._act(ctx, action, lines, others)
            if lines:
                await self.port.say(ctx.room_id, "\n".join(lines), [ctx.contact_id])
        except Exception as exc:
            log.exception("case %s: %s failed", ctx.case_text, action.kind.value)
            outcome = Outcome(action, FAILED, _why(exc))
        self._record(ctx, position, outcome)
        return outcome

    async def _dry_run(self, ctx: CaseContext, actions: Sequence[Action]) -> list[Outcome]:
        """Nothing happens in the room; the admins hear, in one message, what would have."""
        lead = next((a for a in actions if a.kind in _ADMIN_REASON), actions[0])
        await self.tell_admins(
            ctx.room_id,
            texts.fill(
                texts.DRY_RUN,
                case=ctx.case_text,
                topic=ctx.topic,
                name=ctx.display,
                action="、".join(_what(a) for a in actions),
                reason=lead.reason,
            ),
        )
        outcomes = [Outcome(a, DRY_RUN) for a in actions]
        for position, outcome in enumerate(outcomes):
            self._record(ctx, position, outcome)
        return outcomes

    async def _one(
        self,
        ctx: CaseContext,
        action: Action,
        position: int,
        room_lines: list[str],
        others: Sequence[Outcome],
    ) -> Outcome:
        gate = self.review_gate
        if gate is not None and self.needs_review(action) and await gate.hold(ctx, action, position):
            return Outcome(action, AWAITING_REVIEW)
        return await self._act(ctx, action, room_lines, others)

    async def _act(
        self, ctx: CaseContext, action: Action, room_lines: list[str], others: Sequence[Outcome] = ()
    ) -> Outcome:
        kind = action.kind
        if kind is ActionKind.WARN_PRIVATE:
            return await self._warn_private(ctx, action, room_lines)
        if kind is ActionKind.WARN_PUBLIC:
            line = texts.fill(texts.WARN_PUBLIC, reason=action.reason, case=ctx.case_text)
            if (
                self.config.moderation.public_notice_shows_text
                and ctx.message is not None
                and ctx.message.text
            ):
                line += "\n" + texts.fill(texts.QUOTED, excerpt=texts.excerpt(ctx.message.text))
            room_lines.append(line)
            return Outcome(action, DONE)
        if kind is ActionKind.MUTE:
            until = ctx.at + (action.duration or timedelta(hours=24))
            room_lines.append(texts.fill(texts.MUTE, until=texts.until_text(until, self.tz)))
            await self._call(self.on_muted, ctx, action)
            return Outcome(action, DONE, f"until {until.isoformat()}")
        if kind is ActionKind.KICK:
            return await self.kick(ctx, action)
        if kind is ActionKind.BLACKLIST:
            return self._blacklist(ctx, action)
        if kind is ActionKind.NOTIFY_ADMINS:
            return await self._notify_admins(ctx, action, others)
        if kind is ActionKind.NOTIFY_INVITER:
            return await self._notify_inviter(ctx, action, others)
        return Outcome(action, SKIPPED, f"unknown action {kind.value}")

    async def _notify_admins(self, ctx: CaseContext, action: Action, others: Sequence[Outcome]) -> Outcome:
        if not self.rooms.admins_to_notify(ctx.room_id):
            return Outcome(
                action, SKIPPED, "no admin known (bot.admins is empty, the room has no human admin)"
            )
        if any(o.state == AWAITING_REVIEW for o in others):
            # The gate has just asked these admins (【待确认】: who, why, what waits, 同意/驳回):
            # a second message saying the same would only count against the rate limit.
            return Outcome(action, DONE, "the review request told them")
        summary = "、".join(
            _what(o.action) + texts.OUTCOME_NOTE.get(o.state, "")
            for o in others
            if o.action.kind is not ActionKind.NOTIFY_ADMINS and o.state not in (SKIPPED, DRY_RUN)
        )
        sent = await self.tell_admins(
            ctx.room_id,
            texts.fill(
                texts.NOTIFY_ADMINS,
                topic=ctx.topic,
                name=ctx.display,
                contact=ctx.contact_id,
                reason=action.reason,
                actions=summary or "无",
                case=ctx.case_text,
            ),
        )
        return Outcome(action, DONE if sent else FAILED, "" if sent else "no admin reachable")

    async def _warn_private(self, ctx: CaseContext, action: Action, room_lines: list[str]) -> Outcome:
        if ctx.violations and all(v.rule == MUTED_SPEAKING_RULE for v in ctx.violations):
            until = self.store.muted_until(ctx.room_id, ctx.contact_id, ctx.at)
            text = texts.fill(
                texts.MUTED_PRIVATE,
                topic=ctx.topic,
                until=texts.until_text(until, self.tz),
                case=ctx.case_text,
            )
        else:
            text = texts.fill(texts.WARN_PRIVATE, topic=ctx.topic, reason=action.reason, case=ctx.case_text)
        try:
            await self.say_private(ctx.contact_id, text)
            return Outcome(action, DONE)
        except NotAFriend:
            if self.config.moderation.private_warning_fallback == "mention":
                category = ctx.violations[0].category_zh if ctx.violations else "违规"
                room_lines.append(
                    texts.fill(texts.WARN_PRIVATE_FALLBACK, category=category, case=ctx.case_text)
                )
                return Outcome(action, FALLBACK, "not a friend: @mention in the room")
            return Outcome(action, SKIPPED, "not a friend; private_warning_fallback is none")

    async def kick(self, ctx: CaseContext, action: Action) -> Outcome:
        """``room.del``; without the right, ask the room's human admins privately."""
        key = (ctx.room_id, ctx.contact_id)
        earlier = self.removed.get(key)
        window = timedelta(seconds=self.config.moderation.kick_confirm_timeout_s)
        if earlier is not None and abs(ctx.at - earlier[1]) < window:
            # two cases (a burst of messages) decided the same removal
            return Outcome(action, DONE, f"already removed or requested (case {earlier[0]})")
        if self.rooms.has_member(ctx.room_id, ctx.contact_id) is False:
            return Outcome(action, DONE, "already left the room")
        self.removed[key] = (ctx.case_text, ctx.at)
        try:
            await self.port.kick(ctx.room_id, ctx.contact_id)
        except NotPermitted as exc:
            text = texts.fill(
                texts.KICK_REQUEST,
                topic=ctx.topic,
                name=ctx.display,
                reason=action.reason,
                case=ctx.case_text,
            )
            asked = await self.tell_admins(ctx.room_id, text, room_admins_only=True)
            if not asked:
                asked = await self.tell_admins(ctx.room_id, text)
            if asked:
                return Outcome(action, REQUESTED_ADMINS, "asked privately: " + ", ".join(asked))
            room_admins = self.rooms.room_admin_ids(ctx.room_id)
            if room_admins:  # no admin is the bot's friend: ask in the room, briefly
                await self.port.say(
                    ctx.room_id,
                    texts.fill(texts.KICK_REQUEST_IN_ROOM, name=ctx.display, case=ctx.case_text),
                    room_admins,
                )
                return Outcome(action, REQUESTED_ADMINS, "asked in the room: " + ", ".join(room_admins))
            self.removed.pop(key, None)
            return Outcome(action, FAILED, f"{exc}; no admin could be asked")
        except BaseException:
            self.removed.pop(key, None)  # not removed: another case may try again
            raise
        await self._call(self.on_kicked, ctx, action)
        return Outcome(action, DONE)

    def _blacklist(self, ctx: CaseContext, action: Action) -> Outcome:
        scope = self.config.moderation.blacklist_scope
        case_no = ctx.case_no if ctx.case_no is not None and ctx.case_no > 0 else None
        self.store.blacklist_add(
            ctx.contact_id,
            scope=scope,
            room_id=ctx.room_id,
            reason=action.reason,
            by=self.rooms.bot_id,
            case_no=case_no,
            at=ctx.at,
        )
        return Outcome(action, DONE, f"scope {scope}")

    async def _notify_inviter(self, ctx: CaseContext, action: Action, others: Sequence[Outcome]) -> Outcome:
        """Tell the inviter (邀请人负责制) what was done, once it is done."""
        inviter = ctx.inviter_id
        if not inviter or self.rooms.is_bot(inviter) or inviter == ctx.contact_id:
            return Outcome(action, SKIPPED, "inviter unknown")
        if any(o.action.kind.drastic and o.state == AWAITING_REVIEW for o in others):
            return Outcome(action, AWAITING_REVIEW, "told once the removal is approved and carried out")
        removal = next((o for o in others if o.action.kind is ActionKind.KICK), None)
        if removal is None:
            template = texts.NOTIFY_INVITER
        elif removal.state == DONE:
            template = texts.NOTIFY_INVITER_REMOVED
        elif removal.state == REQUESTED_ADMINS:
            template = texts.NOTIFY_INVITER_REMOVAL_ASKED
        else:
            return Outcome(action, SKIPPED, f"the removal is {removal.state}: inviter not told")
        text = texts.fill(
            template, topic=ctx.topic, name=ctx.display, reason=action.reason, case=ctx.case_text
        )
        try:
            await self.say_private(inviter, text)
        except NotAFriend:
            return Outcome(action, SKIPPED, f"inviter {inviter} is not a friend")
        return Outcome(action, DONE, f"told {inviter}")

    # --- telling people -------------------------------------------------------

    async def tell_admins(self, room_id: str, text: str, *, room_admins_only: bool = False) -> list[str]:
        """Tell the room's admins (and the global admins) privately; return who was reached."""
        targets = (
            self.rooms.room_admin_ids(room_id) if room_admins_only else self.rooms.admins_to_notify(room_id)
        )

        async def tell(cid: str) -> str:
            try:
                await self.say_private(cid, text, urgent=True)
                return cid
            except QunguardError as exc:
                log.warning("could not tell admin %s: %s", cid, exc)
            except Exception:
                log.exception("could not tell admin %s", cid)
            return ""

        reached = [cid for cid in await asyncio.gather(*(tell(c) for c in targets)) if cid]
        if not reached:
            log.warning("no admin reached for room %s: %s", room_id, text)
        return reached

    async def say_private(self, contact_id: str, text: str, *, urgent: bool = False) -> str:
        """Through the outbox (waits until sent; raises ``NotAFriend``)."""
        if isinstance(self.port, Outbox):
            return await self.port.say_private(contact_id, text, urgent=urgent)
        return await self.port.say_private(contact_id, text)

    async def _safe_say(self, ctx: CaseContext, text: str) -> None:
        try:
            await self.port.say(ctx.room_id, text, [ctx.contact_id])
        except Exception as exc:
            log.warning("case %s: could not say %r: %s", ctx.case_text, text, exc)

    # --- helpers -------------------------------------------------------------------

    async def _call(self, listeners: list[KickListener], ctx: CaseContext, action: Action) -> None:
        for listener in listeners:
            try:
                await listener(ctx, action)
            except Exception:
                log.exception("%s listener failed", action.kind.value)

    def _record(self, ctx: CaseContext, position: int, outcome: Outcome) -> None:
        if ctx.case_no is None:
            return
        try:
            self.store.record_outcome(
                ctx.case_no, position, outcome.action, outcome.state, outcome.detail, self.clock()
            )
        except StoreUnavailable as exc:
            log.error("case %s: outcome not recorded (%s)", ctx.case_text, exc)

    def _muted_speaking_without_warning(self, ctx: CaseContext, actions: Sequence[Action]) -> bool:
        if not any(v.rule == MUTED_SPEAKING_RULE for v in ctx.violations):
            return False
        if self.is_dry_run(ctx.room_id):
            return False
        shown = {ActionKind.WARN_PUBLIC, ActionKind.WARN_PRIVATE, ActionKind.MUTE, ActionKind.KICK}
        return not any(a.kind in shown for a in actions)


def _in_room(o: Outcome) -> bool:
    return o.action.kind in (ActionKind.WARN_PUBLIC, ActionKind.MUTE) or o.state == FALLBACK


_NOTICE_ORDER = {ActionKind.NOTIFY_INVITER: 1, ActionKind.NOTIFY_ADMINS: 2}

_ADMIN_REASON = frozenset({ActionKind.KICK, ActionKind.BLACKLIST, ActionKind.NOTIFY_ADMINS})


def _what(action: Action) -> str:
    if action.kind is ActionKind.MUTE:
        return f"禁言 {texts.duration_zh(action.duration)}"
    return texts.ACTION_ZH.get(action.kind, action.kind.value)


def _why(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
