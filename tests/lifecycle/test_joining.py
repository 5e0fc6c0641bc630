"""New members: welcome, nickname and introduction deadlines, the member cap — on a fake clock."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bot.events import MemberJoined
from bot.lifecycle import lifecycle_of
from bot.lifecycle.jobs import lifecycle_tick
from tests.app.harness import Bot
from tests.lifecycle.helpers import ADMIN, CHEN, LI, NEW, NEW2, OWNER, ROOM, config, play, room

WELCOME = "欢迎 {name} 入群！邀请人：{inviter}。请先阅读群规：\n{rules}"


def admin_notes(bot: Bot, word: str) -> list[str]:
    return [s.text for s in bot.wechat.said if s.where == "private" and s.to == ADMIN and word in s.text]


def room_lines(bot: Bot, to: str) -> list[str]:
    return [s.text for s in bot.wechat.room_said(ROOM) if to in s.mentions]


async def tick(bot: Bot, **advance: float) -> None:
    bot.clock.advance(**advance)
    await lifecycle_tick(bot.app, bot.clock())
    await bot.settle()


def test_a_new_member_is_welcomed_by_name_with_the_inviter_and_the_rules(tmp_path: Path) -> None:
    def setup(w):
        room(w)
        w.names[NEW] = "{rules}{__class__}"  # braces in a name are text, never template fields

    async def story(bot: Bot) -> None:
        await bot.joins(NEW, inviter=LI)
        [welcome] = room_lines(bot, NEW)
        assert welcome.startswith("欢迎 {rules}{__class__} 入群！邀请人：李四。")
        assert "禁止广告引流" in welcome, "the rules summary follows"
        assert bot.store.member(ROOM, NEW).inviter_id == LI
        await bot.joins(NEW2)  # through a QR code: nobody invited them
        [welcome] = room_lines(bot, NEW2)
        assert welcome.startswith("欢迎 小赵 入群！请先阅读群规："), "no empty 邀请人 line"

    play(story, config=config(welcome=WELCOME), setup=setup, db=tmp_path)


def test_the_welcome_switched_off_sends_none(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.joins(NEW, inviter=LI)
        assert room_lines(bot, NEW) == []
        assert bot.store.member(ROOM, NEW).inviter_id == LI, "the inviter is recorded all the same"

    play(story, config=config(welcome=""), setup=room, db=tmp_path)


def test_a_config_that_names_no_welcome_welcomes_with_the_rules(tmp_path: Path) -> None:
    from bot.config import LifecycleConfig

    async def story(bot: Bot) -> None:
        await bot.joins(NEW, inviter=LI)
        [welcome] = room_lines(bot, NEW)
        assert welcome.startswith("欢迎 小王 入群！邀请人：李四。请先看看群规：")
        assert "禁止广告引流" in welcome

    cfg = config()
    play(story, config=replace(cfg, lifecycle=LifecycleConfig(welcome_merge_s=0.0)), setup=room, db=tmp_path)


def test_nickname_deadline_reminds_halfway_then_tells_the_admins_once(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.joins(NEW, inviter=LI)  # 小王: no 单位
        await bot.joins(NEW2)  # 小赵
        [welcome] = room_lines(bot, NEW)
        assert "请在 24 小时内把群昵称改为「单位-姓名」" in welcome

        bot.wechat.names[NEW2] = "北矿院-赵工"  # fixed it in WeChat; says nothing
        await tick(bot, hours=11)
        assert len(room_lines(bot, NEW)) == 1, "nothing before halfway"
        await tick(bot, hours=1, minutes=1)
        reminder = room_lines(bot, NEW)[-1]
        assert "请把群昵称改为「单位-姓名」" in reminder and "还剩约 12 小时" in reminder
        assert len(room_lines(bot, NEW2)) == 1, "a member who complied is not reminded"
        assert bot.store.member(ROOM, NEW2).nickname_ok is True

        await tick(bot, hours=12)
        [note] = admin_notes(bot, "群昵称未改")
        assert "小王（wxid_new_wang）入群已满 24 小时" in note
        await tick(bot, minutes=5)
        await tick(bot, hours=30)
        assert len(admin_notes(bot, "群昵称未改")) == 1, "each deadline acts once"
        assert bot.wechat.kicked == []

    play(story, config=config(welcome=WELCOME, nickname_pattern="单位-姓名"), setup=room, db=tmp_path)


def test_a_nickname_seen_on_a_message_ends_the_deadline(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.joins(NEW)
        await bot.says(NEW, "大家好", name="紫金矿业-王工")
        await tick(bot, hours=25)
        assert admin_notes(bot, "群昵称未改") == []
        assert lifecycle_of(bot.app).repo.deadline(ROOM, NEW, "nickname").state == "done"

    play(story, config=config(nickname_pattern="单位-姓名"), setup=room, db=tmp_path)


def test_nickname_deadline_with_kick_removes_the_member(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.joins(NEW)
        await tick(bot, hours=24, minutes=1)
        assert bot.wechat.kicked == [(ROOM, NEW)]
        assert not bot.store.member(ROOM, NEW).present
        [entry] = [a for a in bot.store.audit_log(room_id=ROOM) if a.command == "lifecycle_nickname_kick"]
        assert entry.target_id == NEW and "未按要求修改群昵称" in entry.detail["reason"]

    play(story, config=config(nickname_pattern="单位-姓名", nickname_action="kick"), setup=room, db=tmp_path)


def test_a_kick_without_owner_rights_asks_the_admins(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.joins(NEW)
        await tick(bot, hours=24, minutes=1)
        assert bot.wechat.kicked == []
        asks = [s.text for s in bot.wechat.said if s.where == "private" and "请协助移出" in s.text]
        assert asks and "未按要求修改群昵称" in asks[0]

    play(
        story,
        config=config(nickname_pattern="单位-姓名", nickname_action="kick"),
        setup=lambda w: room(w, bot_is_owner=False),
        db=tmp_path,
    )


def test_introduction_deadline_counts_only_a_real_introduction(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.joins(NEW)
        await bot.joins(NEW2)
        [welcome] = room_lines(bot, NEW)
        assert "请在 24 小时内在群里做个简短的自我介绍（姓名-单位-专业方向-希望交流的问题）" in welcome
        await bot.says(NEW, "大家好")  # too short to count
        await bot.says(NEW2, "大家好，我是赵工，北矿院选矿室，做浮选药剂，想请教含砷金矿的处理")
        assert bot.store.member(ROOM, NEW2).intro_done_at is not None

        await tick(bot, hours=12, minutes=1)
        assert "还没看到你的自我介绍" in room_lines(bot, NEW)[-1]
        assert len(room_lines(bot, NEW2)) == 1
        await tick(bot, hours=12)
        [note] = admin_notes(bot, "未自我介绍")
        assert "小王" in note and "小赵" not in note

    cfg = config(intro_deadline_h=24, intro_min_length=10, intro_template="姓名-单位-专业方向-希望交流的问题")
    play(story, config=cfg, setup=room, db=tmp_path)


def test_a_member_who_leaves_has_no_deadline_left(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        from bot.events import MemberLeft

        await bot.joins(NEW)
        bot.wechat.emit(MemberLeft(ROOM, NEW, bot.clock()))
        await bot.settle()
        await tick(bot, hours=25)
        assert admin_notes(bot, "未自我介绍") == []
        assert lifecycle_of(bot.app).repo.deadline(ROOM, NEW, "intro").state == "cancelled"

    play(story, config=config(intro_deadline_h=24), setup=room, db=tmp_path)


def test_per_room_settings_override_the_defaults(tmp_path: Path) -> None:
    from bot.config import LifecycleRoomConfig

    async def story(bot: Bot) -> None:
        await bot.joins(NEW)
        [welcome] = room_lines(bot, NEW)
        assert welcome.startswith("欢迎小王来到提金群") and "6 小时内" in welcome
        await tick(bot, hours=6, minutes=1)
        assert bot.wechat.kicked == [(ROOM, NEW)], "this room's action"

    cfg = config(
        welcome="default {name}",
        rooms=(
            LifecycleRoomConfig(name_contains="招聘", welcome="不是这个群"),
            LifecycleRoomConfig(
                name_contains="提金",
                welcome="欢迎{name}来到提金群",
                nickname_pattern="单位-姓名",
                nickname_deadline_h=6,
                nickname_action="kick",
            ),
        ),
    )
    play(story, config=cfg, setup=room, db=tmp_path)


def test_admins_hear_once_when_the_room_nears_the_member_cap(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.joins(NEW)  # 6 with the bot
        [alert] = [s.text for s in bot.wechat.private_to(OWNER) if "群快满了" in s.text]
        assert "已有 6 人" in alert
        await bot.joins(NEW2)
        assert len([s for s in bot.wechat.private_to(OWNER) if "群快满了" in s.text]) == 1

    play(story, config=config(member_cap_alert=6), setup=room, db=tmp_path)


def test_members_and_their_messages_still_work_without_lifecycle_settings(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.joins(NEW)
        await bot.says(CHEN, "早")
        await tick(bot, hours=30)
        assert bot.wechat.said == []

    play(
        story,
        config=replace(config(), lifecycle=replace(config().lifecycle, member_cap_alert=0)),
        setup=room,
        db=tmp_path,
    )


def test_a_burst_of_joins_gets_one_welcome(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        for who in (NEW, NEW2, "wxid_new_qian"):
            info = bot.wechat.rooms_[ROOM]
            bot.wechat.rooms_[ROOM] = replace(info, member_ids=(*info.member_ids, who))
            bot.wechat.emit(MemberJoined(ROOM, who, bot.clock(), inviter_id=LI))
        await bot.settle()  # the merge window (0.2 s here) passes
        first, rest = bot.wechat.room_said(ROOM)
        assert first.mentions == (NEW,) and first.text.startswith("欢迎 小王 入群！"), "the first at once"
        assert rest.mentions == (NEW2, "wxid_new_qian"), "those who came within the window: together"
        assert rest.text.startswith("欢迎 小赵、新朋友 入群！邀请人：李四。")
        assert rest.text.count("请在 24 小时内把群昵称改为") == 1

    cfg = config(welcome=WELCOME, welcome_merge_s=0.2, nickname_pattern="单位-姓名")
    play(story, config=cfg, setup=room, db=tmp_path)


def test_admins_and_exempt_members_are_never_chased(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.joins(ADMIN)  # a global admin joins (again)
        await bot.joins(NEW)
        bot.store.set_member(ROOM, NEW, exempt=True, by=ADMIN)  # an admin exempts the newcomer
        await tick(bot, hours=25)
        assert [s for s in bot.wechat.said if "群昵称" in s.text and ADMIN in s.mentions] == []
        assert admin_notes(bot, "群昵称未改") == []
        assert lifecycle_of(bot.app).repo.deadline(ROOM, NEW, "nickname").state == "cancelled"
        assert lifecycle_of(bot.app).repo.deadline(ROOM, ADMIN, "nickname") is None

    play(story, config=config(nickname_pattern="单位-姓名"), setup=room, db=tmp_path)


def test_a_nearly_full_room_is_reported_when_moderation_is_switched_on(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(OWNER, "#启用")
        [alert] = [s.text for s in bot.wechat.private_to(OWNER) if "群快满了" in s.text]
        assert "已有 5 人" in alert

    cfg = replace(config(member_cap_alert=5), bot=replace(config().bot, rooms=()))
    play(story, config=cfg, setup=room, db=tmp_path)
