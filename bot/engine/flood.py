"""Flood detection: per-member message rates, repeats, and cross-room copies.

State lives in memory, keyed by (room, member) and by member, and is driven
only by ``message.at``: no wall clock, so a transcript replayed on its own
timestamps behaves as live chat did. Entries older than the longest window
are pruned as members speak, and idle members are swept out regularly, so
100 rooms x 500 members stay a few megabytes at most.

Different members never flood together: every count is per member.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from bot.engine.model import FloodSpec
from bot.events import MEDIA_TYPES, Message, MessageType
from bot.verdicts import Evidence

MAX_ENTRIES = 256
"""Per member and room: enough for any threshold an admin would set."""
SWEEP_EVERY = 4096
"""Sweep idle members after this many observed messages."""

_CARD_TYPES = frozenset({MessageType.URL, MessageType.MINI_PROGRAM, MessageType.CONTACT_CARD})


def message_fingerprint(message: Message, normalised_text: str) -> str:
    """What makes two messages copies: see :func:`bot.engine.normalize.fingerprint`;
    images and files by file, stickers by sticker, cards by title and link."""
    from bot.engine.normalize import fingerprint

    t = message.type
    if t in MEDIA_TYPES or t is MessageType.EMOTICON:
        ident = message.media_key or message.file_name.replace("\\", "/").rsplit("/", 1)[-1] or message.text
        return f"{t.value}:{ident}" if ident else ""
    if t in _CARD_TYPES:
        ident = message.url or message.card_id or message.app
        return f"card:{fingerprint(normalised_text)}|{ident}"
    return fingerprint(normalised_text)


@dataclass(slots=True)
class _Entry:
    at: float
    unit: bool
    """Counts toward a burst (False for the 2nd..nth picture of an album)."""
    fp: str


class _Member:
    __slots__ = ("entries", "last_media_at")

    def __init__(self) -> None:
        self.entries: deque[_Entry] = deque(maxlen=MAX_ENTRIES)
        self.last_media_at: float = float("-inf")


@dataclass(frozen=True, slots=True)
class Observation:
    """One message as flood rules see it, against the member's recent history."""

    at: float
    unit: bool
    fp: str
    history: tuple[_Entry, ...]
    """The member's earlier messages in this room, within the horizon, oldest first."""
    cross: tuple[tuple[float, str, str], ...]
    """(at, fingerprint, room) of the member's recent messages in every room."""
    room_id: str

    def check(self, spec: FloodSpec) -> tuple[Evidence, ...] | None:
        found: list[Evidence] = []
        if spec.burst is not None and self.unit:
            n, secs = spec.burst
            since = self.at - secs
            count = 1 + sum(1 for e in self.history if e.unit and e.at > since)
            if count > n:
                found.append(Evidence("flood.burst", "", f"{secs:g} 秒内第 {count} 条消息（上限 {n} 条）"))
        if spec.repeat is not None and self.fp:
            copies, secs = spec.repeat
            since = self.at - secs
            count = 1 + sum(1 for e in self.history if e.fp == self.fp and e.at > since)
            if count >= copies:
                found.append(
                    Evidence("flood.repeat", self.fp[:60], f"{secs:g} 秒内第 {count} 次发送相同内容")
                )
        if spec.cross_room is not None and len(self.fp) >= spec.min_length:
            rooms_needed, secs = spec.cross_room
            since = self.at - secs
            rooms = {self.room_id} | {room for at, fp, room in self.cross if fp == self.fp and at > since}
            if len(rooms) >= rooms_needed:
                found.append(
                    Evidence(
                        "flood.cross_room", self.fp[:60], f"{secs:g} 秒内把相同内容发到 {len(rooms)} 个群"
                    )
                )
        return tuple(found) or None


class FloodTracker:
    """Recent messages per member; bounded by time and by count."""

    def __init__(self) -> None:
        self._members: dict[tuple[str, str], _Member] = {}
        self._cross: dict[str, deque[tuple[float, str, str]]] = {}
        self._seen = 0
        self._latest = float("-inf")

    def __len__(self) -> int:
        return len(self._members)

    def observe(
        self, message: Message, fp: str, horizon: float, album_seconds: float, *, record: bool = True
    ) -> Observation:
        at = message.at.timestamp()
        key = (message.room_id, message.sender_id)
        member = self._members.get(key)
        if member is None:
            member = _Member()
            if record:
                self._members[key] = member
        entries = member.entries
        cutoff = at - horizon
        while entries and entries[0].at <= cutoff:
            entries.popleft()
        is_media = message.type in MEDIA_TYPES
        unit = not (is_media and at - member.last_media_at <= album_seconds)
        cross_q = self._cross.get(message.sender_id)
        if cross_q is not None:
            while cross_q and cross_q[0][0] <= cutoff:
                cross_q.popleft()
        obs = Observation(
            at=at,
            unit=unit,
            fp=fp,
            history=tuple(entries),
            cross=tuple(cross_q) if cross_q else (),
            room_id=message.room_id,
        )
        if record:
            entries.append(_Entry(at, unit, fp))
            if is_media:
                member.last_media_at = at
            if fp:
                if cross_q is None:
                    cross_q = self._cross[message.sender_id] = deque(maxlen=MAX_ENTRIES)
                cross_q.append((at, fp, message.room_id))
            self._latest = max(self._latest, at)
            self._seen += 1
            if self._seen % SWEEP_EVERY == 0:
                self.sweep(self._latest - horizon)
        return obs

    def sweep(self, cutoff: float) -> None:
        """Forget members with nothing newer than ``cutoff``."""
        for key in [k for k, m in self._members.items() if not m.entries or m.entries[-1].at <= cutoff]:
            del self._members[key]
        for key in [k for k, q in self._cross.items() if not q or q[-1][0] <= cutoff]:
            del self._cross[key]

    def clear(self) -> None:
        self._members.clear()
        self._cross.clear()
