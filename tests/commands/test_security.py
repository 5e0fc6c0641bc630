"""Who may do what is decided by contact id; names and typed text cannot borrow rights or break templates."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.app.harness import Bot, play
from tests.commands.helpers import (
    ADMIN,
    CHEN,
    LI,
    MOD,
    OWNER,
    OWNER_B,
    ROOM,
    ROOM_B,
    TOPIC_B,
    WU,
    config,
    last_private,
    private,
    two_rooms,
)

NOT_ADMIN = "该命令仅限本群群主、管理员使用。"


def test_a_member_named_like_an_admin_gets_no_admin_rights_in_the_room(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(LI, "#踢 @吴八\u2005 看他不顺眼", name="孙管理", mentions=(WU,))
        assert bot.wechat.kicked == []
        assert last_private(bot, LI) == NOT_ADMIN
        await bot.says(LI, "#撤销 1", name="张管理")
        assert bot.store.audit_log() == [], "nothing an admin could do was done or recorded as done"

    play(story, config=config(), setup=two_rooms, db=tmp_path)


def test_a_member_named_like_an_admin_gets_no_admin_rights_in_private(tmp_path: Path) -> None:
    def setup(w) -> None:  # type: ignore[no-untyped-def]
        two_rooms(w)
        w.names[LI] = "张管理"

    async def story(bot: Bot) -> None:
        await private(bot, LI, "踢 wxid_wu 刷屏")
        await private(bot, LI, "试运行 开")
        assert [s.text for s in bot.wechat.private_to(LI)] == [NOT_ADMIN, NOT_ADMIN]
        assert bot.wechat.kicked == [] and not bot.app.executor.is_dry_run(ROOM)

    play(story, config=config(), setup=setup, db=tmp_path)


def test_the_mention_is_resolved_by_contact_id_not_by_the_name_typed(tmp_path: Path) -> None:
    def setup(w) -> None:  # type: ignore[no-untyped-def]
        two_rooms(w)
        w.names[WU] = "李四"  # a member copies another's display name

    async def story(bot: Bot) -> None:
        await bot.says(MOD, "#警告 @李四\u2005 冒充他人", mentions=(WU,))  # the admin picked 吴八's avatar
        assert bot.store.case(1).case.contact_id == WU
        assert bot.wechat.room_said(ROOM)[-1].mentions == (WU,)
        await bot.says(MOD, "#警告 @李四 发广告")  # typed by hand: no contact id came with it
        assert last_private(bot, MOD).startswith("请在命令里 @ 要处理的成员")
        assert len(bot.store.cases()) == 1, "a typed name never picks a member"

    play(story, config=config(), setup=setup, db=tmp_path)


BRACES = ["{rule}{__class__}", "{name}{case}{{}}", "{0.__init__.__globals__}", "{", "}{"]


@pytest.mark.parametrize(
    "name", BRACES, ids=["field-and-dunder", "fields-and-escapes", "attribute-walk", "lone-open", "reversed"]
)
def test_braces_in_a_members_name_or_reason_cannot_break_or_abuse_a_template(
    tmp_path: Path, name: str
) -> None:
    def setup(w) -> None:  # type: ignore[no-untyped-def]
        two_rooms(w)
        w.names[WU] = name

    async def story(bot: Bot) -> None:
        await bot.says(MOD, f"#警告 @{name}\u2005 {name}", mentions=(WU,))
        assert bot.wechat.room_said(ROOM)[-1].text == f"请注意：{name}（案件号 1）"
        await private(bot, WU, f"申诉 1 {name}")
        appeal = last_private(bot, MOD)
        assert f"{name}（{WU}）对案件 1 提出申诉：\n{name}\n" in appeal
        await bot.says(WU, f"#举报 {name}")
        assert last_private(bot, OWNER).endswith(f"{name}（{WU}）举报：\n{name}")
        await private(bot, MOD, f"驳回 1 {name}")
        assert f"未获通过：{name}。" in last_private(bot, WU)
        assert "已驳回案件 1 的申诉，并已告知 " + name in last_private(bot, MOD)
        everything = "\n".join(s.text for s in bot.wechat.said)
        assert "<class" not in everything and "__globals__" not in everything.replace(name, "")

    play(story, config=config(), setup=setup, db=tmp_path)


def test_an_admin_of_one_room_cannot_act_on_another(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        # OWNER_B owns room B only; MOD is an admin of room A only
        await bot.says(MOD, "#踢 @李四\u2005 刷屏", room=ROOM_B, mentions=(LI,))
        assert bot.wechat.kicked == [] and last_private(bot, MOD) == NOT_ADMIN

        await bot.says(LI, "加微信 abc123", room=ROOM_B)  # case 1, in room B
        await private(bot, MOD, "撤销 1 我说算")
        assert "不是该群的群主或管理员" in last_private(bot, MOD)
        assert bot.store.case(1).case.state != "pardoned"

        await private(bot, OWNER_B, "踢 wxid_wu 刷屏")  # 吴八 is in room A only
        assert "找不到你能管理、且有该成员的群" in last_private(bot, OWNER_B)

        await private(bot, OWNER_B, "统计")
        stats = last_private(bot, OWNER_B)
        assert TOPIC_B in stats and "金矿" not in stats

        await private(bot, OWNER_B, "撤销 1 误判")  # his own room's case
        assert bot.store.case(1).case.state == "pardoned"
        await private(bot, ADMIN, f"踢 {CHEN}")  # a global admin, but CHEN is in both rooms
        assert "多个群" in last_private(bot, ADMIN)
        assert bot.wechat.kicked == []

    play(story, config=config(), setup=two_rooms, db=tmp_path)


def test_a_room_admin_cannot_lift_a_blacklist_entry_that_bars_other_rooms_too(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        bot.store.blacklist_add("wxid_spam", scope="bot", reason="诈骗", by=ADMIN)
        bot.store.blacklist_add("wxid_spam", scope="room", room_id=ROOM, reason="广告", by=MOD)
        await private(bot, MOD, "解除拉黑 wxid_spam")
        assert "需由总管理员" in last_private(bot, MOD)
        assert bot.store.is_blacklisted("wxid_spam", ROOM_B) is not None, "room B is still protected"
        assert [e.room_id for e in bot.store.blacklist()] == [None], "only room A's own entry went"
        await private(bot, ADMIN, "解除拉黑 wxid_spam")
        assert bot.store.blacklist() == []
        assert "移出黑名单" in last_private(bot, ADMIN)

    play(story, config=config(), setup=two_rooms, db=tmp_path)
