"""One message, as a story: engine -> record -> history -> ladder -> record.

:class:`Moderator` is the pipeline that live WeChat events and ``replay`` both
take, so a replayed transcript is judged exactly as live chat would be. It
does no chat I/O: executing the actions (through the outbox, with dry run and
human review) is the application's job. Records go through the small
:class:`Records` protocol, implemented by the SQL store and, for store-less
replays and tests, by :class:`MemoryRecords`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from bot.actions import Action, ActionKind
from bot.events import Message, Sender
from bot.verdicts import Evidence, PastOffence, Severity, Violation

if TYPE_CHECKING:
    from bot.engine import Engine
    from bot.ladder import Ladder


MUTED_SPEAKING_RULE = "muted-speaking"


@dataclass(frozen=True, slots=True)
class RecordedCase:
    """What the records hold for one message's violations."""

    case_no: int
    is_new: bool
    """False when the message was handled before (a redelivered event)."""
    actions: tuple[Action, ...] = ()
    """For a message handled before: the actions decided then."""


class Records(Protocol):
    def record_violations(self, message: Message, violations: Sequence[Violation]) -> RecordedCase:
        """Persist the violations of one message, idempotent on room + message id.
        Committed before any action is taken."""

    def record_actions(self, case: RecordedCase, message: Message, actions: Sequence[Action]) -> None:
        """Persist the decided actions on the case (a mute also becomes a mute record)."""

    def history(self, room_id: str | None, contact_id: str, since: datetime) -> list[PastOffence]:
        """Offences of ``contact_id`` since ``since`` (in one room, or in all with ``None``),
        pardoned ones left out."""

    def muted_until(self, room_id: str, contact_id: str, at: datetime) -> datetime | None:
        """End of the mute in force at ``at``, if any."""


@dataclass(frozen=True, slots=True)
class Decision:
    message: Message
    violations: tuple[Violation, ...] = ()
    actions: tuple[Action, ...] = ()
    case_no: int | None = None
    duplicate: bool = False


class Moderator:
    def __init__(self, engine: Engine, ladder: Ladder, records: Records) -> None:
        self.engine = engine
        self.ladder = ladder
        self.records = records

    def handle(
        self,
        message: Message,
        sender: Sender,
        *,
        content: bool = True,
        own_words: str | None = None,
        decide: bool = True,
    ) -> Decision:
        """Judge, record and decide one message.

        ``content=False`` judges a report, which quotes what it reports: the message still
        counts towards flooding (and a mute in force), but what the content rules find in its
        words is left to the admins the report goes to. A link or QR code is judged all the
        same when the reporter posts it themselves (in ``own_words``, the whole text unless it
        quotes the reported message): it works on whoever reads the room, whatever the words
        around it say, and the admins can see the reported message without it.

        ``decide=False`` judges and records the message but asks the ladder nothing: the case
        is closed with no action (no mute is recorded either). For a sender the caller knows
        is out of reach, e.g. one who left the room before the message was delivered; the
        violations still count in their history should they come back."""
        violations = list(self.engine.evaluate(message, sender))
        if not content and violations:
            own = (message.text if own_words is None else own_words).casefold()
            violations = [v for v in violations if self._is_flood_rule(v.rule) or _posts_a_link(v, own)]
        if not sender.is_bot:
            until = self.records.muted_until(message.room_id, message.sender_id, message.at)
            if until is not None:
                violations.append(muted_speaking(message, until))
        if not violations:
            return Decision(message)
        case = self.records.record_violations(message, violations)
        if not case.is_new:
            return Decision(message, tuple(violations), case.actions, case.case_no, duplicate=True)
        if not decide:
            self.records.record_actions(case, message, ())
            return Decision(message, tuple(violations), (), case.case_no)
        room = None if self.ladder.across_rooms else message.room_id
        history = self.records.history(room, message.sender_id, self.ladder.window_start(message.at))
        history = [h for h in history if not (h.message_id == message.id and h.room_id == message.room_id)]
        actions = self.ladder.decide(
            violations, history, sender, message.at, name=message.sender_name, case_no=case.case_no
        )
        self.records.record_actions(case, message, actions)
        return Decision(message, tuple(violations), tuple(actions), case.case_no)

    def _is_flood_rule(self, name: str) -> bool:
        rule = self.engine.rules.rule(name)
        return rule is not None and rule.flood is not None


def _posts_a_link(violation: Violation, own_words: str) -> bool:
    """Whether the violation is a link in ``own_words`` (case-folded) or a QR code."""
    for e in violation.evidence:
        if e.check == "qr" or (e.check == "domain" and e.span.casefold() in own_words):
            return True
    return False


def muted_speaking(message: Message, until: datetime) -> Violation:
    return Violation(
        rule=MUTED_SPEAKING_RULE,
        category="mute",
        severity=Severity.MODERATE,
        room_id=message.room_id,
        sender_id=message.sender_id,
        message_id=message.id,
        evidence=(Evidence("muted", detail=f"禁言至 {until:%m-%d %H:%M}"),),
        message="你正在禁言期内（至 {until}），请勿发言，再犯将从严处理。",
    )


@dataclass
class MemoryRecords:
    """Records kept in memory: replay without ``--db``, and tests."""

    cases: dict[tuple[str, str], RecordedCase] = field(default_factory=dict)
    offences: dict[str, list[PastOffence]] = field(default_factory=lambda: defaultdict(list))
    mutes: dict[tuple[str, str], datetime] = field(default_factory=dict)

    def record_violations(self, message: Message, violations: Sequence[Violation]) -> RecordedCase:
        key = (message.room_id, message.id)
        if key in self.cases:
            old = self.cases[key]
            return RecordedCase(old.case_no, False, old.actions)
        case = RecordedCase(len(self.cases) + 1, True)
        self.cases[key] = case
        for v in violations:
            self.offences[message.sender_id].append(
                PastOffence(message.at, v.rule, v.category, v.severity, message.room_id, message.id)
            )
        return case

    def record_actions(self, case: RecordedCase, message: Message, actions: Sequence[Action]) -> None:
        key = (message.room_id, message.id)
        self.cases[key] = RecordedCase(case.case_no, True, tuple(actions))
        for a in actions:
            if a.kind is ActionKind.MUTE:
                self.mutes[(a.room_id, a.contact_id)] = message.at + (a.duration or timedelta(0))

    def history(self, room_id: str | None, contact_id: str, since: datetime) -> list[PastOffence]:
        return [
            o
            for o in self.offences.get(contact_id, [])
            if o.at >= since and (room_id is None or o.room_id == room_id)
        ]

    def muted_until(self, room_id: str, contact_id: str, at: datetime) -> datetime | None:
        until = self.mutes.get((room_id, contact_id))
        return until if until is not None and until > at else None
