"""What every command handler needs: whose room, about whom, who may, and the audit trail."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.app.commands import Command, CommandContext, Where
from bot.commands import parse
from bot.commands import texts as t
from bot.errors import QunguardError, StoreUnavailable

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Spec:
    """One command: its words (Chinese first, then English aliases), where it works, who may use it."""

    words: tuple[str, ...]
    handler: Callable[[CommandContext], Awaitable[None]]
    usage: str
    help: str
    admin_only: bool = True
    where: Where = Where.BOTH
    for_admins: Callable[[CommandContext], bool] | None = None
    """See :attr:`bot.app.commands.Command.for_admins` (reports)."""

    @property
    def name(self) -> str:
        """The English word: what the audit log records."""
        return next((w for w in self.words if w.isascii()), self.words[0])

    def command(self) -> Command:
        return Command(
            self.words, self.handler, self.where, self.admin_only, self.usage, self.help, self.for_admins
        )


class Refused(Exception):
    """A handler stops and tells the sender why, privately."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


@dataclass(frozen=True)
class Target:
    room_id: str
    contact_id: str
    name: str
    rest: str
    """The command's remaining words (reason, duration...)."""


def usage(spec_usage: str) -> Refused:
    return Refused(t.fill(t.USAGE, usage=spec_usage))


def may_act_in(app: App, room_id: str, contact_id: str) -> bool:
    """Owner or admin of that room, or a global admin: by contact id only."""
    return app.rooms.is_admin(room_id, contact_id)


def require_admin_of(app: App, room_id: str, contact_id: str) -> None:
    if not may_act_in(app, room_id, contact_id):
        raise Refused(t.NOT_ROOM_ADMIN)


async def display_name(app: App, room_id: str, contact_id: str) -> str:
    """For showing only (never for deciding who someone is)."""
    facts = app.member(room_id, contact_id) if room_id else None
    if facts is not None and facts.display_name:
        return facts.display_name
    try:
        return await app.puppet.contact_name(contact_id, room_id) or contact_id
    except Exception:
        return contact_id


async def one_target(ctx: CommandContext, spec_usage: str) -> Target:
    """The member a command is about, and the room it acts in.

    In a room: the one @mentioned contact id; a hand-typed ``@名字`` without a
    real mention is refused (names are never looked up). In a private chat:
    a contact id, in the one room the admin manages that has this member."""
    app = ctx.app
    if ctx.in_room:
        ids = ctx.mention_ids
        if not ids:
            if parse.has_typed_mention(ctx.args):
                raise Refused(t.fill(t.NEED_MENTION, usage=spec_usage))
            raise usage(spec_usage)
        if len(ids) > 1:
            raise Refused(t.ONE_AT_A_TIME)
        target = ids[0]
        rest = parse.strip_mentions(ctx.args, len(ids))
        room_id = ctx.room_id
        require_admin_of(app, room_id, ctx.sender_id)
    else:
        first, rest = parse.split_first(ctx.args)
        if not parse.CONTACT_ID.match(first):
            raise usage(spec_usage.replace("@成员", "成员微信号"))
        target = first
        rooms = [
            r
            for r in app.rooms.moderated_ids()
            if may_act_in(app, r, ctx.sender_id) and app.rooms.has_member(r, target)
        ]
        if not rooms:
            raise Refused(t.NO_ROOM_FOR_TARGET)
        if len(rooms) > 1:
            raise Refused(t.SEVERAL_ROOMS)
        room_id = rooms[0]
    if target == ctx.sender_id or app.rooms.is_bot(target):
        raise Refused(t.NOT_SELF)
    name = await display_name(app, room_id, target)
    info = app.rooms.info.get(room_id)
    protected = app.rooms.is_global_admin(target) or (info is not None and target == info.owner_id)
    if protected and not (app.rooms.is_global_admin(ctx.sender_id) and not app.rooms.is_global_admin(target)):
        raise Refused(t.fill(t.TARGET_IS_ADMIN, name=name))
    return Target(room_id, target, name, rest)


ADMIN_RULES = {
    "admin-warn": "管理员警告",
    "admin-mute": "管理员禁言",
    "admin-kick": "管理员移出",
    "admin-ban": "管理员拉黑",
}


def rule_label(app: App, rule: str) -> str:
    """What admins read for a rule: its category in Chinese (广告, 刷屏 ...) or the admin's action."""
    from bot.moderation import MUTED_SPEAKING_RULE
    from bot.verdicts import CATEGORY_ZH

    if rule in ADMIN_RULES:
        return ADMIN_RULES[rule]
    if rule == MUTED_SPEAKING_RULE:
        return "禁言期间发言"
    category = next((r.category for r in getattr(app.rules.ruleset, "rules", ()) or () if r.name == rule), "")
    return CATEGORY_ZH.get(category, category) if category else rule


def audit(
    ctx: CommandContext,
    command: str,
    *,
    room_id: str | None = None,
    target_id: str | None = None,
    case_no: int | None = None,
    **detail: Any,
) -> None:
    """Who did what, when: every admin command and every decision."""
    detail = {k: v for k, v in detail.items() if v not in (None, "")}
    if ctx.args and "args" not in detail:
        detail["args"] = ctx.args[:500]
    detail["via"] = "room" if ctx.in_room else "private"
    try:
        ctx.app.store.audit(
            ctx.sender_id,
            command,
            room_id=room_id or ctx.room_id or None,
            target_id=target_id,
            case_no=case_no if case_no and case_no > 0 else None,
            detail=detail,
            at=ctx.at,
        )
    except (StoreUnavailable, QunguardError) as exc:
        log.error("audit of %s by %s not stored: %s", command, ctx.sender_id, exc)


def guarded(fn: Callable[[CommandContext], Awaitable[None]]) -> Callable[[CommandContext], Awaitable[None]]:
    """Run a handler; a :class:`Refused` becomes a short private answer."""

    async def run(ctx: CommandContext) -> None:
        if ctx.in_room and not ctx.app.rooms.moderated(ctx.room_id):
            return  # rooms the bot is merely in are left alone (#启用 first)
        try:
            await fn(ctx)
        except Refused as r:
            if r.text:  # an empty refusal stops silently (a command delivered twice)
                await ctx.reply_private(r.text)
        except StoreUnavailable as exc:
            log.warning("command %s from %s not done, the database is down: %s", ctx.word, ctx.sender_id, exc)
            await ctx.reply_private(t.STORE_DOWN)
        except QunguardError as exc:
            log.warning("command %s from %s failed: %s", ctx.word, ctx.sender_id, exc)
            await ctx.reply_private(f"命令未能完成：{exc}")
        except Exception:
            log.exception("command %s from %s failed", ctx.word, ctx.sender_id)
            await ctx.reply_private("命令未能完成，请稍后再试；如仍不行请联系维护者查看日志。")

    run.__qualname__ = getattr(fn, "__qualname__", "command")
    return run
