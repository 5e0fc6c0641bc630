"""Running the real adapter against a server, for the puppet tests."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from bot import events as ev
from bot.puppet.wechaty import WechatyPuppet

T = TypeVar("T")
E = TypeVar("E")


def arun(coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
    """Run one async scenario; a hang fails the test instead of blocking CI."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


class Recorder:
    """The event handler: keeps every event, lets a test wait for one."""

    def __init__(self) -> None:
        self.events: list[ev.Event] = []
        self._changed = asyncio.Event()

    async def __call__(self, event: ev.Event) -> None:
        self.events.append(event)
        self._changed.set()

    def of(self, kind: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, kind)]

    async def wait_for(self, predicate: Callable[[Recorder], Any], timeout: float = 5.0) -> Any:
        async def poll() -> Any:
            while not (result := predicate(self)):
                self._changed.clear()
                await self._changed.wait()
            return result

        try:
            return await asyncio.wait_for(poll(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"timed out after {timeout}s; events so far: {self.events!r}") from None

    async def message(self, text: str, timeout: float = 5.0) -> ev.Message:
        return await self.wait_for(
            lambda r: next((m for m in r.of(ev.Message) if m.text == text), None), timeout
        )


@asynccontextmanager
async def running(
    endpoint: str,
    data_dir: Path,
    token: str = "test-token",
    handler: Callable[[ev.Event], Coroutine[Any, Any, None]] | None = None,
    **options: Any,
) -> AsyncIterator[tuple[WechatyPuppet, Recorder]]:
    """The adapter connected to ``endpoint`` and logged in."""
    options.setdefault("reconnect_min_s", 0.2)
    options.setdefault("reconnect_max_s", 2.0)
    options.setdefault("rpc_timeout_s", 5.0)
    puppet = WechatyPuppet(endpoint, token, data_dir, **options)
    recorder = Recorder()

    async def handle(event: ev.Event) -> None:
        await recorder(event)
        if handler is not None:
            await handler(event)

    task = asyncio.create_task(puppet.run(handle))
    try:
        await recorder.wait_for(lambda r: r.of(ev.LoggedIn), timeout=15)
        yield puppet, recorder
    finally:
        await puppet.stop()
        await asyncio.wait_for(task, 10)


def qr_poster(text: str, size: int = 420, noise: float = 40.0) -> bytes:
    """A PNG "poster": a QR code on a noisy background, well over 20 KB."""
    import qrcode
    from PIL import Image

    code = qrcode.make(text).convert("RGB")
    canvas = Image.effect_noise((size, size), noise).convert("RGB")
    canvas.paste(code.resize((size // 2 + 40, size // 2 + 40)), (size // 4 - 20, size // 4 - 20))
    buf = io.BytesIO()
    canvas.save(buf, "PNG")
    return buf.getvalue()


def small_qr(text: str) -> bytes:
    import qrcode

    buf = io.BytesIO()
    qrcode.make(text, box_size=4).save(buf)
    return buf.getvalue()
