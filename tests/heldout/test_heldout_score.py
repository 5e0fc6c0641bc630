"""The bundled rules keep their score on chat they were not written against.

``tests/heldout/`` is a hand-written corpus in six rooms that the dev corpus
does not have, labelled by the dev corpus's definitions. This test replays
every transcript through ``python -m bot replay --json`` (the same command the
evaluation runs) and scores it with the rules of ``shared/eval/score.py``:
ad, banned_topic and abuse per message, flood per sender and transcript, and
any violation on a clean line counts as a false alarm.

The floors are a regression guard set below what the rules scored when they
were last measured (macro F1 1.000 on both corpora, no false alarm on their 220
and 305 clean lines; the closing notes of the rules issue give the history), not
a target: raise them when the rules improve, never tune rules to single lines.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE / "tools"))

from build_heldout import flood_flags  # noqa: E402

# Measured 16:13 UTC: 0.889; 17:22 UTC after the rules engineer's fixes: 0.908 (clean false alarms 1/220).
MACRO_F1_FLOOR = 0.87
CLEAN_FALSE_ALARM_CEILING = 0.02
FRESH = HERE / "fresh"
"""A second corpus in six more rooms (tests/heldout/fresh/README.md), written without
looking at the rules: macro F1 0.851 on first sight (abuse recall 0.56, banned topics 0.67).
The rules were then widened against its misses, fixing general causes with examples of
their own wording, to 1.000: an upper bound from then on, kept here as a regression guard."""
FRESH_MACRO_F1_FLOOR = 0.97
BLIND2 = HERE / "blind2"
"""A third corpus in six more rooms (tests/heldout/blind2/README.md), written without looking
at the rules after they had been widened on the fresh one: macro F1 0.845 on first sight
(0.832 with the rules before that widening). A few general fixes to its false alarms and
misses followed (0.870), so it too is no longer blind."""
BLIND2_MACRO_F1_FLOOR = 0.85
FLOORS = {
    "heldout": (HERE, MACRO_F1_FLOOR),
    "fresh": (FRESH, FRESH_MACRO_F1_FLOOR),
    "blind2": (BLIND2, BLIND2_MACRO_F1_FLOOR),
}

MESSAGE_CATEGORIES = ("ad", "banned_topic", "abuse")
CATEGORIES = (*MESSAGE_CATEGORIES, "flood")
NOT_MESSAGES = {"join", "leave"}
# A gambling ad flagged as banned_topic, or a banned offer flagged as ad, is not a false alarm.
OVERLAPPING = {"ad": {"banned_topic"}, "banned_topic": {"ad"}}
TRANSCRIPTS = sorted(HERE.glob("*.jsonl"))


def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def replay(path: Path) -> dict[int, set[str]]:
    """Categories flagged on every line of one transcript, by 1-based line number."""
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "replay", "--json", "--no-progress", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, f"replay of {path.name} failed:\n{proc.stderr[-2000:]}"
    found: dict[int, set[str]] = {}
    for line in proc.stdout.splitlines():
        decision = json.loads(line)
        cats = {v["category"] for v in decision.get("violations") or []}
        found.setdefault(decision["line"], set()).update(cats)
    assert found, f"replay of {path.name} printed no decisions"
    return found


@dataclass
class Score:
    counts: dict[str, dict[str, int]] = field(
        default_factory=lambda: {c: {"tp": 0, "fp": 0, "fn": 0} for c in CATEGORIES}
    )
    clean_total: int = 0
    clean_alarms: int = 0
    misses: list[str] = field(default_factory=list)

    def add_transcript(self, path: Path, got_by_line: dict[int, set[str]]) -> None:
        flooders: set[str] = set()
        caught: set[str] = set()
        senders: set[str] = set()
        for number, row in enumerate(read_rows(path), start=1):
            if "expect" not in row or row["type"] in NOT_MESSAGES:
                continue
            expect, sender = row["expect"], row["from"]
            got = got_by_line.get(number, set())
            senders.add(sender)
            if expect == "flood":
                flooders.add(sender)
            if "flood" in got:
                caught.add(sender)
            where = f"{path.name}:{number} [{row.get('kind', '')}] {row.get('text', row.get('title', row.get('file', '')))[:50]!r}"
            if expect == "clean" and got:
                self.clean_alarms += 1
                self.misses.append(f"false alarm {sorted(got)} {where}")
            self.clean_total += expect == "clean"
            if expect == "flood":
                continue
            for cat in MESSAGE_CATEGORIES:
                c = self.counts[cat]
                if expect == cat and cat in got:
                    c["tp"] += 1
                elif expect == cat:
                    c["fn"] += 1
                    self.misses.append(f"missed {cat} {where}")
                elif cat in got and expect not in OVERLAPPING.get(cat, set()):
                    c["fp"] += 1
        flood = self.counts["flood"]
        for sender in senders:
            if sender in flooders:
                flood["tp" if sender in caught else "fn"] += 1
                if sender not in caught:
                    self.misses.append(f"missed flooder {path.name}:{sender}")
            elif sender in caught:
                flood["fp"] += 1
                self.misses.append(f"false flooder {path.name}:{sender}")

    def f1(self, cat: str) -> float:
        c = self.counts[cat]
        p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
        r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def macro_f1(self) -> float:
        return sum(self.f1(c) for c in CATEGORIES) / len(CATEGORIES)

    @property
    def clean_false_alarm(self) -> float:
        return self.clean_alarms / self.clean_total if self.clean_total else 0.0

    def report(self) -> str:
        per_cat = " ".join(f"{c}_f1={self.f1(c):.3f}" for c in CATEGORIES)
        return (
            f"macro_f1={self.macro_f1:.3f} clean_false_alarm={self.clean_false_alarm:.3f} {per_cat}\n"
            + "\n".join(self.misses)
        )


@pytest.fixture(scope="module", params=sorted(FLOORS))
def corpus(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def score(corpus: str) -> Score:
    transcripts = sorted(FLOORS[corpus][0].glob("*.jsonl"))
    with ThreadPoolExecutor(max_workers=len(transcripts)) as pool:
        outputs = list(pool.map(replay, transcripts))
    result = Score()
    for path, got in zip(transcripts, outputs, strict=True):
        result.add_transcript(path, got)
    return result


def test_heldout_macro_f1_stays_above_floor(score: Score, corpus: str) -> None:
    assert score.macro_f1 >= FLOORS[corpus][1], score.report()


def test_heldout_clean_lines_are_rarely_flagged(score: Score) -> None:
    assert score.clean_false_alarm <= CLEAN_FALSE_ALARM_CEILING, score.report()


def test_every_category_is_scored(score: Score) -> None:
    for cat in CATEGORIES:
        c = score.counts[cat]
        assert c["tp"] + c["fn"] > 0, f"no {cat} line in the held-out corpus"
    assert score.clean_total >= 200


# The corpus itself: what the labels promise must hold, or the score means nothing.


@pytest.mark.parametrize("folder", [HERE, FRESH, BLIND2], ids=["heldout", "fresh", "blind2"])
def test_single_messages_never_flood_by_construction(folder: Path) -> None:
    rows = read_rows(folder / "messages.jsonl")
    senders = [row["from"] for row in rows]
    assert len(set(senders)) == len(senders), "each single message must come from its own sender"
    times = [datetime.fromisoformat(row["ts"]) for row in rows]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 120, "single messages must be at least two minutes apart"
    assert {row["expect"] for row in rows} == {"ad", "banned_topic", "abuse", "clean"}


@pytest.mark.parametrize(
    "path",
    [
        p
        for p in (*TRANSCRIPTS, *sorted(FRESH.glob("*.jsonl")), *sorted(BLIND2.glob("*.jsonl")))
        if p.name.startswith("flood_")
    ],
    ids=lambda p: f"{p.parent.name}-{p.stem}",
)
def test_flood_labels_follow_the_flood_rules(path: Path) -> None:
    rows = read_rows(path)
    for number, (row, flagged) in enumerate(zip(rows, flood_flags(rows), strict=True), start=1):
        if row["type"] not in NOT_MESSAGES:
            assert flagged == (row["expect"] == "flood"), f"{path.name}:{number} {row}"


def test_media_referenced_by_the_corpus_exists() -> None:
    for path in TRANSCRIPTS:
        for row in read_rows(path):
            if "file" in row:
                assert (HERE / row["file"]).is_file(), f"{path.name}: missing {row['file']}"
