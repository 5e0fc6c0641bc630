"""Activity of a room over a span of local days: what the admins' daily or weekly
report says, and what ``qunguard report`` prints and draws.

Numbers come from the store's daily counts (messages, speakers, joins, leaves,
violations by rule) and per-member message counts (top contributors).
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from bot.app.texts import fill
from bot.lifecycle import texts
from bot.store import DayCounts, Store
from bot.store.lifecycle_repo import LifecycleRepo

EVENING = 18
"""A daily report sent at or after 18:00 covers that day; earlier, the day before."""


@dataclass(frozen=True)
class Activity:
    room_id: str
    topic: str
    first: date
    last: date
    days: tuple[DayCounts, ...]
    """One per day from ``first`` to ``last``; days without a row are zeros."""
    by_rule: Mapping[str, int]
    speakers: int
    """Different members who spoke in the whole span."""
    top: tuple[tuple[str, str, int], ...]
    """(contact id, name, messages), most active first."""
    flagged_by_day: Mapping[date, int] = field(default_factory=dict)
    """Messages that broke a rule (cases), per day; ``by_rule`` counts rule hits (one message may hit several)."""

    def flagged_on(self, day: date) -> int:
        return self.flagged_by_day.get(day, 0)

    @property
    def flagged(self) -> int:
        return sum(self.flagged_by_day.values())

    @property
    def messages(self) -> int:
        return sum(d.messages for d in self.days)

    @property
    def joins(self) -> int:
        return sum(d.joins for d in self.days)

    @property
    def leaves(self) -> int:
        return sum(d.leaves for d in self.days)

    @property
    def violations(self) -> int:
        return sum(d.violations for d in self.days)


def collect(
    store: Store, room_id: str, first: date, last: date, *, topic: str = "", top: int = 5
) -> Activity:
    repo = LifecycleRepo(store)
    rows = {d.day: d for d in store.daily_counts(room_id, first, last)}
    days = []
    day = first
    while day <= last:
        days.append(rows.get(day) or DayCounts(room_id, day))
        day += timedelta(days=1)
    by_rule: Counter[str] = Counter()
    for d in days:
        by_rule.update(d.by_rule)
    if not topic:
        room = store.room(room_id)
        topic = room.topic if room is not None else ""
    return Activity(
        room_id=room_id,
        topic=topic or room_id,
        first=first,
        last=last,
        days=tuple(days),
        by_rule=dict(by_rule.most_common()),
        speakers=repo.distinct_speakers(room_id, first, last),
        top=tuple(repo.speakers_between(room_id, first, last, limit=top)),
        flagged_by_day=repo.cases_by_day(room_id, first, last),
    )


def report_days(now: datetime, tz: tzinfo, period: str) -> tuple[date, date]:
    """The days a report sent at ``now`` covers: ``daily`` one day, ``weekly`` the seven days before."""
    local = now.astimezone(tz)
    if period == "weekly":
        last = local.date() - timedelta(days=1)
        return last - timedelta(days=6), last
    day = local.date() if local.hour >= EVENING else local.date() - timedelta(days=1)
    return day, day


def admin_text(a: Activity, labels: Mapping[str, str] | None = None) -> str:
    """The report the admins get privately."""
    labels = labels or {}
    if a.first == a.last:
        head = fill(texts.REPORT_DAILY_HEAD, topic=a.topic, day=f"{a.first:%m-%d}")
    else:
        head = fill(texts.REPORT_WEEKLY_HEAD, topic=a.topic, first=f"{a.first:%m-%d}", last=f"{a.last:%m-%d}")
    counts = fill(
        texts.REPORT_COUNTS, messages=a.messages, speakers=a.speakers, joins=a.joins, leaves=a.leaves
    )
    lines = [head, counts]
    if a.flagged or a.violations:
        rules = "、".join(f"{labels.get(r) or r} {n}" for r, n in a.by_rule.items())
        lines.append(fill(texts.REPORT_VIOLATIONS, n=a.flagged or a.violations, rules=rules))
    else:
        lines.append(texts.REPORT_NO_VIOLATIONS)
    if a.top:
        lines.append(fill(texts.REPORT_TOP, top="、".join(f"{name or cid} {n}" for cid, name, n in a.top)))
    return "\n".join(lines)


COLUMNS = (
    ("日期", 12),
    ("消息", 8),
    ("发言人数", 10),
    ("入群", 6),
    ("退群", 6),
    ("违规消息", 10),
    ("触犯规则", 10),
)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _row(cells: Sequence[object]) -> str:
    """Cells padded to the columns by display width (hanzi take two), the first left, the rest right."""
    out = []
    for i, (cell, (_, width)) in enumerate(zip(cells, COLUMNS, strict=True)):
        text = str(cell)
        pad = " " * max(0, width - _width(text))
        out.append(text + pad if i == 0 else pad + text)
    return "".join(out).rstrip()


def terminal_text(a: Activity) -> str:
    """``qunguard report``: a row per day and the totals, then rule hits by rule and the top contributors."""
    out = [f"「{a.topic}」({a.room_id})  {a.first} 至 {a.last}", "", _row([c for c, _ in COLUMNS])]
    for d in a.days:
        out.append(
            _row([d.day, d.messages, d.speakers, d.joins, d.leaves, a.flagged_on(d.day), d.violations])
        )
    out.append(_row(["合计", a.messages, a.speakers, a.joins, a.leaves, a.flagged, a.violations]))
    out.append(
        "（违规消息：触犯群规的消息条数；触犯规则：一条消息可触犯多条规则；合计的发言人数按不同成员计）"
    )
    out.append("")
    out.append("各规则触犯次数：" if a.by_rule else "各规则触犯次数：无")
    for rule, n in a.by_rule.items():
        out.append(f"  {n:>6}  {rule}")
    out.append("")
    out.append("活跃榜：" if a.top else "活跃榜：无")
    for cid, name, n in a.top:
        out.append(f"  {n:>6}  {name or '-'}  ({cid})")
    return "\n".join(out) + "\n"
