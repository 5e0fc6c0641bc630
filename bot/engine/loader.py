"""``rules.yaml`` -> a validated, immutable :class:`~bot.engine.model.RuleSet`.

Every mistake becomes a :class:`bot.errors.RulesError` naming ``file:line``
and the key (``rules.ad-contact.severity``), never a traceback. Loading has
no side effects and touches no global state: a caller that gets an error
simply keeps the RuleSet it already had.
"""

from __future__ import annotations

import difflib
import re
import string
from collections.abc import Iterable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import re2

from bot.engine import checks as C
from bot.engine.model import (
    FIELDS,
    Example,
    FloodSpec,
    RoomOverride,
    RoomSelector,
    Rule,
    RuleSet,
    RulesWarning,
    Settings,
    frozen_map,
)
from bot.engine.normalize import fold_chars, normalize
from bot.errors import RulesError
from bot.events import MessageType
from bot.verdicts import Severity
from bot.yamlsource import LineDict, LineList, YamlSyntaxError, load_yaml

RE2_MAX_MEM = 256 << 20
"""RE2's default 8 MiB makes big patterns fall back to a slow path or fail."""
MAX_LEXICON_BYTES = 64 << 20
MAX_DEPTH = 32
TEMPLATE_FIELDS = frozenset({"name", "rule", "category", "severity", "case", "until", "count"})

_SEVERITY_ALIASES = {
    "minor": Severity.MINOR,
    "moderate": Severity.MODERATE,
    "severe": Severity.SEVERE,
    "malicious": Severity.MALICIOUS,
    "轻微": Severity.MINOR,
    "中度": Severity.MODERATE,
    "严重": Severity.SEVERE,
    "恶意": Severity.MALICIOUS,
}
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_CATEGORY_RE = re.compile(r"^[^\s{}]{1,40}$")
_DURATION_RE = re.compile(r"^(?:(\d+(?:\.\d+)?)\s*(w|d|h|m|s|min))+$")
_DURATION_PART_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(w|d|h|min|m|s)")
_UNIT_S = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "min": 60, "s": 1}
_SPACE_BETWEEN_HANZI = re.compile(r"[\u4e00-\u9fff](?: |\\s)(?:\+|\{[1-9][0-9,]*\})?[\u4e00-\u9fff]")
_COMPARE_RE = re.compile(r"^\s*(>=|<=|==|!=|>|<)?\s*(\d{1,9})\s*$")

TOP_KEYS = ("version", "settings", "lexicons", "ladder", "rules", "rooms")
RULE_KEYS = (
    "name",
    "category",
    "severity",
    "description",
    "message",
    "admins",
    "types",
    "when",
    "flood",
    "examples",
    "enabled",
)
CONDITION_KEYS = (
    "keywords",
    "lexicon",
    "regex",
    "raw_regex",
    "type",
    "domain",
    "qr",
    "file_name",
    "count",
    "sender",
    "any",
    "all",
    "not",
    "field",
)
FLOOD_KEYS = ("burst", "repeat", "cross_room", "album_seconds", "min_length")
ROOM_KEYS = ("match", "disable", "enable", "add_words", "flood", "severity", "exempt")
EXAMPLE_KEYS = (
    "text",
    "type",
    "url",
    "title",
    "description",
    "app",
    "card_name",
    "file_name",
    "sender_name",
    "qr",
    "room",
    "topic",
    "new_member",
    "admin",
)


def re2_options(case_sensitive: bool = True, never_capture: bool = True) -> Any:
    """RE2 options for admins' patterns: a raised memory budget, and no capture
    groups (only the whole match is shown as evidence, and RE2 is faster without)."""
    opts = re2.Options()
    opts.max_mem = RE2_MAX_MEM
    opts.case_sensitive = case_sensitive
    opts.never_capture = never_capture
    opts.log_errors = False
    return opts


def parse_duration(value: Any) -> timedelta | None:
    """``90`` (seconds), ``90s``, ``15m``, ``24h``, ``30d``, ``2w``, ``1h30m``; None if invalid."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return timedelta(seconds=value) if value >= 0 else None
    if not isinstance(value, str):
        return None
    s = value.strip().lower().replace(" ", "")
    if not s or not _DURATION_RE.match(s):
        return None
    total = sum(float(n) * _UNIT_S[u] for n, u in _DURATION_PART_RE.findall(s))
    return timedelta(seconds=total)


def fold_pattern(pattern: str) -> str:
    """Put an admin's regex into the normalised alphabet (full-width ： -> :,
    traditional -> simplified) without touching its ASCII syntax (``\\D`` stays)."""
    out = []
    for ch in pattern:
        if ch.isascii():
            out.append(ch)
            continue
        folded = fold_chars(ch)
        out.append(re.escape(folded) if folded.isascii() else folded)
    return "".join(out)


class _Loader:
    def __init__(self, path: str, base: Path, read_lexicon: Any = None) -> None:
        self.path = path
        self.base = base
        self.warnings: list[RulesWarning] = []
        self.lexicon_paths: dict[str, tuple[Path, int, bool, bool]] = {}
        self.lexicon_words: dict[str, tuple[str, ...]] = {}
        self.lexicon_norm: dict[str, tuple[str, ...]] = {}
        self.lexicon_conds: dict[tuple[str, str], C.Words] = {}
        self.used_lexicons: set[str] = set()
        self.next_id = 0
        self.settings = Settings()
        self.read_lexicon = read_lexicon or (lambda p: p.read_text(encoding="utf-8-sig"))

    # -- helpers ---------------------------------------------------------
    def err(self, message: str, line: int | None, key: str) -> RulesError:
        return RulesError(message, self.path, line or None, key)

    def warn(self, message: str, line: int | None, key: str) -> None:
        self.warnings.append(RulesWarning(message, self.path, line or None, key))

    @staticmethod
    def line_of(node: Any, key: Any, default: int = 0) -> int:
        if isinstance(node, (LineDict, LineList, LineDictView)):
            try:
                return node.line_of(key) or default
            except TypeError:
                return default
        return default

    @staticmethod
    def own_line(node: Any, default: int = 0) -> int:
        return getattr(node, "line", 0) or default

    def mapping(self, node: Any, line: int, key: str, what: str = "a mapping") -> dict:
        if not isinstance(node, dict):
            raise self.err(f"expected {what}, got {_kind(node)}", line, key)
        return node

    def check_keys(self, node: dict, allowed: Iterable[str], line: int, key: str) -> None:
        allowed = tuple(allowed)
        for k in node:
            if k not in allowed:
                hint = difflib.get_close_matches(str(k), allowed, n=1)
                more = f" (did you mean {hint[0]!r}?)" if hint else f" (known keys: {', '.join(allowed)})"
                raise self.err(f"unknown key {k!r}{more}", self.line_of(node, k, line), _join(key, k))

    def string(self, value: Any, line: int, key: str, *, allow_empty: bool = False) -> str:
        if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
            if value is None and allow_empty:
                return ""
            raise self.err(f"expected text, got {_kind(value)}", line, key)
        text = str(value)
        if not text.strip() and not allow_empty:
            raise self.err("must not be empty", line, key)
        return text

    def strings(self, value: Any, line: int, key: str) -> list[str]:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return [str(value)]
        if not isinstance(value, list):
            raise self.err(f"expected a list, got {_kind(value)}", line, key)
        return [self.string(v, self.line_of(value, i, line), f"{key}[{i}]") for i, v in enumerate(value)]

    def boolean(self, value: Any, line: int, key: str) -> bool:
        if not isinstance(value, bool):
            raise self.err(f"expected true or false, got {value!r}", line, key)
        return value

    def integer(self, value: Any, line: int, key: str, minimum: int = 0) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.err(f"expected a whole number, got {value!r}", line, key)
        if value < minimum:
            raise self.err(f"must be at least {minimum}", line, key)
        return value

    def duration(self, value: Any, line: int, key: str) -> timedelta:
        d = parse_duration(value)
        if d is None:
            raise self.err(f"bad duration {value!r} (write e.g. 30s, 10m, 24h, 30d)", line, key)
        return d

    def severity(self, value: Any, line: int, key: str) -> Severity:
        sev = _SEVERITY_ALIASES.get(str(value).strip().lower()) if isinstance(value, str) else None
        if sev is None:
            raise self.err(
                f"bad severity {value!r} (one of minor, moderate, severe, malicious / 轻微, 中度, 严重, 恶意)",
                line,
                key,
            )
        return sev

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    # -- top level -------------------------------------------------------
    def load(self, data: Any) -> RuleSet:
        if data is None:
            raise self.err("the rules file is empty", 1, "")
        top = self.mapping(data, 1, "", "a mapping with rules: at the top")
        self.check_keys(top, TOP_KEYS, 1, "")
        version = top.get("version", 1)
        if version != 1:
            raise self.err(
                f"unsupported version {version!r} (this qunguard reads version 1)",
                self.line_of(top, "version", 1),
                "version",
            )
        if "settings" in top:
            self.settings = self.load_settings(top["settings"], self.line_of(top, "settings"))
        if "lexicons" in top:
            self.load_lexicon_paths(top["lexicons"], self.line_of(top, "lexicons"))
        from bot.ladder import LadderPolicy  # pure; imports nothing of bot.engine

        ladder = LadderPolicy.from_mapping(top.get("ladder"), self.path)
        if "rules" not in top or top["rules"] is None:
            raise self.err("missing rules: (a list of rules)", 1, "rules")
        rules_node = top["rules"]
        rline = self.line_of(top, "rules", 1)
        if not isinstance(rules_node, list):
            raise self.err(f"expected a list of rules, got {_kind(rules_node)}", rline, "rules")
        rules: list[Rule] = []
        seen: dict[str, int] = {}
        for i, node in enumerate(rules_node):
            rule = self.load_rule(node, self.line_of(rules_node, i, rline), i)
            if rule.name in seen:
                raise self.err(
                    f"duplicate rule name {rule.name!r} (first at line {seen[rule.name]})",
                    rule.line,
                    f"rules.{rule.name}.name",
                )
            seen[rule.name] = rule.line
            rules.append(rule)
        by_name = {r.name: r for r in rules}
        rooms: list[RoomOverride] = []
        if "rooms" in top and top["rooms"] is not None:
            roomline = self.line_of(top, "rooms", 1)
            if not isinstance(top["rooms"], list):
                raise self.err(f"expected a list, got {_kind(top['rooms'])}", roomline, "rooms")
            for i, node in enumerate(top["rooms"]):
                rooms.append(self.load_room(node, self.line_of(top["rooms"], i, roomline), i, by_name))
        for name in self.lexicon_paths:
            if name not in self.used_lexicons:
                self.warn("lexicon is not used by any rule", self.lexicon_paths[name][1], f"lexicons.{name}")
        for rule in rules:
            self.check_can_fire(rule, rooms)
        return RuleSet(
            rules=tuple(rules),
            settings=self.settings,
            ladder=ladder,
            rooms=tuple(rooms),
            lexicons=frozen_map(self.lexicon_words),
            warnings=tuple(self.warnings),
            path=self.path,
            version=1,
        )

    def load_settings(self, node: Any, line: int) -> Settings:
        if node is None:
            return Settings()
        node = self.mapping(node, line, "settings")
        self.check_keys(node, ("rules_bind_admins", "exempt", "new_member_days"), line, "settings")
        kw: dict[str, Any] = {}
        if "rules_bind_admins" in node:
            kw["rules_bind_admins"] = self.boolean(
                node["rules_bind_admins"],
                self.line_of(node, "rules_bind_admins", line),
                "settings.rules_bind_admins",
            )
        if "exempt" in node and node["exempt"] is not None:
            kw["exempt"] = frozenset(
                self.strings(node["exempt"], self.line_of(node, "exempt", line), "settings.exempt")
            )
        if "new_member_days" in node:
            v = node["new_member_days"]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
                raise self.err(
                    f"expected a number of days, got {v!r}",
                    self.line_of(node, "new_member_days", line),
                    "settings.new_member_days",
                )
            kw["new_member_days"] = float(v)
        return Settings(**kw)

    def load_lexicon_paths(self, node: Any, line: int) -> None:
        if node is None:
            return
        node = self.mapping(node, line, "lexicons")
        for name, spec in node.items():
            kline = self.line_of(node, name, line)
            key = f"lexicons.{name}"
            if not isinstance(name, str) or not _NAME_RE.match(name):
                raise self.err("a lexicon name is lower-case letters, digits, - and _", kline, key)
            pinyin, homophones = True, False
            if isinstance(spec, dict):
                self.check_keys(spec, ("file", "pinyin", "homophones"), kline, key)
                if "pinyin" in spec:
                    pinyin = self.boolean(
                        spec["pinyin"], self.line_of(spec, "pinyin", kline), f"{key}.pinyin"
                    )
                if "homophones" in spec:
                    homophones = self.boolean(
                        spec["homophones"], self.line_of(spec, "homophones", kline), f"{key}.homophones"
                    )
                spec = spec.get("file")
            rel = self.string(spec, kline, key)
            path = Path(rel)
            if not path.is_absolute():
                path = self.base / path
            self.lexicon_paths[name] = (path, kline, pinyin, homophones)

    def lexicon(self, name: str, line: int, key: str) -> tuple[str, ...]:
        if name in self.lexicon_norm:
            return self.lexicon_norm[name]
        if name not in self.lexicon_paths:
            known = ", ".join(self.lexicon_paths) or "none defined under lexicons:"
            raise self.err(f"unknown lexicon {name!r} (known: {known})", line, key)
        path, kline, _pinyin, _homophones = self.lexicon_paths[name]
        try:
            if path.stat().st_size > MAX_LEXICON_BYTES:
                raise self.err(
                    f"lexicon file {path} is larger than {MAX_LEXICON_BYTES >> 20} MB",
                    kline,
                    f"lexicons.{name}",
                )
            text = self.read_lexicon(path)
        except FileNotFoundError:
            raise self.err(f"lexicon file not found: {path}", kline, f"lexicons.{name}") from None
        except UnicodeDecodeError:
            raise self.err(f"lexicon file is not UTF-8: {path}", kline, f"lexicons.{name}") from None
        except OSError as exc:
            raise self.err(
                f"cannot read lexicon file {path}: {exc.strerror}", kline, f"lexicons.{name}"
            ) from None
        raw = parse_lexicon(text)
        self.lexicon_words[name] = tuple(raw)
        words = _dedupe(normalize(w) for w in raw)
        if not words:
            self.warn(f"lexicon file {path.name} has no words", kline, f"lexicons.{name}")
        self.lexicon_norm[name] = words
        return words

    # -- rules ---------------------------------------------------------------
    def load_rule(self, node: Any, line: int, index: int) -> Rule:
        node = self.mapping(node, line, f"rules[{index}]", "a rule (a mapping with name:, severity:, ...)")
        line = self.own_line(node, line)
        name_val = node.get("name")
        if name_val is None:
            raise self.err("a rule needs a name:", line, f"rules[{index}]")
        name = self.string(name_val, self.line_of(node, "name", line), f"rules[{index}].name")
        key = f"rules.{name}"
        if not _NAME_RE.match(name):
            raise self.err(
                "a rule name is lower-case letters, digits, - and _ (e.g. ad-contact-handle)",
                self.line_of(node, "name", line),
                f"{key}.name",
            )
        cond_keys = {k: v for k, v in node.items() if k in CONDITION_KEYS}
        self.check_keys(node, RULE_KEYS + CONDITION_KEYS, line, key)
        ln = lambda k: self.line_of(node, k, line)  # noqa: E731
        for required in ("category", "severity", "message"):
            if required not in node:
                raise self.err(f"a rule needs {required}:", line, f"{key}.{required}")
        category = self.string(node["category"], ln("category"), f"{key}.category")
        if not _CATEGORY_RE.match(category):
            raise self.err(
                "a category is one word (ad, flood, banned_topic, abuse, or your own)",
                ln("category"),
                f"{key}.category",
            )
        severity = self.severity(node["severity"], ln("severity"), f"{key}.severity")
        message = self.template(node["message"], ln("message"), f"{key}.message")
        description = self.string(
            node.get("description", ""), ln("description"), f"{key}.description", allow_empty=True
        )
        admins = ""
        if "admins" in node:
            admins = self.string(node["admins"], ln("admins"), f"{key}.admins")
            if admins not in ("bound", "exempt"):
                raise self.err(f"expected bound or exempt, got {admins!r}", ln("admins"), f"{key}.admins")
        enabled = (
            self.boolean(node["enabled"], ln("enabled"), f"{key}.enabled") if "enabled" in node else True
        )
        types = None
        if "types" in node and node["types"] is not None:
            types = self.types(node["types"], ln("types"), f"{key}.types")
        when = None
        if "when" in node and cond_keys:
            raise self.err(
                f"write conditions either under when: or directly on the rule, not both "
                f"({', '.join(cond_keys)})",
                ln(next(iter(cond_keys))),
                key,
            )
        if "when" in node:
            if node["when"] is None:
                raise self.err("when: is empty", ln("when"), f"{key}.when")
            when = self.condition(node["when"], ln("when"), f"{key}.when", 0)
        elif cond_keys:
            when = self.condition(LineDictView(node, cond_keys), line, key, 0)
        flood = None
        if "flood" in node:
            flood = self.flood(node["flood"], ln("flood"), f"{key}.flood")
        if when is None and flood is None:
            raise self.err("a rule needs conditions (when: ...) or flood: thresholds", line, key)
        match_ex: tuple[Example, ...] = ()
        no_match_ex: tuple[Example, ...] = ()
        if "examples" in node and node["examples"] is not None:
            match_ex, no_match_ex = self.examples(node["examples"], ln("examples"), f"{key}.examples")
        return Rule(
            name=name,
            category=category,
            severity=severity,
            message=message,
            when=when,
            flood=flood,
            description=description,
            admins=admins,
            types=types,
            enabled=enabled,
            match_examples=match_ex,
            no_match_examples=no_match_ex,
            line=line,
        )

    def template(self, value: Any, line: int, key: str) -> str:
        text = self.string(value, line, key)
        try:
            parsed = list(string.Formatter().parse(text))
        except ValueError as exc:
            raise self.err(
                f"bad template: {exc} (write {{{{ and }}}} for literal braces)", line, key
            ) from None
        for _lit, fname, spec, conv in parsed:
            if fname is None:
                continue
            if fname not in TEMPLATE_FIELDS:
                raise self.err(
                    f"unknown field {{{fname}}} (known: {', '.join(sorted(TEMPLATE_FIELDS))})", line, key
                )
            if spec or conv:
                raise self.err(f"write fields plainly, like {{{fname}}}", line, key)
        return text

    def types(self, value: Any, line: int, key: str) -> frozenset[MessageType]:
        names = self.strings(value, line, key)
        out = set()
        valid = [t.value for t in MessageType]
        for n in names:
            n2 = n.strip().lower()
            if n2 not in valid:
                hint = difflib.get_close_matches(n2, valid, n=1)
                more = f" (did you mean {hint[0]!r}?)" if hint else f" (one of {', '.join(valid)})"
                raise self.err(f"unknown message type {n!r}{more}", line, key)
            out.add(MessageType(n2))
        if not out:
            raise self.err("the list of types is empty", line, key)
        return frozenset(out)

    def flood(self, node: Any, line: int, key: str, base: FloodSpec | None = None) -> FloodSpec:
        node = self.mapping(node, line, key)
        self.check_keys(node, FLOOD_KEYS, line, key)
        kw: dict[str, Any] = {}
        if base is not None:
            kw = {k: getattr(base, k) for k in FLOOD_KEYS}
        pairs = {"burst": "messages", "repeat": "copies", "cross_room": "rooms"}
        minimum = {"burst": 1, "repeat": 2, "cross_room": 2}
        for kind, count_key in pairs.items():
            if kind not in node:
                continue
            kline = self.line_of(node, kind, line)
            sub = node[kind]
            if sub is None or sub is False:
                kw[kind] = None
                continue
            sub = self.mapping(sub, kline, f"{key}.{kind}", f"{{{count_key}: N, seconds: T}}")
            self.check_keys(sub, (count_key, "seconds"), kline, f"{key}.{kind}")
            for need in (count_key, "seconds"):
                if need not in sub:
                    raise self.err(f"missing {need}:", kline, f"{key}.{kind}.{need}")
            n = self.integer(
                sub[count_key],
                self.line_of(sub, count_key, kline),
                f"{key}.{kind}.{count_key}",
                minimum[kind],
            )
            secs = self.duration(sub["seconds"], self.line_of(sub, "seconds", kline), f"{key}.{kind}.seconds")
            if secs.total_seconds() <= 0 or secs > timedelta(days=1):
                raise self.err(
                    "the window must be between 1 second and 1 day",
                    self.line_of(sub, "seconds", kline),
                    f"{key}.{kind}.seconds",
                )
            kw[kind] = (n, secs.total_seconds())
        if "album_seconds" in node:
            d = self.duration(
                node["album_seconds"], self.line_of(node, "album_seconds", line), f"{key}.album_seconds"
            )
            kw["album_seconds"] = d.total_seconds()
        if "min_length" in node:
            kw["min_length"] = self.integer(
                node["min_length"], self.line_of(node, "min_length", line), f"{key}.min_length"
            )
        spec = FloodSpec(**kw)
        if base is None and spec.burst is None and spec.repeat is None and spec.cross_room is None:
            raise self.err("flood: needs burst:, repeat: or cross_room:", line, key)
        return spec

    def examples(self, node: Any, line: int, key: str) -> tuple[tuple[Example, ...], tuple[Example, ...]]:
        node = self.mapping(node, line, key, "match: and no_match: lists")
        self.check_keys(node, ("match", "no_match"), line, key)
        out = []
        for which in ("match", "no_match"):
            items = node.get(which) or []
            wline = self.line_of(node, which, line)
            if isinstance(items, (str, dict)):
                items = [items]
            if not isinstance(items, list):
                raise self.err(
                    f"expected a list of sample messages, got {_kind(items)}", wline, f"{key}.{which}"
                )
            exs = []
            for i, item in enumerate(items):
                exs.append(self.example(item, self.line_of(items, i, wline), f"{key}.{which}[{i}]"))
            out.append(tuple(exs))
        return out[0], out[1]

    def example(self, item: Any, line: int, key: str) -> Example:
        if isinstance(item, (str, int, float)) and not isinstance(item, bool):
            return Example(text=str(item), line=line)
        item = self.mapping(item, line, key, "a sample message (text or a mapping)")
        line = self.own_line(item, line)
        self.check_keys(item, EXAMPLE_KEYS, line, key)
        kw: dict[str, Any] = {"line": line}
        for k, v in item.items():
            kline = self.line_of(item, k, line)
            if k == "type":
                kw["type"] = next(iter(self.types(v, kline, f"{key}.type")))
            elif k == "qr":
                kw["qr"] = tuple(self.strings(v, kline, f"{key}.qr"))
            elif k in ("new_member", "admin"):
                kw[k] = self.boolean(v, kline, f"{key}.{k}")
            else:
                kw[k] = self.string(v, kline, f"{key}.{k}", allow_empty=True)
        if "type" not in kw:
            if kw.get("url"):
                kw["type"] = MessageType.URL
            elif kw.get("card_name"):
                kw["type"] = MessageType.CONTACT_CARD
            elif kw.get("app"):
                kw["type"] = MessageType.MINI_PROGRAM
            elif kw.get("qr"):
                kw["type"] = MessageType.IMAGE
            elif kw.get("file_name"):
                kw["type"] = MessageType.FILE
        return Example(**kw)

    # -- conditions --------------------------------------------------------
    def condition(self, node: Any, line: int, key: str, depth: int, field: str = "text") -> C.Condition:
        if depth > MAX_DEPTH:
            raise self.err(f"conditions nested more than {MAX_DEPTH} deep", line, key)
        if isinstance(node, list):
            if not node:
                raise self.err("an empty list of conditions", line, key)
            items = tuple(
                self.condition(c, self.line_of(node, i, line), f"{key}[{i}]", depth + 1, field)
                for i, c in enumerate(node)
            )
            return items[0] if len(items) == 1 else C.AllOf(items, line)
        if not isinstance(node, dict):
            raise self.err(
                f"expected a condition such as keywords:, regex:, any:, got {_kind(node)}", line, key
            )
        if not node:
            raise self.err("an empty condition", line, key)
        line = self.own_line(node, line)
        self.check_keys(node, CONDITION_KEYS, line, key)
        conds: list[C.Condition] = []
        for kind, value in node.items():
            kline = self.line_of(node, kind, line)
            conds.append(self.one_condition(kind, value, kline, f"{key}.{kind}", depth, field))
        return conds[0] if len(conds) == 1 else C.AllOf(tuple(conds), line)

    def one_condition(
        self, kind: str, value: Any, line: int, key: str, depth: int, field: str
    ) -> C.Condition:
        if kind == "keywords":
            words = self.strings(value, line, key)
            if not words:
                raise self.err("the keyword list is empty", line, key)
            norm = _dedupe(normalize(w) for w in words)
            if not norm:
                raise self.err("no keyword is left after normalisation (only spaces or symbols?)", line, key)
            return C.Words(self.new_id(), norm, "keywords", field, line)
        if kind == "lexicon":
            names = self.strings(value, line, key)
            if not names:
                raise self.err("no lexicon named", line, key)
            conds: list[C.Condition] = [self.lexicon_cond(n, line, key, field) for n in names]
            return conds[0] if len(conds) == 1 else C.AnyOf(tuple(conds), line)
        if kind in ("regex", "raw_regex"):
            patterns = self.strings(value, line, key)
            if not patterns:
                raise self.err("no pattern given", line, key)
            regs: list[C.Condition] = [
                self.regex(p, line, key, raw=kind == "raw_regex", field=field) for p in patterns
            ]
            return regs[0] if len(regs) == 1 else C.AnyOf(tuple(regs), line)
        if kind == "type":
            return C.TypeIs(self.types(value, line, key), line)
        if kind == "domain":
            return self.domain(value, line, key, qr_only=False)
        if kind == "qr":
            if value in ("any", True):
                return C.Domain(any_qr=True, qr_only=True, line=line)
            return self.domain(value, line, key, qr_only=True)
        if kind == "file_name":
            if isinstance(value, (list, str)):
                value = {"keywords": value}
            sub = self.mapping(value, line, key, "{keywords: [...]} or {regex: ...}")
            return self.field_matcher(sub, "file_name", line, key, depth)
        if kind == "field":
            sub = self.mapping(value, line, key, "{name: title, keywords: [...]}")
            if "name" not in sub:
                raise self.err(f"missing name: (one of {', '.join(FIELDS)})", line, f"{key}.name")
            fname = sub["name"]
            if fname not in FIELDS:
                raise self.err(
                    f"unknown field {fname!r} (one of {', '.join(FIELDS)})",
                    self.line_of(sub, "name", line),
                    f"{key}.name",
                )
            rest = {k: v for k, v in sub.items() if k != "name"}
            return self.field_matcher(LineDictView(sub, rest), fname, line, key, depth)
        if kind == "count":
            return self.count(value, line, key)
        if kind == "sender":
            return self.sender(value, line, key)
        if kind in ("any", "all"):
            if isinstance(value, dict):
                value = [{k: v} for k, v in value.items()]
            if not isinstance(value, list) or not value:
                raise self.err(f"{kind}: takes a non-empty list of conditions", line, key)
            items = tuple(
                self.condition(c, self.line_of(value, i, line), f"{key}[{i}]", depth + 1, field)
                for i, c in enumerate(value)
            )
            return C.AnyOf(items, line) if kind == "any" else C.AllOf(items, line)
        if kind == "not":
            inner = self.condition(value, line, key, depth + 1, field)
            if isinstance(value, list) and isinstance(inner, C.AllOf):
                inner = C.AnyOf(inner.items, line)  # not: [a, b] reads as "neither a nor b"
            return C.Not(inner, line)
        raise self.err(f"unknown condition {kind!r}", line, key)  # pragma: no cover - check_keys first

    def field_matcher(self, node: dict, fname: str, line: int, key: str, depth: int) -> C.Condition:
        allowed = ("keywords", "lexicon", "regex", "raw_regex", "any", "all", "not")
        self.check_keys(node, allowed, line, key)
        if not node:
            raise self.err("say what to match: keywords:, lexicon: or regex:", line, key)
        items = [
            self.one_condition(k, v, self.line_of(node, k, line), f"{key}.{k}", depth + 1, fname)
            for k, v in node.items()
        ]
        return items[0] if len(items) == 1 else C.AllOf(tuple(items), line)

    def lexicon_cond(self, name: str, line: int, key: str, field: str) -> C.Words:
        cached = self.lexicon_conds.get((name, field))
        if cached is not None:
            self.used_lexicons.add(name)
            return cached
        words = self.lexicon(name, line, key)
        self.used_lexicons.add(name)
        _path, _line, pinyin, homophones = self.lexicon_paths[name]
        cond = C.Words(
            self.new_id(),
            words,
            f"lexicon:{name}",
            field,
            line,
            pinyin=pinyin,
            homophones=pinyin and homophones,
        )
        self.lexicon_conds[(name, field)] = cond
        return cond

    def regex(self, pattern: str, line: int, key: str, *, raw: bool, field: str) -> C.Regex:
        source = pattern if raw else fold_pattern(pattern)
        try:
            compiled = re2.compile(source, re2_options(case_sensitive=raw))
        except re2.error as exc:
            raise self.err(f"bad regular expression {pattern!r}: {_re2_reason(exc)}", line, key) from None
        except (TypeError, ValueError) as exc:
            raise self.err(f"bad regular expression {pattern!r}: {exc}", line, key) from None
        if not raw and _SPACE_BETWEEN_HANZI.search(pattern):
            self.warn(
                "this pattern needs a space between two hanzi, but normalisation removes those "
                "(兼 职 -> 兼职): write the hanzi together, or use raw_regex:",
                line,
                key,
            )
        return C.Regex(pattern, compiled, raw, field, line, cond_id=self.new_id(), source=source)

    def domain(self, value: Any, line: int, key: str, *, qr_only: bool) -> C.Domain:
        if isinstance(value, (list, str)):
            value = {"deny": value}
        node = self.mapping(value, line, key, "{deny: [...], allow: [...]}")
        self.check_keys(node, ("deny", "allow"), line, key)
        deny = tuple(
            _clean_domain(d)
            for d in self.strings(node.get("deny") or [], self.line_of(node, "deny", line), f"{key}.deny")
        )
        allow = tuple(
            _clean_domain(d)
            for d in self.strings(node.get("allow") or [], self.line_of(node, "allow", line), f"{key}.allow")
        )
        if not deny and not allow:
            raise self.err("give a deny: or an allow: list of domains", line, key)
        return C.Domain(deny, allow, qr_only=qr_only, line=line)

    def count(self, value: Any, line: int, key: str) -> C.Condition:
        node = self.mapping(value, line, key, '{links: ">=2"}')
        self.check_keys(node, C.COUNT_METRICS, line, key)
        if not node:
            raise self.err(f"say what to count: {', '.join(C.COUNT_METRICS)}", line, key)
        items: list[C.Condition] = []
        for metric, cmp in node.items():
            mline = self.line_of(node, metric, line)
            if isinstance(cmp, bool):
                cmp = None
            m = _COMPARE_RE.match(str(cmp)) if cmp is not None else None
            if m is None:
                raise self.err(
                    f'expected a comparison like ">=2", "<5" or "==0", got {cmp!r}', mline, f"{key}.{metric}"
                )
            items.append(C.Count(metric, m.group(1) or ">=", int(m.group(2)), mline))
        return items[0] if len(items) == 1 else C.AllOf(tuple(items), line)

    def sender(self, value: Any, line: int, key: str) -> C.SenderIs:
        node = self.mapping(value, line, key, "{new: true} or {joined_within: 3d} or {admin: true}")
        self.check_keys(node, ("new", "joined_within", "admin", "exempt"), line, key)
        if not node:
            raise self.err("say which sender: new, joined_within, admin or exempt", line, key)
        kw: dict[str, Any] = {"line": line}
        for k, v in node.items():
            kline = self.line_of(node, k, line)
            if k == "joined_within":
                kw[k] = self.duration(v, kline, f"{key}.{k}")
            else:
                kw[k] = self.boolean(v, kline, f"{key}.{k}")
        return C.SenderIs(**kw)

    # -- rooms ---------------------------------------------------------------
    def load_room(self, node: Any, line: int, index: int, rules: Mapping[str, Rule]) -> RoomOverride:
        key = f"rooms[{index}]"
        node = self.mapping(node, line, key, "a room override (match:, disable:, ...)")
        line = self.own_line(node, line)
        self.check_keys(node, ROOM_KEYS, line, key)
        if "match" not in node:
            raise self.err(
                "a room override needs match: {id: ...} or {name_contains: [...]}", line, f"{key}.match"
            )
        mline = self.line_of(node, "match", line)
        match = self.mapping(node["match"], mline, f"{key}.match")
        self.check_keys(match, ("id", "ids", "name_contains"), mline, f"{key}.match")
        ids: set[str] = set()
        for k in ("id", "ids"):
            if k in match:
                ids.update(self.strings(match[k], self.line_of(match, k, mline), f"{key}.match.{k}"))
        names = tuple(
            self.strings(
                match.get("name_contains") or [],
                self.line_of(match, "name_contains", mline),
                f"{key}.match.name_contains",
            )
        )
        if not ids and not names:
            raise self.err("match: selects no room (give id:, ids: or name_contains:)", mline, f"{key}.match")

        def rule_names(k: str) -> frozenset[str]:
            if k not in node or node[k] is None:
                return frozenset()
            kline = self.line_of(node, k, line)
            out = self.strings(node[k], kline, f"{key}.{k}")
            for i, n in enumerate(out):
                if n not in rules:
                    raise self.err(f"no rule named {n!r}", self.line_of(node[k], i, kline), f"{key}.{k}")
            return frozenset(out)

        disable = rule_names("disable")
        enable = rule_names("enable")
        add_words: dict[str, C.Condition] = {}
        if node.get("add_words") is not None:
            aline = self.line_of(node, "add_words", line)
            aw = self.mapping(node["add_words"], aline, f"{key}.add_words", "{rule-name: [words]}")
            for rname, words in aw.items():
                wline = self.line_of(aw, rname, aline)
                if rname not in rules:
                    raise self.err(f"no rule named {rname!r}", wline, f"{key}.add_words.{rname}")
                if rules[rname].when is None:
                    raise self.err(
                        f"rule {rname!r} has no word conditions to add to", wline, f"{key}.add_words.{rname}"
                    )
                add_words[rname] = self.one_condition(
                    "keywords", words, wline, f"{key}.add_words.{rname}", 1, "text"
                )
        flood: dict[str, Any] = {}
        if node.get("flood") is not None:
            fline = self.line_of(node, "flood", line)
            fl = self.mapping(node["flood"], fline, f"{key}.flood", "{rule-name: {burst: ...}}")
            for rname, spec in fl.items():
                sline = self.line_of(fl, rname, fline)
                if rname not in rules:
                    raise self.err(f"no rule named {rname!r}", sline, f"{key}.flood.{rname}")
                if rules[rname].flood is None:
                    raise self.err(f"rule {rname!r} is not a flood rule", sline, f"{key}.flood.{rname}")
                flood[rname] = self.flood(spec, sline, f"{key}.flood.{rname}", base=rules[rname].flood)
        severity: dict[str, Any] = {}
        if node.get("severity") is not None:
            sline = self.line_of(node, "severity", line)
            sv = self.mapping(node["severity"], sline, f"{key}.severity", "{rule-name: severity}")
            for rname, sev in sv.items():
                rl = self.line_of(sv, rname, sline)
                if rname not in rules:
                    raise self.err(f"no rule named {rname!r}", rl, f"{key}.severity.{rname}")
                severity[rname] = self.severity(sev, rl, f"{key}.severity.{rname}")
        exempt: frozenset[str] = frozenset()
        if node.get("exempt") is not None:
            exempt = frozenset(
                self.strings(node["exempt"], self.line_of(node, "exempt", line), f"{key}.exempt")
            )
        return RoomOverride(
            match=RoomSelector(frozenset(ids), names),
            disable=disable,
            enable=enable,
            add_words=frozen_map(add_words),
            flood=frozen_map(flood),
            severity=frozen_map(severity),
            exempt=exempt,
            line=line,
        )

    # -- static analysis -------------------------------------------------------
    def check_can_fire(self, rule: Rule, rooms: list[RoomOverride]) -> None:
        key = f"rules.{rule.name}"
        if not rule.enabled and not any(rule.name in r.enable for r in rooms):
            self.warn("rule is disabled (enabled: false) and no room enables it", rule.line, key)
            return
        if rule.when is None:
            return
        types = rule.types
        reason = _never(rule.when, set(types) if types is not None else None, self.settings)
        if reason:
            self.warn(f"rule can never fire: {reason}", rule.line, key)


class LineDictView(dict):  # type: ignore[type-arg]
    """A sub-mapping of a LineDict that keeps the parent's line numbers."""

    def __init__(self, parent: Any, items: dict) -> None:
        super().__init__(items)
        self.line = getattr(parent, "line", 0)
        self.lines = getattr(parent, "lines", {})

    def line_of(self, key: Any) -> int:
        return self.lines.get(key, self.line)


_TEXTLESS = {
    MessageType.IMAGE,
    MessageType.VIDEO,
    MessageType.AUDIO,
    MessageType.EMOTICON,
    MessageType.LOCATION,
    MessageType.RECALLED,
}


def _never(cond: C.Condition, types: set[MessageType] | None, settings: Settings | None = None) -> str:
    """Why ``cond`` can never hold for messages of ``types`` (None = any), or ''."""
    if isinstance(cond, C.Words):
        if not cond.words:
            return f"{cond.source} has no words"
        if cond.field == "text" and types is not None and types <= _TEXTLESS:
            return f"{cond.source} looks at text, but {', '.join(sorted(t.value for t in types))} messages have none"
        return ""
    if isinstance(cond, C.TypeIs):
        if types is not None and not (cond.types & types):
            return (
                f"type: {', '.join(sorted(t.value for t in cond.types))} is outside the rule's types: "
                f"{', '.join(sorted(t.value for t in types))}"
            )
        return ""
    if isinstance(cond, C.Count):
        if cond.n == 0 and cond.op == "<":
            return f"count {cond.metric} < 0 is impossible"
        return ""
    if isinstance(cond, C.SenderIs):
        if cond.new and settings is not None and settings.new_member_days <= 0:
            return "sender: {new: true} with settings.new_member_days: 0 matches nobody"
        return ""
    if isinstance(cond, C.AllOf):
        narrowed = types
        for c in cond.items:
            if isinstance(c, C.TypeIs):
                narrowed = set(c.types) if narrowed is None else narrowed & c.types
                if not narrowed:
                    return "its type: conditions exclude each other"
        for c in cond.items:
            reason = _never(c, narrowed, settings)
            if reason:
                return reason
        return ""
    if isinstance(cond, C.AnyOf):
        reasons = [_never(c, types, settings) for c in cond.items]
        return reasons[0] if all(reasons) else ""
    return ""


def _re2_reason(exc: Exception) -> str:
    text = str(exc)
    for marker in (
        "missing )",
        "missing ]",
        "unexpected )",
        "bad repetition",
        "bad escape",
        "invalid character class",
        "invalid escape",
        "bad named capture",
        "trailing \\",
        "invalid perl operator",
        "invalid UTF-8",
        "pattern too large",
    ):
        if marker in text:
            if marker == "missing )":
                return "unclosed group: missing )"
            if marker == "missing ]":
                return "unclosed character class: missing ]"
            return marker
    return text.strip("'\"() ") or "invalid pattern"


def _clean_domain(entry: str) -> str:
    e = entry.strip().lower()
    if e.endswith("://") or e == "*":
        return e
    if "://" in e:
        e = e.split("://", 1)[1]
    return e.strip("/").lstrip(".").removeprefix("*.")


def _dedupe(words: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for w in words:
        w = w.strip()
        if w:
            seen.setdefault(w, None)
    return tuple(seen)


def parse_lexicon(text: str) -> list[str]:
    """One word per line; ``#`` starts a comment (a whole line, or after a space)."""
    out = []
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        for sep in (" #", "\t#"):
            if sep in s:
                s = s.split(sep, 1)[0].strip()
        if s:
            out.append(s)
    return out


def _join(key: str, k: Any) -> str:
    return f"{key}.{k}" if key else str(k)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{value!r}".lower()
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"text {value[:40]!r}"
    return f"{type(value).__name__} {value!r}"


def parse_rules(text: str, path: str = "rules.yaml", base: Path | None = None) -> RuleSet:
    """Parse rules from a string; lexicon paths are relative to ``base``."""
    try:
        data = load_yaml(text, path)
    except YamlSyntaxError as exc:
        raise RulesError(exc.message, path, exc.line) from None
    try:
        return _Loader(path, base if base is not None else Path(path).resolve().parent).load(data)
    except RecursionError:
        raise RulesError("the rules are nested too deeply", path, None) from None


def load_rules(path: str | Path, *, check_examples: bool = False) -> RuleSet:
    """Read and validate a rules file; raises :class:`RulesError` naming file:line: key.

    With ``check_examples`` every rule must also pass its own ``examples:``
    (the first failure is raised), so a live reload refuses an edit that
    breaks them, as ``qunguard check`` does."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RulesError("rules file not found", str(p)) from None
    except UnicodeDecodeError:
        raise RulesError("rules file is not UTF-8 text", str(p)) from None
    except OSError as exc:
        raise RulesError(f"cannot read rules file: {exc.strerror}", str(p)) from None
    rules = parse_rules(text, str(p), p.resolve().parent)
    if check_examples:
        from bot.engine.engine import Engine

        failures = Engine(rules).check_examples()
        if failures:
            raise failures[0]
    return rules
