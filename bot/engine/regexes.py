"""Every ``regex:`` / ``raw_regex:`` condition of the rules, answered per field
in one pass: which patterns match a text, so that only those run again to find
their span.

Patterns without gaps share one RE2 set (its DFA stays small and warms at
once); patterns with gaps (``.{0,10}``, ``.*``, ``[^…]``) would make that
set's DFA explode, so each runs alone, and only when the text holds every
factor of one of its clauses (:mod:`bot.engine.prefilter`). A pattern's
top-level alternatives are taken one by one: those without gaps join the set,
the others are prefiltered (and run) alone. The patterns still decide: the
prefilter only skips what cannot match.
"""

from __future__ import annotations

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


class _Clause:
    """One clause of a pattern with gaps. Its most selective factor is a member
    of both of the field's sets; the others are members of the long texts' set
    (``rest_ids``), and are looked for with ``in`` in short texts (``rest``)."""

    __slots__ = ("rest", "rest_ids", "unit")

    def __init__(self, unit: int, rest: tuple[tuple[bytes, ...], ...], rest_ids: frozenset[int]) -> None:
        self.unit = unit
        self.rest = rest
        self.rest_ids = rest_ids


LONG_TEXT = 240
"""Bytes from which a text's factors are all found by one RE2 set pass: ``in``
on a long text costs as much as that pass (UTF-8 hanzi share their lead and
continuation bytes, so the search skips little), on a short one next to nothing."""


class _FieldPatterns:
    """The patterns on one field. An RE2 set holds those without gaps and, as
    further members, the most selective factor of every clause of the others;
    for long texts, a second set holds every factor as well."""

    __slots__ = (
        "fold",
        "free_ids",
        "long_match",
        "matchers",
        "n_free",
        "short_match",
        "trigger_members",
        "triggers",
        "unit_ids",
    )

    def __init__(self, items: list[C.Regex], raw: bool) -> None:
        opts = re2_options(case_sensitive=raw)
        self.fold = not raw
        members: list[str] = []
        self.free_ids: list[int] = []
        self.unit_ids: list[int] = []
        self.matchers: list[Callable[[bytes], bool]] = []
        unit_clauses: list[list[Clause]] = []
        for cond in items:
            pattern = cond.source or cond.pattern
            if not (has_gap(pattern) and _UNANCHORED is not None):
                members.append(pattern)
                self.free_ids.append(cond.cond_id)
                continue
            alternatives = split_alternatives(pattern)
            compiled = [cond.compiled] if len(alternatives) == 1 else _compile_all(alternatives, opts)
            if compiled is None:
                alternatives, compiled = [pattern], [cond.compiled]
            for alt, regexp in zip(alternatives, compiled, strict=True):
                clauses = required_clauses(alt, case_sensitive=raw) if has_gap(alt) else None
                if not clauses:
                    members.append(alt)
                    self.free_ids.append(cond.cond_id)
                    continue
                self.unit_ids.append(cond.cond_id)
                self.matchers.append(_matcher(regexp))
                unit_clauses.append(clauses)
        self.n_free = len(members)
        member_of: dict[str, int] = {}
        for clauses in unit_clauses:  # triggers first: the short texts' set stops after them
            for clause in clauses:
                member_of.setdefault(clause.trigger, len(member_of) + self.n_free)
        n_short = len(member_of) + self.n_free
        for clauses in unit_clauses:
            for clause in clauses:
                for factor in clause.factors:
                    member_of.setdefault(literal_alternation(factor), len(member_of) + self.n_free)
        self.triggers: dict[int, list[_Clause]] = {}
        """Set member (a clause's trigger) -> the clauses it is the trigger of."""
        for unit, clauses in enumerate(unit_clauses):
            for clause in clauses:
                rest = []
                for factor in clause.factors:
                    plain = [_plain(s, self.fold) for s in sorted(factor)]
                    if None not in plain:
                        rest.append(tuple(p for p in plain if p is not None))
                rest_ids = frozenset(member_of[literal_alternation(f)] for f in clause.factors)
                self.triggers.setdefault(member_of[clause.trigger], []).append(
                    _Clause(unit, tuple(rest), rest_ids)
                )
        self.trigger_members = frozenset(self.triggers)
        extra = sorted(member_of, key=member_of.__getitem__)
        self.short_match = _set_matcher(members + extra[: n_short - self.n_free], opts)
        self.long_match = (
            _set_matcher(members + extra, opts) if len(extra) > n_short - self.n_free else self.short_match
        )

    def match(self, data: bytes) -> list[int]:
        if len(data) >= LONG_TEXT:
            return self._match_long(data)
        found = self.short_match(data)
        if not found:
            return []
        n_free = self.n_free
        free_ids = self.free_ids
        out = [free_ids[i] for i in found if i < n_free]
        if len(out) == len(found):
            return out
        triggers = self.triggers
        text = data.lower() if self.fold else data
        run: set[int] = set()
        for i in found:
            for clause in triggers.get(i, ()):
                unit = clause.unit
                if unit in run:
                    continue
                for factor in clause.rest:
                    for s in factor:
                        if s in text:
                            break
                    else:
                        break
                else:
                    run.add(unit)
        matchers = self.matchers
        unit_ids = self.unit_ids
        for unit in run:
            if matchers[unit](data):
                out.append(unit_ids[unit])
        return out

    def _match_long(self, data: bytes) -> list[int]:
        found = self.long_match(data)
        if not found:
            return []
        n_free = self.n_free
        free_ids = self.free_ids
        out = [free_ids[i] for i in found if i < n_free]
        if len(out) == len(found):
            return out
        present = set(found)
        triggers = self.triggers
        run: set[int] = set()
        for i in present & self.trigger_members:
            for clause in triggers[i]:
                if clause.rest_ids <= present:
                    run.add(clause.unit)
        matchers = self.matchers
        unit_ids = self.unit_ids
        for unit in run:
            if matchers[unit](data):
                out.append(unit_ids[unit])
        return out


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
        if not data:
            return _NONE
        found = entry.match(data)
        return frozenset(found) if found else _NONE
