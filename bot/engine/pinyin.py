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


_READINGS: dict[str, tuple[str, ...]] | None = None


def _readings() -> dict[str, tuple[str, ...]]:
    """hanzi -> its readings, most common first."""
    global _READINGS
    if _READINGS is None:
        from bot.engine._pinyin import OTHER_READINGS

        _READINGS = {
            ch: (syl, *OTHER_READINGS[ch].split(",")) if OTHER_READINGS.get(ch) else (syl,)
            for ch, syl in syllables().items()
        }
    return _READINGS


_SINGLE: tuple[dict[int, str], dict[int, None]] | None = None


def _single() -> tuple[dict[int, str], dict[int, None]]:
    """(hanzi of one reading -> it, the same hanzi -> deleted): with them one
    ``translate`` spells a word of such hanzi, another tells whether it is one."""
    global _SINGLE
    if _SINGLE is None:
        one = {ch: r[0] for ch, r in _readings().items() if len(r) == 1}
        _SINGLE = ({ord(ch): syl for ch, syl in one.items()}, dict.fromkeys(map(ord, one)))
    return _SINGLE


def spellings(word: str) -> list[str]:
    """Every pinyin spelling of a word that has hanzi, most common first (at
    most MAX_SPELLINGS); none when it has no hanzi, a hanzi without a known
    reading, or is too short to be safe."""
    spell, drop = _SINGLE if _SINGLE is not None else _single()
    if len(word) >= MIN_SYLLABLES and not word.translate(drop):  # hanzi of one reading each: most words
        spelled = word.translate(spell)
        return [spelled] if len(spelled) >= MIN_LETTERS else []
    readings = _READINGS if _READINGS is not None else _readings()
    out = [""]
    hanzi = 0
    for ch in word:
        choices = readings.get(ch)
        if choices is not None:
            hanzi += 1
        elif "a" <= ch <= "z" or "0" <= ch <= "9":
            choices = (ch,)
        elif ch.isspace():
            continue
        else:
            return []
        if len(choices) == 1:
            c = choices[0]
            out = [prefix + c for prefix in out]
        else:
            out = [prefix + c for prefix in out for c in choices][:MAX_SPELLINGS]
    if hanzi < MIN_SYLLABLES:
        return []
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
            cid = cond.cond_id
            for w in cond.words:
                if w.isascii():
                    continue
                for spelled in spellings(w):
                    ids = by_pattern.get(spelled)
                    if ids is None:
                        by_pattern[spelled] = [cid]
                    elif cid not in ids:
                        ids.append(cid)
        self.patterns = list(by_pattern)
        self.conds = [tuple(v) for v in by_pattern.values()]
        self.homophone_conds = frozenset(homophone_conds)
        """Conditions that also match a homophone written in hanzi (沙比, 煞笔 for 傻逼)."""
        self.homophone_patterns = (
            [any(c in homophone_conds for c in v) for v in self.conds] if homophone_conds else []
        )
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
        lexicon accepts homophones). A hit must contain a typed letter, and it
        may start or end among typed letters only where a typed word (a run of
        letters and digits) starts or ends, so it holds every typed word it
        touches whole. A typed word that is no substring of any spelling
        (``excel``, ``kpi``, a file name, hex) therefore takes part in no hit:
        it is dropped by a look-up of its n-grams in :attr:`grams`. Only the
        stretches within ``maxlen`` rendered letters of the words left are
        rendered and scanned, and only the matches that hold one of them are
        mapped back to ``text`` (through the rendered length of each character
        of the stretch) and checked for starting and ending on a boundary."""
        if self.homophone_conds:
            return self._scan_homophones(text, already) if self.automaton is not None else {}
        if _LATIN_RUN.search(text) is None:
            return {}
        grams = self.grams
        parts = _WORDS.split(text)  # typed word, what lies between, typed word, ...
        words = parts[::2]
        kept = [
            k for k, word in enumerate(words) if word in grams or (len(word) > GRAM and self._spelled(word))
        ]
        if not kept:
            return {}
        bounds = list(accumulate(map(len, parts)))
        runs = [(bounds[2 * k - 1] if k else 0, bounds[2 * k]) for k in kept]
        assert self.automaton is not None  # words were kept: there are spellings
        find = self.automaton.find_matches_as_indexes
        conds = self.conds
        found: dict[int, Span] = {}
        for i, j, rendered, off, spans in _windows_around(text, runs, self.maxlen):
            if len(spans) == 1:
                ((first, last),) = spans
                held = [
                    (pid, a, b) for pid, a, b in find(rendered, overlapping=True) if a <= first and b >= last
                ]
            else:
                needs = _first_word_ends(spans, len(rendered))
                held = [(pid, a, b) for pid, a, b in find(rendered, overlapping=True) if b >= needs[a]]
            if not held:
                continue
            ends = _ends(text[i:j])
            n = ends[-1] if j == len(text) else -1  # a hit may end here without a boundary check
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

    def _spelled(self, word: str) -> bool:
        """Whether every GRAM letters of a long typed ``word`` occur in some spelling."""
        grams = self.grams
        return len(word) <= self.maxlen and all(
            word[k : k + GRAM] in grams for k in range(len(word) - GRAM + 1)
        )

    def _scan_homophones(self, text: str, already: dict[int, Span]) -> dict[int, Span]:
        """:meth:`scan` when some lexicon accepts homophones: the whole text is
        rendered and scanned, and a hit of hanzi alone counts for those lexicons."""
        assert self.automaton is not None  # scan() checked
        rendered = text.translate(_render_table())
        if not rendered:
            return {}
        mask = text.translate(_mask_table())  # S = a syllable starts, - = it goes on, L = typed letter
        homophone = self.homophone_patterns
        matches = [
            m
            for m in self.automaton.find_matches_as_indexes(rendered, overlapping=True)
            if homophone[m[0]] or "L" in mask[m[1] : m[2]]
        ]
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


_FAR = 1 << 30


def _windows_around(
    text: str, runs: list[tuple[int, int]], maxlen: int
) -> list[tuple[int, int, str, int, list[tuple[int, int]]]]:
    """The stretches of ``text`` to scan around the typed words ``runs``:
    ``(i, j, rendered, off, spans)``. ``rendered`` is ``text[i:j]`` rendered,
    less its first ``off`` letters and cut after the last letter a spelling
    holding one of the words can reach; ``spans`` are the words in it.

    A spelling holding a word of ``r`` letters reaches at most ``maxlen - r``
    letters to either side. ``text[i:j]`` goes one letter further on the right,
    so that the character after a hit is in it (or the text ends there). A word
    that starts within that reach of the one before joins its window, so no
    match is seen twice and all come in the order of their ends. The contexts
    are first guessed at half a character per letter (most hanzi spell two
    letters or more), and looked for again if that fell short."""
    render = _plain()[0]
    length = len(text)
    out = []
    count = len(runs)
    k = 0
    while k < count:
        p, q = runs[k]
        reach = maxlen - (q - p)
        i = max(0, p - (reach >> 1) - 1)
        left = text[i:p].translate(render)
        if not left.isascii() or (i and len(left) < reach):
            i, left = _left_context(text, p, reach)
        off = max(0, len(left) - reach)
        at = len(left) - off
        parts = [left[off:], text[p:q]]
        spans = [(at, at + q - p)]
        at += q - p
        while True:
            j = min(length, q + (reach >> 1) + 2)
            right = text[q:j].translate(render)
            if not right.isascii() or (j < length and len(right) <= reach):
                j, right = _right_context(text, q, reach)
            k += 1
            if k == count or runs[k][0] >= j:
                break
            end_before = q
            p, q = runs[k]
            gap = _render(text[end_before:p])
            parts += (gap, text[p:q])
            at += len(gap)
            spans.append((at, at + q - p))
            at += q - p
            reach = maxlen - (q - p)
        parts.append(right[:reach])
        out.append((i, j, "".join(parts), off, spans))
    return out


def _first_word_ends(spans: list[tuple[int, int]], size: int) -> list[int]:
    """For each position ``a`` of a window, the end of the first word starting
    at or after ``a``: a match ``(a, b)`` holds a word if ``b`` reaches it."""
    needs: list[int] = []
    before = -1
    for first, last in spans:
        needs += [last] * (first - before)
        before = first
    needs += [_FAR] * (size - before)
    return needs


def _left_context(text: str, p: int, reach: int) -> tuple[int, str]:
    """``(i, text[i:p] rendered)`` with at least ``reach`` letters, or from the text's start."""
    k = reach
    while True:
        i = max(0, p - k)
        left = _render(text[i:p])
        if len(left) >= reach or i == 0:
            return i, left
        k *= 2


def _right_context(text: str, q: int, reach: int) -> tuple[int, str]:
    """``(j, text[q:j] rendered)`` with more than ``reach`` letters, or to the text's end."""
    k = reach + 1
    n = len(text)
    while True:
        j = min(n, q + k)
        right = _render(text[q:j])
        if len(right) > reach or j == n:
            return j, right
        k *= 2


def _render(piece: str) -> str:
    """``piece`` rendered: through the plain table (fast), again through the
    complete one if a character the plain table lacks was left in place (only
    such characters make a rendering that is not ASCII)."""
    rendered = piece.translate(_plain()[0])
    return rendered if rendered.isascii() else piece.translate(_render_table())


def _ends(piece: str) -> list[int]:
    """Cumulative rendered lengths of the characters of ``piece``."""
    try:
        lengths = piece.translate(_plain()[1]).encode("latin-1")
    except UnicodeEncodeError:  # a character the plain table lacks (all are above U+024F)
        lengths = piece.translate(_length_table()).encode("latin-1")
    return list(accumulate(lengths))


_PLAIN: tuple[dict, dict] | None = None


def _plain() -> tuple[dict, dict]:
    """(render, length) tables as plain dicts of their explicit entries:
    twice as fast in ``str.translate`` as the dict subclasses that compute the
    rare characters, which leave such a character in place instead."""
    global _PLAIN
    if _PLAIN is None:
        _PLAIN = (dict(_render_table()), dict(_length_table()))
    return _PLAIN


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


_WORDS = re.compile("([\x00-/:-`{-\U0010ffff]+)")
"""What lies between typed words (anything but ``[a-z0-9]``): ``split`` with it
gives the words at even places and their gaps at odd ones (spelled as ranges:
``split`` runs twice as fast with them as with the negated class)."""
_LENGTH: dict[int, str] | None = None


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
