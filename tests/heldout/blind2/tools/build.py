"""Build blind2/messages.jsonl and blind2/flood_*.jsonl from data_*.py.

Standard library only, fixed seed. Prints the counts used in README.md.
Usage: python build.py
"""

import json
import random
import sys
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent  # the corpus folder, above tools/
sys.path.insert(0, str(Path(__file__).resolve().parent))

from data_flood import TRANSCRIPTS  # noqa: E402
from data_messages import ROOMS, TOPICS  # noqa: E402

SEED = 20261210
START = datetime.fromisoformat("2026-12-10T08:00:00+08:00")
LABELS = ["clean", "ad", "banned_topic", "abuse", "flood"]
FLOOD_LABEL = {"C": "clean", "A": "ad", "F": "flood"}


def iso(t):
    return t.isoformat(timespec="seconds")


def event(ts, room, item, sender, name):
    ev = {
        "ts": iso(ts),
        "room": room,
        "topic": TOPICS[room],
        "type": item["type"],
        "from": sender,
        "name": name,
    }
    for k in ("text", "url", "title", "description", "app", "card_id", "card_name"):
        if k in item:
            ev[k] = item[k]
    return ev


def build_messages():
    rng = random.Random(SEED)
    queues = {}
    for room in ROOMS:
        units = [u if isinstance(u, list) else [u] for u in ROOMS[room]]
        rng.shuffle(units)
        queues[room] = [it for u in units for it in u]
    order = []
    while any(queues.values()):
        rooms = [r for r in queues if queues[r]]
        weights = [len(queues[r]) for r in rooms]
        r = rng.choices(rooms, weights)[0]
        order.append((r, queues[r].pop(0)))

    lines = []
    t = START
    for i, (room, item) in enumerate(order):
        if i:
            t = t + timedelta(seconds=rng.randint(120, 420))
            if t.hour >= 23 or t.hour < 7:
                nxt = (t if t.hour < 7 else t + timedelta(days=1)).replace(hour=7, minute=0, second=0)
                t = nxt + timedelta(seconds=rng.randint(0, 1800))
        ev = event(t, room, item, f"wxid_b{i + 1:04d}", item["name"])
        ev["expect"] = item["label"]
        if "ev" in item:
            ev["evasion"] = item["ev"]
        if "hn" in item:
            ev["hard_negative"] = item["hn"]
        if "bk" in item:
            ev["banned_kind"] = item["bk"]
        if item.get("unsure"):
            ev["unsure"] = True
        if "note" in item:
            ev["note"] = item["note"]
        lines.append(ev)
    return lines


def build_flood():
    out = {}
    n = 1000
    for tr in TRANSCRIPTS:
        start = datetime.fromisoformat(tr["start"])
        ids = {}
        for key in tr["people"]:
            n += 1
            ids[key] = f"wxid_b{n}"
        n = (n // 100 + 1) * 100
        lines = []
        for sec, who, content, lab in tr["lines"]:
            item = {"type": "text", "text": content} if isinstance(content, str) else dict(content)
            ev = event(start + timedelta(seconds=sec), tr["room"], item, ids[who], tr["people"][who])
            ev["expect"] = FLOOD_LABEL[lab]
            lines.append(ev)
        out[tr["file"]] = lines
    return out


def write(path, lines):
    with open(path, "w", encoding="utf-8") as f:
        for ev in lines:
            f.write(json.dumps(ev, ensure_ascii=False) + "\n")


ROOM_RULES = [
    (
        "b-safety",
        "化工安全管理交流群",
        "safety officers and engineers of chemical plants, parks and institutes; names `单位-姓名`",
        "safety-management and process-safety talk, accident cases with their source, regulations, alarming technical words (爆炸, 泄漏, 中毒, 硫化氢), phone/WeChat swapped on request, an expert's card shared on request",
        "job posts, suppliers pitching equipment or PPE, certificate/exam services (包过, 代办证书), paid report writing",
    ),
    (
        "b-study",
        "2027申请季留学交流群",
        "applicants, a few admitted seniors; free names",
        "application talk, official admissions links, free mutual essay review, contact swapped on request, a senior's card on request",
        "agencies and 中介, 代写文书/论文, score guarantees, paid research/internship 'background' products, personal QR codes and cards of strangers",
    ),
    (
        "b-fish",
        "周末钓鱼群",
        "anglers; free names",
        "spots, catches, gear talk, the club's own outings and AA fee breakdown, a repairer's card when asked",
        "selling gear or bait (members included), fishing-pond ads, 砍一刀/点赞拉票, own-channel promotion",
    ),
    (
        "b-help",
        "幸福里邻里互助群",
        "residents; names `楼栋-称呼` or free",
        "lending, free giveaways, lost and found, property/residents'-committee notices, the owners' committee's own vote, recommending a tradesman with his number when asked",
        "**any selling**: fruit, second-hand goods, 团购, services, insurance; 拉票 and 砍一刀",
    ),
    (
        "b-shop",
        "小厨房门店员工群",
        "staff of a small restaurant chain; names `门店-姓名`",
        "internal notices (this *is* the internal channel), schedules, fines and attendance notices, supplier and repairer contacts, meeting links",
        "selling anything to colleagues, side-hustle and loan offers, poaching job posts, leaking the chain's recipes or price lists outside",
    ),
    (
        "b-class",
        "2026级计算机3班",
        "freshmen, class officers, the counsellor; real names or nicknames",
        "class notices, the monitor's 班费 collection, course talk, club announcements after asking, contact swapped on request",
        "代课/代签到, 代写作业, phone-card and loan promotion, game boosting, 拉票, 砍一刀, second-hand selling, leaked exam papers",
    ),
]


def md_table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        out.append("| " + " | ".join(str(x) for x in r) + " |")
    return "\n".join(out)


def shown(ev):
    if ev["type"] == "text":
        s = ev["text"].replace("\n", " / ").replace("\u200b", "\\u200b")
    elif ev["type"] == "url":
        s = f"[url] {ev['title']} <{ev['url']}>"
    elif ev["type"] == "mini_program":
        s = f"[mini_program {ev['app']}] {ev['title']}"
    else:
        s = f"[contact_card] {ev['card_name']}"
    return s.replace("|", "\\|")


def write_readme(msgs, floods):
    from data_flood import TRANSCRIPTS as TRS

    L = []
    L.append("# blind2: blind evaluation corpus for qunguard")
    L.append("")
    L.append(
        "Hand-written Chinese WeChat group chat over six rooms that share nothing with the development "
        "corpus's rooms (gold, pm, alumni, work, photo, book). Nobody tuned the bot on it: use it only to "
        "measure, never to fix single lines. Format: `../../shared/formats/transcript.md`; labels and flood "
        'rules: `../../shared/corpus/dev/README.md` ("What each label means", "Flood rules used for the labels"), '
        "applied to the room rules below."
    )
    L.append("")
    L.append(
        "- `messages.jsonl`: 360 single messages, every one from a different sender (`wxid_b0001`...), "
        "at least 2 minutes apart, starting 2026-12-10 08:00 +08:00. Nothing in it can trigger flood."
    )
    L.append("- `flood_*.jsonl`: 4 short transcripts about flooding and a clean look-alike.")
    L.append(
        "- `check.py`: validator (JSON, fields, labels, time order, distinct senders and spacing, "
        "and an independent recomputation of the burst and repeat rules). Run: "
        "`python tools/check.py`."
    )
    L.append(
        "- `build.py`, `data_messages.py`, `data_flood.py`: the source; `python build.py` rewrites the JSONL "
        "and this README (fixed seed). Edit the data files, not the JSONL."
    )
    L.append("")
    L.append(
        "Extra fields (the bot must ignore them): `evasion`, `hard_negative`, `banned_kind`, `note`, `unsure`."
    )
    L.append("")
    L.append("## Counts per file and label")
    L.append("")
    rows = []
    tot = Counter()
    for name, lines in [("messages.jsonl", msgs), *sorted(floods.items())]:
        c = Counter(ev["expect"] for ev in lines)
        tot.update(c)
        rows.append([f"`{name}`", len(lines)] + [c.get(lab, 0) for lab in LABELS])
    rows.append(["**all**", sum(tot.values())] + [tot.get(lab, 0) for lab in LABELS])
    L.append(md_table(["file", "lines", *LABELS], rows))
    L.append("")
    L.append("## The rooms and the rules the labels assume")
    L.append("")
    L.append(
        "Every room forbids ads (selling, shop/loan/investment links, strangers' QR codes and contact cards, "
        "砍一刀/助力, 拉票, 互关), flooding, banned topics and personal attacks, as in the dev README. What differs:"
    )
    L.append("")
    L.append(
        md_table(
            ["room", "topic", "members, names", "also allowed", "also forbidden"],
            [[f"`{r}`", t, m, a, f] for r, t, m, a, f in ROOM_RULES],
        )
    )
    L.append("")
    L.append("Messages per room in `messages.jsonl`:")
    L.append("")
    per = defaultdict(Counter)
    for m in msgs:
        per[m["room"]][m["expect"]] += 1
    L.append(
        md_table(
            ["room", "messages", *LABELS[:4]],
            [[f"`{r}`", sum(per[r].values())] + [per[r].get(lab, 0) for lab in LABELS[:4]] for r in TOPICS],
        )
    )
    L.append("")
    L.append("Message types by label (`messages.jsonl`):")
    L.append("")
    types = Counter((m["type"], m["expect"]) for m in msgs)
    L.append(
        md_table(
            ["type", *LABELS[:4]],
            [
                [f"`{t}`"] + [types.get((t, lab), 0) for lab in LABELS[:4]]
                for t in ("text", "url", "mini_program", "contact_card")
            ],
        )
    )
    L.append("")
    L.append("Evasion techniques (lines using each; a line can use several):")
    L.append("")
    evc = defaultdict(Counter)
    for m in msgs:
        for e in m.get("evasion", []):
            evc[e][m["expect"]] += 1
    L.append(
        md_table(
            ["technique", "lines", "by label"],
            [
                [f"`{e}`", sum(c.values()), ", ".join(f"{k} {v}" for k, v in sorted(c.items()))]
                for e, c in sorted(evc.items(), key=lambda x: -sum(x[1].values()))
            ],
        )
    )
    L.append("")
    L.append("Hard negatives (clean lines that look flaggable), by kind:")
    L.append("")
    hn = Counter(m["hard_negative"] for m in msgs if "hard_negative" in m)
    L.append(md_table(["kind", "lines"], [[f"`{k}`", v] for k, v in hn.most_common()]))
    L.append("")
    bk = Counter(m["banned_kind"] for m in msgs if "banned_kind" in m)
    L.append("Banned topics: " + ", ".join(f"{k} {v}" for k, v in bk.most_common()) + ".")
    L.append("")
    L.append("## Flood transcripts")
    L.append("")
    rows = []
    for tr in TRS:
        lines = floods[tr["file"]]
        flooders = {ev["from"] for ev in lines if ev["expect"] == "flood"}
        nfl = sum(ev["expect"] == "flood" for ev in lines)
        rows.append([f"`{tr['file']}`", f"`{tr['room']}`", len(lines), len(flooders), nfl, tr["scenario"]])
    L.append(md_table(["file", "room", "lines", "flooders", "flood lines", "what happens"], rows))
    L.append("")
    L.append("## Lines I was unsure about")
    L.append("")
    L.append(
        "A reasonable admin could label these differently; the note gives the reasoning behind the label chosen."
    )
    L.append("")
    for i, m in enumerate(msgs, 1):
        if m.get("unsure"):
            L.append(
                f"- `messages.jsonl:{i}` ({m['room']}) **{m['expect']}**: `{shown(m)}`. {m.get('note', '')}"
            )
    L.append("")
    L.append("Other lines whose label depends on the room's rules (not doubtful, but worth knowing):")
    L.append("")
    for i, m in enumerate(msgs, 1):
        if m.get("note") and not m.get("unsure"):
            L.append(f"- `messages.jsonl:{i}` ({m['room']}) **{m['expect']}**: `{shown(m)}`. {m['note']}")
    L.append("")
    L.append("## Caveats")
    L.append("")
    L.append(
        "- All people, sender ids, phone numbers, WeChat/QQ handles, e-mail addresses and card ids are invented. "
        "A few clean url cards use real public domains (mem.gov.cn, weather.com.cn, ed.ac.uk, docs.qq.com) with "
        "invented paths; every ad domain is invented."
    )
    L.append(
        "- Zero-width evasions use the real U+200B character inside the JSON strings (shown as `\\u200b` above)."
    )
    L.append(
        "- Sender ids are unique across all five files; the same display name in two files is two different contacts."
    )
    L.append("- Banned-topic lines are mild on purpose: no real politicians, nothing graphic.")
    (HERE / "README.md").write_text("\n".join(L) + "\n", encoding="utf-8")


def main():
    msgs = build_messages()
    write(HERE / "messages.jsonl", msgs)
    floods = build_flood()
    for name, lines in floods.items():
        write(HERE / name, lines)
    write_readme(msgs, floods)

    names = Counter(m["name"] for m in msgs)
    dup = [n for n, c in names.items() if c > 1]
    if dup:
        print("WARNING duplicate names:", dup)

    print("file | lines | " + " | ".join(LABELS))
    for name, lines in [("messages.jsonl", msgs), *sorted(floods.items())]:
        c = Counter(ev["expect"] for ev in lines)
        print(name, len(lines), [c.get(lab, 0) for lab in LABELS])
    print()
    per = defaultdict(Counter)
    for m in msgs:
        per[m["room"]][m["expect"]] += 1
    for room in TOPICS:
        c = per[room]
        print(room, sum(c.values()), [c.get(lab, 0) for lab in LABELS[:4]])
    types = Counter((m["type"], m["expect"]) for m in msgs)
    print(sorted(types.items()))
    print("unsure lines:")
    for i, m in enumerate(msgs, 1):
        if m.get("unsure"):
            print(i, m["room"], m["expect"], m.get("text") or m.get("title") or m.get("card_name"))
    print("span:", msgs[0]["ts"], "->", msgs[-1]["ts"])


if __name__ == "__main__":
    main()
