"""Human review: a kick or blacklist waits for 同意/驳回, or for its timeout and the default."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.review import review_timeouts
from tests.app.harness import Bot, play, states
from tests.commands.helpers import (
    ADMIN,
    MOD,
    OWNER,
    OWNER_B,
    ROOM,
    WU,
    config,
    last_private,
    private,
    two_rooms,
)


def test_a_kick_waits_then_an_admin_approves_and_the_member_is_kicked(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(WU, "刷单返利，日结300")  # malicious: kick + blacklist + notify admins
        assert bot.wechat.kicked == []
        assert states(bot.store, 1) == {
            "kick": "awaiting_review",
            "blacklist": "awaiting_review",
            "notify_admins": "done",
        }
        asks = [s.text for s in bot.wechat.private_to(MOD) if s.text.startswith("【待确认】")]
        assert len(asks) == 1, "one request per case, naming every action that waits"
        assert (
            "拟移出群聊、拉黑" in asks[0] and "同意 1" in asks[0] and "30 分钟内无人处理将自动执行" in asks[0]
        )
        assert bot.store.case(1).case.state == "awaiting_review"

        await private(bot, MOD, "同意 1")
        assert bot.wechat.kicked == [(ROOM, WU)]
        assert bot.store.is_blacklisted(WU, ROOM) is not None
        assert states(bot.store, 1) == {"kick": "done", "blacklist": "done", "notify_admins": "done"}
        assert last_private(bot, MOD) == "已同意案件 1：移出群聊、拉黑，已完成。"
        assert (
            last_private(bot, OWNER) == "【已处理】案件 1（移出群聊、拉黑）已由 孙管理 同意执行，无需再回复。"
        )
        review = bot.store.case(1).reviews
        assert {(r.action_kind, r.state, r.decided_by) for r in review} == {
            ("kick", "approved", MOD),
            ("blacklist", "approved", MOD),
        }
        assert [a.command for a in bot.store.case(1).audit] == ["review_approved", "review_approved"]
        await private(bot, MOD, "同意 1")
        assert "没有待确认的处理" in last_private(bot, MOD), "decided once"

    play(story, config=config(review=True), setup=two_rooms, db=tmp_path)


def test_a_rejected_kick_is_dropped(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(WU, "澳门赌场上线了")  # severe: kick + notify inviter + notify admins
        await bot.says(OWNER, "#驳回 1")
        assert bot.wechat.kicked == []
        assert states(bot.store, 1)["kick"] == "dropped"
        assert last_private(bot, OWNER) == "已驳回案件 1：不再移出群聊。"

    play(story, config=config(review=True), setup=two_rooms, db=tmp_path)


@pytest.mark.parametrize(
    ("default", "kicked", "state", "verb"),
    [
        pytest.param("act", True, "done", "执行", id="default-act-kicks"),
        pytest.param("drop", False, "dropped", "取消", id="default-drop-keeps"),
    ],
)
def test_a_review_nobody_decides_takes_the_default_at_the_deadline(
    tmp_path: Path, default: str, kicked: bool, state: str, verb: str
) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(WU, "澳门赌场上线了")
        assert await review_timeouts(bot.app, bot.clock.advance(minutes=29)) == []
        decided = await review_timeouts(bot.app, bot.clock.advance(minutes=2))
        await bot.settle()
        assert [d.case_no for d in decided] == [1]
        assert bot.wechat.kicked == ([(ROOM, WU)] if kicked else [])
        assert states(bot.store, 1)["kick"] == state
        assert bot.store.case(1).reviews[0].state == "timed_out"
        assert f"【复核超时】案件 1：30 分钟内无人处理，已按默认{verb}：移出群聊。" in last_private(
            bot, OWNER
        )

    play(story, config=config(review=True, review_default=default), setup=two_rooms, db=tmp_path)


def test_a_waiting_review_survives_a_restart(tmp_path: Path) -> None:
    async def first(bot: Bot) -> None:
        await bot.says(WU, "澳门赌场上线了")
        assert states(bot.store, 1)["kick"] == "awaiting_review"

    async def second(bot: Bot) -> None:
        await private(bot, ADMIN, "同意 1")
        assert bot.wechat.kicked == [(ROOM, WU)]
        assert states(bot.store, 1)["kick"] == "done"

    play(first, config=config(review=True), setup=two_rooms, db=tmp_path)
    play(second, config=config(review=True), setup=two_rooms, db=tmp_path)


def test_review_is_off_unless_configured_and_a_blacklisted_joiner_is_never_held(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(WU, "澳门赌场上线了")
        assert bot.wechat.kicked == [(ROOM, WU)]

    play(story, config=config(), setup=two_rooms, db=tmp_path)

    async def joiner(bot: Bot) -> None:
        bot.store.blacklist_add("wxid_spam", scope="bot", reason="广告", by=ADMIN)
        await bot.joins("wxid_spam")
        assert bot.wechat.kicked == [(ROOM, "wxid_spam")], "the admins decided the blacklist already"

    (tmp_path / "2").mkdir()
    play(joiner, config=config(review=True), setup=two_rooms, db=tmp_path / "2")


def test_only_an_admin_of_the_cases_room_may_decide(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(WU, "澳门赌场上线了")
        await private(bot, OWNER_B, "同意 1")  # owner of the other room
        assert "不是该群的群主或管理员" in last_private(bot, OWNER_B)
        assert bot.wechat.kicked == []
        await private(bot, WU, "同意 1")  # the member himself
        assert bot.wechat.kicked == []
        assert states(bot.store, 1)["kick"] == "awaiting_review"

    play(story, config=config(review=True), setup=two_rooms, db=tmp_path)


def test_a_pardon_drops_a_kick_still_waiting(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(WU, "澳门赌场上线了")
        await private(bot, MOD, "撤销 1 他说的是新闻")
        assert bot.store.case(1).case.state == "pardoned"
        assert states(bot.store, 1)["kick"] == "dropped"
        assert await review_timeouts(bot.app, bot.clock.advance(hours=1)) == []
        assert bot.wechat.kicked == []

    play(story, config=config(review=True), setup=two_rooms, db=tmp_path)


def test_the_timeout_check_is_scheduled_at_login_and_runs_the_default(tmp_path: Path) -> None:
    from bot.events import LoggedIn
    from bot.scheduler import Scheduler, run_task
    from tests.app.wire import BOT

    async def story(bot: Bot) -> None:
        scheduler = Scheduler()
        scheduler.start(bot.app)
        try:
            bot.wechat.emit(LoggedIn(BOT, bot.clock(), "群管机器人"))
            await bot.settle()
            assert "review-timeouts" in scheduler.job_ids()
            await bot.says(WU, "澳门赌场上线了")
            bot.clock.advance(minutes=31)
            await run_task("review_timeouts")  # what the stored job calls
            await bot.settle()
            assert bot.wechat.kicked == [(ROOM, WU)]
        finally:
            scheduler.shutdown()

    play(story, config=config(review=True), setup=two_rooms, db=tmp_path)


def test_without_kick_rights_the_request_to_the_admins_is_the_review(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(WU, "刷单返利，日结300")  # kick + blacklist + notify admins
        owner_heard = [s.text for s in bot.wechat.private_to(OWNER)]
        assert any("请协助移出" in t for t in owner_heard), "asked to remove, at once"
        ask = next(t for t in owner_heard if t.startswith("【待确认】"))
        assert "拟拉黑。" in ask, "only the blacklist waits"
        assert states(bot.store, 1) == {
            "kick": "requested_admins",
            "blacklist": "awaiting_review",
            "notify_admins": "done",
        }

    play(story, config=config(review=True), setup=lambda w: two_rooms(w, bot_is_owner=False), db=tmp_path)


def test_two_admins_approving_at_once_kick_once(tmp_path: Path) -> None:
    from bot.events import PrivateMessage

    async def story(bot: Bot) -> None:
        await bot.says(WU, "刷单返利，日结300")
        bot.wechat.emit(PrivateMessage("p-a", MOD, bot.clock(), "同意 1"))
        bot.wechat.emit(PrivateMessage("p-b", OWNER, bot.clock(), "同意 1"))
        await bot.settle()
        assert bot.wechat.kicked == [(ROOM, WU)]
        deciders = {r.decided_by for r in bot.store.case(1).reviews}
        assert len(deciders) == 1, "both actions decided by whoever came first"
        assert "没有待确认的处理" in last_private(bot, OWNER)

    play(story, config=config(review=True), setup=two_rooms, db=tmp_path)
