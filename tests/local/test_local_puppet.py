"""The local simulated group, driven by piped input, as the operator uses it."""

from __future__ import annotations

import asyncio
import inspect
import io
import itertools
import os
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from bot.errors import ActionFailed, NotAFriend, NotPermitted
from bot.events import (
    Event,
    LoggedIn,
    LoggedOut,
    MemberJoined,
    MemberLeft,
    Message,
    MessageRecalled,
    MessageType,
    PrivateMessage,
    TopicChanged,
)
from bot.puppet.local import BOT_ID, EXAMPLE_AD, ROOM_ID, LocalPuppet, contact_id_for
from bot.puppet.local_input import Command, Say, Unreadable, parse_line

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


def ticking_clock():
    seconds = itertools.count()
    return lambda: T0 + timedelta(seconds=next(seconds))


class Session:
    """One local session fed ``lines``; records what the bot's handler saw."""

    def __init__(self, *lines: str, react=None) -> None:
        self.stdin = io.BytesIO("".join(line + "\n" for line in lines).encode("utf-8"))
        self.stdout = io.StringIO()
        self.puppet = LocalPuppet(stdin=self.stdin, stdout=self.stdout, now=ticking_clock(), pace_s=0)
        self.events: list[Event] = []
        self.react = react

    async def handler(self, event: Event) -> None:
        self.events.append(event)
        if self.react is not None:
            await self.react(self.puppet, event)

    def run(self) -> Session:
        asyncio.run(asyncio.wait_for(self.puppet.run(self.handler), 10))
        return self

    @property
    def output(self) -> str:
        return self.stdout.getvalue()

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]


def qr_png(payload: str) -> bytes:
    img = memoryview(zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.QRCode).to_image(scale=4))
    buf = io.BytesIO()
    Image.frombytes("L", (img.shape[1], img.shape[0]), bytes(img)).save(buf, "PNG")
    return buf.getvalue()


# --- what the operator types -------------------------------------------------


@pytest.mark.parametrize(
    ("line", "parsed"),
    [
        pytest.param("小王: 大家好", Say("小王", "大家好"), id="ascii-colon"),
        pytest.param("小王：大家好", Say("小王", "大家好"), id="full-width-colon"),
        pytest.param(
            "紫金-王工: 比例 1:2 的药剂", Say("紫金-王工", "比例 1:2 的药剂"), id="colon-inside-text"
        ),
        pytest.param("  小王 :  有空格  \r\n", Say("小王", "有空格"), id="spaces-and-crlf"),
        pytest.param("/join 小张 小王", Command("join", "小张 小王"), id="command"),
        pytest.param("/QUIT", Command("quit", ""), id="command-case"),
        pytest.param("/exit", Command("quit", ""), id="alias"),
        pytest.param("", None, id="blank"),
        pytest.param("/kickall", Unreadable, id="unknown-command"),
        pytest.param("大家好", Unreadable, id="no-name"),
        pytest.param("https://example.com", Unreadable, id="bare-url-is-not-a-name"),
        pytest.param("小王:", Unreadable, id="nothing-said"),
        pytest.param("很" * 40 + ": 嗯", Unreadable, id="name-too-long"),
    ],
)
def test_typed_lines_are_parsed(line, parsed):
    result = parse_line(line)
    if parsed is Unreadable:
        assert isinstance(result, Unreadable) and result.reason
    else:
        assert result == parsed


# --- typed lines become events ------------------------------------------------


def test_a_typed_line_becomes_a_room_message_from_a_stable_member():
    s = Session("小王: 大家好", "小李: 你好 @小王", "小王: 再说一句").run()
    messages = s.of(Message)
    assert [(m.sender_id, m.sender_name, m.text) for m in messages] == [
        ("local-小王", "小王", "大家好"),
        ("local-小李", "小李", "你好 @小王"),
        ("local-小王", "小王", "再说一句"),
    ]
    assert all(m.room_id == ROOM_ID and m.type is MessageType.TEXT for m in messages)
    assert messages[1].mention_ids == ("local-小王",)
    ids = [m.id for m in messages]
    assert ids == sorted(ids) and len(set(ids)) == 3  # increasing, as text too
    assert [m.at for m in messages] == sorted(m.at for m in messages)
    assert messages[0].at.tzinfo is not None


def test_the_session_starts_with_login_and_ends_with_logout_at_end_of_input():
    s = Session("小王: 大家好").run()
    assert isinstance(s.events[0], LoggedIn) and s.events[0].bot_id == BOT_ID
    assert isinstance(s.events[-1], LoggedOut)


def test_message_ids_differ_between_sessions_so_a_reused_database_sees_new_messages():
    first = LocalPuppet(stdin=io.BytesIO(), stdout=io.StringIO(), now=lambda: T0)
    second = LocalPuppet(stdin=io.BytesIO(), stdout=io.StringIO(), now=lambda: T0 + timedelta(minutes=5))
    assert (
        first._message(first._member("小王", create=True), text="a").id
        != second._message(second._member("小王", create=True), text="a").id
    )


def test_join_with_inviter_and_leave():
    s = Session("/join 小张 老王", "小张: 我来了", "/leave 小张").run()
    (joined,) = s.of(MemberJoined)
    assert (joined.contact_id, joined.name, joined.inviter_id) == ("local-小张", "小张", "local-老王")
    (left,) = s.of(MemberLeft)
    assert (left.contact_id, left.remover_id) == ("local-小张", "")
    assert "[入群] 小张 加入了群聊（邀请人：老王）" in s.output
    assert "[退群] 小张 退出了群聊" in s.output


def test_someone_who_left_speaks_again_only_after_joining():
    s = Session("小王: 在", "/leave 小王", "小王: 我又来了", "/join 小王", "小王: 回来了").run()
    assert [m.text for m in s.of(Message)] == ["在", "回来了"]
    assert "/join 小王" in s.output


def test_a_link_card():
    s = Session("/url 小王 https://shop.example.cn/item/1 低价代购 全网最低").run()
    (card,) = s.of(Message)
    assert (card.type, card.url, card.title, card.text) == (
        MessageType.URL,
        "https://shop.example.cn/item/1",
        "低价代购 全网最低",
        "低价代购 全网最低",
    )


def test_an_image_is_read_and_its_qr_code_decoded(tmp_path: Path):
    poster = tmp_path / "海报.png"
    poster.write_bytes(qr_png("weixin://contacts/profile/ad123"))
    s = Session("小李: 看图", f"/image {poster}", f"/image 小王 {poster}", "/image 小王 /no/such.png").run()
    images = [m for m in s.of(Message) if m.type is MessageType.IMAGE]
    assert [(m.sender_id, m.file_name, m.qr_payloads) for m in images] == [
        ("local-小李", "海报.png", ("weixin://contacts/profile/ad123",)),
        ("local-小王", "海报.png", ("weixin://contacts/profile/ad123",)),
    ]
    assert "weixin://contacts/profile/ad123" in s.output
    assert "/no/such.png" in s.output  # the unreadable path is named


def test_a_private_message_to_the_bot():
    s = Session("/pm 小王 我要申诉，案件 12").run()
    (pm,) = s.of(PrivateMessage)
    assert (pm.sender_id, pm.text, pm.sender_name) == ("local-小王", "我要申诉，案件 12", "小王")


@pytest.mark.parametrize(
    "line",
    [
        "大家好",
        "/kickall 小王",
        "/join",
        "/image",
        "/url 小王 不是网址",
        "/pm 小王",
        "群管机器人: 冒充机器人",
    ],
)
def test_unreadable_lines_explain_themselves_and_make_no_event(line):
    s = Session(line).run()
    assert not s.of(Message) and not s.of(MemberJoined) and not s.of(PrivateMessage)
    after_banner = s.output.split(f"> {line}", 1)[1]
    assert after_banner.strip(), "an explanation is printed"


def test_quit_ends_the_session_before_later_lines():
    s = Session("小王: 一", "/quit", "小王: 二").run()
    assert [m.text for m in s.of(Message)] == ["一"]
    assert isinstance(s.events[-1], LoggedOut)


# --- what the bot does is shown ------------------------------------------------


async def warn_and_kick_ads(puppet: LocalPuppet, event: Event) -> None:
    if isinstance(event, Message) and "加微信" in event.text:
        await puppet.say_private(event.sender_id, "你的消息含广告，请撤回。\n再犯将被移出。")
        await puppet.say(event.room_id, "请勿发广告。", [event.sender_id])
        await puppet.kick(event.room_id, event.sender_id)
        await puppet.announce(event.room_id, "群规：禁止广告")


def test_the_bots_replies_kicks_and_notices_are_printed_clearly():
    s = Session(f"小李: {EXAMPLE_AD}", "小王: 好的", react=warn_and_kick_ads).run()
    out = s.output
    assert "[私聊→小李] 你的消息含广告，请撤回。\n    再犯将被移出。" in out
    assert "[群] 群管机器人: @小李 请勿发广告。" in out
    assert "[移出] 群管机器人 将 小李 移出了群聊" in out
    assert "[群公告] 群规：禁止广告" in out
    assert out.index("[私聊→小李]") < out.index("> 小王: 好的")


def test_a_kick_is_confirmed_by_a_leave_event_before_the_next_typed_line():
    s = Session(f"小李: {EXAMPLE_AD}", "小王: 好的", react=warn_and_kick_ads).run()
    kinds = [(type(e).__name__, getattr(e, "sender_id", getattr(e, "contact_id", ""))) for e in s.events]
    assert kinds[1:4] == [("Message", "local-小李"), ("MemberLeft", "local-小李"), ("Message", "local-小王")]
    left = s.of(MemberLeft)[0]
    assert left.remover_id == BOT_ID
    assert "local-小李" not in s.puppet.members


def test_without_ownership_the_bot_cannot_kick():
    async def react(puppet, event):
        if isinstance(event, Message) and event.sender_id == "local-小李":
            with pytest.raises(NotPermitted):
                await puppet.kick(event.room_id, event.sender_id)
            react.refused = True

    react.refused = False
    s = Session("/owner 老王", f"小李: {EXAMPLE_AD}", react=react).run()
    assert react.refused
    assert "local-小李" in s.puppet.members


def test_admin_rights_and_ownership_show_in_room_info():
    async def scenario():
        puppet = LocalPuppet(stdin=io.BytesIO(b"/admin \xe5\xb0\x8f\xe7\x8e\x8b\n"), stdout=io.StringIO())

        async def ignore(_event):
            return None

        await puppet.run(ignore)
        info = await puppet.room_info(ROOM_ID)
        assert (info.owner_id, info.admin_ids) == (BOT_ID, ("local-小王",))
        assert set(info.member_ids) == {BOT_ID, "local-小王"}
        assert [r.id for r in await puppet.rooms()] == [ROOM_ID]
        assert await puppet.contact_name("local-小王") == "小王"
        with pytest.raises(ActionFailed):
            await puppet.say("some-other-room", "hi")
        with pytest.raises(ActionFailed):
            await puppet.kick(ROOM_ID, "local-nobody")

    asyncio.run(scenario())


def test_a_member_who_is_not_the_bots_friend_cannot_be_messaged_privately():
    async def react(puppet, event):
        if isinstance(event, Message):
            assert await puppet.is_friend(event.sender_id) is False
            with pytest.raises(NotAFriend):
                await puppet.say_private(event.sender_id, "提醒")
            react.checked = True

    react.checked = False
    Session("/stranger 小李", "小李: 你好", react=react).run()
    assert react.checked


def test_a_failing_handler_does_not_end_the_session():
    async def react(_puppet, event):
        if isinstance(event, Message) and event.text == "坏":
            raise RuntimeError("boom")

    s = Session("小王: 坏", "小王: 好", react=react).run()
    assert [m.text for m in s.of(Message)] == ["坏", "好"]
    assert "boom" in s.output


def test_the_first_lines_tell_a_newcomer_what_to_type():
    s = Session().run()
    head = "\n".join(s.output.splitlines()[:6])
    assert "名字: 消息" in head and "name: message" in head
    assert EXAMPLE_AD in head and "/help" in head
    help_text = Session("/help").run().output
    for command in ("/join", "/leave", "/image", "/admin", "/url", "/quit"):
        assert command in help_text


# --- the terminal side ---------------------------------------------------------


def test_stop_ends_the_session_while_input_is_still_open():
    """A real pipe that stays open: the reader thread blocks, the loop does not."""
    read_fd, write_fd = os.pipe()
    stdin = os.fdopen(read_fd, "rb", buffering=0)
    puppet = LocalPuppet(stdin=stdin, stdout=io.StringIO(), pace_s=0)
    seen: list[Event] = []

    async def handler(event):
        seen.append(event)
        if isinstance(event, Message):
            await puppet.stop()

    async def scenario():
        running = asyncio.ensure_future(puppet.run(handler))
        await asyncio.sleep(0.05)
        os.write(write_fd, "小王: 你好\n".encode())
        await asyncio.wait_for(running, 5)

    try:
        asyncio.run(scenario())
    finally:
        os.close(write_fd)
        stdin.close()
    assert [type(e).__name__ for e in seen] == ["LoggedIn", "Message", "LoggedOut"]


def test_the_event_loop_keeps_running_while_input_is_awaited():
    """The writer sends the next line only after a coroutine has run while the
    puppet was waiting for it: a blocking read would deadlock (and time out)."""
    read_fd, write_fd = os.pipe()
    stdin = os.fdopen(read_fd, "rb", buffering=0)
    puppet = LocalPuppet(stdin=stdin, stdout=io.StringIO(), pace_s=0)
    seen: list[str] = []
    loop_ran = threading.Event()
    waited: list[bool] = []

    async def handler(event):
        if isinstance(event, Message):
            seen.append(event.text)
            loop_ran.clear()
            asyncio.get_running_loop().call_later(0.02, loop_ran.set)

    def writer():
        for text in ("一", "二", "三"):
            os.write(write_fd, f"小王: {text}\n".encode())
            waited.append(loop_ran.wait(5))
            loop_ran.clear()
        os.close(write_fd)

    async def scenario():
        thread = threading.Thread(target=writer)
        thread.start()
        await asyncio.wait_for(puppet.run(handler), 10)
        thread.join()

    asyncio.run(scenario())
    stdin.close()
    assert seen == ["一", "二", "三"]
    assert waited == [True, True, True]


def test_undecodable_input_bytes_do_not_end_the_session():
    s = Session()
    s.stdin = io.BytesIO(b"\xe5\xb0\x8f\xe7\x8e\x8b: \xff\xfe\n\xe5\xb0\x8f\xe7\x8e\x8b: ok\n")
    s.puppet = LocalPuppet(stdin=s.stdin, stdout=s.stdout, now=ticking_clock(), pace_s=0)
    s.run()
    assert [m.text for m in s.of(Message)][-1] == "ok"
    assert len(s.of(Message)) == 2


def test_member_ids_come_from_names():
    assert contact_id_for("紫金-王工") == "local-紫金-王工"


def test_repeat_sends_the_same_line_several_times_to_try_flooding():
    s = Session("/repeat 小王 5 收到", "/repeat 小王 999 收到", "/repeat 小王 x 收到").run()
    messages = s.of(Message)
    assert [m.text for m in messages] == ["收到"] * 5
    assert len({m.id for m in messages}) == 5
    assert s.output.count("用法 / usage: /repeat") == 2


def test_a_pipe_delivering_characters_in_pieces_still_gives_whole_lines():
    read_fd, write_fd = os.pipe()
    stdin = os.fdopen(read_fd, "rb", buffering=0)
    puppet = LocalPuppet(stdin=stdin, stdout=io.StringIO(), pace_s=0)
    seen: list[str] = []

    async def handler(event):
        if isinstance(event, Message):
            seen.append(event.text)

    def writer():
        data = "小王: 你好世界\n小李: 最后一行没有换行".encode()
        for i in range(len(data)):
            os.write(write_fd, data[i : i + 1])
            if i % 7 == 0:
                threading.Event().wait(0.002)
        os.close(write_fd)

    async def scenario():
        thread = threading.Thread(target=writer)
        thread.start()
        await asyncio.wait_for(puppet.run(handler), 5)
        thread.join()

    asyncio.run(scenario())
    stdin.close()
    assert seen == ["你好世界", "最后一行没有换行"]


def test_piped_lines_are_paced_so_replies_print_next_to_their_line():
    """The bot answers in the background (through its outbox); a piped
    session still reads in order: line, reply, next line."""
    stdout = io.StringIO()
    puppet = LocalPuppet(stdin=io.BytesIO("小李: 广告一\n小王: 下一句\n".encode()), stdout=stdout, pace_s=0.2)
    tasks = []

    async def reply_later(event):
        await asyncio.sleep(0.05)
        await puppet.say(event.room_id, "请勿发广告", [event.sender_id])

    async def handler(event):
        if isinstance(event, Message) and "广告" in event.text:
            tasks.append(asyncio.ensure_future(reply_later(event)))

    asyncio.run(asyncio.wait_for(puppet.run(handler), 5))
    out = stdout.getvalue()
    assert out.index("> 小李: 广告一") < out.index("@小李 请勿发广告") < out.index("> 小王: 下一句")


def test_removing_someone_already_removed_is_not_an_error():
    async def react(puppet, event):
        if isinstance(event, Message) and "加微信" in event.text:
            await puppet.kick(event.room_id, event.sender_id)
            await puppet.kick(event.room_id, event.sender_id)  # a second case decided the same

    s = Session(f"小李: {EXAMPLE_AD}", react=react).run()
    assert len(s.of(MemberLeft)) == 1
    assert "已不在群里" in s.output


def test_recall_takes_back_the_members_last_message_once():
    s = Session("小李: 第一条", "小李: 第二条", "/recall 小李", "/recall 小李", "/recall 小王").run()
    second = s.of(Message)[1]
    (recalled,) = s.of(MessageRecalled)
    assert (recalled.room_id, recalled.message_id) == (ROOM_ID, second.id)
    assert s.output.count("没有可撤回的消息") == 2


def test_renaming_the_room():
    async def react(puppet, event):
        if isinstance(event, TopicChanged):
            react.topic = (await puppet.room_info(ROOM_ID)).topic

    s = Session("/topic 小王 金矿技术交流群", react=react).run()
    (changed,) = s.of(TopicChanged)
    assert (changed.topic, changed.old_topic, changed.changer_id) == (
        "金矿技术交流群",
        "本地测试群",
        "local-小王",
    )
    assert react.topic == "金矿技术交流群"


def test_the_operator_is_told_when_the_bots_replies_wait_for_the_rate_limit():
    s = Session()
    s.puppet.outbox_throttled(4, 57.2)
    assert "4 条消息排队" in s.output and "57" in s.output


def test_without_any_stdin_the_session_ends_at_once(monkeypatch):
    """``sys.stdin`` is None when a service starts the bot with fd 0 closed."""
    monkeypatch.setattr(sys, "stdin", None)
    puppet = LocalPuppet(stdout=io.StringIO(), pace_s=0)

    async def ignore(_event):
        return None

    asyncio.run(asyncio.wait_for(puppet.run(ignore), 5))


def _public_calls(cls: type) -> dict[str, list[str]]:
    return {
        name: [p.name for p in inspect.signature(fn).parameters.values() if p.kind is not p.KEYWORD_ONLY]
        for name, fn in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    }


def test_the_local_puppet_offers_every_call_of_the_puppet_port():
    from bot.puppet.outbox import Outbox
    from bot.puppet.port import ChatPort, Puppet

    local, outbox = _public_calls(LocalPuppet), _public_calls(Outbox)
    for name, params in _public_calls(Puppet).items():
        assert local.get(name) == params, name
    for name, params in _public_calls(ChatPort).items():
        assert outbox.get(name) == params, name
    assert isinstance(LocalPuppet.bot_id, property) and isinstance(Outbox.bot_id, property)


def test_qr_makes_an_image_whose_code_the_bot_reads():
    s = Session("/qr 小李 weixin://dl/business/?t=Ab12", "/qr 小李").run()
    (image,) = s.of(Message)
    assert (image.type, image.sender_id, image.qr_payloads) == (
        MessageType.IMAGE,
        "local-小李",
        ("weixin://dl/business/?t=Ab12",),
    )
    assert "用法 / usage: /qr" in s.output


def test_the_bot_as_admin_instead_of_owner_can_still_kick():
    async def react(puppet, event):
        if isinstance(event, Message) and "加微信" in event.text:
            await puppet.kick(event.room_id, event.sender_id)

    s = Session(
        "/owner 老王", "/admin 群管机器人", "/join 群管机器人", f"小李: {EXAMPLE_AD}", react=react
    ).run()
    assert [e.contact_id for e in s.of(MemberLeft)] == ["local-小李"]
    assert not s.of(MemberJoined), "the bot cannot join again"
