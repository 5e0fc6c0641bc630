"""The SQL store: the Records of moderation, plus what the live bot and the
admin tools read and write.

One :class:`Store` per process, sync SQLAlchemy Core on short transactions.
Its moderation path (``record_violations``, ``record_actions``,
``set_action_state``, member joins and leaves) never loses a write: when the
database is unreachable the write goes to the :class:`~bot.store.journal.Journal`
and the bot keeps moderating on in-memory history; on the next write after
``retry_interval_s`` the store tries the database again, replays the journal
in order (each entry idempotent), and carries on. :attr:`Store.outage` and
:meth:`Store.on_outage` let the app tell the admins once. Reads and admin
writes raise :class:`~bot.errors.StoreUnavailable` while the database is down.

Case numbers are the database's; a case recorded during an outage gets a
negative provisional number (``-journal seq``), which :meth:`Store.resolve_case_no`
turns into the real one once the journal is replayed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from bot.actions import Action, ActionKind
from bot.errors import QunguardError, StoreUnavailable
from bot.events import MemberJoined, MemberLeft, Message
from bot.moderation import RecordedCase
from bot.store.base import (
    _ANY_ACTION,
    _CASE_ACTIONS,
    _CASE_BY_KEY,
    _CASE_DONE,
    _HISTORY,
    _HISTORY_IN_ROOM,
    _INSERT_ACTION,
    _INSERT_MUTE,
    _INSERT_VIOLATION,
    _OFFENCES_PER_CONTACT,
    _RECENT_CASES,
    ACTIONS,
    CASES,
    DAILY_RULES,
    DOWN_ERRORS,
    FINAL_ACTION_STATES,
    MEMBERS,
    MUTES,
    ROOMS,
    VIOLATIONS,
    StoreBase,
    _first_per_rule,
    _insert_case,
    _short,
    excerpt_of,
    log,
    upsert_adding,
    utcnow,
)
from bot.store.cases import CasesMixin
from bot.store.journal import (
    Entry,
    action_from_json,
    action_to_json,
    evidence_to_json,
    message_from_json,
    message_to_json,
    read_entries,
    violation_from_json,
    violation_to_json,
)
from bot.store.members import MembersMixin
from bot.store.reports import ReportsMixin
from bot.store.sanctions import SanctionsMixin
from bot.verdicts import PastOffence, Severity, Violation

_SEVERITY = {s.value: s for s in Severity}
"""Stored severity -> Severity, without the enum's slower call."""

__all__ = ["CASES", "DOWN_ERRORS", "MEMBERS", "ROOMS", "Store", "_short", "utcnow"]


class Store(CasesMixin, MembersMixin, SanctionsMixin, ReportsMixin, StoreBase):
    """See the module docstring. Open one with :func:`bot.store.open_store`.

    The moderation path (the Records protocol, action outcomes, the journal)
    is here; the rest is in the parts it is composed of."""

    def warm(self, *, offence_days: int = 60) -> None:
        """Load what the store keeps in memory: mutes in force and recent offences
        (the ladder's history if the database goes away), then replay any journal
        left by an earlier run."""
        with self._lock:
            self._replay_journal()
            since = utcnow() - timedelta(days=offence_days)
            with self.engine.connect() as conn:
                self._known_rooms.update(conn.execute(select(ROOMS.c.id)).scalars())
                mutes = conn.execute(
                    select(MUTES.c.room_id, MUTES.c.contact_id, MUTES.c.starts_at, MUTES.c.until)
                    .where(MUTES.c.lifted_at.is_(None))
                    .order_by(MUTES.c.until.desc())
                    .limit(50_000)
                )
                for room, contact, starts, until in mutes:
                    self._mutes[(room, contact)].append((starts, until))
                rows = conn.execute(
                    select(
                        VIOLATIONS.c.sender_id,
                        VIOLATIONS.c.at,
                        VIOLATIONS.c.rule,
                        VIOLATIONS.c.category,
                        VIOLATIONS.c.severity,
                        VIOLATIONS.c.room_id,
                        VIOLATIONS.c.message_id,
                    )
                    .join(CASES, CASES.c.id == VIOLATIONS.c.case_id)
                    .where(VIOLATIONS.c.at >= since, CASES.c.state != "pardoned")
                    .order_by(VIOLATIONS.c.at.desc(), VIOLATIONS.c.id.desc())
                    .limit(100_000)
                ).all()
                for r in reversed(rows):  # the newest 100,000, oldest first
                    self._remember_offence(
                        r.sender_id,
                        PastOffence(r.at, r.rule, r.category, _SEVERITY[r.severity], r.room_id, r.message_id),
                    )

    def _replay_journal(self) -> int:
        """Write the journals to the database, in order, then empty them: first
        any left by processes that died during an outage, then this one's. Every
        entry is idempotent, so a replay cut short is simply run again."""
        if self.journal is None:
            return 0
        n = 0
        for orphan in self.journal.claim_orphans():
            log.warning("writing the journal %s left by an earlier run", orphan)
            n += self._replay_entries(read_entries(orphan))
        if self.journal:
            n += self._replay_entries(self.journal.entries())
            self.journal.clear()
        return n

    def _replay_entries(self, entries: Iterable[Entry]) -> int:
        n = 0
        for entry in entries:
            d = entry.data
            if entry.op == "violations":
                msg = message_from_json(d["message"])
                vs = [violation_from_json(v) for v in d["violations"]]
                self._write(self._db_record_violations, msg, vs)
            elif entry.op == "actions":
                acts = [action_from_json(a) for a in d["actions"]]
                at = datetime.fromisoformat(d["at"])
                self._write(self._db_record_actions, d["room_id"], d["message_id"], at, acts)
            elif entry.op == "action_state":
                self._write(
                    self._db_set_action_state,
                    d["room_id"],
                    d["message_id"],
                    d["kind"],
                    d["state"],
                    d.get("detail", ""),
                    d.get("by", ""),
                    datetime.fromisoformat(d["at"]),
                    d.get("position"),
                )
            elif entry.op == "joined":
                self._write(
                    self._db_member_joined, MemberJoined(**{**d, "at": datetime.fromisoformat(d["at"])})
                )
            elif entry.op == "left":
                self._write(self._db_member_left, MemberLeft(**{**d, "at": datetime.fromisoformat(d["at"])}))
            else:
                log.warning("journal entry %d: unknown op %r skipped", entry.seq, entry.op)
            n += 1
        return n

    def record_violations(self, message: Message, violations: Sequence[Violation]) -> RecordedCase:
        """Commit the violations of one message as one case, before any action is
        taken; a message seen before returns its case with ``is_new=False`` and
        the actions decided then. A case whose actions were never recorded (the
        process died in between) comes back as new, so they are decided now."""
        with self._lock:
            if self._usable():
                try:
                    case, created = self._write(self._db_record_violations, message, violations)
                except DOWN_ERRORS as exc:
                    self._went_down(exc)
                else:
                    if created:
                        self._after_violations(message, violations, case)
                    return case
            return self._journal_violations(message, violations)

    def record_actions(self, case: RecordedCase, message: Message, actions: Sequence[Action]) -> None:
        with self._lock:
            if self._usable():
                try:
                    self._write(
                        self._db_record_actions,
                        message.room_id,
                        message.id,
                        message.at,
                        actions,
                        case.case_no,
                    )
                except DOWN_ERRORS as exc:
                    self._went_down(exc)
                else:
                    self._after_actions(case, message, actions)
                    return
            self._journal(
                "actions",
                {
                    "room_id": message.room_id,
                    "message_id": message.id,
                    "at": message.at.isoformat(),
                    "actions": [action_to_json(a) for a in actions],
                },
            )
            self._after_actions(case, message, actions)

    def history(self, room_id: str | None, contact_id: str, since: datetime) -> list[PastOffence]:
        with self._lock:
            if self._usable():
                try:
                    return self._db_history(room_id, contact_id, since)
                except DOWN_ERRORS as exc:
                    self._went_down(exc)
            return [
                o
                for o in self._offences.get(contact_id, ())
                if o.at >= since and (room_id is None or o.room_id == room_id)
            ]

    def muted_until(self, room_id: str, contact_id: str, at: datetime) -> datetime | None:
        spans = self._mutes.get((room_id, contact_id))
        if not spans:
            return None
        ends = [until for starts, until in spans if starts <= at < until]
        return max(ends) if ends else None

    def _db_record_violations(
        self, conn: Connection, message: Message, violations: Sequence[Violation]
    ) -> tuple[RecordedCase, bool]:
        """(the case, whether this call created it)."""
        self._ensure_room(conn, message.room_id, message.room_topic)
        unique = _first_per_rule(violations)
        severity = max((v.severity for v in unique), key=lambda s: s.rank, default=Severity.MINOR)
        # One statement for the usual case (a new message); a message seen before
        # inserts nothing and is looked up.
        case_id = conn.execute(
            _insert_case(conn),
            {
                "room_id": message.room_id,
                "contact_id": message.sender_id,
                "message_id": message.id,
                "created_at": message.at,
                "severity": severity.value,
                "state": "open",
                "bot_id": self.bot_id,
                "updated_at": utcnow(),
            },
        ).scalar()
        if case_id is None:
            existing = conn.execute(_CASE_BY_KEY, {"r": message.room_id, "m": message.id}).one()
            actions = self._db_actions(conn, existing.id)
            if not actions and existing.state == "open":
                return RecordedCase(existing.id, True), False
            return RecordedCase(existing.id, False, tuple(actions)), False
        excerpt = excerpt_of(message)
        if unique:
            conn.execute(
                _INSERT_VIOLATION,
                [
                    {
                        "case_id": case_id,
                        "room_id": message.room_id,
                        "message_id": message.id,
                        "at": message.at,
                        "sender_id": message.sender_id,
                        "rule": v.rule,
                        "category": v.category,
                        "severity": v.severity.value,
                        "evidence": evidence_to_json(v.evidence),
                        "excerpt": excerpt,
                        "message_type": message.type.value,
                    }
                    for v in unique
                ],
            )
        # Violation counts go in the same transaction: exact across crashes.
        day = self.day_of(message.at)
        self._add_daily(conn, message.room_id, day, violations=len(unique))
        conn.execute(
            upsert_adding(conn, DAILY_RULES),
            [{"room_id": message.room_id, "day": day, "rule": v.rule, "count": 1} for v in unique],
        )
        return RecordedCase(case_id, True), True

    def _db_record_actions(
        self,
        conn: Connection,
        room_id: str,
        message_id: str,
        at: datetime,
        actions: Sequence[Action],
        case_no: int = 0,
    ) -> None:
        if case_no > 0:
            case_id = case_no
        else:
            row = conn.execute(_CASE_BY_KEY, {"r": room_id, "m": message_id}).first()
            if row is None:
                log.error(
                    "no case for message %s in %s: %d actions not recorded", message_id, room_id, len(actions)
                )
                return
            case_id = row.id
        if conn.execute(_ANY_ACTION, {"c": case_id}).first():
            return  # recorded before: a replayed journal entry or a redelivered message
        now = utcnow()
        if not actions:
            conn.execute(_CASE_DONE, {"c": case_id, "now": now})
            return
        conn.execute(
            _INSERT_ACTION,
            [
                {
                    "case_id": case_id,
                    "position": i,
                    "kind": a.kind.value,
                    "params": action_to_json(a),
                    "reason": a.reason,
                    "state": "decided",
                    "actor_id": self.bot_id,
                    "at": at,
                    "updated_at": now,
                }
                for i, a in enumerate(actions)
            ],
        )
        for a in actions:
            if a.kind is ActionKind.MUTE and a.duration is not None:
                conn.execute(
                    _INSERT_MUTE,
                    {
                        "room_id": a.room_id,
                        "contact_id": a.contact_id,
                        "starts_at": at,
                        "until": at + a.duration,
                        "case_id": case_id,
                        "reason": a.reason,
                        "muted_by": self.bot_id,
                    },
                )

    def _db_actions(self, conn: Connection, case_id: int) -> list[Action]:
        rows = conn.execute(_CASE_ACTIONS, {"c": case_id})
        return [action_from_json({"kind": kind, **params}) for params, kind in rows if "room_id" in params]

    def _db_history(self, room_id: str | None, contact_id: str, since: datetime) -> list[PastOffence]:
        with self._read() as conn:
            if room_id is None:
                rows = conn.execute(_HISTORY, {"c": contact_id, "s": since})
            else:
                rows = conn.execute(_HISTORY_IN_ROOM, {"c": contact_id, "s": since, "r": room_id})
            return [PastOffence(r[0], r[1], r[2], _SEVERITY[r[3]], r[4], r[5]) for r in rows]

    def _journal_violations(self, message: Message, violations: Sequence[Violation]) -> RecordedCase:
        key = (message.room_id, message.id)
        old = self._recent.get(key)
        if old is not None:
            return RecordedCase(old.case_no, False, old.actions)
        seq = self._journal(
            "violations",
            {"message": message_to_json(message), "violations": [violation_to_json(v) for v in violations]},
        )
        case = RecordedCase(-seq, True)
        self._provisional[-seq] = key
        self._after_violations(message, violations, case)
        return case

    def _after_violations(
        self, message: Message, violations: Sequence[Violation], case: RecordedCase
    ) -> None:
        key = (message.room_id, message.id)
        self._recent[key] = case
        if len(self._recent) > _RECENT_CASES:
            self._recent.popitem(last=False)
        for v in violations:
            self._remember_offence(
                message.sender_id,
                PastOffence(message.at, v.rule, v.category, v.severity, message.room_id, message.id),
            )

    def _remember_offence(self, contact_id: str, offence: PastOffence) -> None:
        mine = self._offences[contact_id]
        mine.append(offence)
        if len(mine) > _OFFENCES_PER_CONTACT:
            del mine[0]

    def _after_actions(self, case: RecordedCase, message: Message, actions: Sequence[Action]) -> None:
        key = (message.room_id, message.id)
        self._recent[key] = RecordedCase(case.case_no, True, tuple(actions))
        for a in actions:
            if a.kind is ActionKind.MUTE and a.duration is not None:
                self._mutes[(a.room_id, a.contact_id)].append((message.at, message.at + a.duration))

    def resolve_case_no(self, case_no: int) -> int | None:
        """The real case number of a provisional (negative) one, once it is in the database."""
        if case_no > 0:
            return case_no
        key = self._provisional.get(case_no)
        if key is None or self._down is not None:
            return None
        try:
            with self.engine.connect() as conn:
                return conn.execute(
                    select(CASES.c.id).where(CASES.c.room_id == key[0], CASES.c.message_id == key[1])
                ).scalar()
        except DOWN_ERRORS as exc:
            self._went_down(exc)
            return None

    def set_action_state(
        self,
        case_no: int,
        kind: ActionKind | str,
        state: str,
        detail: str = "",
        by: str = "",
        at: datetime | None = None,
        *,
        position: int | None = None,
    ) -> None:
        """Record what became of a case's action: done, failed (with ``detail``),
        dry_run, awaiting_review, requested_admins, dropped, fallback_mention.
        The action is the case's ``position``-th, or every one of that ``kind``;
        the case's state follows. Journaled while the database is down."""
        kind = ActionKind(kind).value if isinstance(kind, ActionKind) else kind
        at = at or utcnow()
        with self._lock:
            key = self._provisional.get(case_no) if case_no < 0 else None
            if self._usable():
                try:
                    if key is None:
                        key = self._case_key(case_no)
                    self._write(
                        self._db_set_action_state,
                        key[0],
                        key[1],
                        kind,
                        state,
                        detail,
                        by or self.bot_id,
                        at,
                        position,
                    )
                    return
                except DOWN_ERRORS as exc:
                    self._went_down(exc)
            if key is None:
                key = next((k for k, c in self._recent.items() if c.case_no == case_no), None)
            if key is None:
                raise StoreUnavailable(f"the database is unreachable and case {case_no} is not in memory")
            self._journal(
                "action_state",
                {
                    "room_id": key[0],
                    "message_id": key[1],
                    "kind": kind,
                    "state": state,
                    "detail": detail,
                    "by": by or self.bot_id,
                    "at": at.isoformat(),
                    "position": position,
                },
            )

    def record_outcome(
        self, case_no: int, position: int, action: Action, state: str, detail: str, at: datetime
    ) -> None:
        """The outcome of the case's ``position``-th action (the app's name for
        :meth:`set_action_state`)."""
        self.set_action_state(case_no, action.kind, state, detail, self.bot_id, at, position=position)

    def _case_key(self, case_no: int) -> tuple[str, str]:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(CASES.c.room_id, CASES.c.message_id).where(CASES.c.id == case_no)
            ).first()
        if row is None:
            raise QunguardError(f"no case {case_no}")
        return row.room_id, row.message_id

    def _db_set_action_state(
        self,
        conn: Connection,
        room_id: str,
        message_id: str,
        kind: str,
        state: str,
        detail: str,
        by: str,
        at: datetime,
        position: int | None = None,
    ) -> None:
        case_id = conn.execute(
            select(CASES.c.id).where(CASES.c.room_id == room_id, CASES.c.message_id == message_id)
        ).scalar()
        if case_id is None:
            log.error("set_action_state: no case for message %s in %s", message_id, room_id)
            return
        which = ACTIONS.c.kind == kind if position is None else ACTIONS.c.position == position
        done = conn.execute(
            update(ACTIONS)
            .where(ACTIONS.c.case_id == case_id, which)
            .values(state=state, detail=detail, actor_id=by, updated_at=at)
        ).rowcount
        if not done:
            position = conn.execute(
                select(func.coalesce(func.max(ACTIONS.c.position) + 1, 0)).where(ACTIONS.c.case_id == case_id)
            ).scalar_one()
            conn.execute(
                insert(ACTIONS).values(
                    case_id=case_id,
                    position=position,
                    kind=kind,
                    params={},
                    state=state,
                    detail=detail,
                    actor_id=by,
                    at=at,
                    updated_at=at,
                )
            )
        self._db_update_case_state(conn, case_id, at)

    def _db_update_case_state(self, conn: Connection, case_id: int, at: datetime) -> None:
        current = conn.execute(select(CASES.c.state).where(CASES.c.id == case_id)).scalar_one()
        if current == "pardoned":
            return
        states = set(conn.execute(select(ACTIONS.c.state).where(ACTIONS.c.case_id == case_id)).scalars())
        if "failed" in states:
            new = "failed"
        elif "awaiting_review" in states:
            new = "awaiting_review"
        elif states <= FINAL_ACTION_STATES:
            new = "done"
        else:
            new = "open"
        if new != current:
            conn.execute(update(CASES).where(CASES.c.id == case_id).values(state=new, updated_at=at))
