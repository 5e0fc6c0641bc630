"""The lifecycle settings of one room, and quiet hours, from the config.

``lifecycle.rooms`` entries override the lifecycle defaults for the rooms they
select (by id or by part of the name); the first matching entry wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

import re2

from bot.config import LifecycleConfig, ScheduleConfig
from bot.errors import ConfigError

ACTIONS = ("remind", "notify_admins", "kick")

_SEPARATORS = "-－—_·/"
_TEMPLATE = re.compile(
    rf"[^\s{re.escape(_SEPARATORS)}^$\[\](){{}}*+?.|\\]+(?:[{re.escape(_SEPARATORS)}][^\s{re.escape(_SEPARATORS)}^$\[\](){{}}*+?.|\\]+)+"
)


@dataclass(frozen=True)
class NicknameRule:
    """A nickname rule: a template such as ``单位-姓名`` (parts joined by a separator,
    any of ``- － — _ · /`` accepted), or a regular expression (RE2: no ReDoS)."""

    source: str
    shown: str
    """What members are told to follow."""
    _regex: object

    @classmethod
    def parse(cls, pattern: str, key: str = "lifecycle.nickname_pattern") -> NicknameRule | None:
        pattern = pattern.strip()
        if not pattern:
            return None
        if _TEMPLATE.fullmatch(pattern):
            n = len(re.split(f"[{re.escape(_SEPARATORS)}]", pattern))
            part = f"[^\\s{re.escape(_SEPARATORS)}]+"
            sep = f"\\s*[{re.escape(_SEPARATORS)}]\\s*"
            regex = "^\\s*" + sep.join([part] * n) + "\\s*$"
            shown = pattern
        else:
            regex, shown = pattern, pattern
        opts = re2.Options()
        opts.log_errors = False  # the error is ours to report, with the key
        try:
            compiled = re2.compile(regex, opts)
        except re2.error as exc:
            reason = exc.args[0] if exc.args else exc
            if isinstance(reason, bytes):
                reason = reason.decode("utf-8", "replace")
            raise ConfigError(
                f"nickname pattern {pattern!r} is not a valid expression: {reason}", key=key
            ) from None
        return cls(pattern, shown, compiled)

    def ok(self, name: str) -> bool:
        return bool(name) and self._regex.search(name) is not None  # type: ignore[attr-defined]


@dataclass(frozen=True)
class RoomRules:
    welcome: str
    nickname: NicknameRule | None
    nickname_deadline: timedelta
    nickname_action: str
    intro_deadline: timedelta | None
    intro_min_length: int
    intro_keywords: tuple[str, ...]
    intro_template: str
    intro_action: str

    def intro_ok(self, text: str) -> bool:
        """A message that counts as the self-introduction."""
        t = text.strip()
        if not t or t.startswith(("#", "＃")):
            return False
        if len(t) < self.intro_min_length:
            return False
        return all(k in t for k in self.intro_keywords)


def room_rules(cfg: LifecycleConfig, room_id: str, topic: str) -> RoomRules:
    o = next((r for r in cfg.rooms if r.matches(room_id, topic)), None)
    nick_h = (
        o.nickname_deadline_h if o is not None and o.nickname_deadline_h >= 0 else cfg.nickname_deadline_h
    )
    intro_h = o.intro_deadline_h if o is not None and o.intro_deadline_h >= 0 else cfg.intro_deadline_h
    return RoomRules(
        welcome=(o.welcome if o is not None and o.welcome else cfg.welcome),
        nickname=NicknameRule.parse(
            o.nickname_pattern if o is not None and o.nickname_pattern else cfg.nickname_pattern
        ),
        nickname_deadline=timedelta(hours=max(nick_h, 0)),
        nickname_action=(o.nickname_action if o is not None and o.nickname_action else cfg.nickname_action),
        intro_deadline=timedelta(hours=intro_h) if intro_h > 0 else None,
        intro_min_length=cfg.intro_min_length,
        intro_keywords=(o.intro_keywords if o is not None and o.intro_keywords else cfg.intro_keywords),
        intro_template=(o.intro_template if o is not None and o.intro_template else cfg.intro_template),
        intro_action=(o.intro_action if o is not None and o.intro_action else cfg.intro_action),
    )


@dataclass(frozen=True)
class QuietHours:
    """A daily window (local time) in which the bot says nothing but urgent notices to admins.
    ``23:00-07:30`` crosses midnight; an empty window is never quiet."""

    start: time | None = None
    end: time | None = None
    tz: tzinfo | None = None

    @classmethod
    def parse(cls, spec: str, tz: tzinfo) -> QuietHours:
        spec = (spec or "").strip()
        if not spec:
            return cls(tz=tz)
        m = re.fullmatch(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})", spec)
        if m is None:
            raise ConfigError("expected HH:MM-HH:MM", key="schedule.quiet_hours")
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59:
            raise ConfigError(f"{spec!r} is not a time range", key="schedule.quiet_hours")
        return cls(time(h1, m1), time(0, 0) if h2 == 24 else time(h2, m2), tz)

    @classmethod
    def from_config(cls, cfg: ScheduleConfig, tz: tzinfo) -> QuietHours:
        return cls.parse(cfg.quiet_hours, tz)

    def _local(self, at: datetime) -> datetime:
        return at.astimezone(self.tz) if self.tz is not None else at

    def contains(self, at: datetime) -> bool:
        if self.start is None or self.end is None or self.start == self.end:
            return False
        t = self._local(at).time()
        if self.start < self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end

    def end_after(self, at: datetime) -> datetime:
        """When the quiet window that contains ``at`` ends (``at`` itself when not quiet)."""
        if not self.contains(at) or self.end is None:
            return at
        local = self._local(at)
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        if end <= local:
            end += timedelta(days=1)
        return end.astimezone(at.tzinfo) if at.tzinfo is not None else end


def parse_hhmm(value: str, key: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", value or "")
    if m is None or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise ConfigError(f"expected HH:MM, got {value!r}", key=key)
    return int(m.group(1)), int(m.group(2))


def check(cfg: LifecycleConfig, schedule: ScheduleConfig, tz: tzinfo, path: str = "") -> None:
    """Raise :class:`ConfigError` naming the file and key of a nickname pattern or quiet hours that cannot work."""
    try:
        NicknameRule.parse(cfg.nickname_pattern)
        for i, r in enumerate(cfg.rooms):
            NicknameRule.parse(r.nickname_pattern, f"lifecycle.rooms[{i}].nickname_pattern")
        QuietHours.from_config(schedule, tz)
    except ConfigError as exc:
        raise ConfigError(exc.message, path or "config.yaml", exc.line, exc.key) from None
