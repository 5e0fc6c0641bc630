"""The regex index answers exactly what running every pattern would, however its
prefilter splits, triggers and skips them; and the prefilter's pieces (gaps,
alternatives, clauses) read patterns as RE2 does or step aside."""

from __future__ import annotations

import pytest
import re2

from bot.engine import checks as C
from bot.engine.loader import re2_options
from bot.engine.prefilter import has_gap, literal_strings, required_clauses, split_alternatives
from bot.engine.regexes import RegexIndex

LONG_TEXT = 400  # the old split between short and long texts: both still answer alike

PATTERNS = [
    "(差|还差|就差).{0,6}(助力|一刀|砍)",
    "兼职.{0,12}(日结|在家.{0,3}(做|完成)|手机(就|即)?(能|可)?(做|操作))",
    "(微信|qq)(号|群|号码)?[^,.!?。:]{1,8}:\\s?([a-z][a-z0-9_\\-]{2,}[0-9]|1[3-9][0-9]{9})",
    "[?？吗]$|有没有|^有.{0,6}的(朋友|人|同学)吗",
    "(菠菜|bc|du).{0,3}(平台|导师|回血|场)",
    "(^|[^a-z0-9])2b([^a-z0-9]|$)",
    "kasino.{0,4}(ss|平台)",
    "你(们)?[^,.!?。]{0,4}活该(被|离婚|挨)",
    "[|]x.*y|z",
    "\\p{Han}{2}.{0,3}xx",
    "\\Q.*\\E.{0,2}a",
    "[[:digit:]].{0,3}号",
    "a{,3}b.*c",
    "(?i:AB).{0,2}cd",
    "(邮票|糖果).{0,3}(邮票|糖果)",
    "qq群.{0,8}[0-9]{5,}",
    "(微信|qq)(号|群)?同号|电话号",  # literals in disguise: found by the literal search
    "kk|(ab|cd)e?",  # k also matches the Kelvin sign: RE2 looks for that alternative
    "İx|[a-c]{2}z",  # İ folds to two characters
    "(?i)qq号",
]

TEXTS = [
    "",
    "还差一点",
    "就差一刀了大家帮帮忙",
    "差不多了,我砍了",
    "兼职在家也能做",
    "加我微信号:abc123",
    "微信 联系:13812345678",
    "有没有人知道",
    "有好玩的朋友吗",
    "你们知道吗?",
    "bc平台稳",
    "BC平台",
    "du场子",
    "2b",
    "a2b!",
    "12b",
    "\u212aasino ss",  # Kelvin sign: (?i)k matches it
    "kasino \u017f\u017f",  # long s: (?i)s matches it
    "KASINO 平台",
    "你就是活该被骂",
    "你们这种人,活该",
    "|xay",
    "QQ群同号",
    "电话号码",
    "\u212a\u212a",
    "xCDy",
    "İX",
    "i\u0307x",
    "bCz",
    "z",
    "中文xx",
    "中xx",
    ".*a",
    "xa",
    "7.号",
    "a{,3}b c",
    "bbbc",
    "ab-cd",
    "AB-cd",
    "邮票糖果",
    "邮票",
    "qq群 12345",
    "QQ群:123456789",
]


def _conds(raw: bool, field: str = "text") -> list[C.Regex]:
    opts = re2_options(case_sensitive=raw)
    return [
        C.Regex(p, re2.compile(p, opts), raw=raw, field=field, cond_id=i + 1, source=p)
        for i, p in enumerate(PATTERNS)
    ]


@pytest.mark.parametrize("raw", [False, True], ids=["folded", "raw"])
@pytest.mark.parametrize("pad", [0, LONG_TEXT], ids=["short", "long"])
def test_index_answers_what_each_pattern_answers(raw: bool, pad: int) -> None:
    conds = _conds(raw)
    index = RegexIndex(conds)
    assert index.sets[("text", raw)].triggers  # patterns with gaps run behind triggers
    for text in TEXTS:
        for t in (text, "。" * pad + text, text + "。" * pad) if text else (text,):
            data = t.encode("utf-8", "surrogatepass")
            expected = frozenset(c.cond_id for c in conds if data and c.compiled.search(t))
            assert index.match("text", raw, data) == expected, t


def test_a_field_without_patterns_has_no_index() -> None:
    index = RegexIndex(_conds(False))
    assert index.fields == [("text", False)]
    assert index.match("sender_name", False, b"x") is None


@pytest.mark.parametrize(
    ("pattern", "parts"),
    [
        ("a|b.*c", ["a", "b.*c"]),
        ("(a|b)c|d", ["(a|b)c", "d"]),
        ("[|]|x", ["[|]", "x"]),
        ("[]|]a|b", ["[]|]a", "b"]),
        ("a\\|b|c", ["a\\|b", "c"]),
        ("(?i)a|b", ["(?i)a|b"]),  # the flag reaches across |
        ("\\Qa|b\\E", ["\\Qa|b\\E"]),
    ],
    ids=["plain", "group", "class", "leading-bracket", "escaped", "flags", "quoted"],
)
def test_split_alternatives(pattern: str, parts: list[str]) -> None:
    assert split_alternatives(pattern) == parts


@pytest.mark.parametrize(
    ("pattern", "strings"),
    [
        ("兼职", {"兼职"}),
        ("(微信|qq)(号|群)?", {"微信", "qq"}),  # 微信号 holds 微信: one search finds both
        ("[a-c]x", {"ax", "bx", "cx"}),
        ("a{2,3}b", {"aab"}),  # aaab holds aab
        ("a\\+b", {"a+b"}),
        ("a|", None),  # matches the empty text: everywhere
        ("a?", None),
        ("^a", None),
        ("a\\d", None),
        ("(?i)ab", None),
        ("a.b", None),
        ("[0-9]+元", None),
    ],
    ids=[
        "plain",
        "groups",
        "class",
        "counted",
        "escape",
        "empty-alternative",
        "optional",
        "anchor",
        "digit-class",
        "flags",
        "dot",
        "open-repeat",
    ],
)
def test_literal_strings(pattern: str, strings: set[str] | None) -> None:
    assert literal_strings(pattern) == (None if strings is None else frozenset(strings))


@pytest.mark.parametrize(
    ("pattern", "gap"),
    [
        ("a.{0,8}b", True),
        ("a[^,。]{1,5}b", True),
        ("a.*b", True),
        ("(^|[^a-z0-9])2b([^a-z0-9]|$)", False),
        ("a.b", False),
        ("[0-9]{5,}", False),
    ],
    ids=["dot-count", "negated-count", "dot-star", "lone-negated", "lone-dot", "digits"],
)
def test_has_gap(pattern: str, gap: bool) -> None:
    assert has_gap(pattern) is gap


def test_a_clause_needs_every_factor() -> None:
    (clause,) = required_clauses("(差|还差|就差).{0,6}(助力|一刀|砍)", case_sensitive=False) or []
    needed = {clause.trigger} | {"|".join(sorted(f)) for f in clause.factors}
    assert len(needed) == 2  # 差 and one of 助力/一刀/砍, not either


@pytest.mark.parametrize(
    "pattern",
    ["\\Q.*\\E.{0,2}a", "[[:digit:]].{0,3}号", "a{,3}b.*c", "x.*|.+"],
    ids=["quoted", "posix-class", "open-repeat", "alternative-without-literal"],
)
def test_unsure_syntax_gets_no_clauses(pattern: str) -> None:
    assert required_clauses(pattern, case_sensitive=False) is None
