"""Crash safety: ``qunguard replay --db`` killed with SIGKILL at random points
and restarted keeps every violation exactly once, and every case gets its
actions, exactly as one uninterrupted run does. And the database going away
in the middle of a replay loses and doubles nothing either."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.store.db import make_engine
from bot.store.models import Case, CaseAction, ViolationRow
from tests.store.pgserver import TcpProxy
from tests.store.transcripts import write_transcript

ROOT = Path(__file__).resolve().parents[2]


def replay(url: str, transcript: Path, cwd: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "replay", "--no-progress", "--json", "--db", url, str(transcript)],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def replay_to_the_end(url: str, transcript: Path, cwd: Path) -> None:
    p = replay(url, transcript, cwd)
    _, err = p.communicate(timeout=300)
    assert p.returncode == 0, err.decode()


def cases_in(url: str) -> int:
    path = make_url(url).database
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as conn:
            return conn.execute("SELECT count(*) FROM cases").fetchone()[0]
    except sqlite3.OperationalError:  # not there yet, or not yet migrated
        return 0


def summary(url: str) -> dict[tuple[str, str], tuple[tuple[str, ...], tuple[str, ...]]]:
    """(room, message) -> (rules, action kinds), read straight from the tables."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            cases = {
                r.id: (r.room_id, r.message_id)
                for r in conn.execute(select(Case.id, Case.room_id, Case.message_id))
            }
            rules: dict[int, list[str]] = {}
            per_key: Counter[tuple[str, str, str]] = Counter()
            for v in conn.execute(select(ViolationRow).order_by(ViolationRow.id)):
                rules.setdefault(v.case_id, []).append(v.rule)
                per_key[(v.room_id, v.message_id, v.rule)] += 1
            actions: dict[int, list[str]] = {}
            for a in conn.execute(select(CaseAction).order_by(CaseAction.case_id, CaseAction.position)):
                actions.setdefault(a.case_id, []).append(a.kind)
    finally:
        engine.dispose()
    assert all(n == 1 for n in per_key.values()), "a violation recorded twice"
    return {
        key: (tuple(sorted(rules.get(cid, []))), tuple(actions.get(cid, []))) for cid, key in cases.items()
    }


@pytest.fixture(scope="module")
def chat(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """10,000 events, and what one uninterrupted replay records from them."""
    folder = tmp_path_factory.mktemp("chat")
    transcript = write_transcript(folder / "chat.jsonl", 10_000)
    reference = f"sqlite:///{folder / 'reference.db'}"
    replay_to_the_end(reference, transcript, folder)
    expected = summary(reference)
    # most cases act; the rest of an incident already answered is recorded without actions
    assert len(expected) > 500 and sum(1 for _, kinds in expected.values() if kinds) > 100
    return transcript, expected


def test_replay_killed_with_sigkill_and_restarted_keeps_everything_once(chat, tmp_path):
    transcript, expected = chat
    url = f"sqlite:///{tmp_path / 'crashy.db'}"
    rng = random.Random(20261123)
    kills, recorded = 0, 0
    for _ in range(12):
        p = replay(url, transcript, tmp_path)
        # Kill it somewhere past where the last run got to: once it records new
        # cases, wait a random moment more (a slow start-up must not eat the test).
        # The moment is short, so a fast machine still gets six kills in before
        # the replay reaches its end.
        while p.poll() is None and cases_in(url) <= recorded:
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.15))
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            kills += 1
        p.communicate()
        progress = cases_in(url)
        assert progress >= recorded
        recorded = progress
        if kills >= 6:
            break
    assert kills >= 5 and 0 < recorded < len(expected)
    replay_to_the_end(url, transcript, tmp_path)
    assert summary(url) == expected


def test_postgresql_disappearing_mid_replay_loses_and_doubles_nothing(chat, pg_url, tmp_path):
    transcript, expected = chat
    u = make_url(pg_url)
    proxy = TcpProxy(u.host or "127.0.0.1", u.port or 5432)
    url = u.set(port=proxy.port).render_as_string(hide_password=False)
    try:
        p = replay(url, transcript, tmp_path)

        def outage() -> None:
            time.sleep(2.0)
            proxy.down()
            time.sleep(1.5)
            proxy.up()

        t = threading.Thread(target=outage)
        t.start()
        _, err = p.communicate(timeout=300)
        t.join()
        assert p.returncode == 0, err.decode()
        assert b"database unreachable" in err, "the outage happened during the replay"
        replay_to_the_end(url, transcript, tmp_path)  # a second replay adds nothing
    finally:
        proxy.down()
    assert summary(pg_url) == expected
