"""The shipped character tables are exactly what gen_tables.py builds."""

from __future__ import annotations

import pytest

from bot.engine import gen_tables


def test_chartable_is_up_to_date():
    pytest.importorskip("opencc")
    from bot.engine._chartable import CHARTABLE

    assert gen_tables.build_chartable() == CHARTABLE


def test_pinyin_table_is_up_to_date():
    pytest.importorskip("pypinyin")
    from bot.engine import _pinyin

    expected = gen_tables.render_pinyin(gen_tables.build_pinyin())
    assert (gen_tables.HERE / "_pinyin.py").read_text(encoding="utf-8") == expected
    assert _pinyin.PINYIN["wei"].count("微") == 1
    assert "hang" in _pinyin.OTHER_READINGS["行"]
