"""A member the bot has just removed may still be heard from: messages they sent before the
kick arrive after it (a burst is delivered late), before or after the room reports them gone.

Such a message is judged and recorded like any other, but it is no sign that they are back:
the bot does not take them for a new member, does not remove them a second time (a second
``room.del`` of someone already gone would wait out the outbox's kick spacing and fail), and
the store keeps them as having left.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.events import MemberLeft
from tests.app.harness import BOT, LI, ROOM, Bot, play, states
from tests.app.test_scenarios import configured, room_with_members
from tests.app.wire import T0, FakeWeChat

LONG_AGO = datetime(2020, 1, 1).astimezone()


def leave_reported_later(w: FakeWeChat) -> None:
    room_with_members(w)
    w.leave_after_kick = False


async def muted_then_kicked(bot: Bot) -> None:
    """An ad, a second ad (public warning and mute), speaking while muted (a reminder), again:
    removed."""
    for text in ("加微信 abc123", "加微信 abc123!", "大家早上好", "我就要说话"):
        await bot.says(LI, text)
        bot.clock.advance(minutes=10)
    assert bot.wechat.kicked == [(ROOM, LI)]


def private_to_li(bot: Bot) -> list[str]:
    return [s.text for s in bot.wechat.private_to(LI)]


@pytest.mark.parametrize(
    "leave_first",
    [
        pytest.param(False, id="leave-not-yet-reported"),
        pytest.param(True, id="leave-reported-first"),
    ],
)
def test_a_removed_member_heard_again_is_not_removed_twice(tmp_path: Path, leave_first: bool) -> None:
    async def story(bot: Bot) -> None:
        await muted_then_kicked(bot)
        kicked_at = bot.clock() - timedelta(minutes=10)
        if leave_first:
            bot.wechat.emit(MemberLeft(ROOM, LI, kicked_at + timedelta(seconds=1), BOT))
            await bot.settle()

        # sent just before the kick, delivered after it
        await bot.says(LI, "凭什么禁言我 加微信 abc123", msg_id="late", at=kicked_at)

        assert bot.wechat.kicked == [(ROOM, LI)], "no second room.del"
        late = [o for o in bot.store.history(ROOM, LI, LONG_AGO) if o.message_id == "late"]
        assert {o.rule for o in late} == {"ad-contact", "muted-speaking"}, "judged and recorded"
        case = bot.store.case_for_message(ROOM, "late")
        assert case is not None and states(bot.store, case.case_no)["kick"] == "done", "the removal stands"
        if leave_first:
            member = bot.store.member(ROOM, LI)
            assert member is not None and not member.present, "still gone, not a newcomer"
            assert not bot.app.rooms.has_member(ROOM, LI)
            assert bot.app.executor.removed.get((ROOM, LI)) is not None, "the removal is remembered"

    play(story, config=configured(), setup=leave_reported_later, db=tmp_path)


def test_a_removed_member_who_really_comes_back_later_is_a_member_again(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await muted_then_kicked(bot)
        bot.wechat.emit(MemberLeft(ROOM, LI, bot.clock(), BOT))
        await bot.settle()
        bot.clock.advance(hours=2)
        await bot.says(LI, "我又被拉回来了", msg_id="back")  # re-invited, join event missed

        member = bot.store.member(ROOM, LI)
        assert member is not None and member.present, "an unknown speaker after the leave has joined"
        assert bot.app.rooms.has_member(ROOM, LI)

    play(story, config=configured(), setup=leave_reported_later, db=tmp_path, start=T0)
