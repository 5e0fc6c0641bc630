"""What the bot may do about a violation.

The penalty ladder produces these; the application executes them through the
chat port (with dry run and human review in between) and records each one.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta


class ActionKind(str, enum.Enum):
    WARN_PRIVATE = "warn_private"
    WARN_PUBLIC = "warn_public"
    MUTE = "mute"
    KICK = "kick"
    BLACKLIST = "blacklist"
    NOTIFY_ADMINS = "notify_admins"
    NOTIFY_INVITER = "notify_inviter"

    @property
    def drastic(self) -> bool:
        """Actions a human may be asked to confirm first."""
        return self in (ActionKind.KICK, ActionKind.BLACKLIST)


@dataclass(frozen=True, slots=True)
class Action:
    kind: ActionKind
    room_id: str
    contact_id: str
    duration: timedelta | None = None
    """For ``mute``: how long. ``None`` elsewhere."""
    reason: str = ""
    """Short Chinese reason shown to the member and admins (already filled in)."""

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {"kind": self.kind.value}
        if self.duration is not None:
            out["duration_s"] = int(self.duration.total_seconds())
        return out
