"""Counts for reports, retention (purge) and export."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, exists, func, select, union, update

from bot.store import models as m
from bot.store.base import (
    ACTIONS,
    APPEALS,
    AUDIT,
    BLACKLIST,
    CASES,
    DAILY,
    DAILY_RULES,
    DAILY_SPEAKERS,
    MEMBERS,
    MUTES,
    NAMES,
    OUTGOING,
    REVIEWS,
    ROOMS,
    VIOLATIONS,
    StoreBase,
    _db,
    utcnow,
)
from bot.store.views import (
    DayCounts,
    PurgeResult,
)

UNDECIDED_CASE_STATES = ("open", "awaiting_review")
"""Cases whose evidence retention never empties (see :meth:`ReportsMixin.purge`)."""


class ReportsMixin(StoreBase):
    @_db
    def daily_counts(self, room_id: str, since: date, until: date | None = None) -> list[DayCounts]:
        """Per-day counts of a room from ``since`` (inclusive), with violations by rule."""
        self.flush()
        q = select(DAILY).where(DAILY.c.room_id == room_id, DAILY.c.day >= since).order_by(DAILY.c.day)
        qr = select(DAILY_RULES).where(DAILY_RULES.c.room_id == room_id, DAILY_RULES.c.day >= since)
        if until is not None:
            q = q.where(DAILY.c.day <= until)
            qr = qr.where(DAILY_RULES.c.day <= until)
        qs = (
            select(DAILY_SPEAKERS.c.day, func.count())
            .where(DAILY_SPEAKERS.c.room_id == room_id, DAILY_SPEAKERS.c.day >= since)
            .group_by(DAILY_SPEAKERS.c.day)
        )
        if until is not None:
            qs = qs.where(DAILY_SPEAKERS.c.day <= until)
        with self.engine.connect() as conn:
            by_rule: dict[date, dict[str, int]] = defaultdict(dict)
            for r in conn.execute(qr):
                by_rule[r.day][r.rule] = r._mapping["count"]  # not Row.count, tuple's method
            speakers = {day: n for day, n in conn.execute(qs)}
            return [
                DayCounts(
                    r.room_id,
                    r.day,
                    r.messages,
                    speakers.get(r.day, 0),
                    r.joins,
                    r.leaves,
                    r.violations,
                    by_rule.get(r.day, {}),
                )
                for r in conn.execute(q)
            ]

    @_db
    def top_speakers(self, room_id: str, since: date, limit: int = 10) -> list[tuple[str, int]]:
        """(contact id, messages) of the most active members since a day."""
        self.flush()
        total = func.sum(DAILY_SPEAKERS.c.messages)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(DAILY_SPEAKERS.c.contact_id, total)
                .where(DAILY_SPEAKERS.c.room_id == room_id, DAILY_SPEAKERS.c.day >= since)
                .group_by(DAILY_SPEAKERS.c.contact_id)
                .order_by(total.desc(), DAILY_SPEAKERS.c.contact_id)
                .limit(limit)
            )
            return [(c, int(n)) for c, n in rows]

    @_db
    def purge(self, older_than: timedelta, now: datetime | None = None, *, actor: str = "") -> PurgeResult:
        """Personal data retention: empty message excerpts and matched spans of
        violations older than ``older_than``, drop old display-name history and
        sent message texts. Cases, violations, the blacklist and every count stay.

        Evidence someone may still have to judge is kept whatever its age: the
        violations of a case that is open or awaiting review, or that has an open
        appeal or a pending review, and the name history of that case's member in
        its room; and messages still waiting to be sent. Both
        ``qunguard purge`` and the daily ``retention-purge`` job call this. With
        ``actor``, one audit entry (``purge``) says what went, in the same transaction."""
        self.flush()  # counted but not yet written: old names too
        cutoff = (now or utcnow()) - older_than
        purged_at = now or utcnow()
        undecided = union(
            select(CASES.c.id).where(CASES.c.state.in_(UNDECIDED_CASE_STATES)),
            select(APPEALS.c.case_id).where(APPEALS.c.state == "open"),
            select(REVIEWS.c.case_id).where(REVIEWS.c.state == "pending"),
        )
        excerpts = 0
        with self._tx() as conn:
            while True:
                rows = conn.execute(
                    select(VIOLATIONS.c.id, VIOLATIONS.c.evidence)
                    .where(
                        VIOLATIONS.c.at < cutoff,
                        VIOLATIONS.c.purged_at.is_(None),
                        VIOLATIONS.c.case_id.not_in(undecided),
                    )
                    .limit(1000)
                ).all()
                if not rows:
                    break
                conn.execute(
                    update(VIOLATIONS)
                    .where(VIOLATIONS.c.id == bindparam("_id"))
                    .values(excerpt=None, evidence=bindparam("_ev"), purged_at=purged_at),
                    [{"_id": r.id, "_ev": [{**e, "span": ""} for e in (r.evidence or [])]} for r in rows],
                )
                excerpts += len(rows)
            judged_later = exists().where(  # what they called themselves may matter to the case
                CASES.c.room_id == NAMES.c.room_id,
                CASES.c.contact_id == NAMES.c.contact_id,
                CASES.c.id.in_(undecided),
            )
            names = conn.execute(delete(NAMES).where(NAMES.c.seen_at < cutoff, ~judged_later)).rowcount
            messages = conn.execute(
                update(OUTGOING)
                .where(OUTGOING.c.created_at < cutoff, OUTGOING.c.state != "pending", OUTGOING.c.text != "")
                .values(text="")
            ).rowcount
            result = PurgeResult(excerpts, names, messages)
            if actor:
                days = older_than / timedelta(days=1)
                detail = {"older_than_days": int(days) if days == int(days) else days, **asdict(result)}
                self._audit(conn, actor, "purge", None, None, None, detail, purged_at)
        return result

    @_db
    def export(self, room_id: str) -> Iterator[dict[str, Any]]:
        """Everything kept about a room, one record per row, each with its ``type``."""
        out: list[dict[str, Any]] = []
        tables = (
            ("room", ROOMS, ROOMS.c.id == room_id, ROOMS.c.id),
            ("member", MEMBERS, MEMBERS.c.room_id == room_id, MEMBERS.c.id),
            ("member_name", NAMES, NAMES.c.room_id == room_id, NAMES.c.id),
            ("case", CASES, CASES.c.room_id == room_id, CASES.c.id),
            ("violation", VIOLATIONS, VIOLATIONS.c.room_id == room_id, VIOLATIONS.c.id),
            (
                "action",
                ACTIONS,
                ACTIONS.c.case_id.in_(select(CASES.c.id).where(CASES.c.room_id == room_id)),
                ACTIONS.c.id,
            ),
            ("mute", MUTES, MUTES.c.room_id == room_id, MUTES.c.id),
            (
                "appeal",
                APPEALS,
                APPEALS.c.case_id.in_(select(CASES.c.id).where(CASES.c.room_id == room_id)),
                APPEALS.c.id,
            ),
            (
                "review",
                REVIEWS,
                REVIEWS.c.case_id.in_(select(CASES.c.id).where(CASES.c.room_id == room_id)),
                REVIEWS.c.id,
            ),
            ("blacklist", BLACKLIST, BLACKLIST.c.room_id == room_id, BLACKLIST.c.id),
            ("audit", AUDIT, AUDIT.c.room_id == room_id, AUDIT.c.id),
            ("daily", DAILY, DAILY.c.room_id == room_id, DAILY.c.day),
            ("daily_rule", DAILY_RULES, DAILY_RULES.c.room_id == room_id, DAILY_RULES.c.day),
            ("daily_speaker", DAILY_SPEAKERS, DAILY_SPEAKERS.c.room_id == room_id, DAILY_SPEAKERS.c.day),
            (
                "featured",
                m.FeaturedMessage.__table__,
                m.FeaturedMessage.room_id == room_id,
                m.FeaturedMessage.id,
            ),
        )
        self.flush()
        with self.engine.connect() as conn:
            for kind, table, where, order in tables:
                for r in conn.execute(select(table).where(where).order_by(order)):
                    out.append({"type": kind, **r._asdict()})
        return iter(out)
