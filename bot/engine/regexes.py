"""Every ``regex:`` / ``raw_regex:`` condition of the rules, answered per field
in one pass: which patterns match a text, so that only those run again to find
their span.

Patterns with gaps (``.{0,10}``, ``.*``, ``[^…]{1,5}``) would make a combined
DFA explode, so each runs alone, and only when the text holds what all its
matches hold (:mod:`bot.engine.prefilter`): a gap-free piece of it (the
*trigger*) and every other *factor* of one of its clauses. A pattern's
top-level alternatives are taken one by one. The patterns still decide: the
prefilter only skips what cannot match.

What is looked for in every text (the patterns without gaps, the triggers,
the factors) is mostly a few fixed strings (``(微信|qq)(号|群)?`` is 微信 or qq):
those are found by one Aho-Corasick pass, which costs the same on the first
text as on the millionth. RE2 sets build their DFA lazily, text by text, and a
set of every pattern and factor stays cold (several times slower) for
thousands of messages of new wording, as a live bot sees; so only the few
members that are no fixed strings (``\\d``, ``$``, ``[0-9]+``) share a small
RE2 set.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable
from typing import Any

import ahocorasick_rs
import re2

from bot.engine import checks as C
from bot.engine.loader import re2_options
from bot.engine.prefilter import (
    Clause,
    cased,
    has_gap,
    literal_strings,
    required_clauses,
    split_alternatives,
)

_NONE: frozenset[int] = frozenset()


def _plain(s: str, fold: bool) -> bytes | None:
    """The string as UTF-8 to look for in the text (in the ASCII-lowercased text
    when ``fold``), or None when a byte search could miss what RE2 matches: with
    case folding, ``k`` also matches the Kelvin sign and ``s`` the long s, and
    non-ASCII letters fold in ways bytes.lower() does not."""
    if _SURROGATE.search(s):
        return None
    if fold:
        if not s.isascii():
            rest = _ASCII.sub("", s)  # case maps act char by char: one test for them all
            if cased(rest):
                return None
        s = s.lower()
        if "k" in s or "s" in s:
            return None
    return s.encode("utf-8")


_SURROGATE = re.compile("[\ud800-\udfff]")
_ASCII = re.compile("[\x00-\x7f]+")


_Check = tuple[int, tuple[frozenset[int], ...], Callable[[bytes], bool]]
"""One clause of a pattern with gaps, as the match loop reads it: the id of the
condition, its factors (each as the Aho-Corasick patterns of its strings: one
must be found), and the pattern's own matcher."""


class _FieldPatterns:
    """The patterns on one field, as *members*: each pattern without gaps, the
    trigger of every clause of the others, and every factor. Members that stand
    for a few fixed strings are looked for by one Aho-Corasick pass; the rest (a
    pattern with ``\\d`` or ``$``, a trigger with ``[0-9]+``) share one small RE2
    set."""

    __slots__ = (
        "fold",
        "free_of_pattern",
        "free_patterns",
        "literals",
        "rx_cond",
        "rx_set",
        "rx_trigger",
        "trigger_patterns",
        "triggers",
        "triggers_of_pattern",
    )

    def __init__(self, items: list[C.Regex], raw: bool) -> None:
        opts = re2_options(case_sensitive=raw)
        self.fold = not raw
        members: dict[tuple[str, object], int] = {}
        free_cond: dict[int, int] = {}
        literal: dict[bytes, list[int]] = {}
        rx: list[tuple[str, int]] = []
        always: set[int] = set()

        def member(key: tuple[str, object]) -> int:
            return members.setdefault(key, len(members))

        def add(strings: frozenset[str] | None, at: int) -> bool:
            """Makes the AC pass find member ``at`` where one of ``strings`` occurs;
            False (nothing added) when a byte search could miss what RE2 matches."""
            if not strings or _plain("\n".join(strings), self.fold) is None:  # one test for all
                return False
            for x in strings:
                key = (x.lower() if self.fold else x).encode("utf-8")
                if at not in literal.setdefault(key, []):
                    literal[key].append(at)
            return True

        unit_clauses: list[tuple[int, Callable[[bytes], bool], list[Clause]]] = []
        for cond in items:
            pattern = cond.source or cond.pattern
            free: list[str] = []
            if not (has_gap(pattern) and _UNANCHORED is not None):
                free.append(pattern)
            else:
                alternatives = split_alternatives(pattern)
                alt_clauses = [
                    required_clauses(alt, case_sensitive=raw) if has_gap(alt) else None
                    for alt in alternatives
                ]
                # only the alternatives with clauses run on their own: only they need compiling
                compiled = (
                    [cond.compiled]
                    if len(alternatives) == 1
                    else _compile_all(
                        [alt for alt, clauses in zip(alternatives, alt_clauses, strict=True) if clauses], opts
                    )
                )
                if compiled is None:
                    alternatives, compiled = [pattern], [cond.compiled]
                    alt_clauses = [required_clauses(pattern, case_sensitive=raw)]
                in_set: list[str] = []
                regexps = iter(compiled)
                for alt, clauses in zip(alternatives, alt_clauses, strict=True):
                    if clauses:
                        unit_clauses.append((cond.cond_id, _matcher(next(regexps)), clauses))
                    else:
                        in_set.append(alt)
                if in_set:
                    free.append("|".join(in_set))
            for whole in free:
                at = member(("cond", cond.cond_id))
                free_cond[at] = cond.cond_id
                rest = [alt for alt in split_alternatives(whole) if not add(literal_strings(alt), at)]
                if rest:
                    rx.append(("|".join(rest), at))
        clauses_of: dict[int, list[tuple[int, list[int], Callable[[bytes], bool]]]] = {}
        for cond_id, matcher, clauses in unit_clauses:
            for clause in clauses:
                key = ("trigger", clause.trigger)
                new = key not in members
                at = member(key)
                if new and not add(clause.strings, at):
                    rx.append((clause.trigger, at))
                needs: list[int] = []
                for factor in clause.factors:
                    fkey = ("factor", factor)
                    new = fkey not in members
                    f_at = member(fkey)
                    if new and not add(factor, f_at):
                        always.add(f_at)  # a byte search could miss it: taken as present
                    if f_at not in always and f_at not in needs:
                        needs.append(f_at)
                clauses_of.setdefault(at, []).append((cond_id, needs, matcher))
        # the match loop works on Aho-Corasick pattern numbers, found once per text
        strings = list(literal)
        patterns_of: dict[int, set[int]] = {}
        free_of_pattern: dict[int, tuple[int, ...]] = {}
        triggers_of_pattern: dict[int, frozenset[int]] = {}
        for i, x in enumerate(strings):
            for at in literal[x]:
                patterns_of.setdefault(at, set()).add(i)
            conds = tuple(free_cond[at] for at in literal[x] if at in free_cond)
            if conds:
                free_of_pattern[i] = conds
            found_triggers = frozenset(at for at in literal[x] if at in clauses_of)
            if found_triggers:
                triggers_of_pattern[i] = found_triggers
        self.triggers: dict[int, list[_Check]] = {
            at: [
                (cond_id, tuple(frozenset(patterns_of[f_at]) for f_at in needs), matcher)
                for cond_id, needs, matcher in checks
            ]
            for at, checks in clauses_of.items()
        }
        """Trigger member -> the clauses it is the trigger of."""
        self.free_of_pattern = free_of_pattern
        """Aho-Corasick pattern -> the conditions (patterns without gaps) it answers for."""
        self.free_patterns = frozenset(free_of_pattern)
        self.triggers_of_pattern = triggers_of_pattern
        """Aho-Corasick pattern -> the triggers it finds."""
        self.trigger_patterns = frozenset(triggers_of_pattern)
        self.literals = (
            ahocorasick_rs.BytesAhoCorasick(
                strings, implementation=ahocorasick_rs.Implementation.ContiguousNFA
            ).find_matches_as_indexes
            if strings
            else None
        )
        self.rx_cond = [free_cond.get(at) for _p, at in rx]
        """RE2 set member -> the condition it answers for (None: a trigger)."""
        self.rx_trigger = [at for _p, at in rx]
        self.rx_set = _set_matcher([p for p, _at in rx], opts) if rx else None

    def match(self, data: bytes) -> frozenset[int]:
        if self.literals is not None:
            found = set(map(_FIRST, self.literals(data.lower() if self.fold else data, overlapping=True)))
            ids = set().union(*map(self.free_of_pattern.__getitem__, found & self.free_patterns))
            triggers = set().union(*map(self.triggers_of_pattern.__getitem__, found & self.trigger_patterns))
        else:
            found, ids, triggers = set(), set(), set()
        if self.rx_set is not None:
            for i in self.rx_set(data):
                cond_id = self.rx_cond[i]
                if cond_id is None:
                    triggers.add(self.rx_trigger[i])
                else:
                    ids.add(cond_id)
        if triggers:
            clauses = self.triggers
            for trigger in triggers:
                for cond_id, needs, matcher in clauses[trigger]:
                    if cond_id in ids:
                        continue
                    for factor in needs:
                        if factor.isdisjoint(found):
                            break
                    else:
                        if matcher(data):
                            ids.add(cond_id)
        return frozenset(ids) if ids else _NONE


_FIRST = operator.itemgetter(0)
_UNANCHORED = getattr(getattr(re2, "_Anchor", None), "UNANCHORED", None)


def _set_matcher(patterns: list[str], opts: Any) -> Callable[[bytes], list[int]]:
    rset = re2.Set.SearchSet(opts)
    for pattern in patterns:
        rset.Add(pattern)
    rset.Compile()  # re2.error: the caller runs each pattern on its own
    inner = getattr(rset, "_set", None)  # the wrapper's Match only re-checks the type
    return inner.Match if inner is not None and hasattr(inner, "Match") else rset.Match


def _compile_all(patterns: list[str], opts: Any) -> list[Any] | None:
    try:
        return [re2.compile(p, opts) for p in patterns]
    except re2.error:
        return None


def _matcher(compiled: Any) -> Callable[[bytes], bool]:
    """Whether the pattern matches UTF-8 bytes anywhere: straight to RE2 (the
    wrapper would decode and re-encode)."""
    regexp = getattr(compiled, "_regexp", None)
    if regexp is None:
        return lambda data: compiled.search(data) is not None
    match = regexp.Match
    anchor = _UNANCHORED
    return lambda data: match(anchor, data, 0, len(data))[0][0] >= 0


class RegexIndex:
    """Every pattern on one field answered in one pass (see :class:`_FieldPatterns`):
    which patterns can match, so that only those run again to find their span."""

    def __init__(self, conds: Iterable[C.Regex]) -> None:
        groups: dict[tuple[str, bool], list[C.Regex]] = {}
        for cond in conds:
            groups.setdefault((cond.field, cond.raw), []).append(cond)
        self.sets: dict[tuple[str, bool], _FieldPatterns] = {}
        for (name, raw), items in groups.items():
            try:
                self.sets[(name, raw)] = _FieldPatterns(items, raw)
            except re2.error:
                continue  # too big for one set: each pattern runs on its own

    @property
    def fields(self) -> list[tuple[str, bool]]:
        return list(self.sets)

    def match(self, name: str, raw: bool, data: bytes) -> frozenset[int] | None:
        """Ids of the patterns on this field that match ``data`` (UTF-8), or
        None when the field's patterns have no index (each must run)."""
        entry = self.sets.get((name, raw))
        if entry is None:
            return None
        return entry.match(data) if data else _NONE
