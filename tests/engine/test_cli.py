"""``qunguard check`` and ``qunguard try`` as an admin uses them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.cli import main

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURES, tmp_path / "rules")
    return tmp_path / "rules"


def test_check_accepts_a_valid_file(capsys):
    assert main(["check", str(FIXTURES / "rules.yaml")]) == 0
    out = capsys.readouterr().out
    assert "OK: 10 rules, 3 lexicons" in out
    assert "examples pass" in out


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("severity: severe", "severity: very", ":48: rules.gambling.severity: bad severity 'very'"),
        (
            "regex: '(?:微信|qq)[:：]?\\s*[a-z0-9_-]{5,19}'",
            "regex: '(?:微信|qq[:：]?\\s*[a-z0-9_-]{5,19}'",
            ":32: rules.ad-contact-handle.when.any[1].regex: bad regular expression",
        ),
    ],
    ids=["bad-severity", "unclosed-regex"],
)
def test_check_refuses_a_broken_file_naming_line_and_key(rules_dir, capsys, old, new, where):
    path = rules_dir / "rules.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}{where}" in err


def test_check_refuses_an_edit_that_breaks_a_rules_examples(rules_dir, capsys):
    path = rules_dir / "rules.yaml"
    text = path.read_text(encoding="utf-8").replace(
        'no_match: ["今天天气不错", "收到"]', 'no_match: ["加微信"]'
    )
    path.write_text(text, encoding="utf-8")
    assert main(["check", "--rules", str(path)]) == 1
    err = capsys.readouterr().err
    assert "rules.ad-contact-handle.examples.no_match: example '加微信': the rule fires on it" in err
    assert "were not accepted" in err


def test_check_warns_but_accepts_a_rule_that_can_never_fire(tmp_path, capsys):
    path = tmp_path / "rules.yaml"
    path.write_text(
        "rules:\n  - {name: r, category: ad, severity: minor, message: m, types: [image], keywords: [x]}\n",
        encoding="utf-8",
    )
    assert main(["check", str(path)]) == 0
    captured = capsys.readouterr()
    assert f"{path}:2: rules.r: warning: rule can never fire" in captured.err
    assert "1 warning(s)" in captured.out


def test_check_reports_a_missing_file(tmp_path, capsys):
    assert main(["check", str(tmp_path / "missing.yaml")]) == 1
    assert "rules file not found" in capsys.readouterr().err


def test_try_shows_rule_span_and_first_offence(capsys):
    rules = str(FIXTURES / "rules.yaml")
    assert main(["try", "--rules", rules, "兼 职 日 结 ， 加 v 详 聊"]) == 0
    out = capsys.readouterr().out
    assert "规范化 normalised: 兼职日结,加微信详聊" in out
    assert "✗ ad-contact-handle" in out
    assert "lexicon:ad_contact 「兼职」" in out
    assert "first offence: warn_private" in out


def test_try_a_link_card_in_a_room(capsys):
    rules = str(FIXTURES / "rules.yaml")
    argv = [
        "try",
        "--rules",
        rules,
        "--type",
        "url",
        "--url",
        "https://t.cn/A6xYz9Qp",
        "--title",
        "点击领取红包",
    ]
    assert main(argv) == 0
    assert "✗ short-link" in capsys.readouterr().out


def test_try_json(capsys):
    assert main(["try", "--rules", str(FIXTURES / "rules.yaml"), "--json", "澳门线上真人"]) == 0
    verdict = json.loads(capsys.readouterr().out)
    assert verdict["violations"][0]["rule"] == "gambling"
    assert verdict["violations"][0]["evidence"][0]["span"] == "澳门线上"
    assert [a["kind"] for a in verdict["actions"]] == ["kick", "notify_inviter", "notify_admins"]


def test_try_nothing_fires(capsys):
    assert main(["try", "--rules", str(FIXTURES / "rules.yaml"), "收到，谢谢"]) == 0
    assert "no rule fires" in capsys.readouterr().out


def test_try_with_a_catastrophic_pattern_returns_at_once(tmp_path, capsys):
    path = tmp_path / "rules.yaml"
    path.write_text(
        "rules:\n  - {name: redos, category: ad, severity: minor, message: m, regex: '(a+)+$'}\n",
        encoding="utf-8",
    )
    assert main(["try", "--rules", str(path), "a" * 50_000 + "b"]) == 0
    assert "no rule fires" in capsys.readouterr().out


def test_try_rejects_an_unknown_type(capsys):
    assert main(["try", "--rules", str(FIXTURES / "rules.yaml"), "--type", "picture", "x"]) == 2
    assert "unknown --type 'picture'" in capsys.readouterr().err


def test_try_explain_marks_each_condition(capsys):
    rules = str(FIXTURES / "rules.yaml")
    assert main(["try", "--rules", rules, "--explain", "job-post", "这个群能发招聘吗"]) == 0
    out = capsys.readouterr().out
    assert "rule job-post (line " in out
    assert "✗ all:" in out
    assert "✓ keywords: [招聘, 内推]" in out
    assert "✗ not:" in out
    assert "✓ keywords: [能发招聘吗]" in out


def test_try_explain_says_when_a_room_switches_a_rule_off(capsys):
    rules = str(FIXTURES / "rules.yaml")
    assert main(["try", "--rules", rules, "--topic", "内推群", "--explain", "job-post", "招聘工程师"]) == 0
    assert "switched off in this room" in capsys.readouterr().out


def test_try_explain_an_unknown_rule_is_a_clear_error(capsys):
    assert main(["try", "--rules", str(FIXTURES / "rules.yaml"), "--explain", "nope", "x"]) == 1
    assert "no rule named 'nope'" in capsys.readouterr().err
