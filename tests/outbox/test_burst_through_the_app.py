"""A burst of 200 violations through the whole bot, with the outbox on a manual clock.

The real App, bundled rules, ladder and SQLite store; only the wire (the
recording chat port of ``conftest.py``) is fake. Whatever the ladder decides,
every message it sends passes the default limit, nothing is lost, and every
case ends with the outcome of its actions recorded.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from bot.app import App
from bot.app.executor import DONE, FALLBACK, REQUESTED_ADMINS, SKIPPED
from bot.config import BotConfig, Config, OutboxConfig, RoomSelector
from bot.events import LoggedIn, Message
from bot.puppet.outbox import Outbox
from bot.rules_holder import RulesHolder
from bot.store import open_store

ROOM = "r1"
ADMIN = "wxid_admin"
KINDS = (
    "加我微信 vx{n} 了解一下",  # a contact handle: a private warning first
    "兼职日结300元，手机就能做，加微信 vx{n} 详聊",  # a scam: public warning and mute
    "澳门赌场上线，充值就送，联系 vx{n}",  # gambling: removal
)


def most_in_any_window(times: list[float], width: float) -> int:
    times = sorted(times)
    return max((sum(1 for u in times[i:] if u < t + width) for i, t in enumerate(times)), default=0)


def test_200_violations_through_the_app_keep_the_limit_and_every_case_gets_its_outcome(
    tmp_path: Path, clock, wire
):
    config = Config(bot=BotConfig(admins=(ADMIN,), rooms=(RoomSelector(id=ROOM),)))
    store = open_store(f"sqlite:///{tmp_path / 'qunguard.db'}", journal_dir=None, bot_id=wire.bot_id)
    rules = RulesHolder.load(config.rules_path)
    outbox = Outbox.from_config(wire, OutboxConfig(), clock=clock)
    app = App(config, wire, store, rules, outbox=outbox, clock=clock.now)

    async def burst() -> None:
        app.start()
        await app.handle(LoggedIn(wire.bot_id, clock.now()))
        for n in range(200):
            member = f"wxid_spam{n % 40}"
            await app.handle(
                Message(
                    id=f"m{n}",
                    room_id=ROOM,
                    sender_id=member,
                    at=clock.now(),
                    room_topic="测试群",
                    sender_name=f"推广{n % 40}",
                    text=KINDS[n % len(KINDS)].format(n=880000 + n),
                )
            )
            await clock.advance(0.05)
        idle = asyncio.ensure_future(app.idle())
        await clock.run_until(lambda: idle.done() and outbox.pending == 0, limit_s=48 * 3600)

    try:
        asyncio.run(burst())
        cases = store.cases(room_id=ROOM, limit=None)
        stories = [store.case(c.case_no) for c in cases]
    finally:
        store.close()

    times = [a.at for a in wire.attempts]
    assert times, "the bot said something"
    assert most_in_any_window(times, 60) <= 6
    assert most_in_any_window(times, 3600) <= 100

    assert len(cases) == 200, "every violating message became a case"
    states = {a.state for s in stories for a in s.actions}
    assert DONE in states and states <= {DONE, SKIPPED, FALLBACK, REQUESTED_ADMINS}, (
        states
    )  # none left undecided
    kinds = {s.kind for s in wire.sent}
    assert {"say", "say_private"} <= kinds, kinds
    assert wire.kicks, "the gamblers were removed"
    said = "\n".join(s.text for s in wire.sent)
    warned = {int(n) for n in re.findall(r"案件号\s*(\d+)", said)}
    for story in stories:
        if any(a.kind.startswith("warn") for a in story.actions):
            assert story.case.case_no in warned, f"case {story.case.case_no} was warned but never said"
