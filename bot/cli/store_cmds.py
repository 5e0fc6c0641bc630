"""Store commands: ``db upgrade|downgrade|current``, ``violations``, ``cases``,
``case N``, ``export``, ``purge``.

Each takes ``--db URL`` (default: the config's ``database``, else
``sqlite:///qunguard.db``). Times are shown in the config's time zone
(``schedule.timezone``). Reads never change the schema: an out-of-date
database is an error that says to run ``qunguard db upgrade``.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import re
import sys
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.errors import QunguardError


def register(sub: Any) -> None:
    db = sub.add_parser("db", help="database schema: upgrade, downgrade, current")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = db_sub.add_parser(
        "upgrade", help="bring the schema to the newest migration (the bot also does this at start)"
    )
    up.add_argument("revision", nargs="?", default="head")
    down = db_sub.add_parser("downgrade", help="step the schema back (default: one migration)")
    down.add_argument("revision", nargs="?", default="-1")
    cur = db_sub.add_parser("current", help="show the schema's migration and the newest one")
    for p in (up, down, cur):
        _db_arg(p)
    up.set_defaults(handler=db_upgrade)
    down.set_defaults(handler=db_downgrade)
    cur.set_defaults(handler=db_current)

    p = sub.add_parser("violations", help="list recorded violations")
    _db_arg(p)
    p.add_argument("--room", help="room id")
    p.add_argument("--member", help="contact id of the sender")
    p.add_argument("--since", help="e.g. 7d, 12h, 2026-11-01")
    p.add_argument("--rule", help="rule name")
    p.add_argument("--limit", type=int, default=0, help="at most this many (newest)")
    p.add_argument("--csv", action="store_true", help="CSV on stdout")
    p.set_defaults(handler=violations)

    p = sub.add_parser("cases", help="list cases, newest first")
    _db_arg(p)
    p.add_argument("--room", help="room id")
    p.add_argument("--member", help="contact id")
    p.add_argument("--state", choices=["open", "done", "failed", "awaiting_review", "pardoned"])
    p.add_argument("--since", help="e.g. 7d, 2026-11-01")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(handler=cases)

    p = sub.add_parser("case", help="the whole story of one case")
    _db_arg(p)
    p.add_argument("number", type=int, help="case number (案件号)")
    p.add_argument("--json", action="store_true", help="as JSON")
    p.set_defaults(handler=case)

    p = sub.add_parser("export", help="everything kept about a room, as CSV or JSON lines")
    _db_arg(p)
    p.add_argument("--room", required=True, help="room id")
    p.add_argument(
        "--format",
        choices=["csv", "jsonl"],
        default="jsonl",
        help="jsonl: every record with its type; csv: one row per violation with its case and actions",
    )
    p.add_argument("--out", help="file to write (default: stdout)")
    p.set_defaults(handler=export)

    p = sub.add_parser("purge", help="retention: empty message excerpts older than a limit (counts stay)")
    _db_arg(p)
    p.add_argument("--older-than", help="e.g. 180d (default: the config's retention.excerpt_days)")
    p.set_defaults(handler=purge)


def _db_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="URL", help="database URL (default: the config's database)")


# --- helpers ---------------------------------------------------------------------------


def _config(args: argparse.Namespace) -> Any:
    from bot.config import load_config

    return load_config(getattr(args, "config", None))


def _url(args: argparse.Namespace) -> str:
    from bot.store.db import normalize_url

    return normalize_url(args.db or _config(args).database or "sqlite:///qunguard.db")


def _tz(args: argparse.Namespace) -> ZoneInfo:
    try:
        return ZoneInfo(_config(args).schedule.timezone)
    except Exception:
        return ZoneInfo("Asia/Shanghai")


def _open(args: argparse.Namespace) -> Any:
    from sqlalchemy.engine import make_url

    from bot.store import open_store

    url = _url(args)
    u = make_url(url)
    if u.get_backend_name() == "sqlite" and u.database and not Path(u.database).exists():
        raise QunguardError(f"no database at {u.database} (nothing recorded yet, or give --db URL)")
    return open_store(url, journal_dir=None, upgrade=False)


_DURATION = re.compile(r"^\s*(\d+)\s*([dhmw])\s*$")


def parse_duration(text: str) -> timedelta:
    """``180d``, ``12h``, ``30m``, ``2w``."""
    m = _DURATION.match(text or "")
    if not m:
        raise QunguardError(f"{text!r} is not a duration like 180d, 12h, 30m or 2w")
    n, unit = int(m.group(1)), m.group(2)
    return {
        "d": timedelta(days=n),
        "h": timedelta(hours=n),
        "m": timedelta(minutes=n),
        "w": timedelta(weeks=n),
    }[unit]


def parse_since(text: str | None, tz: ZoneInfo, now: datetime | None = None) -> datetime | None:
    """``7d`` (ago), ``2026-11-01`` (local midnight) or an ISO time."""
    if not text:
        return None
    now = now or datetime.now(timezone.utc)
    if _DURATION.match(text):
        return now - parse_duration(text)
    try:
        d = date.fromisoformat(text)
        return datetime.combine(d, time(), tz)
    except ValueError:
        pass
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise QunguardError(f"--since {text!r}: expected 7d, 12h, 2026-11-01 or an ISO time") from None
    return t if t.tzinfo else t.replace(tzinfo=tz)


def _t(at: datetime | None, tz: ZoneInfo) -> str:
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if at else ""


def _table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> None:
    import unicodedata

    def width(s: str) -> int:
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)

    widths = [max([width(h)] + [width(r[i]) for r in rows]) for i, h in enumerate(headers)]
    for line in [headers, *rows]:
        cells = [c + " " * (w - width(c)) for c, w in zip(line, widths, strict=True)]
        print("  ".join(cells).rstrip())


def _clip(text: str | None, n: int = 40) -> str:
    text = (text or "").replace("\n", " ")
    return text if len(text) <= n else text[: n - 1] + "…"


# --- db -------------------------------------------------------------------------------


def db_upgrade(args: argparse.Namespace) -> int:
    from bot.store import migrate
    from bot.store.db import make_engine

    engine = make_engine(_url(args))
    try:
        before, after = migrate.upgrade(engine, args.revision)
    except Exception as exc:
        raise QunguardError(f"upgrade failed: {exc}") from exc
    finally:
        engine.dispose()
    if before == after:
        print(f"schema already at {after or 'empty'}")
    else:
        print(f"schema upgraded: {before or 'empty'} -> {after}")
    return 0


def db_downgrade(args: argparse.Namespace) -> int:
    from bot.store import migrate
    from bot.store.db import make_engine

    engine = make_engine(_url(args))
    try:
        before, after = migrate.downgrade(engine, args.revision)
    except Exception as exc:
        raise QunguardError(f"downgrade failed: {exc}") from exc
    finally:
        engine.dispose()
    print(f"schema downgraded: {before or 'empty'} -> {after or 'empty'}")
    return 0


def db_current(args: argparse.Namespace) -> int:
    from bot.store import migrate
    from bot.store.db import make_engine

    engine = make_engine(_url(args))
    try:
        current = migrate.current_revision(engine)
    except Exception as exc:
        raise QunguardError(f"cannot read the schema version: {exc}") from exc
    finally:
        engine.dispose()
    head = migrate.head_revision()
    state = "up to date" if current == head else "run `qunguard db upgrade`"
    print(f"current {current or 'empty'}, newest {head} ({state})")
    return 0


# --- listings -----------------------------------------------------------------------------


def violations(args: argparse.Namespace) -> int:
    tz = _tz(args)
    since = parse_since(args.since, tz)
    with _open(args) as store:
        rows = store.violations(room_id=args.room, contact_id=args.member, since=since, rule=args.rule)
    if args.limit:
        rows = rows[-args.limit :]
    if args.csv:
        w = csv.writer(sys.stdout)
        w.writerow(["case", "at", "room", "sender", "rule", "category", "severity", "message_id", "excerpt"])
        for v in rows:
            w.writerow(
                [
                    v.case_no,
                    v.at.isoformat(),
                    v.room_id,
                    v.sender_id,
                    v.rule,
                    v.category,
                    v.severity,
                    v.message_id,
                    v.excerpt or "",
                ]
            )
        return 0
    if not rows:
        print("no violations", file=sys.stderr)
        return 0
    _table(
        [
            [str(v.case_no), _t(v.at, tz), v.room_id, v.sender_id, v.rule, v.severity, _clip(v.excerpt)]
            for v in rows
        ],
        ["case", "at", "room", "sender", "rule", "severity", "excerpt"],
    )
    print(f"{len(rows)} violation(s)", file=sys.stderr)
    return 0


def cases(args: argparse.Namespace) -> int:
    tz = _tz(args)
    with _open(args) as store:
        rows = store.cases(
            room_id=args.room,
            contact_id=args.member,
            state=args.state,
            since=parse_since(args.since, tz),
            limit=args.limit or None,
        )
    if not rows:
        print("no cases", file=sys.stderr)
        return 0
    _table(
        [
            [
                str(c.case_no),
                _t(c.created_at, tz),
                c.room_id,
                c.contact_id,
                c.severity,
                c.state,
                ",".join(c.rules),
            ]
            for c in rows
        ],
        ["case", "at", "room", "member", "severity", "state", "rules"],
    )
    return 0


def case(args: argparse.Namespace) -> int:
    tz = _tz(args)
    with _open(args) as store:
        story = store.case(args.number)
    if story is None:
        raise QunguardError(f"no case {args.number}")
    if args.json:
        from dataclasses import asdict

        print(json.dumps(asdict(story), ensure_ascii=False, default=_json_default, indent=2))
        return 0
    for line in story_lines(story, tz):
        print(line)
    return 0


def story_lines(story: Any, tz: ZoneInfo) -> Iterable[str]:
    """``qunguard case N`` as text: what happened, in order."""
    c = story.case
    yield f"案件 #{c.case_no}  {c.state}  severity {c.severity}"
    yield f"  room {c.room_id}  member {c.contact_id}  message {c.message_id}  at {_t(c.created_at, tz)}"
    if c.pardoned_at:
        yield f"  pardoned by {c.pardoned_by} at {_t(c.pardoned_at, tz)}"
    yield "violations:"
    for v in story.violations:
        yield f"  {v.rule} ({v.category}, {v.severity})"
        for e in v.evidence:
            span = f" «{e.get('span')}»" if e.get("span") else ""
            detail = f" {e.get('detail')}" if e.get("detail") else ""
            yield f"    evidence: {e.get('check')}{span}{detail}"
    if story.violations:
        excerpt = story.violations[0].excerpt
        yield f"  excerpt: {excerpt}" if excerpt is not None else "  excerpt: (purged)"
    yield "actions:" if story.actions else "actions: none"
    for a in story.actions:
        duration = a.params.get("duration_s")
        extra = f" {human_duration(float(duration))}" if duration is not None else ""
        if a.reason:
            extra += f" «{a.reason}»"
        detail = f" — {a.detail}" if a.detail else ""
        by = f" by {a.actor_id}" if a.actor_id else ""
        yield f"  {a.position}. {a.kind}{extra}: {a.state}{by} at {_t(a.at if a.state == 'decided' else (a.updated_at or a.at), tz)}{detail}"
    for m in story.mutes:
        end = (
            f"lifted by {m.lifted_by} at {_t(m.lifted_at, tz)}"
            if m.lifted_at
            else (f"ended {_t(m.ended_at, tz)}" if m.ended_at else "in force")
        )
        yield f"mute: {_t(m.starts_at, tz)} → {_t(m.until, tz)} ({end})"
    for ap in story.appeals:
        yield f"appeal #{ap.id} by {ap.contact_id} at {_t(ap.created_at, tz)}: {ap.text}"
        if ap.decided_at:
            yield f"  {ap.state} by {ap.decided_by} at {_t(ap.decided_at, tz)}" + (
                f": {ap.answer}" if ap.answer else ""
            )
    for r in story.reviews:
        decided = f", {r.state} by {r.decided_by or '-'} at {_t(r.decided_at, tz)}" if r.decided_at else ""
        yield (
            f"review #{r.id} of {r.action_kind}: asked {_t(r.requested_at, tz)}, deadline {_t(r.deadline, tz)} "
            f"(default {r.default_decision}){decided}"
        )
    if story.audit:
        yield "audit:"
    for au in story.audit:
        detail = f" {json.dumps(au.detail, ensure_ascii=False)}" if au.detail else ""
        yield f"  {_t(au.at, tz)} {au.actor_id} {au.command}{detail}"


def human_duration(seconds: float) -> str:
    """86400 -> 1d, 5400 -> 1h30m."""
    minutes = round(seconds / 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{n}{u}" for n, u in ((days, "d"), (hours, "h"), (minutes, "m")) if n]
    return "".join(parts) or f"{seconds:g}s"


def _json_default(o: Any) -> Any:
    if isinstance(o, (datetime, date)):
        return o.isoformat()
    raise TypeError(type(o).__name__)


def export(args: argparse.Namespace) -> int:
    with _open(args) as store:
        records = list(store.export(args.room))
        story_rows = store.violations(room_id=args.room) if args.format == "csv" else []
        actions: dict[int, list[str]] = {}
        states: dict[int, str] = {}
        if args.format == "csv":
            for r in records:
                if r["type"] == "action":
                    actions.setdefault(r["case_id"], []).append(f"{r['kind']}:{r['state']}")
                elif r["type"] == "case":
                    states[r["id"]] = r["state"]
    with contextlib.ExitStack() as stack:
        out = (
            stack.enter_context(open(args.out, "w", encoding="utf-8", newline="")) if args.out else sys.stdout
        )
        if args.format == "jsonl":
            for r in records:
                out.write(json.dumps(r, ensure_ascii=False, default=_json_default) + "\n")
        else:
            w = csv.writer(out)
            w.writerow(
                [
                    "case",
                    "case_state",
                    "at",
                    "room",
                    "sender",
                    "rule",
                    "category",
                    "severity",
                    "actions",
                    "message_id",
                    "excerpt",
                ]
            )
            for v in story_rows:
                w.writerow(
                    [
                        v.case_no,
                        states.get(v.case_no, ""),
                        v.at.isoformat(),
                        v.room_id,
                        v.sender_id,
                        v.rule,
                        v.category,
                        v.severity,
                        " ".join(actions.get(v.case_no, [])),
                        v.message_id,
                        v.excerpt or "",
                    ]
                )
    if args.out:
        print(f"{len(records)} records of room {args.room} written to {args.out}", file=sys.stderr)
    return 0


def purge(args: argparse.Namespace) -> int:
    older = (
        parse_duration(args.older_than)
        if args.older_than
        else timedelta(days=_config(args).retention.excerpt_days)
    )
    with _open(args) as store:
        result = store.purge(older, actor="cli")
    print(
        f"purged data older than {older.days} days: {result.excerpts} message excerpt(s), "
        f"{result.names} old display name(s), {result.messages} sent message text(s); counts kept"
    )
    return 0
