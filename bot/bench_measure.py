"""The benchmark's measurements, one function each.

Per-message work (engine, floor, naive, load) is timed in CPU time of this
process, so other work on a shared machine disturbs the figures less: the
engine message by message (thread CPU time, less the cost of reading the
clock), which gives its latencies too. Replay runs the ``qunguard replay``
command itself in this process and counts the CPU time of its loop. Memory
is measured in a fresh interpreter holding only the rules and the flood state.
"""

from __future__ import annotations

import gc
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ahocorasick_rs

from bot.engine import Engine, load_rules
from bot.engine.normalize import fold_chars, normalize
from bot.events import Message, Sender

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
"""Directory holding the ``bot`` package (for the child processes' import path)."""


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else 0.0


def percentile(sorted_values: Sequence[int], q: float) -> int:
    """The value below which a share ``q`` of the sorted values lie (nearest rank)."""
    if not sorted_values:
        return 0
    k = min(len(sorted_values) - 1, max(0, round(q * len(sorted_values)) - 1))
    return sorted_values[k]


# -- load --------------------------------------------------------------------


def measure_load(rules_file: Path, reps: int) -> tuple[float, list[Engine]]:
    """Median CPU seconds to load the rules file and compile an engine, and the
    engines built (untouched: the engine measurement judges with them)."""
    times = []
    engines = []
    for _ in range(reps):
        gc.collect()
        t0 = time.process_time()
        engine = Engine(load_rules(rules_file))
        times.append(time.process_time() - t0)
        engines.append(engine)
    return median(times), engines


# -- engine ------------------------------------------------------------------


@dataclass
class EngineFigures:
    msgs_per_s: float
    mb_per_s: float
    p50_us: float
    p99_us: float
    max_us: float
    flagged_share: float
    """Share of the messages on which at least one rule fired."""
    runs: list[float]

    def as_json(self) -> dict[str, Any]:
        return {
            "msgs_per_s": round(self.msgs_per_s),
            "mb_per_s": round(self.mb_per_s, 2),
            "p50_us": round(self.p50_us, 1),
            "p99_us": round(self.p99_us, 1),
            "max_us": round(self.max_us, 1),
            "flagged_share": round(self.flagged_share, 4),
            "runs_msgs_per_s": [round(r) for r in self.runs],
        }


def text_bytes(messages: Sequence[tuple[Message, Sender]]) -> int:
    return sum(len(m.text.encode("utf-8")) for m, _ in messages)


def timer_overhead_ns(clock: Any = time.thread_time_ns, samples: int = 2000) -> int:
    """What reading ``clock`` twice costs by itself (median), to take off each timing."""
    deltas = []
    for _ in range(samples):
        a = clock()
        deltas.append(clock() - a)
    deltas.sort()
    return deltas[len(deltas) // 2]


def measure_engine(
    engines: list[Engine],
    messages: Sequence[tuple[Message, Sender]],
    warm_up: Sequence[tuple[Message, Sender]] = (),
    after_each: Callable[[], None] | None = None,
) -> EngineFigures:
    """The full engine on every message, one repetition per engine given (each
    new: flood state empty, no text seen; taken off the list once used, so
    only one is kept alive).

    Each message is timed in CPU time of this thread (less the cost of reading
    the clock), so a busy machine that takes the CPU away mid-message does not
    show up as a slow message; throughput is messages over the sum of those
    times. A new engine per repetition keeps the repetitions alike: none gets
    RE2's lazily built DFA states for texts an earlier one already saw. The
    ``warm_up`` messages (other texts) go through first, with ``track=False``."""
    n = len(messages)
    size = text_bytes(messages)
    rates, p50s, p99s, maxes = [], [], [], []
    flagged = 0
    clock = time.thread_time_ns
    overhead = timer_overhead_ns(clock)
    while engines:
        engine = engines.pop(0)
        for m, s in warm_up:
            engine.evaluate(m, s, track=False)
        evaluate = engine.evaluate
        gc.collect()
        lat = [0] * n
        flagged = 0
        for i, (m, s) in enumerate(messages):
            a = clock()
            if evaluate(m, s):
                flagged += 1
            lat[i] = clock() - a
        lat = [max(0, x - overhead) for x in lat]
        rates.append(n / (sum(lat) / 1e9))
        lat.sort()
        p50s.append(percentile(lat, 0.50) / 1000)
        p99s.append(percentile(lat, 0.99) / 1000)
        maxes.append(lat[-1] / 1000)
        del engine
        if after_each is not None:
            after_each()
    rate = median(rates)
    return EngineFigures(
        msgs_per_s=rate,
        mb_per_s=rate * size / n / 1e6,
        p50_us=median(p50s),
        p99_us=median(p99s),
        max_us=median(maxes),
        flagged_share=flagged / n if n else 0.0,
        runs=rates,
    )


def profile_engine(engine: Engine, messages: Sequence[tuple[Message, Sender]], top: int = 30) -> str:
    """cProfile (on CPU time) of one engine pass over ``messages``: the functions
    with the most cumulative time, then the most own time."""
    import cProfile
    import io
    import pstats

    engine.flood.clear()
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for m, s in messages:
        engine.evaluate(m, s)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


# -- stages ------------------------------------------------------------------------

STAGES = ("fold", "normalize", "words", "patterns", "pinyin", "links", "flood")


def measure_stages(
    engine: Engine,
    messages: Sequence[tuple[Message, Sender]],
    warm_up: Sequence[tuple[Message, Sender]] = (),
) -> dict[str, float]:
    """Microseconds per message of each stage the engine runs on a text, each stage called
    directly (no context, no caching, no rule judging), on a fresh engine. What the stages add
    up to is the least the engine could cost with no glue at all (:func:`measure_whole` times
    the whole :meth:`Engine.evaluate` and the floor beside it).

    Stages: the character fold; the rest of :func:`normalize`; the word automaton with its
    boundary checks; the regex index on the text (its literal automaton, RE2 set and the
    patterns it must run); the pinyin layer (when the text has two Latin letters in a row);
    finding links (when the text has a dot); the flood tracker."""
    from bot.engine import checks as C
    from bot.engine.engine import _LATIN_PAIR
    from bot.engine.normalize import normalize_folded

    for m, s in warm_up:
        engine.evaluate(m, s, track=False)
    patterns = engine.regexes.sets.get(("text", False))
    scan, pinyin = engine.index.scan, engine.pinyin
    clock = time.thread_time_ns
    spent = dict.fromkeys(STAGES, 0)
    gc.collect()
    for m, s in messages:
        text = C.content_of(m)
        view = engine.room_view(m.room_id, m.room_topic or "")
        plan = engine._flood_plan(view, m.type, s.is_admin)
        t0 = clock()
        folded = fold_chars(text)
        t1 = clock()
        norm = normalize_folded(folded)
        t2 = clock()
        hits = scan(norm)
        t3 = clock()
        if patterns is not None:
            patterns.match(norm.encode("utf-8", "surrogatepass"))
        t4 = clock()
        if pinyin.active and _LATIN_PAIR.search(norm) is not None:
            pinyin.scan(C.blank_links(norm), hits)
        t5 = clock()
        if "." in text or "．" in text or "://" in text:
            C.find_links(folded)
        t6 = clock()
        engine.flood.observe(m, None, plan, engine._horizon, text=norm)
        t7 = clock()
        for stage, took in zip(
            STAGES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5, t7 - t6), strict=True
        ):
            spent[stage] += took
    n = len(messages) or 1
    out = {stage: spent[stage] / n / 1000 for stage in STAGES}
    out["stages"] = sum(out[stage] for stage in STAGES)
    return out


def measure_whole(
    engine: Engine,
    messages: Sequence[tuple[Message, Sender]],
    floor_scan: Callable[[str], Any],
    warm_up: Sequence[tuple[Message, Sender]] = (),
) -> dict[str, float]:
    """Microseconds per message of :meth:`Engine.evaluate` (a fresh engine) and of the floor."""
    for m, s in warm_up:
        engine.evaluate(m, s, track=False)
    evaluate, clock = engine.evaluate, time.thread_time_ns
    gc.collect()
    t0 = clock()
    for m, s in messages:
        evaluate(m, s)
    t1 = clock()
    for m, _ in messages:
        floor_scan(fold_chars(m.text))
    t2 = clock()
    n = len(messages) or 1
    return {"evaluate": (t1 - t0) / n / 1000, "floor": (t2 - t1) / n / 1000}


# -- floor and naive -----------------------------------------------------------


class Baselines:
    """The floor and the naive loop, one repetition at a time, so that the
    benchmark can run them right after each engine repetition: a ratio of
    figures taken moments apart survives a machine whose load comes and goes.

    ``floor``: the engine's character fold (the fused table, or str.lower where
    that gives the same) plus one raw Aho-Corasick scan of the lexicon per
    message, what any matcher of these words must at least do;
    also the same scan after the engine's whole :func:`normalize` (the table
    and its regular-expression steps), for reading the engine's figure.
    ``naive``: the hobby-bot check, ``any(w in text for w in words)``, on raw
    text of a sample."""

    def __init__(self, lexicon: Sequence[str], texts: Sequence[str], sample: Sequence[str]) -> None:
        self.scan = ahocorasick_rs.AhoCorasick(
            sorted({normalize(w) for w in lexicon})
        ).find_matches_as_indexes
        self.words = list(lexicon)
        self.texts = texts
        self.sample = sample
        self.floor_runs: list[float] = []
        self.full_runs: list[float] = []
        self.naive_runs: list[float] = []
        self.hits = 0

    def run_once(self) -> None:
        scan, fold, texts = self.scan, fold_chars, self.texts  # the engine's own step 1
        gc.collect()
        hits = 0
        t0 = time.process_time()
        for t in texts:
            if scan(fold(t)):
                hits += 1
        self.floor_runs.append(len(texts) / (time.process_time() - t0))
        self.hits = hits
        t0 = time.process_time()
        for t in texts:
            scan(normalize(t))
        self.full_runs.append(len(texts) / (time.process_time() - t0))
        words = self.words
        t0 = time.process_time()
        for text in self.sample:
            any(w in text for w in words)
        self.naive_runs.append(len(self.sample) / (time.process_time() - t0))

    def floor(self) -> dict[str, Any]:
        return {
            "msgs_per_s": round(median(self.floor_runs)),
            "hit_share": round(self.hits / len(self.texts), 4) if self.texts else 0.0,
            "runs_msgs_per_s": [round(r) for r in self.floor_runs],
            "with_engine_normalize_msgs_per_s": round(median(self.full_runs)),
        }

    def naive(self) -> dict[str, Any]:
        return {
            "msgs_per_s": round(median(self.naive_runs), 1),
            "sample": len(self.sample),
            "runs_msgs_per_s": [round(r, 1) for r in self.naive_runs],
        }


def measure_floor(lexicon: Sequence[str], texts: Sequence[str], reps: int) -> dict[str, Any]:
    """:class:`Baselines`' floor on its own."""
    b = Baselines(lexicon, texts, ())
    for _ in range(reps):
        b.run_once()
    return b.floor()


# -- child processes -----------------------------------------------------------


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("QUNGUARD_CONFIG", None)
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(PACKAGE_ROOT) + (os.pathsep + path if path else "")
    return env


_REPLAY_SUMMARY = re.compile(r"qunguard replay: (\d+) lines in ([0-9.]+)s")


def _replay_cli(argv: list[str], workdir: Path) -> tuple[float, float, str]:
    """``qunguard replay …`` run in this process, in ``workdir`` (no config.yaml
    of the user's, the journal beside the database), output discarded:
    (CPU seconds, wall seconds, what it printed on stderr)."""
    import contextlib
    import io

    from bot.cli import main

    err = io.StringIO()
    here = os.getcwd()
    saved = os.environ.pop("QUNGUARD_CONFIG", None)
    gc.collect()
    try:
        os.chdir(workdir)
        with open(os.devnull, "w") as null, contextlib.redirect_stdout(null), contextlib.redirect_stderr(err):
            t0, c0 = time.perf_counter(), time.process_time()
            code = main(argv)
            cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    finally:
        os.chdir(here)
        if saved is not None:
            os.environ["QUNGUARD_CONFIG"] = saved
    if code != 0:
        raise RuntimeError(f"replay failed (exit {code}): {err.getvalue().strip()[-2000:]}")
    return cpu, wall, err.getvalue()


def measure_replay(rules_file: Path, transcript: Path, workdir: Path, reps: int) -> dict[str, Any]:
    """``qunguard replay --db sqlite:///… --json`` into a fresh SQLite file: the
    command itself (bot.cli), run in this process.

    ``events_per_s`` is events per CPU second of the replay loop (reading,
    judging, recording, printing, the final flush): the command's CPU time less
    that of the same command on an empty transcript (start-up: rules, schema).
    ``events_per_s_wall`` is what the command reports for its loop on the wall
    clock, which a busy machine slows down."""
    empty = workdir / "empty.jsonl"
    empty.write_text("", encoding="utf-8")

    def argv(db: Path, lines: Path) -> list[str]:
        return [
            "replay",
            "--db",
            f"sqlite:///{db}",
            "--rules",
            str(rules_file),
            "--json",
            "--no-progress",
            str(lines),
        ]

    import bot.cli.replay_cmd
    import bot.store.migrate  # noqa: F401 - imported once here, not counted as start-up below

    rates, wall_rates, setups = [], [], []
    events = 0
    for rep in range(reps):
        run_dir = workdir / f"replay-{rep}"
        (run_dir / "empty").mkdir(parents=True)
        setup, _, _ = _replay_cli(argv(run_dir / "empty" / "replay.db", empty), run_dir / "empty")
        cpu, wall, stderr = _replay_cli(argv(run_dir / "replay.db", transcript), run_dir)
        found = _REPLAY_SUMMARY.search(stderr)
        if found is not None:
            events, loop_wall = int(found.group(1)), float(found.group(2))
        else:  # no summary line: count the transcript's lines, time the whole command
            events, loop_wall = sum(1 for line in transcript.open(encoding="utf-8") if line.strip()), wall
        setups.append(setup)
        rates.append(events / max(cpu - setup, 1e-9))
        wall_rates.append(events / loop_wall if loop_wall > 0 else float("inf"))
    return {
        "events_per_s": round(median(rates)),
        "events_per_s_wall": round(median(wall_rates)),
        "setup_cpu_s": round(median(setups), 2),
        "events": events,
        "runs_events_per_s": [round(r) for r in rates],
    }


def start_rss(rules_file: Path) -> subprocess.Popen[str]:
    """Start the memory probe: a fresh process that loads the rules (with the big
    lexicon) and then holds flood state for every member of every room. It runs
    while this process does untimed work; :func:`finish_rss` reads its answer."""
    cmd = [sys.executable, "-m", "bot.bench", "--child-rss", str(rules_file)]
    return subprocess.Popen(cmd, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish_rss(proc: subprocess.Popen[str]) -> dict[str, Any]:
    """The memory probe's figures: its peak resident memory and what it held."""
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"memory probe failed (exit {proc.returncode}): {err.strip()[-2000:]}")
    return json.loads(out.strip().splitlines()[-1])


def measure_rss(rules_file: Path) -> dict[str, Any]:
    """:func:`start_rss` and :func:`finish_rss` in one."""
    return finish_rss(start_rss(rules_file))


def _rss_mb() -> float:
    """Peak resident set size of this process so far, in MB.

    ``VmHWM`` of /proc/self/status where there is one: ``ru_maxrss`` on Linux
    also counts the parent's memory copied into the child before it ran exec,
    so a child of a big benchmark process would report the parent's size."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return peak / 1024 / 1024 if sys.platform == "darwin" else peak / 1024


def _current_rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except OSError:
        return _rss_mb()


def rss_child(rules_file: Path) -> dict[str, Any]:
    """Runs in the child process of :func:`start_rss`."""
    from bot.bench_workload import member_messages

    base = _current_rss_mb()
    t0 = time.process_time()  # CPU: the probe runs beside other work
    rules = load_rules(rules_file)
    engine = Engine(rules)
    load_cold = time.process_time() - t0
    loaded = _current_rss_mb()
    members = 0
    for m, s in member_messages():
        engine.evaluate(m, s)
        members += 1
    gc.collect()
    return {
        "rss_mb": round(_rss_mb(), 1),
        "rss_start_mb": round(base, 1),
        "rss_rules_mb": round(loaded - base, 1),
        "rss_after_flood_mb": round(_current_rss_mb(), 1),
        "flood_members": members,
        "tracked_members": len(engine.flood),
        "load_cold_s": round(load_cold, 3),
    }
