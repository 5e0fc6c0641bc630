"""The checks a change must pass before it is committed, run as tests so CI runs them too:
ruff's lint and format rules over the code and the tests, and mypy over ``bot/``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_ruff_finds_nothing_to_fix() -> None:
    lint = run("ruff", "check", "bot", "tests")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = run("ruff", "format", "--check", "bot", "tests")
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_mypy_finds_no_type_errors_in_bot() -> None:
    typed = run("mypy")  # files and options: [tool.mypy] in pyproject.toml
    assert typed.returncode == 0, typed.stdout + typed.stderr
