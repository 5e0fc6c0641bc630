"""Feature modules that plug into every :class:`~bot.app.App`.

Each module named in :data:`PLUGIN_MODULES` is imported when an App is built
(so its ``@COMMANDS.command`` registrations run) and, if it defines
``install(app)``, that is called with the new App to add hooks, a review gate
or scheduled jobs. A later feature adds one line here; the core stays as is.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app.core import App

log = logging.getLogger(__name__)

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
