"""``qunguard replay TRANSCRIPT``: what the bot would have done, line by line.

stdout holds only decisions (a table, or one JSON object per line with
``--json``); diagnostics, bad lines and the progress bar go to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from bot.errors import QunguardError, TranscriptError


def register(sub: Any) -> None:
    p = sub.add_parser(
        "replay",
        help="run a chat transcript through the rules and the penalty ladder",
        description="Run a JSONL chat transcript through the rule engine and the penalty ladder, "
        "on a clock driven by its ts fields, and print what the bot would do for every line.",
    )
    p.add_argument("transcript", help="JSONL transcript (see shared/formats/transcript.md); - for stdin")
    p.add_argument("--json", action="store_true", help="one JSON decision per input line on stdout")
    p.add_argument(
        "--rules", help="rules file (default: the config's rules, else the bundled rules/rules.yaml)"
    )
    p.add_argument("--db", metavar="URL", help="record into this database (default: in memory, nothing kept)")
    p.add_argument(
        "--all", action="store_true", help="table: show every line, not only those with a decision"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from bot.config import load_config
    from bot.engine import Engine, load_rules
    from bot.ladder import Ladder
    from bot.moderation import MUTED_SPEAKING_RULE, MemoryRecords, Moderator
    from bot.replay import Replay, outcome_json, read_transcript

    config = load_config(getattr(args, "config", None))
    rules_path = Path(args.rules) if args.rules else config.rules_path
    rules = load_rules(rules_path)
    engine = Engine(rules)
    ladder = Ladder.from_rules(rules)

    errors = 0

    def report(err: TranscriptError) -> None:
        nonlocal errors
        errors += 1
        progress.clear()
        print(f"qunguard replay: {err} (line skipped)", file=sys.stderr)

    def warn(err: TranscriptError) -> None:
        progress.clear()
        print(f"qunguard replay: warning: {err}", file=sys.stderr)

    path = Path(args.transcript)
    stdin = args.transcript == "-"
    if not stdin and not path.is_file():
        raise TranscriptError("no such transcript file", str(path))
    progress = _Progress(
        sys.stderr,
        total=0 if stdin else path.stat().st_size,
        enabled=not args.no_progress and not stdin and sys.stderr.isatty(),
    )
    lines = _counting(
        sys.stdin if stdin else path.open(encoding="utf-8", errors="replace", newline=""), progress
    )
    entries = read_transcript(Path("stdin.jsonl") if stdin else path, lines=lines, on_warning=warn)

    exempt = set(_settings_list(rules, "exempt"))
    with _records(args.db, MemoryRecords) as records:
        replay = Replay(
            Moderator(engine, ladder, records),
            admins=set(config.bot.admins),
            bots=set(config.bot.helper_bots),
            exempt=exempt,
        )
        table = None if args.json else _Table(sys.stdout, show_all=args.all)
        shared_terminal = sys.stdout.isatty()
        counts: Counter[str] = Counter()
        started = time.monotonic()
        n = 0
        for outcome in replay.run(entries, report):
            n += 1
            d = outcome.decision
            if d is not None:
                counts.update(
                    "禁言中发言" if v.rule == MUTED_SPEAKING_RULE else v.category for v in d.violations
                )
            if shared_terminal:
                progress.clear()  # stdout and the bar share one terminal: keep lines clean
            if table is None:
                sys.stdout.write(json.dumps(outcome_json(outcome), ensure_ascii=False) + "\n")
            else:
                table.row(outcome)
            progress.tick()
        progress.done()
        if table is not None:
            table.footer(n, counts, errors)
        sys.stdout.flush()
    elapsed = time.monotonic() - started
    summary = ", ".join(f"{k} {v}" for k, v in counts.most_common()) or "no violations"
    print(
        f"qunguard replay: {n} lines in {elapsed:.2f}s ({summary}; {errors} bad lines skipped)",
        file=sys.stderr,
    )
    return 0


@contextlib.contextmanager
def _records(url: str | None, memory: Any) -> Iterator[Any]:
    if not url:
        yield memory()
        return
    try:
        from bot.store import open_records
    except ImportError as exc:
        raise QunguardError(f"--db needs the SQL store, which cannot be loaded: {exc}") from None
    records = open_records(url)
    if hasattr(records, "__enter__"):
        with records as opened:
            yield opened if opened is not None else records
    else:
        try:
            yield records
        finally:
            close = getattr(records, "close", None)
            if close is not None:
                close()


def _settings_list(rules: Any, key: str) -> list[str]:
    settings = getattr(rules, "settings", None)
    value = settings.get(key) if isinstance(settings, dict) else getattr(settings, key, None)
    return [str(v) for v in value] if isinstance(value, (list, tuple, set, frozenset)) else []


def _counting(handle: IO[str], progress: _Progress) -> Iterator[str]:
    with handle:
        for raw in handle:
            progress.advance(len(raw.encode("utf-8", "replace")))
            yield raw


class _Progress:
    """A one-line progress bar on stderr, only when stderr is a terminal."""

    MIN_BYTES = 256 * 1024  # short transcripts finish before a bar helps

    def __init__(self, stream: IO[str], total: int, enabled: bool) -> None:
        self.stream = stream
        self.total = total
        self.enabled = enabled and total >= self.MIN_BYTES
        self.read = 0
        self.lines = 0
        self.shown = False
        self.last = 0.0

    def advance(self, n: int) -> None:
        self.read += n

    def tick(self) -> None:
        self.lines += 1
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.last < 0.1:
            return
        self.last = now
        frac = min(1.0, self.read / self.total) if self.total else 0.0
        width = 30
        bar = "█" * int(frac * width) + "░" * (width - int(frac * width))
        self.stream.write(f"\rreplay {bar} {frac:4.0%} {self.lines} lines")
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.shown = False

    def done(self) -> None:
        self.clear()


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _fit(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` terminal columns (hanzi count two) and pad it."""
    text = " ".join(text.split())
    text = "".join(c for c in text if unicodedata.category(c) not in ("Cf", "Cc"))
    if _width(text) <= width:
        return text + " " * (width - _width(text))
    out, used = [], 0
    for c in text:
        w = 2 if unicodedata.east_asian_width(c) in "WF" else 1
        if used + w > width - 1:
            break
        out.append(c)
        used += w
    return "".join(out) + "…" + " " * (width - used - 1)


class _Table:
    COLUMNS = (("行", 5), ("时间", 14), ("群", 10), ("发送者", 16), ("内容", 34), ("违规", 32), ("处理", 0))

    def __init__(self, stream: IO[str], show_all: bool) -> None:
        self.stream = stream
        self.show_all = show_all
        self.header_done = False

    def _line(self, cells: list[str]) -> None:
        parts = [_fit(c, w) if w else c for c, (_, w) in zip(cells, self.COLUMNS, strict=True)]
        self.stream.write("  ".join(parts).rstrip() + "\n")

    def row(self, outcome: Any) -> None:
        from bot.events import MemberJoined, MemberLeft
        from bot.moderation import MUTED_SPEAKING_RULE

        d = outcome.decision
        if not self.show_all and not (d and (d.violations or d.actions)):
            return
        if not self.header_done:
            self._line([name for name, _ in self.COLUMNS])
            self.header_done = True
        event = outcome.event
        who = outcome.name or outcome.sender_id
        if isinstance(event, MemberJoined):
            content = f"[入群] 邀请人 {event.inviter_id}" if event.inviter_id else "[入群]"
        elif isinstance(event, MemberLeft):
            content = "[退群]"
        else:
            body = event.text or event.file_name or event.url
            content = body if event.type.value == "text" else f"[{event.type.value}] {body}"
        violations = ", ".join(
            "禁言中发言" if v.rule == MUTED_SPEAKING_RULE else f"{v.rule}({v.severity.label_zh})"
            for v in (d.violations if d else ())
        )
        actions = []
        for a in d.actions if d else ():
            if a.duration is not None:
                hours = a.duration.total_seconds() / 3600
                actions.append(f"{a.kind.value} {hours:g}h")
            else:
                actions.append(a.kind.value)
        if d is not None and d.duplicate:
            actions.append("(已处理过)")
        self._line(
            [
                str(outcome.line),
                f"{event.at:%m-%d %H:%M:%S}",
                outcome.room_id,
                who,
                content,
                violations,
                " ".join(actions),
            ]
        )

    def footer(self, n: int, counts: Counter[str], errors: int) -> None:
        if not self.header_done:
            self.stream.write(f"{n} 行，无违规。\n")
            return
        total = sum(counts.values())
        by_cat = "，".join(f"{k} {v}" for k, v in counts.most_common())
        self.stream.write(
            f"\n共 {n} 行，违规 {total} 条（{by_cat}）"
            + (f"，跳过坏行 {errors} 行" if errors else "")
            + "。\n"
        )
