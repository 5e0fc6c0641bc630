"""What the rule engine found in a message, with the evidence admins need."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class Severity(str, enum.Enum):
    """The four tiers of the group rules: 轻微 / 中度 / 严重 / 恶意."""

    MINOR = "minor"
    MODERATE = "moderate"
    SEVERE = "severe"
    MALICIOUS = "malicious"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def label_zh(self) -> str:
        return _ZH[self]


_RANK = {Severity.MINOR: 1, Severity.MODERATE: 2, Severity.SEVERE: 3, Severity.MALICIOUS: 4}
_ZH = {
    Severity.MINOR: "轻微",
    Severity.MODERATE: "中度",
    Severity.SEVERE: "严重",
    Severity.MALICIOUS: "恶意",
}

CATEGORY_ZH = {
    "ad": "广告",
    "flood": "刷屏",
    "banned_topic": "违规话题",
    "abuse": "人身攻击",
    "mute": "禁言期间发言",
}


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why a check fired: the check's name, what it matched in the normalised
    text (``span``), and a short human explanation."""

    check: str
    span: str = ""
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Violation:
    """One rule that fired on one message."""

    rule: str
    category: str
    severity: Severity
    room_id: str
    sender_id: str
    message_id: str
    evidence: tuple[Evidence, ...] = ()
    message: str = ""
    """The rule's warning text template, filled in later by the ladder."""
    description: str = ""

    @property
    def category_zh(self) -> str:
        return CATEGORY_ZH.get(self.category, self.category)


@dataclass(frozen=True, slots=True)
class PastOffence:
    """A violation already on record, as the penalty ladder sees history."""

    at: datetime
    rule: str
    category: str
    severity: Severity
    room_id: str = ""
    message_id: str = ""
