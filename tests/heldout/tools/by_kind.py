"""Per-kind view of the held-out score: which evasion families are missed, which clean talk is flagged.

    .venv/bin/python tests/heldout/tools/by_kind.py [TRANSCRIPT ...]

Replays each transcript (default: every tests/heldout/*.jsonl) with
``python -m bot replay --json`` and groups the labelled lines by their ``kind``
field: for flagged labels, how many were caught with the right category; for
clean lines, how many were flagged. Lines that went wrong are listed under
their kind, so a rule change can be judged by family rather than by line.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
ROOT = HERE.parent.parent
OVERLAPPING = {"ad": {"banned_topic"}, "banned_topic": {"ad"}}


def decisions(path: Path) -> dict[int, list[dict]]:
    out = subprocess.run(
        [sys.executable, "-m", "bot", "replay", "--json", "--no-progress", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = (json.loads(line) for line in out.splitlines() if line.strip())
    return {d["line"]: d["violations"] for d in rows}


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted(HERE.glob("*.jsonl"))
    groups: dict[tuple[str, str], list[tuple[bool, str]]] = defaultdict(list)
    for path in paths:
        got = decisions(path)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            row = json.loads(line)
            expect = row.get("expect")
            if expect in (None, "flood"):
                continue
            violations = got.get(number, [])
            cats = {v["category"] for v in violations}
            ok = not cats if expect == "clean" else expect in cats
            shown = row.get("text") or row.get("title") or row.get("card_name") or row.get("file", "")
            rules = ",".join(v["rule"] for v in violations) or "-"
            groups[(expect, row.get("kind", path.stem))].append(
                (ok, f"{path.name}:{number} [{rules}] {shown[:60]!r}")
            )
    for (expect, kind), items in sorted(
        groups.items(), key=lambda kv: (kv[0][0], -sum(not ok for ok, _ in kv[1]))
    ):
        good = sum(ok for ok, _ in items)
        print(f"{expect:<13}{kind:<30}{good:>3}/{len(items):<3}")
        for ok, text in items:
            if not ok:
                print(f"    {'FALSE ALARM' if expect == 'clean' else 'missed'} {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
