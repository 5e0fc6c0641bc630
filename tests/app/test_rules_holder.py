"""The rules holder keeps the last good rules when a reload is refused."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.errors import RulesError
from bot.rules_holder import RulesHolder

GOOD = """\
version: 1
rules:
  - name: ad-handle
    category: ad
    severity: minor
    message: 请勿发布联系方式。
    when:
      keywords: [加微信]
    examples:
      match: ["加微信聊"]
      no_match: ["今天开会"]
"""


def test_an_edit_that_breaks_a_rules_own_examples_is_refused_and_the_old_rules_stay(tmp_path: Path):
    path = tmp_path / "rules.yaml"
    path.write_text(GOOD, encoding="utf-8")
    holder = RulesHolder.load(path)
    before = holder.engine

    path.write_text(GOOD.replace("keywords: [加微信]", "keywords: [加QQ]"), encoding="utf-8")
    error = asyncio.run(holder.reload())

    assert isinstance(error, RulesError)
    assert "ad-handle" in str(error)
    assert holder.engine is before
    assert [v.rule for v in holder.engine.evaluate_text("加微信聊")] == ["ad-handle"]


def test_a_good_edit_is_taken(tmp_path: Path):
    path = tmp_path / "rules.yaml"
    path.write_text(GOOD, encoding="utf-8")
    holder = RulesHolder.load(path)

    path.write_text(
        GOOD.replace('no_match: ["今天开会"]', 'no_match: ["今天开会", "明天见"]'), encoding="utf-8"
    )

    assert asyncio.run(holder.reload()) is None
