"""config.example.yaml documents every key of the Config, and parses."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from pathlib import Path

import pytest

from bot.config import Config, ConfigError, parse_config
from bot.yamlsource import load_yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config.example.yaml"


def _keys(cls: type, prefix: str = "") -> set[str]:
    out: set[str] = set()
    for f in fields(cls):
        if f.name == "source":
            continue
        name = f"{prefix}{f.name}"
        default = f.default_factory() if callable(f.default_factory) else f.default  # type: ignore[misc]
        if is_dataclass(default):
            out |= _keys(type(default), f"{name}.")
        else:
            out.add(name)
    return out


def _documented(data: dict, prefix: str = "") -> set[str]:
    out: set[str] = set()
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out |= _documented(value, f"{name}.")
        else:
            out.add(name)
    return out


def test_example_config_documents_every_key():
    documented = _documented(load_yaml(EXAMPLE.read_text(encoding="utf-8")))
    assert _keys(Config) == documented


def test_example_config_parses():
    cfg = parse_config(EXAMPLE.read_text(encoding="utf-8"), str(EXAMPLE))
    assert cfg.bot.admins == ("wxid_admin_zhang",)
    assert cfg.bot.rooms[1].matches("r1", "金矿提金技术交流群")
    assert cfg.rules_path == ROOT / "rules" / "rules.yaml"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("bot:\n  admins: [a]\n  nmae: x\n", "config.yaml:3: bot.nmae"),
        ("outbox:\n  per_minute: lots\n", "config.yaml:2: outbox.per_minute"),
        ("moderation:\n  blacklist_scope: galaxy\n", "moderation.blacklist_scope"),
        ("bot: [\n", "config.yaml:"),
        ("retention:\n  purge_at: '4.30'\n", "retention.purge_at"),
        ("retention:\n  excerpt_days: 0\n", "retention.excerpt_days"),
    ],
    ids=["unknown-key", "wrong-type", "bad-choice", "broken-yaml", "bad-purge-time", "no-retention-days"],
)
def test_config_errors_name_the_place(text, where):
    with pytest.raises(ConfigError) as err:
        parse_config(text, "config.yaml")
    assert where in str(err.value)


def test_no_config_means_embedded_defaults():
    cfg = parse_config("")
    assert cfg.database == "sqlite:///qunguard.db"
    assert cfg.rules_path.name == "rules.yaml"
    assert cfg.puppet.endpoint == ""
