"""The engine is pure: importing it pulls in no chat client, database or scheduler."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

FIXTURE = Path(__file__).parent / "fixtures" / "rules.yaml"

FORBIDDEN = (
    "wechaty",
    "wechaty_puppet",
    "wechaty_puppet_service",
    "sqlalchemy",
    "alembic",
    "apscheduler",
    "grpc",
    "psycopg",
)


def test_engine_imports_no_chat_client_database_or_scheduler():
    code = (
        "import sys\n"
        "import bot.engine, bot.engine.engine, bot.engine.loader, bot.engine.flood, bot.engine.pinyin\n"
        "import bot.engine.normalize, bot.engine.checks, bot.engine.model\n"
        "from bot.engine import Engine, load_rules\n"
        f"Engine(load_rules({str(FIXTURE)!r})).evaluate_text('加微信')\n"
        "print(' '.join(sorted(m.split('.')[0] for m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = set(out.split())
    assert not loaded & set(FORBIDDEN), sorted(loaded & set(FORBIDDEN))
