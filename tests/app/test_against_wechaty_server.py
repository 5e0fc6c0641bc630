"""The whole bot (App, bundled rules, SQLite) against Wechaty's own 1.x
puppet-service server with puppet-mock behind it (tests/puppet/js, started on
127.0.0.1): an ad is warned, moderation goes on after an ``error`` event, a QR
poster over 20 KB is caught, and after a server restart the bot moderates again
within 10 seconds."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.app import App
from bot.config import BUNDLED_RULES, BotConfig, Config, RoomSelector
from bot.puppet.outbox import Outbox
from bot.puppet.wechaty import WechatyPuppet
from bot.rules_holder import RulesHolder
from bot.store import open_store
from tests.app.harness import fresh_db
from tests.puppet.session import arun, qr_poster
from tests.puppet.wechaty_server import TOKEN, WechatyServer, node_or_skip

BOT, ZHANG, LI = "wxid_qunguard_bot", "wxid_zhangsan", "wxid_lisi"
ROOM = "20000000001@chatroom"
AD = "兼职日结300元，手机就能做，加微信 vx8866123 详聊"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[WechatyServer]:
    srv = WechatyServer(node_or_skip(), tmp_path)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@asynccontextmanager
async def bot_on(server: WechatyServer, tmp: Path) -> AsyncIterator[App]:
    config = Config(bot=BotConfig(rooms=(RoomSelector(id=ROOM),)), data_dir=str(tmp / "data"))
    puppet = WechatyPuppet(
        server.endpoint, TOKEN, tmp / "data", reconnect_min_s=0.2, reconnect_max_s=2.0, rpc_timeout_s=5.0
    )
    store = open_store(fresh_db(tmp), journal_dir=tmp / "journal")
    app = App(
        config,
        puppet,
        store,
        RulesHolder.load(BUNDLED_RULES),
        outbox=Outbox(puppet, per_minute=1000, per_hour=10_000, merge_window_s=0, min_interval_s=0),
    )
    task = asyncio.create_task(app.run())
    try:
        await until(lambda: app.rooms.bot_id == BOT and ROOM in app.rooms.info, 20)
        yield app
    finally:
        await app.stop(timeout_s=2)
        await asyncio.wait_for(task, 10)
        store.close()


async def until(what, timeout: float) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not what():
        if loop.time() > end:
            raise AssertionError(f"not within {timeout}s")
        await asyncio.sleep(0.05)


def warned(server: WechatyServer, contact: str) -> list[str]:
    """What the bot said to ``contact``: privately, or in the room @-mentioning them."""
    return [
        d["text"]
        for d in server.did
        if d["op"] == "say" and (d["conversationId"] == contact or contact in d.get("mentionIdList", []))
    ]


async def say(server: WechatyServer, sender: str, text: str) -> None:
    await asyncio.to_thread(server.call, "say", **{"from": sender, "room": ROOM, "text": text})


def test_an_ad_is_warned_and_the_bot_moderates_on_after_an_error_event(
    server: WechatyServer, tmp_path: Path
) -> None:
    async def main() -> None:
        async with bot_on(server, tmp_path):
            await say(server, ZHANG, AD)
            await until(lambda: any("案件号" in t for t in warned(server, ZHANG)), 10)
            await asyncio.to_thread(server.call, "error", message="puppet watchdog timeout")
            await asyncio.sleep(0.3)
            await say(server, LI, AD)
            await until(lambda: any("案件号" in t for t in warned(server, LI)), 10)

    arun(main(), timeout=90)


def test_a_qr_code_poster_over_20KB_is_caught(server: WechatyServer, tmp_path: Path) -> None:
    poster = qr_poster("https://u.wechat.com/EHxyz-group-invite")
    assert len(poster) > 20 * 1024

    async def main() -> None:
        async with bot_on(server, tmp_path) as app:
            await asyncio.to_thread(
                server.call,
                "image",
                **{
                    "from": ZHANG,
                    "room": ROOM,
                    "name": "poster.png",
                    "base64": base64.b64encode(poster).decode(),
                },
            )
            await until(lambda: any("案件号" in t for t in warned(server, ZHANG)), 15)
            await app.idle(5)
            story = app.store.case(1)
            assert story is not None and "ad-qr-code" in story.case.rules

    arun(main(), timeout=90)


def test_after_a_server_restart_the_bot_moderates_again_within_10_seconds(
    server: WechatyServer, tmp_path: Path
) -> None:
    async def main() -> None:
        async with bot_on(server, tmp_path):
            await say(server, ZHANG, AD)
            await until(lambda: warned(server, ZHANG), 10)
            loop = asyncio.get_running_loop()
            killed_at = loop.time()
            await asyncio.to_thread(server.restart)  # a new process: the old one's memory is gone
            server.did.clear()
            for _ in range(40):  # the bot must be listening again: say the ad until it answers
                await say(server, LI, AD + f" #{_}")
                try:
                    await until(lambda: warned(server, LI), 0.5)
                    break
                except AssertionError:
                    continue
            assert warned(server, LI), "the bot never moderated again"
            assert loop.time() - killed_at < 10

    arun(main(), timeout=120)
