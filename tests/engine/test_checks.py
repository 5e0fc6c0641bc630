"""Each kind of condition, table-driven: a rule with that condition, and
messages it must and must not fire on."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pytest

from bot.engine import Engine, parse_rules
from bot.events import Message, MessageType, Sender

AT = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


@dataclass
class Msg:
    text: str = ""
    type: str = "text"
    fields: dict = field(default_factory=dict)
    admin: bool = False
    joined_days_ago: float | None = None

    def build(self) -> tuple[Message, Sender]:
        joined = AT - timedelta(days=self.joined_days_ago) if self.joined_days_ago is not None else None
        sender = Sender("wxid_member", is_admin=self.admin, joined_at=joined)
        message = Message(
            id="m1",
            room_id="r1",
            sender_id=sender.contact_id,
            at=AT,
            type=MessageType(self.type),
            text=self.text,
            **self.fields,
        )
        return message, sender


def engine_for(when: object, extra: str = "") -> Engine:
    text = (
        "rules:\n  - name: r\n    category: ad\n    severity: minor\n    message: m\n"
        f"    when: {json.dumps(when, ensure_ascii=False)}\n{extra}"
    )
    return Engine(parse_rules(text, "rules.yaml"))


CASES = [
    # (id, when, message, fires, evidence check, evidence span)
    ("keywords-hit", {"keywords": ["兼职"]}, Msg("兼 职 日结"), True, "keywords", "兼职"),
    ("keywords-miss", {"keywords": ["兼职"]}, Msg("兼顾工作"), False, "", ""),
    ("keywords-variant-in-list", {"keywords": ["vx"]}, Msg("加薇♥信"), True, "keywords", "微信"),
    ("keywords-traditional-in-list", {"keywords": ["貸款"]}, Msg("贷款找我"), True, "keywords", "贷款"),
    ("keywords-pinyin-typed", {"keywords": ["兼职"]}, Msg("有jian zhi需要的"), True, "keywords", "jian zhi"),
    ("keywords-pinyin-mixed", {"keywords": ["减肥茶"]}, Msg("减féi茶 月瘦十斤"), True, "keywords", "减fei茶"),
    ("keywords-homophone-hanzi-not-matched", {"keywords": ["大麻"]}, Msg("大妈早上好"), False, "", ""),
    ("keywords-pinyin-half", {"keywords": ["大麻"]}, Msg("大ma 正品"), True, "keywords", "大ma"),
    ("keywords-ascii-boundary", {"keywords": ["sb"]}, Msg("usb接口坏了"), False, "", ""),
    ("keywords-ascii-next-to-hanzi", {"keywords": ["sb"]}, Msg("sb吧你"), True, "keywords", "sb"),
    ("keywords-digit-word-boundary", {"keywords": ["2b"]}, Msg("做b2b的"), False, "", ""),
    ("keywords-nm-not-nanometres", {"keywords": ["nm"]}, Msg("粒度200nm左右"), False, "", ""),
    (
        "regex-normalised",
        {"regex": "微信[:：]?[a-z0-9_]{5,}"},
        Msg("V信：kp_6688"),
        True,
        "regex",
        "微信:kp_6688",
    ),
    ("regex-written-fullwidth", {"regex": "微信："}, Msg("微信：abc"), True, "regex", "微信:"),
    ("regex-case-insensitive", {"regex": "VIP\\d+"}, Msg("找vip88"), True, "regex", "vip88"),
    ("regex-miss", {"regex": "^\\d{11}$"}, Msg("电话13800000000"), False, "", ""),
    ("raw-regex-sees-original", {"raw_regex": "\u200b"}, Msg("兼\u200b职"), True, "raw_regex", "\u200b"),
    ("raw-regex-case-sensitive", {"raw_regex": "VIP"}, Msg("vip"), False, "", ""),
    (
        "type-hit",
        {"type": ["mini_program", "url"]},
        Msg(type="mini_program", fields={"title": "砍一刀"}),
        True,
        "type",
        "mini_program",
    ),
    ("type-miss", {"type": "image"}, Msg("文字"), False, "", ""),
    (
        "domain-deny-text-link",
        {"domain": {"deny": ["t.cn"]}},
        Msg("点这里 https://t.cn/A6xYz9Qp 领红包"),
        True,
        "domain",
        "https://t.cn/a6xyz9qp",
    ),
    (
        "domain-deny-subdomain",
        {"domain": {"deny": ["example.com"]}},
        Msg("m.shop.example.com/item"),
        True,
        "domain",
        "m.shop.example.com/item",
    ),
    (
        "domain-deny-card-url",
        {"domain": {"deny": ["t.cn"]}},
        Msg(type="url", fields={"url": "https://t.cn/x", "title": "红包"}),
        True,
        "domain",
        "https://t.cn/x",
    ),
    (
        "domain-allow-only",
        {"domain": {"allow": ["mp.weixin.qq.com", "qq.com"]}},
        Msg(type="url", fields={"url": "https://mp.weixin.qq.com/s/abc", "title": "文章"}),
        False,
        "",
        "",
    ),
    (
        "domain-allow-only-other",
        {"domain": {"allow": ["mp.weixin.qq.com"]}},
        Msg(type="url", fields={"url": "https://shop.example.cn/a", "title": "好物"}),
        True,
        "domain",
        "https://shop.example.cn/a",
    ),
    (
        "domain-allow-beats-deny",
        {"domain": {"deny": ["qq.com"], "allow": ["meeting.tencent.com", "docs.qq.com"]}},
        Msg("会议文档 https://docs.qq.com/doc/abc"),
        False,
        "",
        "",
    ),
    (
        "domain-email-is-not-a-link",
        {"domain": {"deny": ["163.com"]}},
        Msg("简历发 hr_jinshan@163.com"),
        False,
        "",
        "",
    ),
    (
        "domain-qr-payload",
        {"domain": {"deny": ["u.wechat.com"]}},
        Msg(type="image", fields={"qr_payloads": ("https://u.wechat.com/EM3n",)}),
        True,
        "domain",
        "https://u.wechat.com/EM3n",
    ),
    (
        "qr-any",
        {"qr": "any"},
        Msg(type="image", fields={"qr_payloads": ("wxp://f2f0",)}),
        True,
        "qr",
        "wxp://f2f0",
    ),
    ("qr-any-no-code", {"qr": "any"}, Msg(type="image", fields={"file_name": "sunset.png"}), False, "", ""),
    (
        "qr-scheme-deny",
        {"qr": {"deny": ["weixin://"], "allow": ["wxp://"]}},
        Msg(type="image", fields={"qr_payloads": ("weixin://dl/business/?t=X",)}),
        True,
        "qr",
        "weixin://dl/business/?t=X",
    ),
    (
        "qr-scheme-allow",
        {"qr": {"deny": ["weixin://", "wxp://"], "allow": ["wxp://"]}},
        Msg(type="image", fields={"qr_payloads": ("wxp://f2f0",)}),
        False,
        "",
        "",
    ),
    (
        "file-name-keywords",
        {"file_name": {"keywords": ["内部资料"]}},
        Msg(type="file", fields={"file_name": "files/某金矿_2027年度采选生产计划_内部资料.pdf"}),
        True,
        "keywords",
        "内部资料",
    ),
    (
        "file-name-list-shorthand",
        {"file_name": ["内部文件"]},
        Msg(type="file", fields={"file_name": "11月销售周报.pdf"}),
        False,
        "",
        "",
    ),
    (
        "file-name-regex",
        {"file_name": {"regex": "\\.(apk|exe)$"}},
        Msg(type="file", fields={"file_name": "福利.APK"}),
        True,
        "regex",
        ".apk",
    ),
    ("count-links", {"count": {"links": ">=2"}}, Msg("a.com 和 b.cn 都行"), True, "count", "2"),
    ("count-links-below", {"count": {"links": ">=2"}}, Msg("只有 a.com"), False, "", ""),
    ("count-mentions", {"count": {"mentions": ">3"}}, Msg("@a @b @c @d 看看"), True, "count", "4"),
    ("count-digits", {"count": {"digits": ">=11"}}, Msg("电话 138 0013 8000"), True, "count", "11"),
    ("count-lines", {"count": {"lines": ">=3"}}, Msg("一\n二\n三"), True, "count", "3"),
    ("count-length-equal", {"count": {"length": "==2"}}, Msg("收到"), True, "count", "2"),
    ("sender-new", {"sender": {"new": True}}, Msg("hi", joined_days_ago=1), True, "sender", ""),
    ("sender-old", {"sender": {"new": True}}, Msg("hi", joined_days_ago=30), False, "", ""),
    ("sender-unknown-join-is-not-new", {"sender": {"new": True}}, Msg("hi"), False, "", ""),
    (
        "sender-joined-within",
        {"sender": {"joined_within": "12h"}},
        Msg("hi", joined_days_ago=0.25),
        True,
        "sender",
        "",
    ),
    ("sender-admin", {"sender": {"admin": True}}, Msg("hi", admin=True), True, "sender", ""),
    ("sender-not-admin", {"sender": {"admin": False}}, Msg("hi", admin=True), False, "", ""),
    (
        "all-both",
        {"all": [{"keywords": ["招聘"]}, {"type": "text"}]},
        Msg("招聘工程师"),
        True,
        "keywords",
        "招聘",
    ),
    (
        "all-one-missing",
        {"all": [{"keywords": ["招聘"]}, {"keywords": ["年薪"]}]},
        Msg("招聘工程师"),
        False,
        "",
        "",
    ),
    (
        "any-second",
        {"any": [{"keywords": ["博彩"]}, {"keywords": ["网赌"]}]},
        Msg("网 赌 回 血"),
        True,
        "keywords",
        "网赌",
    ),
    (
        "not-excludes",
        {"all": [{"keywords": ["网赌"]}, {"not": {"keywords": ["别碰", "千万别"]}}]},
        Msg("我表弟网赌输了，大家千万别碰"),
        False,
        "",
        "",
    ),
    (
        "not-list-means-neither",
        {"all": [{"keywords": ["刷单"]}, {"not": [{"keywords": ["骗局"]}, {"keywords": ["别信"]}]}]},
        Msg("刷单返利当天结"),
        True,
        "keywords",
        "刷单",
    ),
    (
        "field-title",
        {"field": {"name": "title", "keywords": ["砍一刀"]}},
        Msg(type="mini_program", fields={"title": "帮我砍一刀", "app": "拼多多"}),
        True,
        "keywords",
        "砍一刀",
    ),
    (
        "field-sender-name",
        {"field": {"name": "sender_name", "regex": "微信[:：]?[a-z0-9]{4,}"}},
        Msg("想兼职的看我昵称", fields={"sender_name": "兼职v:rr6688"}),
        True,
        "regex",
        "微信:rr6688",
    ),
    (
        "field-app",
        {"field": {"name": "app", "keywords": ["拼多多"]}},
        Msg(type="mini_program", fields={"title": "帮我砍一刀", "app": "拼多多"}),
        True,
        "keywords",
        "拼多多",
    ),
    (
        "field-links",
        {"field": {"name": "links", "regex": "/reg\\?i="}},
        Msg(type="image", fields={"qr_payloads": ("https://www.am-yule88.com/reg?i=77",)}),
        True,
        "regex",
        "/reg?i=",
    ),
    (
        "field-acrostic",
        {"field": {"name": "acrostic", "keywords": ["兼职日结"]}},
        Msg("兼顾家庭也能赚\n职场宝妈看过来\n日日有收入\n结算不拖延"),
        True,
        "keywords",
        "兼职日结",
    ),
    (
        "field-acrostic-short-text",
        {"field": {"name": "acrostic", "keywords": ["兼职"]}},
        Msg("兼顾家庭\n职场"),
        False,
        "",
        "",
    ),
    (
        "text-includes-card-title",
        {"keywords": ["领取红包"]},
        Msg(type="url", fields={"url": "https://x.cn", "title": "点击领取红包"}),
        True,
        "keywords",
        "领取红包",
    ),
]


@pytest.mark.parametrize(
    ("when", "msg", "fires", "check", "span"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_condition(when: object, msg: Msg, fires: bool, check: str, span: str) -> None:
    message, sender = msg.build()
    violations = engine_for(when).evaluate(message, sender)
    assert bool(violations) is fires, violations
    if fires:
        first = violations[0].evidence[0]
        assert first.check == check
        assert first.span == span


def test_lexicon_condition_reads_words_from_the_file(tmp_path):
    (tmp_path / "gambling.txt").write_text("博彩\n百家乐\n", encoding="utf-8")
    text = (
        "lexicons:\n  gambling: gambling.txt\n"
        "rules:\n  - name: r\n    category: banned_topic\n    severity: severe\n    message: m\n"
        "    lexicon: gambling\n"
    )
    engine = Engine(parse_rules(text, str(tmp_path / "rules.yaml"), tmp_path))
    (v,) = engine.evaluate_text("线\u2060上\u2060博\u2060彩，日赚千元")
    assert v.evidence[0].check == "lexicon:gambling"
    assert v.evidence[0].span == "博彩"
    assert "【博彩】" in v.evidence[0].detail


def test_lexicon_pinyin_can_be_switched_off(tmp_path):
    (tmp_path / "w.txt").write_text("兼职\n", encoding="utf-8")
    text = (
        "lexicons:\n  w: {file: w.txt, pinyin: false}\n"
        "rules:\n  - name: r\n    category: ad\n    severity: minor\n    message: m\n    lexicon: w\n"
    )
    engine = Engine(parse_rules(text, str(tmp_path / "rules.yaml"), tmp_path))
    assert engine.evaluate_text("jian zhi") == []
    assert engine.evaluate_text("兼职") != []


def test_redos_pattern_returns_at_once_on_fifty_thousand_as():
    engine = engine_for({"regex": "(a+)+$"})
    assert engine.evaluate_text("a" * 50_000 + "b") == []
    assert engine.evaluate_text("a" * 50_000) != []


def test_big_regex_compiles_with_raised_memory_budget():
    words = [f"词{i:05d}" for i in range(5000)]
    engine = engine_for({"regex": "(?:" + "|".join(words) + ")"})
    assert engine.evaluate_text("这里有词04999吗")[0].evidence[0].span == "词04999"


def test_a_homophone_lexicon_matches_other_hanzi_of_the_same_sound(tmp_path):
    (tmp_path / "abuse.txt").write_text("傻逼\n脑残\n", encoding="utf-8")
    text = (
        "lexicons:\n  abuse: {file: abuse.txt, homophones: true}\n"
        "rules:\n  - name: r\n    category: abuse\n    severity: minor\n    message: m\n    lexicon: abuse\n"
    )
    engine = Engine(parse_rules(text, str(tmp_path / "rules.yaml"), tmp_path))
    for sent, span in [("沙比，看不懂别评论", "沙比"), ("煞笔玩意儿", "煞笔"), ("你个恼惨", "恼惨")]:
        (v,) = engine.evaluate_text(sent)
        assert v.evidence[0].span == span
    assert engine.evaluate_text("我们在沙滩比赛") == []


def test_without_homophones_only_typed_pinyin_matches(tmp_path):
    (tmp_path / "abuse.txt").write_text("傻逼\n", encoding="utf-8")
    text = (
        "lexicons:\n  abuse: abuse.txt\n"
        "rules:\n  - name: r\n    category: abuse\n    severity: minor\n    message: m\n    lexicon: abuse\n"
    )
    engine = Engine(parse_rules(text, str(tmp_path / "rules.yaml"), tmp_path))
    assert engine.evaluate_text("沙比") == []
    assert engine.evaluate_text("sha bi 一个") != []


def test_pinyin_is_not_read_inside_links_or_email_addresses():
    engine = engine_for({"keywords": ["知乎", "金山"]})
    assert engine.evaluate_text("看这篇 https://zhuanlan.zhihu.com/p/123 讲得好") == []
    assert engine.evaluate_text("简历发 jinshan_hr@163.com") == []
    assert engine.evaluate_text("上 zhi hu 搜一下") != []


def test_the_regex_index_answers_exactly_as_each_pattern_would():
    from pathlib import Path

    from bot.engine import checks as C
    from bot.engine import load_rules
    from bot.engine.normalize import normalize

    bundled = Path(__file__).resolve().parents[2] / "rules" / "rules.yaml"
    engine = Engine(load_rules(bundled))
    conds = [c for r in engine.rules.rules if r.when for c in C.walk(r.when) if isinstance(c, C.Regex)]
    texts = [
        "兼职日结，手机就能做，加V详聊",
        "帮我砍一刀吧，还差一点",
        "澳门线上真人，首充送38%",
        "你这个人真是个傻子",
        "今天金价又涨了",
        "出售二手浮选机，电话15903718822",
        "内部资料，请勿外传",
        "收到",
        "",
        "https://www.am-yule88.com/reg?i=77",
        "一天轻松赚300，宝妈学生都可以",
        "想赚钱的私我",
    ]
    for text in texts:
        data = normalize(text).encode()
        for (name, raw), _entry in engine.regexes.sets.items():
            if name != "text" or raw:
                continue
            want = {
                c.cond_id for c in conds if c.field == "text" and not c.raw and C.raw_match(c.compiled, data)
            }
            assert engine.regexes.match("text", False, data) == frozenset(want), text


def test_a_pinyin_spelling_never_runs_across_a_sentence_mark():
    engine = engine_for({"keywords": ["兼职"]})
    assert engine.evaluate_text("我想兼。zhi") == []
    assert engine.evaluate_text("jian zhi 日结") != []
    assert engine.evaluate_text("有jian zhi。需要的") != []
