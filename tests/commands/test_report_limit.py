"""A member may send 3 reports per 10 minutes; the count belongs to one bot, by contact id.

The counts live on the App (``bot.commands.member.state_of(app)``), never in the module: a
second App in the same process (the next test, a bot restarted in one process) starts afresh.
They run on the messages' own times, like every other command, and forget quiet reporters.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.commands.member import ReportLimit, state_of
from tests.app.harness import Bot, play
from tests.app.wire import T0
from tests.commands.helpers import LI, OWNER, WU, config, two_rooms

MENTION = "\u2005"


def forwarded(bot: Bot) -> int:
    return sum(s.text.startswith("【举报】") for s in bot.wechat.private_to(OWNER))


async def report(bot: Bot, n: int, *, minutes: float = 0) -> None:
    await bot.says(
        WU, f"#举报 @李四{MENTION} 第{n}次发广告", mentions=(LI,), at=T0 + timedelta(minutes=minutes)
    )


def test_two_apps_in_one_process_do_not_share_report_counts(tmp_path: Path) -> None:
    async def first(bot: Bot) -> None:
        for n in range(4):
            await report(bot, n)
        assert forwarded(bot) == 3, "the fourth report is over the limit"
        assert len(state_of(bot.app).reports) == 1

    async def second(bot: Bot) -> None:  # a new App in this process, at the same moment
        assert len(state_of(bot.app).reports) == 0, "a new App remembers no reports"
        await report(bot, 0)
        assert forwarded(bot) == 1, "the member's first report to this bot is forwarded"

    for directory, story in (("a", first), ("b", second)):
        (tmp_path / directory).mkdir()
        play(story, config=config(), setup=two_rooms, db=tmp_path / directory)


def test_the_report_limit_runs_on_the_messages_time(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        for n, minutes in enumerate((0, 1, 2, 3)):
            await report(bot, n, minutes=minutes)
        assert forwarded(bot) == 3
        await report(bot, 4, minutes=10.5)  # the bot's own clock has not moved
        assert forwarded(bot) == 4, "ten minutes after the first report, by the message times"

    play(story, config=config(), setup=two_rooms, db=tmp_path)


def at(minutes: float):  # type: ignore[no-untyped-def]
    return T0 + timedelta(minutes=minutes)


@pytest.mark.parametrize(
    ("reports", "taken"),
    [
        pytest.param(
            [("a", "m1", 0), ("a", "m2", 1), ("a", "m3", 2), ("a", "m4", 3)], [1, 1, 1, 0], id="4th-refused"
        ),
        pytest.param(
            [("a", "m1", 0), ("a", "m1", 0), ("a", "m2", 1), ("a", "m3", 2)],
            [1, 1, 1, 1],
            id="same-message-once",
        ),
        pytest.param(
            [("a", "m1", 0), ("a", "m2", 1), ("a", "m3", 2), ("a", "m4", 10)],
            [1, 1, 1, 1],
            id="window-passed",
        ),
        pytest.param(
            [("a", "m1", 0), ("a", "m2", 1), ("a", "m3", 2), ("b", "m4", 3)], [1, 1, 1, 1], id="per-member"
        ),
    ],
)
def test_report_limit_counts(reports: list[tuple[str, str, float]], taken: list[int]) -> None:
    limit = ReportLimit()
    assert [int(limit.take(who, ("room", msg), at(m))) for who, msg, m in reports] == taken


def test_report_limit_forgets_reporters_a_window_old() -> None:
    limit = ReportLimit()
    for n in range(50):
        limit.take(f"wxid_{n}", ("room", f"m{n}"), at(0))
    assert len(limit) == 50
    limit.take("wxid_late", ("room", "late"), at(11))
    assert len(limit) == 1, "only the reporter of the last ten minutes is kept"


def test_report_limit_keeps_at_most_max_members() -> None:
    limit = ReportLimit(max_members=100)
    for n in range(1000):
        limit.take(f"wxid_{n}", ("room", f"m{n}"), at(n / 1000))
    assert len(limit) == 100
    assert limit.take("wxid_999", ("room", "again"), at(1)), "the newest are the ones kept"
