"""A running bot over the fake puppet service, as the gRPC scenario tests drive it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from bot.app import App
from bot.store import Store
from tests.puppet.fake_service import FakePuppetService


@dataclass
class Live:
    service: FakePuppetService
    app: App
    store: Store

    def sent_to(self, conversation: str) -> list[str]:
        return [s.text for s in self.service.sent if s.conversation_id == conversation]

    async def until(self, what: Callable[[], object], timeout: float = 8.0) -> None:
        """Poll until ``what()`` is true (the bot works in the background)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while not what():
            if loop.time() > end:
                raise AssertionError(
                    f"timed out; the bot sent {self.service.sent!r}, kicked {self.service.kicks!r}"
                )
            await asyncio.sleep(0.02)

    async def quiet(self, s: float = 0.3) -> None:
        await asyncio.sleep(s)
        await self.app.idle(5)
