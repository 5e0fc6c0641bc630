"""A moderated room with an owner, a room admin, members, and a second room, for the command scenarios."""

from __future__ import annotations

from bot.config import RoomSelector
from bot.events import PrivateMessage
from tests.app.harness import ADMIN, BOT, CHEN, LI, OWNER, ROOM, TOPIC, Bot, make_config
from tests.app.wire import FakeWeChat

ROOM_B = "20000000002@chatroom"
TOPIC_B = "求职招聘交流群"
OWNER_B = "wxid_owner_zhao"
"""Owner of room B only."""
WU = "wxid_wu"
"""A member of ROOM only."""
MOD = "wxid_mod_sun"
"""An admin of ROOM (a WeChat group admin), not of ROOM_B, not global."""

__all__ = [
    "ADMIN",
    "BOT",
    "CHEN",
    "LI",
    "MOD",
    "OWNER",
    "OWNER_B",
    "ROOM",
    "ROOM_B",
    "TOPIC",
    "TOPIC_B",
    "WU",
    "config",
    "private",
    "two_rooms",
]


def two_rooms(wechat: FakeWeChat, *, bot_is_owner: bool = True) -> None:
    wechat.add_room(
        ROOM,
        TOPIC,
        BOT if bot_is_owner else OWNER,
        [OWNER, ADMIN, MOD, LI, CHEN, WU],
        admins=[OWNER, MOD] if bot_is_owner else [MOD],
    )
    wechat.add_room(ROOM_B, TOPIC_B, OWNER_B, [OWNER_B, LI, CHEN], admins=[BOT])
    wechat.friends.update({ADMIN, OWNER, MOD, LI, WU, OWNER_B})
    wechat.names.update({MOD: "孙管理", OWNER_B: "赵群主", WU: "吴八"})


def config(**moderation: object):
    return make_config(rooms=(RoomSelector(id=ROOM), RoomSelector(id=ROOM_B)), **moderation)


async def private(bot: Bot, sender: str, text: str) -> None:
    bot._n += 1
    bot.wechat.emit(PrivateMessage(f"p{bot._n}", sender, bot.clock(), text))
    await bot.settle()


def last_private(bot: Bot, contact: str) -> str:
    said = bot.wechat.private_to(contact)
    assert said, f"nothing was said to {contact}; all: {bot.wechat.said!r}"
    return said[-1].text
