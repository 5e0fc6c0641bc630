"""``python -m bot.bench``: how fast qunguard judges chat, next to a bare scan.

Generates a seeded workload (:mod:`bot.bench_workload`: the bundled rules plus
a 50,000-word lexicon, chat in 100 rooms of 500 members, ~5% violations) and
measures, as medians of several runs (:mod:`bot.bench_measure`):

- ``engine``: the full engine (normalisation, every rule, flood state) per
  message: messages/s, MB/s, p50/p99 latency;
- ``floor``: the engine's character fold plus a raw Aho-Corasick scan of the
  same lexicon over the same messages: no rules, no objects;
- ``naive``: ``any(w in text for w in words)``, the hobby-bot loop, on a sample;
- ``replay_sqlite``: ``qunguard replay --db`` of a 20,000-event transcript
  into a fresh SQLite file, events per CPU second of its loop (and per second
  of the wall clock);
- ``load``: loading and compiling the rules with the lexicon;
- ``rss``: peak memory of a process holding those rules and the flood state of
  every member of every room.

It prints a table, or with ``--json`` one JSON object, and the ratios
``engine/floor`` and ``engine/naive``. Figures only: nothing is asserted, but
``--check`` exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TARGETS: dict[str, tuple[str, float]] = {
    # name: (comparison, bound)
    "engine/floor": (">=", 0.25),
    "engine/naive": (">=", 100),
    "p99_us": ("<=", 1000),
    "load_s": ("<=", 2.0),
    "rss_mb": ("<=", 300),
    "replay_sqlite": (">=", 3000),
}

WARM_UP = 300
"""Messages (other than the measured ones) an engine judges before it is timed."""
FULL = {"messages": 100_000, "replay_events": 20_000, "naive_sample": 1000, "reps": 5, "load_reps": 3}
QUICK = {"messages": 10_000, "replay_events": 20_000, "naive_sample": 150, "reps": 3, "load_reps": 3}


def bundled_rules() -> Path:
    return Path(__file__).resolve().parent.parent / "rules" / "rules.yaml"


def run(
    *,
    rules_path: Path,
    words: int,
    messages: int,
    replay_events: int,
    naive_sample: int,
    reps: int,
    load_reps: int,
    quick: bool,
    progress: Any = None,
) -> dict[str, Any]:
    """Generate the workload, measure everything, return the JSON object."""
    from bot.bench_measure import (
        Baselines,
        finish_rss,
        measure_engine,
        measure_load,
        measure_replay,
        median,
        start_rss,
        text_bytes,
    )
    from bot.bench_workload import (
        BENCH_RULE,
        MEMBERS_PER_ROOM,
        ROOMS,
        bench_rules,
        lexicon_words,
        make_workload,
    )

    phases: dict[str, float] = {}
    since, phase = time.perf_counter(), ""

    def say(what: str) -> None:
        nonlocal since, phase
        now = time.perf_counter()
        if phase:
            phases[phase] = round(now - since, 1)
        since, phase = now, what.split(":")[0]
        if progress is not None and what:
            progress(what)

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="qunguard-bench-") as tmp:
        workdir = Path(tmp)
        say(f"workload: {words:,} lexicon words, {max(messages, replay_events):,} chat lines")
        lexicon = lexicon_words(words)
        rules_file = bench_rules(rules_path, lexicon, workdir)
        memory_probe = start_rss(rules_file)  # its own process, while the workload is generated
        try:
            workload = make_workload(max(messages, replay_events), lexicon)
            transcript = workload.write_transcript(workdir / "bench.jsonl", limit=replay_events)
            judged = workload.messages(limit=messages)
            warm_up = make_workload(WARM_UP, lexicon, seed=12).messages()
            texts = [m.text for m, _ in judged]

            say("load")
            load_s, engines = measure_load(rules_file, max(load_reps, reps))
            rules, patterns = engines[0].rules, len(engines[0].index)
            if not any(r.name == BENCH_RULE for r in rules.rules):
                raise RuntimeError(
                    f"{rules_file}: the benchmark's lexicon rule did not make it into the rules"
                )
            say("engine, floor, naive")
            step = max(1, len(texts) // max(naive_sample, 1))
            baselines = Baselines(lexicon, texts, texts[::step][:naive_sample])
            # each engine repetition is followed at once by one of the floor and the naive loop
            eng = measure_engine(engines, judged, warm_up=warm_up, after_each=baselines.run_once)
            del engines
            floor, naive = baselines.floor(), baselines.naive()
            say("replay --db sqlite")
            replay = measure_replay(rules_file, transcript, workdir, 1 if quick else 3)
            say("memory")
            rss = finish_rss(memory_probe)
            say("")
        finally:
            if memory_probe.poll() is None:  # an error on the way: do not leave it running
                memory_probe.kill()
                memory_probe.wait()

    result: dict[str, Any] = {
        "engine": eng.as_json(),
        "floor": floor,
        "naive": naive,
        "replay_sqlite": replay,
        "load_s": round(load_s, 3),
        "load_cold_s": rss.pop("load_cold_s"),
        "rss_mb": rss.pop("rss_mb"),
        "memory": rss,
        "ratios": {  # the median of the ratios of figures taken moments apart, repetition by repetition
            "engine/floor": round(
                median([e / f for e, f in zip(eng.runs, baselines.floor_runs, strict=True)]), 3
            ),
            "engine/naive": round(
                median([e / n for e, n in zip(eng.runs, baselines.naive_runs, strict=True)]), 3
            ),
        },
        "workload": {
            "quick": quick,
            "messages": len(judged),
            "text_mb": round(text_bytes(judged) / 1e6, 2),
            "planted_share": round(workload.planted_share(limit=messages), 4),
            "lexicon_words": words,
            "rules": len(rules.rules),
            "patterns": patterns,
            "rooms": ROOMS,
            "members_per_room": MEMBERS_PER_ROOM,
            "replay_events": replay["events"],
            "repetitions": reps,
            "seconds": 0.0,
            "phase_seconds": phases,
        },
        "machine": {"python": platform.python_version(), "cpus": _cpus(), "platform": platform.platform()},
        "commit": _commit(),
    }
    result["targets"] = check_targets(result)
    result["workload"]["seconds"] = round(time.perf_counter() - started, 1)
    return result


def profile(rules_path: Path, words: int, messages: int) -> str:
    """The engine pass of the benchmark under cProfile, on the same workload."""
    from bot.bench_measure import profile_engine
    from bot.bench_workload import bench_rules, lexicon_words, make_workload
    from bot.engine import Engine, load_rules

    with tempfile.TemporaryDirectory(prefix="qunguard-bench-") as tmp:
        lexicon = lexicon_words(words)
        engine = Engine(load_rules(bench_rules(rules_path, lexicon, Path(tmp))))
    judged = make_workload(messages, lexicon).messages()
    for m, s in make_workload(WARM_UP, lexicon, seed=12).messages():
        engine.evaluate(m, s, track=False)
    return profile_engine(engine, judged)


def stages(rules_path: Path, words: int, messages: int, reps: int) -> dict[str, Any]:
    """Where an engine's time goes, stage by stage (:func:`bot.bench_measure.measure_stages`),
    next to the whole engine and the floor: medians of ``reps`` runs, µs per message."""
    from bot.bench_measure import STAGES, Baselines, measure_stages, measure_whole, median
    from bot.bench_workload import bench_rules, lexicon_words, make_workload
    from bot.engine import Engine, load_rules

    with tempfile.TemporaryDirectory(prefix="qunguard-bench-") as tmp:
        lexicon = lexicon_words(words)
        rules = load_rules(bench_rules(rules_path, lexicon, Path(tmp)))
    judged = make_workload(messages, lexicon).messages()
    warm_up = make_workload(WARM_UP, lexicon, seed=12).messages()
    floor_scan = Baselines(lexicon, (), ()).scan  # the benchmark's own floor automaton
    runs = []
    for _ in range(reps):
        run = measure_stages(Engine(rules), judged, warm_up)
        run.update(measure_whole(Engine(rules), judged, floor_scan, warm_up))
        runs.append(run)
    out = {
        name: round(median([r[name] for r in runs]), 2) for name in (*STAGES, "stages", "evaluate", "floor")
    }
    out["glue"] = round(out["evaluate"] - out["stages"], 2)
    out["stages/floor"] = round(out["stages"] / out["floor"], 2) if out["floor"] else 0.0
    out["messages"] = len(judged)
    return out


def render_stages(r: dict[str, Any]) -> str:
    from bot.bench_measure import STAGES

    lines = [f"µs per message, {r['messages']:,} messages, each stage called on its own (fresh engines):", ""]
    lines += [f"  {name:24}{r[name]:>8.2f}" for name in STAGES]
    lines += [
        f"  {'all stages':24}{r['stages']:>8.2f}",
        f"  {'whole evaluate()':24}{r['evaluate']:>8.2f}  (glue, judging, caching: {r['glue']:.2f})",
        f"  {'floor (fold + scan)':24}{r['floor']:>8.2f}",
        "",
        f"the stages alone cost {r['stages/floor']:.1f}× the floor; engine/floor >= 0.25 allows 4×",
    ]
    return "\n".join(lines)


def _commit() -> str:
    """The checkout's commit (with ``+`` when it has local changes), or "" outside git."""
    import subprocess

    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    if head.returncode != 0:
        return ""
    return head.stdout.strip() + ("+" if dirty.stdout.strip() else "")


def _cpus() -> int:
    import os

    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _value(result: dict[str, Any], name: str) -> float:
    if name in result["ratios"]:
        return result["ratios"][name]
    if name == "p99_us":
        return result["engine"]["p99_us"]
    if name == "replay_sqlite":
        return result["replay_sqlite"]["events_per_s"]
    return result[name]


def check_targets(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {}
    for name, (op, bound) in TARGETS.items():
        value = _value(result, name)
        ok = value >= bound if op == ">=" else value <= bound
        out[name] = {"value": value, "target": f"{op} {bound:g}", "ok": ok}
    return out


def _n(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"


def render_table(r: dict[str, Any]) -> str:
    w = r["workload"]
    e, f, nv, rp = r["engine"], r["floor"], r["naive"], r["replay_sqlite"]
    t = r["targets"]

    def mark(name: str) -> str:
        return f"  (target {t[name]['target']}: {'ok' if t[name]['ok'] else 'MISSED'})"

    lines = [
        f"qunguard benchmark{' --quick' if w['quick'] else ''}: {w['messages']:,} messages "
        f"({w['text_mb']} MB) in {w['rooms']} rooms × {w['members_per_room']} members; "
        f"bundled rules + {w['lexicon_words']:,}-word lexicon ({w['rules']} rules, {w['patterns']:,} patterns); "
        f"medians of {w['repetitions']} runs, CPU time",
        "",
        f"{'':28}{'msgs/s':>12}{'MB/s':>9}{'p50 µs':>9}{'p99 µs':>9}",
        f"{'engine (full)':28}{_n(e['msgs_per_s']):>12}{e['mb_per_s']:>9.2f}{e['p50_us']:>9.1f}{e['p99_us']:>9.1f}"
        + mark("p99_us"),
        f"{'floor (normalise + scan)':28}{_n(f['msgs_per_s']):>12}",
        f"{'  same, engine normalize()':28}{_n(f['with_engine_normalize_msgs_per_s']):>12}",
        f"{'naive (sample of ' + str(nv['sample']) + ')':28}{_n(nv['msgs_per_s']):>12}",
        "",
        f"{'replay --db sqlite':28}{_n(rp['events_per_s']):>12} events/s "
        f"({rp['events']:,} events; {_n(rp['events_per_s_wall'])}/s on the wall clock)"
        + mark("replay_sqlite"),
        f"{'load + compile rules':28}{r['load_s']:>12.2f} s (in a fresh process: {r['load_cold_s']:.2f} s)"
        + mark("load_s"),
        f"{'peak memory':28}{r['rss_mb']:>12.0f} MB "
        f"(flood state for {r['memory']['flood_members']:,} members)" + mark("rss_mb"),
        "",
        f"{'engine/floor':28}{r['ratios']['engine/floor']:>12.3f}" + mark("engine/floor"),
        f"{'engine/naive':28}{r['ratios']['engine/naive']:>12.1f}" + mark("engine/naive"),
        "",
        f"rules fired on {e['flagged_share']:.1%} of the messages ({w['planted_share']:.1%} made to break one); "
        f"took {w['seconds']:.0f} s",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.bench",
        description="Benchmark the rule engine, replay into SQLite, rules loading and memory "
        "on a seeded synthetic workload (a 50,000-word lexicon, 100 rooms × 500 members).",
    )
    parser.add_argument("--quick", action="store_true", help="a smaller workload: under a minute")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--rules", type=Path, default=None, help="rules file (default: the bundled rules)")
    parser.add_argument("--words", type=int, default=50_000, help="lexicon size (default 50,000)")
    parser.add_argument(
        "--messages", type=int, help="messages for engine/floor (default 100,000; quick 10,000)"
    )
    parser.add_argument("--replay-events", type=int, help="transcript lines to replay (default 20,000)")
    parser.add_argument(
        "--naive-sample", type=int, help="messages for the naive loop (default 1,000; quick 150)"
    )
    parser.add_argument("--reps", type=int, help="repetitions (default 5; quick 3)")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="instead of the figures: profile one engine pass (cProfile, CPU time) and print where the time goes",
    )
    parser.add_argument(
        "--stages",
        action="store_true",
        help="instead of the figures: the cost of each stage of the engine on its own, "
        "next to the whole engine and the floor",
    )
    parser.add_argument("--child-rss", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child_rss is not None:
        from bot.bench_measure import rss_child

        print(json.dumps(rss_child(args.child_rss)))
        return 0

    sizes = dict(QUICK if args.quick else FULL)
    for key in ("messages", "replay_events", "naive_sample", "reps"):
        if getattr(args, key) is not None:
            sizes[key] = getattr(args, key)

    def progress(what: str) -> None:
        if sys.stderr.isatty():
            print(f"bench: {what}…", file=sys.stderr, flush=True)

    if args.profile:
        print(profile(args.rules or bundled_rules(), args.words, sizes["messages"]))
        return 0
    if args.stages:
        found = stages(args.rules or bundled_rules(), args.words, sizes["messages"], sizes["reps"])
        print(json.dumps(found) if args.json else render_stages(found))
        return 0

    result = run(
        rules_path=args.rules or bundled_rules(),
        words=args.words,
        quick=args.quick,
        progress=progress,
        **sizes,
    )
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(render_table(result))
    if args.check and not all(t["ok"] for t in result["targets"].values()):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
