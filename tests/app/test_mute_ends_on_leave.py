"""A mute is the bot's own record, and it binds a member of the room. One who leaves or is
removed is muted no more: when the admins invite them back (another chance) within the 24
hours, their first word is not speaking while muted. The mute is lifted the way ``#解除禁言``
lifts it, by the bot, with an audit entry saying why; every violation stays on record.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.app import texts
from bot.events import MemberLeft
from tests.app.harness import ADMIN, BOT, LI, ROOM, Bot, play
from tests.app.test_removed_member_speaks import muted_then_kicked
from tests.app.test_scenarios import configured, room_with_members

LONG_AGO = datetime(2020, 1, 1).astimezone()
MUTE_CASE = 2
"""Two ads: the second (case 2) brings a public warning and a 24-hour mute."""


async def muted(bot: Bot) -> None:
    for text in ("加微信 abc123", "加微信 abc123!"):
        await bot.says(LI, text)
        bot.clock.advance(minutes=10)
    assert bot.store.muted_until(ROOM, LI, bot.clock()) is not None


async def removed_by_the_ladder(bot: Bot) -> datetime:
    await muted_then_kicked(bot)  # the room-leave follows the kick
    return bot.clock() - timedelta(minutes=10)


async def left_on_their_own(bot: Bot) -> datetime:
    await muted(bot)
    left_at = bot.clock()
    bot.wechat.emit(MemberLeft(ROOM, LI, left_at))
    await bot.settle()
    return left_at


@pytest.mark.parametrize(
    ("going", "removed"),
    [
        pytest.param(removed_by_the_ladder, True, id="removed-by-the-bot"),
        pytest.param(left_on_their_own, False, id="left-on-their-own"),
    ],
)
def test_a_member_invited_back_within_the_mute_is_not_muted(
    tmp_path: Path, going: Callable[[Bot], Awaitable[datetime]], removed: bool
) -> None:
    async def story(bot: Bot) -> None:
        gone_at = await going(bot)
        on_record = [(o.message_id, o.rule) for o in bot.store.history(ROOM, LI, LONG_AGO)]
        kicks = list(bot.wechat.kicked)

        bot.clock.advance(hours=2)  # well within the 24 hours
        await bot.joins(LI, inviter=ADMIN)
        bot.clock.advance(minutes=1)
        sent_before = len(bot.wechat.said)
        await bot.says(LI, "我又被拉回来了", msg_id="back")

        assert bot.store.muted_until(ROOM, LI, bot.clock()) is None
        assert bot.store.case_for_message(ROOM, "back") is None, "no speaking while muted"
        assert bot.wechat.kicked == kicks, "not removed again"
        assert bot.wechat.said[sent_before:] == [], "no reminder, no notice"
        history = [(o.message_id, o.rule) for o in bot.store.history(ROOM, LI, LONG_AGO)]
        assert history == on_record, "every earlier violation stays on record"

        story_ = bot.store.case(MUTE_CASE)
        assert story_ is not None
        (mute,) = story_.mutes
        assert mute.lifted_by == BOT, "lifted by the bot"
        assert mute.lifted_at is not None and gone_at <= mute.lifted_at <= gone_at + timedelta(seconds=1)
        (entry,) = [a for a in bot.store.audit_log(room_id=ROOM) if a.command == "unmute"]
        assert (entry.actor_id, entry.target_id) == (BOT, LI)
        assert entry.detail["reason"] == texts.MUTE_ENDED_ON_LEAVE
        assert entry.detail["removed"] is removed

    play(story, config=configured(), setup=room_with_members, db=tmp_path)


def test_a_muted_member_still_in_the_room_who_speaks_is_reminded(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await muted(bot)
        bot.clock.advance(hours=2)
        await bot.says(LI, "大家早上好", msg_id="hello")

        assert [v.rule for v in bot.store.history(ROOM, LI, LONG_AGO) if v.message_id == "hello"] == [
            "muted-speaking"
        ]
        assert "禁言" in bot.wechat.private_to(LI)[-1].text
        assert bot.wechat.kicked == []
        assert not any(a.command == "unmute" for a in bot.store.audit_log(room_id=ROOM))

    play(story, config=configured(), setup=room_with_members, db=tmp_path)
