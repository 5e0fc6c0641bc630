"""The local journal that keeps violations and actions while the database is down.

An append-only JSON-lines file under the data directory: each entry is
written, flushed and fsync'd before the caller goes on, so a violation is
on disk before any action is taken even with the database unreachable. When
the database is back, the store replays the entries in order; every entry is
idempotent against the database, so a replay cut short by a crash is simply
run again. A line torn by a crash mid-write is skipped with a warning.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.actions import Action, ActionKind
from bot.events import Message, MessageType
from bot.verdicts import Evidence, Severity, Violation

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Entry:
    seq: int
    op: str
    data: dict[str, Any]


_instances = 0


def journal_path(directory: str | os.PathLike[str], url: str, bot_id: str = "") -> Path:
    """This process's journal for one database (entries never reach another one)
    and bot. Each process (each store) writes its own file, so two bots sharing
    a data directory never interleave or truncate each other's entries."""
    global _instances
    _instances += 1
    return Path(directory) / f"{journal_prefix(url)}{bot_id or 'bot'}-{os.getpid()}-{_instances}.jsonl"


def journal_prefix(url: str) -> str:
    return f"journal-{hashlib.sha256(url.encode()).hexdigest()[:12]}-"


class Journal:
    """An append-only JSON-lines file. The process that writes it holds an
    exclusive lock on it until :meth:`close` (or its death), which is how
    :meth:`claim_orphans` tells a journal left by a dead process from one a
    live process is still writing."""

    def __init__(self, path: str | os.PathLike[str], *, siblings: str = "") -> None:
        self.path = Path(path)
        self.siblings = siblings
        """Glob (in the same directory) of the journals of other processes for
        the same database, e.g. ``journal-<digest>-*.jsonl``."""
        self._fh: Any = None
        self._seq = max((e.seq for e in self.entries()), default=0)
        self._torn = self._ends_torn()

    def _ends_torn(self) -> bool:
        """A crash mid-write leaves a last line without its newline: the next
        entry must start on a line of its own."""
        try:
            with open(self.path, "rb") as f:
                f.seek(0, os.SEEK_END)
                if f.tell() == 0:
                    return False
                f.seek(-1, os.SEEK_END)
                return f.read(1) != b"\n"
        except FileNotFoundError:
            return False

    def _open(self) -> Any:
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)  # only once something must be kept
            fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - held until close()
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                fh.close()
                raise OSError(f"journal {self.path} is held by another writer") from None
            self._fh = fh
        return self._fh

    def append(self, op: str, data: dict[str, Any]) -> int:
        self._seq += 1
        line = json.dumps(
            {"seq": self._seq, "op": op, "data": data}, ensure_ascii=False, separators=(",", ":")
        )
        fh = self._open()
        fh.write(("\n" if self._torn else "") + line + "\n")
        fh.flush()
        os.fsync(fh.fileno())
        self._torn = False
        return self._seq

    def entries(self) -> Iterator[Entry]:
        yield from read_entries(self.path)

    def __bool__(self) -> bool:
        return self.path.exists() and self.path.stat().st_size > 0

    def clear(self) -> None:
        """Called once every entry is in the database."""
        if self._fh is not None:
            self._fh.truncate(0)
            os.fsync(self._fh.fileno())
        elif self.path.exists():
            fh = self._open()
            fh.truncate(0)
            os.fsync(fh.fileno())
        self._torn = False

    def close(self) -> None:
        """Release the file; an empty journal is removed, one with entries stays
        for the next start to replay."""
        fh, self._fh = self._fh, None
        if fh is not None:
            if not self:
                self.path.unlink(missing_ok=True)
            fh.close()
        elif self.path.exists() and not self:
            self.path.unlink(missing_ok=True)

    def claim_orphans(self) -> Iterator[Path]:
        """Journals of the same database left by processes that are gone (their
        lock is free), oldest first. Each is locked while the caller replays it
        and removed once the caller moves on to the next."""
        if not self.siblings:
            return
        paths = sorted(self.path.parent.glob(self.siblings), key=lambda p: p.stat().st_mtime)
        for path in paths:
            if path == self.path:
                continue
            try:
                fh = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed below
            except OSError:
                continue
            try:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    continue  # a live process is writing it
                yield path
                path.unlink(missing_ok=True)
            finally:
                fh.close()


def read_entries(path: Path) -> Iterator[Entry]:
    if not path.exists():
        return
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                yield Entry(int(raw["seq"]), str(raw["op"]), dict(raw["data"]))
            except (ValueError, KeyError, TypeError):
                log.warning("%s:%d: skipping a torn or unreadable journal line", path, lineno)


# --- plain JSON for the objects the journal keeps ---------------------------------


def message_to_json(m: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"id": m.id, "room_id": m.room_id, "sender_id": m.sender_id, "at": m.at.isoformat()}
    out["type"] = m.type.value
    for name in (
        "text",
        "room_topic",
        "sender_name",
        "url",
        "title",
        "description",
        "app",
        "card_id",
        "card_name",
        "file_name",
        "media_key",
    ):
        value = getattr(m, name)
        if value:
            out[name] = value
    if m.qr_payloads:
        out["qr_payloads"] = list(m.qr_payloads)
    if m.mention_ids:
        out["mention_ids"] = list(m.mention_ids)
    return out


def message_from_json(d: dict[str, Any]) -> Message:
    d = dict(d)
    d["at"] = datetime.fromisoformat(d["at"])
    d["type"] = MessageType.parse(d.get("type", "text"))
    d["qr_payloads"] = tuple(d.get("qr_payloads", ()))
    d["mention_ids"] = tuple(d.get("mention_ids", ()))
    return Message(**d)


def violation_to_json(v: Violation) -> dict[str, Any]:
    return {
        "rule": v.rule,
        "category": v.category,
        "severity": v.severity.value,
        "room_id": v.room_id,
        "sender_id": v.sender_id,
        "message_id": v.message_id,
        "evidence": evidence_to_json(v.evidence),
        "message": v.message,
        "description": v.description,
    }


def evidence_to_json(evidence: tuple[Evidence, ...]) -> list[dict[str, str]]:
    return [{"check": e.check, "span": e.span, "detail": e.detail} for e in evidence]


def violation_from_json(d: dict[str, Any]) -> Violation:
    return Violation(
        rule=d["rule"],
        category=d["category"],
        severity=Severity(d["severity"]),
        room_id=d["room_id"],
        sender_id=d["sender_id"],
        message_id=d["message_id"],
        evidence=tuple(Evidence(**e) for e in d.get("evidence", ())),
        message=d.get("message", ""),
        description=d.get("description", ""),
    )


def action_to_json(a: Action) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": a.kind.value, "room_id": a.room_id, "contact_id": a.contact_id}
    if a.duration is not None:
        out["duration_s"] = a.duration.total_seconds()
    if a.reason:
        out["reason"] = a.reason
    return out


def action_from_json(d: dict[str, Any]) -> Action:
    duration = d.get("duration_s")
    return Action(
        kind=ActionKind(d["kind"]),
        room_id=d["room_id"],
        contact_id=d["contact_id"],
        duration=timedelta(seconds=duration) if duration is not None else None,
        reason=d.get("reason", ""),
    )
