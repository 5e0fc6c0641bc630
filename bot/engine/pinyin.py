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
import sys
from array import array
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
        self.grams = _ngrams(self.patterns)
        """Every substring of up to GRAM letters of a spelling."""
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
        """:meth:`scan` when no lexicon accepts homophones.

        A hit must contain a typed letter, and it may start or end among typed
        letters only where a typed word (a run of letters and digits) starts or
        ends, so it holds every typed word it touches whole. A typed word that is
        not a substring of any spelling (``excel``, ``kpi``, a file name, hex)
        therefore takes part in no hit: it is dropped by a look-up of its
        n-grams in :attr:`grams`. Only the stretches within ``maxlen`` rendered
        letters of the words left are rendered and scanned, and only the
        matches that hold one of them are mapped back to ``text``."""
        grams = self.grams
        maxlen = self.maxlen
        runs: list[tuple[int, int]] = []
        for m in _TYPED_RUN.finditer(text):
            word = m.group()
            if len(word) <= GRAM:
                if word in grams:
                    runs.append(m.span())
            elif len(word) <= maxlen and all(
                word[k : k + GRAM] in grams for k in range(len(word) - GRAM + 1)
            ):
                runs.append(m.span())
        if not runs:
            return {}
        render, _mask, length_table = _tables(text)
        windows = _windows_around(text, runs, maxlen, render, length_table)
        assert self.automaton is not None  # scan() checked
        find = self.automaton.find_matches_as_indexes
        conds = self.conds
        found: dict[int, Span] = {}
        at_text_end = len(text)
        for i, j, rendered, off, words in windows:
            if len(words) == 1:
                ((first, last),) = words
                held = [
                    (pid, a, b) for pid, a, b in find(rendered, overlapping=True) if a <= first and b >= last
                ]
            else:
                held = [
                    (pid, a, b)
                    for pid, a, b in find(rendered, overlapping=True)
                    if any(a <= first and b >= last for first, last in words)
                ]
            if not held:
                continue
            ends = list(accumulate(text[i:j].translate(length_table).encode("latin-1")))
            n = ends[-1] if j == at_text_end else -1  # a hit may end here without a boundary check
            for pid, a, b in held:
                a += off
                b += off
                if not _starts(text, i, ends, a) or (b != n and not _starts(text, i, ends, b)):
                    continue
                span = (i + bisect_right(ends, a), i + bisect_right(ends, b - 1) + 1)
                for cid in conds[pid]:
                    if cid not in already and cid not in found:
                        found[cid] = span
        return found


def _starts(text: str, i: int, ends: list[int], r: int) -> bool:
    """Whether a spelling may start (or stop) at rendered position ``r`` of the
    window ``text[i:]`` whose cumulative rendered lengths are ``ends``: at the
    first letter of a typed word or of a hanzi's syllable, or at a break."""
    k = bisect_right(ends, r)
    ci = i + k
    ch = text[ci]
    if "a" <= ch <= "z" or "0" <= ch <= "9":  # a typed letter: a word starts here?
        if ci == 0:
            return True
        prev = text[ci - 1]
        return not ("a" <= prev <= "z" or "0" <= prev <= "9")
    return r == (ends[k - 1] if k else 0)  # a hanzi: its syllable starts here?


def _windows_around(
    text: str, runs: list[tuple[int, int]], maxlen: int, render: dict, length_table: dict
) -> list[tuple[int, int, str, int, list[tuple[int, int]]]]:
    """The stretches of ``text`` to scan around typed words ``runs``:
    ``(i, j, rendered, off, words)``, where ``text[i:j]`` holds every spelling
    that can contain one of the words, ``rendered`` is its rendering less the
    first ``off`` letters, and ``words`` the words' spans in ``rendered``.

    A spelling holding a word of ``r`` letters reaches at most ``maxlen - r``
    letters to either side; a window takes one more letter on the right so that
    the character after a hit is in it (or the text ends). Windows that overlap
    are merged, so every match is seen once, in order."""
    groups: list[list] = []  # [i, j, left, right, [(p, q), ...]]
    for p, q in runs:
        reach = maxlen - (q - p)
        i, left = _left_context(text, p, reach, render)
        j, right = _right_context(text, q, reach, render)
        if groups and i < groups[-1][1]:
            group = groups[-1]
            group[1] = j
            group[3] = right
            group[4].append((p, q))
        else:
            groups.append([i, j, left, right, [(p, q)]])
    out = []
    for i, j, left, right, words in groups:
        if len(words) == 1:
            ((p, q),) = words
            reach = maxlen - (q - p)
            off = max(0, len(left) - reach)
            first = len(left) - off
            out.append((i, j, left[off:] + text[p:q] + right[:reach], off, [(first, first + q - p)]))
        else:
            rendered = text[i:j].translate(render)
            ends = list(accumulate(text[i:j].translate(length_table).encode("latin-1")))
            spans = []
            for p, q in words:
                first = ends[p - i - 1] if p > i else 0
                spans.append((first, first + q - p))
            out.append((i, j, rendered, 0, spans))
    return out


def _left_context(text: str, p: int, reach: int, render: dict) -> tuple[int, str]:
    """``(i, text[i:p] rendered)`` with at least ``reach`` letters, or from the text's start."""
    k = reach // 2 + 1
    while True:
        i = max(0, p - k)
        left = text[i:p].translate(render)
        if len(left) >= reach or i == 0:
            return i, left
        k *= 2


def _right_context(text: str, q: int, reach: int, render: dict) -> tuple[int, str]:
    """``(j, text[q:j] rendered)`` with more than ``reach`` letters, or to the text's end."""
    k = reach // 2 + 2
    n = len(text)
    while True:
        j = min(n, q + k)
        right = text[q:j].translate(render)
        if len(right) > reach or j == n:
            return j, right
        k *= 2


GRAM = 4
"""Longest n-gram of the spellings kept in :attr:`PinyinIndex.grams`."""


def _ngrams(patterns: list[str]) -> frozenset[str]:
    """Every substring of at most GRAM letters of ``patterns``.

    Read as 4-byte integers at the four offsets of all spellings joined (fast:
    a Python loop over 1.5 million letters would add a third of a second to the
    load); the shorter n-grams are cut from the 4-grams, which hold them all
    because no spelling is shorter than MIN_LETTERS (4) letters. N-grams across
    the separator are kept: they contain a newline, which no typed word does."""
    assert GRAM == 4 <= MIN_LETTERS
    joined = "\n".join(patterns).encode("ascii")
    codes: set[int] = set()
    for offset in range(GRAM):
        usable = (len(joined) - offset) // GRAM * GRAM
        codes.update(array("I", joined[offset : offset + usable]))
    quads = {code.to_bytes(GRAM, sys.byteorder).decode("ascii") for code in codes}
    grams = set(quads)
    for g in quads:
        grams.update((g[:3], g[1:], g[:2], g[1:3], g[2:], *g))
    return frozenset(grams)


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
