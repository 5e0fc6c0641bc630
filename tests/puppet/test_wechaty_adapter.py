"""The real python-wechaty client and our adapter, over a real gRPC socket on
127.0.0.1, against the fake 1.x puppet-service server: what arrives becomes
the right ``bot.events`` object, and what the bot does reaches the server."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from bot import events as ev
from bot.errors import NotAFriend, NotPermitted
from tests.puppet.fake_service import INLINE_LIMIT, FakePuppetService
from tests.puppet.session import arun, qr_poster, running, small_qr

BOT = "wxid_bot"
ZHANG, LI, WANG = "wxid_zhangsan", "wxid_lisi", "wxid_wangwu"
ROOM = "20000000001@chatroom"  # the bot owns it
OTHER = "20000000002@chatroom"  # the bot is a plain member


def wechat(**kw: Any) -> FakePuppetService:
    srv = FakePuppetService(bot_id=BOT, **kw)
    srv.add_contact(ZHANG, "张三", friend=True)
    srv.add_contact(LI, "李四")
    srv.add_contact(WANG, "王五")
    srv.add_room(ROOM, "金矿技术交流群", [BOT, ZHANG, LI], owner=BOT, admins=[BOT])
    srv.add_room(OTHER, "校友群", [BOT, ZHANG, LI], owner=LI, admins=[ZHANG])
    return srv


def scenario(fn):  # type: ignore[no-untyped-def]
    """Run ``fn(srv, puppet, recorder)`` with the adapter logged in."""

    def test(tmp_path: Path) -> None:
        async def main() -> None:
            async with wechat() as srv, running(srv.endpoint, tmp_path) as (puppet, rec):
                await fn(srv, puppet, rec)

        arun(main())

    test.__name__ = fn.__name__
    test.__doc__ = fn.__doc__
    return test


# --------------------------------------------------------------------------- events in

POSTER_TEXT = "weixin://wxpay/bizpayurl?pr=QunguardTest"

MESSAGE_CASES = [
    pytest.param(
        dict(
            kind="url",
            card={
                "url": "https://shop.example/p/1",
                "title": "低价黄金回收",
                "description": "加微信 gold888",
                "thumbnailUrl": "",
            },
        ),
        dict(
            type=ev.MessageType.URL,
            url="https://shop.example/p/1",
            title="低价黄金回收",
            description="加微信 gold888",
        ),
        id="url-card",
    ),
    pytest.param(
        dict(
            kind="mini_program",
            card={
                "appid": "wx123",
                "title": "砍一刀",
                "description": "拼多多",
                "pagePath": "",
                "username": "gh_1",
                "thumbUrl": "",
                "thumbKey": "",
                "iconUrl": "",
                "shareId": "",
            },
        ),
        dict(type=ev.MessageType.MINI_PROGRAM, title="砍一刀", app="拼多多"),
        id="mini-program",
    ),
    pytest.param(
        dict(kind="contact", contact_id=WANG),
        dict(type=ev.MessageType.CONTACT_CARD, card_id=WANG, card_name="王五", text="王五"),
        id="contact-card",
    ),
    pytest.param(
        dict(kind="image", data=small_qr("https://u.wechat.com/abc"), name="qr.png"),
        dict(type=ev.MessageType.IMAGE, qr_payloads=("https://u.wechat.com/abc",), file_name="qr.png"),
        id="small-image-inline",
    ),
    pytest.param(
        dict(kind="image", data=qr_poster(POSTER_TEXT), name="poster.png"),
        dict(type=ev.MessageType.IMAGE, qr_payloads=(POSTER_TEXT,), file_name="poster.png"),
        id="image-over-20KB-via-Download",
    ),
    pytest.param(
        dict(kind="attachment", data=b"%PDF-1.4 fake", name="招聘简章.pdf"),
        dict(type=ev.MessageType.FILE, file_name="招聘简章.pdf", text="招聘简章.pdf", qr_payloads=()),
        id="file",
    ),
    pytest.param(
        dict(kind="image", name="gone.jpg"),  # the server cannot produce the bytes
        dict(type=ev.MessageType.IMAGE, file_name="gone.jpg", media_key="", qr_payloads=()),
        id="image-that-cannot-be-fetched",
    ),
    pytest.param(
        dict(kind="video", data=b"\x00\x00\x00\x18ftypmp42", name="v.mp4"),
        dict(type=ev.MessageType.VIDEO, file_name="v.mp4", media_key=""),
        id="video",
    ),
    pytest.param(
        dict(kind="emoticon", text="<msg><emoji md5='x'/></msg>"),
        dict(type=ev.MessageType.EMOTICON, text=""),
        id="emoticon",
    ),
    pytest.param(dict(kind="audio"), dict(type=ev.MessageType.AUDIO), id="audio"),
    pytest.param(
        dict(kind="post", text="a 1.x-only type"), dict(type=ev.MessageType.OTHER), id="unknown-type"
    ),
]


@pytest.mark.parametrize(("post", "expected"), MESSAGE_CASES)
def test_room_message_of_each_type_becomes_a_message_event(
    tmp_path: Path, post: dict[str, Any], expected: dict[str, Any]
) -> None:
    async def main() -> None:
        async with wechat() as srv, running(srv.endpoint, tmp_path) as (_puppet, rec):
            mid = srv.post(ZHANG, ROOM, **post)
            msg = await rec.wait_for(lambda r: next((m for m in r.of(ev.Message) if m.id == mid), None))
            assert (msg.room_id, msg.sender_id, msg.sender_name, msg.room_topic) == (
                ROOM,
                ZHANG,
                "张三",
                "金矿技术交流群",
            )
            for key, value in expected.items():
                assert getattr(msg, key) == value, key
            if post.get("data") and post["kind"] != "video":
                assert msg.media_key == "sha256:" + hashlib.sha256(post["data"]).hexdigest()
                assert ("Download" in srv.calls) == (len(post["data"]) > INLINE_LIMIT)

    arun(main())


@scenario
async def test_text_with_mentions_keeps_contact_ids(srv: FakePuppetService, puppet: Any, rec: Any) -> None:
    srv.say(ZHANG, "@李四 @群管机器人 看这里", room=ROOM, mentions=[LI, BOT])
    msg = await rec.message("@李四 @群管机器人 看这里")
    assert msg.type is ev.MessageType.TEXT
    assert msg.mention_ids == (LI, BOT)
    assert msg.at.tzinfo is not None


@scenario
async def test_a_message_from_a_sender_or_room_the_server_cannot_describe_is_still_seen(
    srv: FakePuppetService, puppet: Any, rec: Any
) -> None:
    srv.say("wxid_stranger", "扫码进群领福利", room=ROOM)  # no contact payload for this one
    msg = await rec.message("扫码进群领福利")
    assert (msg.sender_id, msg.sender_name, msg.room_id) == ("wxid_stranger", "", ROOM)
    srv.say(ZHANG, "in a room we do not know", room="99999@chatroom")
    msg = await rec.message("in a room we do not know")
    assert (msg.room_id, msg.room_topic, msg.sender_name) == ("99999@chatroom", "", "张三")


@scenario
async def test_recall_becomes_message_recalled_with_the_original_id(
    srv: FakePuppetService, puppet: Any, rec: Any
) -> None:
    original = srv.say(ZHANG, "加我微信 abc123", room=ROOM)
    srv.post(ZHANG, ROOM, "recalled", text=original)
    recalled = await rec.wait_for(lambda r: r.of(ev.MessageRecalled))
    assert recalled == [ev.MessageRecalled(room_id=ROOM, message_id=original, at=recalled[0].at)]


@scenario
async def test_private_text_becomes_private_message(srv: FakePuppetService, puppet: Any, rec: Any) -> None:
    mid = srv.say(ZHANG, "#申诉 我没有发广告")
    [pm] = await rec.wait_for(lambda r: r.of(ev.PrivateMessage))
    assert (pm.id, pm.sender_id, pm.text, pm.sender_name) == (mid, ZHANG, "#申诉 我没有发广告", "张三")


@scenario
async def test_messages_the_bot_sent_itself_are_ignored(
    srv: FakePuppetService, puppet: Any, rec: Any
) -> None:
    await puppet.say(ROOM, "请勿发广告")
    srv.say(ZHANG, "收到", room=ROOM)
    await rec.message("收到")
    assert [m.text for m in rec.of(ev.Message)] == ["收到"]
    assert srv.sent[0].id in srv.messages  # the echo did come down the stream


@scenario
async def test_member_joined_left_and_topic_changed(srv: FakePuppetService, puppet: Any, rec: Any) -> None:
    srv.join(ROOM, [WANG], inviter=ZHANG)
    [joined] = await rec.wait_for(lambda r: r.of(ev.MemberJoined))
    assert (joined.room_id, joined.contact_id, joined.inviter_id, joined.name) == (ROOM, WANG, ZHANG, "王五")
    assert joined.room_topic == "金矿技术交流群"
    srv.leave(ROOM, LI)
    srv.leave(ROOM, WANG, remover=ZHANG)
    srv.rename(ROOM, "金矿群（新）", by=ZHANG)
    await rec.wait_for(lambda r: r.of(ev.TopicChanged))
    assert [(e.contact_id, e.remover_id) for e in rec.of(ev.MemberLeft)] == [(LI, LI), (WANG, ZHANG)]
    [topic] = rec.of(ev.TopicChanged)
    assert (topic.topic, topic.old_topic, topic.changer_id) == ("金矿群（新）", "金矿技术交流群", ZHANG)
    # the adapter dropped python-wechaty's cached room payload: later messages carry the new topic
    srv.say(ZHANG, "新群名", room=ROOM)
    assert (await rec.message("新群名")).room_topic == "金矿群（新）"


@scenario
async def test_room_invitation_arrives_and_can_be_accepted(
    srv: FakePuppetService, puppet: Any, rec: Any
) -> None:
    iid = srv.invite(ZHANG, "新的技术群")
    [inv] = await rec.wait_for(lambda r: r.of(ev.RoomInvitation))
    assert (inv.invitation_id, inv.inviter_id, inv.room_topic) == (iid, ZHANG, "新的技术群")
    await puppet.accept_invitation(iid)
    assert srv.invitations[iid]["accepted"]


@scenario
async def test_login_names_the_bot_and_logout_is_reported(
    srv: FakePuppetService, puppet: Any, rec: Any
) -> None:
    [login] = rec.of(ev.LoggedIn)
    assert (login.bot_id, login.name, puppet.bot_id) == (BOT, "群管机器人", BOT)
    srv.logout()
    [out] = await rec.wait_for(lambda r: r.of(ev.LoggedOut))
    assert out.reason == "logged out from the phone"


def test_undecodable_events_and_a_failing_handler_do_not_stop_the_stream(tmp_path: Path) -> None:
    from wechaty_grpc.wechaty.puppet import EventType

    async def choke(event: ev.Event) -> None:
        if isinstance(event, ev.Message) and event.text == "boom":
            raise RuntimeError("the handler chokes on this one")

    async def main() -> None:
        async with wechat() as srv, running(srv.endpoint, tmp_path, handler=choke) as (_puppet, rec):
            srv.emit(EventType.EVENT_TYPE_ROOM_JOIN, {"roomId": 42, "inviteeIdList": "nope"})  # garbage
            srv.emit(EventType.EVENT_TYPE_MESSAGE, {"messageId": "msg-that-does-not-exist"})
            srv.emit(EventType.EVENT_TYPE_MESSAGE, {})
            srv.say(ZHANG, "boom", room=ROOM)
            srv.say(ZHANG, "still here", room=ROOM)
            await rec.message("still here")
            assert [m.text for m in rec.of(ev.Message)] == ["boom", "still here"]

    arun(main())


# --------------------------------------------------------------------------- actions out


@scenario
async def test_say_puts_mentions_in_the_text_and_the_ids_on_the_wire(
    srv: FakePuppetService, puppet: Any, rec: Any
) -> None:
    srv.rooms[ROOM].aliases[LI] = "技术部-李四"
    message_id = await puppet.say(ROOM, "请修改群昵称", [ZHANG, LI])
    [sent] = srv.sent
    assert (sent.conversation_id, sent.mention_ids, sent.id) == (ROOM, [ZHANG, LI], message_id)
    assert sent.text == "@张三\u2005@技术部-李四\u2005请修改群昵称"


@scenario
async def test_say_private_reaches_a_friend_and_refuses_a_stranger(
    srv: FakePuppetService, puppet: Any, rec: Any
) -> None:
    await puppet.say_private(ZHANG, "您在群里发的链接违反群规，请撤回。")
    assert [(s.conversation_id, s.text) for s in srv.sent] == [(ZHANG, "您在群里发的链接违反群规，请撤回。")]
    with pytest.raises(NotAFriend):
        await puppet.say_private(LI, "不会发出")
    assert len(srv.sent) == 1
    assert await puppet.is_friend(ZHANG) and not await puppet.is_friend(LI)


@scenario
async def test_kick_as_owner_removes_the_member(srv: FakePuppetService, puppet: Any, rec: Any) -> None:
    await puppet.kick(ROOM, LI)
    assert srv.kicks == [(ROOM, LI)]
    [left] = await rec.wait_for(lambda r: r.of(ev.MemberLeft))
    assert (left.contact_id, left.remover_id) == (LI, BOT)
    assert LI not in (await puppet.room_info(ROOM)).member_ids


@scenario
async def test_kick_without_owner_or_admin_rights_raises_not_permitted(
    srv: FakePuppetService, puppet: Any, rec: Any
) -> None:
    with pytest.raises(NotPermitted):
        await puppet.kick(OTHER, LI)
    assert srv.kicks == [] and "RoomDel" not in srv.calls
    srv.rooms[OTHER].admin_ids.append(BOT)  # made admin: now it may
    await puppet.kick(OTHER, LI)
    assert srv.kicks == [(OTHER, LI)]


@scenario
async def test_announce_sets_the_group_notice_with_field_3(
    srv: FakePuppetService, puppet: Any, rec: Any
) -> None:
    await puppet.announce(ROOM, "群规：禁止广告、刷屏。")
    assert srv.rooms[ROOM].announcement == "群规：禁止广告、刷屏。"
    with pytest.raises(NotPermitted):
        await puppet.announce(OTHER, "不是管理员")
    assert srv.rooms[OTHER].announcement == ""


@scenario
async def test_room_info_rooms_and_names_are_live(srv: FakePuppetService, puppet: Any, rec: Any) -> None:
    info = await puppet.room_info(ROOM)
    assert info == ev.RoomInfo(ROOM, "金矿技术交流群", BOT, (BOT,), (BOT, ZHANG, LI))
    srv.rooms[ROOM].member_ids.append(WANG)  # joined without an event (someone's QR code)
    assert WANG in (await puppet.room_info(ROOM)).member_ids
    assert {r.id for r in await puppet.rooms()} == {ROOM, OTHER}
    srv.rooms[ROOM].aliases[ZHANG] = "金矿-张三"
    assert await puppet.contact_name(ZHANG, ROOM) == "金矿-张三"
    assert await puppet.contact_name(ZHANG) == "张三"
    assert await puppet.contact_name("wxid_nobody") == "wxid_nobody"


def test_a_login_announced_twice_in_one_session_is_handled_once_and_a_scan_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from wechaty_grpc.wechaty.puppet import EventType

    async def main() -> None:
        async with wechat() as srv, running(srv.endpoint, tmp_path) as (_puppet, rec):
            srv.emit(EventType.EVENT_TYPE_LOGIN, {"contactId": BOT})
            srv.emit(EventType.EVENT_TYPE_SCAN, {"status": 2, "qrcode": "https://login.example/qr/123"})
            srv.say(ZHANG, "after", room=ROOM)
            await rec.message("after")
            assert len(rec.of(ev.LoggedIn)) == 1

    with caplog.at_level("WARNING", logger="bot.puppet.wechaty"):
        arun(main())
    assert any("https://login.example/qr/123" in r.getMessage() for r in caplog.records)
