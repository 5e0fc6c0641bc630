"""The activity charts (``qunguard report --png``) speak Chinese when a font can draw it.

An admin reads 每日消息数, not "Messages per day". Without a font that has Chinese glyphs
every hanzi would print as a box, so the charts fall back to English and the room id. CI
installs one (Debian's fonts-wqy-microhei); elsewhere the Chinese test needs one too.
"""

from __future__ import annotations

import os
import warnings
from datetime import date, timedelta

import pytest

from bot.lifecycle import charts
from bot.lifecycle.report import Activity
from bot.store.views import DayCounts

FIRST = date(2026, 11, 1)


def week() -> Activity:
    days = tuple(
        DayCounts("d-gold", FIRST + timedelta(days=i), messages=20 + i, speakers=5 + i % 3) for i in range(7)
    )
    return Activity(
        room_id="d-gold",
        topic="金矿提金技术交流群",
        first=FIRST,
        last=FIRST + timedelta(days=6),
        days=days,
        by_rule={"ad-contact": 3, "abuse-insult": 1},
        speakers=9,
        top=(),
        flagged_by_day={FIRST: 2, FIRST + timedelta(days=3): 2},
    )


def titles(fig) -> list[str]:
    return [fig._suptitle.get_text(), *(ax.get_title() for ax in fig.axes)]


def test_with_a_chinese_font_the_charts_are_in_chinese_and_every_glyph_is_drawn() -> None:
    if charts._cjk_font() is None:
        if os.environ.get("CI"):
            pytest.fail("CI installs a font with Chinese glyphs (fonts-wqy-microhei); none was found")
        pytest.skip("no font with Chinese glyphs on this machine (apt-get install fonts-wqy-microhei)")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = charts.render_png(week())
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert missing == [], "no hanzi drawn as a box"
    assert titles(charts.build_figure(week(), chinese=True)) == [
        "金矿提金技术交流群：2026-11-01 至 2026-11-07",
        "每日消息数（共 161 条，违规 4 条）",
        "每日发言人数（期间共 9 人发言）",
        "各规则触犯次数",
    ]


def test_without_one_they_fall_back_to_english_and_the_room_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(charts, "_cjk_font", lambda: None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = charts.render_png(week())
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [w for w in caught if "missing from font" in str(w.message)]
    assert titles(charts.build_figure(week(), chinese=False)) == [
        "d-gold: 2026-11-01 .. 2026-11-07",
        "Messages per day (total 161, 4 broke a rule)",
        "Active speakers per day (9 different members in all)",
        "Violations per rule (rule hits)",
    ]
