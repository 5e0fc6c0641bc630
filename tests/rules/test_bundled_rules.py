"""The bundled rules (rules/rules.yaml) on chat they were not written from.

``cases*.yaml`` hold fresh messages by category: spam in its usual disguises,
banned topics, abuse, and ordinary talk that looks alarming. Each must get at
least one violation of its category, or, for clean talk, none at all.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from bot.config import BUNDLED_RULES
from bot.engine import Engine, load_rules
from bot.events import Message, MessageType, Sender

HERE = Path(__file__).parent
CASES: dict[str, list] = {}
for _file in sorted(HERE.glob("cases*.yaml")):
    for _category, _items in yaml.safe_load(_file.read_text(encoding="utf-8")).items():
        if isinstance(_items, list):
            CASES.setdefault(_category, []).extend(_items)
DEFAULT_TOPIC = "选矿技术交流群"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone(timedelta(hours=8)))


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_rules(BUNDLED_RULES))


def as_message(case: str | dict, n: int) -> Message:
    c = dict(case) if isinstance(case, dict) else {"text": str(case)}
    kind = MessageType(c.get("type", "text"))
    topic = c.get("topic", DEFAULT_TOPIC)
    return Message(
        id=f"case-{n}",
        room_id=f"room-{abs(hash(topic)) % 10_000}",
        room_topic=topic,
        sender_id=f"wxid_case{n}",  # a new sender each time: nothing floods
        at=T0 + timedelta(minutes=5 * n),
        type=kind,
        text=c.get("text", ""),
        url=c.get("url", ""),
        title=c.get("title", ""),
        app=c.get("app", ""),
        card_name=c.get("card_name", ""),
        file_name=c.get("file_name", ""),
        sender_name=c.get("sender_name", ""),
        qr_payloads=tuple(c.get("qr", ())),
    )


def label(case: str | dict) -> str:
    if not isinstance(case, dict):
        return str(case)
    return " ".join(str(v) for v in case.values())[:60]


def params(category: str) -> list:
    return [pytest.param(c, id=f"{category}-{i}-{label(c)[:24]}") for i, c in enumerate(CASES[category])]


_serial = iter(range(1, 1_000_000))


def categories(engine: Engine, case: str | dict) -> set[str]:
    msg = as_message(case, next(_serial))
    return {v.category for v in engine.evaluate(msg, Sender(msg.sender_id))}


@pytest.mark.parametrize("case", params("ad"))
def test_ads_are_caught(engine, case):
    assert "ad" in categories(engine, case)


@pytest.mark.parametrize("case", params("banned_topic"))
def test_banned_topics_are_caught(engine, case):
    assert "banned_topic" in categories(engine, case)


@pytest.mark.parametrize("case", params("abuse"))
def test_abuse_is_caught(engine, case):
    assert "abuse" in categories(engine, case)


@pytest.mark.parametrize("case", params("clean"))
def test_ordinary_talk_is_left_alone(engine, case):
    assert categories(engine, case) == set()


def test_bundled_rules_load_without_warnings():
    rules = load_rules(BUNDLED_RULES)
    assert rules.warnings == ()
