"""The text pre-screen skips work, never verdicts: with it and without it the
engine says exactly the same about every message."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.engine import Engine, load_rules, parse_rules
from bot.engine.normalize import COMMON_RANGES
from bot.engine.screen import DELETABLE, EXTRA_RANGES
from bot.events import Message, Sender

BUNDLED = Path(__file__).resolve().parents[2] / "rules" / "rules.yaml"
RULES = load_rules(BUNDLED)
T0 = datetime(2026, 11, 20, tzinfo=timezone.utc)


def verdicts(engine: Engine, text: str, i: int = 0) -> list[tuple]:
    message = Message(id=str(i), room_id="r", sender_id=f"u{i % 5}", at=T0 + timedelta(seconds=i), text=text)
    return [
        (v.rule, v.severity, tuple((e.check, e.span, e.detail) for e in v.evidence))
        for v in engine.evaluate(message, Sender(message.sender_id))
    ]


def engines(rules=RULES) -> tuple[Engine, Engine]:
    screened, full = Engine(rules), Engine(rules)
    assert screened._screen is not None
    full._screen = None
    return screened, full


def test_the_bundled_rules_get_a_screen_and_plain_chat_passes_it():
    screen = Engine(RULES)._screen
    assert screen is not None
    assert screen.clear("明天上午九点开会，大家别迟到") is not None
    assert screen.clear("这批矿石的含砷量偏高，建议先做个预氧化试验") is not None


@pytest.mark.parametrize(
    "text",
    [
        "兼 职 日 结，有意私聊",  # separators between hanzi are deleted by normalisation
        "兼💰职日结",
        "刷_单_返_利",
        "加薇信了解一下",  # an alias of 微信
        "加∨详聊",  # an alias whose ∨ a skeleton drops
        "电话壹叁捌壹贰叁肆伍陆柒捌",  # Chinese numerals become digits
        "扣扣群里见",
        "转发保平安，不转必遭",
        "网赌回血找我",
    ],
)
def test_texts_that_may_break_a_rule_take_the_full_path(text):
    screened, full = engines()
    assert screened._screen.clear(text) is None
    assert verdicts(screened, text) == verdicts(full, text)


def test_a_word_of_only_symbols_still_counts():
    rules = parse_rules(
        """
rules:
  - name: money-bag
    category: ad
    severity: minor
    message: x
    keywords: ["💰💰"]
"""
    )
    screened, full = engines(rules)
    for text in ("看这里💰💰", "💰💰", "普通的一句话"):
        assert verdicts(screened, text) == verdicts(full, text)
    assert verdicts(screened, "💰💰")


def test_no_screen_when_a_lexicon_takes_homophones(tmp_path):
    (tmp_path / "insults.txt").write_text("傻逼\n", encoding="utf-8")
    (tmp_path / "rules.yaml").write_text(
        """
lexicons:
  insults: {file: insults.txt, homophones: true}
rules:
  - name: insult
    category: abuse
    severity: minor
    message: x
    lexicon: insults
""",
        encoding="utf-8",
    )
    assert Engine(load_rules(tmp_path / "rules.yaml"))._screen is None


def test_the_deletable_characters_lie_where_the_screen_looks_for_them():
    ranges = (*COMMON_RANGES, *EXTRA_RANGES)
    outside = [
        cp
        for cp in range(0x110000)
        if DELETABLE.match(chr(cp)) and not any(lo <= cp <= hi for lo, hi in ranges)
    ]
    assert outside == []


PIECES = [
    "兼职",
    "日结",
    "刷单",
    "私聊",
    "加",
    "微",
    "信",
    "薇",
    "扣扣",
    "一",
    "二",
    "三",
    "四",
    "五",
    "壹",
    "幺",
    "零",
    "1",
    "88",
    "。",
    "，",
    " ",
    "_",
    "-",
    ".",
    "💰",
    "🔥",
    "∨",
    "√",
    "❶",
    "①",
    ":",
    "：",
    "\n",
    "好的",
    "明天开会",
    "转发",
    "保平安",
    "网赌",
    "回血",
    "傻逼",
    "你",
    "滚",
    "有需要",
    "联系我",
    "价格",
    "优惠",
    "群",
    "招聘",
    "简历发",
]


@settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=10))
def test_screened_and_full_engines_agree_on_any_mix_of_tricky_pieces(pieces):
    screened, full = SCREENED_AND_FULL
    text = "".join(pieces)
    assert verdicts(screened, text) == verdicts(full, text)


SCREENED_AND_FULL = engines()
