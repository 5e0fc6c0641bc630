"""``qunguard report`` (a room's activity, in the terminal and as PNG charts) and
``qunguard digest`` (a month of featured messages as Markdown)."""

from __future__ import annotations

import argparse
import re
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.errors import QunguardError


def register(sub: Any) -> None:
    p = sub.add_parser(
        "report",
        help="a room's activity: messages, speakers, joins, leaves, violations by rule, top contributors",
        description="Print a room's activity per day from the store; --png also draws the charts "
        "(messages and speakers per day, violations per rule).",
    )
    p.add_argument("--room", help="room id, or part of the room name (without it: the rooms in the database)")
    p.add_argument(
        "--since", default="30d", help="how far back: 30d, 2w, or a day such as 2026-11-01 (default 30d)"
    )
    p.add_argument("--until", help="last day included, e.g. 2026-11-30 (default: today)")
    p.add_argument("--png", metavar="FILE", help="also write the charts to this PNG file")
    p.add_argument("--db", metavar="URL", help="database URL (default: the config's database)")
    p.add_argument(
        "--transcript",
        metavar="FILE",
        help="report on a JSONL transcript instead: replayed through the rules into a "
        "temporary database (--db, if given, keeps it)",
    )
    p.add_argument("--rules", help="with --transcript: rules file (default: the config's rules)")
    p.set_defaults(handler=report)

    d = sub.add_parser(
        "digest",
        help="a month of a room's featured messages (精华) as Markdown",
        description="Write the featured messages (精华) of one room and month as Markdown.",
    )
    d.add_argument("--room", required=True, help="room id, or part of the room name")
    d.add_argument("--month", required=True, help="the month, e.g. 2026-11")
    d.add_argument("--out", metavar="FILE", help="write to this file instead of the terminal")
    d.add_argument("--db", metavar="URL", help="database URL (default: the config's database)")
    d.set_defaults(handler=digest)


def parse_day(value: str, what: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise QunguardError(f"{what}: expected a day such as 2026-11-01, got {value!r}") from None


def parse_since(value: str, until: date) -> date:
    """``30d`` / ``2w`` (counting ``until`` as the last of them) or a day."""
    m = re.fullmatch(r"\s*(\d+)\s*([dw])\s*", value or "", re.IGNORECASE)
    if m is not None:
        n = int(m.group(1)) * (7 if m.group(2).lower() == "w" else 1)
        if n < 1:
            raise QunguardError("--since: the span must be at least one day")
        return until - timedelta(days=n - 1)
    return parse_day(value, "--since")


def _open(args: argparse.Namespace) -> tuple[Any, Any]:
    from bot.config import load_config
    from bot.store import open_store
    from bot.store.db import normalize_url

    config = load_config(getattr(args, "config", None))
    url = normalize_url(args.db or config.database)
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        path = Path(url.removeprefix("sqlite:///"))
        if not path.exists():
            raise QunguardError(
                f"no database at {path} (record one with `qunguard run` or `qunguard replay --db`)"
            )
    return config, open_store(url, journal_dir=None, upgrade=False, tz=config.schedule.timezone)


def _room(store: Any, needle: str) -> tuple[str, str]:
    from bot.store.lifecycle_repo import LifecycleRepo

    found = LifecycleRepo(store).rooms_like(needle)
    if not found:
        raise QunguardError(f"no room {needle!r} in the database (give its id or part of its name)")
    if len(found) > 1:
        names = "; ".join(f"{i} ({t})" for i, t in found[:10])
        raise QunguardError(f"{needle!r} matches {len(found)} rooms: {names}. Give the room id.")
    return found[0]


def record_transcript(path: str, store: Any, rules_path: Path) -> int:
    """Replay a transcript into ``store`` as ``qunguard replay --db`` records it: violations
    and actions, and the message, join and leave counts. Returns the number of lines."""
    from bot.engine import Engine, load_rules
    from bot.ladder import Ladder
    from bot.moderation import Moderator
    from bot.replay import Replay, read_transcript

    rules = load_rules(rules_path)
    replay = Replay(Moderator(Engine(rules), Ladder.from_rules(rules), store))

    def bad(err: Exception) -> None:
        print(f"qunguard report: {err} (line skipped)", file=sys.stderr)

    n = sum(1 for _ in replay.run(read_transcript(Path(path)), bad))
    store.flush()
    return n


def _list_rooms(store: Any) -> int:
    from bot.store.lifecycle_repo import LifecycleRepo

    rooms = LifecycleRepo(store).rooms_like("")
    if not rooms:
        print("no rooms in this database yet")
        return 0
    print("rooms (give one with --room ID or part of its name):")
    for room_id, topic in rooms:
        print(f"  {room_id}  {topic}")
    return 0


def report(args: argparse.Namespace) -> int:
    import tempfile
    from zoneinfo import ZoneInfo

    from bot.lifecycle.report import collect, terminal_text

    if args.transcript:
        from bot.config import load_config
        from bot.store import open_store

        if not Path(args.transcript).is_file():
            raise QunguardError(f"{args.transcript}: no such transcript file")
        config = load_config(getattr(args, "config", None))
        tmp = tempfile.TemporaryDirectory(prefix="qunguard-report-")
        url = args.db or f"sqlite:///{Path(tmp.name) / 'report.db'}"
        store = open_store(url, journal_dir=None, tz=config.schedule.timezone)
        rules_path = Path(args.rules) if args.rules else config.rules_path
        try:
            record_transcript(args.transcript, store, rules_path)
        except BaseException:
            store.close()
            tmp.cleanup()
            raise
    else:
        config, store = _open(args)
        tmp = None
    with store:
        if not args.room:
            return _list_rooms(store)
        room_id, topic = _room(store, args.room)
        tz = ZoneInfo(config.schedule.timezone)
        until = parse_day(args.until, "--until") if args.until else datetime.now(tz).date()
        since = parse_since(args.since, until)
        if since > until:
            raise QunguardError(f"--since {since} is after --until {until}")
        if (until - since).days > 3660:
            raise QunguardError("--since: at most ten years at a time")
        activity = collect(store, room_id, since, until, topic=topic)
        sys.stdout.write(terminal_text(activity))
        if not activity.messages and not activity.violations and not activity.joins:
            latest = store.daily_counts(room_id, date(1970, 1, 1))
            if latest:
                print(
                    f"（这段时间没有记录；本群的记录在 {latest[0].day} 至 {latest[-1].day}，可用 --since/--until 指定）"
                )
        if args.png:
            from bot.lifecycle.charts import write_png

            size = write_png(activity, args.png)
            print(f"charts written to {args.png} ({size // 1024 + 1} KB)", file=sys.stderr)
    if tmp is not None:
        tmp.cleanup()
    return 0


def digest(args: argparse.Namespace) -> int:
    from zoneinfo import ZoneInfo

    from bot.lifecycle.featured import digest_markdown, month_bounds
    from bot.store.lifecycle_repo import LifecycleRepo

    config, store = _open(args)
    with store:
        room_id, topic = _room(store, args.room)
        tz = ZoneInfo(config.schedule.timezone)
        try:
            start, end = month_bounds(args.month, tz)
        except ValueError as exc:
            raise QunguardError(f"--month: {exc}") from None
        text = digest_markdown(
            LifecycleRepo(store).featured(room_id, start, end),
            topic=topic or room_id,
            month=args.month,
            tz=tz,
        )
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"digest written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
