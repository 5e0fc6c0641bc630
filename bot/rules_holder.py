"""The rules in force: the last good rule set, its engine and its ladder.

At start a broken rules file is an error naming ``file:line`` (the bot does not
start on rules nobody can read). While running, :meth:`RulesHolder.reload`
(the reload command, or :meth:`RulesHolder.reload_if_changed` from the
scheduler's file watch) swaps in a new rule set only if it loads; otherwise the
last good rules stay in force and the listeners (the app, which tells the
admins) receive the error.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot.errors import RulesError
from bot.ladder import Ladder
from bot.verdicts import CATEGORY_ZH

log = logging.getLogger(__name__)

ReloadListener = Callable[[Exception | None], Awaitable[None]]


def _load(path: Path, check_examples: bool = False) -> Any:
    from bot.engine import load_rules

    return load_rules(path, check_examples=check_examples)


def _engine(ruleset: Any, previous: Any) -> Any:
    with_rules = getattr(previous, "with_rules", None)
    if with_rules is not None:
        return with_rules(ruleset)  # keeps the flood counters across a reload
    from bot.engine import Engine

    return Engine(ruleset)


class RulesHolder:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.ruleset: Any = None
        self.engine: Any = None
        self.ladder: Ladder = Ladder()
        self.last_error: Exception | None = None
        self.listeners: list[ReloadListener] = []
        self._stamp: tuple[tuple[str, int, int], ...] = ()

    @classmethod
    def load(cls, path: str | Path) -> RulesHolder:
        """Load ``path`` or raise :class:`RulesError` (file:line: key: what is wrong)."""
        holder = cls(path)
        holder._swap()
        return holder

    @classmethod
    def of(
        cls, engine: Any, ladder: Ladder | None = None, ruleset: Any = None, path: str | Path = ""
    ) -> RulesHolder:
        """Hold rules built elsewhere (tests, embedding); ``reload`` needs ``path``."""
        holder = cls(path)
        holder.engine, holder.ruleset = engine, ruleset
        holder.ladder = ladder or Ladder.from_rules(ruleset)
        return holder

    def _swap(self, check_examples: bool = False) -> None:
        stamp = self._fingerprint()
        ruleset = _load(self.path, check_examples)
        engine = _engine(ruleset, self.engine)
        self.ruleset, self.engine = ruleset, engine
        self.ladder = Ladder.from_rules(ruleset)
        self._stamp = stamp
        self.last_error = None

    async def reload(self) -> Exception | None:
        """Load the file again; keep the last good rules if it is broken. Returns the error, if any.

        An edit that breaks a rule's own ``examples:`` is refused like a broken file, as
        ``qunguard check`` refuses it."""
        try:
            self._swap(check_examples=True)
        except RulesError as exc:
            error: Exception | None = exc
        except Exception as exc:  # a loader bug must not take the running bot down
            log.exception("rules reload failed")
            error = RulesError(f"cannot load: {exc}", str(self.path))
        else:
            error = None
            log.info("rules reloaded from %s", self.path)
        if error is not None:
            self._stamp = self._fingerprint()  # report a broken file once, not on every check
            self.last_error = error
            log.error("rules not reloaded, the last good rules stay in force: %s", error)
        for listener in list(self.listeners):
            try:
                await listener(error)
            except Exception:
                log.exception("rules reload listener failed")
        return error

    def changed(self) -> bool:
        return self._fingerprint() != self._stamp

    async def reload_if_changed(self) -> Exception | None:
        if not self.changed():
            return None
        return await self.reload()

    def _fingerprint(self) -> tuple[tuple[str, int, int], ...]:
        """The rules file and the lexicons it reads: path, mtime, size."""
        files = [self.path]
        named = getattr(self.ruleset, "sources", None) or getattr(self.ruleset, "files", None)
        if named:
            files += [Path(p) for p in named if Path(p) != self.path]
        else:
            lexicons = self.path.parent / "lexicons"
            if lexicons.is_dir():
                files += sorted(p for p in lexicons.rglob("*") if p.is_file())
        out = []
        for p in files:
            try:
                st = p.stat()
            except OSError:
                continue
            out.append((str(p), st.st_mtime_ns, st.st_size))
        return tuple(out)

    def summary(self) -> str:
        """The rules in a few lines, for the self-introduction and ``#群规``."""
        for attr in ("summary", "summary_zh"):
            value = getattr(self.ruleset, attr, None)
            if callable(value):
                value = value()
            if isinstance(value, str) and value.strip():
                return value.strip()
        by_category: dict[str, list[str]] = {}
        for rule in getattr(self.ruleset, "rules", ()) or ():
            if not getattr(rule, "enabled", True):
                continue
            texts = by_category.setdefault(getattr(rule, "category", "") or "其他", [])
            text = (getattr(rule, "description", "") or "").strip()
            if text and text not in texts:
                texts.append(text)
        lines = []
        for category, texts in list(by_category.items())[:8]:
            label = CATEGORY_ZH.get(category, category)
            lines.append(f"· {label}：{'；'.join(texts[:2])}" if texts else f"· 禁止{label}")
        if lines:
            return "\n".join(lines)
        return "· 禁止广告、刷屏\n· 禁止政治、赌博、色情、诈骗、谣言等话题\n· 禁止人身攻击、泄露他人隐私"
