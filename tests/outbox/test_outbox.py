"""The outbox on a manual clock: limits, merging, order, retries, closing."""

from __future__ import annotations

import asyncio
import bisect
import itertools
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import OutboxConfig
from bot.errors import ActionFailed, ConfigError, NotAFriend, NotPermitted, PuppetUnavailable
from bot.puppet.outbox import Delivery, ManualClock, Outbox, SystemClock


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(scenario())


def most_in_any_window(times: list[float], width: float) -> int:
    """The largest number of sends inside any half-open window [t, t + width)."""
    times = sorted(times)
    return max((bisect.bisect_left(times, t + width) - i for i, t in enumerate(times)), default=0)


async def drain(clock: ManualClock, outbox: Outbox, deliveries: list[Delivery]) -> None:
    await clock.run_until(lambda: all(d.done() for d in deliveries))
    assert outbox.pending == 0


# --- the limit ---------------------------------------------------------------


def test_burst_of_200_violations_never_exceeds_the_limit_and_drops_nothing(clock, wire):
    """200 violations in two seconds from 80 members in 3 rooms: each gets a
    private warning, every fifth also a public @mention, every tenth asks the
    admin. Default limits: 6 a minute, 100 an hour."""

    async def scenario():
        outbox = Outbox.from_config(wire, OutboxConfig(), clock=clock)
        deliveries: list[tuple[Delivery, str, str]] = []
        for n in range(200):
            member, room = f"wxid_m{n % 80}", f"r{n % 3}"
            text = f"第{n}条：请勿发广告，并请撤回。"
            deliveries.append((outbox.say_private(member, text), member, text))
            if n % 5 == 0:
                deliveries.append((outbox.say(room, f"公开提醒{n}", [member]), room, f"公开提醒{n}"))
            if n % 10 == 0:
                deliveries.append(
                    (
                        outbox.say_private("wxid_admin", f"案件{n}需处理", urgent=True),
                        "wxid_admin",
                        f"案件{n}需处理",
                    )
                )
            await clock.advance(0.01)

        await drain(clock, outbox, [d for d, _, _ in deliveries])

        times = [s.at for s in wire.attempts]
        assert most_in_any_window(times, 60) <= 6
        assert most_in_any_window(times, 3600) <= 100
        assert all(b - a >= 2.0 for a, b in itertools.pairwise(times))
        for delivery, target, text in deliveries:
            assert delivery.sent and delivery.error is None
            sent = wire.by_id(delivery.message_id)
            assert sent.target == target and text in sent.text.split("\n")
        assert len(wire.sent) < len(deliveries)  # merging saved messages
        first_queued: dict[str, int] = {}
        for n, (delivery, _, _) in enumerate(deliveries):
            first_queued.setdefault(delivery.message_id, n)
        for conversation in {s.target for s in wire.sent}:
            places = [first_queued[s.message_id] for s in wire.sent if s.target == conversation]
            assert places == sorted(places), f"order broken in {conversation}"
        assert outbox.merged_count == len(deliveries) - len(wire.sent)

    run(scenario)


@pytest.mark.parametrize(
    ("per_minute", "per_hour", "messages", "expected_times"),
    [
        pytest.param(2, 100, 5, [0, 2, 60, 62, 120], id="two-a-minute"),
        pytest.param(6, 3, 5, [0, 2, 4, 3600, 3602], id="three-an-hour"),
        pytest.param(60, 1000, 4, [0, 2, 4, 6], id="min-interval-between-any-two"),
    ],
)
def test_throttled_messages_wait_for_the_window(clock, wire, per_minute, per_hour, messages, expected_times):
    async def scenario():
        outbox = Outbox(wire, per_minute=per_minute, per_hour=per_hour, merge_window_s=0, clock=clock)
        deliveries = [outbox.say("r1", f"通知{i}") for i in range(messages)]
        await drain(clock, outbox, deliveries)
        assert [s.at for s in wire.sent] == expected_times
        assert [s.text for s in wire.sent] == [f"通知{i}" for i in range(messages)]

    run(scenario)


def test_delivery_tells_when_the_message_was_sent(clock, wire):
    async def scenario():
        outbox = Outbox(wire, per_minute=1, merge_window_s=0, clock=clock)
        first, second = outbox.say("r1", "一"), outbox.say("r1", "二")
        await clock.run_until(second.done)
        assert await second == wire.sent[1].message_id
        assert (second.sent_at - first.sent_at).total_seconds() == 60
        assert second.attempts == 1 and second.merged == 1

    run(scenario)


# --- merging -----------------------------------------------------------------


def test_warnings_to_one_member_waiting_together_go_out_as_one_message(clock, wire):
    async def scenario():
        outbox = Outbox(wire, merge_window_s=3, clock=clock)
        a = outbox.say_private("wxid_li", "请勿发广告。")
        await clock.advance(1)
        b = outbox.say_private("wxid_li", "请勿刷屏。")
        c = outbox.say_private("wxid_li", "请勿发广告。")  # the same words twice are said once
        await drain(clock, outbox, [a, b, c])
        assert [(s.target, s.text) for s in wire.sent] == [("wxid_li", "请勿发广告。\n请勿刷屏。")]
        assert {await a, await b, await c} == {"m1"}
        assert a.merged == b.merged == c.merged == 3

    run(scenario)


def test_merged_warnings_of_several_lines_are_set_apart_by_a_blank_line(clock, wire):
    async def scenario():
        outbox = Outbox(wire, merge_window_s=3, clock=clock)
        deliveries = [outbox.say_private("wxid_li", f"警告{i}\n案件号 {i}") for i in (1, 2)]
        await drain(clock, outbox, deliveries)
        assert [s.text for s in wire.sent] == ["警告1\n案件号 1\n\n警告2\n案件号 2"]

    run(scenario)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param(("say", "r1", ["wxid_li"]), ("say", "r1", ["wxid_wang"]), id="other-member-same-room"),
        pytest.param(("say", "r1", ["wxid_li"]), ("say", "r2", ["wxid_li"]), id="same-member-other-room"),
        pytest.param(("say", "r1", ["wxid_li"]), ("say_private", "wxid_li", []), id="room-vs-private"),
        pytest.param(("say", "r1", []), ("say", "r1", []), id="room-messages-without-mention"),
        pytest.param(("announce", "r1", []), ("announce", "r1", []), id="announcements"),
    ],
)
def test_messages_to_different_people_or_places_are_not_merged(clock, wire, first, second):
    async def scenario():
        outbox = Outbox(wire, merge_window_s=3, clock=clock)

        def send(kind, target, mentions, text):
            if kind == "say":
                return outbox.say(target, text, mentions)
            return getattr(outbox, kind)(target, text)

        deliveries = [send(*first, "甲"), send(*second, "乙")]
        await drain(clock, outbox, deliveries)
        assert [s.text for s in wire.sent] == ["甲", "乙"]

    run(scenario)


def test_a_message_already_tried_takes_no_more_merges(clock, wire):
    async def scenario():
        outbox = Outbox(wire, merge_window_s=0, retry_delays_s=(30,), clock=clock)
        wire.fail = lambda kind, target, text: (
            PuppetUnavailable("gRPC down") if len(wire.attempts) == 1 else None
        )
        first = outbox.say_private("wxid_li", "警告一")
        await clock.advance(5)
        second = outbox.say_private("wxid_li", "警告二")
        await drain(clock, outbox, [first, second])
        assert [s.text for s in wire.sent] == ["警告一", "警告二"]

    run(scenario)


def test_merge_opt_out_and_size_cap(clock, wire):
    async def scenario():
        outbox = Outbox(wire, merge_window_s=3, clock=clock)
        long_text = "很长的提醒" * 200  # 1000 characters
        deliveries = [
            outbox.say_private("wxid_li", "回复一", merge=False),
            outbox.say_private("wxid_li", "回复二", merge=False),
            outbox.say_private("wxid_wang", long_text),
            outbox.say_private("wxid_wang", long_text + "！"),
        ]
        await drain(clock, outbox, deliveries)
        assert [s.text for s in wire.sent] == ["回复一", "回复二", long_text, long_text + "！"]

    run(scenario)


# --- order and priority ------------------------------------------------------


def test_order_is_kept_within_each_conversation(clock, wire):
    async def scenario():
        outbox = Outbox(wire, per_minute=3, merge_window_s=0, clock=clock)
        deliveries = []
        for i in range(12):
            deliveries.append(outbox.say(f"r{i % 3}", f"r{i % 3}-{i}"))
            deliveries.append(outbox.say_private("wxid_li", f"li-{i}", merge=False))
        await drain(clock, outbox, deliveries)
        for conv in ("r0", "r1", "r2", "wxid_li"):
            texts = [s.text for s in wire.sent if s.target == conv]
            assert texts == sorted(texts, key=lambda t: int(t.split("-")[1]))
        assert len(wire.sent) == 24

    run(scenario)


def test_urgent_messages_overtake_other_conversations_but_not_their_own(clock, wire):
    async def scenario():
        outbox = Outbox(wire, per_minute=1, merge_window_s=0, clock=clock)
        deliveries = [outbox.say("r1", f"普通{i}") for i in range(3)]
        deliveries.append(outbox.say_private("wxid_admin", "请管理员处理", urgent=True))
        deliveries.append(outbox.say("r1", "紧急", urgent=True))
        await drain(clock, outbox, deliveries)
        assert [s.text for s in wire.sent] == ["请管理员处理", "普通0", "普通1", "普通2", "紧急"]

    run(scenario)


def test_an_urgent_message_merged_into_a_waiting_one_takes_it_along_at_once(clock, wire):
    async def scenario():
        outbox = Outbox(wire, merge_window_s=3, clock=clock)
        normal = outbox.say_private("wxid_admin", "日报")
        await clock.advance(1)
        urgent = outbox.say_private("wxid_admin", "请处理案件 7", urgent=True)
        await drain(clock, outbox, [normal, urgent])
        assert [(s.at, s.text) for s in wire.sent] == [(1, "日报\n请处理案件 7")]

    run(scenario)


def test_urgent_messages_skip_the_merge_wait(clock, wire):
    async def scenario():
        outbox = Outbox(wire, merge_window_s=3, clock=clock)
        normal = outbox.say_private("wxid_li", "提醒")
        urgent = outbox.say_private("wxid_admin", "请处理", urgent=True)
        await drain(clock, outbox, [normal, urgent])
        assert [(s.at, s.text) for s in wire.sent] == [(0, "请处理"), (3, "提醒")]

    run(scenario)


# --- failures ----------------------------------------------------------------


def test_a_failed_send_is_retried_then_delivered(clock, wire):
    async def scenario():
        outbox = Outbox(wire, merge_window_s=0, max_attempts=3, retry_delays_s=(10, 30), clock=clock)
        wire.fail = lambda *_: ActionFailed("send refused") if len(wire.attempts) <= 2 else None
        delivery = outbox.say("r1", "提醒")
        assert await asyncio.wait_for(_after(clock, 60, delivery), 5) == "m1"
        assert [a.at for a in wire.attempts] == [0, 10, 40]
        assert delivery.attempts == 3

    run(scenario)


async def _after(clock: ManualClock, seconds: float, delivery: Delivery) -> str:
    await clock.advance(seconds)
    return await delivery


@pytest.mark.parametrize(
    ("error", "expected", "attempts"),
    [
        pytest.param(ActionFailed("send refused"), ActionFailed, 3, id="refused-three-times"),
        pytest.param(
            ConnectionResetError("peer reset"), ActionFailed, 3, id="transport-error-becomes-ActionFailed"
        ),
        pytest.param(NotAFriend("not a friend"), NotAFriend, 1, id="not-a-friend-is-final"),
    ],
)
def test_a_send_given_up_on_reaches_the_caller(clock, wire, error, expected, attempts):
    async def scenario():
        outbox = Outbox(wire, merge_window_s=0, max_attempts=3, retry_delays_s=(5,), clock=clock)
        wire.fail = lambda kind, target, text: error if target == "wxid_li" else None
        failing = outbox.say_private("wxid_li", "警告")
        other = outbox.say_private("wxid_wang", "警告")
        await drain(clock, outbox, [failing, other])
        with pytest.raises(expected):
            await failing
        outcome = await failing.wait()  # never raises: for recording the case
        assert not outcome.sent and isinstance(outcome.error, expected)
        assert outcome.attempts == attempts
        assert await other == "m1"
        assert outbox.failed_count == 1

    run(scenario)


def test_a_failing_conversation_holds_its_later_messages_in_order(clock, wire):
    async def scenario():
        outbox = Outbox(wire, merge_window_s=0, retry_delays_s=(20,), clock=clock)
        wire.fail = lambda *_: ActionFailed("busy") if len(wire.attempts) == 1 else None
        deliveries = [outbox.say("r1", "一"), outbox.say("r1", "二"), outbox.say("r2", "三")]
        await drain(clock, outbox, deliveries)
        assert [(s.target, s.text) for s in wire.sent] == [("r2", "三"), ("r1", "一"), ("r1", "二")]

    run(scenario)


def test_done_callbacks_learn_every_outcome(clock, wire):
    async def scenario():
        outbox = Outbox(wire, merge_window_s=0, clock=clock)
        wire.fail = lambda kind, target, text: NotAFriend("x") if target == "stranger" else None
        seen: list[tuple[str, bool]] = []
        for target in ("wxid_li", "stranger"):
            outbox.say_private(target, "提醒").add_done_callback(lambda d: seen.append((d.target, d.sent)))
        await clock.run_until(lambda: len(seen) == 2)
        assert sorted(seen) == [("stranger", False), ("wxid_li", True)]

    run(scenario)


# --- closing -----------------------------------------------------------------


def test_close_sends_what_is_queued_when_given_time(clock, wire):
    async def scenario():
        outbox = Outbox(wire, per_minute=2, merge_window_s=0, clock=clock)
        deliveries = [outbox.say("r1", f"{i}") for i in range(4)]
        closing = asyncio.ensure_future(outbox.close(timeout_s=None))
        await clock.run_until(closing.done)
        assert all(d.sent for d in deliveries)

    run(scenario)


def test_close_with_a_deadline_fails_what_is_left_so_callers_can_record_it(clock, wire):
    async def scenario():
        outbox = Outbox(wire, per_minute=2, merge_window_s=0, clock=clock)
        deliveries = [outbox.say("r1", f"{i}") for i in range(4)]
        closing = asyncio.ensure_future(outbox.close(timeout_s=30))
        await clock.run_until(closing.done)
        assert [d.sent for d in deliveries] == [True, True, False, False]
        assert all(isinstance(d.error, ActionFailed) for d in deliveries[2:])
        late = outbox.say("r1", "太晚了")
        with pytest.raises(ActionFailed):
            await late

    run(scenario)


# --- what passes straight through -------------------------------------------


def test_kicks_are_spaced_out_and_their_errors_propagate(clock, wire):
    async def scenario():
        outbox = Outbox(wire, kick_interval_s=3, clock=clock)
        kicks = asyncio.gather(*(outbox.kick("r1", f"wxid_{i}") for i in range(3)))
        await clock.run_until(kicks.done)
        assert [k[0] for k in wire.kicks] == [0, 3, 6]
        wire.kick_error = NotPermitted("not owner")
        with pytest.raises(NotPermitted):
            await asyncio.gather(outbox.kick("r1", "wxid_x"), clock.advance(10))

    run(scenario)


def test_kicks_and_reads_do_not_use_up_the_message_limit(clock, wire):
    async def scenario():
        outbox = Outbox(wire, per_minute=1, merge_window_s=0, clock=clock)
        first = outbox.say("r1", "一")
        await clock.run_until(first.done)
        kick = asyncio.ensure_future(outbox.kick("r1", "wxid_x"))
        await clock.settle()
        assert kick.done() and wire.kicks == [(0, "r1", "wxid_x")]
        assert (await outbox.room_info("r1")).owner_id == "wxid_bot"
        assert await outbox.is_friend("stranger") is False
        assert await outbox.contact_name("wxid_li") == "WXID_LI"
        assert len(await outbox.rooms()) == 1
        assert outbox.bot_id == "wxid_bot"
        await outbox.accept_invitation("inv1")

    run(scenario)


# --- configuration -----------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "key"),
    [
        pytest.param(OutboxConfig(per_minute=0), "outbox.per_minute", id="per-minute-zero"),
        pytest.param(OutboxConfig(per_hour=-1), "outbox.per_hour", id="per-hour-negative"),
        pytest.param(OutboxConfig(merge_window_s=-1), "outbox.merge_window_s", id="negative-merge-window"),
        pytest.param(OutboxConfig(max_attempts=0), "outbox.max_attempts", id="no-attempts"),
        pytest.param(OutboxConfig(min_interval_s=-2), "outbox.min_interval_s", id="negative-interval"),
        pytest.param(OutboxConfig(kick_interval_s=-2), "outbox.kick_interval_s", id="negative-kick-interval"),
    ],
)
def test_impossible_limits_are_refused_naming_the_key(wire, config, key):
    with pytest.raises(ConfigError, match=key):
        Outbox.from_config(wire, config)


def test_the_config_sets_every_knob(clock, wire):
    config = OutboxConfig(
        per_minute=3, per_hour=30, merge_window_s=1, min_interval_s=5, max_attempts=2, kick_interval_s=9
    )
    outbox = Outbox.from_config(wire, config, clock=clock)
    assert (outbox.merge_window_s, outbox.max_attempts, outbox.kick_interval_s) == (1, 2, 9)
    assert outbox.limits == {"per_minute": 3, "per_hour": 30, "min_interval_s": 5}


def test_on_the_real_clock_a_message_goes_out_at_once():
    async def scenario():
        wire = _RealTimeWire()
        async with Outbox(wire, merge_window_s=0, clock=SystemClock()) as outbox:
            delivery = outbox.say("r1", "你好", ["wxid_li"])
            assert await asyncio.wait_for(delivery, 2) == "real-1"
        assert wire.sent == [("r1", "你好", ("wxid_li",))]

    run(scenario)


class _RealTimeWire:
    bot_id = "wxid_bot"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, tuple[str, ...]]] = []

    async def say(self, room_id, text, mention_ids=()):
        self.sent.append((room_id, text, tuple(mention_ids)))
        return f"real-{len(self.sent)}"


# --- any schedule ------------------------------------------------------------


_requests = st.lists(
    st.tuples(
        st.floats(min_value=0, max_value=120, allow_nan=False),  # pause before it, seconds
        st.sampled_from(["say", "say_private", "announce"]),
        st.sampled_from(["a", "b", "c"]),  # conversation
        st.sampled_from(["", "x", "y"]),  # @mention in a room message
        st.booleans(),  # urgent
        st.booleans(),  # the first attempt fails
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    requests=_requests,
    per_minute=st.integers(1, 8),
    per_hour=st.integers(1, 40),
    merge_window=st.sampled_from([0, 3]),
)
def test_any_schedule_keeps_the_limit_the_order_and_every_message(
    make_wire, requests, per_minute, per_hour, merge_window
):
    clock = ManualClock()
    wire = make_wire(clock)
    flaky = {f"#{n}" for n, r in enumerate(requests) if r[5]}
    tried: set[str] = set()

    def fail(kind, target, text):
        first_try = [t for t in text.split("\n") if t in flaky and t not in tried]
        tried.update(text.split("\n"))
        return ActionFailed("flaky") if first_try else None

    wire.fail = fail

    async def scenario():
        outbox = Outbox(
            wire,
            per_minute=per_minute,
            per_hour=per_hour,
            merge_window_s=merge_window,
            retry_delays_s=(7,),
            clock=clock,
        )
        deliveries = []
        for n, (pause, kind, conv, mention, urgent, _) in enumerate(requests):
            await clock.advance(pause)
            if kind == "say":
                d = outbox.say(conv, f"#{n}", [mention] if mention else [], urgent=urgent)
            elif kind == "say_private":
                d = outbox.say_private(conv, f"#{n}", urgent=urgent)
            else:
                d = outbox.announce(conv, f"#{n}", urgent=urgent)
            deliveries.append((n, kind, conv, d))
        await drain(clock, outbox, [d for *_, d in deliveries])

        times = [a.at for a in wire.attempts]
        assert most_in_any_window(times, 60) <= per_minute
        assert most_in_any_window(times, 3600) <= per_hour
        for n, kind, conv, d in deliveries:
            assert d.sent, f"#{n} was not sent: {d.error}"
            if kind == "announce":
                assert d.message_id == ""
                (sent,) = [s for s in wire.sent if s.kind == kind and s.text == f"#{n}"]
            else:
                sent = wire.by_id(d.message_id)
            assert f"#{n}" in sent.text.split("\n") and sent.target == conv
            assert sent.kind == kind
        for conv_kind in ("room", "private"):
            for conv in "abc":
                firsts = [
                    min(int(t[1:]) for t in s.text.split("\n"))
                    for s in wire.sent
                    if s.target == conv and (s.kind == "say_private") == (conv_kind == "private")
                ]
                assert firsts == sorted(firsts)

    asyncio.run(scenario())


def test_a_long_wait_for_the_limit_is_told_in_the_log_once_a_minute(clock, wire, caplog):
    async def scenario():
        outbox = Outbox(wire, per_minute=1, merge_window_s=0, clock=clock)
        deliveries = [outbox.say("r1", f"{i}") for i in range(4)]
        await drain(clock, outbox, deliveries)

    with caplog.at_level("WARNING", logger="bot.puppet.outbox"):
        run(scenario)
    waits = [r.getMessage() for r in caplog.records if "waiting for the send limit" in r.getMessage()]
    assert len(waits) == 3 and "3 messages waiting" in waits[0]


class _HangingWire:
    """A wire whose first ``hangs`` sends never answer (a stuck gRPC call)."""

    bot_id = "wxid_bot"

    def __init__(self, clock: ManualClock, hangs: int) -> None:
        self.clock, self.hangs = clock, hangs
        self.calls: list[float] = []

    async def say(self, room_id, text, mention_ids=()):
        self.calls.append(self.clock.monotonic())
        if len(self.calls) <= self.hangs:
            await asyncio.Event().wait()
        return f"ok-{len(self.calls)}"


def test_a_send_that_hangs_times_out_and_is_retried(clock):
    async def scenario():
        wire = _HangingWire(clock, hangs=1)
        outbox = Outbox(wire, merge_window_s=0, send_timeout_s=20, retry_delays_s=(10,), clock=clock)
        stuck, behind = outbox.say("r1", "一"), outbox.say("r2", "二")
        await drain(clock, outbox, [stuck, behind])
        assert wire.calls == [0, 20, 30]
        assert (await stuck, await behind) == ("ok-3", "ok-2")

    run(scenario)


def test_closing_during_a_send_reports_it_as_unsure(clock):
    async def scenario():
        wire = _HangingWire(clock, hangs=1)
        outbox = Outbox(wire, merge_window_s=0, clock=clock)
        delivery = outbox.say("r1", "一")
        await clock.settle()
        await outbox.close(timeout_s=0)
        assert delivery.done() and isinstance(delivery.error, ActionFailed)
        assert "cancelled while sending" in str(delivery.error)

    run(scenario)


def test_the_limit_holds_across_a_restart_through_the_send_log(tmp_path, make_wire):
    """A bot in a crash loop must not send a fresh burst each time it starts."""
    sent_log = tmp_path / "data" / "outbox-sent.json"
    start = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)

    async def session(at: datetime, count: int) -> list[float]:
        clock = ManualClock(start=at)
        wire = make_wire(clock)
        outbox = Outbox(wire, per_minute=3, per_hour=5, merge_window_s=0, sent_log=sent_log, clock=clock)
        deliveries = [outbox.say("r1", f"{i}") for i in range(count)]
        await drain(clock, outbox, deliveries)
        return [
            (start + timedelta(seconds=(at - start).total_seconds() + s.at)).timestamp() for s in wire.sent
        ]

    first = asyncio.run(session(start, 3))
    second = asyncio.run(session(start + timedelta(seconds=10), 4))  # restarted ten seconds later
    times = sorted(first + second)
    assert most_in_any_window(times, 60) <= 3
    assert most_in_any_window(times, 3600) <= 5
    assert times[3] - times[0] >= 60  # the restarted bot waited for the window of the first


def test_an_unreadable_send_log_is_ignored_with_a_warning(tmp_path, wire, caplog):
    sent_log = tmp_path / "outbox-sent.json"
    sent_log.write_text("{broken", encoding="utf-8")
    with caplog.at_level("WARNING", logger="bot.puppet.outbox"):
        outbox = Outbox(wire, sent_log=sent_log)
    assert outbox.limits["per_minute"] == 6
    assert "unreadable send log" in caplog.text


def test_a_port_that_shows_a_chat_hears_when_the_limit_holds_replies_back(clock, wire):
    heard: list[tuple[int, float]] = []
    wire.outbox_throttled = lambda pending, wait_s: heard.append((pending, wait_s))

    async def scenario():
        outbox = Outbox(wire, per_minute=2, merge_window_s=0, clock=clock)
        deliveries = [outbox.say("r1", f"{i}") for i in range(5)]
        await drain(clock, outbox, deliveries)

    run(scenario)
    assert heard[0] == (3, 58.0)
    assert len(heard) == 2  # once a minute, not once a message


class _ClockThatFailsOnce(ManualClock):
    """A wall clock that breaks once (a bad tz database, say)."""

    fail_next = False

    def now(self):
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("clock broke")
        return super().now()


def test_an_unexpected_error_fails_one_message_and_the_queue_goes_on(make_wire):
    clock = _ClockThatFailsOnce()
    wire = make_wire(clock)

    async def scenario():
        outbox = Outbox(wire, merge_window_s=0, clock=clock)
        broken = outbox.say("r1", "一")
        clock.fail_next = True
        await clock.run_until(broken.done)
        after = outbox.say("r1", "二")
        await drain(clock, outbox, [after])
        assert isinstance(broken.error, ActionFailed) and "clock broke" in str(broken.error)
        assert after.sent

    run(scenario)
