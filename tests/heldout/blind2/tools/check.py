"""Validate the blind2 corpus.

Checks every *.jsonl in this folder:
  - each line is valid JSON with the required fields for its type;
  - `expect` is one of clean, ad, banned_topic, abuse, flood;
  - ts is ISO 8601 with an offset and strictly increasing within the file;
  - the burst and repeat flood rules, recomputed, agree with every `flood` label
    (and no line the rules flag is labelled otherwise);
messages.jsonl additionally: 360 lines, every sender distinct (wxid_bNNNN),
consecutive lines at least 2 minutes apart, first line at 2026-12-10 08:00+08:00,
no images, no `flood` label.
flood_*.jsonl: 20-30 lines each. Sender ids must not repeat across files.

Flood rules (README "Flood rules used for the labels"):
  burst:  a message is flood when the same sender already sent >= 5 messages
          in the 30 seconds before it (t - 30s < t_prev <= t);
  repeat: a message is flood when the same sender already sent >= 2 copies of
          it in the 10 minutes before it (t - 600s <= t_prev). "Same" ignores
          digits, emoji, punctuation and spaces; cards compare title and link.

Standard library only. Exit status 0 when everything passes.
"""

import json
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent  # the corpus folder, above tools/
LABELS = {"clean", "ad", "banned_topic", "abuse", "flood"}
TYPES = {"text", "url", "mini_program", "contact_card", "image", "video", "file", "emoticon", "join", "leave"}
ROOMS = {
    "b-safety": "化工安全管理交流群",
    "b-study": "2027申请季留学交流群",
    "b-fish": "周末钓鱼群",
    "b-help": "幸福里邻里互助群",
    "b-shop": "小厨房门店员工群",
    "b-class": "2026级计算机3班",
}
COMMON = ("ts", "room", "topic", "type", "from", "name", "expect")
BY_TYPE = {
    "text": ("text",),
    "url": ("url", "title", "description"),
    "mini_program": ("title", "app"),
    "contact_card": ("card_id", "card_name"),
}
WECHAT_EMOJI = re.compile(
    r"\[(?:抱拳|捂脸|呲牙|强|玫瑰|OK|偷笑|奸笑|旺柴|裂开|微笑|流泪|害羞|愉快|耶|加油|让我看看|哇|合十|庆祝|爱心|礼物|红包|发|福|烟花)\]"
)
BURST_N, BURST_WIN = 5, timedelta(seconds=30)
REPEAT_N, REPEAT_WIN = 2, timedelta(seconds=600)
MIN_GAP = timedelta(minutes=2)

errors = []
warnings = []


def err(where, msg):
    errors.append(f"{where}: {msg}")


def norm_text(s):
    s = unicodedata.normalize("NFKC", s).lower()
    s = WECHAT_EMOJI.sub("", s)
    # drop punctuation (P*), symbols incl. emoji (S*), spaces (Z*), digits and
    # other numbers such as circled digits (N*), control/format chars such as
    # zero-width spaces (C*) and combining marks incl. variation selectors (M*)
    return "".join(ch for ch in s if unicodedata.category(ch)[0] not in "PSZNCM")


def same_key(ev):
    t = ev.get("type")
    if t == "text":
        return ("text", norm_text(ev.get("text", "")))
    if t == "url":
        return ("url", norm_text(ev.get("title", "")), ev.get("url", ""))
    if t == "mini_program":
        return ("mini_program", norm_text(ev.get("title", "")), ev.get("app", ""))
    if t == "contact_card":
        return ("contact_card", ev.get("card_id", ""), norm_text(ev.get("card_name", "")))
    if t in ("image", "video", "file"):
        return (t, ev.get("file", ""))
    return (t, norm_text(ev.get("text", "") or ""))


def flood_flags(events):
    """events: list of (ts, from, key). Returns list of (is_flood, reason)."""
    hist = defaultdict(list)  # sender -> [(ts, key)]
    out = []
    for ts, who, key in events:
        prev = hist[who]
        burst = sum(1 for t, _ in prev if ts - t < BURST_WIN)
        rep = sum(1 for t, k in prev if k == key and ts - t <= REPEAT_WIN)
        for t, k in prev:  # boundary cases are ambiguous: flag them
            if ts - t == BURST_WIN:
                warnings.append(f"sender {who} has two messages exactly 30 s apart ({t.isoformat()})")
            if k == key and ts - t in (REPEAT_WIN, REPEAT_WIN + timedelta(seconds=1)):
                warnings.append(
                    f"sender {who} repeats a copy exactly at the 10-minute edge ({t.isoformat()})"
                )
        reasons = []
        if burst >= BURST_N:
            reasons.append(f"burst ({burst} earlier messages in 30 s)")
        if rep >= REPEAT_N:
            reasons.append(f"repeat ({rep} earlier copies in 10 min)")
        out.append((bool(reasons), ", ".join(reasons)))
        prev.append((ts, key))
    return out


def parse_ts(where, s):
    try:
        t = datetime.fromisoformat(s)
    except (TypeError, ValueError):
        err(where, f"bad ts {s!r}")
        return None
    if t.tzinfo is None:
        err(where, f"ts {s!r} has no offset")
        return None
    return t


def check_file(path, senders_seen):
    name = path.name
    lines = path.read_text(encoding="utf-8").splitlines()
    evs = []
    for i, raw in enumerate(lines, 1):
        where = f"{name}:{i}"
        if not raw.strip():
            err(where, "empty line")
            continue
        if "\\u200b" in raw.lower():
            err(where, "zero-width space written as an escape, not the real character")
        try:
            ev = json.loads(raw)
        except json.JSONDecodeError as e:
            err(where, f"invalid JSON: {e}")
            continue
        if not isinstance(ev, dict):
            err(where, "not an object")
            continue
        for k in COMMON:
            if k not in ev or ev[k] in (None, ""):
                err(where, f"missing field {k!r}")
        t = ev.get("type")
        if t not in TYPES:
            err(where, f"unknown type {t!r}")
        for k in BY_TYPE.get(t, ()):
            if not isinstance(ev.get(k), str) or not ev.get(k):
                err(where, f"type {t} needs a non-empty {k!r}")
        if ev.get("expect") not in LABELS:
            err(where, f"expect {ev.get('expect')!r} not in {sorted(LABELS)}")
        room = ev.get("room")
        if room not in ROOMS:
            err(where, f"unknown room {room!r}")
        elif ev.get("topic") != ROOMS[room]:
            err(where, f"topic {ev.get('topic')!r} does not match room {room}")
        ts = parse_ts(where, ev.get("ts"))
        evs.append((i, ev, ts))

    # time order
    prev = None
    for i, ev, ts in evs:
        if ts is None:
            continue
        if prev is not None and ts <= prev:
            err(f"{name}:{i}", f"ts {ev['ts']} not after the previous line")
        prev = ts

    # flood labels
    seq = [(ts, ev.get("from"), same_key(ev)) for _, ev, ts in evs if ts is not None]
    idx = [i for i, _, ts in evs if ts is not None]
    labs = [ev.get("expect") for _, ev, ts in evs if ts is not None]
    for line, lab, (is_flood, why) in zip(idx, labs, flood_flags(seq), strict=False):
        if is_flood and lab != "flood":
            err(f"{name}:{line}", f"rules say flood [{why}] but expect is {lab!r}")
        if lab == "flood" and not is_flood:
            err(f"{name}:{line}", "labelled flood but neither the burst nor the repeat rule fires")

    # senders unique across files
    for s in {ev.get("from") for _, ev, _ in evs}:
        if s in senders_seen and senders_seen[s] != name:
            err(name, f"sender {s} also appears in {senders_seen[s]}")
        senders_seen.setdefault(s, name)
    return evs


def check_messages(evs):
    name = "messages.jsonl"
    if len(evs) != 360:
        err(name, f"{len(evs)} lines, expected 360")
    froms = Counter(ev.get("from") for _, ev, _ in evs)
    for s, c in froms.items():
        if c > 1:
            err(name, f"sender {s} appears {c} times")
        if not re.fullmatch(r"wxid_b\d{4}", s or ""):
            err(name, f"sender id {s!r} is not wxid_bNNNN")
    names = Counter(ev.get("name") for _, ev, _ in evs)
    for n, c in names.items():
        if c > 1:
            warnings.append(f"{name}: display name {n!r} used by {c} senders")
    if evs and evs[0][1].get("ts") != "2026-12-10T08:00:00+08:00":
        err(name, f"first ts is {evs[0][1].get('ts')}, expected 2026-12-10T08:00:00+08:00")
    prev = None
    for i, ev, ts in evs:
        if ts is None:
            continue
        if prev is not None and ts - prev < MIN_GAP:
            err(f"{name}:{i}", f"only {(ts - prev).total_seconds():.0f} s after the previous line (need 120)")
        prev = ts
        if ev.get("type") in ("image", "video", "file", "emoticon", "join", "leave"):
            err(f"{name}:{i}", f"type {ev.get('type')} not wanted in messages.jsonl")
        if ev.get("expect") == "flood":
            err(f"{name}:{i}", "messages.jsonl must not contain flood labels")
    if not any("\u200b" in json.dumps(ev, ensure_ascii=False) for _, ev, _ in evs):
        err(name, "no real U+200B anywhere (zero-width evasion missing)")


def main():
    files = sorted(HERE.glob("*.jsonl"))
    if not (HERE / "messages.jsonl").exists():
        err("messages.jsonl", "missing")
    floods = [p for p in files if p.name.startswith("flood_")]
    if len(floods) != 4:
        err("flood_*.jsonl", f"{len(floods)} files, expected 4")
    senders = {}
    table = []
    for p in files:
        evs = check_file(p, senders)
        if p.name == "messages.jsonl":
            check_messages(evs)
        elif not 20 <= len(evs) <= 30:
            err(p.name, f"{len(evs)} lines, expected 20-30")
        c = Counter(ev.get("expect") for _, ev, _ in evs)
        table.append((p.name, len(evs), c))

    order = ["clean", "ad", "banned_topic", "abuse", "flood"]
    print(f"{'file':32} {'lines':>5} " + " ".join(f"{lab:>12}" for lab in order))
    for n, total, c in table:
        print(f"{n:32} {total:>5} " + " ".join(f"{c.get(lab, 0):>12}" for lab in order))
    for w in sorted(set(warnings)):
        print("WARNING", w)
    if errors:
        for e in errors:
            print("ERROR", e)
        print(f"FAIL: {len(errors)} error(s)")
        return 1
    print("OK: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
