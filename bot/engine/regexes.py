"""Every ``regex:`` / ``raw_regex:`` condition of the rules, answered per field
in one pass: which patterns match a text, so that only those run again to find
their span.

Patterns without gaps share one RE2 set (its DFA stays small and warms at
once); patterns with gaps (``.{0,10}``, ``.*``, ``[^…]``) would make that
set's DFA explode, so each runs alone behind a literal prefilter
(:mod:`bot.engine.prefilter`). The patterns still decide: the prefilter only
skips those that cannot match.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import ahocorasick_rs
import re2

from bot.engine import checks as C
from bot.engine.loader import re2_options
from bot.engine.prefilter import has_gap, required_literals

_NONE: frozenset[int] = frozenset()


class _FieldPatterns:
    """The patterns on one field: those without gaps in one RE2 set (its DFA stays
    small and warms at once); those with gaps each alone behind a literal
    prefilter (one Aho-Corasick pass over the same UTF-8 bytes; UTF-8 is
    self-synchronising, so a byte match is a character match)."""

    __slots__ = ("literals", "owners", "regexps", "set_ids", "set_match", "solo_ids")

    def __init__(self, items: list[C.Regex], raw: bool) -> None:
        opts = re2_options(case_sensitive=raw)
        in_set: list[C.Regex] = []
        solo: list[C.Regex] = []
        by_literal: dict[bytes, list[int]] = {}
        for cond in items:
            pattern = cond.source or cond.pattern
            literals = required_literals(pattern) if has_gap(pattern) and C.RAW_MATCH else None
            if not literals:
                in_set.append(cond)
                continue
            for lit in literals:
                by_literal.setdefault(lit.encode("utf-8"), []).append(len(solo))
            solo.append(cond)
        self.set_match: Callable[[bytes], list[int]] | None = None
        self.set_ids = [c.cond_id for c in in_set]
        if in_set:
            rset = re2.Set.SearchSet(opts)
            for cond in in_set:
                rset.Add(cond.source or cond.pattern)
            rset.Compile()  # re2.error: the caller runs each pattern on its own
            inner = getattr(rset, "_set", None)  # the wrapper's Match only re-checks the type
            self.set_match = inner.Match if inner is not None and hasattr(inner, "Match") else rset.Match
        self.solo_ids = [c.cond_id for c in solo]
        self.regexps = [c.compiled for c in solo]
        self.owners = [tuple(v) for v in by_literal.values()]
        self.literals = ahocorasick_rs.BytesAhoCorasick(list(by_literal)) if by_literal else None

    def match(self, data: bytes) -> list[int]:
        out: list[int] = []
        if self.set_match is not None:
            found = self.set_match(data)
            if found:
                ids = self.set_ids
                out = [ids[i] for i in found]
        if self.literals is not None:
            owners = self.owners
            candidates: set[int] = set()
            for pid, _s, _e in self.literals.find_matches_as_indexes(data, overlapping=True):
                candidates.update(owners[pid])
            for k in candidates:
                if C.raw_match(self.regexps[k], data):
                    out.append(self.solo_ids[k])
        return out


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
