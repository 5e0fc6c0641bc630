"""The ``qunguard`` command line.

Each group of subcommands lives in its own module with a ``register(sub)``
function; heavy imports stay inside the handlers so ``qunguard --help`` is
quick. Handlers return an exit code; a :class:`bot.errors.QunguardError`
becomes one line on stderr and exit 1, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from bot.errors import QunguardError

COMMAND_MODULES = (
    "bot.cli.rules_cmds",  # check, try
    "bot.cli.replay_cmd",  # replay
    "bot.cli.store_cmds",  # db, violations, cases, case, export, purge
    "bot.cli.run_cmd",  # run
    "bot.cli.report_cmds",  # report, digest
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qunguard", description="微信群管理机器人 / WeChat group moderation bot"
    )
    parser.add_argument(
        "--config", help="config file (default: $QUNGUARD_CONFIG or ./config.yaml if present)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except QunguardError as exc:
        print(f"qunguard: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
