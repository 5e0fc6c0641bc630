"""Flood detection: per-member message rates, repeats, and cross-room copies.

State lives in memory, keyed by (room, member) and by member, and is driven
only by ``message.at``: no wall clock, so a transcript replayed on its own
timestamps behaves as live chat did. Entries older than the longest window
are dropped as members speak, and members idle for longer than that are
forgotten, oldest first, a few at every message (an ordered dict keeps them
in order of last activity), so memory follows the number of members active
within the window, and no message pays for a full sweep.

Different members never flood together: every count is per member.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Sequence

from bot.engine.model import FloodSpec
from bot.events import MEDIA_TYPES, Message, MessageType
from bot.verdicts import Evidence

MAX_ENTRIES = 256
"""Per member and room: enough for any threshold an admin would set."""
EVICT_PER_MESSAGE = 8
"""Idle members forgotten per observed message (amortised clean-up)."""

_CARD_TYPES = frozenset({MessageType.URL, MessageType.MINI_PROGRAM, MessageType.CONTACT_CARD})

Entry = tuple[float, bool, str]
"""(at, counts toward a burst, fingerprint); an album's 2nd..nth picture does not count."""


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


class _Member:
    __slots__ = ("entries", "last_media_at")

    def __init__(self) -> None:
        self.entries: deque[Entry] = deque(maxlen=MAX_ENTRIES)
        self.last_media_at: float = float("-inf")


def _check(
    spec: FloodSpec,
    at: float,
    unit: bool,
    fp: str,
    room_id: str,
    entries: deque[Entry],
    cross: deque[tuple[float, str, str]] | None,
) -> tuple[Evidence, ...] | None:
    found: list[Evidence] = []
    if spec.burst is not None and unit:
        n, secs = spec.burst
        since = at - secs
        count = 1
        for e_at, e_unit, _fp in reversed(entries):
            if e_at <= since:
                break
            count += e_unit
        if count > n:
            found.append(Evidence("flood.burst", "", f"{secs:g} 秒内第 {count} 条消息（上限 {n} 条）"))
    if spec.repeat is not None and fp:
        copies, secs = spec.repeat
        since = at - secs
        count = 1
        for e_at, _unit, e_fp in reversed(entries):
            if e_at <= since:
                break
            count += e_fp == fp
        if count >= copies:
            found.append(Evidence("flood.repeat", fp[:60], f"{secs:g} 秒内第 {count} 次发送相同内容"))
    if spec.cross_room is not None and cross and len(fp) >= spec.min_length:
        rooms_needed, secs = spec.cross_room
        since = at - secs
        rooms = {room_id}
        for c_at, c_fp, c_room in reversed(cross):
            if c_at <= since:
                break
            if c_fp == fp:
                rooms.add(c_room)
        if len(rooms) >= rooms_needed:
            found.append(
                Evidence("flood.cross_room", fp[:60], f"{secs:g} 秒内把相同内容发到 {len(rooms)} 个群")
            )
    return tuple(found) or None


class FloodTracker:
    """Recent messages per member; bounded by time and by count."""

    def __init__(self) -> None:
        self._members: OrderedDict[tuple[str, str], _Member] = OrderedDict()
        self._cross: OrderedDict[str, deque[tuple[float, str, str]]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._members)

    def observe(
        self,
        message: Message,
        fp: str,
        specs: Sequence[FloodSpec],
        horizon: float,
        *,
        record: bool = True,
    ) -> list[tuple[Evidence, ...] | None]:
        """Check ``message`` against each spec, then (with ``record``) remember it.
        Returns one result per spec: evidence when that threshold is crossed."""
        at = message.at.timestamp()
        key = (message.room_id, message.sender_id)
        member = self._members.get(key)
        if member is None:
            member = _Member()
        entries = member.entries
        cutoff = at - horizon
        while entries and entries[0][0] <= cutoff:
            entries.popleft()
        is_media = message.type in MEDIA_TYPES
        unit = True
        if is_media:
            album = max((s.album_seconds for s in specs), default=0.0)
            unit = at - member.last_media_at > album
        track_cross = any(s.cross_room is not None for s in specs)
        cross = self._cross.get(message.sender_id) if track_cross else None
        if cross is not None:
            while cross and cross[0][0] <= cutoff:
                cross.popleft()
        results = [_check(s, at, unit, fp, message.room_id, entries, cross) for s in specs]
        if record:
            entries.append((at, unit, fp))
            if is_media:
                member.last_media_at = at
            self._members[key] = member
            self._members.move_to_end(key)
            if fp and track_cross:
                if cross is None:
                    cross = self._cross[message.sender_id] = deque(maxlen=MAX_ENTRIES)
                cross.append((at, fp, message.room_id))
                self._cross.move_to_end(message.sender_id)
            self._evict(cutoff)
        return results

    def _evict(self, cutoff: float) -> None:
        for store in (self._members, self._cross):
            for _ in range(EVICT_PER_MESSAGE):
                if not store:
                    break
                key, value = next(iter(store.items()))
                entries = value.entries if isinstance(value, _Member) else value
                if entries and entries[-1][0] > cutoff:
                    break
                del store[key]

    def clear(self) -> None:
        self._members.clear()
        self._cross.clear()
