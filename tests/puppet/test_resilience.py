"""The link to the puppet service breaks in the ways it does in production;
the adapter keeps the bot hearing and acting, and handles nothing twice."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import pytest

from bot import events as ev
from tests.puppet.fake_service import FakePuppetService
from tests.puppet.session import arun, running

BOT, ZHANG = "wxid_bot", "wxid_zhangsan"
ROOM = "20000000001@chatroom"


def wechat(**kw: object) -> FakePuppetService:
    srv = FakePuppetService(bot_id=BOT, **kw)  # type: ignore[arg-type]
    srv.add_contact(ZHANG, "张三")
    srv.add_room(ROOM, "测试群", [BOT, ZHANG], owner=BOT)
    return srv


def texts(rec: object) -> list[str]:
    return [m.text for m in rec.of(ev.Message)]  # type: ignore[attr-defined]


def test_an_error_event_in_the_1x_shape_does_not_make_the_bot_deaf(tmp_path: Path) -> None:
    async def main() -> None:
        async with wechat() as srv, running(srv.endpoint, tmp_path) as (puppet, rec):
            srv.error("watchdog reset: puppet timeout")
            srv.say(ZHANG, "after the error", room=ROOM)
            await rec.message("after the error")
            [err] = rec.of(ev.PuppetError)
            assert err.detail == "watchdog reset: puppet timeout"
            await puppet.say(ROOM, "still acting")
            assert srv.sent[-1].text == "still acting"

    arun(main())


def test_server_restart_reconnects_fast_and_handles_nothing_twice(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.puppet.wechaty")

    async def main() -> None:
        # the restarted service re-delivers its recent messages, as queueing providers do
        async with wechat(redeliver_on_connect=10) as srv, running(srv.endpoint, tmp_path) as (puppet, rec):
            srv.say(ZHANG, "before 1", room=ROOM)
            srv.say(ZHANG, "before 2", room=ROOM)
            await rec.message("before 2")
            loop = asyncio.get_running_loop()
            down_at = loop.time()
            restart = asyncio.create_task(srv.restart(down_s=1.0))
            await asyncio.sleep(0.3)
            srv.say(ZHANG, "said while the service was down", room=ROOM)
            await restart
            await rec.wait_for(lambda r: len(r.of(ev.LoggedIn)) == 2, timeout=10)
            srv.say(ZHANG, "after", room=ROOM)
            await rec.message("after", timeout=10)
            assert loop.time() - down_at < 10
            assert texts(rec) == ["before 1", "before 2", "said while the service was down", "after"]
            await puppet.say(ROOM, "moderating again")
            assert srv.sent[-1].text == "moderating again"

    arun(main())
    assert any("reconnecting to" in r.getMessage() for r in caplog.records)


def test_another_client_taking_the_session_is_logged_and_undone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.puppet.wechaty")

    async def main() -> None:
        async with wechat() as srv, running(srv.endpoint, tmp_path) as (_puppet, rec):
            srv.take_session()  # the stream ends without an error
            await rec.wait_for(lambda r: len(r.of(ev.LoggedIn)) == 2, timeout=10)
            srv.say(ZHANG, "heard again", room=ROOM)
            await rec.message("heard again")

    arun(main())
    assert any("ended without an error" in r.getMessage() for r in caplog.records)


def test_a_server_that_stops_answering_is_dropped_and_reconnected(tmp_path: Path) -> None:
    async def main() -> None:
        async with (
            wechat() as srv,
            running(srv.endpoint, tmp_path, ping_interval_s=0.2, rpc_timeout_s=0.5) as (puppet, rec),
        ):
            srv.ding_hangs = True
            await asyncio.sleep(1.0)
            srv.ding_hangs = False
            await rec.wait_for(lambda r: len(r.of(ev.LoggedIn)) >= 2, timeout=10)
            assert puppet.connections >= 2

    arun(main())


def test_a_server_that_answers_ding_with_an_error_is_alive(tmp_path: Path) -> None:
    async def main() -> None:
        async with (
            wechat() as srv,
            running(srv.endpoint, tmp_path, ping_interval_s=0.1, rpc_timeout_s=0.5) as (puppet, rec),
        ):
            srv.ding_fails = True
            await asyncio.sleep(0.8)
            srv.say(ZHANG, "same session", room=ROOM)
            await rec.message("same session")
            assert puppet.connections == 1 and srv.calls.count("Ding") >= 3

    arun(main())


def test_actions_while_disconnected_raise_puppet_unavailable(tmp_path: Path) -> None:
    from bot.errors import PuppetUnavailable

    async def main() -> None:
        async with wechat() as srv, running(srv.endpoint, tmp_path) as (puppet, _rec):
            await srv.close()
            await asyncio.sleep(0.3)
            with pytest.raises(PuppetUnavailable):
                await puppet.say(ROOM, "nobody hears this")

    arun(main())


def test_python_wechaty_state_stays_local_and_under_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)

    async def main() -> None:
        async with wechat() as srv, running(srv.endpoint, tmp_path / "data") as (puppet, rec):
            srv.say(ZHANG, "hello", room=ROOM)
            await rec.message("hello")
            manager = puppet._bot._plugin_manager
            assert manager.endpoint == ("127.0.0.1", puppet.web_port) and puppet.web_port != 5000
            assert Path(os.environ["CACHE_DIR"]) == tmp_path / "data" / "wechaty"
            assert str(tmp_path / "data" / "wechaty" / "job.db") in str(
                manager.scheduler_options.job_store.engine.url
            )

    arun(main())
    assert not (work / ".wechaty").exists()
