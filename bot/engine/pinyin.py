"""Matching words that were typed in pinyin: 有jian zhi需要的, 减féi茶, daikuan.

Each hanzi word of a word condition also gets its toneless pinyin spelling
(兼职 -> ``jianzhi``), all in one second automaton. A message that contains
Latin letters is rendered into pinyin (hanzi -> syllables, letters kept,
spaces and punctuation dropped) and scanned with it. A pinyin hit counts only
when the member typed at least part of it in Latin letters and it starts and
ends on a syllable or word boundary, so the hanzi 大妈 never matches 大麻
("dama") while ``大ma`` does. Messages without Latin letters cost nothing.

A lexicon declared with ``homophones: true`` also matches words written in
other hanzi of the same sound (沙比 and 煞笔 for 傻逼); then every message is
rendered, and the price is paid only by the rules that ask for it.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from itertools import accumulate
from typing import TYPE_CHECKING

import ahocorasick_rs

from bot.engine.normalize import COMMON_RANGES

if TYPE_CHECKING:
    from bot.engine.checks import Span, Words

BREAKS = "，。！？；：、,!?;:"
"""Sentence marks: rendered as a break, so a spelling never runs across one
(spaces and other separators are dropped: ``jian zhi`` is one spelling)."""
MIN_SYLLABLES = 2
MIN_LETTERS = 4

_CHAR_TO_SYLLABLE: dict[str, str] | None = None


def syllables() -> dict[str, str]:
    global _CHAR_TO_SYLLABLE
    if _CHAR_TO_SYLLABLE is None:
        from bot.engine._pinyin import PINYIN

        table: dict[str, str] = {}
        for syl, chars in PINYIN.items():
            for ch in chars:
                table[ch] = syl
        _CHAR_TO_SYLLABLE = table
    return _CHAR_TO_SYLLABLE


MAX_SPELLINGS = 8
"""Spellings per word when some of its hanzi have several readings (银行 yinhang/yinxing)."""


def spellings(word: str) -> list[str]:
    """Every pinyin spelling of a word that has hanzi, most common first (at
    most MAX_SPELLINGS); none when it has no hanzi, a hanzi without a known
    reading, or is too short to be safe."""
    from bot.engine._pinyin import OTHER_READINGS

    table = syllables()
    options: list[list[str]] = []
    hanzi = 0
    for ch in word:
        syl = table.get(ch)
        if syl is not None:
            other = OTHER_READINGS.get(ch)
            options.append([syl, *other.split(",")] if other else [syl])
            hanzi += 1
        elif "a" <= ch <= "z" or "0" <= ch <= "9":
            options.append([ch])
        elif ch.isspace():
            continue
        else:
            return []
    if hanzi < MIN_SYLLABLES:
        return []
    out = [""]
    for choices in options:
        out = [prefix + c for prefix in out for c in choices][:MAX_SPELLINGS]
    return [s for s in out if len(s) >= MIN_LETTERS]


def to_pinyin(word: str) -> str | None:
    """The most common pinyin spelling of a word (see :func:`spellings`)."""
    found = spellings(word)
    return found[0] if found else None


def _is_latin(ch: str) -> bool:
    return "a" <= ch <= "z"


class PinyinIndex:
    """Pinyin spellings of the hanzi words of every word condition."""

    def __init__(self, conds: Iterable[Words]) -> None:
        by_pattern: dict[str, list[int]] = {}
        homophone_conds: set[int] = set()
        for cond in conds:
            if not getattr(cond, "pinyin", True):
                continue
            if getattr(cond, "homophones", False):
                homophone_conds.add(cond.cond_id)
            for w in cond.words:
                if w.isascii():
                    continue
                for spelled in spellings(w):
                    ids = by_pattern.setdefault(spelled, [])
                    if cond.cond_id not in ids:
                        ids.append(cond.cond_id)
        self.patterns = list(by_pattern)
        self.conds = [tuple(v) for v in by_pattern.values()]
        self.homophone_conds = frozenset(homophone_conds)
        """Conditions that also match a homophone written in hanzi (沙比, 煞笔 for 傻逼)."""
        self.homophone_patterns = [any(c in homophone_conds for c in v) for v in self.conds]
        self.maxlen = max(map(len, self.patterns), default=0)
        self.automaton = (
            ahocorasick_rs.AhoCorasick(self.patterns, matchkind=ahocorasick_rs.MatchKind.Standard)
            if self.patterns
            else None
        )

    @property
    def active(self) -> bool:
        return self.automaton is not None

    def scan(self, text: str, already: dict[int, Span]) -> dict[int, Span]:
        """Pinyin hits in normalised ``text`` of conditions not already hit.

        Only a text with a run of two Latin letters is looked at (unless some
        lexicon accepts homophones). A spelled hit must contain a typed letter
        and is at most ``maxlen`` letters long, so the automaton runs only on
        windows of the rendered text around the typed letters. Positions map
        back to ``text`` through the rendered length of each character (one more
        ``translate``, summed), and whether a syllable or word starts at a letter
        is read off the mask."""
        if self.automaton is None:
            return {}
        typed = _LATIN_RUN.search(text) is not None
        if not typed and not self.homophone_conds:
            return {}
        if not self.homophone_conds:
            return self._scan_typed(text, already)
        rendered = text.translate(_render_table())
        if not rendered:
            return {}
        mask = text.translate(_mask_table())  # S = a syllable starts, - = it goes on, L = typed letter
        find = self.automaton.find_matches_as_indexes
        if self.homophone_conds:
            homophone = self.homophone_patterns
            matches = [
                m for m in find(rendered, overlapping=True) if homophone[m[0]] or "L" in mask[m[1] : m[2]]
            ]
        else:
            matches = []
            for s, e in _windows(mask, len(rendered), self.maxlen):
                for pid, a, b in find(rendered[s:e], overlapping=True):
                    if "L" in mask[a + s : b + s]:
                        matches.append((pid, a + s, b + s))
        if not matches:
            return {}
        ends = list(accumulate(text.translate(_length_table()).encode("latin-1")))

        def starts(r: int) -> bool:
            kind = mask[r]
            if kind != "L":
                return kind == "S" or kind == "|"
            i = bisect_right(ends, r)
            if i == 0:
                return True
            prev = text[i - 1]
            return not ("a" <= prev <= "z" or "0" <= prev <= "9")

        found: dict[int, Span] = {}
        n = len(rendered)
        for pid, s, e in matches:
            if not starts(s) or (e < n and not starts(e)):
                continue
            spelled = "L" in mask[s:e]
            span = (bisect_right(ends, s), bisect_right(ends, e - 1) + 1)
            for cid in self.conds[pid]:
                if not spelled and cid not in self.homophone_conds:
                    continue  # all hanzi: a homophone, which this word does not accept
                if cid not in already and cid not in found:
                    found[cid] = span
        return found

    def _scan_typed(self, text: str, already: dict[int, Span]) -> dict[int, Span]:
        """:meth:`scan` when no lexicon accepts homophones: a hit must contain a
        typed letter, so only the stretches of ``text`` within ``maxlen`` rendered
        letters of one are rendered and scanned (a long message with one Latin
        word costs a few syllables, not the whole message)."""
        render, mask_table, length_table = _tables(text)
        ends = list(accumulate(text.translate(length_table).encode("latin-1")))
        n = ends[-1] if ends else 0
        if n == 0:
            return {}
        maxlen = self.maxlen
        ranges: list[list[int]] = []  # character ranges [i, j) to render, merged
        for m in _TYPED_RUN.finditer(text):
            p, q = m.span()
            first, last = ends[p] - 1, ends[q - 1]  # rendered span of the typed run
            lo, hi = max(0, first - maxlen + 1), min(n, last + maxlen - 1)
            i, j = bisect_right(ends, lo), bisect_right(ends, hi - 1) + 1
            if ranges and i <= ranges[-1][1]:
                ranges[-1][1] = max(ranges[-1][1], j)
            else:
                ranges.append([i, j])
        assert self.automaton is not None  # scan() checked
        find = self.automaton.find_matches_as_indexes
        matches: list[tuple[int, int, int]] = []
        for i, j in ranges:
            piece = text[i:j]
            off = ends[i - 1] if i else 0
            mask = piece.translate(mask_table)
            for pid, a, b in find(piece.translate(render), overlapping=True):
                if "L" in mask[a:b]:
                    matches.append((pid, a + off, b + off))
        if not matches:
            return {}

        def starts(r: int) -> bool:
            ci = bisect_right(ends, r)
            ch = text[ci]
            if "a" <= ch <= "z" or "0" <= ch <= "9":  # a typed letter: a word starts here?
                if ci == 0:
                    return True
                prev = text[ci - 1]
                return not ("a" <= prev <= "z" or "0" <= prev <= "9")
            return r == (ends[ci - 1] if ci else 0)  # a hanzi: its syllable starts here?

        found: dict[int, Span] = {}
        for pid, s, e in matches:
            if not starts(s) or (e < n and not starts(e)):
                continue
            span = (bisect_right(ends, s), bisect_right(ends, e - 1) + 1)
            for cid in self.conds[pid]:
                if cid not in already and cid not in found:
                    found[cid] = span
        return found


_L_RUN = re.compile("L+")
_TYPED_RUN = re.compile("[a-z0-9]+")
_LENGTH: dict[int, str] | None = None


_PLAIN: tuple[dict, dict, dict] | None = None
_RARE: re.Pattern[str] | None = None


def _tables(text: str) -> tuple[dict, dict, dict]:
    """(render, mask, length) tables for ``text``: plain dicts (twice as fast in
    ``str.translate`` as dict subclasses) when every character of ``text`` has an
    explicit entry, else the complete tables that compute the rare ones."""
    global _PLAIN, _RARE
    if _PLAIN is None or _RARE is None:
        _PLAIN = (dict(_render_table()), dict(_mask_table()), dict(_length_table()))
        listed = "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in COMMON_RANGES)
        _RARE = re.compile(f"[^{listed}]")
    if _RARE.search(text) is None:
        return _PLAIN
    return _render_table(), _mask_table(), _length_table()


def _length_table() -> dict[int, str]:
    """code point -> chr(length of its rendering); dropped characters -> chr(0)."""
    global _LENGTH
    if _LENGTH is None:
        render = _render_table()

        class _Len(dict):  # type: ignore[type-arg]
            def __missing__(self, cp: int) -> str:
                spelled = render[cp]
                return chr(len(spelled)) if spelled else "\x00"

        table = _Len()
        for cp, spelled in render.items():  # the same explicit entries as the render table
            table[cp] = chr(len(spelled)) if spelled else "\x00"
        _LENGTH = table
    return _LENGTH


def _windows(mask: str, n: int, maxlen: int) -> list[list[int]]:
    """Merged ranges of the rendered text within ``maxlen - 1`` letters of a typed letter."""
    out: list[list[int]] = []
    for m in _L_RUN.finditer(mask):
        s, e = max(0, m.start() - maxlen + 1), min(n, m.end() + maxlen - 1)
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return out


_LATIN_RUN = re.compile("[a-z]{2}")
_RENDER: dict[int, str | None] | None = None
_MASK: dict[int, str | None] | None = None


def _mask_table() -> dict[int, str | None]:
    global _MASK
    if _MASK is None:
        render = _render_table()

        class _Mask(dict):  # type: ignore[type-arg]
            def __missing__(self, cp: int) -> str | None:
                return "L" if render[cp] is not None else None

        shapes = {n: "S" + "-" * (n - 1) for n in range(1, 8)}
        table = _Mask({ord(ch): shapes[len(syl)] for ch, syl in syllables().items()})
        for lo, hi in COMMON_RANGES:  # explicit entries: a miss costs translate an exception
            for cp in range(lo, hi + 1):
                if cp not in table:
                    table[cp] = table.__missing__(cp)
        for ch in BREAKS:
            table[ord(ch)] = "|"
        _MASK = table
    return _MASK


def _render_table() -> dict[int, str | None]:
    """hanzi -> syllable; letters and digits kept; everything else dropped."""
    global _RENDER
    if _RENDER is None:

        class _Table(dict):  # type: ignore[type-arg]
            def __missing__(self, cp: int) -> str | None:
                ch = chr(cp)
                return ch if ("a" <= ch <= "z" or "0" <= ch <= "9") else None

        table = _Table({ord(ch): syl for ch, syl in syllables().items()})
        for lo, hi in COMMON_RANGES:  # explicit entries: a miss costs translate an exception
            for cp in range(lo, hi + 1):
                if cp not in table:
                    table[cp] = table.__missing__(cp)
        for ch in BREAKS:  # a spelling never runs across a sentence mark
            table[ord(ch)] = "|"
        _RENDER = table
    return _RENDER
