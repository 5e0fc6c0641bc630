"""Scenario harness: a fake WeChat (the wire) with the real App, outbox and rules above it.

Each test is an ``async def`` story run by :func:`play`::

    def test_something():
        async def story(bot: Bot) -> None:
            ...
        play(story)
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from bot.app import App
from bot.config import BotConfig, Config, ModerationConfig
from bot.events import MemberJoined, Message
from bot.puppet.outbox import Outbox
from bot.rules_holder import RulesHolder
from tests.app.memstore import MemoryAppStore
from tests.app.rulesdouble import KeywordEngine
from tests.app.wire import BOT, FakeClock, FakeWeChat

ADMIN = "wxid_admin_zhang"
"""A global admin (config.bot.admins)."""
OWNER = "wxid_owner_wang"
ROOM = "20000000001@chatroom"
TOPIC = "金矿提金技术交流群"
LI = "wxid_li"
CHEN = "wxid_chen"

__all__ = ["ADMIN", "BOT", "CHEN", "LI", "OWNER", "ROOM", "TOPIC", "Bot", "make_config", "play"]


@dataclass
class Bot:
    app: App
    wechat: FakeWeChat
    store: MemoryAppStore
    clock: FakeClock
    _n: int = 0

    async def settle(self) -> None:
        """Until every event is handled and every action has gone out."""
        for _ in range(200):
            await self.wechat.queue.join()
            await self.app.idle()
            await asyncio.sleep(0)
            if self.wechat.queue.empty() and not self.app._tasks and self.app.outbox.pending == 0:
                return
            await asyncio.sleep(0.001)
        raise AssertionError("the bot did not settle")

    async def says(self, sender: str, text: str, *, room: str = ROOM, name: str = "", msg_id: str = "",
                   mentions: tuple[str, ...] = (), at: datetime | None = None) -> Message:
        """A member says something in a room; returns the event (to deliver it again)."""
        self._n += 1
        info = self.wechat.rooms_.get(room)
        msg = Message(
            id=msg_id or f"m{self._n}",
            room_id=room,
            sender_id=sender,
            at=at or self.clock(),
            text=text,
            room_topic=info.topic if info else "",
            sender_name=name or self.wechat.names.get(sender, ""),
            mention_ids=mentions,
        )
        self.wechat.emit(msg)
        await self.settle()
        return msg

    async def joins(self, contact: str, *, room: str = ROOM, inviter: str = "") -> None:
        info = self.wechat.rooms_[room]
        from dataclasses import replace

        self.wechat.rooms_[room] = replace(info, member_ids=(*info.member_ids, contact))
        self.wechat.emit(MemberJoined(room, contact, self.clock(), name=self.wechat.names.get(contact, ""),
                                      inviter_id=inviter, room_topic=info.topic))
        await self.settle()


def make_config(*, rooms: tuple = (), **moderation: object) -> Config:
    return Config(
        bot=BotConfig(admins=(ADMIN,), rooms=rooms),
        moderation=ModerationConfig(**moderation),  # type: ignore[arg-type]
    )


def play(story: Callable[[Bot], Awaitable[None]], config: Config | None = None,
         setup: Callable[[FakeWeChat], None] | None = None, store: MemoryAppStore | None = None) -> Bot:
    """Run ``story`` against a fresh bot that has logged in; return the bot for inspection."""

    async def main() -> Bot:
        clock = FakeClock()
        wechat = FakeWeChat(clock=clock)
        wechat.names.update({LI: "李四", CHEN: "陈七", ADMIN: "张管理", OWNER: "王群主"})
        if setup is not None:
            setup(wechat)
        st = store if store is not None else MemoryAppStore()
        outbox = Outbox(wechat, per_minute=10_000, per_hour=100_000, merge_window_s=0, min_interval_s=0)
        app = App(config or make_config(), wechat, st, RulesHolder.of(KeywordEngine()), outbox=outbox, clock=clock)
        task = asyncio.get_running_loop().create_task(app.run())
        bot = Bot(app, wechat, st, clock)
        from bot.events import LoggedIn

        wechat.emit(LoggedIn(BOT, clock(), "群管机器人"))
        await bot.settle()
        try:
            await story(bot)
        finally:
            await app.stop(timeout_s=1)
            await asyncio.wait_for(task, 2)
        return bot

    return asyncio.run(main())
