"""What members can do: read the rules, appeal a case privately, report a message."""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.app import texts as app_texts
from bot.app.commands import CommandContext
from bot.app.plugins import plugin_state
from bot.commands import parse
from bot.commands import texts as t
from bot.commands.base import Refused, audit, display_name
from bot.errors import StoreUnavailable
from bot.quotes import split_quote
from bot.verdicts import CATEGORY_ZH

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

RULES_COOLDOWN_S = 600.0
"""``#群规`` is answered in the room at most this often; in between, privately."""
APPEAL_MAX = 500
REPORT_MAX = 500
REPORTS_PER_WINDOW = 3
REPORT_WINDOW_S = 600.0


@dataclass
class ReportLimit:
    """How many reports each member sent lately: at most ``per_window`` in any ``window_s``.

    Keyed by contact id and driven by the messages' own times (``ctx.at``), like the rest of
    the commands. Memory stays bounded: a member whose last report is a window old is
    forgotten, and at most ``max_members`` reporters are remembered at once (the ones who
    reported longest ago go first)."""

    per_window: int = REPORTS_PER_WINDOW
    window_s: float = REPORT_WINDOW_S
    max_members: int = 10_000
    _recent: OrderedDict[str, list[tuple[datetime, tuple[str, str]]]] = field(default_factory=OrderedDict)
    """reporter -> when each recent report was taken, and which message (room, id) it was."""

    def take(self, contact_id: str, message: tuple[str, str], at: datetime) -> bool:
        """Count ``message`` as a report from ``contact_id``; False when over the limit.

        A message counted before is taken again without counting twice (a room report is
        counted before it is moderated, and its handler finds it counted already)."""
        window = timedelta(seconds=self.window_s)
        recent = [r for r in self._recent.pop(contact_id, ()) if abs(at - r[0]) < window]
        taken = any(m == message for _, m in recent)
        if not taken and len(recent) < self.per_window:
            recent.append((at, message))
            taken = True
        if recent:
            self._recent[contact_id] = recent  # the newest reporter last
        self._forget_before(at - window)
        return taken

    def _forget_before(self, cutoff: datetime) -> None:
        while self._recent:
            oldest = next(iter(self._recent.values()))
            if len(self._recent) <= self.max_members and max(t for t, _ in oldest) > cutoff:
                return
            self._recent.popitem(last=False)

    def __len__(self) -> int:
        """Reporters remembered."""
        return len(self._recent)


@dataclass
class MemberCommandState:
    """What the member commands remember between messages, per :class:`~bot.app.App`
    (never per process: a second App, in a test or after a restart in one process,
    starts afresh)."""

    reports: ReportLimit = field(default_factory=ReportLimit)
    rules_shown: dict[str, datetime] = field(default_factory=dict)
    """room -> when ``#群规`` was last answered in that room."""


def state_of(app: App) -> MemberCommandState:
    return plugin_state(app, "member_commands", MemberCommandState)


def rules_text(ctx: CommandContext) -> str:
    app = ctx.app
    return t.fill(
        t.RULES, rules=app.rules.summary(), ladder=app_texts.ladder_summary(app.rules.ladder.policy)
    )


async def show_rules(ctx: CommandContext) -> None:
    text = rules_text(ctx)
    if not ctx.in_room:
        await ctx.reply_private(text)
        return
    shown = state_of(ctx.app).rules_shown
    last = shown.get(ctx.room_id)
    if last is None or abs(ctx.at - last) >= timedelta(seconds=RULES_COOLDOWN_S):
        shown[ctx.room_id] = ctx.at
        await ctx.app.port.say(ctx.room_id, text)
    else:
        await ctx.reply_private(text)


# --- appeals ------------------------------------------------------------------------------

_APPEAL = re.compile(
    r"^\s*[#＃]?\s*(?:申诉|appeal)\s*(?:案件|案)?\s*[#＃]?(\d{1,9})\s*[，,：:]?\s*(.*)$",
    re.IGNORECASE | re.DOTALL,
)


_APPEAL_WITHIN = re.compile(
    r"(?:申诉|复核)(?:一下)?\s*[:：,，]?\s*(?:案件|案子|案)?(?:号|编号)?\s*(?:是|为)?\s*[#＃]?"
    r"(\d{1,9})(?!\d)\s*[，,：:。]?\s*(.*)$",
    re.DOTALL,
)
"""申诉 somewhere in a sentence, the case number right after it: 我要申诉 12 我没发广告."""
_WANTS_TO_APPEAL = re.compile(
    r"申诉|复核|冤枉|误判|误封|误伤|解除禁言|解禁|(为什么|凭什么|为啥)(要)?(禁言|踢|移出|警告|处罚|罚)我"
)
RECENT_CASES_SHOWN = 3
RECENT_CASES_DAYS = 30


async def appeal(ctx: CommandContext) -> None:
    parsed = parse.case_and_rest(ctx.args)
    if parsed is None:
        await explain_appeal(ctx)
        return
    await file_appeal(ctx, parsed.case_no, parsed.rest)


def wants_to_appeal(text: str) -> bool:
    """A private message that asks about a penalty without the form an appeal takes."""
    return _WANTS_TO_APPEAL.search(text) is not None


async def explain_appeal(ctx: CommandContext) -> None:
    """How to appeal, with the member's own recent case numbers (they rarely keep the notice)."""
    app = ctx.app
    since = ctx.at - timedelta(days=RECENT_CASES_DAYS)
    try:
        recent = [
            c
            for c in app.store.cases(contact_id=ctx.sender_id, since=since, limit=10)
            if c.state != "pardoned"
        ][:RECENT_CASES_SHOWN]
    except StoreUnavailable:
        recent = []
    text = t.APPEAL_USAGE
    if recent:
        listed = "；".join(
            t.fill(
                t.APPEAL_RECENT_CASE,
                case=c.case_no,
                topic=app.rooms.topic(c.room_id),
                at=f"{c.created_at.astimezone(app.tz):%m-%d %H:%M}",
            )
            for c in recent
        )
        text += t.fill(t.APPEAL_RECENT, cases=listed)
    await ctx.reply_private(text)


async def file_appeal(ctx: CommandContext, case_no: int, text: str) -> None:
    """Record the appeal on the case, forward it to the room's admins, tell the member."""
    app = ctx.app
    story = app.store.case(case_no)
    if story is None or story.case.contact_id != ctx.sender_id:
        raise Refused(t.fill(t.APPEAL_NOT_YOURS, case=case_no))
    case = story.case
    if case.state == "pardoned":
        raise Refused(t.fill(t.APPEAL_PARDONED_ALREADY, case=case_no))
    if any(a.state == "open" for a in story.appeals):
        raise Refused(t.fill(t.APPEAL_OPEN_ALREADY, case=case_no))
    if story.appeals:
        raise Refused(t.fill(t.APPEAL_DECIDED_ALREADY, case=case_no))
    text = " ".join(text.split())[:APPEAL_MAX] or "（未写理由）"
    appeal_ = app.store.add_appeal(case_no, ctx.sender_id, text, at=ctx.at)
    audit(ctx, "appeal", room_id=case.room_id, target_id=ctx.sender_id, case_no=case_no, appeal=appeal_.id)
    what = _what_happened(story)
    name = await display_name(app, case.room_id, ctx.sender_id)
    await app.executor.tell_admins(
        case.room_id,
        t.fill(
            t.APPEAL_TO_ADMINS,
            topic=app.rooms.topic(case.room_id),
            name=name,
            contact=ctx.sender_id,
            case=case_no,
            text=text,
            what=what,
        ),
    )
    await ctx.reply_private(t.fill(t.APPEAL_RECEIVED, case=case_no))


def _what_happened(story: object) -> str:
    violations = getattr(story, "violations", ())
    actions = getattr(story, "actions", ())
    reasons = "、".join(dict.fromkeys(CATEGORY_ZH.get(v.category, v.rule) for v in violations)) or "违规"
    done = "、".join(
        dict.fromkeys(
            app_texts.ACTION_ZH.get(_kind(a.kind), a.kind)
            for a in actions
            if a.kind not in ("notify_admins", "notify_inviter") and a.state not in ("dropped", "skipped")
        )
    )
    excerpt = next((v.excerpt for v in violations if v.excerpt), "")
    out = f"{reasons}，{done or '记录在案'}"
    if excerpt:
        out += f"；原消息「{app_texts.excerpt(excerpt, 40)}」"
    return out


def _kind(value: str):  # type: ignore[no-untyped-def]
    from bot.actions import ActionKind

    try:
        return ActionKind(value)
    except ValueError:
        return value


async def decide_appeal(ctx: CommandContext, case_no: int, accepted: bool, answer: str) -> bool:
    """An admin's 同意 / 驳回 on the case's open appeal; False when there is none."""
    app = ctx.app
    open_ = app.store.appeals(state="open", case_no=case_no)
    if not open_:
        return False
    story = app.store.case(case_no)
    if story is None:
        return False
    from bot.commands.base import require_admin_of

    require_admin_of(app, story.case.room_id, ctx.sender_id)
    if accepted:
        from bot.commands.admin import pardon_case

        await pardon_case(ctx, case_no, answer, appeal_id=open_[0].id)
        return True
    app.store.decide_appeal(open_[0].id, False, ctx.sender_id, answer=answer, at=ctx.at)
    from bot.commands.admin import tell_member

    told = await tell_member(
        ctx,
        open_[0].contact_id,
        t.fill(t.APPEAL_REJECTED, case=case_no, answer=f"：{answer}" if answer else ""),
    )
    name = await display_name(app, story.case.room_id, open_[0].contact_id)
    await ctx.reply_private(
        t.fill(
            t.APPEAL_DONE_ADMIN, verb="驳回", case=case_no, name=name if told else f"{name}（未能私信告知）"
        )
    )
    return True


# --- reports --------------------------------------------------------------------------------


def _too_many_reports(ctx: CommandContext) -> bool:
    """A member may send a few reports per ten minutes: the admins' phones are spared a flood.

    Counted once per message: a room report is counted by :func:`takes_report` before it is
    moderated, and its handler finds it counted already."""
    return not state_of(ctx.app).reports.take(ctx.sender_id, (ctx.room_id, ctx.event.id), ctx.at)


def _report_text(ctx: CommandContext, quoted: str) -> str:
    text = parse.strip_mentions(ctx.args, len(ctx.mention_ids))[:REPORT_MAX]
    if quoted:
        text = (f"{text}\n" if text else "") + f"被举报的消息：「{app_texts.excerpt(quoted, 200)}」"
    return text


def _quoted(ctx: CommandContext) -> str:
    found = quoted_report(ctx.event.text)
    return found[0] if found is not None else ""


def takes_report(ctx: CommandContext) -> bool:
    """Whether a ``#举报`` in a room goes to the admins, who then judge its words (the content
    rules do not: it quotes what it reports). Not when it names nothing or the member is over
    the report limit: then it is moderated like any other message, so "reports" cannot carry
    ads past the limit unjudged."""
    if not ctx.app.rooms.moderated(ctx.room_id):
        return False
    if not _report_text(ctx, _quoted(ctx)) and not ctx.mention_ids:
        return False
    return not _too_many_reports(ctx)


async def report(ctx: CommandContext, quoted: str = "") -> None:
    """Forward a report to the room's admins; a quote reply reports the quoted message."""
    app = ctx.app
    text = _report_text(ctx, quoted or _quoted(ctx))
    if not text and not ctx.mention_ids:
        raise Refused(t.REPORT_USAGE)
    if _too_many_reports(ctx):
        raise Refused(t.REPORT_TOO_MANY)
    if ctx.in_room:
        rooms = [ctx.room_id]
    else:
        rooms = [r for r in app.rooms.moderated_ids() if app.rooms.has_member(r, ctx.sender_id)]
        if not rooms:
            raise Refused(t.REPORT_NO_ROOM)
    reporter = await display_name(app, rooms[0], ctx.sender_id)
    targets = []
    for cid in ctx.mention_ids:
        targets.append(f" {await display_name(app, rooms[0], cid)}（{cid}）")
    for room_id in rooms[:3]:
        await app.executor.tell_admins(
            room_id,
            t.fill(
                t.REPORT_TO_ADMINS,
                topic=app.rooms.topic(room_id),
                reporter=reporter,
                reporter_id=ctx.sender_id,
                target="".join(targets),
                text=text or "（未写说明）",
            ),
        )
        audit(
            ctx,
            "report",
            room_id=room_id,
            target_id=ctx.mention_ids[0] if ctx.mention_ids else None,
            text=text,
        )
    await ctx.reply_private(t.REPORT_RECEIVED)


# --- private messages that are no registered word ---------------------------------------------


def appeal_in_free_text(text: str) -> tuple[int, str] | None:
    """``申诉17 理由`` / ``申诉：17，理由``: the forms a member types without a space."""
    return _case_and_reason(_APPEAL.match(text))


def appeal_in_sentence(text: str) -> tuple[int, str] | None:
    """``我要申诉 12 我没发广告``, ``申诉一下，案件号是12``: 申诉 inside a sentence, the case
    number right after it."""
    return _case_and_reason(_APPEAL_WITHIN.search(text))


def _case_and_reason(m: re.Match[str] | None) -> tuple[int, str] | None:
    return (int(m.group(1)), m.group(2).strip()) if m else None


REPORT_WORDS = ("举报", "report")


def quoted_report(text: str) -> tuple[str, str] | None:
    """A quote reply whose reply is ``#举报 …``: (the quoted message, the words after 举报)."""
    quote = split_quote(text)
    if quote is None:
        return None
    reply = quote.reply.lstrip("#＃").strip()
    word = next((w for w in REPORT_WORDS if reply.lower().startswith(w)), None)
    if word is None or (not quote.reply.startswith(("#", "＃")) and word != "举报"):
        return None
    return quote.quoted, reply[len(word) :].strip()
