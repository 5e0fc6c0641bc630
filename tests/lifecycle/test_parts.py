"""The small parts: nickname rules, quiet hours, cron slots."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.errors import ConfigError
from bot.lifecycle.jobs import last_fire
from bot.lifecycle.settings import NicknameRule, QuietHours

SH = ZoneInfo("Asia/Shanghai")
REGEX = "^[^-\\s]{2,20}-[^-\\s]{2,10}$"


@pytest.mark.parametrize(
    ("pattern", "name", "ok"),
    [
        ("单位-姓名", "紫金矿业-王工", True),
        ("单位-姓名", "紫金矿业 - 王工", True),
        ("单位-姓名", "紫金矿业—王工", True),
        ("单位-姓名", "紫金矿业_王工", True),
        ("单位-姓名", "王工", False),
        ("单位-姓名", "紫金-矿业-王工", False),
        ("单位-姓名", "", False),
        ("姓名-单位-专业", "王工-紫金-选矿", True),
        ("姓名-单位-专业", "王工-紫金", False),
        (REGEX, "紫金矿业-王工", True),
        (REGEX, "王-工", False),
    ],
    ids=[
        "template",
        "spaces",
        "em-dash",
        "underscore",
        "no-unit",
        "too-many-parts",
        "empty",
        "three-parts",
        "three-parts-short",
        "regex",
        "regex-too-short",
    ],
)
def test_nickname_rules_accept_templates_and_regexes(pattern: str, name: str, ok: bool) -> None:
    rule = NicknameRule.parse(pattern)
    assert rule is not None and rule.ok(name) is ok


def test_a_broken_nickname_regex_is_a_config_error_and_an_empty_one_no_rule() -> None:
    with pytest.raises(ConfigError, match="nickname pattern"):
        NicknameRule.parse("^(单位")
    assert NicknameRule.parse("  ") is None


def at(h: int, m: int = 0) -> datetime:
    return datetime(2026, 11, 21, h, m, tzinfo=SH)


@pytest.mark.parametrize(
    ("spec", "when", "quiet"),
    [
        ("23:00-07:30", at(23, 30), True),
        ("23:00-07:30", at(2), True),
        ("23:00-07:30", at(7, 29), True),
        ("23:00-07:30", at(7, 30), False),
        ("23:00-07:30", at(12), False),
        ("12:00-14:00", at(13), True),
        ("12:00-14:00", at(14), False),
        ("", at(3), False),
    ],
    ids=["late-evening", "night", "just-before-end", "end", "noon", "siesta", "siesta-end", "none"],
)
def test_quiet_hours(spec: str, when: datetime, quiet: bool) -> None:
    assert QuietHours.parse(spec, SH).contains(when.astimezone(timezone.utc)) is quiet


def test_quiet_hours_end_the_next_morning() -> None:
    q = QuietHours.parse("23:00-07:30", SH)
    assert q.end_after(at(23, 30)).astimezone(SH) == datetime(2026, 11, 22, 7, 30, tzinfo=SH)
    assert q.end_after(at(3)).astimezone(SH) == at(7, 30)
    assert q.end_after(at(12)) == at(12)
    with pytest.raises(ConfigError):
        QuietHours.parse("25:00-07:00", SH)


@pytest.mark.parametrize(
    ("cron", "now", "slot"),
    [
        ("0 9 * * *", at(9, 0), at(9, 0)),
        ("0 9 * * *", at(9, 30), at(9, 0)),
        ("0 9 * * *", at(8, 59), at(9, 0) - timedelta(days=1)),
        ("0 9 1-7 * mon", at(9), datetime(2026, 11, 2, 9, 0, tzinfo=SH)),
        ("*/5 * * * *", at(9, 7), at(9, 5)),
    ],
    ids=["on-time", "late", "before", "first-monday", "every-five-minutes"],
)
def test_a_run_belongs_to_the_latest_cron_slot(cron: str, now: datetime, slot: datetime) -> None:
    assert last_fire(cron, SH, now) == slot


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("schedule:\n  silence_report_cron: every monday\n", "schedule.silence_report_cron"),
        ("schedule:\n  daily_report_at: '25:00'\n", "schedule.daily_report_at"),
        ("schedule:\n  notices:\n    - {id: a, cron: '0 9 * *', text: 早}\n", "schedule.notices[0].cron"),
        ("schedule:\n  notices:\n    - {id: a, text: 早}\n", "schedule.notices[0]"),
        (
            "schedule:\n  notices:\n    - {id: a, cron: '0 9 * * *', text: 早}\n    - {id: a, cron: '0 9 * * *', text: 晚}\n",
            "schedule.notices[1].id",
        ),
        ("lifecycle:\n  intro_action: ban\n", "lifecycle.intro_action"),
        (
            "lifecycle:\n  rooms:\n    - {room: r1, nickname_action: ban}\n",
            "lifecycle.rooms[0].nickname_action",
        ),
    ],
    ids=[
        "bad-silence-cron",
        "bad-report-time",
        "bad-notice-cron",
        "notice-without-cron",
        "duplicate-notice-id",
        "bad-action",
        "bad-room-action",
    ],
)
def test_schedule_mistakes_are_named_by_key(text: str, where: str) -> None:
    from bot.config import parse_config

    with pytest.raises(ConfigError) as err:
        parse_config(text, "config.yaml")
    assert where in str(err.value)


def test_a_broken_nickname_pattern_stops_the_bot_at_start_naming_the_key(tmp_path) -> None:
    from bot.config import LifecycleConfig, LifecycleRoomConfig, ScheduleConfig
    from bot.lifecycle.settings import check

    cfg = LifecycleConfig(rooms=(LifecycleRoomConfig(room="r1", nickname_pattern="(单位"),))
    with pytest.raises(ConfigError, match=r"lifecycle\.rooms\[0\]\.nickname_pattern"):
        check(cfg, ScheduleConfig(), SH)
