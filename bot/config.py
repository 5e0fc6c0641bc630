"""config.yaml -> a typed, frozen :class:`Config`, passed down explicitly.

Every key is documented, with an example, in ``config.example.yaml``; a test
keeps the two in step. A missing file means the embedded defaults: SQLite in
the working directory, the bundled rules, the embedded local puppet.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

from bot.errors import ConfigError
from bot.yamlsource import LineDict, YamlSyntaxError, load_yaml

BUNDLED_RULES = Path(__file__).resolve().parent.parent / "rules" / "rules.yaml"


@dataclass(frozen=True)
class RoomSelector:
    """Selects rooms by id, or by a substring of the room name."""

    id: str = ""
    name_contains: str = ""

    def matches(self, room_id: str, topic: str) -> bool:
        if self.id:
            return self.id == room_id
        return bool(self.name_contains) and self.name_contains in (topic or "")


@dataclass(frozen=True)
class PuppetConfig:
    endpoint: str = ""
    token: str = ""
    reconnect_max_s: float = 30.0


@dataclass(frozen=True)
class BotConfig:
    name: str = "群管机器人"
    admins: tuple[str, ...] = ()
    helper_bots: tuple[str, ...] = ()
    accept_invites_from: str = "admins"  # admins | anyone
    rooms: tuple[RoomSelector, ...] = ()
    introduce_in_rooms: bool = True  # self-introduction once in each room `rooms` selects
    room_scan_interval_s: int = 600


@dataclass(frozen=True)
class OutboxConfig:
    per_minute: int = 6
    per_hour: int = 100
    merge_window_s: float = 3.0
    min_interval_s: float = 2.0
    max_attempts: int = 3
    kick_interval_s: float = 3.0


@dataclass(frozen=True)
class ModerationConfig:
    dry_run: bool = False
    dry_run_rooms: tuple[str, ...] = ()
    private_warning_fallback: str = "mention"  # mention | none
    blacklist_scope: str = "room"  # room | bot | all
    public_notice_shows_text: bool = False
    kick_confirm_timeout_s: int = 600
    review: bool = False  # actions listed in rules.yaml ladder.review wait for an admin's 同意/驳回
    review_timeout_min: int = 30
    review_default: str = "act"  # act | drop, when nobody decides in time


@dataclass(frozen=True)
class RetentionConfig:
    excerpt_days: int = 180
    auto_purge: bool = True  # the bot purges by excerpt_days once a day (bot.jobs.retention_purge)
    purge_at: str = "04:30"  # HH:MM in schedule.timezone


@dataclass(frozen=True)
class NoticeConfig:
    room: str = ""
    cron: str = ""
    text: str = ""
    id: str = ""


@dataclass(frozen=True)
class ScheduleConfig:
    timezone: str = "Asia/Shanghai"
    quiet_hours: str = ""  # "23:00-07:30"
    daily_report_at: str = "21:00"
    report_period: str = "daily"  # daily | weekly | off
    silence_report_cron: str = "0 10 * * 1"
    silence_days: tuple[int, ...] = (7, 14, 90)
    notices: tuple[NoticeConfig, ...] = ()


@dataclass(frozen=True)
class LifecycleRoomConfig:
    """Per-room lifecycle settings; an empty value (or -1 for hours) keeps the lifecycle default."""

    room: str = ""
    name_contains: str = ""
    welcome: str = ""
    nickname_pattern: str = ""
    nickname_deadline_h: int = -1
    nickname_action: str = ""
    intro_deadline_h: int = -1
    intro_template: str = ""
    intro_keywords: tuple[str, ...] = ()
    intro_action: str = ""

    def matches(self, room_id: str, topic: str) -> bool:
        return RoomSelector(self.room, self.name_contains).matches(room_id, topic)


DEFAULT_WELCOME = "欢迎 {name} 入群！邀请人：{inviter}。请先看看群规：\n{rules}"
"""The welcome when the config names none: admins want new members to see the rules at once
(``lifecycle.welcome: ""`` switches it off)."""


@dataclass(frozen=True)
class LifecycleConfig:
    welcome: str = DEFAULT_WELCOME
    welcome_merge_s: float = 20.0  # joins this soon after a welcome are welcomed together; 0: each at once
    nickname_pattern: str = ""
    nickname_deadline_h: int = 24
    nickname_action: str = "notify_admins"  # remind | notify_admins | kick
    intro_deadline_h: int = 0
    intro_min_length: int = 0
    intro_keywords: tuple[str, ...] = ()
    intro_template: str = ""
    intro_action: str = "notify_admins"
    member_cap_alert: int = 480
    silence_remove_days: int = 0  # 0: nobody is removed for silence
    silence_nudge: str = ""  # private note to members in the first silence bucket; "" for none
    rooms: tuple[LifecycleRoomConfig, ...] = ()


@dataclass(frozen=True)
class Config:
    rules: str = ""
    database: str = "sqlite:///qunguard.db"
    data_dir: str = ".qunguard"
    log_level: str = "INFO"
    bot: BotConfig = field(default_factory=BotConfig)
    puppet: PuppetConfig = field(default_factory=PuppetConfig)
    outbox: OutboxConfig = field(default_factory=OutboxConfig)
    moderation: ModerationConfig = field(default_factory=ModerationConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    lifecycle: LifecycleConfig = field(default_factory=LifecycleConfig)
    source: str = ""

    @property
    def rules_path(self) -> Path:
        return Path(self.rules) if self.rules else BUNDLED_RULES

    @property
    def puppet_endpoint(self) -> str:
        return self.puppet.endpoint or os.environ.get("WECHATY_PUPPET_SERVICE_ENDPOINT", "")

    @property
    def puppet_token(self) -> str:
        return self.puppet.token or os.environ.get("WECHATY_PUPPET_SERVICE_TOKEN", "")


def _convert(value: Any, hint: Any, path: str, line: int, key: str) -> Any:
    origin = get_origin(hint)
    if is_dataclass(hint):
        if not isinstance(value, dict):
            raise ConfigError("expected a mapping", path, line, key)
        return _build(hint, value, path, key)
    if origin is tuple:
        (item_hint, _ellipsis) = get_args(hint)
        if value is None:
            return ()
        if not isinstance(value, list):
            value = [value]
        lines = getattr(value, "lines", [])
        return tuple(
            _convert(v, item_hint, path, lines[i] if i < len(lines) else line, f"{key}[{i}]")
            for i, v in enumerate(value)
        )
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"expected true or false, got {value!r}", path, line, key)
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"expected a whole number, got {value!r}", path, line, key)
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"expected a number, got {value!r}", path, line, key)
        return float(value)
    if hint is str:
        if value is None:
            return ""
        if not isinstance(value, (str, int, float)):
            raise ConfigError(f"expected text, got {type(value).__name__}", path, line, key)
        return str(value)
    return value


def _build(cls: Any, data: dict[str, Any], path: str, prefix: str = "") -> Any:
    hints = get_type_hints(cls)
    known = {f.name for f in fields(cls)} - {"source"}
    line_of = data.line_of if isinstance(data, LineDict) else (lambda _k: None)
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if key not in known:
            raise ConfigError(f"unknown key (known: {', '.join(sorted(known))})", path, line_of(key), dotted)
        kwargs[key] = _convert(value, hints[key], path, line_of(key) or 0, dotted)
    return cls(**kwargs)


_CHOICES = {
    ("bot", "accept_invites_from"): ("admins", "anyone"),
    ("moderation", "private_warning_fallback"): ("mention", "none"),
    ("moderation", "blacklist_scope"): ("room", "bot", "all"),
    ("moderation", "review_default"): ("act", "drop"),
    ("schedule", "report_period"): ("daily", "weekly", "off"),
    ("lifecycle", "nickname_action"): ("remind", "notify_admins", "kick"),
    ("lifecycle", "intro_action"): ("remind", "notify_admins", "kick"),
}


def _validate(cfg: Config, path: str) -> None:
    for (section, key), choices in _CHOICES.items():
        value = getattr(getattr(cfg, section), key)
        if value not in choices:
            raise ConfigError(f"{value!r} is not one of {', '.join(choices)}", path, None, f"{section}.{key}")
    if cfg.schedule.quiet_hours and not re.fullmatch(
        r"\d{1,2}:\d{2}-\d{1,2}:\d{2}", cfg.schedule.quiet_hours
    ):
        raise ConfigError("expected HH:MM-HH:MM", path, None, "schedule.quiet_hours")
    _validate_schedule(cfg, path)


def _validate_schedule(cfg: Config, path: str) -> None:
    """Times and cron expressions of the schedule section, named by key when wrong."""
    from apscheduler.triggers.cron import CronTrigger

    def cron(expression: str, key: str) -> None:
        try:
            CronTrigger.from_crontab(expression)
        except ValueError as exc:
            raise ConfigError(
                f"{expression!r} is not a cron expression (minute hour day month weekday): {exc}",
                path,
                None,
                key,
            ) from None

    if not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", cfg.schedule.daily_report_at.strip()):
        raise ConfigError(
            f"expected HH:MM, got {cfg.schedule.daily_report_at!r}", path, None, "schedule.daily_report_at"
        )
    if not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", cfg.retention.purge_at.strip()):
        raise ConfigError(f"expected HH:MM, got {cfg.retention.purge_at!r}", path, None, "retention.purge_at")
    if cfg.retention.excerpt_days < 1:
        raise ConfigError(
            f"expected a number of days of at least 1, got {cfg.retention.excerpt_days}",
            path,
            None,
            "retention.excerpt_days",
        )
    if cfg.schedule.silence_report_cron:
        cron(cfg.schedule.silence_report_cron, "schedule.silence_report_cron")
    for i, r in enumerate(cfg.lifecycle.rooms):
        for key in ("nickname_action", "intro_action"):
            value = getattr(r, key)
            if value and value not in ("remind", "notify_admins", "kick"):
                raise ConfigError(
                    f"{value!r} is not one of remind, notify_admins, kick",
                    path,
                    None,
                    f"lifecycle.rooms[{i}].{key}",
                )
    ids: set[str] = set()
    for i, notice in enumerate(cfg.schedule.notices):
        key = f"schedule.notices[{i}]"
        if not notice.cron or not notice.text:
            raise ConfigError("a notice needs a cron and a text", path, None, key)
        cron(notice.cron, f"{key}.cron")
        nid = notice.id or f"notice-{i + 1}"
        if nid in ids:
            raise ConfigError(f"two notices have the id {nid!r}", path, None, f"{key}.id")
        ids.add(nid)


def parse_config(text: str, path: str = "config.yaml") -> Config:
    try:
        data = load_yaml(text, path)
    except YamlSyntaxError as exc:
        raise ConfigError(exc.message, path, exc.line) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("the top level must be a mapping", path, 1)
    cfg = _build(Config, data, path)
    _validate(cfg, path)
    base = Path(path).resolve().parent
    rules = cfg.rules
    if rules and not Path(rules).is_absolute():
        rules = str(base / rules)
    return Config(**{**{f.name: getattr(cfg, f.name) for f in fields(cfg)}, "rules": rules, "source": path})


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Load ``path``, or ``$QUNGUARD_CONFIG``, or ``./config.yaml`` if it exists;
    otherwise the embedded defaults."""
    candidate = (
        path or os.environ.get("QUNGUARD_CONFIG") or ("config.yaml" if Path("config.yaml").exists() else None)
    )
    if candidate is None:
        return Config()
    p = Path(candidate)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", str(p)) from None
    return parse_config(text, str(p))
