"""A sound pre-screen for the text of a message: most chat can match no rule.

Judging the ``text`` field in full means normalising it, scanning it with the
word automaton, the pinyin layer and every pattern. Most messages hit none of
the words and patterns that make a rule a candidate, and this screen proves
that cheaply with one ``str.translate`` and one Aho-Corasick scan:

* The *skeleton* of a text is its character fold (step 1 of
  :func:`~bot.engine.normalize.normalize`) with every character deleted that
  some later step of normalisation may delete (separators, symbols, emoji,
  spaces, the punctuation between split hanzi). Those later steps only delete
  such characters, except two that replace: Chinese numerals to digits and the
  aliases of 微信 / QQ. So when neither of those can apply, the normalised text
  is the skeleton with some deleted characters put back, and any word ``w``
  found in the normalised text leaves ``skeleton(w)`` in the skeleton.
* Hence: if the skeleton holds no ``skeleton(w)`` of any *required* word
  (a word some rule needs), no required literal of a required pattern, no
  alias key and no run of Chinese numerals, then no word or pattern of the
  text field can make a rule a candidate.
* Latin letters send a text down the full path: they may spell pinyin or an
  ASCII alias, which the skeleton cannot rule out cheaply.

The screen only skips work that would have found nothing; a message it lets
through is judged exactly as before. It is built only when every required
pattern on the text has literals (otherwise every message takes the full path).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

import ahocorasick_rs

from bot.engine import checks as C
from bot.engine import normalize as N
from bot.engine import prefilter as P

DELETABLE = re.compile(f"{N._SEP}|{N._SYMBOL}|[,、。.;!]|{N._SPLIT_SEP}|\\s")
"""Every character a normalisation step after the character fold may delete."""
_STRIP = re.compile(r"[\W\d_]")
_LATIN = re.compile("[a-z]")
_ASCII_LETTER = re.compile("[A-Za-z]")


def _cased(text: str) -> bool:
    return text.lower() != text or text.upper() != text


# A run of five or more digits holding a Chinese numeral (as in _CN_RUN_RE, whose
# separators the skeleton has already deleted): the numeral step would rewrite it.
_CN_RUN = re.compile(f"(?=[0-9{N._CN_DIGIT_CHARS}]{{5}})[0-9]{{0,4}}[{N._CN_DIGIT_CHARS}]")


@lru_cache(maxsize=8192)
def required_factors(pattern: str) -> tuple[tuple[P.Factor, ...], ...] | None:
    """For each top-level alternative of ``pattern``, factors that all occur in
    every match of it (a cased letter counts as a literal: callers compare case-
    insensitively); None when some alternative needs no literal at all. Cached:
    rules are compiled again on every reload and in every test."""
    if P._UNSURE.search(pattern):
        return None
    try:
        parsed = P._P.parse(P._RE2_ONLY.sub(P._PLACEHOLDER, pattern))
    except Exception:
        return None
    extractor = P._Extractor(literal_case=True)
    items = list(parsed)
    while len(items) == 1 and items[0][0] is P._K.SUBPATTERN and not any(items[0][1][1:3]):
        items = list(items[0][1][-1])
    alternatives = items[0][1][1] if len(items) == 1 and items[0][0] is P._K.BRANCH else [items]
    out = []
    for alt in alternatives:
        factors = tuple(sorted(set(extractor.seq(alt)), key=sorted))
        if not factors:
            return None
        out.append(factors)
    return tuple(out)


EXTRA_RANGES = ((0x1680, 0x1680), (0x180E, 0x180E), (0x3040, 0x30FF))
"""Code points outside normalize's COMMON_RANGES that DELETABLE may match
(a test checks this against every code point)."""


def _fold_of(cp: int) -> str:
    value = N._TABLE.get(cp, chr(cp))
    if value is None:
        return ""
    return chr(value) if isinstance(value, int) else value


@lru_cache(maxsize=1)
def _tables() -> tuple[
    dict[int, str | None], frozenset[str], dict[str, tuple[int, ...]], re.Pattern[str] | None
]:
    """(skeleton table, deletable characters, code points folding to each deletable
    character, code points that leave a character the fingerprint keeps but a
    skeleton drops); built once per process."""
    deletable = frozenset(
        chr(cp)
        for lo, hi in (*N.COMMON_RANGES, *EXTRA_RANGES)
        for cp in range(lo, hi + 1)
        if DELETABLE.match(chr(cp))
    )
    codepoints = set(N._TABLE) | {ord(c) for c in deletable}
    table: dict[int, str | None] = {}
    folds_to: dict[str, list[int]] = {}
    for cp in codepoints:
        folded = _fold_of(cp)
        kept = "".join(c for c in folded if c not in deletable)
        table[cp] = kept if kept else None
        for c in folded:
            if c in deletable:
                folds_to.setdefault(c, []).append(cp)
    fp_kept = {c for c in deletable if not _STRIP.match(c)}
    unsafe = sorted({cp for c in fp_kept for cp in folds_to.get(c, ())})
    fp_unsafe = _char_class(unsafe)
    return table, deletable, {c: tuple(v) for c, v in folds_to.items()}, fp_unsafe


def _char_class(codepoints: Iterable[int]) -> re.Pattern[str] | None:
    chars = "".join(re.escape(chr(cp)) for cp in sorted(set(codepoints)))
    return re.compile(f"[{chars}]") if chars else None


Clauses = list[tuple[int, ...]]
"""What a condition needs in the text: it can hold only if, for one clause,
every factor (by id) is present. An empty list: it can never hold on a text
without Latin letters. None: unknown (it may hold without any literal)."""

MAX_PRODUCT = 32
"""``all:`` of two children needs both: their clauses are combined pairwise
up to this many, else the more selective child alone is kept."""


def _or(masks: Iterable[int]) -> int:
    out = 0
    for m in masks:
        out |= m
    return out


def _rarity(strings: frozenset[str]) -> tuple[int, int]:
    """How rarely one of ``strings`` occurs, roughly: its shortest string's length, then fewer strings."""
    return (min(map(len, strings), default=0), -len(strings))


class Screen:
    """Built from each rule's condition: what the text must hold for the rule to fire.

    ``rules`` pairs each rule's condition with the ids of its text conditions
    that can make it a candidate; ``extra_words`` are the rooms' ``add_words``
    (each can make its rule fire on its own)."""

    def __init__(
        self,
        rules: Iterable[tuple[C.Condition | None, Iterable[C.Condition]]],
        extra_words: Iterable[C.Words] = (),
    ) -> None:
        table, deletable, folds_to, fp_unsafe = _tables()
        self._table = table
        self._fp_unsafe = fp_unsafe
        self._deletable = deletable
        self._factors: dict[frozenset[str], int] = {}
        self._strings: list[frozenset[str]] = []  # factor id -> skeleton strings
        self._lost: dict[int, set[str]] = {}  # factor id -> characters that make it count as present
        self._anywhere: set[int] = set()  # factors counted as present in any text
        self.complete = True
        danger: set[str] = set()  # characters whose presence alone sends a text down the full path
        clauses: set[tuple[int, ...]] = set()

        def take(found: Clauses | None, fallback: Iterable[C.Condition]) -> None:
            if found is None:  # the rule can hold without a literal: each of its own triggers is needed
                found = []
                for cond in fallback:
                    one = self._need(cond)
                    if one is None:
                        self.complete = False
                        return
                    found += one
            for clause in found:
                needed = tuple(f for f in clause if f not in self._anywhere)
                if needed:
                    clauses.add(needed)
                    continue
                lost = set().union(*(self._lost.get(f, set()) for f in clause))
                if not lost or any(f not in self._lost for f in clause):
                    self.complete = False  # it holds on any text
                    return
                danger.update(lost)

        for cond, triggers in rules:
            triggers = list(triggers)
            if triggers:
                take(self._need(cond) if cond is not None else None, triggers)
        for words in extra_words:
            take(None, [words])
        for key in [*N._ALIASES, "微:", "薇:", "威:", "徽:", "卫:"]:
            if _ASCII_LETTER.search(key):
                continue  # texts with Latin letters take the full path anyway
            lost = {c for c in N.fold_chars(key) if c in deletable}
            if lost:  # 加∨: its ∨ is deleted from skeletons, so look for it instead
                danger.update(lost)
            else:
                fid = self._factor(frozenset((key,)))
                if fid is not None:
                    clauses.add((fid,))

        # A clause is looked for by its two rarest factors (one, if it has one), as
        # bits: a string's ``own`` bits are the factors it makes present, its
        # ``partner`` bits the factors that complete a pair with one of those. The text
        # holds some pair iff the OR of its strings' partners meets the OR of their owns.
        partner: dict[int, int] = {}
        for clause in clauses:
            a, b = sorted(clause, key=lambda f: _rarity(self._strings[f]), reverse=True)[:2] * (
                2 if len(clause) == 1 else 1
            )
            partner[a] = partner.get(a, 0) | (1 << b)
            partner[b] = partner.get(b, 0) | (1 << a)
        by_string: dict[str, list[int]] = {}
        for f in partner:
            for k in self._strings[f]:
                by_string.setdefault(k, []).append(f)
        self.triggers = sorted(by_string)
        self._own = [sum(1 << f for f in set(by_string[k])) for k in self.triggers]
        self._partner = [_or(partner[f] for f in set(by_string[k])) for k in self.triggers]
        self._automaton = ahocorasick_rs.AhoCorasick(self.triggers) if self.triggers else None
        self._danger = _char_class(cp for c in danger for cp in folds_to.get(c, (ord(c),)))

    def _factor(self, strings: frozenset[str]) -> int | None:
        """The id of a factor (one of ``strings`` must occur in the normalised
        text), or None when none of them can occur in a text without Latin letters."""
        fid = self._factors.get(strings)
        if fid is not None or strings in self._factors:
            return fid
        kept = [lit for lit in strings if not _ASCII_LETTER.search(lit)]
        skeletons = set()
        fid = len(self._strings)
        for lit in kept:
            if _cased(lit):  # case-insensitive: its other case could be in the text
                self._anywhere.add(fid)
                continue
            skeleton = self.skeleton(lit)
            if skeleton:
                skeletons.add(skeleton)
            else:  # only separators or symbols (_, 💰): present when one of those characters is
                self._anywhere.add(fid)
                self._lost.setdefault(fid, set()).update(c for c in N.fold_chars(lit) if c in self._deletable)
        if not skeletons and fid not in self._anywhere:
            self._factors[strings] = None  # type: ignore[assignment]
            return None
        self._strings.append(frozenset(skeletons))
        self._factors[strings] = fid
        return fid

    def _need(self, cond: C.Condition) -> Clauses | None:
        """What ``cond`` needs in the normalised text (see :data:`Clauses`)."""
        if isinstance(cond, C.Words):
            if cond.field != "text":
                return None
            fid = self._factor(frozenset(cond.words))
            return [] if fid is None else [(fid,)]
        if isinstance(cond, C.Regex):
            if cond.field != "text" or cond.raw:
                return None
            # case-sensitive extraction keeps (微信|qq) as a factor; a string with a
            # Latin letter cannot occur in a screened text, whatever its case
            found = required_factors(cond.source or cond.pattern)
            if not found:
                return None
            out: Clauses = []
            for clause in found:
                ids = [self._factor(frozenset(f)) for f in clause]
                if all(i is not None for i in ids):
                    out.append(tuple(sorted(set(ids))))  # type: ignore[arg-type]
            return out
        if isinstance(cond, C.AnyOf):
            out = []
            for item in cond.items:
                one = self._need(item)
                if one is None:
                    return None
                out += one
            return out
        if isinstance(cond, C.AllOf):
            needs = [n for n in (self._need(item) for item in cond.items) if n is not None]
            if not needs:
                return None
            if any(not n for n in needs):
                return []
            needs.sort(key=self._weakness)
            best = needs[0]
            for other in needs[1:]:
                if len(best) * len(other) > MAX_PRODUCT:
                    break
                best = [tuple(sorted(set(a + b))) for a in best for b in other]
            return best
        return None

    def _weakness(self, clauses: Clauses) -> tuple[int, int]:
        """How easily some clause holds: fewer factors and shorter strings first."""

        def strength(clause: tuple[int, ...]) -> int:
            return sum(min((len(k) for k in self._strings[f]), default=0) for f in clause)

        return (-min(strength(c) for c in clauses), len(clauses))

    def skeleton(self, text: str) -> str:
        return text.translate(self._table)

    def clear(self, raw: str) -> str | None:
        """The skeleton of ``raw`` when no required word or pattern can occur in
        its normalised form (the text field can make no rule a candidate), else None."""
        if _ASCII_LETTER.search(raw) is not None:
            return None  # (cheap) Latin letters: the full path
        skeleton = raw.translate(self._table)
        if _LATIN.search(skeleton) is not None:
            return None
        if self._automaton is not None:
            matches = self._automaton.find_matches_as_indexes(skeleton, overlapping=True)
            if matches:
                own, partner = self._own, self._partner
                present = needed = 0
                for pid, _s, _e in matches:
                    present |= own[pid]
                    needed |= partner[pid]
                if present & needed:
                    return None
        if self._danger is not None and self._danger.search(raw) is not None:
            return None
        if _CN_RUN.search(skeleton) is not None:
            return None
        return skeleton

    def fingerprint_basis(self, raw: str, skeleton: str) -> str | None:
        """``skeleton`` if its flood fingerprint equals the normalised text's (it
        does unless ``raw`` holds a character such as ❶ that only skeletons drop)."""
        if self._fp_unsafe is not None and self._fp_unsafe.search(raw) is not None:
            return None
        return skeleton
