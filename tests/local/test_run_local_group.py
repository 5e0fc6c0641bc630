"""`python -m bot run` with no puppet configured: the local group in a terminal.

Each test runs the real command in a fresh working directory (so the embedded
default store, ``qunguard.db``, is created there) with the bundled rules, and
types as a newcomer would. Warnings are matched loosely (private or public,
any wording that asks to recall): the ladder and the texts may change, the
experience may not.
"""

from __future__ import annotations

import io
import os
import re
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest
import zxingcpp
from PIL import Image

from bot.puppet.local import EXAMPLE_AD

ROOT = Path(__file__).resolve().parents[2]
WARNED_LI = r"\[私聊→小李\]|\[群\] [^\n]*@小李"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QUNGUARD_", "WECHATY_"))}
    env.update({"NO_COLOR": "1", "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)})
    return env


def spawn(cwd: Path) -> pexpect.spawn:
    return pexpect.spawn(
        sys.executable,
        ["-m", "bot", "run"],
        cwd=str(cwd),
        env=clean_env(),
        encoding="utf-8",
        timeout=30,
        dimensions=(50, 200),
    )


def finish(term: pexpect.spawn) -> str:
    """Wait for the end and return everything printed after the last expect."""
    term.expect(pexpect.EOF)
    rest = term.before
    term.close()
    return rest


def qr_png(payload: str) -> bytes:
    img = memoryview(zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.QRCode).to_image(scale=6))
    buf = io.BytesIO()
    Image.frombytes("L", (img.shape[1], img.shape[0]), bytes(img)).convert("RGB").save(buf, "PNG")
    return buf.getvalue()


def test_a_newcomer_types_the_example_ad_sees_the_warning_and_quits(tmp_path: Path):
    term = spawn(tmp_path)
    try:
        term.expect("名字: 消息")
        term.expect(re.escape(EXAMPLE_AD))  # the banner shows an ad to try
        term.expect(r"/help")
        term.sendline("小王: 大家好，我是新来的")
        term.expect("新成员 小王")
        term.sendline(f"小李: {EXAMPLE_AD}")
        term.expect(WARNED_LI)
        term.expect("撤回")
        term.sendline("/quit")
        rest = finish(term)
    finally:
        term.close(force=True)
    assert term.exitstatus == 0, rest
    assert "Traceback" not in rest and "Fatal" not in rest
    assert (tmp_path / "qunguard.db").is_file()


def test_a_qr_code_poster_sent_as_an_image_is_caught(tmp_path: Path):
    poster = tmp_path / "兼职海报.png"
    poster.write_bytes(qr_png("https://u.wechat.com/EkT3n9qQz4Lm7XcV2pRb8w"))
    term = spawn(tmp_path)
    try:
        term.expect("名字: 消息")
        term.sendline(f"/image 小李 {poster}")
        term.expect(r"QR: https://u\.wechat\.com/EkT3n9qQz4Lm7XcV2pRb8w")
        term.expect(WARNED_LI)
        term.sendline("/quit")
        finish(term)
    finally:
        term.close(force=True)
    assert term.exitstatus == 0


def test_ctrl_c_stops_the_bot_cleanly_while_it_waits_for_input(tmp_path: Path):
    term = spawn(tmp_path)
    try:
        term.expect("名字: 消息")
        term.sendline("小王: 大家好")
        term.expect("新成员 小王")
        term.kill(signal.SIGINT)
        rest = finish(term)
    finally:
        term.close(force=True)
    assert term.exitstatus == 0, rest
    assert "Fatal Python error" not in rest and "Traceback" not in rest


def _case_numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"案件号\s*(\d+)", text)]


def test_piped_input_reads_as_a_transcript_and_a_second_session_continues_the_record(tmp_path: Path):
    """Message ids differ between sessions: the same ad typed in a second run
    in the same directory is a new offence in the same database, not a
    redelivery to ignore. (Typed at once, it continues the incident the first
    run answered, so it is recorded without a second warning.)"""
    script = f"小王: 早上好\n小李: {EXAMPLE_AD}\n小王: 收到\n"
    outputs = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-m", "bot", "run"],
            input=script,
            cwd=tmp_path,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
        outputs.append(done.stdout)
    first, second = outputs
    ad_line = first.index(f"> 小李: {EXAMPLE_AD}")
    assert re.search(WARNED_LI, first[ad_line:]), "the warning is printed after the ad"
    assert _case_numbers(first)
    again = second[second.index(f"> 小李: {EXAMPLE_AD}") :]
    assert not re.search(WARNED_LI, again), "the same incident is not answered twice"
    with sqlite3.connect(tmp_path / "qunguard.db") as db:
        cases = [n for (n,) in db.execute("select id from cases where contact_id = 'local-小李' order by id")]
    assert len(cases) == 2 and cases[0] == max(_case_numbers(first)), "two offences on record"
