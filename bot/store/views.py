"""What the store hands back: plain frozen dataclasses, never ORM objects, so
callers never import sqlalchemy."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class RoomView:
    id: str
    topic: str = ""
    moderated: bool = False
    enabled_by: str | None = None
    enabled_at: datetime | None = None
    bot_id: str = ""
    owner_id: str = ""
    admin_ids: tuple[str, ...] = ()
    member_count: int = 0
    member_cap: int = 500
    cap_alerted_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class MemberView:
    room_id: str
    contact_id: str
    display_name: str = ""
    joined_at: datetime | None = None
    inviter_id: str = ""
    left_at: datetime | None = None
    last_spoke_at: datetime | None = None
    message_count: int = 0
    nickname_ok: bool | None = None
    intro_done_at: datetime | None = None
    exempt: bool = False
    names: tuple[tuple[str, datetime], ...] = ()
    """Display-name history, oldest first (filled in by :meth:`Store.member`)."""

    @property
    def present(self) -> bool:
        """In the room now (joined, or seen speaking, and not left since)."""
        return self.left_at is None


@dataclass(frozen=True, slots=True)
class ViolationView:
    id: int
    case_no: int
    room_id: str
    message_id: str
    at: datetime
    sender_id: str
    rule: str
    category: str
    severity: str
    evidence: tuple[dict[str, str], ...] = ()
    excerpt: str | None = None
    """None once purged (retention)."""
    message_type: str = "text"


@dataclass(frozen=True, slots=True)
class ActionView:
    position: int
    kind: str
    state: str
    at: datetime
    params: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    detail: str = ""
    actor_id: str = ""
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CaseView:
    case_no: int
    room_id: str
    contact_id: str
    message_id: str
    created_at: datetime
    severity: str
    state: str
    """open | done | failed | awaiting_review | pardoned"""
    rules: tuple[str, ...] = ()
    pardoned_by: str | None = None
    pardoned_at: datetime | None = None
    bot_id: str = ""


@dataclass(frozen=True, slots=True)
class MuteView:
    id: int
    room_id: str
    contact_id: str
    starts_at: datetime
    until: datetime
    case_no: int | None = None
    reason: str = ""
    muted_by: str = ""
    lifted_at: datetime | None = None
    lifted_by: str | None = None
    ended_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class BlacklistView:
    id: int
    contact_id: str
    room_id: str | None
    """None: every room."""
    bot_id: str | None
    """None: every bot sharing the database."""
    reason: str = ""
    added_by: str = ""
    added_at: datetime | None = None
    case_no: int | None = None
    removed_at: datetime | None = None
    removed_by: str | None = None


@dataclass(frozen=True, slots=True)
class AppealView:
    id: int
    case_no: int
    contact_id: str
    text: str
    state: str
    """open | accepted | rejected"""
    created_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    answer: str = ""


@dataclass(frozen=True, slots=True)
class ReviewView:
    id: int
    case_no: int
    action_kind: str
    requested_at: datetime
    deadline: datetime
    default_decision: str
    """act | drop"""
    state: str
    """pending | approved | rejected | timed_out"""
    action_position: int | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuditView:
    id: int
    at: datetime
    actor_id: str
    command: str
    room_id: str | None = None
    target_id: str | None = None
    case_no: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CaseStory:
    """Everything about one case: what ``qunguard case N`` prints."""

    case: CaseView
    violations: tuple[ViolationView, ...] = ()
    actions: tuple[ActionView, ...] = ()
    mutes: tuple[MuteView, ...] = ()
    appeals: tuple[AppealView, ...] = ()
    reviews: tuple[ReviewView, ...] = ()
    audit: tuple[AuditView, ...] = ()


@dataclass(frozen=True, slots=True)
class DayCounts:
    room_id: str
    day: date
    messages: int = 0
    speakers: int = 0
    joins: int = 0
    leaves: int = 0
    violations: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Outage:
    """The database is unreachable: what the app tells the admins, once."""

    since: datetime
    reason: str
    journal: str
    """Path of the journal that holds what could not be written."""


@dataclass(frozen=True, slots=True)
class PurgeResult:
    excerpts: int = 0
    names: int = 0
    messages: int = 0
