"""Activity of a room over a span of local days: what the admins' daily or weekly
report says, and what ``qunguard report`` prints and draws.

Numbers come from the store's daily counts (messages, speakers, joins, leaves,
violations by rule) and per-member message counts (top contributors).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
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


def collect(store: Store, room_id: str, first: date, last: date, *, topic: str = "", top: int = 5) -> Activity:
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
    counts = fill(texts.REPORT_COUNTS, messages=a.messages, speakers=a.speakers, joins=a.joins, leaves=a.leaves)
    lines = [head, counts]
    if a.flagged or a.violations:
        rules = "、".join(f"{labels.get(r) or r} {n}" for r, n in a.by_rule.items())
        lines.append(fill(texts.REPORT_VIOLATIONS, n=a.flagged or a.violations, rules=rules))
    else:
        lines.append(texts.REPORT_NO_VIOLATIONS)
    if a.top:
        lines.append(fill(texts.REPORT_TOP, top="、".join(f"{name or cid} {n}" for cid, name, n in a.top)))
    return "\n".join(lines)


def terminal_text(a: Activity) -> str:
    """``qunguard report``: a table per day, then violations by rule and top contributors."""
    out = [
        f"{a.topic} ({a.room_id})  {a.first} .. {a.last}",
        "",
        f"{'day':<12}{'messages':>9}{'speakers':>9}{'joins':>7}{'leaves':>7}{'flagged':>9}{'rule hits':>11}",
    ]
    for d in a.days:
        out.append(f"{d.day!s:<12}{d.messages:>9}{d.speakers:>9}{d.joins:>7}{d.leaves:>7}"
                   f"{a.flagged_on(d.day):>9}{d.violations:>11}")
    out.append(f"{'total':<12}{a.messages:>9}{a.speakers:>9}{a.joins:>7}{a.leaves:>7}{a.flagged:>9}{a.violations:>11}")
    out.append("(flagged: messages that broke a rule; rule hits: one message may break several rules;")
    out.append(" total speakers: different members over the whole span)")
    out.append("")
    out.append("rule hits by rule:" if a.by_rule else "rule hits by rule: none")
    for rule, n in a.by_rule.items():
        out.append(f"  {n:>6}  {rule}")
    out.append("")
    out.append("top contributors:" if a.top else "top contributors: none")
    for cid, name, n in a.top:
        out.append(f"  {n:>6}  {name or '-'}  ({cid})")
    return "\n".join(out) + "\n"
