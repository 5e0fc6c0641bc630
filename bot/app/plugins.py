"""Feature modules that plug into every :class:`~bot.app.App`.

Each module named in :data:`PLUGIN_MODULES` is imported when an App is built
(so its ``@COMMANDS.command`` registrations run) and, if it defines
``install(app)``, that is called with the new App to add hooks, a review gate
or scheduled jobs. A later feature adds one line here; the core stays as is.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from bot.app.core import App

log = logging.getLogger(__name__)

T = TypeVar("T")

PLUGIN_MODULES: list[str] = [
    "bot.commands",  # issue 5: admin commands, appeals, reports, human review (bot.review)
    "bot.lifecycle",  # issue 6: welcome, deadlines, reports, notices, 精华
]


def install_plugins(app: App) -> None:
    for name in PLUGIN_MODULES:
        module = importlib.import_module(name)
        install = getattr(module, "install", None)
        if install is not None:
            install(app)


def plugin_state(app: App, name: str, make: Callable[[], T]) -> T:
    """The state a feature module keeps on ``app`` under ``name``, made on first use:
    one per App, so two Apps in one process (a restart, tests) never share it."""
    state = getattr(app, name, None)
    if state is None:
        state = make()
        setattr(app, name, state)
    return state
