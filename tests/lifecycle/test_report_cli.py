"""``qunguard report`` and ``qunguard digest`` on a real SQLite file, from a replayed transcript."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from bot.cli import main
from bot.store import open_store
from bot.store.lifecycle_repo import LifecycleRepo
from tests.lifecycle.helpers import LI, ROOM, local

LOCAL = Path(__file__).parent / "data" / "gold_week.jsonl"
"""A week of the gold group: talk, two newcomers posting ads, one leaving."""
SHARED = Path("/work/shared/corpus/dev/messages.jsonl")
"""The shared development corpus, where this machine has it."""
SOURCES = [
    pytest.param(LOCAL, id="gold-week"),
    pytest.param(
        SHARED,
        id="shared-corpus",
        marks=pytest.mark.skipif(not SHARED.is_file(), reason="no shared corpus on this machine"),
    ),
]


def room_lines(path: Path, room: str) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if r.get("room") == room]


def assert_real_chart(png: Path) -> None:
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(png) as im:
        im.load()
        assert im.size == (1000, 900)
        colours = im.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 20, "a drawn chart, not a blank image"
    assert 20_000 < png.stat().st_size < 2_000_000


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # replay --db keeps its journal under ./.qunguard
    monkeypatch.delenv("QUNGUARD_CONFIG", raising=False)


@pytest.mark.parametrize("source", SOURCES)
def test_report_png_after_replay_db(source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert main(["replay", "--db", url, "--no-progress", str(source)]) == 0
    capsys.readouterr()
    png = tmp_path / "gold.png"
    assert (
        main(
            [
                "report",
                "--room",
                "d-gold",
                "--since",
                "30d",
                "--until",
                "2026-11-30",
                "--png",
                str(png),
                "--db",
                url,
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "「金矿提金技术交流群」(d-gold)  2026-11-01 至 2026-11-30"
    assert "各规则触犯次数：" in out and "ad-" in out
    total = next(line for line in out.splitlines() if line.startswith("合计"))
    messages = [r for r in room_lines(source, "d-gold") if r.get("type") not in ("join", "leave")]
    assert int(total.split()[1]) == len(messages), "replay --db counts every message of the room"
    assert_real_chart(png)


@pytest.mark.parametrize("source", SOURCES)
def test_report_from_a_transcript_counts_messages_and_speakers(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    png = tmp_path / "gold.png"
    assert (
        main(
            [
                "report",
                "--room",
                "d-gold",
                "--since",
                "2026-11-01",
                "--until",
                "2026-11-30",
                "--transcript",
                str(source),
                "--png",
                str(png),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    rows = [r for r in room_lines(source, "d-gold") if r.get("type") not in ("join", "leave")]
    total = next(line for line in out.splitlines() if line.startswith("合计"))
    assert int(total.split()[1]) == len(rows), "every message of the room is counted"
    per_member = Counter(r["from"] for r in rows)
    lines = out.splitlines()
    first = lines[lines.index("活跃榜：") + 1].split()
    n, contact = int(first[0]), first[-1].strip("()")
    assert n == per_member[contact] == max(per_member.values()), "the most active member comes first"
    assert_real_chart(png)


def test_report_names_an_unknown_room_and_a_missing_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--room", "x", "--db", f"sqlite:///{tmp_path / 'none.db'}"]) == 1
    assert "no database at" in capsys.readouterr().err
    url = f"sqlite:///{tmp_path / 'y.db'}"
    open_store(url, journal_dir=None).close()
    assert main(["report", "--room", "nowhere", "--db", url]) == 1
    assert "no room 'nowhere'" in capsys.readouterr().err
    assert main(["report", "--room", "nowhere", "--since", "yesterday", "--db", url]) == 1
    capsys.readouterr()
    with open_store(url, journal_dir=None) as store:
        store.upsert_room(ROOM, topic="金矿提金技术交流群")
    assert main(["report", "--db", url]) == 0
    assert f"  {ROOM}  金矿提金技术交流群" in capsys.readouterr().out, "without --room: the rooms there are"


def test_digest_writes_the_month_as_markdown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'z.db'}"
    with open_store(url, journal_dir=None) as store:
        store.upsert_room(ROOM, topic="金矿提金技术交流群")
        repo = LifecycleRepo(store)
        repo.add_featured(
            ROOM,
            "m1",
            "堆浸喷淋强度一般 10-15 L/(m²·h)",
            sender_id=LI,
            sender_name="李四",
            said_at=local(21, 10),
            marked_by="wxid_admin_zhang",
            at=local(21, 11),
        )
        repo.add_featured(
            ROOM, "m2", "十二月的不该出现", said_at=local(21, 10).replace(month=12), at=local(21, 10)
        )
    out_file = tmp_path / "digest.md"
    assert main(["digest", "--room", "提金", "--month", "2026-11", "--db", url, "--out", str(out_file)]) == 0
    md = out_file.read_text(encoding="utf-8")
    assert md.startswith("# 「金矿提金技术交流群」2026-11 精华\n")
    assert "- **李四**（10:00）：堆浸喷淋强度" in md and "十二月" not in md
    assert main(["digest", "--room", ROOM, "--month", "11/2026", "--db", url]) == 1
