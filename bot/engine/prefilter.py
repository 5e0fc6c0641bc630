"""Prefilter for RE2 patterns with gaps (in the manner of RE2's FilteredRE2).

Patterns with gaps (``.{0,10}``, ``.*``, ``[^…]{1,5}``) make a combined RE2
set's DFA explode, so each runs alone, and only when the text holds what every
match of it must hold. :func:`required_clauses` works that out from the
pattern's syntax tree: one *clause* per top-level alternative, each a *trigger*
(a gap-free run of the pattern's own items, or one factor, whichever looks
rarer; it joins the field's RE2 set) and further *factors* that must all
occur, each a few strings one of which must occur. So
``(差|还差|就差).{0,6}(助力|一刀|砍)`` needs 差 **and** one of 助力/一刀/砍: a
message with only 差 in it (还差一点) does not run the pattern at all. The
pattern still decides: the prefilter only skips patterns that cannot match.

The syntax tree is the stdlib parser's; where RE2's syntax differs from it
(``\\C``, ``\\Q…\\E``, ``[[:alpha:]]``, ``x{,3}``, or anything the parser warns
about) the pattern gets no clauses and simply always runs; ``\\p{Han}`` becomes a
placeholder that is never a literal and ends a trigger.
"""

from __future__ import annotations

import functools
import math
import re
import warnings
from typing import Any, NamedTuple

try:  # Python 3.11+
    import re._constants as _K
    import re._parser as _P
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _K  # type: ignore[no-redef]
    import sre_parse as _P  # type: ignore[no-redef]

MAX_CLASS = 16
"""A character class of at most this many characters counts as a factor."""

MAX_STRINGS = 256
"""Most strings a literal pattern may stand for (``(a|b)(c|d)?`` is four) to be
searched as literals rather than run by RE2."""

MAX_FACTORS = 4
"""Factors kept per clause (the most selective ones): each is one more member
of the field's RE2 set."""

Factor = frozenset[str]
"""Strings one of which occurs in every match."""


class Clause(NamedTuple):
    """What every match of one alternative of a pattern holds."""

    trigger: str
    """An RE2 pattern without gaps that matches inside every match: a run of the
    pattern's own items between its gaps, or one factor's strings."""
    factors: tuple[Factor, ...]
    """Factors (outside the trigger) that all occur in every match."""
    strings: Factor | None = None
    """Every text the trigger matches, when it matches only a few fixed strings
    (so a literal search can stand in for it); None otherwise."""


_RE2_ONLY = re.compile(r"\\[pP]\{\w+\}|\\[pP]\w|\\z")
"""RE2 escapes the stdlib parser does not know: each stands for a character
class, so it becomes a placeholder that is never a literal."""
_UNSURE = re.compile(r"\\[CQE]|\[:|\{,")
"""Syntax that RE2 reads differently from the stdlib parser: no prefilter."""
_PLAIN_TEXT = re.compile(r"[^\x00\\.^$*+?{}\[\]|()]+")
"""A pattern without any syntax: it matches itself."""
_NOT_LITERAL = re.compile(r"\\[dDsSwWbBpPzAZ]|(?<!\\)[.^$*+]|\{\d*,\}")
"""Syntax that (almost always) means more than a few fixed strings: no need to
parse the pattern to know (``[.]`` is missed, and simply runs in RE2)."""
_GAP = re.compile(r"\.[{*+?]|\[\^")
_IGNORE_CASE = re.compile(r"\(\?[A-Za-z-]*i")
_FLAGS = re.compile(r"\(\?[^:P<]")
_PLACEHOLDER = "\x00"


def has_gap(pattern: str) -> bool:
    """Whether the pattern has a gap: a repeated piece that matches (almost) any
    character (``.{0,N}``, ``.*``, ``[^…]{1,5}``). A lone ``[^…]`` is no gap."""
    if _GAP.search(pattern) is None:
        return False
    parsed = _parse(pattern)
    return True if parsed is None else _has_gap_items(parsed)


@functools.lru_cache(maxsize=4096)
def _parse(pattern: str) -> Any:
    """The stdlib parser's tree of an RE2 pattern, or None where it cannot read
    it, or warns that it might read it differently one day (``[[``, ``--``)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return _P.parse(_RE2_ONLY.sub(_PLACEHOLDER, pattern))
    except Exception:
        return None


def split_alternatives(pattern: str) -> list[str]:
    """The pattern's top-level alternatives (``a|b.*c`` -> ``a``, ``b.*c``): the
    pattern matches where one of them does, so each can be prefiltered and run
    on its own. The pattern itself when it has one, or when splitting it is not
    plainly safe (inline flags such as ``(?i)`` reach across ``|``)."""
    if _UNSURE.search(pattern) or _FLAGS.search(pattern):
        return [pattern]
    parts: list[str] = []
    depth = start = i = 0
    n = len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":  # a class: skip to its end (a leading ] or ^] is a member)
            i += 1
            if i < n and pattern[i] == "^":
                i += 1
            if i < n and pattern[i] == "]":
                i += 1
            while i < n and pattern[i] != "]":
                i += 2 if pattern[i] == "\\" else 1
            i += 1
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    if depth != 0 or i != n:
        return [pattern]
    parts.append(pattern[start:])
    return parts


def literal_alternation(factor: Factor) -> str:
    """An RE2 pattern matching any of the factor's strings, each as a literal."""
    return "|".join("".join(map(_escape, s)) for s in sorted(factor))


def literal_strings(pattern: str) -> Factor | None:
    """The strings the pattern matches when it is a literal in disguise, built only
    of characters, groups, small classes, alternatives and bounded repeats
    (``(微信|qq)(号|群)?`` -> 微信, qq, 微信号, …): the pattern matches a text exactly
    where one of them occurs. None for anything else (anchors, ``.``, ``\\d``,
    inline flags, a string that may be empty, more than :data:`MAX_STRINGS`)."""
    if _PLAIN_TEXT.fullmatch(pattern):
        return frozenset((pattern,))
    if _NOT_LITERAL.search(pattern) or _UNSURE.search(pattern) or _FLAGS.search(pattern):
        return None
    try:
        alternatives = _LiteralReader(pattern).top()
    except _NotLiteral:
        return None
    out: set[str] = set()
    for nodes in alternatives:
        strings = _expand_nodes(nodes)
        if strings is None or len(out) + len(strings) > MAX_STRINGS:
            return None
        out |= strings
    return _minimal(out)


def _repeated(strings: set[str], lo: int, hi: int) -> set[str] | None:
    """Every way of writing ``lo`` to ``hi`` of ``strings`` one after another, or
    None when there are more than MAX_STRINGS."""
    out, power = set(), {""}
    for count in range(hi + 1):
        if count >= lo:
            out |= power
        if count < hi:
            power = {a + b for a in power for b in strings}
            if len(power) > MAX_STRINGS:
                return None
    return out


class _NotLiteral(Exception):
    pass


_SYNTAX = frozenset("\\.^$*+?{}[]|()\x00")
_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_COUNT = re.compile(r"\{(\d{1,3})(?:,(\d{1,3}))?\}")


class _LiteralReader:
    """Reads the few-fixed-strings subset of RE2's syntax (characters, ``\\`` before
    punctuation, ``(…)``, ``(?:…)``, ``|``, ``?``, ``{n}``, ``{n,m}``, small classes
    such as ``[类种]`` or ``[a-f]``); raises :class:`_NotLiteral` at anything else,
    which RE2 then answers. (Parsing with the stdlib parser costs ten times more.)"""

    def __init__(self, pattern: str) -> None:
        self.p = pattern
        self.i = 0

    def top(self) -> list[list[set[str]]]:
        """Each top-level alternative as its sequence of items' strings."""
        alternatives = [self.sequence()]
        while self.i < len(self.p) and self.p[self.i] == "|":
            self.i += 1
            alternatives.append(self.sequence())
        if self.i != len(self.p):
            raise _NotLiteral
        return alternatives

    def sequence(self) -> list[set[str]]:
        nodes: list[set[str]] = []
        p = self.p
        while self.i < len(p) and p[self.i] not in "|)":
            node = self.atom()
            if self.i < len(p) and p[self.i] in "?{":
                node = self.repeat(node)
            nodes.append(node)
        return nodes

    def atom(self) -> set[str]:
        p, i = self.p, self.i
        ch = p[i]
        if ch not in _SYNTAX:
            self.i += 1
            return {ch}
        if ch == "\\" and i + 1 < len(p) and p[i + 1] in _PUNCTUATION:
            self.i += 2
            return {p[i + 1]}
        if ch == "(":
            self.i += 3 if p.startswith("(?:", i) else 1
            if p.startswith("(?", i) and self.i == i + 1:
                raise _NotLiteral  # a named group or flags
            out: set[str] = set()
            while True:
                strings = _product(self.sequence())
                out |= strings
                if len(out) > MAX_STRINGS or self.i >= len(p):
                    raise _NotLiteral
                self.i += 1
                if p[self.i - 1] == ")":
                    return out
        if ch == "[":
            end = p.find("]", i + 1)
            body = p[i + 1 : end]
            if end < 0 or not body or body[0] in "^-" or body[-1] == "-" or any(c in "\\[\x00" for c in body):
                raise _NotLiteral
            self.i = end + 1
            chars: set[str] = set()
            k = 0
            while k < len(body):
                if k + 2 < len(body) and body[k + 1] == "-":
                    lo, hi = ord(body[k]), ord(body[k + 2])
                    if not 0 <= hi - lo < MAX_CLASS:
                        raise _NotLiteral
                    chars.update(map(chr, range(lo, hi + 1)))
                    k += 3
                elif body[k] == "-":
                    raise _NotLiteral
                else:
                    chars.add(body[k])
                    k += 1
            return chars
        raise _NotLiteral

    def repeat(self, node: set[str]) -> set[str]:
        p, i = self.p, self.i
        if p[i] == "?":
            lo, hi = 0, 1
            self.i += 1
        else:
            m = _COUNT.match(p, i)
            if m is None:
                raise _NotLiteral
            lo = int(m[1])
            hi = lo if m[2] is None else int(m[2])
            self.i = m.end()
        if (self.i < len(p) and p[self.i] in "?+") or hi < lo:
            raise _NotLiteral  # lazy or possessive: keep to plain repeats
        out = _repeated(node, lo, hi)
        if out is None:
            raise _NotLiteral
        return out


def _product(nodes: list[set[str]]) -> set[str]:
    out = {""}
    for node in nodes:
        if len(out) * len(node) > MAX_STRINGS:
            raise _NotLiteral
        out = {a + b for a in out for b in node}
    return out


def _expand_nodes(nodes: list[set[str]]) -> set[str] | None:
    """The strings a sequence must hold one of to match: items that may match
    nothing at either end are left out (``微信(号|群)?`` occurs exactly where 微信
    does); None if it may match the empty text or stands for too many strings."""
    while nodes and "" in nodes[0]:
        nodes = nodes[1:]
    while nodes and "" in nodes[-1]:
        nodes = nodes[:-1]
    if not nodes:
        return None
    try:
        return _product(nodes)
    except _NotLiteral:
        return None


def _expand(items: Any) -> Factor | None:
    """The strings a run of the stdlib parser's items must hold one of to match."""
    nodes: list[set[str]] = []
    for op, av in items:
        node = _expand_node(op, av)
        if node is None:
            return None
        nodes.append(node)
    strings = _expand_nodes(nodes)
    return None if strings is None else _minimal(strings)


def _expand_node(op: Any, av: Any) -> set[str] | None:
    """The strings one item matches (possibly the empty one), or None."""
    if op is _K.LITERAL:
        return None if av == 0 else {chr(av)}
    if op is _K.SUBPATTERN:
        return None if av[1] or av[2] else _expand_seq(av[-1])
    if op is _K.BRANCH:
        out: set[str] = set()
        for alt in av[1]:
            strings = _expand_seq(alt)
            if strings is None:
                return None
            out |= strings
        return out
    if op in (_K.MAX_REPEAT, _K.MIN_REPEAT):
        lo, hi, sub = av
        strings = _expand_seq(sub)
        if strings is None or hi == _K.MAXREPEAT or hi > MAX_STRINGS:
            return None
        return _repeated(strings, lo, hi)
    if op is _K.IN:
        chars: set[str] = set()
        for cop, cav in av:
            if cop is _K.LITERAL and cav != 0:
                chars.add(chr(cav))
            elif cop is _K.RANGE and cav[0] != 0 and cav[1] - cav[0] < MAX_CLASS:
                chars.update(chr(c) for c in range(cav[0], cav[1] + 1))
            else:
                return None
        return chars or None
    return None


def _expand_seq(items: Any) -> set[str] | None:
    out: set[str] = {""}
    for op, av in items:
        node = _expand_node(op, av)
        if node is None or len(out) * len(node) > MAX_STRINGS:
            return None
        out = {a + b for a in out for b in node}
    return out


def _escape(ch: str) -> str:
    return ch if ch.isascii() and ch.isalnum() else f"\\x{{{ord(ch):x}}}"


_AT = {
    _K.AT_BEGINNING: "^",
    _K.AT_END: "$",
    _K.AT_BOUNDARY: "\\b",
    _K.AT_NON_BOUNDARY: "\\B",
    _K.AT_BEGINNING_STRING: "\\A",
}
_CATEGORY = {
    _K.CATEGORY_DIGIT: "\\d",
    _K.CATEGORY_NOT_DIGIT: "\\D",
    _K.CATEGORY_SPACE: "\\s",
    _K.CATEGORY_NOT_SPACE: "\\S",
    _K.CATEGORY_WORD: "\\w",
    _K.CATEGORY_NOT_WORD: "\\W",
}
_REPEATS = (_K.MAX_REPEAT, _K.MIN_REPEAT, getattr(_K, "POSSESSIVE_REPEAT", None))


def _emit(items: Any) -> str | None:
    """RE2 syntax for a piece of the stdlib parser's tree (the same tokens back:
    RE2 reads them as in the original pattern); None for anything else."""
    out = []
    for op, av in items:
        piece = _emit_node(op, av)
        if piece is None:
            return None
        out.append(piece)
    return "".join(out)


def _emit_node(op: Any, av: Any) -> str | None:
    if op is _K.LITERAL:
        return None if av == 0 else _escape(chr(av))
    if op is _K.AT:
        return _AT.get(av)
    if op is _K.ANY:
        return "."
    if op is _K.NOT_LITERAL:
        return None if av == 0 else f"[^{_escape(chr(av))}]"
    if op is _K.IN:
        out: list[str] = []
        for cop, cav in av:
            if cop is _K.NEGATE and not out:
                out.append("^")
            elif cop is _K.LITERAL and cav != 0:
                out.append(_escape(chr(cav)))
            elif cop is _K.RANGE and cav[0] != 0:
                out.append(f"{_escape(chr(cav[0]))}-{_escape(chr(cav[1]))}")
            elif cop is _K.CATEGORY and cav in _CATEGORY:
                out.append(_CATEGORY[cav])
            else:
                return None
        return f"[{''.join(out)}]"
    if op is _K.BRANCH:
        alts = [_emit(alt) for alt in av[1]]
        return None if None in alts else "(?:" + "|".join(a for a in alts if a is not None) + ")"
    if op is _K.SUBPATTERN:
        if av[1] or av[2]:  # inline flags
            return None
        inner = _emit(av[-1])
        return None if inner is None else f"(?:{inner})"
    if op in _REPEATS:
        lo, hi, sub = av
        inner = _emit(sub)
        if inner is None:
            return None
        top = "" if hi == _K.MAXREPEAT else str(hi)
        return f"(?:{inner}){{{lo},{top}}}" + ("?" if op is _K.MIN_REPEAT else "")
    return None


def _broad(items: Any) -> bool:
    """Whether a piece can match (almost) any character: ``.``, ``[^…]``, ``\\S``."""
    for op, av in items:
        if op in (_K.ANY, _K.NOT_LITERAL):
            return True
        if op is _K.IN and any(
            cop is _K.NEGATE or (cop is _K.CATEGORY and "NOT" in str(cav)) for cop, cav in av
        ):
            return True
        if op is _K.BRANCH and any(_broad(alt) for alt in av[1]):
            return True
        if (op is _K.SUBPATTERN or op in _REPEATS) and _broad(av[-1]):
            return True
    return False


def _is_gap(op: Any, av: Any) -> bool:
    """A repeated broad piece (``.{0,8}``, ``[^,。]{1,5}``, ``.*``): what makes one
    DFA for many patterns explode."""
    if op in _REPEATS:
        return (av[1] > 1 and _broad(av[-1])) or _has_gap_items(av[-1])
    if op is _K.SUBPATTERN:
        return _has_gap_items(av[-1])
    if op is _K.BRANCH:
        return any(_has_gap_items(alt) for alt in av[1])
    return False


def _has_gap_items(items: Any) -> bool:
    return any(_is_gap(op, av) for op, av in items)


def cased(text: str) -> bool:
    """Whether some character of ``text`` has another case (case maps act character
    by character, so one test answers for the whole string)."""
    return text.lower() != text or text.upper() != text or text.casefold() != text


def _selectivity(factor: Factor) -> tuple[int, int]:
    """Rough rarity of a factor: its shortest string's UTF-8 length (a hanzi is
    3 bytes, an ASCII digit 1), then fewer alternatives."""
    return (min(len(s.encode("utf-8", "surrogatepass")) for s in factor), -len(factor))


def _rarity(factor: Factor) -> float:
    """:func:`_selectivity` as one number: each doubling of the alternatives
    costs half a byte."""
    length, count = _selectivity(factor)
    return length - 0.5 * math.log2(-count)


def _minimal(strings: set[str]) -> Factor:
    """Drops every string that contains another: if 还差 occurs, so does 差."""
    kept: set[str] = set()
    for s in sorted(strings, key=len):
        n = len(s)
        if n * (n + 1) // 2 < len(kept):  # look up each piece of s rather than test each kept string
            if not any(s[i:j] in kept for i in range(n) for j in range(i + 1, n + 1)):
                kept.add(s)
        elif not any(k in s for k in kept):
            kept.add(s)
    return frozenset(kept)


class _Extractor:
    """Walks the stdlib parser's tree of one pattern."""

    def __init__(self, literal_case: bool) -> None:
        self.literal_case = literal_case
        """Whether a cased letter counts as a literal (not when some part of a
        case-sensitive pattern switches to ``(?i)``)."""

    def is_literal(self, ch: str) -> bool:
        return ch != _PLACEHOLDER and (self.literal_case or not cased(ch))

    def seq(self, items: Any) -> list[Factor]:
        """Factors that all occur in every match of this sequence."""
        out: list[Factor] = []
        run: list[str] = []

        def close() -> None:
            if run:
                out.append(frozenset(("".join(run),)))
                run.clear()

        for op, av in items:
            if op is _K.LITERAL and self.is_literal(chr(av)):
                run.append(chr(av))
                continue
            close()
            out.extend(self.node(op, av))
        close()
        return out

    def node(self, op: Any, av: Any) -> list[Factor]:
        if op is _K.SUBPATTERN:
            return self.seq(av[-1])
        if op is _K.BRANCH:
            strings: set[str] = set()
            for alt in av[1]:
                best = self.best(self.seq(alt))
                if best is None:
                    return []
                strings |= best
            return [_minimal(strings)]
        if op in (_K.MAX_REPEAT, _K.MIN_REPEAT, getattr(_K, "POSSESSIVE_REPEAT", None)):
            lo, _hi, sub = av
            return self.seq(sub) if lo >= 1 else []
        if op is _K.IN:
            chars: set[str] = set()
            for cop, cav in av:
                if cop is _K.LITERAL:
                    chars.add(chr(cav))
                elif cop is _K.RANGE and cav[1] - cav[0] < MAX_CLASS:
                    chars.update(chr(c) for c in range(cav[0], cav[1] + 1))
                else:
                    return []
                if len(chars) > MAX_CLASS:
                    return []
            if not chars or not all(self.is_literal(c) for c in chars):
                return []
            return [frozenset(chars)]
        return []

    @staticmethod
    def best(factors: list[Factor]) -> Factor | None:
        return max(factors, key=_selectivity) if factors else None

    def segments(self, items: Any) -> list[list[Any]]:
        """The runs of items between the gaps (and between anything RE2 might
        read differently): each matches inside every match of the sequence."""
        runs: list[list[Any]] = [[]]
        for item in items:
            if _emit_node(*item) is None or _is_gap(*item):
                runs.append([])
            else:
                runs[-1].append(item)
        return [r for r in runs if r]

    def clause(self, items: Any, with_segments: bool) -> Clause | None:
        """The alternative's trigger, the rarest-looking of its gap-free runs and
        factors (by the literal bytes they need, plus a little for every character
        they need at all), and its other factors."""
        factors = sorted(set(self.seq(items)), key=lambda f: (-_rarity(f), sorted(f)))
        candidates: list[tuple[float, str, set[Factor], Any]] = []
        for run in self.segments(items) if with_segments else ():
            emitted = _emit(run)
            width = _P.SubPattern(_P.State(), run).getwidth()[0]
            if emitted is not None and width > 0:  # a trigger never matches the empty text
                inside = set(self.seq(run))
                candidates.append((sum(map(_rarity, inside)) + 0.25 * width, emitted, inside, run))
        for factor in factors:
            width = min(len(s) for s in factor)
            candidates.append((_rarity(factor) + 0.25 * width, literal_alternation(factor), {factor}, factor))
        if not candidates:
            return None
        _score, trigger, inside, source = max(candidates, key=lambda c: c[0])  # the first of equals
        rest = [f for f in factors if f not in inside]
        strings = source if isinstance(source, frozenset) else _expand(source)
        return Clause(trigger, tuple(rest[:MAX_FACTORS]), strings)


def required_clauses(pattern: str, case_sensitive: bool) -> list[Clause] | None:
    """What every match of ``pattern`` holds: it matches only if, for one of the
    clauses, every factor has one of its strings in the text. None if unknown
    (some alternative holds no literal), and the pattern must always run.

    ``case_sensitive`` is how the pattern is compiled; the factors are then to be
    looked for with the same case sensitivity."""
    if _UNSURE.search(pattern):
        return None
    parsed = _parse(pattern)
    if parsed is None:  # an RE2 pattern the stdlib parser cannot read: no prefilter
        return None
    # a cased letter is a literal where the set looks for it as the pattern does: case-folded
    # when the field is, exactly when it is not (unless part of the pattern switches to (?i))
    extractor = _Extractor(literal_case=not case_sensitive or _IGNORE_CASE.search(pattern) is None)
    with_segments = _FLAGS.search(pattern) is None
    items = list(parsed)
    while len(items) == 1 and items[0][0] is _K.SUBPATTERN and not any(items[0][1][1:3]):
        items = list(items[0][1][-1])  # one group around the whole pattern
    alternatives = items[0][1][1] if len(items) == 1 and items[0][0] is _K.BRANCH else [items]
    clauses: list[Clause] = []
    for alt in alternatives:
        clause = extractor.clause(alt, with_segments)
        if clause is None:
            return None
        if clause not in clauses:
            clauses.append(clause)
    return clauses
