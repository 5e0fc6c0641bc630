"""Every ``regex:`` / ``raw_regex:`` condition of the rules, answered per field
in one pass: which patterns match a text, so that only those run again to find
their span.

Patterns without gaps share one RE2 set (its DFA stays small and warms at
once); patterns with gaps (``.{0,10}``, ``.*``, ``[^…]{1,5}``) would make that
set's DFA explode, so each runs alone, and only when the text holds what all
its matches hold (:mod:`bot.engine.prefilter`): a gap-free piece of it (the
*trigger*, a further member of the same set, so one call answers both) and
every other *factor* of one of its clauses. A pattern's top-level alternatives
are taken one by one: those without gaps join the set, the others are
prefiltered (and run) alone. The patterns still decide: the prefilter only
skips what cannot match.

Short texts look for the other factors with ``in`` (a few, else the pattern
just runs); long ones get a second set that holds every factor as well, since
``in`` costs as much as a set pass there and the set answers all at once.
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
            if rest.upper() != rest or rest.lower() != rest or rest.casefold() != rest:
                return None
        s = s.lower()
        if "k" in s or "s" in s:
            return None
    return s.encode("utf-8")


_SURROGATE = re.compile("[\ud800-\udfff]")
_ASCII = re.compile("[\x00-\x7f]+")


_Check = tuple[int, frozenset[int], Callable[[bytes], bool]]
"""One clause of a pattern with gaps, as the match loop reads it: the id of the
condition, the members for its factors (all must be found), and the pattern's
own matcher."""


class _FieldPatterns:
    """The patterns on one field, as *members*: each pattern without gaps, the
    trigger of every clause of the others, and every factor. Members that stand
    for a few fixed strings are looked for by one Aho-Corasick pass; the rest (a
    pattern with ``\\d`` or ``$``, a trigger with ``[0-9]+``) share one small RE2
    set."""

    __slots__ = (
        "fold",
        "free_cond",
        "free_members",
        "literal_members",
        "literals",
        "rx_members",
        "rx_set",
        "trigger_members",
        "triggers",
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
                clauses_of = [
                    required_clauses(alt, case_sensitive=raw) if has_gap(alt) else None
                    for alt in alternatives
                ]
                # only the alternatives with clauses run on their own: only they need compiling
                compiled = (
                    [cond.compiled]
                    if len(alternatives) == 1
                    else _compile_all(
                        [alt for alt, clauses in zip(alternatives, clauses_of, strict=True) if clauses], opts
                    )
                )
                if compiled is None:
                    alternatives, compiled = [pattern], [cond.compiled]
                    clauses_of = [required_clauses(pattern, case_sensitive=raw)]
                in_set: list[str] = []
                regexps = iter(compiled)
                for alt, clauses in zip(alternatives, clauses_of, strict=True):
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
        triggers: dict[int, list[_Check]] = {}
        for cond_id, matcher, clauses in unit_clauses:
            for clause in clauses:
                key = ("trigger", clause.trigger)
                new = key not in members
                at = member(key)
                if new and not add(clause.strings, at):
                    rx.append((clause.trigger, at))
                needs: set[int] = set()
                for factor in clause.factors:
                    fkey = ("factor", factor)
                    new = fkey not in members
                    f_at = member(fkey)
                    if new and not add(factor, f_at):
                        always.add(f_at)  # a byte search could miss it: taken as present
                    if f_at not in always:
                        needs.add(f_at)
                triggers.setdefault(at, []).append((cond_id, frozenset(needs), matcher))
        self.free_cond = free_cond
        """Member -> the id of the condition it answers for (a pattern without gaps)."""
        self.free_members = frozenset(free_cond)
        self.triggers = triggers
        """Member -> the clauses it is the trigger of."""
        self.trigger_members = frozenset(triggers)
        strings = list(literal)
        self.literal_members = [frozenset(literal[x]) for x in strings]
        """Aho-Corasick pattern -> the members found where it occurs."""
        self.literals = (
            ahocorasick_rs.BytesAhoCorasick(
                strings, implementation=ahocorasick_rs.Implementation.ContiguousNFA
            ).find_matches_as_indexes
            if strings
            else None
        )
        self.rx_members = [at for _p, at in rx]
        """RE2 set member -> our member."""
        self.rx_set = _set_matcher([p for p, _at in rx], opts) if rx else None

    def match(self, data: bytes) -> frozenset[int]:
        if self.literals is not None:
            hits = set(map(_FIRST, self.literals(data.lower() if self.fold else data, overlapping=True)))
            found = set().union(*map(self.literal_members.__getitem__, hits))
        else:
            found = set()
        if self.rx_set is not None:
            found.update(map(self.rx_members.__getitem__, self.rx_set(data)))
        if not found:
            return _NONE
        ids = set(map(self.free_cond.__getitem__, found & self.free_members))
        triggers = self.triggers
        for member in found & self.trigger_members:
            for cond_id, needs, matcher in triggers[member]:
                if cond_id not in ids and needs <= found and matcher(data):
                    ids.add(cond_id)
        return frozenset(ids)


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
