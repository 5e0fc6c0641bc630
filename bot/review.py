"""Human review (人工复核) of drastic actions before the bot carries them out.

The kinds listed under ``ladder.review`` in rules.yaml (by default kick and
blacklist) wait for a room admin when ``moderation.review`` is on::

    【待确认】案件 17：「提金技术交流群」的 李四（wxid_li），禁止赌博相关内容。
    拟移出群聊、拉黑。回复“同意 17”执行，“驳回 17”取消；30 分钟内无人处理将自动执行。

* ``同意 17`` carries the waiting actions out (through the executor, which
  records each outcome on the case); ``驳回 17`` drops them.
* This request is the admins' notice of the case: the executor sends no
  【违规通报】 beside it. The inviter's notice waits with the removal and is
  sent once it is carried out (and dropped with it).
* After ``review_timeout_min`` the ``review_default`` applies (``act`` or
  ``drop``): the :func:`review_timeouts` job, every 30 s.
* Requests live in the store (``reviews``), so a restart loses none: the
  action and its context are rebuilt from the case.
* Not held: a blacklisted member's removal on joining (the admins decided
  that already) and actions with no case number (database down): the bot
  does not hold what it cannot record.

Every decision (approve, reject, time-out) is audited by the store.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.actions import Action, ActionKind
from bot.app import texts as app_texts
from bot.app.executor import AWAITING_REVIEW, DONE, REQUESTED_ADMINS, CaseContext, Outcome
from bot.commands import texts as t
from bot.errors import QunguardError, StoreUnavailable
from bot.scheduler import task
from bot.store import ReviewView
from bot.store.journal import action_from_json

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

CHECK_S = 30
DROPPED = "dropped"


@dataclass(frozen=True)
class Decided:
    case_no: int
    approved: bool | None
    """True 同意, False 驳回, None timed out."""
    actions: tuple[Action, ...]
    outcomes: tuple[Outcome, ...] = ()


class HumanReview:
    """The executor's :class:`~bot.app.executor.ReviewGate`, and the decisions on it."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._held: dict[int, tuple[CaseContext, Action]] = {}
        """review id -> what to carry out (rebuilt from the store after a restart)."""
        self._asked: set[int] = set()
        self._deciding = asyncio.Lock()
        """One decision at a time: two admins answering at once must not both act."""

    # --- policy -----------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        return self.app.config.moderation.review

    @property
    def timeout(self) -> timedelta:
        return timedelta(minutes=max(1, self.app.config.moderation.review_timeout_min))

    @property
    def default(self) -> str:
        return self.app.config.moderation.review_default

    # --- the gate ---------------------------------------------------------------

    def _reviewed(self, ctx: CaseContext, action: Action) -> bool:
        if action.kind is ActionKind.KICK and self.app.rooms.bot_can_kick(ctx.room_id) is False:
            return False  # the bot asks the admins to remove the member: that request is the review
        return self.app.rules.ladder.needs_review(action)

    async def hold(self, ctx: CaseContext, action: Action, position: int) -> bool:
        if not self.enabled or ctx.case_no is None or ctx.case_no <= 0 or not self._reviewed(ctx, action):
            return False
        now = self.app.clock()
        try:
            review = self.app.store.request_review(
                ctx.case_no, action.kind, now + self.timeout, self.default, position=position, at=now
            )
        except (StoreUnavailable, QunguardError) as exc:
            log.warning("case %s: review not recorded (%s); acting without it", ctx.case_text, exc)
            return False
        self._held[review.id] = (ctx, action)
        if ctx.case_no not in self._asked:
            self._asked.add(ctx.case_no)
            held = [a for a in (ctx.actions or (action,)) if self._reviewed(ctx, a)] or [action]
            await self.app.executor.tell_admins(
                ctx.room_id,
                t.fill(
                    t.REVIEW_ASK,
                    case=ctx.case_text,
                    topic=ctx.topic or self.app.rooms.topic(ctx.room_id),
                    name=ctx.display,
                    contact=ctx.contact_id,
                    reason=action.reason,
                    actions=what_text(held),
                    minutes=int(self.timeout.total_seconds() // 60),
                    default="自动执行" if self.default == "act" else "自动取消",
                ),
            )
        return True

    # --- decisions ---------------------------------------------------------------

    def pending(self, case_no: int) -> list[ReviewView]:
        return sorted(
            (r for r in self.app.store.pending_reviews() if r.case_no == case_no),
            key=lambda r: (r.action_position if r.action_position is not None else 99, r.id),
        )

    async def decide(self, case_no: int, approved: bool, by: str) -> Decided | None:
        """An admin's 同意 / 驳回 on every action of the case still waiting; None if none waits."""
        async with self._deciding:
            return await self._settle(self.pending(case_no), approved, by)

    async def expire(self, now: datetime) -> list[Decided]:
        """Apply the default to every request past its deadline; tell the admins."""
        by_case: dict[int, list[ReviewView]] = {}
        for r in self.app.store.pending_reviews(due_before=now):
            by_case.setdefault(r.case_no, []).append(r)
        out: list[Decided] = []
        for case_no in by_case:
            async with self._deciding:
                reviews = [r for r in self.pending(case_no) if r.deadline <= now]
                decided = await self._settle(reviews, None, "")
            if decided is None:
                continue
            out.append(decided)
            room_id = self._room_of(case_no)
            act = any(r.default_decision == "act" for r in reviews)
            minutes = max(1, round((reviews[0].deadline - reviews[0].requested_at).total_seconds() / 60))
            await self.app.executor.tell_admins(
                room_id,
                t.fill(
                    t.REVIEW_TIMED_OUT,
                    case=case_no,
                    minutes=minutes,
                    verb="执行" if act else "取消",
                    actions=what_text(decided.actions),
                    result=result_text(decided.outcomes)
                    if any(o.state != DONE for o in decided.outcomes)
                    else "",
                ),
            )
        return out

    async def _settle(self, reviews: list[ReviewView], approved: bool | None, by: str) -> Decided | None:
        if not reviews:
            return None
        case_no = reviews[0].case_no
        actions: list[Action] = []
        outcomes: list[Outcome] = []
        now = self.app.clock()
        last: CaseContext | None = None
        for r in sorted(reviews, key=lambda r: (r.action_position or 0, r.id)):
            view = self.app.store.decide_review(r.id, approved, by=by, at=now)
            if view.state != ("timed_out" if approved is None else ("approved" if approved else "rejected")):
                continue  # someone else decided it first
            found = self._context(r)
            if found is None:
                log.warning("review %s: case %s has no such action any more", r.id, case_no)
                continue
            ctx, action = found
            last = ctx
            actions.append(action)
            act = approved if approved is not None else r.default_decision == "act"
            position = r.action_position if r.action_position is not None else 0
            if act:
                outcomes.append(await self.app.executor.perform(ctx, action, position))
            else:
                why = "驳回" if approved is False else "复核超时，按默认取消"
                self.app.store.set_action_state(
                    case_no,
                    action.kind,
                    DROPPED,
                    why,
                    by=by or self.app.rooms.bot_id,
                    at=now,
                    position=position,
                )
            self._held.pop(r.id, None)
        if not actions:
            return None
        if last is not None and not self.pending(case_no):
            await self._waiting_notices(last, outcomes, by, now)
        return Decided(case_no, approved, tuple(actions), tuple(outcomes))

    async def _waiting_notices(
        self, ctx: CaseContext, outcomes: list[Outcome], by: str, now: datetime
    ) -> None:
        """The case's inviter notice waited for the removal: send it now that the removal was
        carried out (it reports how that went), or drop it with the removal."""
        story = self.app.store.case(ctx.case_no) if ctx.case_no is not None else None
        if story is None:
            return
        for view in story.actions:
            if view.kind != ActionKind.NOTIFY_INVITER.value or view.state != AWAITING_REVIEW:
                continue
            if outcomes:
                params = {"kind": view.kind, "room_id": ctx.room_id, "contact_id": ctx.contact_id}
                action = action_from_json({**params, **view.params, "reason": view.reason})
                await self.app.executor.perform(ctx, action, view.position, outcomes)
            else:
                self.app.store.set_action_state(
                    story.case.case_no,
                    view.kind,
                    DROPPED,
                    "移出未执行，未告知邀请人",
                    by=by or self.app.rooms.bot_id,
                    at=now,
                    position=view.position,
                )

    def _context(self, review: ReviewView) -> tuple[CaseContext, Action] | None:
        held = self._held.get(review.id)
        if held is not None:
            return held
        story = self.app.store.case(review.case_no)
        if story is None:
            return None
        view = next(
            (a for a in story.actions if a.position == review.action_position),
            next((a for a in story.actions if a.kind == review.action_kind), None),
        )
        if view is None:
            return None
        case = story.case
        params = {"kind": view.kind, "room_id": case.room_id, "contact_id": case.contact_id, **view.params}
        params.setdefault("reason", view.reason)
        action = action_from_json(params)
        facts = self.app.member(case.room_id, case.contact_id)
        name = facts.display_name if facts is not None else ""
        ctx = CaseContext(
            room_id=case.room_id,
            contact_id=case.contact_id,
            at=self.app.clock(),
            case_no=case.case_no,
            name=name,
            topic=self.app.rooms.topic(case.room_id),
            inviter_id=facts.inviter_id if facts is not None else "",
        )
        return ctx, action

    def _room_of(self, case_no: int) -> str:
        story = self.app.store.case(case_no)
        return story.case.room_id if story is not None else ""


def what_text(actions: list[Action] | tuple[Action, ...]) -> str:
    return "、".join(dict.fromkeys(app_texts.ACTION_ZH.get(a.kind, a.kind.value) for a in actions))


def result_text(outcomes: tuple[Outcome, ...]) -> str:
    """How the approved actions went, for the admin's confirmation."""
    parts = []
    for o in outcomes:
        if o.state == DONE:
            continue
        if o.state == REQUESTED_ADMINS:
            parts.append("我没有管理权限，已请群主、管理员动手移出")
        else:
            parts.append(
                f"{app_texts.ACTION_ZH.get(o.action.kind, o.action.kind.value)}未能完成（{o.detail}）"
            )
    return ("，" + "；".join(parts)) if parts else "，已完成"


def review_of(app: App) -> HumanReview | None:
    gate = app.executor.review_gate
    return gate if isinstance(gate, HumanReview) else None


@task("review_timeouts")
async def review_timeouts(app: App, now: datetime) -> list[Decided]:
    """Requests past their deadline get the default (act or drop)."""
    gate = review_of(app)
    if gate is None:
        return []
    return await gate.expire(now)


def install(app: App) -> HumanReview:
    gate = HumanReview(app)
    app.executor.review_gate = gate

    async def schedule(app_: App, _event: object) -> None:
        if app_.scheduler is not None:
            app_.scheduler.every("review-timeouts", "review_timeouts", CHECK_S)

    app.hooks.login.append(schedule)
    return gate


__all__ = [
    "CHECK_S",
    "Decided",
    "HumanReview",
    "install",
    "result_text",
    "review_of",
    "review_timeouts",
    "what_text",
]
