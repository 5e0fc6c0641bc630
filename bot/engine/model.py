"""The parsed, validated shape of ``rules.yaml``: immutable values.

The loader builds these; :class:`bot.engine.engine.Engine` compiles them
into matchers. Nothing here does I/O or holds mutable state, so a caller can
keep the last good :class:`RuleSet` while an admin fixes a broken edit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from bot.events import MessageType
from bot.verdicts import Severity

if TYPE_CHECKING:
    from bot.engine.checks import Condition

BUILTIN_CATEGORIES = ("ad", "flood", "banned_topic", "abuse")

FIELDS = (
    "text",
    "title",
    "description",
    "app",
    "card_name",
    "url",
    "sender_name",
    "file_name",
    "links",
    "acrostic",
)
"""Fields a condition may look at. ``text`` is what a member reads: the text
of a text message, or for a card its title, description, app and card name.
``links`` is every link of the message (card url, links in the text, QR
payloads), one per line, lower case, not otherwise normalised. ``acrostic``
(藏头) is the first character of each line of a text of three or more lines."""

_EMPTY: Mapping = MappingProxyType({})


def frozen_map(d: Mapping | None) -> Mapping:
    return MappingProxyType(dict(d)) if d else _EMPTY


@dataclass(frozen=True, slots=True)
class Settings:
    rules_bind_admins: bool = True
    """群规对所有成员一视同仁: rules judge admins too unless a rule says ``admins: exempt``."""
    exempt: frozenset[str] = frozenset()
    """Contact ids never judged."""
    new_member_days: float = 3.0
    """What ``sender: {new: true}`` means."""


@dataclass(frozen=True, slots=True)
class FloodSpec:
    """Flood thresholds of one rule; any of the three may be set."""

    burst: tuple[int, float] | None = None
    """(messages, seconds): the (messages+1)-th message inside any window of that length."""
    repeat: tuple[int, float] | None = None
    """(copies, seconds): the copies-th copy of the same text inside the window."""
    cross_room: tuple[int, float] | None = None
    """(rooms, seconds): the same text into that many rooms inside the window."""
    album_seconds: float = 5.0
    """Images, videos and files within this many seconds of the previous one count once."""
    min_length: int = 4
    """cross_room ignores texts shorter than this (收到, 好的)."""

    @property
    def horizon(self) -> float:
        windows = [pair[1] for pair in (self.burst, self.repeat, self.cross_room) if pair is not None]
        return max([*windows, self.album_seconds])


@dataclass(frozen=True, slots=True)
class Example:
    """A sample message of a rule's ``examples:``; plain strings are text messages."""

    text: str = ""
    type: MessageType = MessageType.TEXT
    url: str = ""
    title: str = ""
    description: str = ""
    app: str = ""
    card_name: str = ""
    file_name: str = ""
    sender_name: str = ""
    qr: tuple[str, ...] = ()
    room: str = ""
    topic: str = ""
    new_member: bool = False
    admin: bool = False
    line: int = 0

    @property
    def label(self) -> str:
        return self.text or self.title or self.file_name or self.card_name or self.url or self.type.value


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    category: str
    severity: Severity
    message: str
    when: Condition | None = None
    flood: FloodSpec | None = None
    description: str = ""
    admins: str = ""
    """``bound`` or ``exempt``; empty means the settings' ``rules_bind_admins``."""
    types: frozenset[MessageType] | None = None
    enabled: bool = True
    match_examples: tuple[Example, ...] = ()
    no_match_examples: tuple[Example, ...] = ()
    line: int = 0


@dataclass(frozen=True, slots=True)
class RoomSelector:
    ids: frozenset[str] = frozenset()
    name_contains: tuple[str, ...] = ()

    def matches(self, room_id: str, topic: str) -> bool:
        if room_id in self.ids:
            return True
        return any(s in topic for s in self.name_contains) if topic else False


@dataclass(frozen=True, slots=True)
class RoomOverride:
    """One entry of ``rooms:``: what changes in the rooms it selects."""

    match: RoomSelector
    disable: frozenset[str] = frozenset()
    enable: frozenset[str] = frozenset()
    add_words: Mapping[str, Condition] = field(default_factory=lambda: _EMPTY)
    flood: Mapping[str, FloodSpec] = field(default_factory=lambda: _EMPTY)
    severity: Mapping[str, Severity] = field(default_factory=lambda: _EMPTY)
    exempt: frozenset[str] = frozenset()
    line: int = 0


@dataclass(frozen=True, slots=True)
class RulesWarning:
    """Not an error, but probably a mistake (a rule that can never fire)."""

    message: str
    path: str = ""
    line: int | None = None
    key: str = ""

    def __str__(self) -> str:
        where = self.path or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        if self.key:
            where += f": {self.key}"
        return f"{where}: warning: {self.message}"


@dataclass(frozen=True, slots=True)
class RuleSet:
    """A whole rules file, validated. Immutable: reloads build a new one."""

    rules: tuple[Rule, ...]
    settings: Settings = field(default_factory=Settings)
    ladder: Any = None
    """The ``ladder:`` section as :class:`bot.ladder.LadderPolicy` (parsed by the ladder's own code)."""
    rooms: tuple[RoomOverride, ...] = ()
    lexicons: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: _EMPTY)
    """Lexicon name -> its words as written (before normalisation)."""
    warnings: tuple[RulesWarning, ...] = ()
    path: str = ""
    version: int = 1

    def rule(self, name: str) -> Rule | None:
        for r in self.rules:
            if r.name == name:
                return r
        return None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.rules)
