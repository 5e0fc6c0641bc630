"""Cases and what people do about them: the case story, listings, actions
added later, hand-opened cases, pardons, appeals, human review, the audit log."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update

from bot.actions import Action, ActionKind
from bot.errors import QunguardError
from bot.events import Message
from bot.store.base import (
    ACTIONS,
    APPEALS,
    AUDIT,
    BLACKLIST,
    CASES,
    MUTES,
    REVIEWS,
    VIOLATIONS,
    StoreBase,
    _action_view,
    _appeal_view,
    _audit_view,
    _case_view,
    _chunks,
    _db,
    _mute_view,
    _review_view,
    _violation_view,
    utcnow,
)
from bot.store.journal import action_to_json
from bot.store.views import (
    AppealView,
    AuditView,
    CaseStory,
    CaseView,
    ReviewView,
    ViolationView,
)
from bot.verdicts import Severity, Violation


class CasesMixin(StoreBase):
    @_db
    def add_action(
        self,
        case_no: int,
        action: Action,
        state: str = "decided",
        by: str = "",
        detail: str = "",
        at: datetime | None = None,
    ) -> int:
        """Append an action decided later (an admin's command, a review's outcome);
        returns its position on the case."""
        at = at or utcnow()
        with self._tx() as conn:
            self._require_case(conn, case_no)
            position = conn.execute(select(func.count()).where(ACTIONS.c.case_id == case_no)).scalar_one()
            conn.execute(
                insert(ACTIONS).values(
                    case_id=case_no,
                    position=position,
                    kind=action.kind.value,
                    params=action_to_json(action),
                    reason=action.reason,
                    state=state,
                    detail=detail,
                    actor_id=by or self.bot_id,
                    at=at,
                    updated_at=at,
                )
            )
            if action.kind is ActionKind.MUTE and action.duration is not None:
                conn.execute(
                    insert(MUTES).values(
                        room_id=action.room_id,
                        contact_id=action.contact_id,
                        starts_at=at,
                        until=at + action.duration,
                        case_id=case_no,
                        reason=action.reason,
                        muted_by=by,
                    )
                )
                self._mutes[(action.room_id, action.contact_id)].append((at, at + action.duration))
            self._db_update_case_state(conn, case_no, at)
        return position

    @_db
    def open_case(
        self,
        room_id: str,
        contact_id: str,
        *,
        rule: str = "manual",
        category: str = "manual",
        severity: Severity = Severity.MODERATE,
        by: str = "",
        reason: str = "",
        at: datetime | None = None,
        message_id: str = "",
    ) -> int:
        """A case an admin opens by hand (``#警告 @张三 发广告``): no message, or a
        quoted one. Returns the case number."""
        at = at or utcnow()
        msg = Message(
            id=message_id or f"manual:{by}:{at.timestamp():.6f}",
            room_id=room_id,
            sender_id=contact_id,
            at=at,
            text=reason,
        )
        v = Violation(rule, category, severity, room_id, contact_id, msg.id)
        case, created = self._write(self._db_record_violations, msg, [v])
        if created:
            self._after_violations(msg, [v], case)
        return case.case_no

    @_db
    def case(self, case_no: int) -> CaseStory | None:
        """The whole story of one case: violations, actions, mutes, appeals, reviews, audit."""
        with self.engine.connect() as conn:
            row = conn.execute(select(CASES).where(CASES.c.id == case_no)).first()
            if row is None:
                return None
            vs = [
                _violation_view(r)
                for r in conn.execute(
                    select(VIOLATIONS).where(VIOLATIONS.c.case_id == case_no).order_by(VIOLATIONS.c.id)
                )
            ]
            acts = [
                _action_view(r)
                for r in conn.execute(
                    select(ACTIONS).where(ACTIONS.c.case_id == case_no).order_by(ACTIONS.c.position)
                )
            ]
            mutes = [
                _mute_view(r)
                for r in conn.execute(select(MUTES).where(MUTES.c.case_id == case_no).order_by(MUTES.c.id))
            ]
            appeals = [
                _appeal_view(r)
                for r in conn.execute(
                    select(APPEALS).where(APPEALS.c.case_id == case_no).order_by(APPEALS.c.id)
                )
            ]
            reviews = [
                _review_view(r)
                for r in conn.execute(
                    select(REVIEWS).where(REVIEWS.c.case_id == case_no).order_by(REVIEWS.c.id)
                )
            ]
            audit = [
                _audit_view(r)
                for r in conn.execute(
                    select(AUDIT).where(AUDIT.c.case_id == case_no).order_by(AUDIT.c.at, AUDIT.c.id)
                )
            ]
        return CaseStory(
            _case_view(row, tuple(v.rule for v in vs)),
            tuple(vs),
            tuple(acts),
            tuple(mutes),
            tuple(appeals),
            tuple(reviews),
            tuple(audit),
        )

    @_db
    def case_for_message(self, room_id: str, message_id: str) -> CaseView | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(CASES).where(CASES.c.room_id == room_id, CASES.c.message_id == message_id)
            ).first()
        return _case_view(row) if row else None

    @_db
    def cases(
        self,
        *,
        room_id: str | None = None,
        contact_id: str | None = None,
        state: str | None = None,
        since: datetime | None = None,
        limit: int | None = 100,
    ) -> list[CaseView]:
        """Newest first."""
        q = select(CASES).order_by(CASES.c.id.desc())
        if room_id:
            q = q.where(CASES.c.room_id == room_id)
        if contact_id:
            q = q.where(CASES.c.contact_id == contact_id)
        if state:
            q = q.where(CASES.c.state == state)
        if since:
            q = q.where(CASES.c.created_at >= since)
        if limit:
            q = q.limit(limit)
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
            rules: dict[int, list[str]] = defaultdict(list)
            ids = [r.id for r in rows]
            for chunk in _chunks(ids, 500):
                for case_id, rule in conn.execute(
                    select(VIOLATIONS.c.case_id, VIOLATIONS.c.rule)
                    .where(VIOLATIONS.c.case_id.in_(chunk))
                    .order_by(VIOLATIONS.c.id)
                ):
                    rules[case_id].append(rule)
        return [_case_view(r, tuple(rules[r.id])) for r in rows]

    @_db
    def violations(
        self,
        *,
        room_id: str | None = None,
        contact_id: str | None = None,
        since: datetime | None = None,
        rule: str | None = None,
        limit: int | None = None,
    ) -> list[ViolationView]:
        """Oldest first (pardoned ones included: this is the record, not the ladder)."""
        q = select(VIOLATIONS).order_by(VIOLATIONS.c.at, VIOLATIONS.c.id)
        if room_id:
            q = q.where(VIOLATIONS.c.room_id == room_id)
        if contact_id:
            q = q.where(VIOLATIONS.c.sender_id == contact_id)
        if since:
            q = q.where(VIOLATIONS.c.at >= since)
        if rule:
            q = q.where(VIOLATIONS.c.rule == rule)
        if limit:
            q = q.limit(limit)
        with self.engine.connect() as conn:
            return [_violation_view(r) for r in conn.execute(q)]

    @_db
    def pardon(self, case_no: int, by: str, reason: str = "", at: datetime | None = None) -> CaseView:
        """Pardon a case: its strike leaves the ladder's history, its mute is lifted,
        its blacklist entry removed; audited."""
        at = at or utcnow()
        with self._tx() as conn:
            row = self._require_case(conn, case_no)
            conn.execute(
                update(CASES)
                .where(CASES.c.id == case_no)
                .values(state="pardoned", pardoned_by=by, pardoned_at=at, updated_at=at)
            )
            conn.execute(
                update(MUTES)
                .where(MUTES.c.case_id == case_no, MUTES.c.lifted_at.is_(None))
                .values(lifted_at=at, lifted_by=by)
            )
            conn.execute(
                update(BLACKLIST)
                .where(BLACKLIST.c.case_id == case_no, BLACKLIST.c.removed_at.is_(None))
                .values(removed_at=at, removed_by=by)
            )
            self._audit(
                conn,
                by,
                "pardon",
                row.room_id,
                row.contact_id,
                case_no,
                {"reason": reason} if reason else {},
                at,
            )
            new = conn.execute(select(CASES).where(CASES.c.id == case_no)).one()
        mine = self._offences.get(row.contact_id, [])
        mine[:] = [o for o in mine if not (o.room_id == row.room_id and o.message_id == row.message_id)]
        self._drop_mutes(row.room_id, row.contact_id, at)
        return _case_view(new)

    @_db
    def add_appeal(self, case_no: int, contact_id: str, text_: str, at: datetime | None = None) -> AppealView:
        at = at or utcnow()
        with self._tx() as conn:
            self._require_case(conn, case_no)
            aid = conn.execute(
                insert(APPEALS).values(
                    case_id=case_no, contact_id=contact_id, text=text_, state="open", created_at=at
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            return _appeal_view(conn.execute(select(APPEALS).where(APPEALS.c.id == aid)).one())

    @_db
    def decide_appeal(
        self, appeal_id: int, accepted: bool, by: str, answer: str = "", at: datetime | None = None
    ) -> AppealView:
        """Accept (the case is pardoned) or reject an appeal; audited."""
        at = at or utcnow()
        with self._tx() as conn:
            row = conn.execute(select(APPEALS).where(APPEALS.c.id == appeal_id)).first()
            if row is None:
                raise QunguardError(f"no appeal {appeal_id}")
            state = "accepted" if accepted else "rejected"
            conn.execute(
                update(APPEALS)
                .where(APPEALS.c.id == appeal_id)
                .values(state=state, decided_by=by, decided_at=at, answer=answer)
            )
            case = self._require_case(conn, row.case_id)
            self._audit(
                conn,
                by,
                f"appeal_{state}",
                case.room_id,
                row.contact_id,
                row.case_id,
                {"appeal": appeal_id},
                at,
            )
        if accepted:
            self.pardon(row.case_id, by, reason=answer or "appeal accepted", at=at)
        with self.engine.connect() as conn:
            return _appeal_view(conn.execute(select(APPEALS).where(APPEALS.c.id == appeal_id)).one())

    @_db
    def appeals(self, *, state: str | None = "open", case_no: int | None = None) -> list[AppealView]:
        q = select(APPEALS).order_by(APPEALS.c.id)
        if state:
            q = q.where(APPEALS.c.state == state)
        if case_no is not None:
            q = q.where(APPEALS.c.case_id == case_no)
        with self.engine.connect() as conn:
            return [_appeal_view(r) for r in conn.execute(q)]

    @_db
    def request_review(
        self,
        case_no: int,
        action_kind: ActionKind | str,
        deadline: datetime,
        default_decision: str = "drop",
        *,
        position: int | None = None,
        at: datetime | None = None,
    ) -> ReviewView:
        """A drastic action now waits for an admin (``同意 N`` / ``驳回 N``) until
        ``deadline``, then ``default_decision`` (act | drop)."""
        kind = action_kind.value if isinstance(action_kind, ActionKind) else action_kind
        at = at or utcnow()
        with self._tx() as conn:
            self._require_case(conn, case_no)
            rid = conn.execute(
                insert(REVIEWS).values(
                    case_id=case_no,
                    action_kind=kind,
                    action_position=position,
                    requested_at=at,
                    deadline=deadline,
                    default_decision=default_decision,
                    state="pending",
                    bot_id=self.bot_id,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            return _review_view(conn.execute(select(REVIEWS).where(REVIEWS.c.id == rid)).one())

    @_db
    def decide_review(
        self, review_id: int, approved: bool | None, by: str = "", at: datetime | None = None
    ) -> ReviewView:
        """``approved`` True/False for an admin's 同意/驳回; None when the deadline
        passed (state timed_out). Only a pending review changes; audited."""
        at = at or utcnow()
        state = "timed_out" if approved is None else ("approved" if approved else "rejected")
        with self._tx() as conn:
            row = conn.execute(select(REVIEWS).where(REVIEWS.c.id == review_id)).first()
            if row is None:
                raise QunguardError(f"no review request {review_id}")
            if row.state == "pending":
                conn.execute(
                    update(REVIEWS)
                    .where(REVIEWS.c.id == review_id)
                    .values(state=state, decided_by=by, decided_at=at)
                )
                case = self._require_case(conn, row.case_id)
                self._audit(
                    conn,
                    by or self.bot_id,
                    f"review_{state}",
                    case.room_id,
                    case.contact_id,
                    row.case_id,
                    {"review": review_id, "action": row.action_kind},
                    at,
                )
            return _review_view(conn.execute(select(REVIEWS).where(REVIEWS.c.id == review_id)).one())

    @_db
    def pending_reviews(self, *, due_before: datetime | None = None) -> list[ReviewView]:
        q = (
            select(REVIEWS)
            .where(REVIEWS.c.state == "pending", REVIEWS.c.bot_id == self.bot_id)
            .order_by(REVIEWS.c.deadline)
        )
        if due_before is not None:
            q = q.where(REVIEWS.c.deadline <= due_before)
        with self.engine.connect() as conn:
            return [_review_view(r) for r in conn.execute(q)]

    @_db
    def audit(
        self,
        actor_id: str,
        command: str,
        *,
        room_id: str | None = None,
        target_id: str | None = None,
        case_no: int | None = None,
        detail: dict[str, Any] | None = None,
        at: datetime | None = None,
    ) -> int:
        """Record an admin command or decision: who, when, what."""
        with self._tx() as conn:
            return self._audit(
                conn, actor_id, command, room_id, target_id, case_no, detail or {}, at or utcnow()
            )

    @_db
    def audit_log(
        self, *, room_id: str | None = None, since: datetime | None = None, limit: int = 100
    ) -> list[AuditView]:
        q = select(AUDIT).order_by(AUDIT.c.at.desc(), AUDIT.c.id.desc()).limit(limit)
        if room_id:
            q = q.where(AUDIT.c.room_id == room_id)
        if since:
            q = q.where(AUDIT.c.at >= since)
        with self.engine.connect() as conn:
            return [_audit_view(r) for r in conn.execute(q)]
