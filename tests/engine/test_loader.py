"""The loader turns rules.yaml into a RuleSet, or names file:line and key."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bot.engine import Engine, load_rules, parse_rules
from bot.errors import RulesError
from bot.verdicts import Severity

FIXTURE = Path(__file__).parent / "fixtures" / "rules.yaml"


def rules_text(body: str, head: str = "") -> str:
    return textwrap.dedent(head) + "rules:\n" + textwrap.indent(textwrap.dedent(body), "  ")


RULE = """\
- name: ad
  category: ad
  severity: minor
  message: 请勿发广告
"""


def test_bundled_fixture_loads_with_every_section():
    rules = load_rules(FIXTURE)
    assert rules.rule("ad-contact-handle").severity is Severity.MINOR
    assert rules.settings.exempt == frozenset({"wxid_trusted"})
    assert rules.settings.new_member_days == 3
    assert len(rules.lexicons["gambling"]) == 4
    assert rules.rooms[0].match.name_contains == ("招聘", "内推")
    assert rules.ladder.window.days == 30
    assert rules.warnings == ()


def test_loading_has_no_side_effects_so_the_last_good_set_stays_usable(tmp_path):
    good = load_rules(FIXTURE)
    engine = Engine(good)
    broken = tmp_path / "rules.yaml"
    broken.write_text(rules_text(RULE.replace("minor", "tiny")), encoding="utf-8")
    with pytest.raises(RulesError):
        load_rules(broken)
    assert engine.evaluate_text("澳门线上真人")[0].rule == "gambling"


ERRORS = [
    # (id, rules text, line, key, words in the message)
    (
        "bad-severity",
        rules_text(RULE.replace("minor", "tiny")),
        4,
        "rules.ad.severity",
        "bad severity 'tiny'",
    ),
    (
        "chinese-severity-ok-but-typo",
        rules_text(RULE.replace("minor", "轻轻")),
        4,
        "rules.ad.severity",
        "轻微",
    ),
    (
        "unclosed-regex-group",
        rules_text(RULE + "  regex: '(加微信'\n"),
        6,
        "rules.ad.regex",
        "missing )",
    ),
    (
        "unclosed-regex-class",
        rules_text(RULE + "  regex: '[abc'\n"),
        6,
        "rules.ad.regex",
        "missing ]",
    ),
    (
        "unknown-rule-key",
        rules_text(RULE + "  keyword: [x]\n"),
        6,
        "rules.ad.keyword",
        "did you mean 'keywords'",
    ),
    (
        "unknown-condition",
        rules_text(RULE + "  when:\n    any:\n      - keywrods: [x]\n"),
        8,
        "rules.ad.when.any[0].keywrods",
        "unknown key",
    ),
    (
        "missing-message",
        rules_text(RULE.replace("  message: 请勿发广告\n", "") + "  keywords: [x]\n"),
        2,
        "rules.ad.message",
        "needs message",
    ),
    ("no-conditions", rules_text(RULE), 2, "rules.ad", "needs conditions"),
    (
        "bad-name",
        rules_text(RULE.replace("name: ad", "name: Ad Rule") + "  keywords: [x]\n"),
        2,
        "rules.Ad Rule.name",
        "lower-case",
    ),
    (
        "duplicate-name",
        rules_text(RULE + "  keywords: [x]\n" + RULE + "  keywords: [y]\n"),
        7,
        "rules.ad.name",
        "duplicate rule name",
    ),
    (
        "unknown-lexicon",
        rules_text(RULE + "  lexicon: nope\n"),
        6,
        "rules.ad.lexicon",
        "unknown lexicon 'nope'",
    ),
    (
        "missing-lexicon-file",
        rules_text(RULE + "  lexicon: gone\n", "lexicons:\n  gone: lexicons/gone.txt\n"),
        2,
        "lexicons.gone",
        "lexicon file not found",
    ),
    ("bad-type", rules_text(RULE + "  type: [txt]\n"), 6, "rules.ad.type", "did you mean 'text'"),
    (
        "bad-rule-types",
        rules_text(RULE + "  types: picture\n  keywords: [x]\n"),
        6,
        "rules.ad.types",
        "unknown message type",
    ),
    (
        "bad-duration",
        rules_text(
            RULE.replace("ad\n  category: ad", "fl\n  category: flood")
            + "  flood: {burst: {messages: 5, seconds: soon}}\n"
        ),
        6,
        "rules.fl.flood.burst.seconds",
        "bad duration 'soon'",
    ),
    ("bad-count", rules_text(RULE + "  count: {links: lots}\n"), 6, "rules.ad.count.links", "comparison"),
    (
        "unknown-count",
        rules_text(RULE + "  count: {pictures: '>2'}\n"),
        6,
        "rules.ad.count.pictures",
        "unknown key",
    ),
    (
        "bad-sender",
        rules_text(RULE + "  sender: {joined_within: yesterday}\n"),
        6,
        "rules.ad.sender.joined_within",
        "bad duration",
    ),
    (
        "bad-template-field",
        rules_text(RULE.replace("请勿发广告", "'{who} 请勿发广告'") + "  keywords: [x]\n"),
        5,
        "rules.ad.message",
        "unknown field {who}",
    ),
    (
        "template-attribute",
        rules_text(RULE.replace("请勿发广告", "'{name.__class__}'") + "  keywords: [x]\n"),
        5,
        "rules.ad.message",
        "unknown field",
    ),
    ("empty-keywords", rules_text(RULE + "  keywords: []\n"), 6, "rules.ad.keywords", "empty"),
    (
        "bad-admins",
        rules_text(RULE + "  admins: sometimes\n  keywords: [x]\n"),
        6,
        "rules.ad.admins",
        "bound or exempt",
    ),
    (
        "room-unknown-rule",
        rules_text(RULE + "  keywords: [x]\n") + "rooms:\n  - match: {id: r1}\n    disable: [nope]\n",
        9,
        "rooms[0].disable",
        "no rule named 'nope'",
    ),
    (
        "room-without-selector",
        rules_text(RULE + "  keywords: [x]\n") + "rooms:\n  - match: {}\n    disable: [ad]\n",
        8,
        "rooms[0].match",
        "selects no room",
    ),
    (
        "room-flood-on-non-flood-rule",
        rules_text(RULE + "  keywords: [x]\n")
        + "rooms:\n  - match: {id: r1}\n    flood: {ad: {burst: {messages: 1, seconds: 1}}}\n",
        9,
        "rooms[0].flood.ad",
        "not a flood rule",
    ),
    (
        "ladder-bad-action",
        rules_text(RULE + "  keywords: [x]\n", "ladder:\n  tiers:\n    minor: [spank]\n"),
        3,
        "ladder.tiers.minor[0]",
        "spank",
    ),
    ("yaml-syntax", "rules: [\n", 2, "", "YAML syntax error"),
    ("top-level-list", "- a\n- b\n", 1, "", "expected a mapping"),
    ("unknown-top-key", "rule: []\n", 1, "rule", "did you mean 'rules'"),
    ("missing-rules", "version: 1\n", 1, "rules", "missing rules"),
    ("wrong-version", "version: 2\nrules: []\n", 1, "version", "unsupported version"),
    ("rule-is-text", "rules:\n  - just words\n", 2, "rules[0]", "expected a rule"),
    (
        "examples-bad-key",
        rules_text(RULE + "  keywords: [x]\n  examples: {matches: [a]}\n"),
        7,
        "rules.ad.examples.matches",
        "did you mean 'match'",
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "key", "words"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS]
)
def test_loader_errors_name_line_and_key(tmp_path, text: str, line: int, key: str, words: str) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RulesError) as info:
        load_rules(path)
    err = info.value
    assert err.path == str(path)
    assert err.line == line, str(err)
    assert err.key == key, str(err)
    assert words in err.message, str(err)
    assert str(err).startswith(f"{path}:{line}")


def test_missing_rules_file_is_a_clear_error(tmp_path):
    with pytest.raises(RulesError, match="rules file not found"):
        load_rules(tmp_path / "nope.yaml")


def test_rules_file_that_is_not_utf8_is_a_clear_error(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_bytes("rules: []\n# 注释".encode("gbk"))
    with pytest.raises(RulesError, match="not UTF-8"):
        load_rules(path)


WARNINGS = [
    (
        "type-outside-types",
        RULE + "  types: [image]\n  type: text\n",
        "type: text is outside the rule's types",
    ),
    (
        "text-on-images",
        RULE + "  types: [image]\n  keywords: [x]\n",
        "images messages have none".replace("images", "image"),
    ),
    ("contradicting-types", RULE + "  all:\n    - type: text\n    - type: image\n", "exclude each other"),
    ("disabled-everywhere", RULE + "  enabled: false\n  keywords: [x]\n", "disabled"),
    ("new-member-days-zero", RULE + "  sender: {new: true}\n", "matches nobody"),
]


@pytest.mark.parametrize(("body", "words"), [w[1:] for w in WARNINGS], ids=[w[0] for w in WARNINGS])
def test_rules_that_can_never_fire_are_warned_about(body: str, words: str) -> None:
    head = "settings: {new_member_days: 0}\n" if "sender" in body else ""
    rules = parse_rules(rules_text(body, head), "rules.yaml")
    assert len(rules.warnings) == 1
    assert words in str(rules.warnings[0])
    assert str(rules.warnings[0]).startswith(f"rules.yaml:{2 + bool(head)}: rules.ad: warning:")


def test_empty_lexicon_and_unused_lexicon_are_warned_about(tmp_path):
    (tmp_path / "empty.txt").write_text("# nothing yet\n\n", encoding="utf-8")
    (tmp_path / "spare.txt").write_text("词\n", encoding="utf-8")
    text = rules_text(RULE + "  lexicon: empty\n", "lexicons:\n  empty: empty.txt\n  spare: spare.txt\n")
    rules = parse_rules(text, str(tmp_path / "rules.yaml"), tmp_path)
    messages = [w.message for w in rules.warnings]
    assert any("has no words" in m for m in messages)
    assert any("not used by any rule" in m for m in messages)


def test_lexicon_files_allow_comments_and_blank_lines(tmp_path):
    (tmp_path / "words.txt").write_text("\ufeff# header\n兼职  # inline comment\n\n刷单\n", encoding="utf-8")
    rules = parse_rules(
        rules_text(RULE + "  lexicon: words\n", "lexicons:\n  words: words.txt\n"), "r.yaml", tmp_path
    )
    assert rules.lexicons["words"] == ("兼职", "刷单")


def test_conditions_may_sit_directly_on_the_rule_or_under_when():
    direct = parse_rules(rules_text(RULE + "  keywords: [兼职]\n"))
    nested = parse_rules(rules_text(RULE + "  when: {keywords: [兼职]}\n"))
    for rules in (direct, nested):
        assert Engine(rules).evaluate_text("兼职日结")[0].rule == "ad"


def test_both_when_and_direct_conditions_is_an_error():
    with pytest.raises(RulesError, match="either under when"):
        parse_rules(rules_text(RULE + "  when: {keywords: [a]}\n  keywords: [b]\n"))


def test_severity_may_be_written_in_chinese():
    rules = parse_rules(rules_text(RULE.replace("minor", "严重") + "  keywords: [x]\n"))
    assert rules.rule("ad").severity is Severity.SEVERE


def test_room_flood_override_keeps_the_rules_other_thresholds():
    text = (
        rules_text(
            """\
        - name: fl
          category: flood
          severity: minor
          message: 请勿刷屏
          flood:
            burst: {messages: 5, seconds: 30}
            repeat: {copies: 3, seconds: 10m}
        """
        )
        + "rooms:\n  - match: {ids: [r1, r2]}\n    flood: {fl: {burst: {messages: 8, seconds: 30}}}\n"
    )
    rules = parse_rules(text)
    spec = rules.rooms[0].flood["fl"]
    assert spec.burst == (8, 30.0)
    assert spec.repeat == (3, 600.0)
    assert rules.rooms[0].match.ids == frozenset({"r1", "r2"})


def test_a_pattern_that_needs_a_space_between_hanzi_is_warned_about():
    rules = parse_rules(rules_text(RULE + "  regex: '兼职\\s+日结'\n"), "rules.yaml")
    assert "normalisation removes those" in str(rules.warnings[0])
    assert parse_rules(rules_text(RULE + "  regex: '兼职\\s*日结'\n")).warnings == ()
