"""The adapter against Wechaty's own 1.x puppet-service server (npm
wechaty-puppet-service 1.19.9 with wechaty-puppet-mock 1.19.4 behind it),
started by the test on 127.0.0.1: the compatibility fixes hold on the real
thing, not only on our fake."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import events as ev
from tests.puppet.session import arun, qr_poster, running
from tests.puppet.wechaty_server import TOKEN, WechatyServer, node_or_skip

BOT, ZHANG, LI = "wxid_qunguard_bot", "wxid_zhangsan", "wxid_lisi"
ROOM = "20000000001@chatroom"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[WechatyServer]:
    srv = WechatyServer(node_or_skip(), tmp_path)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


async def said(server: WechatyServer, text: str, **kw: object) -> None:
    await asyncio.to_thread(server.call, "say", **{"from": ZHANG, "room": ROOM, "text": text, **kw})


def test_a_member_message_reaches_the_bot_and_its_actions_reach_wechat(
    server: WechatyServer, tmp_path: Path
) -> None:
    async def main() -> None:
        async with running(server.endpoint, tmp_path / "data", token=TOKEN) as (puppet, rec):
            assert puppet.bot_id == BOT
            await said(server, "加我微信领红包", mentions=[LI])
            msg = await rec.message("加我微信领红包")
            assert (msg.room_id, msg.sender_id, msg.sender_name, msg.room_topic, msg.type) == (
                ROOM,
                ZHANG,
                "张三",
                "测试群",
                ev.MessageType.TEXT,
            )
            assert msg.mention_ids == (LI,)
            await puppet.say(ROOM, "请勿发广告", [ZHANG])
            await puppet.announce(ROOM, "群规：禁止广告")  # field 3, or the 1.x server only reads
            info = await puppet.room_info(ROOM)
            assert (info.owner_id, set(info.member_ids)) == (BOT, {BOT, ZHANG, LI})
            await puppet.kick(ROOM, LI)
            [left] = await rec.wait_for(lambda r: r.of(ev.MemberLeft))
            assert (left.room_id, left.contact_id, left.remover_id) == (ROOM, LI, BOT)
            assert LI not in (await puppet.room_info(ROOM)).member_ids
            assert await puppet.is_friend(ZHANG)

    arun(main(), timeout=60)
    ops = [(d["op"], d.get("text"), d.get("mentionIdList")) for d in server.did]
    assert ("say", "@张三\u2005请勿发广告", [ZHANG]) in ops
    assert ("announce", "群规：禁止广告", None) in ops
    assert [(d["roomId"], d["contactId"]) for d in server.did if d["op"] == "kick"] == [(ROOM, LI)]


def test_joins_leaves_and_renames_arrive_with_who_did_them(server: WechatyServer, tmp_path: Path) -> None:
    async def main() -> None:
        async with running(server.endpoint, tmp_path / "data", token=TOKEN) as (puppet, rec):
            await asyncio.to_thread(server.call, "join", contact="wxid_new", name="新人", inviter=ZHANG)
            [joined] = await rec.wait_for(lambda r: r.of(ev.MemberJoined))
            assert (joined.room_id, joined.contact_id, joined.name, joined.inviter_id) == (
                ROOM,
                "wxid_new",
                "新人",
                ZHANG,
            )
            assert "wxid_new" in (await puppet.room_info(ROOM)).member_ids
            await asyncio.to_thread(server.call, "leave", contact=LI, remover=ZHANG)
            [left] = await rec.wait_for(lambda r: r.of(ev.MemberLeft))
            assert (left.contact_id, left.remover_id) == (LI, ZHANG)
            await asyncio.to_thread(server.call, "topic", topic="新群名", by=ZHANG)
            [renamed] = await rec.wait_for(lambda r: r.of(ev.TopicChanged))
            assert (renamed.topic, renamed.old_topic, renamed.changer_id) == ("新群名", "测试群", ZHANG)
            await said(server, "改名之后")
            assert (await rec.message("改名之后")).room_topic == "新群名"

    arun(main(), timeout=60)


def test_private_messages_both_ways(server: WechatyServer, tmp_path: Path) -> None:
    async def main() -> None:
        async with running(server.endpoint, tmp_path / "data", token=TOKEN) as (puppet, rec):
            await asyncio.to_thread(
                server.call, "say", **{"from": ZHANG, "to": BOT, "text": "#申诉 我没发广告"}
            )
            [pm] = await rec.wait_for(lambda r: r.of(ev.PrivateMessage))
            assert (pm.sender_id, pm.text, pm.sender_name) == (ZHANG, "#申诉 我没发广告", "张三")
            await puppet.say_private(ZHANG, "已收到您的申诉")

    arun(main(), timeout=60)
    assert any(
        d["op"] == "say" and d["conversationId"] == ZHANG and d["text"] == "已收到您的申诉"
        for d in server.did
    )


def test_the_bot_keeps_hearing_after_an_error_event(server: WechatyServer, tmp_path: Path) -> None:
    async def main() -> None:
        async with running(server.endpoint, tmp_path / "data", token=TOKEN) as (_puppet, rec):
            await asyncio.to_thread(server.call, "error", message="puppet watchdog timeout")
            await rec.wait_for(lambda r: r.of(ev.PuppetError))
            await said(server, "错误之后的广告")
            await rec.message("错误之后的广告")
            assert "puppet watchdog timeout" in rec.of(ev.PuppetError)[0].detail

    arun(main(), timeout=60)


def test_a_qr_poster_over_20KB_arrives_decoded(server: WechatyServer, tmp_path: Path) -> None:
    poster = qr_poster("weixin://wxpay/bizpayurl?pr=NodeServer")
    assert len(poster) > 20 * 1024

    async def main() -> None:
        async with running(server.endpoint, tmp_path / "data", token=TOKEN) as (_puppet, rec):
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
            [img] = await rec.wait_for(lambda r: r.of(ev.Message), timeout=10)
            assert img.type is ev.MessageType.IMAGE
            assert img.qr_payloads == ("weixin://wxpay/bizpayurl?pr=NodeServer",)
            assert img.sender_id == ZHANG and img.media_key.startswith("sha256:")

    arun(main(), timeout=60)


def test_after_a_server_restart_the_bot_hears_again_within_10_seconds(
    server: WechatyServer, tmp_path: Path
) -> None:
    async def main() -> None:
        async with running(server.endpoint, tmp_path / "data", token=TOKEN, reconnect_max_s=5.0) as (
            puppet,
            rec,
        ):
            await said(server, "重启之前")
            await rec.message("重启之前")
            loop = asyncio.get_running_loop()
            killed_at = loop.time()
            await asyncio.to_thread(server.restart)
            await rec.wait_for(lambda r: len(r.of(ev.LoggedIn)) >= 2, timeout=10)
            await said(server, "重启之后")
            await rec.message("重启之后", timeout=10)
            assert loop.time() - killed_at < 10
            await puppet.say(ROOM, "恢复管理")

    arun(main(), timeout=90)
    assert any(d["op"] == "say" and d["text"] == "恢复管理" for d in server.did)


def test_a_wrong_token_is_reported_as_such_and_never_logs_in(
    server: WechatyServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.puppet.wechaty import WechatyPuppet

    async def main() -> None:
        puppet = WechatyPuppet(server.endpoint, "not-the-token", tmp_path / "data", reconnect_min_s=0.1)
        events: list[ev.Event] = []

        async def handle(event: ev.Event) -> None:
            events.append(event)

        task = asyncio.create_task(puppet.run(handle))
        for _ in range(100):
            if any("rejected the token" in r.getMessage() for r in caplog.records):
                break
            await asyncio.sleep(0.05)
        await puppet.stop()
        await asyncio.wait_for(task, 5)
        assert not [e for e in events if isinstance(e, ev.LoggedIn)]

    with caplog.at_level("WARNING", logger="bot.puppet.wechaty"):
        arun(main(), timeout=60)
    assert any("rejected the token" in r.getMessage() for r in caplog.records)
