"""Matching words that were typed in pinyin: 有jian zhi需要的, 减féi茶, daikuan.

Each hanzi word of a word condition also gets its toneless pinyin spelling
(兼职 -> ``jianzhi``), all in one second automaton. A message that contains
Latin letters is rendered into pinyin (hanzi -> syllables, letters kept,
spaces and punctuation dropped) and scanned with it. A pinyin hit counts only
when the member typed at least part of it in Latin letters and it starts and
ends on a syllable or word boundary, so the hanzi 大妈 never matches 大麻
("dama") while ``大ma`` does. Messages without Latin letters cost nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import ahocorasick_rs

if TYPE_CHECKING:
    from bot.engine.checks import Span, Words

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


def to_pinyin(word: str) -> str | None:
    """The pinyin spelling of a word that has hanzi, or None when it has none
    (or a hanzi without a known reading, or is too short to be safe)."""
    table = syllables()
    out = []
    hanzi = 0
    for ch in word:
        syl = table.get(ch)
        if syl is not None:
            out.append(syl)
            hanzi += 1
        elif "a" <= ch <= "z" or "0" <= ch <= "9":
            out.append(ch)
        elif ch.isspace():
            continue
        else:
            return None
    spelled = "".join(out)
    if hanzi == 0 or hanzi < MIN_SYLLABLES or len(spelled) < MIN_LETTERS:
        return None
    return spelled


def _is_latin(ch: str) -> bool:
    return "a" <= ch <= "z"


class PinyinIndex:
    """Pinyin spellings of the hanzi words of every word condition."""

    def __init__(self, conds: Iterable[Words]) -> None:
        by_pattern: dict[str, list[int]] = {}
        for cond in conds:
            if not getattr(cond, "pinyin", True):
                continue
            for w in cond.words:
                if w.isascii():
                    continue
                spelled = to_pinyin(w)
                if spelled is None:
                    continue
                ids = by_pattern.setdefault(spelled, [])
                if cond.cond_id not in ids:
                    ids.append(cond.cond_id)
        self.patterns = list(by_pattern)
        self.conds = [tuple(v) for v in by_pattern.values()]
        self.automaton = (
            ahocorasick_rs.AhoCorasick(self.patterns, matchkind=ahocorasick_rs.MatchKind.Standard)
            if self.patterns
            else None
        )

    @property
    def active(self) -> bool:
        return self.automaton is not None

    def render(self, text: str) -> tuple[str, list[int], list[bool], list[bool]]:
        """-> (pinyin, origin index in ``text`` of each pinyin letter, whether
        that letter was typed in Latin, whether a syllable or word starts there)."""
        table = syllables()
        out: list[str] = []
        origin: list[int] = []
        latin: list[bool] = []
        starts: list[bool] = []
        prev_latin = False
        for i, ch in enumerate(text):
            syl = table.get(ch)
            if syl is not None:
                out.append(syl)
                origin.extend([i] * len(syl))
                latin.extend([False] * len(syl))
                starts.append(True)
                starts.extend([False] * (len(syl) - 1))
                prev_latin = False
            elif _is_latin(ch) or "0" <= ch <= "9":
                out.append(ch)
                origin.append(i)
                latin.append(True)
                starts.append(not prev_latin)
                prev_latin = True
            else:
                prev_latin = False
        return "".join(out), origin, latin, starts

    def scan(self, text: str, already: dict[int, Span]) -> dict[int, Span]:
        """Pinyin hits in normalised ``text`` of conditions not already hit."""
        if self.automaton is None or (text.isascii() and " " not in text and len(text) < MIN_LETTERS):
            return {}
        if not any(_is_latin(c) for c in text):
            return {}
        rendered, origin, latin, starts = self.render(text)
        if not rendered:
            return {}
        found: dict[int, Span] = {}
        n = len(rendered)
        for pid, s, e in self.automaton.find_matches_as_indexes(rendered, overlapping=True):
            if not any(latin[s:e]):
                continue  # all hanzi: a homophone, not a spelling
            if not starts[s] or (e < n and not starts[e]):
                continue
            span = (origin[s], origin[e - 1] + 1)
            for cid in self.conds[pid]:
                if cid not in already and cid not in found:
                    found[cid] = span
        return found
