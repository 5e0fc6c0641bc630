"""The live bot, as admins and members meet it: scenarios over a fake WeChat."""

from __future__ import annotations

from bot.events import RoomInfo, RoomInvitation
from tests.app.harness import ADMIN, BOT, CHEN, LI, OWNER, ROOM, TOPIC, Bot, make_config, play
from tests.app.wire import FakeWeChat


def room_with_members(wechat: FakeWeChat, *, bot_is_owner: bool = True) -> None:
    owner = BOT if bot_is_owner else OWNER
    wechat.add_room(ROOM, TOPIC, owner, [OWNER, ADMIN, LI, CHEN], admins=[OWNER] if bot_is_owner else [])
    wechat.friends.update({ADMIN, OWNER, LI})


def configured(**moderation: object):
    from bot.config import RoomSelector

    return make_config(rooms=(RoomSelector(id=ROOM),), **moderation)


def test_an_admin_invites_the_bot_and_enables_the_room() -> None:
    def setup(w: FakeWeChat) -> None:
        w.friends.update({ADMIN, OWNER, LI})
        w.invitations["inv-1"] = RoomInfo(ROOM, TOPIC, OWNER, (ADMIN,), (OWNER, ADMIN, LI))

    async def story(bot: Bot) -> None:
        bot.wechat.emit(RoomInvitation("inv-1", ADMIN, TOPIC, bot.clock()))
        await bot.settle()
        assert bot.wechat.accepted == ["inv-1"]
        assert ROOM in bot.app.rooms.info
        await bot.says(LI, "加微信领资料")
        assert bot.wechat.said == [], "a room the bot is merely in is left alone"

        await bot.says(OWNER, "#启用")
        intro = bot.wechat.room_said(ROOM)[-1].text
        assert "大家好，我是群管机器人" in intro and "申诉" in intro
        assert bot.store.switched == {ROOM: True}

        await bot.says(LI, "加微信领资料")
        assert "请尽快撤回" in bot.wechat.private_to(LI)[-1].text

    play(story, setup=setup)


def test_an_invitation_from_a_stranger_is_not_accepted() -> None:
    def setup(w: FakeWeChat) -> None:
        w.invitations["inv-2"] = RoomInfo(ROOM, TOPIC, CHEN, (), (CHEN,))

    async def story(bot: Bot) -> None:
        bot.wechat.emit(RoomInvitation("inv-2", CHEN, TOPIC, bot.clock()))
        await bot.settle()
        assert bot.wechat.accepted == []

    play(story, setup=setup)


def test_a_member_cannot_enable_the_room_and_gets_told_privately() -> None:
    async def story(bot: Bot) -> None:
        await bot.says(LI, "#启用", name="王群主")  # a copied display name gives no rights
        assert not bot.app.rooms.moderated(ROOM)
        assert bot.wechat.room_said(ROOM) == []

    play(story, setup=room_with_members)


def test_an_ad_gets_a_private_warning_asking_to_recall() -> None:
    async def story(bot: Bot) -> None:
        await bot.says(LI, "有需要的加微信 abc123")
        warning = bot.wechat.private_to(LI)[-1].text
        assert "请尽快撤回" in warning and "案件号 1" in warning
        assert bot.wechat.room_said(ROOM) == []
        assert bot.store.states(1) == {"warn_private": "done"}

    play(story, config=configured(), setup=room_with_members)
