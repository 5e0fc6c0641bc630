"""Property-based tests: whatever comes in (random Unicode, empty or 1 MB
messages, random rules files), the result is a verdict or a clear RulesError,
never a crash."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.engine import Engine, load_rules, normalize, parse_rules
from bot.engine.normalize import fingerprint
from bot.errors import RulesError
from bot.events import Message, MessageType, Sender
from bot.verdicts import Violation

FIXTURE = Path(__file__).parent / "fixtures" / "rules.yaml"
ENGINE = Engine(load_rules(FIXTURE))
T0 = datetime(2026, 11, 20, tzinfo=timezone.utc)

# Text that looks like what spammers send: hanzi, full-width, emoji, zero-width, Cyrillic, digits.
chatty = st.text(
    alphabet=st.one_of(
        st.sampled_from(
            list(
                "加微信vxVX兼职日结刷单博彩傻逼sbnmsl①②③一二三四五六七八九零 .-_/\n♥🔥💰\u200b\u200d\ufeffеха：，。"
            )
        ),
        st.characters(codec="utf-8"),
    ),
    max_size=200,
)


@settings(deadline=None)
@given(st.text(max_size=500))
def test_normalize_never_crashes_on_random_unicode(text):
    out = normalize(text)
    assert isinstance(out, str)
    assert isinstance(fingerprint(out), str)


@settings(deadline=None)
@given(chatty)
def test_normalize_never_grows_text_much(text):
    assert len(normalize(text)) <= 4 * len(text) + 4


@settings(deadline=None)
@given(chatty)
def test_a_hanzi_word_is_found_inside_a_sentence_after_normalisation(word):
    sentence = f"你好{word}再见"
    if normalize(word) and all("\u4e00" <= c <= "\u9fff" for c in normalize(word)):
        assert normalize(word) in normalize(sentence)


messages = st.builds(
    Message,
    id=st.text(max_size=5),
    room_id=st.sampled_from(["r1", "r2", "d-pm"]),
    sender_id=st.sampled_from(["a", "b", "wxid_trusted"]),
    at=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(timezone.utc)
    ),
    type=st.sampled_from(list(MessageType)),
    text=chatty,
    room_topic=st.sampled_from(["", "产品经理内推群", "金矿提金技术交流群"]),
    sender_name=chatty,
    url=st.one_of(st.just(""), st.text(max_size=60), st.just("https://t.cn/abc")),
    title=chatty,
    description=chatty,
    app=st.text(max_size=10),
    card_name=st.text(max_size=10),
    file_name=st.text(max_size=40),
    media_key=st.text(max_size=10),
    qr_payloads=st.lists(st.text(max_size=60), max_size=3).map(tuple),
    mention_ids=st.lists(st.text(max_size=5), max_size=3).map(tuple),
)
senders = st.builds(
    Sender,
    contact_id=st.just("a"),
    is_admin=st.booleans(),
    is_exempt=st.booleans(),
    is_bot=st.booleans(),
    joined_at=st.one_of(st.none(), st.just(T0), st.just(datetime(2026, 11, 20))),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages, senders)
def test_every_message_gets_a_verdict(message, sender):
    out = ENGINE.evaluate(message, sender)
    assert all(isinstance(v, Violation) for v in out)
    for v in out:
        assert v.evidence, v


def test_a_one_megabyte_message_gets_a_verdict():
    big = "兼职日结加微信" + "字" * 1_000_000
    for mtype in (MessageType.TEXT, MessageType.URL):
        message = Message(
            id="big", room_id="r", sender_id="s", at=T0, type=mtype, text=big, title=big, url=big
        )
        assert ENGINE.evaluate(message, Sender("s"))[0].rule == "ad-contact-handle"


def test_a_long_burst_of_random_times_keeps_working():
    for i in range(500):
        at = T0 + timedelta(seconds=(i * 7919) % 3600)  # out of order on purpose
        ENGINE.evaluate(Message(id=str(i), room_id="r", sender_id="s", at=at, text="x"), Sender("s"))


KEYS = [
    "version",
    "settings",
    "lexicons",
    "ladder",
    "rules",
    "rooms",
    "name",
    "category",
    "severity",
    "message",
    "when",
    "flood",
    "keywords",
    "lexicon",
    "regex",
    "raw_regex",
    "type",
    "types",
    "domain",
    "qr",
    "file_name",
    "count",
    "sender",
    "any",
    "all",
    "not",
    "field",
    "examples",
    "match",
    "no_match",
    "burst",
    "repeat",
    "cross_room",
    "messages",
    "seconds",
    "deny",
    "allow",
    "links",
    "new",
    "admin",
    "disable",
    "add_words",
    "id",
    "name_contains",
    "tiers",
    "window",
    "minor",
    "admins",
    "enabled",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 100),
    st.text(max_size=12),
    st.sampled_from(["minor", "ad", "24h", ">=2", "text", "(a+", "[x", "加微信", "any", "10m", "t.cn"]),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=5)), inner, max_size=5),
    ),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_random_rules_documents_load_or_fail_clearly(doc):
    text = yaml.safe_dump(doc, allow_unicode=True)
    try:
        rules = parse_rules(text, "random.yaml", Path("/nonexistent"))
    except RulesError as err:
        assert str(err).startswith("random.yaml")
        return
    engine = Engine(rules)
    engine.evaluate_text("加微信 兼职 t.cn/abc")
    engine.check_examples()


def rule_docs():
    cond = st.recursive(
        st.one_of(
            st.builds(lambda w: {"keywords": w}, st.lists(chatty.filter(str.strip), min_size=1, max_size=3)),
            st.builds(
                lambda p: {"regex": p}, st.sampled_from(["微信", "(a+)+$", "\\d{5,}", "[a-z]{3}", "x*"])
            ),
            st.builds(lambda t: {"type": t}, st.sampled_from(["text", "url", "image"])),
            st.just({"qr": "any"}),
            st.just({"domain": {"deny": ["t.cn"]}}),
            st.just({"count": {"digits": ">=5"}}),
            st.just({"sender": {"new": True}}),
        ),
        lambda inner: st.one_of(
            st.builds(lambda xs: {"any": xs}, st.lists(inner, min_size=1, max_size=3)),
            st.builds(lambda xs: {"all": xs}, st.lists(inner, min_size=1, max_size=3)),
            st.builds(lambda x: {"not": x}, inner),
        ),
        max_leaves=6,
    )
    rule = st.builds(
        lambda i, when: {
            "name": f"r{i}",
            "category": "ad",
            "severity": "minor",
            "message": "m",
            "when": when,
        },
        st.integers(0, 1000),
        cond,
    )
    return st.lists(rule, min_size=1, max_size=4, unique_by=lambda r: r["name"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule_docs(), chatty)
def test_valid_random_rules_judge_random_text(rule_list, text):
    try:
        rules = parse_rules(yaml.safe_dump({"rules": rule_list}, allow_unicode=True), "r.yaml")
    except RulesError as err:  # e.g. a keyword that is only symbols
        assert "r.yaml" in str(err)
        return
    for v in Engine(rules).evaluate_text(text):
        assert v.rule.startswith("r")


PATHOLOGICAL = [
    "🔥" * 100_000 + "。",
    "a-" * 50_000 + ".",
    "x.com/" * 20_000,
    "一二三四五 " * 20_000,
    "中🔥" * 50_000,
    "v" + "-" * 100_000 + "x",
    "https://a.com " * 10_000,
]


def test_pathological_long_inputs_are_judged_in_linear_time():
    # no timing assertion: a quadratic step here would take minutes, not seconds
    for text in PATHOLOGICAL:
        ENGINE.evaluate(
            Message(id="p", room_id="r", sender_id="s", at=T0, text=text), Sender("s"), track=False
        )
        normalize(text)


ascii_chatty = st.text(
    alphabet=st.sampled_from(list("vxwqja iexnhtc.-_/*~|,!?;:+0123456789\n\t")), max_size=80
)


@settings(max_examples=500, deadline=None)
@given(ascii_chatty)
def test_the_ascii_fast_path_agrees_with_the_general_steps(text):
    from bot.engine.normalize import _folded, _folded_ascii, fold_chars

    t = fold_chars(text)
    assert _folded_ascii(t) == _folded(t)
