"""``qunguard report --png``: messages and speakers per day, violations per rule.

matplotlib on its Agg backend (no display needed), imported only here. Labels
are Chinese, with the room's name, when a font with Chinese glyphs is installed
(Debian: ``apt-get install fonts-wqy-microhei``); otherwise English, with the
room id, since a missing glyph would print as a box.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from bot.lifecycle.report import Activity

CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Droid Sans Fallback",
    "AR PL UMing CN",
)
WIDTH_IN, HEIGHT_IN, DPI = 10.0, 9.0, 100


def _cjk_font() -> str | None:
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


LABELS = {
    "zh": {
        "title": "{room}：{first} 至 {last}",
        "messages": "消息",
        "broke": "违规",
        "messages_title": "每日消息数（共 {messages} 条，违规 {flagged} 条）",
        "speakers_title": "每日发言人数（期间共 {speakers} 人发言）",
        "rules_title": "各规则触犯次数",
        "no_rules": "各规则触犯次数：无",
    },
    "en": {
        "title": "{room}: {first} .. {last}",
        "messages": "messages",
        "broke": "broke a rule",
        "messages_title": "Messages per day (total {messages}, {flagged} broke a rule)",
        "speakers_title": "Active speakers per day ({speakers} different members in all)",
        "rules_title": "Violations per rule (rule hits)",
        "no_rules": "Violations per rule: none",
    },
}
"""The charts' words: Chinese where a font can draw them."""


def _ascii_or(text: str, fallback: str) -> str:
    return text if text.isascii() else fallback


def render_png(a: Activity) -> bytes:
    """The charts of an activity span, as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    cjk = _cjk_font()
    rc: Any = {"font.family": [cjk, "DejaVu Sans"]} if cjk else {}
    with matplotlib.rc_context(rc):
        fig = build_figure(a, cjk is not None)
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    return buf.getvalue()


def build_figure(a: Activity, chinese: bool) -> Any:
    """The charts as a matplotlib Figure, labelled in Chinese or (no font for it) English."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    words = LABELS["zh" if chinese else "en"]
    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
    ax_msg, ax_spk, ax_rule = fig.subplots(3, 1, height_ratios=[3, 2, 3])
    labels = [f"{d.day:%m-%d}" for d in a.days]
    x = list(range(len(a.days)))
    step = max(1, len(x) // 15)
    title = a.topic if chinese else _ascii_or(a.topic, a.room_id)
    fig.suptitle(words["title"].format(room=title, first=a.first, last=a.last), fontsize=13)

    ax_msg.bar(x, [d.messages for d in a.days], color="#3b7dd8", label=words["messages"])
    ax_msg.bar(x, [a.flagged_on(d.day) for d in a.days], color="#d8553b", label=words["broke"])
    ax_msg.set_title(words["messages_title"].format(messages=a.messages, flagged=a.flagged))
    ax_msg.legend(loc="upper left")
    ax_spk.plot(x, [d.speakers for d in a.days], marker="o", color="#2e9e5b")
    ax_spk.set_title(words["speakers_title"].format(speakers=a.speakers))
    ax_spk.set_ylim(bottom=0)
    for ax in (ax_msg, ax_spk):
        ax.set_xticks(x[::step], labels[::step], rotation=45, ha="right")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(axis="y", alpha=0.3)

    rules = list(a.by_rule.items())[:12]
    if rules:
        names = [r if (chinese or r.isascii()) else f"rule {i + 1}" for i, (r, _) in enumerate(rules)]
        ax_rule.barh(names[::-1], [n for _, n in rules][::-1], color="#d8553b")
        ax_rule.set_title(words["rules_title"])
        ax_rule.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax_rule.grid(axis="x", alpha=0.3)
    else:
        ax_rule.set_title(words["no_rules"])
        ax_rule.set_axis_off()
    return fig


def write_png(a: Activity, path: str | Path) -> int:
    """Write the charts to ``path``; returns the number of bytes."""
    data = render_png(a)
    Path(path).write_bytes(data)
    return len(data)
