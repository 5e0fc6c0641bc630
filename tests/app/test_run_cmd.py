"""`qunguard run` as a newcomer meets it: no config, no WeChat account, a terminal."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pexpect

from bot.config import BUNDLED_RULES

TEST_RULES = Path(__file__).parent / "data" / "rules.yaml"


def spawn_run(cwd: Path, *extra: str) -> pexpect.spawn:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QUNGUARD_", "WECHATY_"))}
    env.update({"NO_COLOR": "1", "PYTHONUNBUFFERED": "1"})
    args = ["-m", "bot", "run", *extra]
    return pexpect.spawn(sys.executable, args, cwd=str(cwd), env=env, encoding="utf-8", timeout=30)


def rules_args() -> tuple[str, ...]:
    # The embedded default is the bundled rules file; the test rules stand in while it is absent.
    return () if BUNDLED_RULES.exists() else ("--rules", str(TEST_RULES))


def test_typing_an_ad_in_the_terminal_group_produces_the_bots_warning(tmp_path: Path) -> None:
    child = spawn_run(tmp_path, *rules_args())
    try:
        child.expect("本地模拟群")
        child.sendline("小王: 大家好，我是新来的")
        child.sendline("小李: 兼职日结300元，手机就能做，加微信 vx8866123 详聊")
        child.expect(r"\[私聊→小李\]|@小李")  # a private or a public warning, as the bundled ladder says
        child.expect("撤回")
        child.sendline("/quit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    assert (tmp_path / "qunguard.db").exists(), "the embedded default store: SQLite in the working directory"


def test_a_broken_rules_file_stops_the_start_with_its_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "rules.yaml"
    broken.write_text("version: 1\nrules:\n  - name: x\n    severity: [oops\n", encoding="utf-8")
    child = spawn_run(tmp_path, "--rules", str(broken))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    assert f"{broken}:" in child.before and "Traceback" not in child.before


def test_sigterm_shuts_the_bot_down_cleanly(tmp_path: Path) -> None:
    child = spawn_run(tmp_path, *rules_args())
    try:
        child.expect("本地模拟群")
        child.sendline("小王: 大家好")
        child.expect("小王")
        child.kill(signal.SIGTERM)
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0, child.before
