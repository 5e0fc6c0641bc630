"""The key command scenarios over a real gRPC socket: the real wechaty client and
adapter, the App with the commands installed, the rule engine and a SQLite file,
against the fake 1.x puppet-service server of tests/puppet on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.app import App
from bot.config import BotConfig, Config, ModerationConfig, RoomSelector
from bot.puppet.outbox import Outbox
from bot.puppet.wechaty import WechatyPuppet
from bot.rules_holder import RulesHolder
from bot.store import Store, open_store
from tests.app.harness import ADMIN, LI, OWNER, ROOM, RULES, TOPIC, fresh_db
from tests.puppet.fake_service import FakePuppetService
from tests.puppet.session import arun

BOT = "wxid_bot"
WU = "wxid_wu"


@dataclass
class Live:
    service: FakePuppetService
    app: App
    store: Store

    def sent_to(self, conversation: str) -> list[str]:
        return [s.text for s in self.service.sent if s.conversation_id == conversation]

    async def until(self, what: Callable[[], object], timeout: float = 8.0) -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while not what():
            if loop.time() > end:
                raise AssertionError(f"timed out; the bot sent {self.service.sent!r}, kicked {self.service.kicks!r}")
            await asyncio.sleep(0.02)

    async def quiet(self, s: float = 0.3) -> None:
        await asyncio.sleep(s)
        await self.app.idle(5)


def world(service: FakePuppetService) -> None:
    for cid, name in ((ADMIN, "张管理"), (OWNER, "王群主"), (LI, "李四"), (WU, "吴八")):
        service.add_contact(cid, name, friend=True)
    service.add_room(ROOM, TOPIC, [BOT, OWNER, ADMIN, LI, WU], owner=BOT, admins=[OWNER])


@asynccontextmanager
async def live_bot(tmp: Path, **moderation: object) -> AsyncIterator[Live]:
    svc = FakePuppetService(bot_id=BOT)
    world(svc)
    await svc.start()
    config = Config(
        bot=BotConfig(admins=(ADMIN,), rooms=(RoomSelector(id=ROOM),)),
        moderation=ModerationConfig(**moderation),  # type: ignore[arg-type]
        data_dir=str(tmp / "data"),
    )
    puppet = WechatyPuppet(svc.endpoint, "test-token", tmp / "data", reconnect_min_s=0.2, reconnect_max_s=1.0,
                           rpc_timeout_s=5.0)
    store = open_store(fresh_db(tmp), journal_dir=tmp / "journal")
    outbox = Outbox(puppet, per_minute=10_000, per_hour=100_000, merge_window_s=0, min_interval_s=0)
    app = App(config, puppet, store, RulesHolder.load(RULES), outbox=outbox)
    task = asyncio.create_task(app.run())
    live = Live(svc, app, store)
    try:
        await live.until(lambda: app.rooms.bot_id == BOT, timeout=15)
        await live.quiet()
        yield live
    finally:
        await app.stop(timeout_s=2)
        await asyncio.wait_for(task, 10)
        store.close()
        await svc.close()


def scenario(tmp: Path, story: Callable[[Live], Awaitable[None]], **moderation: object) -> None:
    async def main() -> None:
        async with live_bot(tmp, **moderation) as live:
            await story(live)

    arun(main(), timeout=60)


def test_grpc_an_owner_mutes_by_mention_and_a_namesake_of_the_owner_cannot(tmp_path: Path) -> None:
    async def story(live: Live) -> None:
        svc = live.service
        svc.contacts[LI].name = "王群主"  # a member copies the owner's display name
        svc.say(LI, "#踢 @吴八\u2005", room=ROOM, mentions=[WU])
        await live.until(lambda: live.sent_to(LI))
        assert live.sent_to(LI) == ["该命令仅限本群群主、管理员使用。"] and svc.kicks == []

        svc.say(OWNER, "#禁言 @吴八\u2005 2h 刷屏", room=ROOM, mentions=[WU])
        await live.until(lambda: any("禁言至" in t for t in live.sent_to(ROOM)))
        notice = next(s for s in svc.sent if s.conversation_id == ROOM)
        assert notice.mention_ids == [WU] and "刷屏（案件号 1）" in notice.text
        await live.quiet()
        assert live.store.muted_until(ROOM, WU, live.app.clock()) is not None

    scenario(tmp_path, story)


def test_grpc_the_appeal_flow(tmp_path: Path) -> None:
    async def story(live: Live) -> None:
        svc = live.service
        svc.say(WU, "有需要的加微信 wu888", room=ROOM)
        await live.until(lambda: live.sent_to(WU))
        svc.say(WU, "申诉 1 我发的是公司招聘电话")  # privately, to the bot
        await live.until(lambda: any("提出申诉" in t for t in live.sent_to(OWNER)))
        await live.until(lambda: any("已收到你对案件 1 的申诉" in t for t in live.sent_to(WU)))
        svc.say(OWNER, "同意 1")
        await live.until(lambda: any("申诉已通过" in t for t in live.sent_to(WU)))
        await live.quiet()
        assert live.store.case(1).case.state == "pardoned"
        assert live.store.appeals(case_no=1, state=None)[0].state == "accepted"

    scenario(tmp_path, story)


def test_grpc_the_review_flow_kick_awaits_then_approved(tmp_path: Path) -> None:
    async def story(live: Live) -> None:
        svc = live.service
        svc.say(WU, "澳门赌场上线了", room=ROOM)
        await live.until(lambda: any("【待确认】案件 1" in t for t in live.sent_to(OWNER)))
        await live.quiet()
        assert svc.kicks == []
        svc.say(ADMIN, "同意 1")
        await live.until(lambda: svc.kicks == [(ROOM, WU)])
        await live.until(lambda: any("已同意案件 1" in t for t in live.sent_to(ADMIN)))

    scenario(tmp_path, story, review=True)
