"""The compatibility shim on its own: python-wechaty 0.10.7 imports on this
Python, and the client speaks the 1.x wire where 0.20 does not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.puppet import compat
from tests.puppet.fake_service import FakePuppetService
from tests.puppet.session import arun


def test_wechaty_imports_on_this_python_and_keeps_its_cache_where_told(tmp_path: Path) -> None:
    wechaty = compat.load_wechaty(tmp_path / "cache")
    assert wechaty.Wechaty and wechaty.WechatyOptions
    assert (tmp_path / "cache").is_dir()


def test_an_empty_set_still_sends_field_3_and_a_get_sends_none() -> None:
    assert compat.OptionalTextRequest(id="r", value="").SerializeToString() == b"\n\x01r\x1a\x00"
    assert compat.OptionalTextRequest(id="r").SerializeToString() == b"\n\x01r"
    parsed = compat.OptionalTextRequest.FromString(b"\n\x01r\x1a\x06\xe5\x85\xac\xe5\x91\x8a")
    assert (parsed.id, parsed.value) == ("r", "公告")


def test_the_0_20_request_carries_the_text_only_in_field_2_which_1x_reads_as_a_get() -> None:
    from wechaty_grpc.wechaty.puppet import RoomAnnounceRequest

    stock = compat.OptionalTextRequest.FromString(bytes(RoomAnnounceRequest(id="r", text="公告")))
    assert (stock.value, stock.deprecated) == (None, "公告")


def test_answers_are_read_from_field_2_with_field_1_as_fallback() -> None:
    assert compat.TextResponse.FromString(b"\x12\x03abc").text == "abc"
    assert compat.TextResponse.FromString(b"\n\x05\n\x03old").deprecated == "old"


@pytest.mark.parametrize(
    ("payload", "detail"),
    [
        pytest.param(
            {"gerror": json.dumps({"code": 2, "message": "watchdog timeout"})},
            "watchdog timeout",
            id="1.x-gerror",
        ),
        pytest.param({"gerror": "plain text"}, "plain text", id="1.x-gerror-not-json"),
        pytest.param({"data": "old style"}, "old style", id="0.x-data"),
        pytest.param({}, "", id="empty"),
    ],
)
def test_error_events_of_either_shape_are_readable(payload: dict[str, str], detail: str) -> None:
    assert compat.error_detail(payload) == detail


def test_the_stock_client_cannot_read_a_1x_error_event() -> None:
    """Why the shim parses events itself: this ValueError killed the stock event loop."""
    compat.load_wechaty()
    from wechaty_puppet import EventErrorPayload

    with pytest.raises(ValueError, match="data"):
        EventErrorPayload(**{"gerror": "{}"})


@pytest.mark.parametrize(
    ("number", "name"),
    [
        (7, "MESSAGE_TYPE_TEXT"),
        (6, "MESSAGE_TYPE_IMAGE"),
        (14, "MESSAGE_TYPE_URL"),
        (15, "MESSAGE_TYPE_VIDEO"),
        (9, "MESSAGE_TYPE_MINI_PROGRAM"),
        (1, "MESSAGE_TYPE_ATTACHMENT"),
        (5, "MESSAGE_TYPE_EMOTICON"),
    ],
)
def test_the_1x_wire_numbers_are_read_as_the_typescript_enum(number: int, name: str) -> None:
    assert compat.TS_MESSAGE_TYPE_NAMES[number] == name


def test_reading_them_as_the_grpc_enum_would_be_wrong() -> None:
    from wechaty_grpc.wechaty.puppet import MessageType

    assert MessageType(7).name == "MESSAGE_TYPE_VIDEO"  # a text message, by the gRPC numbering
    assert MessageType(6).name == "MESSAGE_TYPE_TEXT"  # an image, by the gRPC numbering


def test_topic_and_alias_set_and_get_through_the_fixed_client() -> None:
    async def main() -> None:
        async with FakePuppetService() as srv:
            srv.add_contact("wxid_a", "张三")
            srv.add_room("r@chatroom", "旧群名", ["wxid_bot", "wxid_a"], owner="wxid_bot")
            service = compat.puppet_service_class()(srv.endpoint, "token")
            service._init_puppet()
            try:
                assert await service.room_topic("r@chatroom") == "旧群名"
                await service.room_topic("r@chatroom", "新群名")
                assert srv.rooms["r@chatroom"].topic == "新群名"
                await service.contact_alias("wxid_a", "技术部-张三")
                assert await service.contact_alias("wxid_a") == "技术部-张三"
                await service.room_announce("r@chatroom", "")  # clearing is a set, not a get
                assert srv.rooms["r@chatroom"].announcement == ""
                assert srv.calls.count("RoomAnnounce") == 1
            finally:
                await service.stop()

    arun(main())
