"""Admins and members in the loop: commands, appeals, reports, human review.

Installed into every :class:`~bot.app.App` through :data:`bot.app.plugins.PLUGIN_MODULES`.
In a room a command starts with ``#`` (or ``＃``); in a private chat with the bot
the ``#`` may be left out. Chinese words, with short English aliases:

=========================  ===========================================  ==========
command                    what it does                                 who
=========================  ===========================================  ==========
#帮助 #help                 the commands this person may use              anyone
#群规 #rules                the rules summary and the penalty tiers       anyone
#举报 #report @成员 说明     tell the room's admins                        anyone
申诉 17 理由 (private)      appeal case 17: recorded, admins told         the member
#警告 #warn @成员 理由       public warning (private one if sent privately) admins
#禁言 #mute @成员 2h 理由    warning + the bot's mute record (default 24h)  admins
#解禁 #unmute @成员          lift the mute                                 admins
#踢 #kick @成员 理由         remove (or ask the human admins)              admins
#拉黑 #ban @成员 理由        remove and blacklist                          admins
#解除拉黑 #unban @成员        remove from the blacklist                     admins
#撤销 #pardon 17 理由        pardon case 17: strike, mute, blacklist gone   admins
#记录 #strikes @成员         the member's cases in the ladder's window      admins
#豁免 #exempt @成员          a trusted member: not moderated               admins
#取消豁免 #unexempt @成员     moderated again                               admins
#试运行 #dryrun 开/关         dry run in this room (privately: every room)  admins
#重载规则 #reload            reload rules.yaml now                         admins
#统计 #stats                today's figures of the room                   admins
#待办 #todo                 reviews and appeals waiting for this admin     admins
同意 17 / 驳回 17 [理由]     decide a waiting kick/blacklist or an appeal   admins
=========================  ===========================================  ==========

Admins are known by contact id only (``bot.admins`` in the config, the room's
owner and admins as WeChat reports them); the member a command is about is
the contact id of the @mention WeChat attached, never a typed name. An admin
of one room cannot act on another. Refusals, usage lines and confirmations go
to the admin privately, so the room sees only the penalty notices.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from bot.actions import Action
from bot.app.commands import CommandContext, Where
from bot.app.executor import CaseContext
from bot.commands import admin, member, parse
from bot.commands import texts as t
from bot.commands.base import Refused, Spec, display_name, guarded, require_admin_of, usage
from bot.events import PrivateMessage

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

U_DECIDE_YES = "同意 案件号"
U_DECIDE_NO = "驳回 案件号 理由"


async def _decide(ctx: CommandContext, approve: bool) -> None:
    from bot.review import result_text, review_of, what_text  # bot.review imports this package

    parsed = parse.case_and_rest(ctx.args)
    if parsed is None:
        raise usage(U_DECIDE_YES if approve else U_DECIDE_NO)
    app = ctx.app
    story = app.store.case(parsed.case_no)
    if story is None:
        raise Refused(t.fill(t.NO_CASE, case=parsed.case_no))
    require_admin_of(app, story.case.room_id, ctx.sender_id)
    gate = review_of(app)
    decided = await gate.decide(parsed.case_no, approve, ctx.sender_id) if gate is not None else None
    if decided is not None:
        what = what_text(decided.actions)
        await _tell_other_admins(
            ctx,
            story.case.room_id,
            t.fill(
                t.REVIEW_DECIDED_BY,
                case=parsed.case_no,
                verb="同意执行" if approve else "驳回",
                admin=await display_name(app, story.case.room_id, ctx.sender_id),
                actions=what,
            ),
        )
        if approve:
            await ctx.reply_private(
                t.fill(
                    t.REVIEW_APPROVED, case=parsed.case_no, actions=what, result=result_text(decided.outcomes)
                )
            )
        else:
            await ctx.reply_private(t.fill(t.REVIEW_REJECTED, case=parsed.case_no, actions=what))
        return
    if await member.decide_appeal(ctx, parsed.case_no, approve, parsed.rest):
        return
    raise Refused(t.fill(t.REVIEW_NOTHING, case=parsed.case_no))


async def _tell_other_admins(ctx: CommandContext, room_id: str, text: str) -> None:
    """The other admins were asked too: tell them it is decided, so nobody acts twice."""
    app = ctx.app
    for cid in app.rooms.admins_to_notify(room_id):
        if cid != ctx.sender_id:
            try:
                await app.executor.say_private(cid, text, urgent=True)
            except Exception as exc:
                log.info("could not tell admin %s: %s", cid, exc)


async def approve(ctx: CommandContext) -> None:
    await _decide(ctx, True)


async def reject(ctx: CommandContext) -> None:
    await _decide(ctx, False)


async def show_help(ctx: CommandContext) -> None:
    """Every command registered on this app (the core's #启用, other features' too) this person may use."""
    app = ctx.app
    if ctx.in_room and not ctx.is_admin:
        try:  # room admins change without an event
            app.rooms.remember(await app.puppet.room_info(ctx.room_id))
        except Exception as exc:
            log.info("room %s: cannot re-read its admins (%s)", ctx.room_id, exc)
    is_admin = ctx.is_admin or any(app.rooms.is_admin(r, ctx.sender_id) for r in app.rooms.info)
    everyone = [c for c in app.commands.commands() if not c.admin_only and c.usage]
    lines = [t.HELP_EVERYONE_HEAD, *(f"{c.usage} —— {c.help}" if c.help else c.usage for c in everyone)]
    if is_admin:
        admins = [c for c in app.commands.commands() if c.admin_only and c.usage]
        lines = [
            t.HELP_ADMIN_HEAD,
            *(f"{c.usage} —— {c.help}" if c.help else c.usage for c in admins),
            *lines,
        ]
    await ctx.reply_private("\n".join(lines))


SPECS: tuple[Spec, ...] = (
    Spec(("帮助", "菜单", "命令", "help", "?", "？"), show_help, "#帮助", "查看命令", admin_only=False),
    Spec(("群规", "规则", "群规则", "rules"), member.show_rules, "#群规", "查看群规", admin_only=False),
    Spec(
        ("举报", "report"),
        member.report,
        "#举报 @成员 说明",
        "向管理员举报",
        admin_only=False,
        for_admins=member.takes_report,
    ),
    Spec(("申诉", "appeal"), member.appeal, "申诉 案件号 理由", "对处理提出申诉", admin_only=False),
    Spec(("警告", "warn"), admin.warn, admin.U_WARN, "警告成员（私聊发送则私下提醒）"),
    Spec(("禁言", "mute"), admin.mute, admin.U_MUTE, "禁言（机器人记录；禁言中发言将被提醒并升级处理）"),
    Spec(("解禁", "解除禁言", "unmute"), admin.unmute, admin.U_UNMUTE, "解除禁言"),
    Spec(("踢", "踢出", "移出", "kick"), admin.kick, admin.U_KICK, "移出群聊"),
    Spec(("拉黑", "ban"), admin.ban, admin.U_BAN, "移出并拉黑"),
    Spec(("解除拉黑", "unban"), admin.unban, admin.U_UNBAN, "移出黑名单"),
    Spec(
        ("撤销", "pardon"),
        admin.pardon,
        admin.U_PARDON,
        "撤销案件：不计违规次数，解除禁言和黑名单，并告知成员",
    ),
    Spec(("记录", "违规记录", "strikes"), admin.strikes, admin.U_STRIKES, "查看成员的违规记录"),
    Spec(("豁免", "exempt"), admin.exempt, admin.U_EXEMPT, "设为信任成员，不再自动处理"),
    Spec(("取消豁免", "unexempt"), admin.unexempt, admin.U_UNEXEMPT, "取消信任成员"),
    Spec(("试运行", "dryrun"), admin.dry_run, admin.U_DRY_RUN, "试运行：只报告不处理（私聊：所有群）"),
    Spec(("重载规则", "重载", "reload"), admin.reload_rules, admin.U_RELOAD, "重新加载规则文件"),
    Spec(("统计", "stats"), admin.stats, admin.U_STATS, "今日统计"),
    Spec(("待办", "待处理", "todo"), admin.todo, admin.U_TODO, "查看待确认的处理和待处理的申诉"),
    Spec(("同意", "approve"), approve, U_DECIDE_YES, "同意待确认的踢人/拉黑，或同意申诉"),
    Spec(("驳回", "reject"), reject, U_DECIDE_NO, "驳回待确认的踢人/拉黑，或驳回申诉"),
)


async def _unknown(ctx: CommandContext) -> None:
    """An unknown ``#word`` in a room: a usage line to an admin, privately; members' #话题 stay harmless."""
    if ctx.is_admin:
        await ctx.reply_private(t.fill(t.UNKNOWN, word=ctx.word))


def _quoted_report_words(text: str) -> tuple[str, str] | None:
    """Quoting a message and replying ``#举报 说明`` in a room is the report command
    (:func:`member.report` reads the quoted message from the event)."""
    found = member.quoted_report(text)
    return None if found is None else ("举报", found[1])


async def _private(app: App, msg: PrivateMessage) -> bool:
    """Private text no registered word took: ``申诉17 理由``, ``同意17``, or an unknown ``#word``."""
    text = msg.text.strip()
    ctx = CommandContext(
        app, "", "", msg.sender_id, msg.at, msg, "", app.rooms.is_global_admin(msg.sender_id)
    )
    quoted = member.quoted_report(text)
    if quoted is not None:
        ctx2 = replace(ctx, word="举报", args=quoted[1])
        await guarded(lambda c: member.report(c, quoted=quoted[0]))(ctx2)
        return True

    async def appeal(found: tuple[int, str]) -> bool:
        case_no, reason = found
        await guarded(lambda c: member.file_appeal(c, case_no, reason))(replace(ctx, word="申诉"))
        return True

    if (found := member.appeal_in_free_text(text)) is not None:
        return await appeal(found)
    for word, yes in (("同意", True), ("驳回", False)):
        if text.startswith(word) and parse.case_and_rest(text[len(word) :]) is not None:
            if not any(app.rooms.is_admin(r, msg.sender_id) for r in app.rooms.info):
                return False
            ctx2 = replace(ctx, word=word, args=text[len(word) :].strip())
            await guarded(approve if yes else reject)(ctx2)
            return True
    if text.startswith(("同意", "驳回")):
        return False  # an admin's decision without a case number is no appeal
    if (found := member.appeal_in_sentence(text)) is not None:
        return await appeal(found)
    if member.wants_to_appeal(text):
        await guarded(member.explain_appeal)(replace(ctx, word="申诉"))
        return True
    if text.startswith(("#", "＃")):
        word = text[1:].split(maxsplit=1)[0] if text[1:].strip() else ""
        await ctx.reply_private(t.fill(t.UNKNOWN, word=word) if word else t.HELP_MEMBER)
        return True
    return False


def _removed_notice(app: App) -> Callable[[CaseContext, Action], Awaitable[None]]:
    async def tell(ctx: CaseContext, action: Action) -> None:
        if ctx.case_no is None or ctx.case_no <= 0:
            return  # a blacklisted member removed on joining: nothing to appeal here
        text = t.fill(
            t.REMOVED_TOLD,
            reason=action.reason or "违反群规",
            case=ctx.case_text,
            topic=ctx.topic or app.rooms.topic(ctx.room_id),
        )
        try:
            await app.executor.say_private(ctx.contact_id, text)
        except Exception as exc:  # not a friend, or the send failed: the case has the record anyway
            log.info("removed member %s not told: %s", ctx.contact_id, exc)

    return tell


def install(app: App) -> None:
    """Register the commands on this app, the review gate, and the private-message hook."""
    from bot import review

    for spec in SPECS:
        app.commands.add(replace(spec, handler=guarded(spec.handler)).command())
    app.commands.unknown = _unknown
    app.commands.recognisers.append(_quoted_report_words)
    app.hooks.private.append(_private)
    app.hooks.login.append(_restore_dry_run)
    app.executor.on_kicked.append(_removed_notice(app))
    review.install(app)


async def _restore_dry_run(app: App, _event: object) -> None:
    """``#试运行`` switches survive a restart: the audited switches are replayed, oldest first."""
    try:
        entries = [e for e in app.store.audit_log(limit=5000) if e.command == "dry_run" and "on" in e.detail]
    except Exception as exc:
        log.warning("dry-run switches not restored: %s", exc)
        return
    for entry in reversed(entries):
        if entry.room_id:
            app.executor.set_dry_run(entry.room_id, bool(entry.detail["on"]))
        else:
            app.executor.dry_run_override.clear()  # a switch for every room overrides the earlier ones
            app.executor.set_dry_run(None, bool(entry.detail["on"]))


__all__ = ["SPECS", "Spec", "Where", "install"]
