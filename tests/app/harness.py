"""Scenario harness: a fake WeChat (the wire) with the real App, outbox and rules above it.

Each test is an ``async def`` story run by :func:`play`::

    def test_something():
        async def story(bot: Bot) -> None:
            ...
        play(story)
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.app import App
from bot.config import BotConfig, Config, ModerationConfig
from bot.events import LoggedIn, MemberJoined, Message
from bot.puppet.outbox import Outbox
from bot.rules_holder import RulesHolder
from bot.scheduler import Scheduler
from bot.store import Store, open_store
from tests.app.wire import BOT, FakeClock, FakeWeChat

RULES = Path(__file__).parent / "data" / "rules.yaml"
"""One word per tier: 加微信 (minor ad), 傻逼 (moderate), 赌场 (severe), 刷单返利 (malicious)."""
ADMIN = "wxid_admin_zhang"
"""A global admin (config.bot.admins)."""
OWNER = "wxid_owner_wang"
ROOM = "20000000001@chatroom"
TOPIC = "金矿提金技术交流群"
LI = "wxid_li"
CHEN = "wxid_chen"

__all__ = ["ADMIN", "BOT", "CHEN", "LI", "OWNER", "ROOM", "TOPIC", "Bot", "make_config", "play", "states"]


@dataclass
class Bot:
    app: App
    wechat: FakeWeChat
    store: Store
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

    async def says(
        self,
        sender: str,
        text: str,
        *,
        room: str = ROOM,
        name: str = "",
        msg_id: str = "",
        mentions: tuple[str, ...] = (),
        at: datetime | None = None,
    ) -> Message:
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

    async def posts(self, sender: str, text: str, *, room: str = ROOM, msg_id: str = "") -> Message:
        """Like :meth:`says`, but waits only until the message is handled, not for the actions
        it started (a kick held up on its way, say)."""
        self._n += 1
        info = self.wechat.rooms_.get(room)
        msg = Message(
            id=msg_id or f"m{self._n}",
            room_id=room,
            sender_id=sender,
            at=self.clock(),
            text=text,
            room_topic=info.topic if info else "",
            sender_name=self.wechat.names.get(sender, ""),
        )
        self.wechat.emit(msg)
        await self.wechat.queue.join()
        for _ in range(20):  # let the actions it started run up to where they wait
            await asyncio.sleep(0)
        return msg

    async def joins(self, contact: str, *, room: str = ROOM, inviter: str = "") -> None:
        info = self.wechat.rooms_[room]
        from dataclasses import replace

        self.wechat.rooms_[room] = replace(info, member_ids=(*info.member_ids, contact))
        self.wechat.emit(
            MemberJoined(
                room,
                contact,
                self.clock(),
                name=self.wechat.names.get(contact, ""),
                inviter_id=inviter,
                room_topic=info.topic,
            )
        )
        await self.settle()


def make_config(*, rooms: tuple = (), **moderation: object) -> Config:
    return Config(
        bot=BotConfig(admins=(ADMIN,), rooms=rooms),
        moderation=ModerationConfig(**moderation),  # type: ignore[arg-type]
    )


_TEMPLATE: dict[str, Path] = {}


def fresh_db(directory: Path) -> str:
    """A migrated SQLite file in ``directory`` (copied from one migrated per test run: fast)."""
    if "db" not in _TEMPLATE:
        tmpl = Path(tempfile.mkdtemp(prefix="qunguard-app-")) / "template.db"
        open_store(f"sqlite:///{tmpl}", journal_dir=None).close()
        _TEMPLATE["db"] = tmpl
    target = directory / "qunguard.db"
    if not target.exists():
        shutil.copyfile(_TEMPLATE["db"], target)
    return f"sqlite:///{target}"


def play(
    story: Callable[[Bot], Awaitable[None]],
    config: Config | None = None,
    setup: Callable[[FakeWeChat], None] | None = None,
    *,
    db: Path,
    before: Callable[[Store], None] | None = None,
    url: str = "",
    scheduler: bool = False,
    start: datetime | None = None,
    keep_login: bool = False,
) -> Bot:
    """Run ``story`` against a bot that has just logged in, on the SQLite store in
    directory ``db`` (the same directory again is a restart); return the bot. The bot's
    self-introduction at login (in configured rooms) is left out of ``wechat.said`` unless
    ``keep_login``."""

    async def main() -> Bot:
        clock = FakeClock(start) if start else FakeClock()
        wechat = FakeWeChat(clock=clock)
        wechat.names.update({LI: "李四", CHEN: "陈七", ADMIN: "张管理", OWNER: "王群主"})
        if setup is not None:
            setup(wechat)
        store = open_store(url or fresh_db(db), journal_dir=db / "journal", bot_id=BOT, retry_interval_s=0.05)
        if before is not None:
            before(store)
        # No spacing on real time here: the limits and the kick spacing are the outbox's own tests
        # (tests/outbox, on a ManualClock); a second kick would otherwise wait 3 real seconds.
        outbox = Outbox(
            wechat,
            per_minute=10_000,
            per_hour=100_000,
            merge_window_s=0,
            min_interval_s=0,
            kick_interval_s=0,
        )
        app = App(config or make_config(), wechat, store, RulesHolder.load(RULES), outbox=outbox, clock=clock)
        sched = Scheduler("") if scheduler else None  # jobs in memory, on real time
        if sched is not None:
            sched.start(app)
        task = asyncio.get_running_loop().create_task(app.run())
        bot = Bot(app, wechat, store, clock)
        wechat.emit(LoggedIn(BOT, clock(), "群管机器人"))
        await bot.settle()
        if not keep_login:  # the self-introduction in configured rooms: the story sees its own events
            intro = app.introduction()
            wechat.said[:] = [s for s in wechat.said if not (s.to == "" and s.text == intro)]
        try:
            await story(bot)
        finally:
            await app.stop(timeout_s=1)
            await asyncio.wait_for(task, 2)
            if sched is not None:
                sched.shutdown()
            store.close()
        return bot

    return asyncio.run(main())


def states(store: Store, case_no: int) -> dict[str, str]:
    """What became of each action of a case: kind -> state."""
    story = store.case(case_no)
    assert story is not None, f"no case {case_no}"
    return {a.kind: a.state for a in story.actions}
