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

import sys
from collections.abc import Callable, Iterable
from typing import Any

import re2

from bot.engine import checks as C
from bot.engine.loader import re2_options
from bot.engine.prefilter import (
    Clause,
    has_gap,
    literal_alternation,
    required_clauses,
    split_alternatives,
)

_NONE: frozenset[int] = frozenset()


def _plain(s: str, fold: bool) -> bytes | None:
    """The string as UTF-8 to look for with ``in`` (in the ASCII-lowercased text
    when ``fold``), or None when ``in`` could miss what RE2 matches: with case
    folding, ``k`` also matches the Kelvin sign and ``s`` the long s, and
    non-ASCII letters fold in ways bytes.lower() does not."""
    if any("\ud800" <= c <= "\udfff" for c in s):
        return None
    if fold:
        if any(
            (c.lower() != c or c.upper() != c or c.casefold() != c)
            and not (c.isascii() and c.lower() not in "ks")
            for c in s
        ):
            return None
        s = s.lower()
    return s.encode("utf-8")


_Check = tuple[int, tuple[tuple[bytes, ...], ...], frozenset[int], Callable[[bytes], bool]]
"""One clause of a pattern with gaps, as the match loop reads it: the id of the
condition, the factors to look for with ``in`` in a short text, the set
members of all the factors (for a long text), and the pattern's own matcher."""


MAX_PLAIN = 8
"""Most ``in`` searches to try on a short text before running a pattern: each
costs a fraction of an RE2 call (a tenth on a short text)."""

LONG_TEXT = 400
"""Bytes from which a text's factors are all found by one RE2 set pass: ``in``
on a long text costs as much as that pass (UTF-8 hanzi share their lead and
continuation bytes, so the search skips little), on a short one next to nothing."""


class _FieldPatterns:
    """The patterns on one field. An RE2 set holds those without gaps and, as
    further members, the trigger of every clause of the others; for long texts,
    a second set holds every other factor as well."""

    __slots__ = (
        "checks",
        "cond_of",
        "fold",
        "long_from",
        "long_match",
        "matchers",
        "short_match",
        "trigger_members",
        "unit_ids",
    )

    def __init__(self, items: list[C.Regex], raw: bool) -> None:
        opts = re2_options(case_sensitive=raw)
        self.fold = not raw
        members: list[str] = []
        free_ids: list[int] = []
        self.unit_ids: list[int] = []
        self.matchers: list[Callable[[bytes], bool]] = []
        unit_clauses: list[list[Clause]] = []
        for cond in items:
            pattern = cond.source or cond.pattern
            if not (has_gap(pattern) and _UNANCHORED is not None):
                members.append(pattern)
                free_ids.append(cond.cond_id)
                continue
            alternatives = split_alternatives(pattern)
            compiled = [cond.compiled] if len(alternatives) == 1 else _compile_all(alternatives, opts)
            if compiled is None:
                alternatives, compiled = [pattern], [cond.compiled]
            in_set: list[str] = []
            for alt, regexp in zip(alternatives, compiled, strict=True):
                clauses = required_clauses(alt, case_sensitive=raw) if has_gap(alt) else None
                if not clauses:
                    in_set.append(alt)
                    continue
                self.unit_ids.append(cond.cond_id)
                self.matchers.append(_matcher(regexp))
                unit_clauses.append(clauses)
            if in_set:  # together again: they answer for the same condition
                members.append("|".join(in_set))
                free_ids.append(cond.cond_id)
        n_free = len(members)
        member_of: dict[str, int] = {}
        for clauses in unit_clauses:  # triggers first: the short texts' set stops after them
            for clause in clauses:
                member_of.setdefault(clause.trigger, len(member_of) + n_free)
        n_short = len(member_of) + n_free
        for clauses in unit_clauses:
            for clause in clauses:
                for factor in clause.factors:
                    member_of.setdefault(literal_alternation(factor), len(member_of) + n_free)
        checks: list[list[_Check]] = [[] for _ in range(n_free + len(member_of))]
        for unit, clauses in enumerate(unit_clauses):
            for clause in clauses:
                rest: list[tuple[bytes, ...]] = []
                searches = 0
                for factor in sorted(clause.factors, key=len):
                    plain = [_plain(s, self.fold) for s in sorted(factor)]
                    searches += len(plain)
                    if searches > MAX_PLAIN:
                        break  # running the pattern costs less than more searches
                    if None not in plain:
                        rest.append(tuple(p for p in plain if p is not None))
                rest_ids = frozenset(member_of[literal_alternation(f)] for f in clause.factors)
                check = (self.unit_ids[unit], tuple(rest), rest_ids, self.matchers[unit])
                checks[member_of[clause.trigger]].append(check)
        self.checks: Callable[[int], list[_Check]] = checks.__getitem__
        """Set member -> the clauses it is the trigger of."""
        self.trigger_members = frozenset(i for i, c in enumerate(checks) if c)
        cond_of: list[int | None] = [*free_ids, *(None for _ in member_of)]
        self.cond_of: Callable[[int], int | None] = cond_of.__getitem__
        """Set member -> the id of the condition it answers for (None: a factor)."""
        extra = sorted(member_of, key=member_of.__getitem__)
        self.short_match = _set_matcher(members + extra[: n_short - n_free], opts)
        self.long_from = LONG_TEXT
        """Texts this long use :meth:`_match_long` (never, if its set did not compile)."""
        try:
            self.long_match = (
                _set_matcher(members + extra, opts) if len(extra) > n_short - n_free else self.short_match
            )
        except re2.error:  # too big: long texts take the short texts' way
            self.long_match, self.long_from = self.short_match, sys.maxsize

    def match(self, data: bytes) -> frozenset[int]:
        if len(data) >= self.long_from:
            return self._match_long(data)
        found = self.short_match(data)
        if not found:
            return _NONE
        out = frozenset(map(self.cond_of, found))
        if None not in out:
            return out
        ids = set(out)
        ids.discard(None)
        text = None
        for checks in map(self.checks, found):
            for cond_id, rest, _ids, matcher in checks:
                if cond_id in ids:
                    continue  # already known to match
                if rest:
                    if text is None:
                        text = data.lower() if self.fold else data
                    for factor in rest:
                        for s in factor:
                            if s in text:
                                break
                        else:
                            break
                    else:
                        rest = ()
                    if rest:
                        continue  # a factor is missing
                if matcher(data):
                    ids.add(cond_id)
        return frozenset(ids)

    def _match_long(self, data: bytes) -> frozenset[int]:
        found = self.long_match(data)
        if not found:
            return _NONE
        ids = set(map(self.cond_of, found))
        if None in ids:
            ids.discard(None)
            present = set(found)
            for checks in map(self.checks, present & self.trigger_members):
                for cond_id, _rest, rest_ids, matcher in checks:
                    if cond_id not in ids and rest_ids <= present and matcher(data):
                        ids.add(cond_id)
        return frozenset(ids)


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
