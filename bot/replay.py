"""Transcripts (JSONL, ``shared/formats/transcript.md``) in, events and decisions out.

:func:`read_transcript` turns each line into a :mod:`bot.events` object with
its line number, or a :class:`~bot.errors.TranscriptError` naming the line; a
bad line never stops the replay. :class:`Replay` feeds the messages through the
same :class:`~bot.moderation.Moderator` that live chat takes, on a clock driven
by the ``ts`` fields, and keeps what a live bot would know about each member
(when they joined, who invited them) from the join and leave lines.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.errors import TranscriptError
from bot.events import MemberJoined, MemberLeft, Message, MessageType, Sender
from bot.moderation import MUTED_SPEAKING_RULE, Decision, Moderator
from bot.qr import MAX_IMAGE_BYTES, decode_qr

__all__ = [
    "Entry",
    "Outcome",
    "Replay",
    "outcome_json",
    "read_transcript",
]

MEMBER_TYPES = frozenset({"join", "leave"})
MESSAGE_TYPES = frozenset(t.value for t in MessageType) - {"recalled", "other"}
REQUIRED = ("ts", "room", "type", "from")
MAX_LINE_CHARS = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Entry:
    """One readable transcript line."""

    line: int
    event: Message | MemberJoined | MemberLeft
    name: str = ""
    """The sender's display name on that line, for display only."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What replay decided for one line."""

    line: int
    room_id: str
    sender_id: str
    event: Message | MemberJoined | MemberLeft
    name: str = ""
    decision: Decision | None = None


class _Media:
    """Reads media files next to the transcript once each: QR payloads and a content key."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self._cache: dict[str, tuple[tuple[str, ...], str, str]] = {}

    def load(self, rel: str, kind: str) -> tuple[tuple[str, ...], str, str]:
        """``(qr_payloads, media_key, problem)`` for the file at ``rel``."""
        key = f"{kind}:{rel}"
        if key not in self._cache:
            self._cache[key] = self._read(rel, kind)
        return self._cache[key]

    def _read(self, rel: str, kind: str) -> tuple[tuple[str, ...], str, str]:
        path = self.base / rel
        try:
            size = path.stat().st_size
            if size > MAX_IMAGE_BYTES:
                return (), f"file:{path.name}:{size}", ""
            data = path.read_bytes()
        except OSError as exc:
            return (), f"file:{rel}", f"cannot read {rel}: {exc.strerror or exc}"
        digest = hashlib.sha256(data).hexdigest()[:32]
        payloads = decode_qr(data) if kind == "image" else ()
        return payloads, f"sha256:{digest}", ""


def _text_field(row: dict[str, Any], key: str) -> str:
    value = row.get(key)
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        raise ValueError(f"field {key!r} must be text, not {type(value).__name__}")
    return str(value)


def _parse_ts(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("field 'ts' must be an ISO 8601 time")
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"field 'ts' is not an ISO 8601 time: {value[:40]!r}") from None
    if at.tzinfo is None:
        raise ValueError(f"field 'ts' has no UTC offset: {value[:40]!r} (write e.g. +08:00)")
    return at


def read_transcript(
    path: str | os.PathLike[str],
    *,
    lines: Iterable[str] | None = None,
    on_warning: Callable[[TranscriptError], None] | None = None,
) -> Iterator[Entry | TranscriptError]:
    """Yield an :class:`Entry` per readable line, a :class:`TranscriptError` per bad one.

    Blank lines are skipped silently. ``lines`` overrides reading ``path``
    (which still names the transcript, locates its media and derives ids).
    A problem that does not spoil the line (a missing media file) goes to
    ``on_warning`` and the line is kept.
    """
    p = Path(path)
    media = _Media(p.parent)
    topics: dict[str, str] = {}
    source: Iterable[str]
    if lines is not None:
        source = lines
        yield from _entries(p, source, media, topics, on_warning)
        return
    try:
        handle = p.open(encoding="utf-8", errors="replace", newline="")
    except OSError as exc:
        raise TranscriptError(f"cannot read transcript: {exc.strerror or exc}", str(p)) from None
    with handle:
        yield from _entries(p, handle, media, topics, on_warning)


def _entries(
    p: Path,
    source: Iterable[str],
    media: _Media,
    topics: dict[str, str],
    on_warning: Callable[[TranscriptError], None] | None,
) -> Iterator[Entry | TranscriptError]:
    for number, raw in enumerate(source, start=1):
        if not raw.strip():
            continue
        try:
            yield _entry(p, number, raw, media, topics, on_warning)
        except ValueError as exc:
            yield TranscriptError(str(exc), str(p), number)


def _entry(
    p: Path,
    number: int,
    raw: str,
    media: _Media,
    topics: dict[str, str],
    on_warning: Callable[[TranscriptError], None] | None,
) -> Entry:
    if len(raw) > MAX_LINE_CHARS:
        raise ValueError(f"line longer than {MAX_LINE_CHARS // (1024 * 1024)} MiB")
    try:
        row = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc.msg} at column {exc.colno}") from None
    except RecursionError:
        raise ValueError("not valid JSON: nested too deeply") from None
    if not isinstance(row, dict):
        raise ValueError("not a JSON object")
    missing = [k for k in REQUIRED if row.get(k) in (None, "")]
    if missing:
        raise ValueError(f"missing required field {', '.join(repr(k) for k in missing)}")
    at = _parse_ts(row["ts"])
    room, sender, kind = (_text_field(row, k) for k in ("room", "from", "type"))
    name = _text_field(row, "name")
    topic = _text_field(row, "topic")
    if topic:
        topics[room] = topic
    else:
        topic = topics.get(room, "")

    if kind == "join":
        event: Message | MemberJoined | MemberLeft = MemberJoined(
            room, sender, at, name=name, inviter_id=_text_field(row, "inviter"), room_topic=topic
        )
        return Entry(number, event, name)
    if kind == "leave":
        return Entry(number, MemberLeft(room, sender, at, remover_id=_text_field(row, "remover")), name)
    if kind not in MESSAGE_TYPES:
        raise ValueError(
            f"unknown type {kind[:30]!r} (one of {', '.join(sorted(MESSAGE_TYPES | MEMBER_TYPES))})"
        )
    if kind == "text" and "text" not in row:
        raise ValueError("a text line needs a 'text' field")

    fields = {
        k: _text_field(row, k) for k in ("text", "url", "title", "description", "app", "card_id", "card_name")
    }
    file_rel = _text_field(row, "file")
    qr: tuple[str, ...] = ()
    media_key = ""
    file_name = ""
    if file_rel:
        file_name = Path(file_rel.replace("\\", "/")).name
        qr, media_key, problem = media.load(file_rel, kind)
        if problem and on_warning is not None:
            on_warning(TranscriptError(problem, str(p), number))
    readable = [fields["text"]] if fields["text"] else []
    if kind != "text":
        readable += [fields[k] for k in ("title", "description", "app", "card_name") if fields[k]]
    message_id = _text_field(row, "id") or f"{p.name}#{number}"
    mentions = row.get("mentions")
    mention_ids = tuple(str(m) for m in mentions) if isinstance(mentions, list) else ()
    event = Message(
        id=message_id,
        room_id=room,
        sender_id=sender,
        at=at,
        type=MessageType.parse(kind),
        text="\n".join(readable),
        room_topic=topic,
        sender_name=name,
        url=fields["url"],
        title=fields["title"],
        description=fields["description"],
        app=fields["app"],
        card_id=fields["card_id"],
        card_name=fields["card_name"],
        file_name=file_name,
        media_key=media_key,
        qr_payloads=qr,
        mention_ids=mention_ids,
    )
    return Entry(number, event, name)


@dataclass
class Replay:
    """Runs transcript entries through a :class:`Moderator`.

    ``admins`` are global admins (config), ``bots`` the bot itself and helper
    bots, ``exempt`` contact ids the rules never judge. Room owners and admins
    are not in a transcript, so nobody else is an admin: names are free text
    and never decide who someone is.
    """

    moderator: Moderator
    admins: Collection[str] = ()
    bots: Collection[str] = ()
    exempt: Collection[str] = ()
    _joined: dict[tuple[str, str], tuple[datetime, str]] = field(default_factory=dict)

    def sender(self, room_id: str, contact_id: str) -> Sender:
        joined_at, inviter = self._joined.get((room_id, contact_id), (None, ""))
        return Sender(
            contact_id,
            is_admin=contact_id in self.admins,
            is_exempt=contact_id in self.exempt,
            is_bot=contact_id in self.bots,
            joined_at=joined_at,
            inviter_id=inviter,
        )

    def handle(self, entry: Entry) -> Outcome:
        event = entry.event
        records = self.moderator.records
        if isinstance(event, MemberJoined):
            self._joined[(event.room_id, event.contact_id)] = (event.at, event.inviter_id)
            _call(records, "member_joined", event)
            return Outcome(entry.line, event.room_id, event.contact_id, event, entry.name)
        if isinstance(event, MemberLeft):
            self._joined.pop((event.room_id, event.contact_id), None)
            _call(records, "member_left", event)
            return Outcome(entry.line, event.room_id, event.contact_id, event, entry.name)
        decision = self.moderator.handle(event, self.sender(event.room_id, event.sender_id))
        _call(records, "note_message", event)
        return Outcome(entry.line, event.room_id, event.sender_id, event, entry.name, decision)

    def run(
        self, entries: Iterable[Entry | TranscriptError], on_error: Callable[[TranscriptError], None]
    ) -> Iterator[Outcome]:
        for entry in entries:
            if isinstance(entry, TranscriptError):
                on_error(entry)
            else:
                yield self.handle(entry)


def _call(records: object, method: str, event: object) -> None:
    """Tell records that keep member facts and daily counts (the SQL store) what
    a live bot would tell them; records that only keep violations have no such method."""
    fn = getattr(records, method, None)
    if callable(fn):
        fn(event)


def outcome_json(outcome: Outcome) -> dict[str, Any]:
    """The documented ``replay --json`` object for one line.

    ``violations`` lists the rules that fired. Speaking while muted is not a
    rule of the rules file but the mute in force: it shows as ``"muted": true``,
    and its reminder or escalation appears among the ``actions``.
    """
    d = outcome.decision
    found = d.violations if d else ()
    out: dict[str, Any] = {
        "line": outcome.line,
        "room": outcome.room_id,
        "from": outcome.sender_id,
        "violations": [
            {"rule": v.rule, "category": v.category, "severity": v.severity.value}
            for v in found
            if v.rule != MUTED_SPEAKING_RULE
        ],
        "actions": [a.as_json() for a in (d.actions if d else ())],
    }
    if any(v.rule == MUTED_SPEAKING_RULE for v in found):
        out["muted"] = True
    return out
