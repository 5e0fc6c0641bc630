"""Validate the fresh corpus in this folder.

Checks every *.jsonl here:
  - every line is a JSON object with the required fields for its type
  - `expect` is one of clean, ad, banned_topic, abuse, flood
  - ts parses (ISO 8601 with offset) and is strictly increasing within the file
  - flood labels agree with the README's rules, recomputed here:
      burst : a message is flood when the sender already sent 5 messages in the
              30 seconds before it (its 6th+ inside any 30 s window)
      repeat: a message is flood when the sender already sent 2 copies of it in
              the 10 minutes before it; "same" ignores digits, emoji, punctuation
              and spaces (emoji-only lines compare by their set of emoji)
messages.jsonl additionally: 420 lines, every sender distinct, >= 2 minutes
apart, no flood label, only text/url/mini_program/contact_card.
README.md: its count tables must match the files.

Run: python tools/check.py   (exit status 0 when all is well)
"""

import itertools
import json
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent  # the corpus folder, above tools/
LABELS = ["clean", "ad", "banned_topic", "abuse", "flood"]
NEEDS = {
    "text": ("text",),
    "url": ("url", "title", "description"),
    "mini_program": ("title", "app"),
    "contact_card": ("card_id", "card_name"),
    "emoticon": (),
}
COMMON = ("ts", "room", "topic", "type", "from", "name", "expect")
ROOMS = {
    "f-mine": "选矿设备维修交流群",
    "f-jobs": "27届求职交流群",
    "f-parents": "三年级二班家长群",
    "f-ward": "心内科护理组工作群",
    "f-hike": "周末徒步群",
    "f-owners": "锦绣花园业主群",
}
BURST_WINDOW, BURST_LIMIT = 30, 5
REPEAT_WINDOW, REPEAT_LIMIT = 600, 2

problems = []


def problem(where, what):
    problems.append(f"{where}: {what}")


def repeat_key(row):
    t = row["type"]
    if t == "text":
        norm = unicodedata.normalize("NFKC", row["text"]).lower()
        kept = "".join(
            ch
            for ch in norm
            if unicodedata.category(ch)[0] not in "PSZCN" and unicodedata.category(ch) != "Mn"
        )
        if kept:
            return "text:" + kept
        emoji = sorted({ch for ch in norm if unicodedata.category(ch) == "So"})
        return ("emoji:" + "".join(emoji)) if emoji else None
    if t == "url":
        return f"url:{row.get('url')}|{row.get('title')}"
    if t == "mini_program":
        return f"mp:{row.get('app')}|{row.get('title')}"
    if t == "contact_card":
        return f"card:{row.get('card_id')}"
    return None  # stickers carry nothing to compare; they still count for bursts


def expected_flood(rows):
    out = []
    history = defaultdict(list)
    for row in rows:
        t = row["_t"]
        key = repeat_key(row)
        past = history[row["from"]]
        recent = sum(1 for pt, _ in past if 0 <= t - pt <= BURST_WINDOW)
        copies = sum(1 for pt, pk in past if key is not None and pk == key and 0 <= t - pt <= REPEAT_WINDOW)
        out.append(recent >= BURST_LIMIT or copies >= REPEAT_LIMIT)
        past.append((t, key))
    return out


def read(path):
    rows = []
    raw = path.read_text(encoding="utf-8")
    if "\\u200b" in raw.lower():
        problem(path.name, "zero-width space written as an escape; write the raw character")
    prev = None
    for n, text in enumerate(raw.splitlines(), start=1):
        where = f"{path.name}:{n}"
        try:
            row = json.loads(text)
        except json.JSONDecodeError as e:
            problem(where, f"not JSON ({e})")
            continue
        if not isinstance(row, dict):
            problem(where, "not an object")
            continue
        ok = True
        for f in COMMON:
            if f not in row or row[f] in (None, ""):
                problem(where, f"missing {f}")
                ok = False
        if not ok:
            continue
        if row["type"] not in NEEDS:
            problem(where, f"type {row['type']!r} not allowed here (no media files are shipped)")
            continue
        for f in NEEDS[row["type"]]:
            if not isinstance(row.get(f), str) or not row[f].strip():
                problem(where, f"type {row['type']} needs {f}")
        if row["expect"] not in LABELS:
            problem(where, f"bad expect {row['expect']!r}")
        if ROOMS.get(row["room"]) != row["topic"]:
            problem(where, f"room/topic mismatch {row['room']} / {row['topic']}")
        try:
            ts = datetime.fromisoformat(row["ts"])
            if ts.utcoffset() is None:
                raise ValueError("no offset")
        except ValueError as e:
            problem(where, f"bad ts {row['ts']!r} ({e})")
            continue
        row["_t"] = ts.timestamp()
        if prev is not None and row["_t"] <= prev:
            problem(where, "ts not strictly increasing")
        prev = row["_t"]
        row["_line"] = n
        rows.append(row)
    return rows


def check_flood(path, rows):
    for row, exp in zip(rows, expected_flood(rows), strict=True):
        got = row["expect"] == "flood"
        if got != exp:
            problem(
                f"{path.name}:{row['_line']}",
                f"labelled {row['expect']} but the flood rules say {'flood' if exp else 'not flood'}",
            )


def check_messages(rows):
    if len(rows) != 420:
        problem("messages.jsonl", f"{len(rows)} lines, expected 420")
    senders = Counter(r["from"] for r in rows)
    for s, c in senders.items():
        if c > 1:
            problem("messages.jsonl", f"sender {s} appears {c} times")
    for a, b in itertools.pairwise(rows):
        if b["_t"] - a["_t"] < 120:
            problem(f"messages.jsonl:{b['_line']}", "less than 2 minutes after the previous line")
    rooms = Counter(r["room"] for r in rows)
    if set(rooms) != set(ROOMS):
        problem("messages.jsonl", f"rooms {sorted(rooms)}")


def readme_rows(text):
    """{file: [lines, clean, ad, banned, abuse, flood]} from the README's first table."""
    out = {}
    for m in re.finditer(
        r"^\| `([^`]+\.jsonl)` \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|$", text, re.M
    ):
        out[m.group(1)] = [int(x) for x in m.groups()[1:]]
    rooms = {}
    for m in re.finditer(
        r"^\| `(f-[a-z]+)` \| [^|]+ \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|$", text, re.M
    ):
        rooms[m.group(1)] = [int(x) for x in m.groups()[1:]]
    return out, rooms


def main():
    files = sorted(HERE.glob("*.jsonl"))
    if not any(f.name == "messages.jsonl" for f in files):
        problem("messages.jsonl", "missing")
    counts = {}
    room_counts = {}
    for path in files:
        rows = read(path)
        check_flood(path, rows)
        if path.name == "messages.jsonl":
            check_messages(rows)
            for room in ROOMS:
                c = Counter(r["expect"] for r in rows if r["room"] == room)
                room_counts[room] = [sum(c.values())] + [c.get(k, 0) for k in LABELS[:4]]
        else:
            if len({r["room"] for r in rows}) != 1:
                problem(path.name, "a flood transcript must use one room")
            if not 20 <= len(rows) <= 35:
                problem(path.name, f"{len(rows)} lines, expected 20-35")
        c = Counter(r["expect"] for r in rows)
        counts[path.name] = [len(rows)] + [c.get(k, 0) for k in LABELS]

    readme = HERE / "README.md"
    if readme.exists():
        table, rtable = readme_rows(readme.read_text(encoding="utf-8"))
        for f, got in counts.items():
            if table.get(f) != got:
                problem("README.md", f"count row for {f} is {table.get(f)}, files say {got}")
        for f in table:
            if f not in counts:
                problem("README.md", f"lists {f}, which does not exist")
        for room, got in room_counts.items():
            if rtable.get(room) != got:
                problem("README.md", f"room row for {room} is {rtable.get(room)}, file says {got}")
    else:
        problem("README.md", "missing")

    print(f"{'file':34} {'lines':>5} " + " ".join(f"{k:>12}" for k in LABELS))
    for f, c in counts.items():
        print(f"{f:34} {c[0]:>5} " + " ".join(f"{x:>12}" for x in c[1:]))
    print()
    for room, c in room_counts.items():
        print(f"{room:12} {c[0]:>4} " + " ".join(f"{x:>12}" for x in c[1:]))
    print()
    if problems:
        print(f"{len(problems)} problem(s):")
        for p in problems:
            print("  " + p)
        return 1
    print("OK: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
