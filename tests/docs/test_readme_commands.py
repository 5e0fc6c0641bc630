"""README.md documents every `qunguard` subcommand, and keeps its two set-up commands."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from bot.cli import build_parser

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def _subcommands() -> list[str]:
    for action in build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return sorted(action.choices)
    return []


@pytest.mark.parametrize("command", _subcommands())
def test_every_subcommand_is_in_the_readme(command):
    assert re.search(rf"qunguard {command}\b", README), f"README.md does not mention `qunguard {command}`"


def test_readme_keeps_the_run_and_the_test_commands():
    assert ".venv/bin/pip install -e . && .venv/bin/qunguard run" in README
    assert ".venv/bin/pip install -e '.[test]' && .venv/bin/python -m pytest" in README


def test_ci_runs_the_readme_test_command():
    ci = (Path(__file__).resolve().parents[2] / ".ci" / "run").read_text(encoding="utf-8")
    assert ".venv/bin/python -m pytest" in ci
