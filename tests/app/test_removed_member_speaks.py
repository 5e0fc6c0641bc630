"""A member the bot has just removed may still be heard from: messages they sent before the
kick arrive after it (a burst is delivered late), before or after the room reports them gone.

Such a message is judged and recorded like any other (every violation reaches the store, and
counts should they come back), but it is no sign that they are back: the bot does not take
them for a new member, and the store keeps them as having left. Nor is there anything to do
about it: no second ``room.del`` (it would wait out the outbox's kick spacing and fail), no
private warning to someone no longer there, no new notice for the admins, no mute reminder.
The same for a member who left on their own. One who really comes back later is a member
again, and answers for what they say then.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.events import MemberLeft
from tests.app.harness import ADMIN, BOT, CHEN, LI, OWNER, ROOM, Bot, play, states
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
def test_a_removed_members_late_messages_are_recorded_and_nothing_is_sent(
    tmp_path: Path, leave_first: bool
) -> None:
    async def story(bot: Bot) -> None:
        await muted_then_kicked(bot)
        kicked_at = bot.clock() - timedelta(minutes=10)
        kick_case = bot.store.case_for_message(ROOM, "m4")
        if leave_first:
            bot.wechat.emit(MemberLeft(ROOM, LI, kicked_at + timedelta(seconds=1), BOT))
            await bot.settle()
        sent_before = list(bot.wechat.said)

        # sent just before the kick, delivered after it: an ad, and plain chat while muted
        await bot.says(LI, "凭什么禁言我 加微信 abc123", msg_id="late-ad", at=kicked_at)
        await bot.says(LI, "你们等着", msg_id="late-chat", at=kicked_at + timedelta(seconds=1))

        assert bot.wechat.said == sent_before, "no warning to the gone member, no notice, no reminder"
        assert bot.wechat.kicked == [(ROOM, LI)], "no second room.del"
        late = {
            (o.message_id, o.rule)
            for o in bot.store.history(ROOM, LI, LONG_AGO)
            if o.message_id.startswith("late")
        }
        assert late == {
            ("late-ad", "ad-contact"),
            ("late-ad", "muted-speaking"),
            ("late-chat", "muted-speaking"),
        }, "judged and recorded"
        for message_id in ("late-ad", "late-chat"):
            case = bot.store.case_for_message(ROOM, message_id)
            assert case is not None, "a case for each late message"
            assert states(bot.store, case.case_no) == {}, "nothing decided against them"
        assert kick_case is not None and states(bot.store, kick_case.case_no)["kick"] == "done", (
            "the removal stands"
        )
        if leave_first:
            member = bot.store.member(ROOM, LI)
            assert member is not None and not member.present, "still gone, not a newcomer"
            assert not bot.app.rooms.has_member(ROOM, LI)
            assert bot.app.executor.removed.get((ROOM, LI)) is not None, "the removal is remembered"

    play(story, config=configured(), setup=leave_reported_later, db=tmp_path)


def test_a_member_who_left_on_their_own_is_not_warned_for_what_arrives_late(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        left_at = bot.clock()
        bot.wechat.emit(MemberLeft(ROOM, CHEN, left_at))
        await bot.settle()
        sent_before = list(bot.wechat.said)

        await bot.says(CHEN, "退群了 加微信 abc123", msg_id="parting", at=left_at - timedelta(seconds=1))

        assert bot.wechat.said == sent_before and bot.wechat.kicked == []
        assert [o.rule for o in bot.store.history(ROOM, CHEN, LONG_AGO)] == ["ad-contact"], "recorded"
        member = bot.store.member(ROOM, CHEN)
        assert member is not None and not member.present

    play(story, config=configured(), setup=room_with_members, db=tmp_path)


def test_a_removed_member_who_really_comes_back_later_is_a_member_again(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await muted_then_kicked(bot)
        bot.wechat.emit(MemberLeft(ROOM, LI, bot.clock(), BOT))
        await bot.settle()
        bot.clock.advance(hours=25)  # the mute is over
        await bot.says(LI, "我又被拉回来了", msg_id="back")  # re-invited, join event missed

        member = bot.store.member(ROOM, LI)
        assert member is not None and member.present, "an unknown speaker after the leave has joined"
        assert bot.app.rooms.has_member(ROOM, LI)

        sent_before = len(bot.wechat.said)
        bot.clock.advance(minutes=1)
        await bot.says(LI, "加微信 abc123", msg_id="back-ad")

        case = bot.store.case_for_message(ROOM, "back-ad")
        assert case is not None and states(bot.store, case.case_no)["kick"] == "done", (
            "judged on their whole history: removed again"
        )
        assert bot.wechat.kicked == [(ROOM, LI), (ROOM, LI)]
        told = bot.wechat.said[sent_before:]
        assert any(s.to == LI for s in told), "the member hears why"
        assert any(s.to == ADMIN and "案件号" in s.text for s in told), "the admins hear of it"

    play(story, config=configured(), setup=leave_reported_later, db=tmp_path, start=T0)


def test_the_rest_of_a_burst_while_the_kick_is_on_its_way_is_recorded_and_nothing_is_sent(
    tmp_path: Path,
) -> None:
    """The kick waits its turn in the outbox while the member goes on posting: one case
    removes them and says so once; what they post meanwhile is recorded, not answered."""

    async def story(bot: Bot) -> None:
        for text in ("加微信 abc123", "加微信 abc123!", "大家早上好"):  # ad, ad and a mute, a reminder
            await bot.says(LI, text)
            bot.clock.advance(minutes=10)
        bot.wechat.kick_gate = asyncio.Event()  # room.del is slow to go through
        sent_before = len(bot.wechat.said)

        burst = ("我就要说话", "加微信 abc123!!", "你们管不着", "加微信 abc999")
        for n, text in enumerate(burst):
            bot.clock.advance(seconds=2)
            await bot.posts(LI, text, msg_id=f"burst-{n}")
        bot.wechat.kick_gate.set()
        await bot.settle()

        removal = bot.store.case_for_message(ROOM, "burst-0")
        assert removal is not None and states(bot.store, removal.case_no)["kick"] == "done"
        assert bot.wechat.kicked == [(ROOM, LI)], "removed once"
        told = bot.wechat.said[sent_before:]
        assert [s.to for s in told] == [LI, OWNER, ADMIN], "the member and the admins hear once"
        assert all(f"案件号 {removal.case_no}" in s.text for s in told), "of the case that removed them"
        for n in range(1, len(burst)):
            case = bot.store.case_for_message(ROOM, f"burst-{n}")
            assert case is not None, "every message of the burst is judged and recorded"
            assert states(bot.store, case.case_no) == {}, "nothing decided on its own"
        rules = {(o.message_id, o.rule) for o in bot.store.history(ROOM, LI, LONG_AGO)}
        assert ("burst-1", "ad-contact") in rules and ("burst-3", "ad-contact") in rules

    play(story, config=configured(), setup=room_with_members, db=tmp_path)
