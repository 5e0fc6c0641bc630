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

from array import array
from collections import OrderedDict

from bot.engine.model import FloodSpec
from bot.engine.normalize import fingerprint
from bot.events import MEDIA_TYPES, Message, MessageType
from bot.verdicts import Evidence

MAX_ENTRIES = 512
"""Per member, across rooms: enough for any threshold an admin would set."""
EVICT_PER_MESSAGE = 8
"""Idle members forgotten per observed message (amortised clean-up)."""
EVICT_EVERY = 32
"""Clean up every this many messages (up to EVICT_PER_MESSAGE x EVICT_EVERY members)."""

_CARD_TYPES = frozenset({MessageType.URL, MessageType.MINI_PROGRAM, MessageType.CONTACT_CARD})


class FloodPlan:
    """The flood rules that apply to one kind of message in one room, prepared
    once so that judging a message is a single pass over the member's history."""

    __slots__ = ("album", "cross_min", "needs_fingerprint", "rules", "specs")

    def __init__(self, rules: tuple, specs: tuple[FloodSpec, ...]) -> None:
        self.rules = rules
        self.specs = specs
        self.album = max((s.album_seconds for s in specs), default=0.0)
        crossing = [s.min_length for s in specs if s.cross_room is not None]
        self.cross_min = min(crossing) if crossing else None
        self.needs_fingerprint = any(s.repeat is not None or s.cross_room is not None for s in specs)


def message_fingerprint(message: Message, normalised_text: str) -> str:
    """What makes two messages copies: see :func:`bot.engine.normalize.fingerprint`;
    images and files by file, cards by title and link; stickers and emoji-only
    lines are never copies (empty: not compared)."""
    t = message.type
    if t is MessageType.EMOTICON:
        return ""  # stickers are not compared; they count towards a burst
    if t in MEDIA_TYPES:
        ident = message.media_key or message.file_name.replace("\\", "/").rsplit("/", 1)[-1] or message.text
        return f"{t.value}:{ident}" if ident else ""
    if t in _CARD_TYPES:
        ident = message.url or message.card_id or message.app
        return f"card:{fingerprint(normalised_text)}|{ident}"
    return fingerprint(normalised_text)


UNIT = 1
"""Entry flag: counts toward a burst (not the 2nd..nth picture of an album)."""
MEDIA = 2
"""Entry flag: a picture, video or file."""
STRIDE = 4
"""A member's history is one flat array of doubles: at, fingerprint hash, flags,
room number, at, ... (an ``array`` holds no Python objects: small, and nothing
for the garbage collector to walk)."""
_HASH_BITS = (1 << 52) - 1
"""Fingerprint hashes are cut to 52 bits so that a double holds them exactly."""
_UNKNOWN = float("nan")
"""The hash of an entry whose fingerprint is worked out only when needed."""


def _hash(fp: str) -> float:
    """0.0 for no fingerprint (never compared), else a non-zero 52-bit hash."""
    return float((hash(fp) & _HASH_BITS) or 1) if fp else 0.0


def _check(
    spec: FloodSpec,
    at: float,
    unit: bool,
    fp: float,
    room: int,
    history: array,
    shown: str,
    long_enough: bool,
) -> tuple[Evidence, ...] | None:
    found: list[Evidence] = []
    last = len(history) - STRIDE
    if spec.burst is not None and unit:
        n, secs = spec.burst
        since = at - secs
        count = 1
        for i in range(last, -1, -STRIDE):
            if history[i] < since:
                break
            if history[i + 3] == room:
                count += int(history[i + 2]) & UNIT
        if count > n:
            found.append(Evidence("flood.burst", "", f"{secs:g} 秒内第 {count} 条消息（上限 {n} 条）"))
    if spec.repeat is not None and fp:
        copies, secs = spec.repeat
        since = at - secs
        count = 1
        for i in range(last, -1, -STRIDE):
            if history[i] < since:
                break
            if history[i + 1] == fp and history[i + 3] == room:
                count += 1
        if count >= copies:
            found.append(Evidence("flood.repeat", shown, f"{secs:g} 秒内第 {count} 次发送相同内容"))
    if spec.cross_room is not None and fp and long_enough:
        rooms_needed, secs = spec.cross_room
        since = at - secs
        rooms = {room}
        for i in range(last, -1, -STRIDE):
            if history[i] < since:
                break
            if history[i + 1] == fp:
                rooms.add(history[i + 3])
        if len(rooms) >= rooms_needed:
            found.append(
                Evidence("flood.cross_room", shown, f"{secs:g} 秒内把相同内容发到 {len(rooms)} 个群")
            )
    return tuple(found) or None


class FloodTracker:
    """Recent messages per member (in every room), bounded by time and by count.

    One ordered dict entry per member active within the longest window, its
    history one flat list of numbers: about 300 bytes for a member who said
    one thing, so 100 rooms x 500 members all talking stay around 15 MB."""

    def __init__(self) -> None:
        self._members: OrderedDict[str, array[float]] = OrderedDict()
        self._rooms: dict[str, int] = {}
        self._seen = 0
        self._stale: list[str] = []
        self._pending: dict[str, list[str]] = {}
        """Per member, the texts of entries whose fingerprint is not worked out yet
        (NaN in the history), oldest first: a message is fingerprinted only when a
        later message of the same member has to be compared with it."""

    def __len__(self) -> int:
        return len(self._members)

    def observe(
        self,
        message: Message,
        fp: str | None,
        plan: FloodPlan,
        horizon: float,
        *,
        record: bool = True,
        text: str = "",
    ) -> list[tuple[Evidence, ...] | None] | None:
        """Check ``message`` against each of the plan's thresholds, then (with
        ``record``) remember it. Returns one result per spec (evidence when that
        threshold is crossed), or None when none is.

        ``fp`` is the message's fingerprint, or None to have it taken from
        ``text`` (with :func:`~bot.engine.normalize.fingerprint`) only if it is
        ever compared: most members say nothing else within the window."""
        at = message.at.timestamp()
        sender = message.sender_id
        rooms = self._rooms
        room = rooms.get(message.room_id)
        if room is None:
            room = len(rooms)
            if record:
                rooms[message.room_id] = room
        members = self._members
        history = members.get(sender)
        cutoff = at - horizon
        if history is None:
            history = array("d")
        elif history and history[0] < cutoff:
            i = STRIDE
            while i < len(history) and history[i] < cutoff:
                i += STRIDE
            self._forget(sender, history, i)
        is_media = message.type in MEDIA_TYPES
        unit = True
        if is_media:
            for i in range(len(history) - STRIDE, -1, -STRIDE):
                if history[i + 3] == room and int(history[i + 2]) & MEDIA:
                    unit = at - history[i] > plan.album
                    break
        results: list[tuple[Evidence, ...] | None] | None = None
        if history:  # a first message can cross no threshold (each needs at least two)
            if fp is None:
                fp = fingerprint(text)
            if sender in self._pending:
                self._resolve(sender, history)
            h = _hash(fp)
            shown = fp[:60]
            n_fp = len(fp)
            for k, spec in enumerate(plan.specs):
                found = _check(spec, at, unit, h, room, history, shown, n_fp >= spec.min_length)
                if found is not None:
                    if results is None:
                        results = [None] * len(plan.specs)
                    results[k] = found
        elif fp is None:
            h = _UNKNOWN
        else:
            h = _hash(fp)
        if record:
            if h != h:  # NaN: fingerprinted when compared
                self._pending.setdefault(sender, []).append(text)
            history.extend((at, h, (UNIT if unit else 0) | (MEDIA if is_media else 0), room))
            if len(history) > MAX_ENTRIES * STRIDE:
                self._forget(sender, history, len(history) - MAX_ENTRIES * STRIDE)
            members[sender] = history
            members.move_to_end(sender)
            self._seen += 1
            if self._seen % EVICT_EVERY == 0:
                self._evict(cutoff)
        return results

    def _forget(self, sender: str, history: array, end: int) -> None:
        """Drop the entries before index ``end`` (and the texts of those not fingerprinted)."""
        pending = self._pending.get(sender)
        if pending:
            unknown = sum(1 for i in range(1, end, STRIDE) if history[i] != history[i])
            del pending[:unknown]
            if not pending:
                del self._pending[sender]
        del history[:end]

    def _resolve(self, sender: str, history: array) -> None:
        """Fingerprint the member's entries that were recorded without one."""
        texts = self._pending.pop(sender)
        k = 0
        for i in range(1, len(history), STRIDE):
            if history[i] != history[i]:
                history[i] = _hash(fingerprint(texts[k]))
                k += 1

    def _evict(self, cutoff: float) -> None:
        """Forget members idle since ``cutoff``, oldest first, a bounded number at a time."""
        store = self._members
        for key, history in store.items():
            if history and history[-STRIDE] >= cutoff:
                break
            self._stale.append(key)
            if len(self._stale) >= EVICT_PER_MESSAGE * EVICT_EVERY:
                break
        for key in self._stale:
            del store[key]
            self._pending.pop(key, None)
        self._stale.clear()

    def clear(self) -> None:
        self._members.clear()
        self._rooms.clear()
        self._pending.clear()
