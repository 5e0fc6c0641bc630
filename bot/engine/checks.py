"""One small class per kind of condition, and the per-message context they read.

A condition's :meth:`~Condition.test` returns ``None`` when it does not hold,
or a tuple of :class:`~bot.verdicts.Evidence` (possibly empty, for ``not``)
when it does; :meth:`~Condition.holds` answers the same question without
building evidence. Word conditions never scan text themselves: the engine
scans each field once with one combined Aho-Corasick automaton, and answers
all the patterns of a field in one pass of the regex index; the context hands
out the results. :func:`explain` draws a condition tree with what held, for
``qunguard try --explain``.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import re2

from bot.engine.normalize import fold_chars, normalize, normalize_cached, normalize_folded
from bot.events import Message, MessageType, Sender
from bot.verdicts import Evidence

if TYPE_CHECKING:
    from bot.engine.model import Settings

Span = tuple[int, int]
Hits = dict[int, Span]

MAX_LINKS = 200
"""Links looked at per message (a paste of thousands of links is judged on the first 200)."""
MAX_FIELD_CHARS = 100_000
"""Text beyond this is not scanned (a 1 MB paste is judged on its first 100k characters)."""

_CONTENT_EXTRA = ("title", "description", "app", "card_name")
_CONTENT_SET = frozenset(_CONTENT_EXTRA)
_CARD_FIELDS = ("title", "description", "app", "card_name", "file_name")
_PLAIN_FIELDS = frozenset({"title", "description", "app", "card_name", "url", "sender_name"})
_LIGHT_FIELDS = frozenset({"file_name", "url"})
"""Fields folded character by character only (case, width, simplified), since
separators in a file name or URL carry meaning (福利.apk)."""
_WS_RE = re.compile(r"\s+")
_REPEATING_FIELDS = frozenset({"sender_name", "app", "card_name"})
"""Short fields that repeat from message to message: their normalisation and
their scans are cached."""
MEMO_MAX = 8192


def _trim(memo: dict) -> None:
    if len(memo) > MEMO_MAX:
        memo.clear()


def content_of(message: Message) -> str:
    """The ``text`` field of a rule: what a member reads in the message."""
    parts = [message.text] if message.text else []
    for name in _CONTENT_EXTRA:
        value = getattr(message, name)
        if value and not any(value in p for p in parts):
            parts.append(value)
    return " 。 ".join(parts) if len(parts) > 1 else (parts[0] if parts else "")


def acrostic_of(text: str) -> str:
    """藏头: the first character of each non-empty line, for texts of 3+ lines."""
    if text.count("\n") < 2:
        return ""
    heads = [line.strip()[0] for line in text.splitlines() if line.strip()]
    return "".join(heads) if len(heads) >= 3 else ""


def raw_field(message: Message, name: str) -> str:
    if name in _PLAIN_FIELDS:
        return getattr(message, name) or ""
    if name == "text":
        return content_of(message)
    if name == "acrostic":
        return acrostic_of(message.text or "")
    if name == "file_name":
        return message.file_name.replace("\\", "/").rsplit("/", 1)[-1] if message.file_name else ""
    return getattr(message, name, "") or ""


class Context:
    """Everything conditions may read about one message; computed lazily, once."""

    __slots__ = (
        "_bytes",
        "_folded",
        "_hits",
        "_links",
        "_norm",
        "_raw",
        "_regex",
        "is_exempt",
        "memo",
        "message",
        "regexes",
        "scan",
        "sender",
        "settings",
    )

    def __init__(
        self,
        message: Message,
        sender: Sender,
        settings: Settings,
        scan: Callable[[str], dict[int, Span]],
        is_exempt: bool = False,
        regexes: Any = None,
        memo: dict | None = None,
    ) -> None:
        self.message = message
        self.sender = sender
        self.settings = settings
        self.scan = scan
        self.is_exempt = is_exempt
        self._raw: dict[str, str] = {}
        self._norm: dict[str, str] = {}
        self._hits: dict[str, Hits] = {}
        self._links: list[str] | None = None
        self._folded: str | None = None
        self.regexes = regexes
        """The engine's RegexIndex: every pattern of a field answered in one pass, or None."""
        self._regex: dict[tuple[str, bool], frozenset[int] | None] = {}
        self._bytes: dict[tuple[str, bool], bytes] = {}
        self.memo = memo
        """The engine's results for short fields that repeat (names, app names)."""

    def present_fields(self) -> set[str]:
        """The fields that can hold anything at all in this message (cheap: no
        normalisation): those not empty, ``text`` if the message has text or a
        card's words, ``acrostic`` for three lines or more, ``links`` if it has any."""
        m = self.message
        out: set[str] = set()
        if m.sender_name:
            out.add("sender_name")
        if m.title or m.description or m.app or m.card_name or m.file_name:  # cards and files
            out.update(name for name in _CARD_FIELDS if getattr(m, name))
        text = m.text
        if text:
            out.add("text")
            if text.count("\n") >= 2:
                out.add("acrostic")
        elif out & _CONTENT_SET:
            out.add("text")
        if m.url:
            out.add("url")
            out.add("links")
        elif m.qr_payloads or self.links():
            out.add("links")
        return out

    def raw(self, name: str) -> str:
        value = self._raw.get(name)
        if value is None:
            if name == "links":
                value = "\n".join([*self.links(), *self.message.qr_payloads]).lower()
            else:
                value = raw_field(self.message, name)[:MAX_FIELD_CHARS]
            self._raw[name] = value
        return value

    def norm(self, name: str) -> str:
        value = self._norm.get(name)
        if value is None:
            raw = self.raw(name)
            if not raw or name == "links":
                value = raw
            elif name in _LIGHT_FIELDS:
                value = _WS_RE.sub(" ", fold_chars(raw)).strip()
            elif name in _REPEATING_FIELDS and len(raw) <= 64:
                value = normalize_cached(raw)
            elif name == "text":
                value = normalize_folded(self.folded_text())
            else:
                value = normalize(raw)
            self._norm[name] = value
        return value

    def hits(self, name: str) -> Hits:
        value = self._hits.get(name)
        if value is None:
            text = self.norm(name)
            if not text:
                value = {}
            elif name in _REPEATING_FIELDS and self.memo is not None:
                key = ("hits", name, text)
                value = self.memo.get(key)
                if value is None:
                    value = self.memo[key] = self.scan(text)
                    _trim(self.memo)
            else:
                value = self.scan(text)
            self._hits[name] = value
        return value

    def encoded(self, name: str, raw: bool) -> bytes:
        """The field as UTF-8, encoded once for every RE2 call on it."""
        key = (name, raw)
        value = self._bytes.get(key)
        if value is None:
            value = (self.raw(name) if raw else self.norm(name)).encode("utf-8", "surrogatepass")
            self._bytes[key] = value
        return value

    def regex_ids(self, name: str, raw: bool) -> frozenset[int] | None:
        """Ids of the regex conditions on this field that match, from one pass
        of the regex index over it; None when the field has no index (run each)."""
        key = (name, raw)
        if key in self._regex:
            return self._regex[key]
        ids = None
        if self.regexes is not None:
            if name in _REPEATING_FIELDS and self.memo is not None:
                mkey = ("regex", name, raw, self.raw(name))
                ids = self.memo.get(mkey)
                if ids is None:
                    ids = self.memo[mkey] = self.regexes.match(name, raw, self.encoded(name, raw))
                    _trim(self.memo)
            else:
                ids = self.regexes.match(name, raw, self.encoded(name, raw))
        self._regex[key] = ids
        return ids

    def regex_may_match(self, cond: Regex) -> bool:
        ids = self.regex_ids(cond.field, cond.raw)
        return ids is None or cond.cond_id in ids

    def folded_text(self) -> str:
        """The ``text`` field through the character table (step 1 of normalisation),
        worked out once for both the links and the normalised text."""
        if self._folded is None:
            self._folded = fold_chars(self.raw("text"))
        return self._folded

    def links(self) -> list[str]:
        if self._links is None:
            found = [u for u in (self.message.url,) if u]
            text = self.raw("text")
            if "." in text or "．" in text or "://" in text or "：//" in text:
                found += find_links(self.folded_text())
            self._links = found[:MAX_LINKS]
        return self._links


class Condition:
    """Base class of every check."""

    line: int = 0
    cost: int = 3
    """Rough price of :meth:`holds`, so ``all:`` tries the cheap parts first."""

    def test(self, ctx: Context) -> tuple[Evidence, ...] | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def holds(self, ctx: Context) -> bool:
        """Whether the condition holds, without building evidence (for ``not:``
        and for trying the cheap parts of ``all:`` first)."""
        return self.test(ctx) is not None

    def children(self) -> tuple[Condition, ...]:
        return ()

    def word_ids(self) -> frozenset[int] | None:
        """Word-condition ids of which at least one must hit for this to hold,
        or ``None`` when it can hold without any word hit."""
        return None


@dataclass(frozen=True, eq=False)
class Words(Condition):
    """``keywords:`` / ``lexicon:``: any of the words, after normalisation."""

    cond_id: int
    words: tuple[str, ...]
    """Normalised words."""
    source: str
    field: str = "text"
    line: int = 0
    pinyin: bool = True
    """Also match the words' pinyin spelling typed in Latin letters."""
    homophones: bool = False
    """Also match hanzi of the same sound (沙比 for 傻逼)."""
    cost = 1

    def holds(self, ctx: Context) -> bool:
        return self.cond_id in ctx.hits(self.field)

    def test(self, ctx: Context) -> tuple[Evidence, ...] | None:
        span = ctx.hits(self.field).get(self.cond_id)
        if span is None:
            return None
        text = ctx.norm(self.field)
        where = "" if self.field == "text" else f"{self.field}: "
        return (Evidence(self.source, text[span[0] : span[1]], f"{where}{_context(text, span)}"),)

    def word_ids(self) -> frozenset[int] | None:
        return frozenset((self.cond_id,)) if self.words else frozenset()


@dataclass(frozen=True, eq=False)
class Regex(Condition):
    """``regex:`` (normalised text) / ``raw_regex:`` (original text), run by RE2."""

    pattern: str
    compiled: Any
    raw: bool = False
    field: str = "text"
    line: int = 0
    cond_id: int = 0
    source: str = ""
    """The pattern as compiled (folded into the normalised alphabet for ``regex:``)."""
    cost = 2

    def holds(self, ctx: Context) -> bool:
        text = ctx.raw(self.field) if self.raw else ctx.norm(self.field)
        if not text:
            return False
        ids = ctx.regex_ids(self.field, self.raw)
        if ids is not None:  # the regex index already answered for this very text
            return self.cond_id in ids
        return self.compiled.search(text) is not None

    def test(self, ctx: Context) -> tuple[Evidence, ...] | None:
        text = ctx.raw(self.field) if self.raw else ctx.norm(self.field)
        if not text:
            return None
        if not ctx.regex_may_match(self):
            return None
        found = search_span(self.compiled, ctx.encoded(self.field, self.raw), text)
        if found is None:
            return None
        check = "raw_regex" if self.raw else "regex"
        where = "" if self.field == "text" else f"{self.field}: "
        return (Evidence(check, found, f"{where}/{self.pattern}/"),)

    def word_ids(self) -> frozenset[int] | None:
        return frozenset((self.cond_id,))


@dataclass(frozen=True, eq=False)
class TypeIs(Condition):
    types: frozenset[MessageType]
    line: int = 0
    cost = 0

    def test(self, ctx: Context) -> tuple[Evidence, ...] | None:
        t = ctx.message.type
        return (Evidence("type", t.value, f"消息类型 {t.value}"),) if t in self.types else None


def _host_path(link: str) -> tuple[str, str, str]:
    """-> (scheme, host, rest) of a link, lower case; scheme may be empty."""
    s = link.strip().lower()
    scheme = ""
    if "://" in s:
        scheme, s = s.split("://", 1)
    host, _, rest = s.partition("/")
    host = host.rsplit("@", 1)[-1].split(":", 1)[0].strip(".")
    return scheme, host, rest


def domain_matches(entry: str, link: str) -> bool:
    """``entry`` is ``scheme://`` (weixin://), ``host`` (matches it and its
    subdomains), ``host/path-prefix`` or ``*``."""
    return _entry_matches(entry, _host_path(link))


def _entry_matches(entry: str, parsed: tuple[str, str, str]) -> bool:
    if entry == "*":
        return True
    scheme, host, rest = parsed
    if entry.endswith("://"):
        return scheme == entry[:-3]
    e_host, _, e_rest = entry.partition("/")
    if not (host == e_host or host.endswith("." + e_host)):
        return False
    return not e_rest or rest.startswith(e_rest)


def _split_entries(entries: tuple[str, ...]) -> tuple[frozenset[str], tuple[str, ...]]:
    """Plain hosts (``t.cn``: it and its subdomains) apart from ``*``,
    ``scheme://`` and ``host/path-prefix`` entries."""
    hosts = frozenset(e for e in entries if e != "*" and "/" not in e)
    return hosts, tuple(e for e in entries if e not in hosts)


def _listed(entries: tuple[frozenset[str], tuple[str, ...]], parsed: tuple[str, str, str]) -> bool:
    hosts, others = entries
    if hosts:
        h = parsed[1]
        while True:  # host == e or host.endswith("." + e), for every plain entry e at once
            if h in hosts:
                return True
            dot = h.find(".")
            if dot < 0:
                break
            h = h[dot + 1 :]
    return any(_entry_matches(e, parsed) for e in others)


@dataclass(frozen=True, eq=False)
class Domain(Condition):
    """``domain:`` (links in the text, link cards, QR payloads) or ``qr:`` (QR payloads only).

    A link is bad when it is on ``deny`` (or there is no ``deny`` list) and not
    on ``allow``. ``qr: any`` is ``Domain(any_qr=True)``. Each link is parsed
    once, and plain host entries are looked up by the link host's suffixes."""

    deny: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()
    qr_only: bool = False
    any_qr: bool = False
    line: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "_deny", _split_entries(self.deny))
        object.__setattr__(self, "_allow", _split_entries(self.allow))

    def test(self, ctx: Context) -> tuple[Evidence, ...] | None:
        check = "qr" if self.qr_only else "domain"
        payloads = list(ctx.message.qr_payloads)
        if self.any_qr:
            return (Evidence("qr", payloads[0][:200], "图片含二维码"),) if payloads else None
        links = payloads if self.qr_only else [*ctx.links(), *payloads]
        for link in links:
            parsed = _host_path(link)
            if self.deny and not _listed(self._deny, parsed):  # type: ignore[attr-defined]
                continue
            if self.allow and _listed(self._allow, parsed):  # type: ignore[attr-defined]
                continue
            host = parsed[1]
            return (Evidence(check, link[:200], f"链接域名 {host or link[:40]}"),)
        return None


_OPS: dict[str, Callable[[int, int], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}
COUNT_METRICS = ("links", "mentions", "digits", "length", "lines", "emoji")
_EMOJI_RE = re.compile("[\u2600-\u27bf\U0001f000-\U0001faff]")


@dataclass(frozen=True, eq=False)
class Count(Condition):
    metric: str
    op: str
    n: int
    line: int = 0

    def measure(self, ctx: Context) -> int:
        m = self.metric
        if m == "links":
            return len(ctx.links()) + len(ctx.message.qr_payloads)
        if m == "mentions":
            return max(len(ctx.message.mention_ids), ctx.message.text.count("@"))
        if m == "digits":
            return sum(c.isdigit() for c in ctx.norm("text"))
        if m == "length":
            return len(ctx.raw("text"))
        if m == "lines":
            text = ctx.raw("text")
            return text.count("\n") + 1 if text else 0
        return len(_EMOJI_RE.findall(ctx.raw("text")))

    def test(self, ctx: Context) -> tuple[Evidence, ...] | None:
        value = self.measure(ctx)
        if _OPS[self.op](value, self.n):
            return (Evidence("count", str(value), f"{self.metric} {self.op} {self.n}"),)
        return None


@dataclass(frozen=True, eq=False)
class SenderIs(Condition):
    """``sender:``: every given key must hold."""

    new: bool | None = None
    joined_within: timedelta | None = None
    admin: bool | None = None
    exempt: bool | None = None
    line: int = 0
    cost = 0

    def test(self, ctx: Context) -> tuple[Evidence, ...] | None:
        s = ctx.sender
        notes = []
        if self.admin is not None:
            if s.is_admin != self.admin:
                return None
            notes.append("管理员" if s.is_admin else "非管理员")
        if self.exempt is not None:
            if ctx.is_exempt != self.exempt:
                return None
            notes.append("豁免成员" if ctx.is_exempt else "非豁免成员")
        for flag, within in (
            (self.new, timedelta(days=ctx.settings.new_member_days)),
            (True if self.joined_within is not None else None, self.joined_within),
        ):
            if flag is None or within is None:
                continue
            is_new = _joined_within(s.joined_at, ctx.message.at, within)
            if is_new != flag:
                return None
            notes.append(f"入群{_fmt_delta(within)}内" if is_new else "老成员")
        return (Evidence("sender", "", "，".join(notes)),)


def _joined_within(joined_at: datetime | None, at: datetime, within: timedelta) -> bool:
    if joined_at is None:
        return False
    try:
        return at - joined_at < within
    except TypeError:  # naive vs aware datetimes from a sloppy caller
        return at.replace(tzinfo=None) - joined_at.replace(tzinfo=None) < within


def _fmt_delta(d: timedelta) -> str:
    secs = int(d.total_seconds())
    if secs % 86400 == 0:
        return f"{secs // 86400}天"
    if secs % 3600 == 0:
        return f"{secs // 3600}小时"
    return f"{secs // 60}分钟"


def _by_cost(items: tuple[Condition, ...]) -> tuple[Condition, ...]:
    return tuple(sorted(items, key=lambda c: c.cost))


@dataclass(frozen=True, eq=False)
class AllOf(Condition):
    items: tuple[Condition, ...]
    line: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "cost", sum(c.cost for c in self.items))
        object.__setattr__(self, "_cheap_first", _by_cost(self.items))

    def holds(self, ctx: Context) -> bool:
        return all(c.holds(ctx) for c in self._cheap_first)  # type: ignore[attr-defined]

    def test(self, ctx: Context) -> tuple[Evidence, ...] | None:
        if not self.holds(ctx):
            return None
        out: list[Evidence] = []
        for c in self.items:  # evidence in the order the admin wrote the conditions
            ev = c.test(ctx)
            if ev is None:  # pragma: no cover - holds() said otherwise
                return None
            out.extend(ev)
        return tuple(out)

    def children(self) -> tuple[Condition, ...]:
        return self.items

    def word_ids(self) -> frozenset[int] | None:
        best: frozenset[int] | None = None
        for c in self.items:
            ids = c.word_ids()
            if ids is not None and (best is None or len(ids) < len(best)):
                best = ids
        return best


@dataclass(frozen=True, eq=False)
class AnyOf(Condition):
    items: tuple[Condition, ...]
    line: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "cost", sum(c.cost for c in self.items))
        object.__setattr__(self, "_cheap_first", _by_cost(self.items))

    def holds(self, ctx: Context) -> bool:
        return any(c.holds(ctx) for c in self._cheap_first)  # type: ignore[attr-defined]

    def test(self, ctx: Context) -> tuple[Evidence, ...] | None:
        for c in self.items:
            if c.holds(ctx):
                return c.test(ctx)
        return None

    def children(self) -> tuple[Condition, ...]:
        return self.items

    def word_ids(self) -> frozenset[int] | None:
        out: set[int] = set()
        for c in self.items:
            ids = c.word_ids()
            if ids is None:
                return None
            out |= ids
        return frozenset(out)


@dataclass(frozen=True, eq=False)
class Not(Condition):
    item: Condition
    line: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "cost", self.item.cost)

    def holds(self, ctx: Context) -> bool:
        return not self.item.holds(ctx)

    def test(self, ctx: Context) -> tuple[Evidence, ...] | None:
        return None if self.item.holds(ctx) else ()

    def children(self) -> tuple[Condition, ...]:
        return (self.item,)


_UNANCHORED = getattr(getattr(re2, "_Anchor", None), "UNANCHORED", None)
RAW_MATCH = _UNANCHORED is not None
"""Whether RE2 can be called directly on bytes (else the public, slower API)."""


def raw_match(compiled: Any, data: bytes) -> bool:
    """Whether an RE2 pattern matches UTF-8 ``data`` anywhere."""
    regexp = getattr(compiled, "_regexp", None)
    if regexp is not None and _UNANCHORED is not None:
        return regexp.Match(_UNANCHORED, data, 0, len(data))[0][0] >= 0
    return compiled.search(data) is not None


def search_span(compiled: Any, data: bytes, text: str) -> str | None:
    """The first match of an RE2 pattern, as text. Goes straight to RE2 on the
    already-encoded bytes (the wrapper's str path re-encodes and maps offsets
    back, five times slower); falls back to the public API if that changes."""
    regexp = getattr(compiled, "_regexp", None)
    if regexp is not None and _UNANCHORED is not None:
        try:
            start, end = regexp.Match(_UNANCHORED, data, 0, len(data))[0]
        except (AttributeError, TypeError, IndexError):
            pass
        else:
            return None if start < 0 else data[start:end].decode("utf-8", "replace")
    m = compiled.search(text)
    return None if m is None else m.group(0)


def describe(cond: Condition) -> str:
    """A condition as an admin wrote it, in one short line."""
    if isinstance(cond, Words):
        shown = ", ".join(cond.words[:5]) + (", …" if len(cond.words) > 5 else "")
        where = "" if cond.field == "text" else f" in {cond.field}"
        return f"{cond.source}{where}: [{shown}]"
    if isinstance(cond, Regex):
        where = "" if cond.field == "text" else f" in {cond.field}"
        return f"{'raw_regex' if cond.raw else 'regex'}{where}: {cond.pattern}"
    if isinstance(cond, TypeIs):
        return "type: " + ", ".join(sorted(t.value for t in cond.types))
    if isinstance(cond, Domain):
        if cond.any_qr:
            return "qr: any"
        parts = [f"deny: [{', '.join(cond.deny)}]"] if cond.deny else []
        parts += [f"allow: [{', '.join(cond.allow)}]"] if cond.allow else []
        return f"{'qr' if cond.qr_only else 'domain'}: {{{', '.join(parts)}}}"
    if isinstance(cond, Count):
        return f"count: {cond.metric} {cond.op} {cond.n}"
    if isinstance(cond, SenderIs):
        keys = {k: getattr(cond, k) for k in ("new", "joined_within", "admin", "exempt")}
        return "sender: " + ", ".join(f"{k}={v}" for k, v in keys.items() if v is not None)
    if isinstance(cond, AllOf):
        return "all:"
    if isinstance(cond, AnyOf):
        return "any:"
    if isinstance(cond, Not):
        return "not:"
    return type(cond).__name__


def explain(cond: Condition, ctx: Context, depth: int = 0) -> list[str]:
    """The condition tree, one line per condition, each marked ✓ (holds) or ✗."""
    mark = "✓" if cond.holds(ctx) else "✗"
    lines = [f"{'  ' * depth}{mark} {describe(cond)}"]
    for child in cond.children():
        lines += explain(child, ctx, depth + 1)
    return lines


def walk(cond: Condition):
    yield cond
    for c in cond.children():
        yield from walk(c)


# Links are found without nested quantifiers, so that no text (a 1 MB run of
# "a-a-a-a-") can make the search slow: scheme links by one flat pattern, bare
# domains by splitting maximal runs of [a-z0-9.-] and checking them in Python.
_STOP = "\\s<>\"'，。\u3000-\u9fff\uff00-\uffef"
_SCHEME_LINK_RE = re.compile(f"(?:https?|weixin|wxp|alipays?|taobao|tbopen)://[^{_STOP}]+")
# maximal runs of [a-z0-9.-] that hold a dot (only those can be a domain), each from
# its first letter or digit
_DOTTED_RE = re.compile(r"(?<![a-z0-9.\-])[.\-]*+([a-z0-9][a-z0-9\-]*+\.[a-z0-9.\-]*+)")
_DOT_LETTER = re.compile(r"\.[a-z]")
_PATH_RE = re.compile(f"[/?#][^{_STOP}]*")
_LABEL_RE = re.compile(r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?")
TLDS = frozenset(
    [
        "com",
        "cn",
        "net",
        "org",
        "cc",
        "top",
        "xyz",
        "vip",
        "info",
        "io",
        "me",
        "co",
        "app",
        "site",
        "shop",
        "club",
        "ly",
        "gl",
        "tk",
        "ink",
        "link",
        "live",
        "pro",
        "biz",
        "tv",
        "win",
        "bet",
        "fun",
        "icu",
        "online",
        "store",
        "tech",
        "wang",
        "ren",
        "work",
        "red",
        "mobi",
        "asia",
        "hk",
        "tw",
    ]
)


def find_links(text: str) -> list[str]:
    """Links in a text: ``https://…``, ``weixin://…``, and bare domains with a
    known top-level domain (``t.cn/abc``, ``m.shop.example.com``). E-mail
    addresses are not links."""
    if "." not in text and "://" not in text:
        return []
    found: list[str] = []
    taken: list[tuple[int, int]] = []
    if "://" in text:
        for m in _SCHEME_LINK_RE.finditer(text):
            found.append(m.group(0))
            taken.append(m.span())
    if _DOT_LETTER.search(text) is None:
        return found  # a bare domain ends in a dot and a top-level domain of letters
    k = 0  # next scheme link that may cover a token (both come in text order)
    covered = 0  # end of the last link found here, path included
    for m in _DOTTED_RE.finditer(text):
        start = m.start(1)
        if start < covered or (start > 0 and text[start - 1] in "@_."):
            continue
        while k < len(taken) and taken[k][1] <= start:
            k += 1
        if k < len(taken) and taken[k][0] <= start:
            continue
        host = m.group(1).rstrip(".-")
        labels = host.split(".")
        if len(labels) < 2 or labels[-1] not in TLDS:
            continue
        if not all(_LABEL_RE.fullmatch(label) for label in labels):
            continue
        end = start + len(host)
        path = _PATH_RE.match(text, end) if end == m.end() else None
        covered = path.end() if path else end
        found.append(text[start:covered])
    return found


_EMAIL_RE = re.compile(r"[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)+")


def blank_links(text: str) -> str:
    """``text`` with its links and e-mail addresses blanked out (same length, so
    positions still hold): the pinyin layer must not read ``zhihu`` in a URL."""
    if "." not in text and "://" not in text:
        return text
    for link in find_links(text):
        text = text.replace(link, " " * len(link))
    if "@" in text:
        text = _EMAIL_RE.sub(lambda m: " " * len(m.group(0)), text)
    return text


def _context(text: str, span: Span, width: int = 12) -> str:
    start = max(0, span[0] - width)
    end = min(len(text), span[1] + width)
    pre = "…" if start > 0 else ""
    post = "…" if end < len(text) else ""
    return f"{pre}{text[start : span[0]]}【{text[span[0] : span[1]]}】{text[span[1] : end]}{post}"
