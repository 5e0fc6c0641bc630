"""The engine as a whole: who is judged, room overrides, evidence, examples."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.engine import Engine, load_rules, parse_rules
from bot.errors import RulesError
from bot.events import Message, MessageType, Sender
from bot.verdicts import Severity

FIXTURE = Path(__file__).parent / "fixtures" / "rules.yaml"
AT = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def engine() -> Engine:
    return Engine(load_rules(FIXTURE))


def say(
    text: str, *, room: str = "r-gold", topic: str = "金矿提金技术交流群", sender: str = "wxid_a", **kw
) -> Message:
    return Message(id="m1", room_id=room, sender_id=sender, at=AT, text=text, room_topic=topic, **kw)


def test_violation_carries_rule_fields_template_and_evidence(engine):
    (v,) = engine.evaluate(say("加我vx：abc12345 带你赚钱"), Sender("wxid_a"))
    assert (v.rule, v.category, v.severity) == ("ad-contact-handle", "ad", Severity.MINOR)
    assert (v.room_id, v.sender_id, v.message_id) == ("r-gold", "wxid_a", "m1")
    assert v.message == "请勿在群内发布联系方式或引流信息，请撤回该消息。"
    assert v.description == "发布微信号、QQ号等联系方式引流"
    assert v.evidence[0].check == "regex"
    assert v.evidence[0].span == "微信:abc12345"


def test_ordinary_talk_fires_nothing(engine):
    for text in ("收到", "今天金价又涨了", "毒砂和黄铁矿浮选时一起走，砷硫分离太难了", "", "🙏🙏"):
        assert engine.evaluate(say(text), Sender("wxid_a")) == [], text


WHO = [
    ("member", Sender("wxid_a"), True),
    ("admin-bound-by-default", Sender("wxid_a", is_admin=True), True),
    ("the-bot-itself", Sender("wxid_a", is_bot=True), False),
    ("exempt-flag", Sender("wxid_a", is_exempt=True), False),
]


@pytest.mark.parametrize(("sender", "judged"), [w[1:] for w in WHO], ids=[w[0] for w in WHO])
def test_who_is_judged(engine, sender, judged):
    assert bool(engine.evaluate(say("澳门线上真人"), sender)) is judged


def test_contacts_on_the_settings_exempt_list_are_never_judged(engine):
    assert engine.evaluate(say("澳门线上真人", sender="wxid_trusted"), Sender("wxid_trusted")) == []


ADMIN_RULES = """
settings: {rules_bind_admins: %s}
rules:
  - name: default
    category: ad
    severity: minor
    message: m
    keywords: [广告]
  - name: exempt
    category: ad
    severity: minor
    message: m
    admins: exempt
    keywords: [广告]
  - name: bound
    category: ad
    severity: minor
    message: m
    admins: bound
    keywords: [广告]
"""


@pytest.mark.parametrize(
    ("bind", "fired"),
    [("true", ["default", "bound"]), ("false", ["bound"])],
    ids=["bound-globally", "exempt-globally"],
)
def test_rules_bind_admins_globally_and_per_rule(bind, fired):
    engine = Engine(parse_rules(ADMIN_RULES % bind))
    admin = Sender("wxid_admin", is_admin=True)
    assert [v.rule for v in engine.evaluate(say("打广告"), admin)] == fired
    assert len(engine.evaluate(say("打广告"), Sender("wxid_m"))) == 3


def test_room_override_selected_by_name_disables_a_rule(engine):
    job = "招聘选矿工程师，年薪30万"
    assert [v.rule for v in engine.evaluate(say(job), Sender("a"))] == ["job-post"]
    assert engine.evaluate(say(job, room="r-pm", topic="产品经理实习内推群"), Sender("a")) == []


def test_room_override_adds_words_to_a_rule(engine):
    assert engine.evaluate(say("付费内推，看我名字"), Sender("a"))[0].rule == "job-post"
    (v,) = engine.evaluate(say("付费内推，看我名字", room="r-pm", topic="产品经理实习内推群"), Sender("a"))
    assert v.rule == "ad-contact-handle"
    assert v.evidence[0].span == "付费内推"


def test_room_override_changes_severity(engine):
    assert engine.evaluate(say("你是sb吧"), Sender("a"))[0].severity is Severity.MODERATE
    in_pm = engine.evaluate(say("你是sb吧", room="r-pm", topic="内推群"), Sender("a"))
    assert in_pm[0].severity is Severity.SEVERE


def test_room_override_selected_by_id():
    engine = Engine(
        parse_rules(
            "rules:\n  - {name: r, category: ad, severity: minor, message: m, keywords: [内推]}\n"
            "rooms:\n  - match: {id: d-pm}\n    disable: [r]\n"
        )
    )
    assert engine.evaluate(say("内推", room="d-pm", topic=""), Sender("a")) == []
    assert engine.evaluate(say("内推", room="d-gold", topic="内推"), Sender("a")) != []


def test_rule_enabled_only_in_some_rooms():
    engine = Engine(
        parse_rules(
            "rules:\n  - {name: r, category: ad, severity: minor, message: m, keywords: [二手], enabled: false}\n"
            "rooms:\n  - match: {name_contains: 摄影}\n    enable: [r]\n"
        )
    )
    assert engine.evaluate(say("出二手相机", topic="城市光影摄影交流群"), Sender("a")) != []
    assert engine.evaluate(say("出二手相机", topic="读书会"), Sender("a")) == []


def test_rule_types_limit_which_messages_it_looks_at(engine):
    image = say("", type=MessageType.IMAGE, qr_payloads=("https://u.wechat.com/abc",))
    assert [v.rule for v in engine.evaluate(image, Sender("a"))] == ["stranger-qr"]
    text = say("https://u.wechat.com/abc")
    assert "stranger-qr" not in [v.rule for v in engine.evaluate(text, Sender("a"))]


def test_evaluate_text_judges_without_touching_flood_state(engine):
    for _ in range(10):
        engine.evaluate_text("刷屏测试")
    assert len(engine.flood) == 0


def test_examples_pass_on_the_fixture(engine):
    assert engine.check_examples() == []


def test_an_edit_that_breaks_a_rules_own_examples_is_reported_with_its_line():
    rules = parse_rules(
        "rules:\n"
        "  - name: r\n    category: ad\n    severity: minor\n    message: m\n    keywords: [兼职]\n"
        "    examples:\n"
        "      match: [兼职日结, 刷单返利]\n"
        "      no_match:\n"
        "        - 兼职也行\n",
        "rules.yaml",
    )
    errors = Engine(rules).check_examples()
    assert [(e.line, e.key) for e in errors] == [
        (8, "rules.r.examples.match"),
        (10, "rules.r.examples.no_match"),
    ]
    assert "'刷单返利': the rule does not fire on it" in errors[0].message
    assert "keywords 「兼职」" in errors[1].message
    assert all(isinstance(e, RulesError) for e in errors)


def test_examples_may_be_cards_and_new_members():
    rules = parse_rules(
        "rules:\n"
        "  - name: r\n    category: ad\n    severity: minor\n    message: m\n"
        "    all: [{type: mini_program}, {sender: {new: true}}]\n"
        "    examples:\n"
        "      match: [{app: 拼多多, title: 帮我砍一刀, new_member: true}]\n"
        "      no_match: [{app: 拼多多, title: 帮我砍一刀}, 帮我砍一刀]\n"
    )
    assert Engine(rules).check_examples() == []


def test_with_rules_keeps_flood_state_across_a_reload(engine):
    e1 = Engine(load_rules(FIXTURE))
    for i in range(5):
        e1.evaluate(Message(id=f"m{i}", room_id="r", sender_id="s", at=AT, text=f"话{i}"), Sender("s"))
    e2 = e1.with_rules(load_rules(FIXTURE))
    (v,) = e2.evaluate(Message(id="m6", room_id="r", sender_id="s", at=AT, text="第六条"), Sender("s"))
    assert v.rule == "flood-burst"


def test_a_huge_message_gets_a_verdict(engine):
    text = "正常聊天" * 250_000 + "澳门线上"
    assert engine.evaluate(say(text), Sender("a")) == []  # beyond the scanned prefix
    assert engine.evaluate(say("澳门线上" + "正常聊天" * 250_000), Sender("a"))[0].rule == "gambling"


def test_load_rules_can_refuse_a_file_whose_examples_fail(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(
        "rules:\n  - name: r\n    category: ad\n    severity: minor\n    message: m\n    keywords: [兼职]\n"
        "    examples: {match: [刷单]}\n",
        encoding="utf-8",
    )
    assert load_rules(path).rule("r") is not None
    with pytest.raises(RulesError, match="example '刷单': the rule does not fire on it") as info:
        load_rules(path, check_examples=True)
    assert info.value.line == 7


def test_a_sloppy_message_still_gets_a_verdict(engine):
    loose = Message(
        id="m",
        room_id="r",
        sender_id="s",
        at=AT,
        type="image",
        text=None,
        room_topic=None,  # type: ignore[arg-type]
        qr_payloads=("https://u.wechat.com/x",),
    )
    assert [v.rule for v in engine.evaluate(loose, Sender("s"))] == ["stranger-qr"]
