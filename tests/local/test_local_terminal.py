"""The local puppet in a real terminal (a pty), as an operator meets it."""

from __future__ import annotations

import os
import sys
import textwrap

import pexpect
import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")

# A stand-in bot: just enough reaction to show that events arrive and actions print.
SCRIPT = textwrap.dedent(
    """
    import asyncio
    from bot.events import Message
    from bot.puppet.local import LocalPuppet

    puppet = LocalPuppet()

    async def handler(event):
        if isinstance(event, Message) and "加微信" in event.text:
            await puppet.say_private(event.sender_id, "你的消息含广告，请撤回。")
            await puppet.kick(event.room_id, event.sender_id)

    asyncio.run(puppet.run(handler))
    print("EXITED")
    """
)


def spawn(*, color: bool = False) -> pexpect.spawn:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if color:
        env.pop("NO_COLOR", None)
    else:
        env["NO_COLOR"] = "1"
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return pexpect.spawn(
        sys.executable, ["-c", SCRIPT], cwd=root, env=env, encoding="utf-8", timeout=10, dimensions=(40, 160)
    )


def test_in_a_terminal_typed_lines_reach_the_bot_and_quit_ends_cleanly():
    term = spawn()
    try:
        term.expect("名字: 消息")
        term.sendline("小李: 兼职日结，加微信 vx8866123")
        term.expect(r"\[私聊→小李\] 你的消息含广告，请撤回。")
        term.expect(r"\[移出\] 群管机器人 将 小李 移出了群聊")
        term.sendline("/quit")
        term.expect("EXITED")
        term.expect(pexpect.EOF)
    finally:
        term.close()
    assert term.exitstatus == 0


def test_in_a_terminal_ctrl_d_ends_the_session():
    term = spawn(color=True)
    try:
        term.expect("\x1b\\[")  # a terminal gets colour
        term.sendline("小王: 大家好")
        term.expect("新成员 小王")
        term.sendeof()
        term.expect("EXITED")
        term.expect(pexpect.EOF)
    finally:
        term.close()
    assert term.exitstatus == 0
