"""Literal prefilter for RE2 patterns (in the manner of RE2's FilteredRE2).

Patterns with gaps (``.{0,10}``, ``.*``, ``[^…]``) make a combined RE2 set's
DFA explode, so a set is cold for every new message. For such a pattern,
:func:`required_literals` finds strings one of which occurs in every text the
pattern matches; the engine finds those literals with one Aho-Corasick pass
and runs the pattern (alone, with a small DFA) only when one is present. The
pattern still decides: the prefilter only skips patterns that cannot match.

(Worked out and verified against the one-set answers on 20,000+ messages by
the performance engineer, issue 7.)
"""

from __future__ import annotations

import re
from typing import Any

try:  # Python 3.11+
    import re._constants as _K
    import re._parser as _P
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _K  # type: ignore[no-redef]
    import sre_parse as _P  # type: ignore[no-redef]

MAX_CLASS = 16
"""A character class of at most this many characters counts as literals."""

_RE2_ONLY = re.compile(r"\\[pP]\{\w+\}|\\[pP]\w|\\C|\\Q|\\E|\\z")
_GAP = re.compile(r"\.[{*+?]|\[\^")


def has_gap(pattern: str) -> bool:
    """Whether the pattern has a gap (``.{0,N}``, ``.*``, ``.+``, ``.?``, ``[^…]``)."""
    return _GAP.search(pattern) is not None


def _cased(ch: str) -> bool:
    return ch.lower() != ch or ch.upper() != ch or ch.casefold() != ch


def _better(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    if a is None:
        return b
    if b is None:
        return a
    ka = (min(len(s) for s in a), -len(a))
    kb = (min(len(s) for s in b), -len(b))
    return a if ka >= kb else b


def _seq(items: Any) -> frozenset[str] | None:
    """Literals one of which must occur for this sequence to match; None if unknown."""
    best: frozenset[str] | None = None
    run: list[str] = []

    def close() -> None:
        nonlocal best
        if run:
            best = _better(best, frozenset(("".join(run),)))
            run.clear()

    for op, av in items:
        if op is _K.LITERAL:
            ch = chr(av)
            if _cased(ch):  # patterns match case-insensitively: a cased letter is no literal
                close()
            else:
                run.append(ch)
            continue
        close()
        best = _better(best, _node(op, av))
    close()
    return best


def _node(op: Any, av: Any) -> frozenset[str] | None:
    if op is _K.SUBPATTERN:
        return _seq(av[-1])
    if op is _K.BRANCH:
        out: set[str] = set()
        for alt in av[1]:
            lits = _seq(alt)
            if lits is None:
                return None
            out |= lits
        return frozenset(out)
    if op in (_K.MAX_REPEAT, _K.MIN_REPEAT, getattr(_K, "POSSESSIVE_REPEAT", None)):
        lo, _hi, sub = av
        return _seq(sub) if lo >= 1 else None
    if op is _K.IN:
        chars: set[str] = set()
        for cop, cav in av:
            if cop is _K.LITERAL:
                chars.add(chr(cav))
            elif cop is _K.RANGE and cav[1] - cav[0] < MAX_CLASS:
                chars.update(chr(c) for c in range(cav[0], cav[1] + 1))
            else:
                return None
            if len(chars) > MAX_CLASS:
                return None
        if any(_cased(c) for c in chars):
            return None
        return frozenset(chars) if chars else None
    return None


def required_literals(pattern: str) -> frozenset[str] | None:
    """Strings one of which occurs in every text the pattern matches, or None."""
    try:
        parsed = _P.parse(_RE2_ONLY.sub("\x00", pattern))  # RE2-only escapes: never a literal
    except Exception:  # an RE2 pattern the stdlib parser cannot read: no prefilter
        return None
    lits = _seq(list(parsed))
    if lits is None or any("\x00" in s or not s for s in lits):
        return None
    return lits
