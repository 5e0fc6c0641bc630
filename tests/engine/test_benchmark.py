"""The engine benchmark keeps running (its figures are read by people, not asserted)."""

from __future__ import annotations

from pathlib import Path

from bot.engine import benchmark

FIXTURE = Path(__file__).parent / "fixtures" / "rules.yaml"


def test_benchmark_prints_every_figure(capsys):
    assert benchmark.main(["--rules", str(FIXTURE), "--words", "300", "-n", "300", "--members", "5"]) == 0
    out = capsys.readouterr().out
    for figure in (
        "load (CPU time)",
        "normalise:",
        "raw Aho-Corasick scan",
        "pinyin layer",
        "typical chat",
        "spam wave",
        "p99",
        "flood state",
    ):
        assert figure in out, figure
