"""The outbox: every message the bot sends passes one rate limit here.

Bursts of bot messages get personal WeChat accounts banned, so the outbox
wraps a :class:`~bot.puppet.port.ChatPort` and queues ``say``,
``say_private`` and ``announce``:

* one sliding-window limit, per minute and per hour, plus a small gap between
  any two messages, holds for every message it sends;
* a throttled message waits; it is never dropped;
* warnings to one member that wait in the queue together (the same room with
  the same @mentions, or the same private chat) go out as one message;
* messages to one conversation leave in the order they were queued (a merged
  warning leaves at the place of the first one it joined);
* ``urgent`` messages (to admins, say) go before ordinary ones of other
  conversations;
* a failed or hanging send is retried a bounded number of times, then
  reported;
* with a send log, the limit also holds across a restart.

Each call returns a :class:`Delivery` at once. Await it for the message id
(it raises :class:`~bot.errors.ActionFailed` or
:class:`~bot.errors.NotAFriend` when the message could not be sent), or
``await delivery.wait()``, which never raises, to record the case whatever
happened. Kicks and reads pass straight through; kicks are only spaced out.

Time comes from an injectable :class:`Clock`, so tests run on
:class:`ManualClock` instead of waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import json
import logging
import os
import time
from collections import deque
from collections.abc import Awaitable, Callable, Generator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Protocol

from bot.config import OutboxConfig
from bot.errors import ActionFailed, ConfigError, NotAFriend, NotPermitted
from bot.events import RoomInfo
from bot.puppet.port import ChatPort

log = logging.getLogger(__name__)

MINUTE = 60.0
HOUR = 3600.0


# --- time -------------------------------------------------------------------


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""

    def now(self) -> datetime:
        """Wall-clock time (timezone-aware), for receipts."""

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ManualClock:
    """A clock that moves only when told: ``await clock.advance(60)`` wakes
    every sleeper due in that minute, in time order, and lets the event loop
    run after each. For tests of anything that takes a :class:`Clock`."""

    def __init__(self, start: datetime | None = None) -> None:
        self._t = 0.0
        self._start = start or datetime(2026, 11, 20, 1, 0, tzinfo=timezone.utc)
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def monotonic(self) -> float:
        return self._t

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._t)

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._timers, (self._t + seconds, next(self._seq), fut))
        await fut

    def next_deadline(self) -> float | None:
        """When the earliest pending sleeper wakes, or ``None``."""
        while self._timers and self._timers[0][2].done():
            heapq.heappop(self._timers)
        return self._timers[0][0] if self._timers else None

    async def settle(self, rounds: int = 20) -> None:
        """Let every task that can run without time passing run."""
        for _ in range(rounds):
            await asyncio.sleep(0)

    async def advance(self, seconds: float) -> None:
        target = self._t + seconds
        await self.settle()
        while (deadline := self.next_deadline()) is not None and deadline <= target:
            _, _, fut = heapq.heappop(self._timers)
            self._t = max(self._t, deadline)
            fut.set_result(None)
            await self.settle()
        self._t = target
        await self.settle()

    async def run_until(self, condition: Callable[[], bool], limit_s: float = 30 * 24 * HOUR) -> None:
        """Jump from timer to timer until ``condition()`` holds; raise
        ``TimeoutError`` if it does not within ``limit_s`` of fake time."""
        end = self._t + limit_s
        await self.settle()
        while not condition():
            deadline = self.next_deadline()
            if deadline is None or deadline > end:
                raise TimeoutError(f"condition not met by t={self._t:.1f}s (next timer: {deadline})")
            await self.advance(deadline - self._t)


# --- what callers get back --------------------------------------------------


class Delivery:
    """The fate of one queued message.

    ``await delivery`` returns the message id once sent (``""`` for an
    announcement) and raises the send error if it was given up on;
    ``await delivery.wait()`` waits the same way but never raises.
    """

    def __init__(self, kind: str, target: str, text: str, queued_at: datetime) -> None:
        self.kind = kind
        """``say``, ``say_private`` or ``announce``."""
        self.target = target
        """The room id (``say``, ``announce``) or contact id (``say_private``)."""
        self.text = text
        self.queued_at = queued_at
        self.sent_at: datetime | None = None
        self.message_id = ""
        self.attempts = 0
        self.merged = 1
        """How many queued messages went out together in this one."""
        self.error: ActionFailed | None = None
        self._done = asyncio.Event()
        self._callbacks: list[Callable[[Delivery], None]] = []

    @property
    def sent(self) -> bool:
        return self.sent_at is not None

    def done(self) -> bool:
        return self._done.is_set()

    def add_done_callback(self, fn: Callable[[Delivery], None]) -> None:
        """Call ``fn(self)`` once the message is sent or given up on."""
        if self.done():
            fn(self)
        else:
            self._callbacks.append(fn)

    async def wait(self) -> Delivery:
        await self._done.wait()
        return self

    def __await__(self) -> Generator[Any, None, str]:
        return self._result().__await__()

    async def _result(self) -> str:
        await self._done.wait()
        if self.error is not None:
            raise self.error
        return self.message_id

    def _finish(
        self,
        *,
        message_id: str = "",
        sent_at: datetime | None = None,
        error: ActionFailed | None = None,
        attempts: int = 0,
        merged: int = 1,
    ) -> None:
        if self.done():
            return
        self.message_id, self.sent_at, self.error = message_id, sent_at, error
        self.attempts, self.merged = attempts, merged
        self._done.set()
        for fn in self._callbacks:
            try:
                fn(self)
            except Exception:
                log.exception("outbox: a delivery callback failed")
        self._callbacks.clear()

    def __repr__(self) -> str:
        state = "sent" if self.sent else ("failed" if self.error else "queued")
        return f"<Delivery {self.kind} {self.target} {state}>"


# --- the queue --------------------------------------------------------------


@dataclass
class _Item:
    seq: int
    kind: str
    target: str
    mention_ids: tuple[str, ...]
    parts: list[str]
    deliveries: list[Delivery]
    merge_key: tuple[str, ...] | None
    urgent: bool
    ready_at: float
    attempts: int = 0
    sealed: bool = False
    """Once tried, an item takes no more merges: part of it may have gone out."""

    @property
    def conversation(self) -> tuple[str, str]:
        return ("private" if self.kind == "say_private" else "room", self.target)

    @property
    def text(self) -> str:
        """The merged text: one line each, or a blank line between parts that
        span several lines, so each warning still reads as one."""
        multi_line = any("\n" in p for p in self.parts)
        return ("\n\n" if multi_line else "\n").join(self.parts)


@dataclass
class _RateWindow:
    per_minute: int
    per_hour: int
    min_interval_s: float
    sent: deque[float] = field(default_factory=deque)

    def next_allowed(self, now: float) -> float:
        at = now
        if self.sent:
            at = max(at, self.sent[-1] + self.min_interval_s)
        if len(self.sent) >= self.per_minute:
            at = max(at, self.sent[-self.per_minute] + MINUTE)
        if len(self.sent) >= self.per_hour:
            at = max(at, self.sent[-self.per_hour] + HOUR)
        return at

    def record(self, at: float) -> None:
        self.sent.append(at)
        while len(self.sent) > max(self.per_hour, self.per_minute):
            self.sent.popleft()


class Outbox:
    """A rate-limited, merging, retrying send queue in front of a ChatPort.

    ``per_minute``/``per_hour``: at most this many messages in any 60 s /
    3600 s window. ``min_interval_s``: at least this long between two
    messages. ``merge_window_s``: how long a mergeable message waits for
    more of its kind before it may leave. ``max_attempts``: tries per
    message; ``retry_delays_s`` the waits between them; ``send_timeout_s``:
    a send that takes longer counts as failed. ``kick_interval_s``: at least
    this long between two kicks. ``sent_log``: a small JSON file of the last
    hour's send times, so the limit also holds across a restart (a bot in a
    crash loop must not send a fresh burst each time it starts).
    ``on_throttle(pending, wait_s)`` hears, at most once a minute, that
    messages wait 10 s or more for the limit; by default the port's
    ``outbox_throttled`` if it has one (the local puppet shows it to the
    operator, who would otherwise think the bot had stopped answering).
    """

    MAX_MERGED_CHARS = 1500

    def __init__(
        self,
        port: ChatPort,
        *,
        per_minute: int = OutboxConfig.per_minute,
        per_hour: int = OutboxConfig.per_hour,
        merge_window_s: float = OutboxConfig.merge_window_s,
        min_interval_s: float = OutboxConfig.min_interval_s,
        max_attempts: int = OutboxConfig.max_attempts,
        retry_delays_s: Sequence[float] = (10.0, 30.0, 120.0),
        kick_interval_s: float = OutboxConfig.kick_interval_s,
        send_timeout_s: float = 60.0,
        sent_log: str | os.PathLike[str] | None = None,
        on_throttle: Callable[[int, float], None] | None = None,
        clock: Clock | None = None,
    ) -> None:
        if per_minute < 1:
            raise ConfigError("must be at least 1", key="outbox.per_minute")
        if per_hour < 1:
            raise ConfigError("must be at least 1", key="outbox.per_hour")
        if merge_window_s < 0:
            raise ConfigError("must not be negative", key="outbox.merge_window_s")
        if max_attempts < 1:
            raise ConfigError("must be at least 1", key="outbox.max_attempts")
        if min_interval_s < 0:
            raise ConfigError("must not be negative", key="outbox.min_interval_s")
        if kick_interval_s < 0:
            raise ConfigError("must not be negative", key="outbox.kick_interval_s")
        self.port = port
        self.clock: Clock = clock or SystemClock()
        self.merge_window_s = merge_window_s
        self.max_attempts = max_attempts
        self.retry_delays_s = tuple(retry_delays_s) or (0.0,)
        self.kick_interval_s = kick_interval_s
        self.send_timeout_s = send_timeout_s
        self._window = _RateWindow(per_minute, per_hour, min_interval_s)
        self._sent_log = Path(sent_log) if sent_log is not None else None
        self.on_throttle = on_throttle or getattr(port, "outbox_throttled", None)
        self._load_sent_log()
        self._queues: dict[tuple[str, str], deque[_Item]] = {}
        self._seq = itertools.count()
        self._wakeup = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._closing = False
        self._in_flight: _Item | None = None
        self._kick_lock = asyncio.Lock()
        self._last_kick: float | None = None
        self._backlog_logged_at: float | None = None
        self.sent_count = 0
        self.failed_count = 0
        self.merged_count = 0

    @classmethod
    def from_config(
        cls,
        port: ChatPort,
        config: OutboxConfig,
        *,
        clock: Clock | None = None,
        sent_log: str | os.PathLike[str] | None = None,
    ) -> Outbox:
        """``sent_log``: e.g. ``Path(config.data_dir) / "outbox-sent.json"``."""
        return cls(
            port,
            per_minute=config.per_minute,
            per_hour=config.per_hour,
            merge_window_s=config.merge_window_s,
            min_interval_s=config.min_interval_s,
            max_attempts=config.max_attempts,
            kick_interval_s=config.kick_interval_s,
            sent_log=sent_log,
            clock=clock,
        )

    # --- the ChatPort calls that send messages: queued -----------------------

    def say(
        self,
        room_id: str,
        text: str,
        mention_ids: Sequence[str] = (),
        *,
        urgent: bool = False,
        merge: bool = True,
    ) -> Delivery:
        """Queue ``text`` for a room. Messages @-mentioning the same members of
        one room merge while they wait (unless ``merge=False``); a message
        without mentions never merges."""
        mentions = tuple(dict.fromkeys(mention_ids))
        key = ("room", room_id, *sorted(mentions)) if merge and mentions else None
        return self._enqueue("say", room_id, text, mentions, key, urgent)

    def say_private(
        self, contact_id: str, text: str, *, urgent: bool = False, merge: bool = True
    ) -> Delivery:
        """Queue a one-to-one message; its delivery fails with ``NotAFriend``
        when the bot cannot chat with ``contact_id``."""
        key = ("private", contact_id) if merge else None
        return self._enqueue("say_private", contact_id, text, (), key, urgent)

    def announce(self, room_id: str, text: str, *, urgent: bool = False) -> Delivery:
        """Queue a group notice (群公告); notices never merge."""
        return self._enqueue("announce", room_id, text, (), None, urgent)

    # --- passed straight through -------------------------------------------

    @property
    def bot_id(self) -> str:
        return self.port.bot_id

    async def kick(self, room_id: str, contact_id: str) -> None:
        """Kick at once unless another kick was less than ``kick_interval_s``
        ago, then after that gap. Errors (``NotPermitted``) propagate."""
        async with self._kick_lock:
            if self._last_kick is not None:
                wait = self._last_kick + self.kick_interval_s - self.clock.monotonic()
                if wait > 0:
                    await self.clock.sleep(wait)
            try:
                await self.port.kick(room_id, contact_id)
            finally:
                self._last_kick = self.clock.monotonic()

    async def room_info(self, room_id: str) -> RoomInfo:
        return await self.port.room_info(room_id)

    async def rooms(self) -> list[RoomInfo]:
        return await self.port.rooms()

    async def is_friend(self, contact_id: str) -> bool:
        return await self.port.is_friend(contact_id)

    async def contact_name(self, contact_id: str, room_id: str = "") -> str:
        return await self.port.contact_name(contact_id, room_id)

    async def accept_invitation(self, invitation_id: str) -> None:
        await self.port.accept_invitation(invitation_id)

    # --- state and lifecycle -----------------------------------------------

    @property
    def limits(self) -> dict[str, float]:
        return {
            "per_minute": self._window.per_minute,
            "per_hour": self._window.per_hour,
            "min_interval_s": self._window.min_interval_s,
        }

    @property
    def pending(self) -> int:
        """Messages queued or being sent (merged ones count once)."""
        return sum(len(q) for q in self._queues.values()) + (1 if self._in_flight else 0)

    def start(self) -> None:
        """Start the sender task (done on the first message anyway)."""
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._run(), name="qunguard-outbox")

    async def close(self, timeout_s: float | None = 0.0) -> None:
        """Stop taking messages; send what is queued for up to ``timeout_s``
        (``None``: until all is sent), then fail what is left with
        ``ActionFailed`` so every caller learns the outcome."""
        self._closing = True
        self._wakeup.set()
        if self._worker is not None and not self._worker.done():
            if timeout_s is None:
                await self._worker
            else:
                sleeper = asyncio.ensure_future(self.clock.sleep(timeout_s))
                await asyncio.wait({self._worker, sleeper}, return_when=asyncio.FIRST_COMPLETED)
                sleeper.cancel()
                self._worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._worker
        left = [item for q in self._queues.values() for item in q]
        if self._in_flight is not None:
            left.append(self._in_flight)
        self._queues.clear()
        self._in_flight = None
        for item in left:
            self._fail(
                item, ActionFailed("机器人停止时消息仍未发出 (outbox closed before the message was sent)")
            )

    async def __aenter__(self) -> Outbox:
        self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close(timeout_s=None if exc_info[0] is None else 0.0)

    # --- internals ---------------------------------------------------------

    def _enqueue(
        self,
        kind: str,
        target: str,
        text: str,
        mentions: tuple[str, ...],
        key: tuple[str, ...] | None,
        urgent: bool,
    ) -> Delivery:
        delivery = Delivery(kind, target, text, self.clock.now())
        if self._closing:
            delivery._finish(error=ActionFailed("outbox is closed"))
            return delivery
        conv = ("private" if kind == "say_private" else "room", target)
        queue = self._queues.setdefault(conv, deque())
        if key is not None:
            for item in queue:
                if item.merge_key == key and not item.sealed and self._fits(item, text):
                    if text not in item.parts:
                        item.parts.append(text)
                    item.deliveries.append(delivery)
                    if urgent:  # an urgent part does not wait for more merges
                        item.urgent = True
                        item.ready_at = min(item.ready_at, self.clock.monotonic())
                    self.merged_count += 1
                    self._wakeup.set()
                    return delivery
        now = self.clock.monotonic()
        ready_at = now if (key is None or urgent) else now + self.merge_window_s
        queue.append(
            _Item(next(self._seq), kind, target, mentions, [text], [delivery], key, urgent, ready_at)
        )
        self.start()
        self._wakeup.set()
        return delivery

    def _fits(self, item: _Item, text: str) -> bool:
        return sum(len(p) + 2 for p in item.parts) + len(text) <= self.MAX_MERGED_CHARS

    def _pick(self, now: float) -> tuple[_Item | None, float | None]:
        """The next item to send now, or when the earliest becomes ready."""
        best: _Item | None = None
        best_rank: tuple[bool, int] | None = None
        earliest: float | None = None
        for queue in self._queues.values():
            if not queue:
                continue
            head = queue[0]
            if head.ready_at > now:
                earliest = head.ready_at if earliest is None else min(earliest, head.ready_at)
                continue
            # A conversation holding an urgent message competes with that
            # message's place in line; its earlier messages still go first.
            first_urgent = next((i.seq for i in queue if i.urgent), None)
            rank = (False, first_urgent) if first_urgent is not None else (True, head.seq)
            if best_rank is None or rank < best_rank:
                best, best_rank = head, rank
        return best, earliest

    async def _wait(self, until: float | None) -> None:
        """Sleep until ``until`` (``None``: indefinitely) or a new message."""
        if self._wakeup.is_set():
            self._wakeup.clear()
            return
        waiter = asyncio.ensure_future(self._wakeup.wait())
        tasks: set[asyncio.Future[object]] = {waiter}  # type: ignore[arg-type]
        if until is not None:
            tasks.add(asyncio.ensure_future(self.clock.sleep(max(0.0, until - self.clock.monotonic()))))
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in tasks:
                t.cancel()
        self._wakeup.clear()

    async def _run(self) -> None:
        while True:
            now = self.clock.monotonic()
            item, earliest = self._pick(now)
            if item is None:
                if self._closing and not any(self._queues.values()):
                    return
                await self._wait(earliest)
                continue
            allowed = self._window.next_allowed(now)
            if allowed > now:
                self._report_backlog(now, allowed)
                await self._wait(allowed)
                continue
            queue = self._queues[item.conversation]
            queue.popleft()
            if not queue:
                del self._queues[item.conversation]
            item.sealed = True
            self._in_flight = item
            try:
                await self._attempt(item)
            except asyncio.CancelledError:
                self._fail(item, ActionFailed("停止时消息正在发送，不确定是否发出 (cancelled while sending)"))
                raise
            except Exception as exc:  # a bug here must not leave every later message hanging
                log.exception("outbox: unexpected error sending %s to %s", item.kind, item.target)
                self._fail(item, ActionFailed(f"outbox error: {exc}"))
            finally:
                self._in_flight = None

    async def _attempt(self, item: _Item) -> None:
        item.attempts += 1
        self._window.record(self.clock.monotonic())
        self._save_sent_log()
        try:
            message_id = await self._send_within_timeout(item)
        except asyncio.CancelledError:
            raise
        except (NotAFriend, NotPermitted) as exc:
            self._fail(item, exc)
            return
        except Exception as exc:
            error = exc if isinstance(exc, ActionFailed) else ActionFailed(f"send failed: {exc}")
            if error is not exc:
                error.__cause__ = exc
            if item.attempts >= self.max_attempts:
                log.warning(
                    "outbox: %s to %s failed %d times, giving up: %s",
                    item.kind,
                    item.target,
                    item.attempts,
                    exc,
                )
                self._fail(item, error)
                return
            delay = self.retry_delays_s[min(item.attempts - 1, len(self.retry_delays_s) - 1)]
            log.info(
                "outbox: %s to %s failed (%s); retry %d in %.0f s",
                item.kind,
                item.target,
                exc,
                item.attempts + 1,
                delay,
            )
            item.ready_at = self.clock.monotonic() + delay
            self._queues.setdefault(item.conversation, deque()).appendleft(item)
            return
        self.sent_count += 1
        sent_at = self.clock.now()
        for d in item.deliveries:
            d._finish(
                message_id=message_id, sent_at=sent_at, attempts=item.attempts, merged=len(item.deliveries)
            )

    async def _send_within_timeout(self, item: _Item) -> str:
        """One send; a send that hangs longer than ``send_timeout_s`` counts
        as failed, so one stuck call cannot hold every message back."""
        call: Awaitable[object]
        if item.kind == "say":
            call = self.port.say(item.target, item.text, item.mention_ids)
        elif item.kind == "say_private":
            call = self.port.say_private(item.target, item.text)
        else:
            call = self.port.announce(item.target, item.text)
        send = asyncio.ensure_future(call)
        timer = asyncio.ensure_future(self.clock.sleep(self.send_timeout_s))
        try:
            await asyncio.wait({send, timer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
            if not send.done():
                send.cancel()
        if send.cancelled():
            raise ActionFailed(f"send timed out after {self.send_timeout_s:.0f} s")
        return str(send.result() or "")

    def _load_sent_log(self) -> None:
        if self._sent_log is None:
            return
        try:
            stamps = json.loads(self._sent_log.read_text(encoding="utf-8"))
            if not isinstance(stamps, list):
                raise ValueError("expected a list of times")
            wall, mono = self.clock.now().timestamp(), self.clock.monotonic()
            for stamp in sorted(float(t) for t in stamps):
                if 0 <= wall - stamp < HOUR:
                    self._window.record(mono - (wall - stamp))
        except FileNotFoundError:
            return
        except (OSError, ValueError, TypeError) as exc:
            log.warning("outbox: ignoring unreadable send log %s: %s", self._sent_log, exc)

    def _save_sent_log(self) -> None:
        if self._sent_log is None:
            return
        wall, mono = self.clock.now().timestamp(), self.clock.monotonic()
        stamps = [round(wall - (mono - t), 3) for t in self._window.sent if mono - t < HOUR]
        try:
            self._sent_log.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._sent_log.with_name(self._sent_log.name + ".tmp")
            tmp.write_text(json.dumps(stamps), encoding="utf-8")
            os.replace(tmp, self._sent_log)
        except OSError as exc:
            log.warning("outbox: cannot write send log %s: %s", self._sent_log, exc)

    def _report_backlog(self, now: float, allowed: float) -> None:
        """Tell the log, at most once a minute, when the limit holds messages back."""
        if allowed - now < 10 or (
            self._backlog_logged_at is not None and now - self._backlog_logged_at < MINUTE
        ):
            return
        self._backlog_logged_at = now
        log.warning(
            "outbox: %d messages waiting for the send limit (%d/min, %d/h); next in %.0f s",
            self.pending,
            self._window.per_minute,
            self._window.per_hour,
            allowed - now,
        )
        if self.on_throttle is not None:
            try:
                self.on_throttle(self.pending, allowed - now)
            except Exception:
                log.exception("outbox: the throttle callback failed")

    def _fail(self, item: _Item, error: ActionFailed) -> None:
        self.failed_count += 1
        for d in item.deliveries:
            d._finish(error=error, attempts=item.attempts, merged=len(item.deliveries))
