"""A room the config selects hears the bot's self-introduction once, as a room switched on
by #启用 does: at login, or when the bot first sees the room later; never after a restart."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bot.config import BotConfig, Config, RoomSelector
from bot.events import RoomInfo, RoomInvitation, TopicChanged
from bot.lifecycle.introduction import JOB_ID, room_introductions
from tests.app import harness
from tests.app.harness import Bot
from tests.lifecycle.helpers import ADMIN, LI, OWNER, ROOM, config, local, room

OTHER = "30000000002@chatroom"
OTHER_TOPIC = "同城求职群"
INTRO_START = "大家好，我是群管机器人"


def play(story, cfg: Config | None = None, setup=room, **kw) -> Bot:
    """The harness, keeping what the bot said at login: the introduction is the subject here."""
    return harness.play(story, config=cfg or config(), setup=setup, keep_login=True, **kw)


def intros(bot: Bot, room_id: str = ROOM) -> list[str]:
    return [s.text for s in bot.wechat.room_said(room_id) if s.text.startswith(INTRO_START)]


def with_bot(cfg: Config, **changes: object) -> Config:
    return replace(cfg, bot=replace(cfg.bot, **changes))


def two_rooms(wechat) -> None:
    room(wechat)
    wechat.add_room(OTHER, OTHER_TOPIC, OWNER, [OWNER, LI])


def test_a_configured_room_hears_the_introduction_once_at_login(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        [intro] = intros(bot)
        assert bot.wechat.room_said(ROOM)[0].text == intro, "the first thing the room hears"
        assert "以下行为违反群规" in intro and "申诉 案件号 理由" in intro
        assert intro == bot.app.introduction(), "the same text #启用 posts"

        await bot.says(LI, "大家早上好")
        await bot.joins("wxid_new_wang")
        assert await room_introductions(bot.app, bot.clock()) == []
        assert len(intros(bot)) == 1, "said once, whatever happens next"

    play(story, db=tmp_path)


def test_a_restart_does_not_repeat_the_introduction(tmp_path: Path) -> None:
    async def first(bot: Bot) -> None:
        assert len(intros(bot)) == 1

    async def after_restart(bot: Bot) -> None:
        await bot.says(LI, "大家早上好")
        assert await room_introductions(bot.app, bot.clock()) == []
        assert intros(bot) == []

    play(first, db=tmp_path)
    play(after_restart, db=tmp_path)


def test_a_room_not_selected_hears_nothing(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(LI, "有人在吗", room=OTHER)
        assert await room_introductions(bot.app, bot.clock()) == []
        assert bot.wechat.room_said(OTHER) == []
        assert len(intros(bot)) == 1, "the configured room still hears it"

    play(story, setup=two_rooms, db=tmp_path)


def test_a_room_switched_on_by_enable_hears_it_once_as_before_and_never_again(tmp_path: Path) -> None:
    cfg = with_bot(config(), rooms=())

    async def enable(bot: Bot) -> None:
        assert intros(bot) == [], "not selected by the config: nothing at login"
        await bot.says(OWNER, "#启用")
        assert intros(bot) == [bot.app.introduction()]
        await bot.says(LI, "大家早上好")
        assert await room_introductions(bot.app, bot.clock()) == []
        assert len(intros(bot)) == 1

    async def restart_now_also_configured(bot: Bot) -> None:
        await bot.says(LI, "大家早上好")
        assert intros(bot) == [], "#启用 introduced it already"

    play(enable, cfg=cfg, db=tmp_path)
    play(restart_now_also_configured, db=tmp_path)


def test_a_room_switched_off_is_not_introduced_though_the_config_selects_it(tmp_path: Path) -> None:
    cfg = with_bot(config(), introduce_in_rooms=False)  # as before this feature: not introduced yet

    async def disable(bot: Bot) -> None:
        await bot.says(OWNER, "#停用")

    async def restart(bot: Bot) -> None:  # introductions on now; #停用 outweighs the config
        await bot.says(LI, "大家早上好")
        assert intros(bot) == []

    play(disable, cfg=cfg, db=tmp_path)
    play(restart, db=tmp_path)


def test_a_configured_room_the_bot_joins_later_is_introduced_once(tmp_path: Path) -> None:
    cfg = with_bot(config(), rooms=(RoomSelector(name_contains="求职"),))

    def setup(wechat) -> None:
        room(wechat)
        wechat.invitations["inv-1"] = RoomInfo(OTHER, OTHER_TOPIC, OWNER, (), (OWNER, LI))

    async def story(bot: Bot) -> None:
        assert intros(bot, ROOM) == [], "the gold group is not selected"
        bot.wechat.emit(RoomInvitation("inv-1", ADMIN, OTHER_TOPIC, bot.clock()))
        await bot.settle()
        assert OTHER in bot.app.rooms.info
        assert await room_introductions(bot.app, bot.clock()) == [OTHER], "the next check introduces"
        await bot.says(LI, "大家好", room=OTHER)
        assert len(intros(bot, OTHER)) == 1

    play(story, cfg=cfg, setup=setup, db=tmp_path)


def test_the_first_message_in_a_room_renamed_into_the_selection_brings_the_introduction(
    tmp_path: Path,
) -> None:
    cfg = with_bot(config(), rooms=(RoomSelector(name_contains="求职"),))

    async def story(bot: Bot) -> None:
        bot.wechat.rooms_[ROOM] = replace(bot.wechat.rooms_[ROOM], topic="金矿求职群")
        bot.wechat.emit(TopicChanged(ROOM, "金矿求职群", OWNER, bot.clock()))
        await bot.settle()
        assert intros(bot) == []
        await bot.says(LI, "大家好")
        assert len(intros(bot)) == 1
        await bot.says(LI, "再问一下")
        assert len(intros(bot)) == 1

    play(story, cfg=cfg, db=tmp_path)


def test_introduce_in_rooms_false_keeps_the_bot_quiet(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(LI, "大家早上好")
        assert await room_introductions(bot.app, bot.clock()) == []
        assert intros(bot) == []

    play(story, cfg=with_bot(config(), introduce_in_rooms=False), db=tmp_path)


def test_at_night_the_introduction_waits_for_the_end_of_quiet_hours(tmp_path: Path) -> None:
    from bot.lifecycle.jobs import lifecycle_tick

    cfg = config(schedule={"quiet_hours": "23:00-07:30"})

    async def story(bot: Bot) -> None:
        assert intros(bot) == [], "held through the night"
        bot.clock.now = local(21, 7, 31)
        await lifecycle_tick(bot.app, bot.clock())
        await bot.settle()
        assert len(intros(bot)) == 1

    play(story, cfg=cfg, db=tmp_path, start=local(20, 23, 30))


def test_the_check_goes_on_the_scheduler(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        assert JOB_ID in bot.app.scheduler.job_ids()

    play(story, db=tmp_path, scheduler=True)


def test_it_is_on_by_default() -> None:
    assert BotConfig().introduce_in_rooms is True
