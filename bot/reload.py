"""Hot reload of rules.yaml: on the admins' ``#重载规则`` and when the file changes.

The rules themselves are held by :class:`bot.rules_holder.RulesHolder` (the
app's): it swaps in a new rule set only if the file loads, keeps the last good
one otherwise, and calls its listeners with the error. The file watch is the
``reload_rules`` job (every few seconds, on the files' mtime and size). This
module adds the admins' side:

* ``#重载规则`` (``#reload``): reload now and answer the admin who asked,
  with the rule count, or with the error's ``file:line``;
* a broken file found by the watch reaches the admins through the app's
  listener (``【规则文件有误】rules.yaml:12: rules[3].when: ...``), once per
  change of the file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.commands import texts as t
from bot.commands.base import audit

if TYPE_CHECKING:
    from bot.app import App
    from bot.app.commands import CommandContext


def rule_count(app: App) -> int:
    return len(getattr(app.rules.ruleset, "rules", ()) or ())


def told_by_listener(app: App) -> list[str]:
    """Who the app's reload listener tells about a broken file (global admins,
    else the admins of the first moderated room)."""
    if app.config.bot.admins:
        return list(app.config.bot.admins)
    rooms = app.rooms.moderated_ids()
    return app.rooms.admins_to_notify(rooms[0]) if rooms else []


async def reload_now(ctx: CommandContext) -> None:
    app = ctx.app
    error = await app.rules.reload()
    audit(ctx, "reload", ok=error is None, error=str(error) if error else None)
    if error is None:
        await ctx.reply_private(t.fill(t.RELOADED, count=rule_count(app)))
    elif ctx.sender_id not in told_by_listener(app):
        await ctx.reply_private(t.fill(t.RELOAD_FAILED, error=str(error)))
