"""Wechaty's own puppet-service server (``js/server.js``, npm
``wechaty-puppet-service`` + ``wechaty-puppet-mock``) as a child process on
127.0.0.1, driven over its stdio."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

JS_DIR = Path(__file__).resolve().parent / "js"
TOKEN = "qunguard-test-token"


def node_or_skip() -> str:
    """The node binary, after making sure ``js/node_modules`` is installed.
    Without node/npm the test is skipped, except in CI (``CI=true``)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        message = "Node.js and npm are needed for the tests against Wechaty's own puppet-service server"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    if not (JS_DIR / "node_modules" / "wechaty-puppet-service").is_dir():
        command = [npm, "ci", "--no-audit", "--no-fund"]
        done = subprocess.run(command, cwd=JS_DIR, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            pytest.fail(f"{' '.join(command)} failed in {JS_DIR}:\n{done.stderr[-3000:]}")
    return node


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class WechatyServer:
    """One ``node js/server.js`` process; ``restart()`` replaces it by a new
    one on the same port (a provider's server restarting: state is lost)."""

    def __init__(self, node: str, log_dir: Path, port: int | None = None) -> None:
        self.node = node
        self.port = port or free_port()
        self.log_dir = log_dir
        self.did: list[dict[str, Any]] = []
        self._replies: queue.Queue[dict[str, Any]] = queue.Queue()
        self._ids = 0
        self._proc: subprocess.Popen[str] | None = None
        self._starts = 0

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        self._starts += 1
        env = {**os.environ, "QG_GRPC_PORT": str(self.port), "QG_TOKEN": TOKEN, "WECHATY_LOG": "warn"}
        stderr = open(self.log_dir / f"wechaty-server-{self._starts}.log", "w")  # noqa: SIM115 (lives with the process)
        self._proc = subprocess.Popen(
            [self.node, "server.js"],
            cwd=JS_DIR,
            env=env,
            text=True,
            bufsize=1,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
        stderr.close()
        ready: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, args=(self._proc, ready), daemon=True).start()
        try:
            ready.get(timeout=timeout)
        except queue.Empty:
            self.stop()
            raise RuntimeError(f"the Wechaty server did not start; see {self.log_dir}") from None

    def _read(self, proc: subprocess.Popen[str], ready: queue.Queue[dict[str, Any]]) -> None:
        assert proc.stdout is not None
        with proc.stdout:
            for line in proc.stdout:
                self._take(line, ready)

    def _take(self, line: str, ready: queue.Queue[dict[str, Any]]) -> None:
        try:
            msg = json.loads(line)
        except ValueError:
            return
        kind = msg.get("qg") if isinstance(msg, dict) else None
        if kind == "ready":
            ready.put(msg)
        elif kind == "reply":
            self._replies.put(msg)
        elif kind == "did":
            self.did.append(msg)

    def call(self, cmd: str, timeout: float = 10.0, **args: Any) -> dict[str, Any]:
        assert self._proc is not None and self._proc.stdin is not None
        self._ids += 1
        self._proc.stdin.write(json.dumps({"id": self._ids, "cmd": cmd, **args}, ensure_ascii=False) + "\n")
        self._proc.stdin.flush()
        deadline = time.monotonic() + timeout
        while True:
            reply = self._replies.get(timeout=max(0.01, deadline - time.monotonic()))
            if reply.get("id") == self._ids:
                if not reply.get("ok"):
                    raise RuntimeError(f"{cmd}: {reply.get('error')}")
                return reply

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()

    def restart(self) -> None:
        self.stop()
        self.start()
