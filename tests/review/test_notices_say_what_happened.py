"""The notices of a case say what happened, not what was only decided.

A severe offence decides: remove the member, tell the inviter (邀请人负责制),
tell the admins. With human review on, the removal waits for an admin's 同意,
so until then nobody may read "已移出": the admins get one request for their
decision, and the inviter hears nothing until the removal is carried out.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.review import review_timeouts
from tests.app.harness import Bot, play, states
from tests.app.wire import FakeWeChat
from tests.commands.helpers import ADMIN, LI, MOD, OWNER, ROOM, config, last_private, private, two_rooms

NEWCOMER = "wxid_new"
"""Invited by LI (a friend of the bot), offends on the first day."""


async def newcomer_talks_about_a_casino(bot: Bot) -> None:
    await bot.joins(NEWCOMER, inviter=LI)
    await bot.says(NEWCOMER, "澳门赌场上线了", name="新人")  # severe: kick, notify inviter, notify admins


def heard(bot: Bot, contact: str) -> list[str]:
    return [s.text for s in bot.wechat.private_to(contact)]


def about_case_1(bot: Bot, contact: str) -> list[str]:
    return [t for t in heard(bot, contact) if "案件 1" in t or "案件号 1" in t or "同意 1" in t]


def no_kick_rights(w: FakeWeChat) -> None:
    two_rooms(w, bot_is_owner=False)


def test_while_a_removal_waits_the_admins_are_asked_and_the_inviter_is_told_nothing(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await newcomer_talks_about_a_casino(bot)
        assert bot.wechat.kicked == []
        for admin in (OWNER, MOD, ADMIN):
            (notice,) = about_case_1(bot, admin)  # one message each: the request is the notice
            assert notice.startswith("【待确认】案件 1：")
            assert f"新人（{NEWCOMER}）" in notice, "who, by contact id"
            assert "拟移出群聊。回复“同意 1”执行，“驳回 1”取消" in notice
            assert "已移出" not in notice and "违规通报" not in notice
        assert about_case_1(bot, LI) == [], "the inviter waits for the removal"
        assert states(bot.store, 1) == {
            "kick": "awaiting_review",
            "notify_inviter": "awaiting_review",
            "notify_admins": "done",
        }

    play(story, config=config(review=True), setup=two_rooms, db=tmp_path)


def test_once_an_admin_approves_the_member_is_removed_and_the_inviter_told(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await newcomer_talks_about_a_casino(bot)
        await private(bot, MOD, "同意 1")
        assert bot.wechat.kicked == [(ROOM, NEWCOMER)]
        assert last_private(bot, MOD) == "已同意案件 1：移出群聊，已完成。"
        assert last_private(bot, OWNER) == "【已处理】案件 1（移出群聊）已由 孙管理 同意执行，无需再回复。"
        (told,) = about_case_1(bot, LI)
        assert told == (
            "你好，你邀请进入「金矿提金技术交流群」的 新人 已被移出群聊，"
            "原因：违规话题·严重（禁止赌博话题），第1次违规：禁止赌博相关内容。\n"
            "按邀请人负责制告知你，今后邀请新人时请提醒对方遵守群规。案件号 1"
        )
        assert states(bot.store, 1) == {"kick": "done", "notify_inviter": "done", "notify_admins": "done"}
        assert bot.store.case(1).case.state == "done"

    play(story, config=config(review=True), setup=two_rooms, db=tmp_path)


def test_a_rejected_removal_is_never_told_to_the_inviter(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await newcomer_talks_about_a_casino(bot)
        await private(bot, OWNER, "驳回 1 误判")
        assert bot.wechat.kicked == []
        assert about_case_1(bot, LI) == []
        assert states(bot.store, 1) == {
            "kick": "dropped",
            "notify_inviter": "dropped",
            "notify_admins": "done",
        }
        assert bot.store.case(1).case.state == "done", "nothing is left waiting"

    play(story, config=config(review=True), setup=two_rooms, db=tmp_path)


@pytest.mark.parametrize(
    ("default", "inviter_told"),
    [
        pytest.param("act", True, id="default-act-tells-after-the-removal"),
        pytest.param("drop", False, id="default-drop-tells-nobody"),
    ],
)
def test_at_the_review_deadline_the_inviter_hears_only_of_a_removal_done(
    tmp_path: Path, default: str, inviter_told: bool
) -> None:
    async def story(bot: Bot) -> None:
        await newcomer_talks_about_a_casino(bot)
        await review_timeouts(bot.app, bot.clock.advance(minutes=31))
        await bot.settle()
        told = about_case_1(bot, LI)
        assert [("已被移出群聊" in t) for t in told] == ([True] if inviter_told else [])

    play(story, config=config(review=True, review_default=default), setup=two_rooms, db=tmp_path)


def test_the_inviter_is_still_told_when_the_approval_comes_after_a_restart(tmp_path: Path) -> None:
    async def first(bot: Bot) -> None:
        await newcomer_talks_about_a_casino(bot)
        assert about_case_1(bot, LI) == []

    async def second(bot: Bot) -> None:
        await private(bot, ADMIN, "同意 1")
        assert bot.wechat.kicked == [(ROOM, NEWCOMER)]
        assert ["已被移出群聊" in t for t in about_case_1(bot, LI)] == [True], "inviter read from the store"

    def setup(w: FakeWeChat) -> None:  # the newcomer is still in the room
        two_rooms(w)
        w.rooms_[ROOM] = replace(w.rooms_[ROOM], member_ids=(*w.rooms_[ROOM].member_ids, NEWCOMER))

    play(first, config=config(review=True), setup=two_rooms, db=tmp_path)
    play(second, config=config(review=True), setup=setup, db=tmp_path)


def test_without_review_the_removal_is_done_at_once_and_reported_as_done(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await newcomer_talks_about_a_casino(bot)
        assert bot.wechat.kicked == [(ROOM, NEWCOMER)]
        (told,) = about_case_1(bot, LI)
        assert "已被移出群聊" in told
        (notice,) = about_case_1(bot, OWNER)
        assert notice == (
            f"【违规通报】「金矿提金技术交流群」新人（{NEWCOMER}）："
            "违规话题·严重（禁止赌博话题），第1次违规：禁止赌博相关内容。\n"
            "处理：移出群聊、告知邀请人。案件号 1"
        )
        assert states(bot.store, 1) == {"kick": "done", "notify_inviter": "done", "notify_admins": "done"}

    play(story, config=config(), setup=two_rooms, db=tmp_path)


@pytest.mark.parametrize("review", [False, True], ids=["review-off", "review-on"])
def test_a_removal_the_bot_had_to_ask_for_is_not_reported_as_done(tmp_path: Path, review: bool) -> None:
    """Without the owner/admin right the bot asks the room's admins; that request is the review."""

    async def story(bot: Bot) -> None:
        await newcomer_talks_about_a_casino(bot)
        assert bot.wechat.kicked == []
        assert states(bot.store, 1)["kick"] == "requested_admins"
        (told,) = about_case_1(bot, LI)
        assert "将被移出群聊" in told and "已被移出" not in told
        summary = next(t for t in heard(bot, ADMIN) if t.startswith("【违规通报】"))
        assert "处理：移出群聊（我没有管理权限，已请群主、管理员动手）、告知邀请人。" in summary
        assert not any(t.startswith("【待确认】") for t in heard(bot, MOD)), "nothing else waits"

    play(story, config=config(review=review), setup=no_kick_rights, db=tmp_path)


def test_a_blacklisted_joiner_the_bot_cannot_remove_is_not_reported_removed_to_the_inviter(
    tmp_path: Path,
) -> None:
    async def story(bot: Bot) -> None:
        bot.store.blacklist_add(NEWCOMER, scope="bot", reason="广告", by=ADMIN)
        await bot.joins(NEWCOMER, inviter=LI)
        assert bot.wechat.kicked == []
        told = heard(bot, LI)[-1]
        assert "黑名单" in told and "将被移出群聊" in told and "已被移出" not in told

    play(story, config=config(), setup=no_kick_rights, db=tmp_path)
