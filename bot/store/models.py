"""The tables of the qunguard store (SQLAlchemy 2.0 declarative).

This is the complete schema: later features (admin commands, appeals, human
review, lifecycle deadlines, schedules, reports) write through repository
methods on these tables without needing migrations of their own. Alembic's
``migrations/env.py`` reads :data:`Base.metadata`; the app never calls
``create_all``.

Conventions: ids of WeChat things (rooms, contacts, messages) are strings;
every timestamp is a timezone-aware UTC :class:`UTCDateTime`; states are
short strings (listed beside each column) so a new state needs no migration;
``bot_id`` marks rows whose meaning depends on which bot account wrote them,
since several bot processes may share one PostgreSQL database.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.store.db import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID = String(128)
"""WeChat ids (wxid_..., 12345@chatroom, message ids)."""


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


class Room(Base):
    __tablename__ = "rooms"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    topic: Mapped[str] = mapped_column(String(255), default="")
    moderated: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled_by: Mapped[str | None] = mapped_column(ID)
    enabled_at: Mapped[datetime | None]
    bot_id: Mapped[str] = mapped_column(ID, default="", index=True)
    owner_id: Mapped[str] = mapped_column(ID, default="")
    admin_ids: Mapped[list[Any]] = mapped_column(default=list)
    """Cache of the room's admins as WeChat last reported them."""
    member_count: Mapped[int] = mapped_column(Integer, default=0)
    member_cap: Mapped[int] = mapped_column(Integer, default=500)
    cap_alerted_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Member(Base):
    __tablename__ = "members"
    __table_args__ = (
        UniqueConstraint("room_id", "contact_id"),
        Index("ix_members_contact_id", "contact_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    contact_id: Mapped[str] = mapped_column(ID)
    display_name: Mapped[str] = mapped_column(String(255), default="")
    joined_at: Mapped[datetime | None]
    inviter_id: Mapped[str] = mapped_column(ID, default="")
    left_at: Mapped[datetime | None]
    last_spoke_at: Mapped[datetime | None]
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    nickname_ok: Mapped[bool | None] = mapped_column(Boolean)
    """None: not checked yet."""
    intro_done_at: Mapped[datetime | None]
    exempt: Mapped[bool] = mapped_column(Boolean, default=False)
    exempt_by: Mapped[str] = mapped_column(ID, default="")


class MemberName(Base):
    """Display-name history: a new row each time a member shows a new name."""

    __tablename__ = "member_names"
    __table_args__ = (Index("ix_member_names_room_contact", "room_id", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    contact_id: Mapped[str] = mapped_column(ID)
    name: Mapped[str] = mapped_column(String(255))
    seen_at: Mapped[datetime]


class Case(Base):
    """One message's violations and what was done about them.

    ``id`` is the case number shown to members (案件号)."""

    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("room_id", "message_id"),
        Index("ix_cases_contact_created", "contact_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    contact_id: Mapped[str] = mapped_column(ID)
    message_id: Mapped[str] = mapped_column(ID)
    created_at: Mapped[datetime]
    severity: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(24), default="open")
    """open | done | failed | awaiting_review | pardoned"""
    bot_id: Mapped[str] = mapped_column(ID, default="")
    pardoned_by: Mapped[str | None] = mapped_column(ID)
    pardoned_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class ViolationRow(Base):
    __tablename__ = "violations"
    __table_args__ = (
        UniqueConstraint("room_id", "message_id", "rule"),
        Index("ix_violations_sender_at", "sender_id", "at"),
        Index("ix_violations_room_at", "room_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[str] = mapped_column(ID)
    message_id: Mapped[str] = mapped_column(ID)
    at: Mapped[datetime]
    sender_id: Mapped[str] = mapped_column(ID)
    rule: Mapped[str] = mapped_column(String(128))
    category: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    evidence: Mapped[list[Any]] = mapped_column(default=list)
    """[{"check", "span", "detail"}]; spans are emptied by purge."""
    excerpt: Mapped[str | None] = mapped_column(Text)
    """A short excerpt of the message: personal data, purged after retention.excerpt_days."""
    message_type: Mapped[str] = mapped_column(String(24), default="text")
    purged_at: Mapped[datetime | None]


class CaseAction(Base):
    __tablename__ = "case_actions"
    __table_args__ = (UniqueConstraint("case_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    """Order within the case; the ladder's actions are 0..n-1, later ones follow."""
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reason: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(24), default="decided")
    """decided | done | failed | dry_run | awaiting_review | requested_admins | dropped | fallback_mention"""
    detail: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[str] = mapped_column(ID, default="")
    """Who acted: the bot's id, or the admin who confirmed or did it by hand."""
    at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Mute(Base):
    __tablename__ = "mutes"
    __table_args__ = (Index("ix_mutes_room_contact_until", "room_id", "contact_id", "until"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    contact_id: Mapped[str] = mapped_column(ID)
    starts_at: Mapped[datetime]
    until: Mapped[datetime]
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    muted_by: Mapped[str] = mapped_column(ID, default="")
    lifted_at: Mapped[datetime | None]
    lifted_by: Mapped[str | None] = mapped_column(ID)
    ended_at: Mapped[datetime | None]
    """When the bot saw the mute run out (and told the member): each end is handled once."""


class BlacklistEntry(Base):
    __tablename__ = "blacklist"
    __table_args__ = (Index("ix_blacklist_contact", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[str] = mapped_column(ID)
    room_id: Mapped[str | None] = mapped_column(ID)
    """None: every room (of this bot, or of every bot when bot_id is None too)."""
    bot_id: Mapped[str | None] = mapped_column(ID)
    """None: every bot sharing this database."""
    reason: Mapped[str] = mapped_column(Text, default="")
    added_by: Mapped[str] = mapped_column(ID, default="")
    added_at: Mapped[datetime]
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    removed_at: Mapped[datetime | None]
    removed_by: Mapped[str | None] = mapped_column(ID)


class Appeal(Base):
    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[str] = mapped_column(ID)
    text: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default="open")
    """open | accepted | rejected"""
    created_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(ID)
    decided_at: Mapped[datetime | None]
    answer: Mapped[str] = mapped_column(Text, default="")


class ReviewRequest(Base):
    """A drastic action waiting for an admin's 同意 / 驳回."""

    __tablename__ = "review_requests"
    __table_args__ = (Index("ix_review_requests_state_deadline", "state", "deadline"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    action_kind: Mapped[str] = mapped_column(String(32))
    action_position: Mapped[int | None] = mapped_column(Integer)
    requested_at: Mapped[datetime]
    deadline: Mapped[datetime]
    default_decision: Mapped[str] = mapped_column(String(16), default="drop")
    """act | drop: what happens at the deadline"""
    state: Mapped[str] = mapped_column(String(16), default="pending")
    """pending | approved | rejected | timed_out"""
    decided_by: Mapped[str | None] = mapped_column(ID)
    decided_at: Mapped[datetime | None]
    bot_id: Mapped[str] = mapped_column(ID, default="")


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor_id: Mapped[str] = mapped_column(ID)
    command: Mapped[str] = mapped_column(String(64))
    """the admin command or decision: warn, mute, pardon, approve, appeal_accept, ..."""
    room_id: Mapped[str | None] = mapped_column(ID)
    target_id: Mapped[str | None] = mapped_column(ID)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    bot_id: Mapped[str] = mapped_column(ID, default="")


class DailyCount(Base):
    """Per room and day. Active speakers are counted from
    :class:`DailySpeakerCount` (one row per member who spoke that day)."""

    __tablename__ = "daily_counts"

    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    messages: Mapped[int] = mapped_column(Integer, default=0)
    joins: Mapped[int] = mapped_column(Integer, default=0)
    leaves: Mapped[int] = mapped_column(Integer, default=0)
    violations: Mapped[int] = mapped_column(Integer, default=0)


class DailyRuleCount(Base):
    __tablename__ = "daily_rule_counts"

    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    rule: Mapped[str] = mapped_column(String(128), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class DailySpeakerCount(Base):
    """Messages per member and day: top contributors, silence reports."""

    __tablename__ = "daily_speaker_counts"

    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    contact_id: Mapped[str] = mapped_column(ID, primary_key=True)
    messages: Mapped[int] = mapped_column(Integer, default=0)


class FeaturedMessage(Base):
    __tablename__ = "featured_messages"
    __table_args__ = (UniqueConstraint("room_id", "message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(ID)
    text: Mapped[str] = mapped_column(Text, default="")
    sender_id: Mapped[str] = mapped_column(ID, default="")
    sender_name: Mapped[str] = mapped_column(String(255), default="")
    said_at: Mapped[datetime | None]
    marked_by: Mapped[str] = mapped_column(ID, default="")
    at: Mapped[datetime]


class LifecycleDeadline(Base):
    __tablename__ = "lifecycle_deadlines"
    __table_args__ = (
        UniqueConstraint("room_id", "contact_id", "kind"),
        Index("ix_lifecycle_deadlines_state_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    contact_id: Mapped[str] = mapped_column(ID)
    kind: Mapped[str] = mapped_column(String(16))
    """nickname | intro"""
    due_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16), default="pending")
    """pending | reminded | done | expired | cancelled"""
    reminded_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class SentNotice(Base):
    """A scheduled notice that went out: never repeated after a restart."""

    __tablename__ = "sent_notices"
    __table_args__ = (UniqueConstraint("notice_id", "room_id", "fire_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[str] = mapped_column(String(128))
    room_id: Mapped[str] = mapped_column(ID)
    fire_at: Mapped[datetime]
    sent_at: Mapped[datetime]
    bot_id: Mapped[str] = mapped_column(ID, default="")


class OutgoingMessage(Base):
    """A message waiting in the outbox, so a restart sends it rather than losing it."""

    __tablename__ = "outgoing_messages"
    __table_args__ = (Index("ix_outgoing_messages_bot_state", "bot_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bot_id: Mapped[str] = mapped_column(ID, default="")
    room_id: Mapped[str | None] = mapped_column(ID)
    to_id: Mapped[str | None] = mapped_column(ID)
    """A private message's addressee; None for a room message."""
    mention_ids: Mapped[list[Any]] = mapped_column(default=list)
    text: Mapped[str] = mapped_column(Text)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    not_before: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(16), default="pending")
    """pending | sent | failed"""
    sent_at: Mapped[datetime | None]
    detail: Mapped[str] = mapped_column(Text, default="")
