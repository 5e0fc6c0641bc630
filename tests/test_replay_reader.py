"""Reading transcripts: every line becomes an event with its line number, or an error naming it."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from bot.errors import TranscriptError
from bot.events import MemberJoined, MemberLeft, Message, MessageType
from bot.replay import Entry, read_transcript

CST = timezone(timedelta(hours=8))
BASE = {"ts": "2026-11-20T09:00:00+08:00", "room": "r-gold", "topic": "金矿提金技术交流群", "from": "wxid_li"}


def line(**fields) -> str:
    return json.dumps({**BASE, **fields}, ensure_ascii=False)


def read(tmp_path: Path, *lines: str, name: str = "chat.jsonl") -> list[Entry | TranscriptError]:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return list(read_transcript(path))


def qr_png(payload: str) -> bytes:
    img = memoryview(zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.QRCode).to_image(scale=4))
    buf = io.BytesIO()
    Image.frombytes("L", (img.shape[1], img.shape[0]), bytes(img)).save(buf, "PNG")
    return buf.getvalue()


def test_text_line_becomes_a_message(tmp_path):
    (entry,) = read(tmp_path, line(type="text", text="早上好", name="紫金-王工", expect="clean"))
    assert entry.line == 1 and entry.name == "紫金-王工"
    msg = entry.event
    assert isinstance(msg, Message)
    assert (msg.room_id, msg.sender_id, msg.type, msg.text) == (
        "r-gold",
        "wxid_li",
        MessageType.TEXT,
        "早上好",
    )
    assert msg.at == datetime(2026, 11, 20, 9, 0, tzinfo=CST)
    assert msg.room_topic == "金矿提金技术交流群" and msg.sender_name == "紫金-王工"


def test_id_from_the_line_when_given_else_file_name_and_line(tmp_path):
    entries = read(
        tmp_path, line(type="text", text="a", id="m-42"), line(type="text", text="b"), name="day1.jsonl"
    )
    assert [e.event.id for e in entries] == ["m-42", "day1.jsonl#2"]


def test_derived_ids_are_stable_between_runs(tmp_path):
    first = [e.event.id for e in read(tmp_path, line(type="text", text="a"), line(type="text", text="b"))]
    second = [e.event.id for e in read(tmp_path, line(type="text", text="a"), line(type="text", text="b"))]
    assert first == second


def test_cards_carry_their_fields_and_readable_text(tmp_path):
    url, mini, card = read(
        tmp_path,
        line(type="url", url="https://t.cn/x", title="点击领取", description="红包"),
        line(type="mini_program", title="帮我砍一刀", app="拼多多"),
        line(type="contact_card", card_id="wxid_x", card_name="贷款经理-王"),
    )
    assert (url.event.url, url.event.title, url.event.text) == (
        "https://t.cn/x",
        "点击领取",
        "点击领取\n红包",
    )
    assert (mini.event.type, mini.event.app, mini.event.text) == (
        MessageType.MINI_PROGRAM,
        "拼多多",
        "帮我砍一刀\n拼多多",
    )
    assert (card.event.card_id, card.event.card_name, card.event.text) == (
        "wxid_x",
        "贷款经理-王",
        "贷款经理-王",
    )


def test_image_qr_codes_are_decoded_relative_to_the_transcript(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "poster.png").write_bytes(qr_png("https://u.wechat.com/abc"))
    (entry,) = read(tmp_path, line(type="image", file="images/poster.png"))
    assert entry.event.qr_payloads == ("https://u.wechat.com/abc",)
    assert entry.event.file_name == "poster.png"
    assert entry.event.media_key.startswith("sha256:")


def test_same_image_content_has_the_same_media_key(tmp_path):
    data = qr_png("weixin://dl/x")
    (tmp_path / "a.png").write_bytes(data)
    (tmp_path / "b.png").write_bytes(data)
    a, b = read(tmp_path, line(type="image", file="a.png"), line(type="image", file="b.png"))
    assert a.event.media_key == b.event.media_key and a.event.file_name != b.event.file_name


def test_file_lines_expose_the_base_name(tmp_path):
    (entry,) = read(tmp_path, line(type="file", file="files/某矿_生产计划_内部资料.pdf"))
    assert entry.event.file_name == "某矿_生产计划_内部资料.pdf"


def test_missing_media_file_warns_and_keeps_the_line(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text(line(type="image", file="gone.png") + "\n", encoding="utf-8")
    warnings: list[TranscriptError] = []
    (entry,) = list(read_transcript(path, on_warning=warnings.append))
    assert isinstance(entry, Entry) and entry.event.qr_payloads == ()
    assert warnings and warnings[0].line == 1 and "gone.png" in str(warnings[0])


def test_join_and_leave_lines(tmp_path):
    join, leave = read(
        tmp_path,
        line(type="join", **{"from": "wxid_new"}, inviter="wxid_inv"),
        line(type="leave", **{"from": "wxid_new"}),
    )
    assert isinstance(join.event, MemberJoined) and join.event.inviter_id == "wxid_inv"
    assert isinstance(leave.event, MemberLeft) and leave.event.contact_id == "wxid_new"


def test_topic_carries_over_to_later_lines_of_the_room(tmp_path):
    first = line(type="text", text="a")
    later = json.dumps({k: v for k, v in json.loads(line(type="text", text="b")).items() if k != "topic"})
    assert read(tmp_path, first, later)[1].event.room_topic == "金矿提金技术交流群"


def test_unknown_fields_are_ignored(tmp_path):
    (entry,) = read(tmp_path, line(type="text", text="x", expect="ad", evasion=["pinyin"], hard_negative="y"))
    assert isinstance(entry, Entry)


BAD_LINES = [
    pytest.param("{not json", "not valid JSON", id="broken-json"),
    pytest.param("[1, 2]", "not a JSON object", id="not-an-object"),
    pytest.param(
        json.dumps({"room": "r", "type": "text", "from": "a", "text": "x"}), "'ts'", id="missing-ts"
    ),
    pytest.param(json.dumps({**BASE, "type": "text"}), "'text'", id="text-line-without-text"),
    pytest.param(json.dumps({**BASE, "text": "x"}), "'type'", id="missing-type"),
    pytest.param(
        json.dumps({**BASE, "ts": "yesterday", "type": "text", "text": "x"}), "ISO 8601", id="bad-time"
    ),
    pytest.param(
        json.dumps({**BASE, "ts": "2026-11-20T09:00:00", "type": "text", "text": "x"}),
        "offset",
        id="naive-time",
    ),
    pytest.param(json.dumps({**BASE, "type": "hologram"}), "unknown type", id="unknown-type"),
    pytest.param(
        json.dumps({**BASE, "type": "text", "text": {"a": 1}}), "must be text", id="text-not-a-string"
    ),
    pytest.param("[" * 100_000 + "]" * 100_000, "JSON", id="deeply-nested"),
]


@pytest.mark.parametrize(("bad", "message"), BAD_LINES)
def test_bad_line_is_reported_with_its_number_and_the_replay_goes_on(tmp_path, bad, message):
    entries = read(tmp_path, line(type="text", text="before"), bad, line(type="text", text="after"))
    good_before, error, good_after = entries
    assert isinstance(error, TranscriptError)
    assert (
        error.line == 2
        and message in str(error)
        and str(error).startswith(str(tmp_path / "chat.jsonl") + ":2")
    )
    assert (good_before.line, good_after.line) == (1, 3)


def test_blank_lines_are_skipped_but_keep_numbering(tmp_path):
    entries = read(tmp_path, line(type="text", text="a"), "", "   ", line(type="text", text="b"))
    assert [e.line for e in entries] == [1, 4]


def test_odd_unicode_and_a_large_message_pass_through(tmp_path):
    big = "刷" * 1_000_000
    a, b = read(tmp_path, line(type="text", text="ｖｘ\u200b\U0001f600"), line(type="text", text=big))
    assert a.event.text.startswith("ｖｘ") and len(b.event.text) == 1_000_000


def test_unreadable_transcript_is_a_clear_error(tmp_path):
    with pytest.raises(TranscriptError, match="cannot read"):
        list(read_transcript(tmp_path / "missing.jsonl"))
