"""The whole bot over a real gRPC socket: the real wechaty client and adapter,
the App, the rule engine and a SQLite file, against the fake puppet-service
server of tests/puppet (a 1.x server's wire on 127.0.0.1)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from bot.app import App
from bot.config import BotConfig, Config, RoomSelector
from bot.ladder import Ladder
from bot.puppet.outbox import Outbox
from bot.puppet.wechaty import WechatyPuppet
from bot.rules_holder import RulesHolder
from bot.store import open_store
from tests.app.grpc_live import Live
from tests.app.harness import ADMIN, CHEN, LI, OWNER, ROOM, RULES, TOPIC, fresh_db, states
from tests.puppet.fake_service import FakePuppetService
from tests.puppet.session import arun

BOT = "wxid_bot"


def world(service: FakePuppetService, *, bot_is_owner: bool = True, room: bool = True) -> None:
    for cid, name, friend in (
        (ADMIN, "张管理", True),
        (OWNER, "王群主", True),
        (LI, "李四", True),
        (CHEN, "陈七", False),
    ):
        service.add_contact(cid, name, friend)
    if room:
        service.add_room(
            ROOM,
            TOPIC,
            [BOT, OWNER, ADMIN, LI, CHEN],
            owner=BOT if bot_is_owner else OWNER,
            admins=[OWNER] if bot_is_owner else [],
        )


@asynccontextmanager
async def live_bot(
    tmp: Path,
    setup: Callable[[FakePuppetService], None],
    *,
    rooms: tuple = (),
    service: FakePuppetService | None = None,
) -> AsyncIterator[Live]:
    own = service is None
    svc = service or FakePuppetService(bot_id=BOT)
    if own:
        setup(svc)
        await svc.start()
    # no self-introduction in the configured room: the stories count what they caused themselves
    bot = BotConfig(admins=(ADMIN,), rooms=rooms, introduce_in_rooms=False)
    config = Config(bot=bot, data_dir=str(tmp / "data"))
    puppet = WechatyPuppet(
        svc.endpoint, "test-token", tmp / "data", reconnect_min_s=0.2, reconnect_max_s=1.0, rpc_timeout_s=5.0
    )
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
        if own:
            await svc.close()


def scenario(
    tmp: Path,
    story: Callable[[Live], Awaitable[None]],
    setup: Callable[[FakePuppetService], None] = world,
    rooms: tuple = (RoomSelector(id=ROOM),),
) -> None:
    async def main() -> None:
        async with live_bot(tmp, setup, rooms=rooms) as live:
            await story(live)

    arun(main(), timeout=60)


def test_e2e_an_admin_invites_the_bot_and_enables_the_room(tmp_path: Path) -> None:
    async def story(live: Live) -> None:
        svc = live.service
        invitation = svc.invite(ADMIN, TOPIC)
        await live.until(lambda: svc.invitations[invitation]["accepted"])
        svc.add_room(ROOM, TOPIC, [BOT, OWNER, ADMIN, LI], owner=OWNER, admins=[ADMIN])  # WeChat adds the bot
        svc.say(OWNER, "#启用", room=ROOM)
        await live.until(lambda: any("大家好，我是群管机器人" in t for t in live.sent_to(ROOM)))
        svc.say(LI, "有需要的加微信 abc123", room=ROOM)
        await live.until(lambda: any("请尽快撤回" in t for t in live.sent_to(LI)))

    scenario(tmp_path, story, setup=lambda s: world(s, room=False), rooms=())


def test_e2e_an_ad_gets_a_private_warning(tmp_path: Path) -> None:
    async def story(live: Live) -> None:
        live.service.say(LI, "有需要的加微信 abc123", room=ROOM)
        await live.until(lambda: live.sent_to(LI))
        assert "案件号 1" in live.sent_to(LI)[0]
        assert live.sent_to(ROOM) == []

    scenario(tmp_path, story)


def test_e2e_a_second_offence_gets_a_public_warning_and_a_mute_then_muted_speaking_the_next_step(
    tmp_path: Path,
) -> None:
    async def story(live: Live) -> None:
        svc = live.service
        svc.say(LI, "加微信 abc123", room=ROOM)
        await live.until(lambda: live.sent_to(LI))
        live.app.moderator.ladder = _no_incident_gap(live.app.moderator.ladder)
        svc.say(LI, "加微信 abc123 再发一次", room=ROOM)
        await live.until(lambda: any("禁言至" in t for t in live.sent_to(ROOM)))
        notice = next(s for s in svc.sent if s.conversation_id == ROOM)
        assert notice.mention_ids == [LI] and "案件号 2" in notice.text
        svc.say(LI, "我就说一句", room=ROOM)
        await live.until(lambda: any("禁言期至" in t for t in live.sent_to(LI)))
        svc.say(LI, "我还要说", room=ROOM)
        await live.until(lambda: svc.kicks == [(ROOM, LI)])
        await live.until(lambda: live.app.pending_kicks == {}, timeout=5)  # the room-leave came

    scenario(tmp_path, story)


def test_e2e_a_kick_without_owner_rights_asks_the_admins(tmp_path: Path) -> None:
    async def story(live: Live) -> None:
        live.service.say(LI, "澳门赌场上线了", room=ROOM)
        await live.until(lambda: any("请协助移出" in t for t in live.sent_to(OWNER)))
        assert live.service.kicks == []
        await live.quiet()
        assert states(live.store, 1)["kick"] == "requested_admins"

    scenario(tmp_path, story, setup=lambda s: world(s, bot_is_owner=False))


def test_e2e_a_blacklisted_member_who_joins_is_removed(tmp_path: Path) -> None:
    async def story(live: Live) -> None:
        live.store.blacklist_add("wxid_spammer", scope="bot", reason="广告", by=ADMIN)
        live.service.join(ROOM, ["wxid_spammer"], inviter=CHEN)
        await live.until(lambda: live.service.kicks == [(ROOM, "wxid_spammer")])

    scenario(tmp_path, story)


def test_e2e_the_server_restarts_mid_stream_and_nothing_is_handled_twice(tmp_path: Path) -> None:
    async def main() -> None:
        svc = FakePuppetService(
            bot_id=BOT, redeliver_on_connect=5
        )  # a restarted server re-sends recent events
        world(svc)
        await svc.start()
        try:
            async with live_bot(tmp_path, world, rooms=(RoomSelector(id=ROOM),), service=svc) as live:
                svc.say(LI, "加微信 abc123", room=ROOM)
                await live.until(lambda: live.sent_to(LI))
                await svc.restart()
                await live.until(lambda: svc.attached > 0, timeout=15)
                await live.quiet(0.5)
                svc.say(CHEN, "大家好", room=ROOM)
                svc.say(OWNER, "加微信 owner-test", room=ROOM)  # the rules bind admins too
                await live.until(lambda: live.sent_to(OWNER))
                await live.quiet()
                assert len(live.sent_to(LI)) == 1, "the redelivered ad was not warned again"
        finally:
            await svc.close()

    arun(main(), timeout=60)


def _no_incident_gap(ladder: Ladder) -> Ladder:
    """Two offences a second apart are one incident by default; here they count as two."""
    return Ladder(replace(ladder.policy, incident=timedelta(0)))


def test_qunguard_run_with_a_puppet_endpoint_moderates_through_the_wechaty_adapter(tmp_path: Path) -> None:
    from bot.cli.run_cmd import serve
    from bot.config import OutboxConfig, PuppetConfig

    async def main() -> None:
        svc = FakePuppetService(bot_id=BOT)
        world(svc)
        await svc.start()
        config = Config(
            database=fresh_db(tmp_path),
            data_dir=str(tmp_path / "data"),
            puppet=PuppetConfig(endpoint=svc.endpoint, token="test-token"),
            outbox=OutboxConfig(merge_window_s=0, min_interval_s=0),
            bot=BotConfig(admins=(ADMIN,), rooms=(RoomSelector(name_contains="技术交流"),)),
        )
        stop = asyncio.Event()
        bot = asyncio.create_task(serve(config, RulesHolder.load(RULES), local=False, stop=stop))
        try:
            for _ in range(200):
                if svc.attached:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
            svc.say(LI, "有需要的加微信 abc123", room=ROOM)
            for _ in range(200):
                if any(s.conversation_id == LI for s in svc.sent):
                    break
                await asyncio.sleep(0.05)
            assert any("请尽快撤回" in s.text for s in svc.sent if s.conversation_id == LI)
        finally:
            stop.set()
            assert await asyncio.wait_for(bot, 30) == 0
            await svc.close()
        store = open_store(config.database, journal_dir=None)
        try:
            assert states(store, 1) == {"warn_private": "done"}
        finally:
            store.close()

    arun(main(), timeout=90)


def test_on_shutdown_a_warning_still_in_the_outbox_goes_out_before_disconnecting(tmp_path: Path) -> None:
    from bot.cli.run_cmd import serve
    from bot.config import PuppetConfig

    async def main() -> None:
        svc = FakePuppetService(bot_id=BOT)
        world(svc)
        await svc.start()
        config = Config(  # the default outbox: the warning waits ~3 s for more to merge with
            database=fresh_db(tmp_path),
            data_dir=str(tmp_path / "data"),
            puppet=PuppetConfig(endpoint=svc.endpoint, token="test-token"),
            bot=BotConfig(admins=(ADMIN,), rooms=(RoomSelector(id=ROOM),)),
        )
        stop = asyncio.Event()
        bot = asyncio.create_task(serve(config, RulesHolder.load(RULES), local=False, stop=stop))
        try:
            for _ in range(200):
                if svc.attached:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
            svc.say(LI, "有需要的加微信 abc123", room=ROOM)
            await asyncio.sleep(0.5)  # judged and queued, not yet sent
            assert not any(s.conversation_id == LI for s in svc.sent)
            stop.set()  # SIGTERM
            assert await asyncio.wait_for(bot, 30) == 0
            assert any("请尽快撤回" in s.text for s in svc.sent if s.conversation_id == LI)
        finally:
            stop.set()
            await svc.close()

    arun(main(), timeout=90)
