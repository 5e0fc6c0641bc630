"""Build the held-out corpus (tests/heldout/*.jsonl, images/, files/) from the data modules.

    .venv/bin/python tests/heldout/tools/build_heldout.py

Deterministic (fixed seed): ids, times and the order of the single messages
are derived, the sentences are hand-written in ``heldout_data.py`` and
``flood_data.py``. Flood labels are recomputed from the corpus's flood rules
and the build fails when one disagrees. QR images are made with ``qrcode``
and checked to decode with ``zxingcpp`` (what the bot itself uses).
"""

from __future__ import annotations

import json
import random
import string
import sys
import unicodedata
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from flood_data import FLOODS
from heldout_data import MESSAGES, ROOMS

HERE = Path(__file__).resolve().parent.parent
SEED = 20261201
BURST_WINDOW, BURST_LIMIT = 30, 5
REPEAT_WINDOW, REPEAT_LIMIT = 600, 2
NOT_MESSAGES = {"join", "leave"}

QR_IMAGES = {
    "qr_personal_a.png": ("plain", "https://u.wechat.com/kQ7mR2xVb9TzLp4Nw_c8Hd"),
    "qr_personal_b.png": ("poster", "https://u.wechat.com/Zt3pX8qLm1VbR7cK_d2Wn"),
    "qr_group_invite.png": ("tilted", "https://weixin.qq.com/g/AbQ9xT2kLm7vZc4RpN8sWy"),
    "qr_official_account.png": ("plain", "http://weixin.qq.com/r/Pz4mXq8LtR2nVb7kYw3c"),
    "qr_reunion_fee.png": ("framed", "wxp://f2f1Lm7qZx3TbN9kRv4Pw8Hc2Jd6Ys5E"),
    "qr_class_fee.png": ("framed", "wxp://f2f0Rt5mKx9WqB2nLz7Vc4Ph8Jy3Ds6A"),
}
PLAIN_IMAGES = ("furnace_sketch.png", "ride_photo.png")
FILES = (
    "铅冶炼烟气制酸工艺综述.pdf",
    "某冶炼厂_2027年度财务预算_机密.pdf",
    "10月运营月报.xlsx",
)


def wxid(rng: random.Random, used: set[str]) -> str:
    while True:
        n = rng.randint(8, 13)
        cid = "wxid_" + "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(n))
        if cid not in used:
            used.add(cid)
            return cid


def event(room: str, ts: datetime, cid: str, name: str, payload: object, label: str | None) -> dict:
    row: dict = {"ts": ts.isoformat(), "room": room, "topic": ROOMS[room]}
    if isinstance(payload, str):
        row.update(type="text", **{"from": cid, "name": name, "text": payload})
    else:
        row.update({"type": payload["type"], "from": cid, "name": name})
        row.update({k: v for k, v in payload.items() if k != "type"})
    if label is not None:
        row["expect"] = label
    return row


def repeat_key(row: dict) -> str | None:
    t = row["type"]
    if t == "text":
        s = unicodedata.normalize("NFKC", row["text"]).lower()
        s = "".join(
            c for c in s if unicodedata.category(c)[0] not in "PSZCN" and unicodedata.category(c) != "Mn"
        )
        return "text:" + s if s else None
    if t in ("image", "file", "video"):
        return f"{t}:{row.get('file')}"
    if t == "url":
        return f"url:{row.get('url')}|{row.get('title')}"
    if t == "mini_program":
        return f"mp:{row.get('app')}|{row.get('title')}"
    if t == "contact_card":
        return f"card:{row.get('card_id')}"
    return None


def flood_flags(rows: list[dict]) -> list[bool]:
    out = []
    past: dict[str, list[tuple[float, str | None]]] = defaultdict(list)
    for row in rows:
        if row["type"] in NOT_MESSAGES:
            out.append(False)
            continue
        t = datetime.fromisoformat(row["ts"]).timestamp()
        key = repeat_key(row)
        mine = past[row["from"]]
        recent = sum(1 for pt, _ in mine if t - pt <= BURST_WINDOW)
        copies = sum(1 for pt, pk in mine if key is not None and pk == key and t - pt <= REPEAT_WINDOW)
        out.append(recent >= BURST_LIMIT or copies >= REPEAT_LIMIT)
        mine.append((t, key))
    return out


def build_messages(rng: random.Random, used: set[str]) -> list[dict]:
    entries = list(MESSAGES)
    rng.shuffle(entries)
    ts = datetime.fromisoformat("2026-12-01T07:30:00+08:00")
    rows = []
    for room, label, kind, payload, name in entries:
        row = event(room, ts, wxid(rng, used), name, payload, label)
        row["kind"] = kind
        rows.append(row)
        ts += timedelta(seconds=rng.randint(125, 560))
        if ts.hour >= 23:
            ts = (ts + timedelta(hours=8)).replace(hour=7, minute=rng.randint(0, 40))
    return rows


def build_flood(spec: dict, rng: random.Random, used: set[str]) -> list[dict]:
    start = datetime.fromisoformat(spec["start"])
    ids = {who: wxid(rng, used) for who in spec["cast"]}
    rows = []
    for seconds, who, label, payload in spec["lines"]:
        row = event(
            spec["room"], start + timedelta(seconds=seconds), ids[who], spec["cast"][who], payload, label
        )
        if row["type"] == "join":
            row.pop("name", None)
        rows.append(row)
    return rows


def check_flood_labels(name: str, rows: list[dict]) -> list[str]:
    problems = []
    for number, (row, flagged) in enumerate(zip(rows, flood_flags(rows), strict=True), start=1):
        if row["type"] in NOT_MESSAGES:
            continue
        if flagged != (row["expect"] == "flood"):
            problems.append(f"{name}:{number}: label {row['expect']!r}, flood rules say flood={flagged}")
    return problems


def make_images() -> None:
    import qrcode
    import zxingcpp
    from PIL import Image, ImageDraw

    out = HERE / "images"
    out.mkdir(exist_ok=True)
    for fname, (style, payload) in QR_IMAGES.items():
        qr = qrcode.make(payload, box_size=8, border=4).convert("RGB")
        if style == "poster":
            img = Image.new("RGB", (620, 900), (250, 236, 214))
            d = ImageDraw.Draw(img)
            d.rectangle((0, 0, 620, 160), fill=(200, 40, 40))
            d.text((40, 60), "PART-TIME  OFFER  /  DAILY PAY", fill=(255, 255, 255))
            d.rectangle((40, 720, 580, 860), fill=(255, 200, 0))
            d.text((70, 780), "SCAN TO ADD ME", fill=(0, 0, 0))
            qr = qr.resize((360, 360))
            img.paste(qr, (130, 260))
        elif style == "tilted":
            img = Image.new("RGB", (qr.width + 120, qr.height + 120), (255, 255, 255))
            img.paste(qr, (60, 60))
            img = img.rotate(9, expand=True, fillcolor=(255, 255, 255))
        elif style == "framed":
            img = Image.new("RGB", (qr.width + 100, qr.height + 220), (26, 173, 25))
            inner = Image.new("RGB", (qr.width + 40, qr.height + 40), (255, 255, 255))
            inner.paste(qr, (20, 20))
            img.paste(inner, (30, 60))
            ImageDraw.Draw(img).text((40, qr.height + 130), "PAY ME", fill=(255, 255, 255))
        else:
            img = qr
        img.save(out / fname)
        found = [b.text for b in zxingcpp.read_barcodes(img.convert("L"))]
        if payload not in found:
            raise SystemExit(f"{fname}: QR does not decode back to its payload (got {found})")
    furnace = Image.new("RGB", (640, 420), (235, 235, 235))
    d = ImageDraw.Draw(furnace)
    d.rectangle((120, 120, 520, 320), outline=(60, 60, 60), width=6)
    d.polygon([(120, 120), (320, 40), (520, 120)], outline=(60, 60, 60))
    d.ellipse((280, 300, 360, 380), fill=(230, 120, 30))
    d.text((140, 140), "bottom-blown furnace, sketch", fill=(0, 0, 0))
    furnace.save(out / "furnace_sketch.png")
    ride = Image.new("RGB", (800, 500), (140, 190, 240))
    d = ImageDraw.Draw(ride)
    d.rectangle((0, 330, 800, 500), fill=(90, 160, 80))
    d.line((0, 420, 800, 360), fill=(120, 120, 120), width=24)
    for x in (250, 420):
        d.ellipse((x - 40, 330, x + 40, 410), outline=(20, 20, 20), width=5)
    d.ellipse((620, 40, 720, 140), fill=(255, 220, 80))
    ride.save(out / "ride_photo.png")
    for fname in PLAIN_IMAGES:
        if zxingcpp.read_barcodes(Image.open(out / fname).convert("L")):
            raise SystemExit(f"{fname}: an ordinary picture must not contain a QR code")


def make_files() -> None:
    out = HERE / "files"
    out.mkdir(exist_ok=True)
    for fname in FILES:
        (out / fname).write_bytes(b"%PDF-1.4\n% placeholder: only the file name carries meaning\n%%EOF\n")


def write(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def main() -> int:
    rng = random.Random(SEED)
    used: set[str] = set()
    messages = build_messages(rng, used)
    problems = [f"messages.jsonl:{n}" for n, f in enumerate(flood_flags(messages), 1) if f]
    write(HERE / "messages.jsonl", messages)
    counts = {"messages.jsonl": Counter(r["expect"] for r in messages)}
    for name, spec in FLOODS.items():
        rows = build_flood(spec, rng, used)
        problems += check_flood_labels(name, rows)
        write(HERE / f"{name}.jsonl", rows)
        counts[f"{name}.jsonl"] = Counter(r.get("expect") for r in rows if r["type"] not in NOT_MESSAGES)
    make_images()
    make_files()
    for name, c in counts.items():
        print(f"{name:<30}{sum(c.values()):>5}  " + " ".join(f"{k}={v}" for k, v in sorted(c.items())))
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
