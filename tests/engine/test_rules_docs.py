"""rules/README.md stays honest: its YAML examples load, and it documents
every key the loader accepts."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
import yaml

from bot.engine import Engine, parse_rules
from bot.engine import loader as L
from bot.engine.model import FIELDS

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "rules" / "README.md"
TEXT = README.read_text(encoding="utf-8")
BLOCKS = re.findall(r"```yaml\n(.*?)```", TEXT, flags=re.S)

STUB_NAMES = [
    "ad-job-post",
    "ad-paid-referral",
    "abuse-insult",
    "ad-gear-trading",
    "ad-selling",
    "ad-part-time",
]
FLOOD_STUB = "  - {name: flood-burst, category: flood, severity: minor, message: m, flood: {burst: {messages: 5, seconds: 30}}}\n"
LEXICON_RE = re.compile(r"lexicon: \[?([a-z_, ]+)\]?")


def stubs(defined: set[str]) -> str:
    out = "".join(
        f"  - {{name: {n}, category: ad, severity: minor, message: m, keywords: [占位词{i}]}}\n"
        for i, n in enumerate(STUB_NAMES)
        if n not in defined
    )
    return out + ("" if "flood-burst" in defined else FLOOD_STUB)


def lexicons_for(text: str) -> str:
    names = sorted({n.strip() for m in LEXICON_RE.findall(text) for n in m.split(",") if n.strip()})
    if not names or "\nlexicons:" in "\n" + text:
        return ""
    return "lexicons:\n" + "".join(f"  {n}: lexicons/{n}.txt\n" for n in names)


def as_rules_file(block: str) -> str | None:
    """Turn a README snippet into a whole rules file, or None for fragments
    that are not rules (a lexicon, a ladder on its own)."""
    stripped = textwrap.dedent(block)
    data = yaml.safe_load(stripped)
    lex = lexicons_for(stripped)
    if isinstance(data, list):  # a list of rules
        defined = {r.get("name") for r in data if isinstance(r, dict)}
        return lex + "rules:\n" + textwrap.indent(stripped, "  ") + stubs(defined)
    if not isinstance(data, dict):
        return None
    if "rules" in data:
        defined = {r.get("name") for r in data["rules"] or [] if isinstance(r, dict)}
        extra = stubs(defined)
        head, _, tail = stripped.partition("\nrooms:")
        return lex + head + "\n" + extra + ("rooms:" + tail if tail else "")
    if set(data) == {"rooms"}:
        return "rules:\n" + stubs(set()) + stripped
    rule_head = "rules:\n  - name: doc-example\n    category: ad\n    severity: minor\n    message: m\n"
    if "when" in data:
        return lex + rule_head + textwrap.indent(stripped, "    ")
    if "examples" in data:
        return rule_head + "    keywords: [加微信]\n" + textwrap.indent(stripped, "    ")
    if "ladder" in data:
        return stripped + "rules:\n" + stubs(set())
    return None


CASES = [(i, b) for i, b in enumerate(BLOCKS) if as_rules_file(b) is not None]


def test_the_readme_has_yaml_examples():
    assert len(CASES) >= 25


@pytest.mark.parametrize("block", [b for _i, b in CASES], ids=[f"block{i}" for i, _b in CASES])
def test_readme_yaml_example_loads(block, tmp_path):
    text = as_rules_file(block)
    (tmp_path / "lexicons").mkdir()
    for name in LEXICON_RE.findall(text) + re.findall(r"lexicons/([a-z_]+)\.txt", text):
        for n in name.split(","):
            (tmp_path / "lexicons" / f"{n.strip()}.txt").write_text("示例词\n", encoding="utf-8")
    rules = parse_rules(text, str(tmp_path / "rules.yaml"), tmp_path)
    Engine(rules).evaluate_text("加微信 兼职日结")


@pytest.mark.parametrize(
    "key",
    sorted(
        set(
            L.TOP_KEYS + L.RULE_KEYS + L.CONDITION_KEYS + L.FLOOD_KEYS + L.ROOM_KEYS + L.EXAMPLE_KEYS + FIELDS
        )
        | {"rules_bind_admins", "new_member_days", "name_contains", "joined_within", "incident"}
    ),
)
def test_every_key_is_documented(key):
    assert re.search(rf"\b{re.escape(key)}\b", TEXT), key
