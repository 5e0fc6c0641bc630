"""``qunguard run``: the live bot.

With a puppet service configured (``puppet.endpoint`` or
``WECHATY_PUPPET_SERVICE_ENDPOINT``) it connects through the Wechaty adapter;
without one it starts the embedded local group in the terminal, so a newcomer
sees moderation work without a WeChat account. Either way: the config (or the
embedded defaults), the store (schema brought up to date), the rules (a broken
file is an error naming file:line), the scheduler, then events until Ctrl-C or
SIGTERM, and a clean shutdown that sends what is queued and closes the store.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

log = logging.getLogger("qunguard")

DRAIN_S = 10.0
"""How long shutdown waits for queued messages to go out."""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "run",
        help="run the bot (Wechaty puppet service if configured, else a local group in the terminal)",
        description="Run the bot. With puppet.endpoint (or WECHATY_PUPPET_SERVICE_ENDPOINT) it connects to "
        "WeChat through the puppet service; otherwise it starts a simulated group in this terminal.",
    )
    p.add_argument("--db", help="database URL (default: the config's database, sqlite:///qunguard.db)")
    p.add_argument("--rules", help="rules file (default: the config's rules, or the bundled rules)")
    p.add_argument(
        "--local", action="store_true", help="use the local terminal group even if a puppet is configured"
    )
    p.add_argument(
        "--dry-run", action="store_true", help="act in no room: only tell the admins what would happen"
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from bot.config import load_config
    from bot.rules_holder import RulesHolder

    config = load_config(getattr(args, "config", None))
    if args.db:
        config = replace(config, database=args.db)
    if args.rules:
        config = replace(config, rules=str(Path(args.rules).resolve()))
    if args.dry_run:
        config = replace(config, moderation=replace(config.moderation, dry_run=True))
    local = args.local or not config.puppet_endpoint
    _setup_logging(config, local)
    rules = RulesHolder.load(config.rules_path)  # RulesError: file:line, exit 1
    try:
        return asyncio.run(serve(config, rules, local=local))
    except KeyboardInterrupt:
        return 130


async def serve(
    config: Any,
    rules: Any,
    *,
    local: bool,
    stdin: Any = None,
    stdout: Any = None,
    stop: asyncio.Event | None = None,
) -> int:
    """Run the bot until the puppet ends (local: /quit or end of input), a signal, or ``stop`` is set."""
    from bot.app import App
    from bot.config import RoomSelector
    from bot.errors import QunguardError
    from bot.jobs import schedule_standard_jobs
    from bot.puppet.outbox import Outbox
    from bot.scheduler import Scheduler, job_table_for
    from bot.store import open_store

    if local:
        from bot.puppet.local import ROOM_ID, LocalPuppet

        puppet: Any = LocalPuppet(stdin=stdin, stdout=stdout, bot_name=config.bot.name)
        config = replace(config, bot=replace(config.bot, rooms=(*config.bot.rooms, RoomSelector(id=ROOM_ID))))
        # A terminal group: the limit still holds, but a newcomer should not wait for merges.
        outbox_cfg = replace(
            config.outbox,
            merge_window_s=min(config.outbox.merge_window_s, 0.3),
            min_interval_s=min(config.outbox.min_interval_s, 0.3),
        )
    else:
        from bot.puppet.wechaty import WechatyPuppet

        puppet = WechatyPuppet.from_config(config)
        outbox_cfg = config.outbox
    store = open_store(
        config.database,
        journal_dir=Path(config.data_dir) / "journal",
        bot_id=puppet.bot_id if local else "",
        tz=config.schedule.timezone,
    )
    # The send times of the last hour survive a restart, so a restart loop cannot burst past the limit.
    outbox = Outbox.from_config(puppet, outbox_cfg, sent_log=Path(config.data_dir) / "outbox-sent.json")
    app = App(config, puppet, store, rules, outbox=outbox)
    table = job_table_for("" if local else config.puppet_endpoint, "" if local else config.puppet_token)
    scheduler = Scheduler(config.database, timezone_=app.tz, table=table)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        scheduler.start(app)
        schedule_standard_jobs(app, scheduler)
        log.info(
            "qunguard running: %s, database %s, rules %s",
            "local terminal group" if local else f"puppet service {config.puppet_endpoint}",
            _safe_url(config.database),
            rules.path,
        )
        if not local and not config.bot.admins:
            log.warning(
                "bot.admins is empty: %s; rooms are moderated only when bot.rooms selects them or a room's "
                "owner or admin types #启用",
                "group invitations are declined"
                if config.bot.accept_invites_from == "admins"
                else "invitations are accepted from anyone",
            )
        runner = asyncio.create_task(app.run(), name="qunguard-app")
        stopper = asyncio.create_task(stop.wait(), name="qunguard-signal")
        await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if stop.is_set():
            log.info("stopping (signal)")
        stopper.cancel()
        await app.drain(DRAIN_S)  # still connected: queued warnings go out first
        await puppet.stop()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(runner, 10)
        failure = runner.exception() if runner.done() and not runner.cancelled() else None
        if failure is not None:
            log.error("the puppet stopped: %s", failure)
        if isinstance(failure, QunguardError):
            raise failure  # one line on stderr, exit 1
        if failure is not None:
            raise QunguardError(f"the puppet stopped: {type(failure).__name__}: {failure}") from failure
    finally:
        scheduler.shutdown()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
        store.close()
    return 0


def _setup_logging(config: Any, local: bool) -> None:
    level = getattr(logging, str(config.log_level).upper(), logging.INFO)
    root = logging.getLogger()
    if root.handlers:  # embedded (tests): leave the host's logging alone
        return
    root.setLevel(level)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    if local:
        # The terminal shows the group; the log goes to a file, warnings to the screen too.
        path = Path(config.data_dir) / "qunguard.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        fh = logging.FileHandler(path, encoding="utf-8")
        fh.setFormatter(fmt)
        root.addHandler(fh)
        err = logging.StreamHandler(sys.stderr)
        err.setLevel(logging.ERROR)
        err.setFormatter(fmt)
        root.addHandler(err)
    else:
        h = logging.StreamHandler(sys.stderr)
        h.setFormatter(fmt)
        root.addHandler(h)
    for noisy in ("apscheduler", "grpclib", "wechaty", "wechaty_puppet", "wechaty_puppet_service"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def _safe_url(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<database>"
