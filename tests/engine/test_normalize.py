"""Normalisation folds the usual evasions into one canonical form."""

from __future__ import annotations

import pytest

from bot.engine.normalize import fingerprint, normalize
from bot.engine.pinyin import spellings, to_pinyin

CASES = [
    # (id, original, normalised)
    ("fullwidth-letters-digits", "ｖｘ：ｓｈｕａｄａｎ６６８", "微信:shuadan668"),
    ("fullwidth-ok", "ＯＫ，下午３点前发你", "ok,下午3点前发你"),
    ("ideographic-space", "ＢＣ平台\u3000真人视讯", "bc平台真人视讯"),
    ("zero-width-space", "兼\u200b职\u200b刷\u200b单", "兼职刷单"),
    ("word-joiner", "线\u2060上\u2060博\u2060彩", "线上博彩"),
    ("bom-inside-word", "你个脑\ufeff残", "你个脑残"),
    ("zwj-inside-handle", "加\u200dV：yp\u200d5566", "加微信:yp5566"),
    ("spaces-between-hanzi", "兼 职 日 结", "兼职日结"),
    ("spaces-before-punct", "兼 职 日 结 ， 手 机", "兼职日结,手机"),
    ("newlines-between-hanzi", "网\n赌\n回\n血", "网赌回血"),
    ("underscore-split", "兼_职_日_结", "兼职日结"),
    ("slash-split", "兼/职/刷/单", "兼职刷单"),
    ("emoji-between-hanzi", "兼💰职🔥日💰结", "兼职日结"),
    ("heart-between-hanzi", "代♥开♥发♥票", "代开发票"),
    ("emoji-next-to-words", "🔥名企内推🔥 投递", "名企内推投递"),
    ("emoji-only-kept", "🙏🙏", "🙏🙏"),
    ("cyrillic-e", "wеixin：jl_vip88", "微信:jl_vip88"),
    ("cyrillic-x", "加Vх：tt5566", "加微信:tt5566"),
    ("accent-pinyin", "减féi茶", "减fei茶"),
    ("traditional", "轉發保平安，不轉必遭災", "转发保平安,不转必遭灾"),
    ("traditional-loan", "貸款找我，無抵押", "贷款找我,无抵押"),
    ("upper-case", "SB 一个", "sb一个"),
    ("circled-digits", "加V①③⑧②⑥⑦⑤⑨⑨⑧⑧", "加微信13826759988"),
    ("chinese-numerals", "微信号 一三八七六五四二二一零", "微信号13876542210"),
    ("financial-numerals", "V：壹伍捌贰陆肆柒玖", "微信:15826479"),
    ("mixed-numerals", "加V：⑨8七6五④三2", "加微信:98765432"),
    ("yao-for-one-spaced", "电话：幺三九 零七二八 五五六六", "电话:13907285566"),
    ("short-numeral-run-kept", "一五一十地说", "一五一十地说"),
    ("dotted-handle", "v-x：l.i.n.8.8.6", "微信:lin886"),
    ("dashed-handle", "h-a-o-1-2-3", "hao123"),
    ("spaced-digits", "进Q裙领福利：6 7 8 4 3 2 1 9 0", "进qq群领福利:678432190"),
    ("phone-groups", "+威：①⑧⑧ ③③⑥⑥ ⑦⑦⑦②", "加微信:18833667772"),
    ("decimal-kept", "品位 3.5 g/t 左右", "品位3.5 g/t左右"),
    ("date-kept", "2026-11-20 开会", "2026-11-20开会"),
    ("masked-sb-dots", "你就是个s.b.", "你就是个sb."),
    ("masked-sb-star", "你就是个S*B，开会", "你就是个sb,开会"),
    ("alias-v-xin", "联系V信：kp_6688", "联系微信:kp_6688"),
    ("alias-wei-heart-xin", "薇♥信 lm66590", "微信lm66590"),
    ("alias-weixin-homophone", "威信：yy13866", "微信:yy13866"),
    ("alias-hui-xin", "加 我 徽 信", "加我微信"),
    ("alias-green-bubble", "绿泡泡搜 bbx6677", "微信搜bbx6677"),
    ("alias-plus-v", "+V：fp20268", "加微信:fp20268"),
    ("alias-heavy-plus", "➕微 tt_9527", "加微信tt_9527"),
    ("alias-jia-homophone", "嘉V：kk7788", "加微信:kk7788"),
    ("alias-wei-xin-pinyin", "加 wei xin 领任务", "加微信领任务"),
    ("alias-jia-wei-pinyin", "jia wei：cg9988", "加微信:cg9988"),
    ("alias-bare-v-label", "v：am8888", "微信:am8888"),
    ("alias-lone-v-after-hanzi", "加我V带你", "加我微信带你"),
    ("alias-da-v-kept", "大V说的", "大v说的"),
    ("alias-kou-kou", "加扣扣 二八一三五七六九", "加qq28135769"),
    ("alias-penguin-number", "企鹅号：三六九二五八一四七", "qq号:369258147"),
    ("alias-q-skirt", "Q裙", "qq群"),
    ("alias-q-label", "q：①⑨⑧⑧⑦⑥⑤", "qq:1988765"),
    ("alias-wx-inside-word-kept", "wxyz", "wxyz"),
    ("horse-emoji", "你🐴没了", "你马没了"),
    ("hanzi-split-by-commas", "兼,职,日,结", "兼职日结"),
    ("hanzi-split-by-enumeration-commas", "兼、职、日、结 加∨", "兼职日结加微信"),
    ("words-in-a-list-kept", "第一、第二、第三", "第一、第二、第三"),
    ("keycap-digits", "1️⃣3️⃣8️⃣ 0000 1111", "13800001111"),
    ("check-mark-for-v", "加√：abc123", "加微信:abc123"),
    ("check-mark-alone-kept", "好的√", "好的√"),
    ("spaced-vx-after-jia", "加 V X：abc123", "加微信:abc123"),
    ("heart-inside-vx", "V❤X：abc", "微信:abc"),
    ("tilde-inside-vx", "v~x：abc", "微信:abc"),
    ("mixed-pinyin-wei-xin", "wei信：abc", "微信:abc"),
    ("spaced-kou-kou", "扣 扣 12345", "qq12345"),
    ("add-plus-alias-whole", "加薇信 abc123", "加微信abc123"),
    ("spaced-add-alias-and-handle", "加 威 信 l x 8 8 3 2 领券", "加微信lx8832领券"),
    ("variant-hanzi-of-wei", "加我嶶信 jz-7788", "加我微信jz-7788"),
    ("xin-written-as-chip", "威芯：abc123", "微信:abc123"),
    ("capital-numerals-in-groups", "电话：壹叁捌 零柒陆伍 贰贰肆玖", "电话:13807652249"),
    ("units-kept", "3.5 g/t", "3.5 g/t"),
    ("range-kept", "1~3天", "1~3天"),
    ("plain-ascii", "hello world", "hello world"),
    ("empty", "", ""),
    ("only-spaces", "   ", ""),
]


@pytest.mark.parametrize(("original", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_normalize_folds_evasions(original: str, expected: str) -> None:
    assert normalize(original) == expected


FINGERPRINTS = [
    ("digit-changed", "仅剩3个名额", "仅剩2个名额", True),
    ("emoji-only-lines-are-not-compared", "🙏", "🙏🙏", False),
    ("punctuation-changed", "请问报销什么时候到？", "请问报销什么时候到？？！", True),
    ("emoji-around-words-ignored", "生日快乐🎂", "生日快乐🎂🎉", True),
    ("different-text", "收到", "好的", False),
]


@pytest.mark.parametrize(("a", "b", "same"), [c[1:] for c in FINGERPRINTS], ids=[c[0] for c in FINGERPRINTS])
def test_fingerprint_ignores_digits_emoji_and_punctuation(a: str, b: str, same: bool) -> None:
    fa, fb = fingerprint(normalize(a)), fingerprint(normalize(b))
    assert (bool(fa) and fa == fb) is same


@pytest.mark.parametrize(
    ("word", "spelled"),
    [
        ("兼职", "jianzhi"),
        ("加微信", "jiaweixin"),
        ("减肥", "jianfei"),
        ("傻逼", "shabi"),
        ("冰", None),
        ("sb", None),
    ],
)
def test_pinyin_spelling_of_words(word: str, spelled: str | None) -> None:
    assert to_pinyin(word) == spelled


def test_words_with_several_readings_get_every_spelling():
    assert {"yinxingka", "yinhangka"} <= set(spellings("银行卡"))
