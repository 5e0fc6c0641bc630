"""``python -m bot.bench`` on a tiny workload: it runs end to end and prints
the documented figures. Nothing here is timed: the benchmark prints figures,
tests only check that it produces them from a workload of the promised shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot import bench
from bot.bench_workload import (
    MEMBERS_PER_ROOM,
    ROOMS,
    bench_rules,
    lexicon_words,
    make_workload,
    member_messages,
)
from bot.engine import Engine, load_rules
from bot.events import Message, Sender

TINY = [
    "--json",
    "--words", "300",
    "--messages", "300",
    "--replay-events", "150",
    "--naive-sample", "20",
    "--reps", "1",
]  # fmt: skip


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert bench.main(TINY) == 0
    return json.loads(out.getvalue())


def test_json_has_every_documented_key(printed):
    for key in ("msgs_per_s", "mb_per_s", "p50_us", "p99_us"):
        assert printed["engine"][key] > 0, key
    assert printed["floor"]["msgs_per_s"] > 0
    assert printed["naive"]["msgs_per_s"] > 0
    assert printed["replay_sqlite"]["events_per_s"] > 0
    assert printed["load_s"] > 0
    assert printed["rss_mb"] > 0
    assert set(printed["ratios"]) >= {"engine/floor", "engine/naive"}


def test_ratios_are_the_median_of_the_per_repetition_quotients(printed):
    import statistics

    engine = printed["engine"]["runs_msgs_per_s"]
    for name, base in (("engine/floor", "floor"), ("engine/naive", "naive")):
        quotients = [e / b for e, b in zip(engine, printed[base]["runs_msgs_per_s"], strict=True)]
        assert printed["ratios"][name] == pytest.approx(statistics.median(quotients), rel=0.01, abs=0.002)


def test_replay_went_through_every_transcript_line(printed):
    assert printed["replay_sqlite"]["events"] == 150


def test_memory_is_measured_with_every_member_of_every_room_tracked(printed):
    assert printed["memory"]["flood_members"] == ROOMS * MEMBERS_PER_ROOM
    assert printed["memory"]["tracked_members"] == ROOMS * MEMBERS_PER_ROOM


def test_each_target_is_judged(printed):
    assert set(printed["targets"]) == set(bench.TARGETS)
    for name, judged in printed["targets"].items():
        assert isinstance(judged["ok"], bool), name


def test_the_table_shows_every_figure_and_both_ratios(printed):
    table = bench.render_table(printed)
    for label in (
        "engine (full)",
        "floor (normalise + scan)",
        "naive",
        "replay --db sqlite",
        "load + compile rules",
        "peak memory",
        "engine/floor",
        "engine/naive",
    ):
        assert label in table


# -- the workload -------------------------------------------------------------


def test_lexicon_words_are_distinct_hanzi_of_two_to_six_characters():
    words = lexicon_words(2000)
    assert len(set(words)) == 2000
    assert all(2 <= len(w) <= 6 for w in words)
    assert all("\u4e00" <= ch <= "\u9fff" for w in words for ch in w)


def test_the_workload_is_the_same_for_the_same_seed():
    lexicon = lexicon_words(500)
    assert make_workload(300, lexicon).rows == make_workload(300, lexicon).rows
    assert make_workload(300, lexicon).rows != make_workload(300, lexicon, seed=12).rows


def test_chat_has_the_length_mix_of_a_group():
    lexicon = lexicon_words(500)
    messages = [m for m, _ in make_workload(4000, lexicon).messages() if m.type.value == "text"]
    lengths = [len(m.text) for m in messages]
    short = sum(n <= 30 for n in lengths) / len(lengths)
    long = sum(n > 120 for n in lengths) / len(lengths)
    assert 0.5 < short < 0.7
    assert 0.05 < long < 0.15
    assert any("http" in m.text or "www." in m.text for m in messages)
    assert any(ch.isdigit() for m in messages for ch in m.text)
    assert any(ch.isascii() and ch.isalpha() for m in messages for ch in m.text)


def test_about_one_message_in_twenty_is_made_to_break_a_rule():
    workload = make_workload(4000, lexicon_words(500))
    assert 0.04 < workload.planted_share() < 0.06
    labels = {r["expect"] for r in workload.rows if "expect" in r}
    assert labels >= {"clean", "ad", "banned_topic", "abuse", "flood"}


def test_the_engine_catches_every_planted_lexicon_word_and_the_bundled_rules_their_spam(tmp_path: Path):
    lexicon = lexicon_words(2000)
    engine = Engine(load_rules(bench_rules(bench.bundled_rules(), lexicon, tmp_path)))
    workload = make_workload(3000, lexicon)
    judged = [e for e in workload.entries() if isinstance(e.event, Message)]
    rows = [r for r in workload.rows if r["type"] != "join"]
    fired: set[str] = set()
    planted = 0
    for row, entry in zip(rows, judged, strict=True):
        rules = {v.rule for v in engine.evaluate(entry.event, Sender(entry.event.sender_id), track=False)}
        fired |= rules
        plain = "".join(ch for ch in row.get("text", "") if ch not in " ._💰🔥")  # evasions undone
        if row["expect"] == "banned_topic" and any(w in plain for w in lexicon):
            planted += 1
            assert "bench-big-lexicon" in rules, row["text"]
    assert planted > 30
    assert len(fired - {"bench-big-lexicon"}) > 3  # the bundled rules catch their own kinds of spam too


def test_the_memory_workload_has_one_message_from_every_member_within_ten_minutes():
    messages = list(member_messages())
    assert len({(m.room_id, m.sender_id) for m, _ in messages}) == ROOMS * MEMBERS_PER_ROOM
    assert all(isinstance(m, Message) for m, _ in messages[:10])
    assert (messages[-1][0].at - messages[0][0].at).total_seconds() < 600


@pytest.mark.parametrize(
    "layout",
    [
        pytest.param("lexicons: {ad: WORDS}\nrules:\n", id="inline-lexicons"),
        pytest.param("lexicons:\n  ad: WORDS\nrules:   # our rules\n", id="comment-after-rules"),
        pytest.param("lexicons:\n  ad: {file: WORDS}\nrules:\n", id="lexicon-with-options"),
    ],
)
def test_the_lexicon_rule_is_added_to_rules_of_any_layout(tmp_path: Path, layout: str):
    (tmp_path / "words").mkdir()
    (tmp_path / "words" / "ad.txt").write_text("代开发票\n", encoding="utf-8")
    rules_file = tmp_path / "my_rules.yaml"
    rules_file.write_text(
        "version: 1\n"
        + layout.replace("WORDS", "words/ad.txt")
        + "  - name: ad\n    category: ad\n    severity: minor\n    message: 请勿发广告\n    lexicon: ad\n",
        encoding="utf-8",
    )
    out = tmp_path / "bench"
    out.mkdir()
    engine = Engine(load_rules(bench_rules(rules_file, lexicon_words(50), out)))
    assert {r.name for r in engine.rules.rules} == {"ad", "bench-big-lexicon"}
    assert [v.rule for v in engine.evaluate_text("代开发票")] == ["ad"]


def test_stages_add_up_and_sit_next_to_the_whole_engine_and_the_floor():
    import contextlib
    import io

    from bot.bench_measure import STAGES

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert bench.main(["--stages", "--json", "--words", "300", "--messages", "200", "--reps", "1"]) == 0
    found = json.loads(out.getvalue())
    assert set(STAGES) == {"fold", "normalize", "words", "patterns", "pinyin", "links", "flood"}
    assert all(found[name] >= 0 for name in STAGES)
    assert found["stages"] == pytest.approx(sum(found[name] for name in STAGES), abs=0.05)
    assert found["glue"] == pytest.approx(found["evaluate"] - found["stages"], abs=0.02)
    assert 0 < found["messages"] <= 200 and found["floor"] > 0


def test_the_stages_table_names_each_stage_and_the_bound():
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert bench.main(["--stages", "--words", "300", "--messages", "100", "--reps", "1"]) == 0
    table = out.getvalue()
    for label in ("fold", "normalize", "words", "patterns", "pinyin", "links", "flood", "whole evaluate()"):
        assert label in table
    assert "the floor; engine/floor >= 0.25 allows 4×" in table
