"""Featured messages (精华): an admin marks them, members search them, a month becomes a digest.

* ``#精华`` sent by an admin as a reply quoting a message (WeChat shows the quote as
  ``「名字：原文」`` plus a dashed line), or ``#精华 原文`` with the text.
  The original is looked up among the room's recent messages, so the record keeps
  who said it and when; a quote of something older is kept with the quoted name.
* ``#搜 关键词``: the best matches among the room's featured messages.
* :func:`digest_markdown`: a month of featured messages as Markdown
  (``qunguard digest --room R --month 2026-11``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING

from bot.app.commands import COMMANDS, CommandContext, Where
from bot.events import Message
from bot.lifecycle import texts
from bot.store.lifecycle_repo import FeaturedView

if TYPE_CHECKING:
    from bot.lifecycle.core import Lifecycle

FEATURE_WORDS = ("精华", "feature")
UNFEATURE_WORDS = ("取消精华", "unfeature")
SEARCH_WORDS = ("搜", "search")
MAX_RESULTS = 3
SEARCH_INTERVAL = timedelta(seconds=20)
SHOWN_CHARS = 60

_QUOTE = re.compile(r"「([^「」:：\n]{1,64})[:：](.*?)」", re.DOTALL)
_DASHES = re.compile(r"^[\s\-－—–_]+$")
_CMD = re.compile(r"^[#＃]\s*(精华|feature)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Quote:
    name: str
    text: str
    rest: str
    """What the admin wrote beside the quote (``#精华``)."""


def parse_quote(text: str) -> Quote | None:
    """``「张三：原文」\\n- - - - -\\n#精华`` -> Quote('张三', '原文', '#精华'); None without a quote."""
    m = _QUOTE.search(text or "")
    if m is None:
        return None
    rest_lines = [ln.strip() for ln in (text[: m.start()] + "\n" + text[m.end() :]).splitlines()]
    rest = "\n".join(ln for ln in rest_lines if ln and not _DASHES.match(ln))
    return Quote(m.group(1).strip(), m.group(2).strip(), rest)


def find_original(recent: Iterable[Message], text: str, name: str = "") -> Message | None:
    """The latest recent message with this text (a quote may be cut short), preferring the quoted name."""
    text = text.strip()
    if not text:
        return None
    candidates = [
        m
        for m in reversed(list(recent))
        if m.text.strip() == text or (len(text) >= 8 and m.text.strip().startswith(text.rstrip("…. ")))
    ]
    for m in candidates:
        if not name or m.sender_name == name:
            return m
    return candidates[0] if candidates else None


async def feature(
    lc: Lifecycle, room_id: str, text: str, by: str, at: datetime, name: str = ""
) -> tuple[FeaturedView, bool]:
    original = find_original(lc.recent.get(room_id, ()), text, name)
    if original is not None:
        return lc.repo.add_featured(
            room_id,
            original.id,
            original.text,
            sender_id=original.sender_id,
            sender_name=original.sender_name or name,
            said_at=original.at,
            marked_by=by,
            at=at,
        )
    digest = hashlib.sha1(f"{room_id}\n{text}".encode()).hexdigest()[:16]
    return lc.repo.add_featured(room_id, f"text:{digest}", text, sender_name=name, marked_by=by, at=at)


async def _answer_featured(
    lc: Lifecycle, room_id: str, sender_id: str, view: FeaturedView, new: bool
) -> None:
    if new:
        n = len(lc.repo.featured(room_id))
        await lc.app.port.say(room_id, app_fill(texts.FEATURED_OK, n=n), [sender_id])
    else:
        await lc.app.port.say(room_id, texts.FEATURED_AGAIN, [sender_id])


async def maybe_feature_quoted(lc: Lifecycle, msg: Message) -> bool:
    """An admin's quoted reply ``#精华``: keep the quoted message. True when it was one."""
    quote = parse_quote(msg.text)
    if quote is None or not _CMD.match(quote.rest) or not quote.text:
        return False
    view, new = await feature(lc, msg.room_id, quote.text, msg.sender_id, msg.at, quote.name)
    await _answer_featured(lc, msg.room_id, msg.sender_id, view, new)
    return True


# --- search -----------------------------------------------------------------------------------


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s.casefold()).strip()


def _grams(s: str) -> set[str]:
    s = re.sub(r"[\s\W_]+", "", s)
    return {s[i : i + 2] for i in range(len(s) - 1)} if len(s) > 1 else set(s)


def score(query: str, text: str) -> float:
    """How well ``text`` answers ``query``: whole keywords first, then shared character pairs
    (Chinese has no spaces, so ``氰化工艺`` still finds ``全泥氰化的工艺``)."""
    q, t = _norm(query), _norm(text)
    if not q or not t:
        return 0.0
    words = [w for w in q.split(" ") if w]
    hits = sum(1 for w in words if w in t)
    qg = _grams(q)
    overlap = len(qg & _grams(t)) / len(qg) if qg else 0.0
    if hits == 0 and overlap < 0.5:
        return 0.0
    return hits * 2.0 + overlap + sum(min(t.count(w), 3) for w in words) * 0.1


def search(featured: Iterable[FeaturedView], query: str, limit: int = MAX_RESULTS) -> list[FeaturedView]:
    scored = [(score(query, f.text), f) for f in featured]
    scored = [(s, f) for s, f in scored if s > 0]
    scored.sort(key=lambda sf: (-sf[0], -(sf[1].said_at or sf[1].at).timestamp()))
    return [f for _, f in scored[:limit]]


def shorten(text: str, n: int = SHOWN_CHARS) -> str:
    one = re.sub(r"\s+", " ", text).strip()
    return one if len(one) <= n else one[: n - 1] + "…"


def app_fill(template: str, **values: object) -> str:
    from bot.app.texts import fill

    return fill(template, **values)


# --- commands ---------------------------------------------------------------------------------


@COMMANDS.command(
    *FEATURE_WORDS,
    where=Where.ROOM,
    admin_only=True,
    usage="#精华（引用消息回复）或 #精华 内容",
    help="把一条消息收入精华",
)
async def feature_command(ctx: CommandContext) -> None:
    from bot.lifecycle import lifecycle_of

    if not ctx.app.rooms.moderated(ctx.room_id):
        return  # rooms the bot is merely in are left alone
    lc = lifecycle_of(ctx.app)
    msg = ctx.event
    assert isinstance(msg, Message)
    quote = parse_quote(msg.text)
    if quote is not None and quote.text:
        text, name = quote.text, quote.name
    elif ctx.args:
        text, name = ctx.args, ""
    else:
        await ctx.reply(texts.FEATURED_USAGE)
        return
    view, new = await feature(lc, ctx.room_id, text, ctx.sender_id, ctx.at, name)
    await _answer_featured(lc, ctx.room_id, ctx.sender_id, view, new)


@COMMANDS.command(
    *UNFEATURE_WORDS,
    where=Where.ROOM,
    admin_only=True,
    usage="#取消精华（引用消息回复）或 #取消精华 内容",
    help="把一条消息移出精华",
)
async def unfeature_command(ctx: CommandContext) -> None:
    from bot.lifecycle import lifecycle_of

    if not ctx.app.rooms.moderated(ctx.room_id):
        return
    lc = lifecycle_of(ctx.app)
    msg = ctx.event
    assert isinstance(msg, Message)
    quote = parse_quote(msg.text)
    text = quote.text if quote is not None and quote.text else ctx.args
    if not text:
        await ctx.reply(texts.UNFEATURE_USAGE)
        return
    original = find_original(lc.recent.get(ctx.room_id, ()), text, quote.name if quote else "")
    gone = lc.repo.remove_featured(ctx.room_id, message_id=original.id if original else "", text=text)
    await ctx.reply(texts.UNFEATURED if gone else texts.UNFEATURE_NONE)


@COMMANDS.command(*SEARCH_WORDS, where=Where.ROOM, usage="#搜 关键词", help="在本群精华里搜索")
async def search_command(ctx: CommandContext) -> None:
    from bot.lifecycle import lifecycle_of

    if not ctx.app.rooms.moderated(ctx.room_id):
        return
    lc = lifecycle_of(ctx.app)
    key = (ctx.room_id, ctx.sender_id)
    last = lc.searches.get(key)
    if last is not None and timedelta(0) <= ctx.at - last < SEARCH_INTERVAL:
        return  # one search per member per interval: the bot's replies count against its send limit
    lc.searches[key] = ctx.at
    if not ctx.args:
        await ctx.reply(texts.SEARCH_USAGE)
        return
    found = search(lc.repo.featured(ctx.room_id), ctx.args)
    if not found:
        await ctx.reply(app_fill(texts.SEARCH_NONE, q=ctx.args))
        return
    lines = [app_fill(texts.SEARCH_HEAD, q=ctx.args)]
    for i, f in enumerate(found, 1):
        when = (f.said_at or f.at).astimezone(ctx.app.tz)
        lines.append(
            app_fill(
                texts.SEARCH_LINE,
                i=i,
                text=shorten(f.text),
                name=f.sender_name or "群友",
                date=f"{when:%m-%d}",
            )
        )
    await ctx.reply("\n".join(lines))


# --- digest -------------------------------------------------------------------------------------


def month_bounds(month: str, tz: tzinfo) -> tuple[datetime, datetime]:
    """``2026-11`` -> the first instants of November and December, local time, in UTC."""
    m = re.fullmatch(r"(\d{4})-(\d{1,2})", month.strip())
    if m is None or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"expected a month such as 2026-11, got {month!r}")
    y, mo = int(m.group(1)), int(m.group(2))
    start = datetime(y, mo, 1, tzinfo=tz)
    end = datetime(y + (mo == 12), mo % 12 + 1, 1, tzinfo=tz)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def digest_markdown(featured: Iterable[FeaturedView], *, topic: str, month: str, tz: tzinfo) -> str:
    """The month's featured messages, by day, as Markdown."""
    items = list(featured)
    out = [app_fill(texts.DIGEST_TITLE, topic=topic, month=month), ""]
    if not items:
        out.append(texts.DIGEST_NONE)
        return "\n".join(out) + "\n"
    out.append(f"共 {len(items)} 条。")
    day = None
    for f in items:
        when = (f.said_at or f.at).astimezone(tz)
        if when.date() != day:
            day = when.date()
            out += ["", f"## {day:%m 月 %d 日}", ""]
        who = f.sender_name or "群友"
        body = "\n  ".join(line for line in _md_escape(f.text).splitlines() if line.strip())
        out.append(f"- **{_md_escape(who)}**（{when:%H:%M}）：{body}")
    return "\n".join(out) + "\n"


def _md_escape(s: str) -> str:
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", s)
