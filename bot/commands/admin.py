"""Admin commands: warn, mute, unmute, kick, ban, unban, pardon, strikes, exempt,
dry run, reload, stats.

Each acts on one room: the room it was typed in, or, in a private chat, the one
room the admin manages that holds the member (or the case). Every command is
audited (who, when, what, on which case). Penalties open a case of their own
(rule ``admin-warn`` ...), so they count on the ladder like the bot's and can
be appealed and pardoned like them. Admin commands are carried out for real
even in a dry-run room and without review: a person decided them.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from bot.actions import Action, ActionKind
from bot.app import texts as app_texts
from bot.app.commands import CommandContext
from bot.app.executor import DONE, FAILED, REQUESTED_ADMINS, CaseContext, Outcome
from bot.commands import parse
from bot.commands import texts as t
from bot.commands.base import (
    Refused,
    Target,
    audit,
    display_name,
    may_act_in,
    one_target,
    require_admin_of,
    rule_label,
    usage,
)
from bot.errors import NotAFriend
from bot.store.admin_repo import remove_room_blacklist
from bot.verdicts import Severity

log = logging.getLogger(__name__)

DEFAULT_MUTE = timedelta(hours=24)
KICK_NOTICE = "{name} 因违反群规（{reason}）已被移出群聊，案件号 {case}。"
ADMIN_CATEGORY = "admin"

U_WARN = "#警告 @成员 理由"
U_MUTE = "#禁言 @成员 时长 理由（时长如 30m、2h、1d，默认 24h）"
U_UNMUTE = "#解禁 @成员"
U_KICK = "#踢 @成员 理由"
U_BAN = "#拉黑 @成员 理由"
U_UNBAN = "#解除拉黑 @成员（私聊：#解除拉黑 微信号）"
U_PARDON = "#撤销 案件号 理由"
U_STRIKES = "#记录 @成员"
U_EXEMPT = "#豁免 @成员"
U_UNEXEMPT = "#取消豁免 @成员"
U_DRY_RUN = "#试运行 开/关"
U_RELOAD = "#重载规则"
U_STATS = "#统计"
U_TODO = "#待办"


# --- penalties -------------------------------------------------------------------------


def _reason(text: str) -> str:
    return text.strip()[:200] or "违反群规"


async def _open(
    ctx: CommandContext, target: Target, rule: str, severity: Severity, reason: str, actions: list[Action]
) -> tuple[CaseContext, list[int]]:
    """A case opened by an admin, with its actions recorded before anything is done.

    The case is keyed by the command's message id: a command delivered twice
    (after a reconnect) opens one case and acts once."""
    store = ctx.app.store
    message_id = f"cmd:{ctx.event.id}"
    if store.case_for_message(target.room_id, message_id) is not None:
        log.info("command %s was handled before", ctx.event.id)
        raise Refused("")
    case_no = store.open_case(
        target.room_id,
        target.contact_id,
        rule=rule,
        category=ADMIN_CATEGORY,
        severity=severity,
        by=ctx.sender_id,
        reason=reason,
        at=ctx.at,
        message_id=message_id,
    )
    positions = [store.add_action(case_no, a, state="decided", by=ctx.sender_id, at=ctx.at) for a in actions]
    cctx = CaseContext(
        room_id=target.room_id,
        contact_id=target.contact_id,
        at=ctx.at,
        case_no=case_no,
        name=target.name,
        topic=ctx.app.rooms.topic(target.room_id),
        actions=tuple(actions),
    )
    return cctx, positions


def _record(ctx: CommandContext, cctx: CaseContext, position: int, outcome: Outcome) -> None:
    assert cctx.case_no is not None
    ctx.app.store.record_outcome(
        cctx.case_no, position, outcome.action, outcome.state, outcome.detail, ctx.app.clock()
    )


async def _say_in_room(
    ctx: CommandContext, cctx: CaseContext, lines: list[str], actions: list[Action], positions: list[int]
) -> bool:
    """One @mention notice for the warning and the mute; outcomes recorded either way."""
    try:
        await ctx.app.port.say(cctx.room_id, "\n".join(lines), [cctx.contact_id])
        state, detail = DONE, ""
    except Exception as exc:
        state, detail = FAILED, str(exc) or type(exc).__name__
    for action, position in zip(actions, positions, strict=True):
        _record(ctx, cctx, position, Outcome(action, state, detail))
    return state == DONE


async def warn(ctx: CommandContext) -> None:
    target = await one_target(ctx, U_WARN)
    reason = _reason(target.rest)
    app = ctx.app
    if ctx.in_room:
        action = Action(ActionKind.WARN_PUBLIC, target.room_id, target.contact_id, reason=reason)
        cctx, positions = await _open(ctx, target, "admin-warn", Severity.MINOR, reason, [action])
        ok = await _say_in_room(
            ctx,
            cctx,
            [app_texts.fill(app_texts.WARN_PUBLIC, reason=reason, case=cctx.case_text)],
            [action],
            positions,
        )
    else:
        action = Action(ActionKind.WARN_PRIVATE, target.room_id, target.contact_id, reason=reason)
        cctx, positions = await _open(ctx, target, "admin-warn", Severity.MINOR, reason, [action])
        outcome = await app.executor.perform(cctx, action, positions[0])
        ok = outcome.state in (DONE, "fallback_mention")
    audit(
        ctx, "warn", room_id=target.room_id, target_id=target.contact_id, case_no=cctx.case_no, reason=reason
    )
    if not ok:
        await ctx.reply_private(
            t.fill(t.ACT_FAILED, case=cctx.case_text, name=target.name, action="警告", error="消息未送达")
        )
    elif not ctx.in_room:
        await ctx.reply_private(t.fill(t.WARNED, name=target.name, case=cctx.case_text))


async def mute(ctx: CommandContext) -> None:
    target = await one_target(ctx, U_MUTE)
    first, rest = parse.split_first(target.rest)
    duration = parse.parse_duration(first) if first else None
    if duration is None:
        if first and first[0].isdigit():
            raise usage(U_MUTE)
        duration, rest = DEFAULT_MUTE, target.rest
    reason = _reason(rest)
    app = ctx.app
    until = ctx.at + duration
    warn_a = Action(ActionKind.WARN_PUBLIC, target.room_id, target.contact_id, reason=reason)
    mute_a = Action(ActionKind.MUTE, target.room_id, target.contact_id, duration=duration, reason=reason)
    cctx, positions = await _open(ctx, target, "admin-mute", Severity.MODERATE, reason, [warn_a, mute_a])
    app.note_mute(target.room_id, target.contact_id, until)
    until_text = app_texts.until_text(until, app.tz)
    lines = [
        app_texts.fill(app_texts.WARN_PUBLIC, reason=reason, case=cctx.case_text),
        app_texts.fill(app_texts.MUTE, until=until_text),
    ]
    ok = await _say_in_room(ctx, cctx, lines, [warn_a, mute_a], positions)
    audit(
        ctx,
        "mute",
        room_id=target.room_id,
        target_id=target.contact_id,
        case_no=cctx.case_no,
        reason=reason,
        minutes=int(duration.total_seconds() // 60),
    )
    if not ok:
        await ctx.reply_private(
            t.fill(
                t.ACT_FAILED,
                case=cctx.case_text,
                name=target.name,
                action="禁言通知",
                error="群消息未送达，禁言记录已生效",
            )
        )
    elif not ctx.in_room:
        await ctx.reply_private(
            t.fill(
                t.MUTED,
                name=target.name,
                duration=app_texts.duration_zh(duration),
                until=until_text,
                case=cctx.case_text,
            )
        )


async def unmute(ctx: CommandContext) -> None:
    target = await one_target(ctx, U_UNMUTE)
    app = ctx.app
    lifted = app.store.lift_mute(target.room_id, target.contact_id, by=ctx.sender_id, at=ctx.at)
    app.mute_ends.pop((target.room_id, target.contact_id), None)
    audit(ctx, "unmute", room_id=target.room_id, target_id=target.contact_id, lifted=lifted)
    if not lifted:
        await ctx.reply_private(t.fill(t.NOT_MUTED, name=target.name))
        return
    await app.port.say(target.room_id, t.MUTE_LIFTED_ROOM, [target.contact_id])
    if not ctx.in_room:
        await ctx.reply_private(t.fill(t.UNMUTED, name=target.name))


async def _remove(ctx: CommandContext, *, ban: bool) -> None:
    target = await one_target(ctx, U_BAN if ban else U_KICK)
    reason = _reason(target.rest)
    app = ctx.app
    kick_a = Action(ActionKind.KICK, target.room_id, target.contact_id, reason=reason)
    actions = [kick_a]
    if ban:
        actions.append(Action(ActionKind.BLACKLIST, target.room_id, target.contact_id, reason=reason))
    rule, severity = ("admin-ban", Severity.MALICIOUS) if ban else ("admin-kick", Severity.SEVERE)
    cctx, positions = await _open(ctx, target, rule, severity, reason, actions)
    outcomes = [await app.executor.perform(cctx, a, p) for a, p in zip(actions, positions, strict=True)]
    audit(
        ctx,
        "ban" if ban else "kick",
        room_id=target.room_id,
        target_id=target.contact_id,
        case_no=cctx.case_no,
        reason=reason,
    )
    kicked = outcomes[0].state
    failed = [o for o in outcomes if o.state == FAILED]
    if failed:
        o = failed[0]
        await ctx.reply_private(
            t.fill(
                t.ACT_FAILED,
                case=cctx.case_text,
                name=target.name,
                action=app_texts.ACTION_ZH[o.action.kind],
                error=o.detail,
            )
        )
        return
    if kicked == DONE:
        await app.port.say(
            target.room_id, t.fill(KICK_NOTICE, name=target.name, reason=reason, case=cctx.case_text)
        )
        if not ctx.in_room:
            await ctx.reply_private(
                t.fill(t.BANNED if ban else t.KICKED, name=target.name, case=cctx.case_text)
            )
    elif kicked == REQUESTED_ADMINS and not ctx.in_room:
        await ctx.reply_private(
            t.fill(t.BAN_ASKED if ban else t.KICK_ASKED, name=target.name, case=cctx.case_text)
        )


async def kick(ctx: CommandContext) -> None:
    await _remove(ctx, ban=False)


async def ban(ctx: CommandContext) -> None:
    await _remove(ctx, ban=True)


async def unban(ctx: CommandContext) -> None:
    """A global admin lifts every entry that bars the member (from this room, or from all when
    sent privately); a room admin only the entries of their own rooms."""
    app = ctx.app
    if ctx.in_room:
        require_admin_of(app, ctx.room_id, ctx.sender_id)
        if ctx.mention_ids:
            contact = ctx.mention_ids[0]
        else:
            contact, _ = parse.split_first(ctx.args)  # a removed member cannot be @mentioned: take the id
        rooms = [ctx.room_id]
    else:
        contact, _ = parse.split_first(ctx.args)
        rooms = [r for r in app.rooms.info if may_act_in(app, r, ctx.sender_id)]
    if not parse.CONTACT_ID.match(contact):
        raise usage(U_UNBAN)
    if app.rooms.is_global_admin(ctx.sender_id):
        scope: list[str | None] = list(rooms) if ctx.in_room else [None]
        removed = sum(
            app.store.blacklist_remove(contact, room_id=r, by=ctx.sender_id, at=ctx.at) for r in scope
        )
    else:
        if not rooms:
            raise Refused(t.NOT_ROOM_ADMIN)
        removed = sum(
            remove_room_blacklist(app.store, contact, r, by=ctx.sender_id, at=ctx.at) for r in rooms
        )
    still = next((e for r in rooms if (e := app.store.is_blacklisted(contact, r)) is not None), None)
    name = await display_name(app, ctx.room_id, contact)
    audit(ctx, "unban", target_id=contact, removed=removed)
    if still is not None:
        await ctx.reply_private(t.fill(t.STILL_BANNED, name=name))
    else:
        await ctx.reply_private(t.fill(t.UNBANNED if removed else t.NOT_BANNED, name=name))


# --- cases -----------------------------------------------------------------------------------


async def pardon(ctx: CommandContext) -> None:
    parsed = parse.case_and_rest(ctx.args)
    if parsed is None:
        raise usage(U_PARDON)
    await pardon_case(ctx, parsed.case_no, parsed.rest)


async def pardon_case(
    ctx: CommandContext, case_no: int, reason: str, *, appeal_id: int | None = None
) -> None:
    """Pardon: the strike leaves the history, the mute ends, the blacklist entry goes, the member is told."""
    app = ctx.app
    story = app.store.case(case_no)
    if story is None:
        raise Refused(t.fill(t.NO_CASE, case=case_no))
    case = story.case
    require_admin_of(app, case.room_id, ctx.sender_id)
    if case.state == "pardoned":
        raise Refused(t.fill(t.ALREADY_PARDONED, case=case_no))
    open_appeals = [a for a in story.appeals if a.state == "open"]
    if appeal_id is None and open_appeals:
        appeal_id = open_appeals[0].id
    if appeal_id is not None:
        app.store.decide_appeal(appeal_id, True, ctx.sender_id, answer=reason, at=ctx.at)  # pardons too
    else:
        app.store.pardon(case_no, ctx.sender_id, reason=reason, at=ctx.at)
    from bot.review import review_of

    gate = review_of(app)
    if gate is not None:
        await gate.decide(case_no, False, ctx.sender_id)  # a kick still waiting is dropped
    if app.store.muted_until(case.room_id, case.contact_id, ctx.at) is None:
        app.mute_ends.pop((case.room_id, case.contact_id), None)
    app.forget_member(case.room_id, case.contact_id)
    # the store audits the pardon (who, when, reason) and the appeal's decision
    undo = _undo_text(story)
    told = await tell_member(
        ctx,
        case.contact_id,
        t.fill(
            t.APPEAL_ACCEPTED if appeal_id is not None else t.PARDON_TOLD,
            case=case_no,
            topic=app.rooms.topic(case.room_id),
            undo=undo,
        ),
    )
    name = await display_name(app, case.room_id, case.contact_id)
    answer = t.fill(t.PARDONED, case=case_no, name=name if told else f"{name}（未能私信告知）")
    if any(a.kind == ActionKind.KICK.value and a.state == DONE for a in story.actions):
        answer += "\n" + t.fill(t.PARDONED_KICKED, name=name)
    await ctx.reply_private(answer)


def _undo_text(story: object) -> str:
    actions = getattr(story, "actions", ())
    kinds = {a.kind for a in actions if a.state in (DONE, "decided")}
    parts = []
    if ActionKind.MUTE.value in kinds:
        parts.append("禁言已解除")
    if ActionKind.BLACKLIST.value in kinds:
        parts.append("已移出黑名单")
    return ("，" + "，".join(parts)) if parts else ""


async def tell_member(ctx: CommandContext, contact_id: str, text: str) -> bool:
    try:
        await ctx.app.executor.say_private(contact_id, text)
        return True
    except NotAFriend:
        return False
    except Exception as exc:
        log.info("could not tell %s: %s", contact_id, exc)
        return False


async def strikes(ctx: CommandContext) -> None:
    target = await one_target(ctx, U_STRIKES)
    app = ctx.app
    ladder = app.rules.ladder
    since = ladder.window_start(ctx.at)
    days = max(1, round((ctx.at - since).total_seconds() / 86400))
    room = None if ladder.across_rooms else target.room_id
    cases = [
        c
        for c in app.store.cases(room_id=room, contact_id=target.contact_id, since=since, limit=50)
        if c.state != "pardoned"
    ]
    audit(ctx, "strikes", room_id=target.room_id, target_id=target.contact_id)
    if not cases:
        await ctx.reply_private(t.fill(t.STRIKES_NONE, name=target.name, days=days))
        return
    lines = [t.fill(t.STRIKES_HEAD, name=target.name, days=days, count=len(cases))]
    for c in cases[:10]:
        lines.append(
            t.fill(
                t.STRIKE_LINE,
                case=c.case_no,
                day=app_texts.until_text(c.created_at, app.tz),
                what="、".join(dict.fromkeys(rule_label(app, r) for r in c.rules)) or c.severity,
                state="（待确认）" if c.state == "awaiting_review" else "",
            )
        )
    await ctx.reply_private("\n".join(lines))


# --- members, modes, rules, stats ----------------------------------------------------------


async def _exempt(ctx: CommandContext, on: bool) -> None:
    target = await one_target(ctx, U_EXEMPT if on else U_UNEXEMPT)
    ctx.app.store.set_member(target.room_id, target.contact_id, exempt=on, by=ctx.sender_id)
    ctx.app.forget_member(target.room_id, target.contact_id)
    audit(ctx, "exempt" if on else "unexempt", room_id=target.room_id, target_id=target.contact_id)
    await ctx.reply_private(t.fill(t.EXEMPTED if on else t.UNEXEMPTED, name=target.name))


async def exempt(ctx: CommandContext) -> None:
    await _exempt(ctx, True)


async def unexempt(ctx: CommandContext) -> None:
    await _exempt(ctx, False)


async def dry_run(ctx: CommandContext) -> None:
    word, _ = parse.split_first(ctx.args)
    on = parse.on_off(word)
    app = ctx.app
    if on is None:
        if word or not ctx.in_room:
            raise usage(U_DRY_RUN)
        state = "试运行（只报告不处理）" if app.executor.is_dry_run(ctx.room_id) else "正式运行"
        raise Refused(f"本群当前为{state}。" + t.fill(t.USAGE, usage=U_DRY_RUN))
    if ctx.in_room:
        require_admin_of(app, ctx.room_id, ctx.sender_id)
        app.executor.set_dry_run(ctx.room_id, on)
        where = "本群"
    else:
        if not app.rooms.is_global_admin(ctx.sender_id):
            raise Refused(t.GLOBAL_ONLY)
        app.executor.dry_run_override.clear()  # the switch for every room wins over earlier per-room ones
        app.executor.set_dry_run(None, on)
        where = "所有群"
    audit(ctx, "dry_run", room_id=ctx.room_id or None, on=on)
    await ctx.reply(t.fill(t.DRY_RUN_ON if on else t.DRY_RUN_OFF, where=where))


async def stats(ctx: CommandContext) -> None:
    app = ctx.app
    if ctx.in_room:
        require_admin_of(app, ctx.room_id, ctx.sender_id)
        rooms = [ctx.room_id]
    else:
        rooms = [r for r in app.rooms.moderated_ids() if may_act_in(app, r, ctx.sender_id)]
    today = app.store.day_of(ctx.at)
    start = datetime.combine(today, time(0), tzinfo=app.tz)
    parts = []
    for room_id in rooms:
        counts = next(iter(app.store.daily_counts(room_id, today, today)), None)
        cases = app.store.cases(room_id=room_id, since=start, limit=None)
        if counts is None and not cases:
            continue
        by_rule = counts.by_rule if counts is not None else {}
        by_category: dict[str, int] = {}
        for rule, n in by_rule.items():
            label = rule_label(app, rule)
            by_category[label] = by_category.get(label, 0) + n
        top = sorted(by_category.items(), key=lambda kv: -kv[1])[:4]
        pending = sum(1 for c in cases if c.state == "awaiting_review")
        parts.append(
            t.fill(
                t.STATS,
                topic=app.rooms.topic(room_id) or room_id,
                day=f"{today:%m-%d}",
                messages=counts.messages if counts else 0,
                speakers=counts.speakers if counts else 0,
                joins=counts.joins if counts else 0,
                leaves=counts.leaves if counts else 0,
                violations=counts.violations if counts else 0,
                by_rule=("（" + "、".join(f"{label} {n}" for label, n in top) + "）") if top else "",
                cases=len(cases),
                pending=f"，{pending} 起待确认" if pending else "",
            )
        )
    audit(ctx, "stats")
    await ctx.reply_private("\n\n".join(parts) if parts else t.STATS_NONE)


async def todo(ctx: CommandContext) -> None:
    """What waits for the admins of the rooms this admin manages: reviews and appeals."""
    app = ctx.app
    rooms = [ctx.room_id] if ctx.in_room else [r for r in app.rooms.info if may_act_in(app, r, ctx.sender_id)]
    if ctx.in_room:
        require_admin_of(app, ctx.room_id, ctx.sender_id)
    lines: list[str] = []
    by_case: dict[int, list[str]] = {}
    for review in app.store.pending_reviews():
        by_case.setdefault(review.case_no, []).append(_action_zh(review.action_kind))
    for case_no, kinds in sorted(by_case.items()):
        story = app.store.case(case_no)
        if story is None or story.case.room_id not in rooms:
            continue
        name = await display_name(app, story.case.room_id, story.case.contact_id)
        lines.append(
            t.fill(
                t.TODO_REVIEW,
                case=case_no,
                name=name,
                actions="、".join(dict.fromkeys(kinds)),
                topic=app.rooms.topic(story.case.room_id),
            )
        )
    for appeal_ in app.store.appeals(state="open"):
        story = app.store.case(appeal_.case_no)
        if story is None or story.case.room_id not in rooms:
            continue
        name = await display_name(app, story.case.room_id, appeal_.contact_id)
        lines.append(
            t.fill(
                t.TODO_APPEAL,
                case=appeal_.case_no,
                name=name,
                text=app_texts.excerpt(appeal_.text, 40),
                topic=app.rooms.topic(story.case.room_id),
            )
        )
    audit(ctx, "todo")
    await ctx.reply_private("\n".join([t.TODO_HEAD, *lines[:20]]) if lines else t.TODO_NONE)


def _action_zh(value: str) -> str:
    """An action kind as the admins read it (禁言, 移出群聊), or as stored if unknown."""
    try:
        return app_texts.ACTION_ZH.get(ActionKind(value), value)
    except ValueError:
        return value


async def reload_rules(ctx: CommandContext) -> None:
    from bot.reload import reload_now

    await reload_now(ctx)
