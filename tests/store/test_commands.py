"""The store commands, as an admin runs them in a terminal."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest

from bot.cli import main
from bot.cli.store_cmds import parse_duration, parse_since
from bot.errors import QunguardError
from bot.store import open_store
from tests.store.helpers import CST, LI, ROOM, ROOM2, T0, WANG, ad, msg, mute, warn


@pytest.fixture
def recorded(migrated_db_url, tmp_path):
    """Two cases in ROOM (one pardoned, with an appeal), one in ROOM2."""
    with open_store(migrated_db_url, journal_dir=None) as store:
        a = msg("m1", text="加我微信 abc123 兼职日结")
        case_a = store.record_violations(a, [ad(a)])
        store.record_actions(case_a, a, [warn(a), mute(a)])
        store.record_outcome(case_a.case_no, 0, warn(a), "done", "", T0)
        store.record_outcome(case_a.case_no, 1, mute(a), "done", "", T0)
        b = msg("m2", sender=WANG, at=T0 + timedelta(days=2), text="代开发票")
        case_b = store.record_violations(b, [ad(b, "ad-invoice")])
        appeal = store.add_appeal(case_b.case_no, WANG, "误会", at=T0 + timedelta(days=2, hours=1))
        store.decide_appeal(
            appeal.id, True, by="wxid_admin", answer="已核实", at=T0 + timedelta(days=2, hours=2)
        )
        c = msg("m3", room=ROOM2, at=T0 - timedelta(days=300))
        store.record_violations(c, [ad(c)])
    return migrated_db_url, case_a.case_no, case_b.case_no


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_violations_lists_and_filters(recorded, capsys):
    url, _, _ = recorded
    code, out, _ = run(capsys, "violations", "--db", url, "--room", ROOM)
    assert code == 0
    assert "ad-contact-handle" in out and "ad-invoice" in out and "加我微信" in out
    _, out, _ = run(capsys, "violations", "--db", url, "--member", WANG)
    assert "ad-invoice" in out and "ad-contact-handle" not in out
    _, out, _ = run(capsys, "violations", "--db", url, "--rule", "ad-contact-handle")
    assert out.count("ad-contact-handle") == 2


def test_violations_as_csv(recorded, capsys):
    url, case_a, _ = recorded
    _, out, _ = run(capsys, "violations", "--db", url, "--since", "2026-11-01", "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["case"], r["rule"], r["sender"]) for r in rows] == [
        (str(case_a), "ad-contact-handle", LI),
        (rows[1]["case"], "ad-invoice", WANG),
    ]


def test_cases_newest_first_with_state(recorded, capsys):
    url, case_a, case_b = recorded
    _, out, _ = run(capsys, "cases", "--db", url, "--room", ROOM)
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["case", "at"]
    assert lines[1].startswith(str(case_b)) and "pardoned" in lines[1]
    assert lines[2].startswith(str(case_a)) and "done" in lines[2]
    _, out, _ = run(capsys, "cases", "--db", url, "--state", "pardoned")
    assert len(out.splitlines()) == 2


def test_case_tells_the_whole_story(recorded, capsys):
    url, case_a, case_b = recorded
    _, out, _ = run(capsys, "case", str(case_a), "--db", url)
    assert f"案件 #{case_a}" in out and "ad-contact-handle" in out
    assert "evidence: keyword «加我微信»" in out
    assert "0. warn_private «发广告»: done" in out and "1. mute 1d «再次发广告»: done" in out
    assert "mute: 2026-11-20 09:00:00 → 2026-11-21 09:00:00 (in force)" in out  # shown in Beijing time
    _, out, _ = run(capsys, "case", str(case_b), "--db", url)
    assert "appeal #" in out and "accepted by wxid_admin" in out and "pardon" in out
    _, out, _ = run(capsys, "case", str(case_b), "--db", url, "--json")
    assert json.loads(out)["case"]["state"] == "pardoned"


def test_an_unknown_case_is_one_line_on_stderr(recorded, capsys):
    url, _, _ = recorded
    code, out, err = run(capsys, "case", "999", "--db", url)
    assert code == 1 and out == "" and err.strip() == "qunguard: no case 999"


def test_export_jsonl_has_every_record_of_the_room_only(recorded, capsys, tmp_path):
    url, _, _ = recorded
    target = tmp_path / "room.jsonl"
    run(capsys, "export", "--db", url, "--room", ROOM, "--out", str(target))
    records = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    types = {r["type"] for r in records}
    assert {"room", "case", "violation", "action", "mute", "appeal", "audit", "daily"} <= types
    assert not any(r.get("room_id") == ROOM2 for r in records)


def test_export_csv_is_one_row_per_violation(recorded, capsys):
    url, case_a, _ = recorded
    _, out, _ = run(capsys, "export", "--db", url, "--room", ROOM, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 2
    first = next(r for r in rows if r["case"] == str(case_a))
    assert first["actions"] == "warn_private:done mute:done" and first["case_state"] == "done"


def test_purge_keeps_cases_and_counts(recorded, capsys):
    url, _, _ = recorded
    code, out, _ = run(capsys, "purge", "--db", url, "--older-than", "180d")
    assert code == 0 and "0 message excerpt(s)" in out, "ROOM2's old case is still open: kept"
    with open_store(url, journal_dir=None) as store:
        c = msg("m3", room=ROOM2, at=T0 - timedelta(days=300))
        store.record_actions(store.record_violations(c, [ad(c)]), c, [])  # settled
    code, out, _ = run(capsys, "purge", "--db", url, "--older-than", "180d")
    assert code == 0 and "1 message excerpt(s)" in out
    with open_store(url, journal_dir=None) as store:
        audits = [(a.actor_id, a.detail["excerpts"]) for a in store.audit_log() if a.command == "purge"]
    assert audits == [("cli", 1), ("cli", 0)], "each purge leaves one audit entry, newest first"
    _, out, _ = run(capsys, "violations", "--db", url, "--room", ROOM2, "--csv")
    [row] = list(csv.DictReader(io.StringIO(out)))
    assert row["excerpt"] == ""


def test_db_upgrade_current_and_downgrade(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert run(capsys, "db", "upgrade", "--db", url)[1].startswith("schema upgraded: empty -> ")
    assert "up to date" in run(capsys, "db", "current", "--db", url)[1]
    assert run(capsys, "db", "upgrade", "--db", url)[1].startswith("schema already at")
    assert run(capsys, "db", "downgrade", "--db", url)[1] == "schema downgraded: 0002 -> 0001\n"
    assert run(capsys, "db", "downgrade", "base", "--db", url)[1].endswith("-> empty\n")
    assert "run `qunguard db upgrade`" in run(capsys, "db", "current", "--db", url)[1]


def test_reading_a_database_that_does_not_exist_says_so(tmp_path, capsys):
    code, _, err = run(capsys, "cases", "--db", f"sqlite:///{tmp_path / 'none.db'}")
    assert code == 1 and "no database at" in err
    assert not (tmp_path / "none.db").exists()


def test_the_default_database_comes_from_the_config(recorded, capsys, tmp_path):
    url, _, _ = recorded
    config = tmp_path / "config.yaml"
    config.write_text(f"database: {url}\n", encoding="utf-8")
    code, out, _ = run(capsys, "--config", str(config), "cases")
    assert code == 0 and ROOM in out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("180d", timedelta(days=180)),
        ("12h", timedelta(hours=12)),
        ("30m", timedelta(minutes=30)),
        ("2w", timedelta(weeks=2)),
    ],
)
def test_durations(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["180", "d", "1y", ""])
def test_bad_durations_say_what_is_expected(text):
    with pytest.raises(QunguardError, match="180d"):
        parse_duration(text)


def test_since_takes_a_duration_a_local_day_or_a_time():
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    assert parse_since("7d", tz, now=T0) == T0 - timedelta(days=7)
    assert parse_since("2026-11-01", tz) == T0.replace(day=1, hour=0).astimezone(CST)
    assert parse_since("2026-11-01T08:00:00+00:00", tz).hour == 8
    with pytest.raises(QunguardError, match="--since"):
        parse_since("last week", tz)
