"""Hot reload: a broken rules.yaml written while the bot runs keeps the old rules; the admins get file:line."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot import jobs
from tests.app.harness import RULES, Bot, play
from tests.commands.helpers import ADMIN, LI, MOD, WU, config, last_private, two_rooms


def broken(good: str) -> tuple[str, int]:
    """The good file with an admin's typo in one severity; and that line's number."""
    lines = good.splitlines(keepends=True)
    n = next(i for i, line in enumerate(lines) if "severity: moderate" in line)
    lines[n] = lines[n].replace("moderate", "very-bad")
    return "".join(lines), n + 1


EXTRA_RULE = """  - name: ad-qq
    category: ad
    severity: minor
    description: 禁止发布QQ群号
    message: 请勿在群内发布QQ群号。
    when: {keywords: [加QQ群]}
"""


def _own_copy(bot: Bot, tmp_path: Path) -> Path:
    path = tmp_path / "rules" / "rules.yaml"
    path.parent.mkdir()
    shutil.copyfile(RULES, path)
    bot.app.rules.path = path
    return path


def test_a_broken_file_written_while_running_keeps_the_old_rules_and_tells_the_admins_the_line(
    tmp_path: Path,
) -> None:
    async def story(bot: Bot) -> None:
        path = _own_copy(bot, tmp_path)
        assert await bot.app.rules.reload() is None
        text, line = broken(path.read_text(encoding="utf-8"))
        path.write_text(text, encoding="utf-8")
        await jobs.reload_rules(bot.app, bot.clock())  # the file watch
        await bot.settle()
        told = last_private(bot, ADMIN)
        assert (
            told.startswith("【规则文件有误】")
            and f"{path}:{line}" in told
            and "仍按上一版有效规则执行" in told
        )

        await bot.says(LI, "有需要的加微信 abc123")
        assert "请尽快撤回" in last_private(bot, LI), "still moderating with the last good rules"

        await jobs.reload_rules(bot.app, bot.clock())
        await bot.settle()
        assert sum("规则文件有误" in s.text for s in bot.wechat.private_to(ADMIN)) == 1, (
            "told once per change"
        )

    play(story, config=config(), setup=two_rooms, db=tmp_path)


def test_the_reload_command_answers_with_the_rule_count_or_the_error(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        path = _own_copy(bot, tmp_path)
        good = path.read_text(encoding="utf-8")
        text, line = broken(good)
        path.write_text(text, encoding="utf-8")
        await bot.says(MOD, "#重载规则")
        assert f"{path}:{line}" in last_private(bot, MOD), "the admin who asked gets file:line"

        path.write_text(good + EXTRA_RULE, encoding="utf-8")
        await bot.says(MOD, "#reload")
        assert last_private(bot, MOD) == "规则已重新加载，共 5 条规则。"
        await bot.says(WU, "欢迎加QQ群 123456")
        assert "QQ群号" in last_private(bot, WU), "the new rule is in force"
        entries = [a for a in bot.store.audit_log() if a.command == "reload"]
        assert [e.detail["ok"] for e in reversed(entries)] == [False, True]

    play(story, config=config(), setup=two_rooms, db=tmp_path)
