"""``qunguard report --png``: messages and speakers per day, violations per rule.

matplotlib on its Agg backend (no display needed), imported only here. Labels
are English, plus the room name when a font with Chinese glyphs is installed
(otherwise the room id: a missing glyph would print as a box).
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


def _ascii_or(text: str, fallback: str) -> str:
    return text if text.isascii() else fallback


def render_png(a: Activity) -> bytes:
    """The charts of an activity span, as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    cjk = _cjk_font()
    rc: Any = {"font.family": [cjk, "DejaVu Sans"]} if cjk else {}
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
        ax_msg, ax_spk, ax_rule = fig.subplots(3, 1, height_ratios=[3, 2, 3])
        labels = [f"{d.day:%m-%d}" for d in a.days]
        x = list(range(len(a.days)))
        step = max(1, len(x) // 15)
        title = a.topic if cjk else _ascii_or(a.topic, a.room_id)
        fig.suptitle(f"{title}: {a.first} .. {a.last}", fontsize=13)

        ax_msg.bar(x, [d.messages for d in a.days], color="#3b7dd8", label="messages")
        ax_msg.bar(x, [a.flagged_on(d.day) for d in a.days], color="#d8553b", label="broke a rule")
        ax_msg.set_title(f"Messages per day (total {a.messages}, {a.flagged} broke a rule)")
        ax_msg.legend(loc="upper left")
        ax_spk.plot(x, [d.speakers for d in a.days], marker="o", color="#2e9e5b")
        ax_spk.set_title(f"Active speakers per day ({a.speakers} different members in all)")
        ax_spk.set_ylim(bottom=0)
        for ax in (ax_msg, ax_spk):
            ax.set_xticks(x[::step], labels[::step], rotation=45, ha="right")
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(axis="y", alpha=0.3)

        rules = list(a.by_rule.items())[:12]
        if rules:
            names = [r if (cjk or r.isascii()) else f"rule {i + 1}" for i, (r, _) in enumerate(rules)]
            ax_rule.barh(names[::-1], [n for _, n in rules][::-1], color="#d8553b")
            ax_rule.set_title("Violations per rule (rule hits)")
            ax_rule.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax_rule.grid(axis="x", alpha=0.3)
        else:
            ax_rule.set_title("Violations per rule: none")
            ax_rule.set_axis_off()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    return buf.getvalue()


def write_png(a: Activity, path: str | Path) -> int:
    """Write the charts to ``path``; returns the number of bytes."""
    data = render_png(a)
    Path(path).write_bytes(data)
    return len(data)
