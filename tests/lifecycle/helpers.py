"""Lifecycle scenarios run on the app's scenario harness: a fake WeChat wire, the real
App, outbox, rules, scheduler tasks and a real SQLite file, on a fake clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from bot.config import Config, LifecycleConfig, RoomSelector, ScheduleConfig
from tests.app import harness
from tests.app.harness import ADMIN, BOT, CHEN, LI, OWNER, ROOM, TOPIC, Bot, make_config
from tests.app.wire import T0, FakeWeChat

NEW = "wxid_new_wang"
NEW2 = "wxid_new_zhao"
SHANGHAI = timezone(timedelta(hours=8))

__all__ = [
    "ADMIN",
    "BOT",
    "CHEN",
    "LI",
    "NEW",
    "NEW2",
    "OWNER",
    "ROOM",
    "T0",
    "TOPIC",
    "config",
    "local",
    "play",
    "room",
]


def config(*, schedule: dict | None = None, **lifecycle: object) -> Config:
    base = make_config(rooms=(RoomSelector(id=ROOM),))
    sched = {"quiet_hours": "", **(schedule or {})}
    # welcomed at once unless a test merges them; no welcome unless a test asks for one
    lc = {"welcome_merge_s": 0.0, "welcome": "", **lifecycle}
    return replace(base, lifecycle=LifecycleConfig(**lc), schedule=ScheduleConfig(**sched))  # type: ignore[arg-type]


def room(wechat: FakeWeChat, *, bot_is_owner: bool = True) -> None:
    """The gold group: the bot owns it, OWNER is an admin, ADMIN a global admin; all friends."""
    wechat.add_room(
        ROOM,
        TOPIC,
        BOT if bot_is_owner else OWNER,
        [OWNER, ADMIN, LI, CHEN],
        admins=[OWNER] if bot_is_owner else [],
    )
    wechat.friends.update({ADMIN, OWNER, LI, CHEN, NEW, NEW2})
    wechat.names.update({NEW: "小王", NEW2: "小赵"})


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A time in Shanghai on day ``day`` of November 2026, as UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI).astimezone(timezone.utc)


def play(
    story: Callable[[Bot], Awaitable[None]],
    config: Config | None = None,
    setup: Any = None,
    *,
    db: Path,
    **kw: Any,
) -> Bot:
    """The app harness's ``play``, with what the bot said at login (its self-introduction in a
    configured room) forgotten, so a story sees only what its own events caused."""

    async def fresh(bot: Bot) -> None:
        bot.wechat.said.clear()
        await story(bot)

    return harness.play(fresh, config=config, setup=setup, db=db, **kw)
