"""``qunguard replay``: a transcript through the real engine, ladder and records, line by line."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from bot.cli import main
from bot.engine import Engine, parse_rules
from bot.ladder import Ladder
from bot.moderation import MemoryRecords, Moderator
from bot.replay import Replay, read_transcript

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=CST)
GOLD = {"room": "r-gold", "topic": "金矿提金技术交流群"}


def event(seconds: float, sender: str, text: str = "", *, type: str = "text", **extra) -> dict:
    row = {"ts": (T0 + timedelta(seconds=seconds)).isoformat(), **GOLD, "type": type, "from": sender}
    if type == "text":
        row["text"] = text
    return {**row, **extra}


def write(tmp_path: Path, rows: list[dict | str], name: str = "chat.jsonl") -> Path:
    path = tmp_path / name
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def replay_json(capsys, path: Path, *args: str) -> tuple[list[dict], str]:
    code = main(["replay", str(path), "--json", *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    return [json.loads(line) for line in out.splitlines()], err


def categories(decision: dict) -> set[str]:
    return {v["category"] for v in decision["violations"]}


def test_json_has_one_decision_per_line_in_the_documented_shape(tmp_path, capsys):
    path = write(tmp_path, [event(0, "wxid_li", "早上好"), event(60, "wxid_ad", "兼职日结，加V：ab12345")])
    decisions, _ = replay_json(capsys, path)
    assert decisions[0] == {"line": 1, "room": "r-gold", "from": "wxid_li", "violations": [], "actions": []}
    second = decisions[1]
    assert second["line"] == 2 and second["from"] == "wxid_ad"
    assert "ad" in categories(second)
    assert all(set(v) == {"rule", "category", "severity"} for v in second["violations"])
    assert second["actions"] and all("kind" in a for a in second["actions"])


def test_bad_lines_go_to_stderr_with_their_number_and_the_replay_goes_on(tmp_path, capsys):
    path = write(tmp_path, [event(0, "wxid_a", "你好"), "{broken", {"ts": "x"}, event(9, "wxid_b", "收到")])
    decisions, err = replay_json(capsys, path)
    assert [d["line"] for d in decisions] == [1, 4]
    assert f"{path}:2:" in err and f"{path}:3:" in err and "line skipped" in err


def test_burst_is_judged_on_the_transcript_clock(tmp_path, capsys):
    words = ["有人吗", "请教一下", "浸出率低", "急", "在线等", "老板催", "帮帮忙", "谢谢"]
    rows = [event(i * 3, "wxid_fast", w) for i, w in enumerate(words)]
    rows += [event(1000 + i * 3, f"wxid_ack{i}", "收到") for i in range(15)]  # 15 people, one 收到 each
    decisions, _ = replay_json(capsys, write(tmp_path, rows))
    flood_lines = [d["line"] for d in decisions if "flood" in categories(d)]
    assert flood_lines == [6, 7, 8]


def test_same_messages_spread_over_hours_are_no_burst(tmp_path, capsys):
    words = ["有人吗", "请教一下", "浸出率低", "急", "在线等", "老板催", "帮帮忙", "谢谢"]
    rows = [event(i * 3600, "wxid_slow", w) for i, w in enumerate(words)]
    decisions, _ = replay_json(capsys, write(tmp_path, rows))
    assert not any(d["violations"] for d in decisions)


def test_every_room_gets_its_overrides_by_name(tmp_path, capsys):
    post = "【内推】某科技 产品实习生，base 北京，简历发 campus@example.com"
    rows = [
        event(0, "wxid_hr1", post),
        {**event(60, "wxid_hr2", post), "room": "r-jobs", "topic": "产品经理实习内推群"},
    ]
    decisions, _ = replay_json(capsys, write(tmp_path, rows))
    assert "ad" in categories(decisions[0])  # a job post in the technical group
    assert decisions[1]["violations"] == []  # on topic in the job group


def test_qr_code_images_next_to_the_transcript_are_decoded(tmp_path, capsys):
    img = memoryview(
        zxingcpp.create_barcode("https://u.wechat.com/x1", zxingcpp.BarcodeFormat.QRCode).to_image(scale=4)
    )
    buf = io.BytesIO()
    Image.frombytes("L", (img.shape[1], img.shape[0]), bytes(img)).save(buf, "PNG")
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "qr.png").write_bytes(buf.getvalue())
    rows = [
        event(0, "wxid_s", type="image", file="images/qr.png"),
        event(9, "wxid_t", type="image", file="gone.png"),
    ]
    decisions, err = replay_json(capsys, write(tmp_path, rows))
    assert "ad" in categories(decisions[0])
    assert decisions[1]["violations"] == [] and "gone.png" in err


NEW_MEMBER_RULES = """
rules:
  - name: new-member-link
    category: ad
    severity: minor
    message: 新成员请先熟悉群规
    when:
      all:
        - sender: {new: true}
        - regex: 'http'
"""


def test_join_lines_feed_the_members_join_time(tmp_path, capsys):
    rules = tmp_path / "rules.yaml"
    rules.write_text(NEW_MEMBER_RULES, encoding="utf-8")
    rows = [
        event(0, "wxid_new", type="join", inviter="wxid_friend"),
        event(60, "wxid_new", "看看 http://example.com"),
        event(60, "wxid_old", "看看 http://example.com"),
    ]
    decisions, _ = replay_json(capsys, write(tmp_path, rows), "--rules", str(rules))
    assert decisions[0] == {"line": 1, "room": "r-gold", "from": "wxid_new", "violations": [], "actions": []}
    assert [v["rule"] for v in decisions[1]["violations"]] == ["new-member-link"]
    assert decisions[2]["violations"] == []


def test_a_muted_member_speaking_shows_as_muted_not_as_a_rule(tmp_path, capsys):
    abuse = ["你就是个傻逼", "你脑子进水了吧"]
    rows = [event(0, "wxid_x", abuse[0]), event(600, "wxid_x", abuse[1]), event(900, "wxid_x", "好的，抱歉")]
    decisions, _ = replay_json(capsys, write(tmp_path, rows))
    kinds = [[a["kind"] for a in d["actions"]] for d in decisions]
    assert "mute" in kinds[0] or "mute" in kinds[1]
    assert decisions[2]["violations"] == [] and decisions[2]["muted"] is True
    assert kinds[2] == ["warn_private"]


def test_table_by_default_shows_only_decisions_and_a_summary(tmp_path, capsys):
    path = write(
        tmp_path, [event(0, "wxid_li", "早上好", name="紫金-王工"), event(60, "wxid_s", "nmsl", name="路人")]
    )
    assert main(["replay", str(path)]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["行", "时间", "群"]
    assert any(line.startswith("2 ") and "路人" in line and "abuse" in line for line in lines)
    assert not any("紫金-王工" in line for line in lines)
    assert "共 2 行" in out and "lines in" in err


def test_missing_transcript_is_one_clear_error(tmp_path, capsys):
    assert main(["replay", str(tmp_path / "nope.jsonl")]) == 1
    assert "no such transcript file" in capsys.readouterr().err


def test_replaying_the_same_file_into_the_same_records_adds_nothing(tmp_path):
    rules = parse_rules(
        "rules:\n  - name: no-links\n    category: ad\n    severity: minor\n    message: x\n    when: {regex: http}\n"
    )
    path = write(
        tmp_path,
        [event(0, "wxid_a", "http://a"), event(60, "wxid_b", "ok"), event(120, "wxid_a", "http://b")],
    )
    records = MemoryRecords()
    first = [o.decision for o in _run(rules, records, path)]
    second = [o.decision for o in _run(rules, records, path)]
    assert len(records.cases) == 2
    assert [d.duplicate for d in second if d.violations] == [True, True]
    assert [d.actions for d in first] == [d.actions for d in second]


def _run(rules, records, path):
    replay = Replay(Moderator(Engine(rules), Ladder.from_rules(rules), records))
    return list(replay.run(read_transcript(path), on_error=pytest.fail))


def test_helper_bots_from_the_config_are_never_punished(tmp_path, capsys, monkeypatch):
    config = tmp_path / "config.yaml"
    config.write_text("bot:\n  helper_bots: [wxid_helper]\n", encoding="utf-8")
    path = write(tmp_path, [event(0, "wxid_helper", "兼职日结，加V：ab12345")])
    assert main(["--config", str(config), "replay", str(path), "--json"]) == 0
    (decision,) = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert decision["actions"] == []


def test_progress_bar_draws_on_a_terminal_and_clears_before_output():
    from bot.cli.replay_cmd import _Progress

    stream = io.StringIO()
    bar = _Progress(stream, total=1_000_000, enabled=True)
    bar.advance(500_000)
    bar.tick()
    assert "50%" in stream.getvalue() and stream.getvalue().startswith("\r")
    bar.clear()
    assert stream.getvalue().endswith("\r\033[K")


@pytest.mark.parametrize(
    ("total", "enabled"),
    [pytest.param(1_000, True, id="short-transcript"), pytest.param(10**7, False, id="not-a-tty")],
)
def test_no_progress_bar_for_short_transcripts_or_without_a_terminal(total, enabled):
    from bot.cli.replay_cmd import _Progress

    stream = io.StringIO()
    bar = _Progress(stream, total=total, enabled=enabled)
    bar.advance(total)
    bar.tick()
    bar.done()
    assert stream.getvalue() == ""


def test_all_shows_every_line_in_the_table(tmp_path, capsys):
    path = write(tmp_path, [event(0, "wxid_li", "早上好", name="紫金-王工"), event(9, "wxid_x", type="join")])
    assert main(["replay", str(path), "--all"]) == 0
    out = capsys.readouterr().out
    assert "紫金-王工" in out and "[入群]" in out


def test_replay_into_a_sqlite_store_twice_adds_nothing_the_second_time(tmp_path, capsys, monkeypatch):
    import sqlite3

    monkeypatch.chdir(tmp_path)  # the store's journal directory is relative to the working directory
    rows = [
        event(0, "wxid_new", type="join", inviter="wxid_friend"),
        event(30, "wxid_new", "兼职日结，加V：ab12345"),
        event(60, "wxid_li", "早上好"),
        event(400, "wxid_new", "兼职日结，加V：ab12345"),
    ]
    path = write(tmp_path, rows)
    db = tmp_path / "q.db"
    first, _ = replay_json(capsys, path, "--db", f"sqlite:///{db}")
    second, _ = replay_json(capsys, path, "--db", f"sqlite:///{db}")
    assert [d["violations"] for d in first] == [d["violations"] for d in second]
    assert [d["actions"] for d in first] == [d["actions"] for d in second]
    with sqlite3.connect(db) as conn:
        (violations,) = conn.execute("select count(*) from violations").fetchone()
        (cases,) = conn.execute("select count(*) from cases").fetchone()
    muted = sum(1 for d in first if d.get("muted"))  # speaking while muted is on record too
    assert cases == 2 and violations == sum(len(d["violations"]) for d in first) + muted
