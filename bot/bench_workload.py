"""The benchmark's synthetic workload, generated deterministically from a seed.

- a lexicon of Chinese words and phrases of 2-6 characters drawn from the
  3,755 common hanzi (GB2312 level 1), wired into the bundled rules through a
  temporary rules file that adds one ``lexicon:`` rule (as an admin who pastes
  a big word list would);
- group chat in 100 rooms of 500 members: about 60% of messages 5-30
  characters, 30% 30-120, 10% 120-600, with ASCII words, URLs, digits and
  emoji mixed in, some link cards, and about 5% violations (a lexicon word,
  sometimes split by spaces or emoji; ads, gambling, abuse and chain letters
  of the kinds the bundled rules catch; a few bursts of copies), each line
  labelled with the transcript format's ``expect`` field;
- the same chat as a JSONL transcript (``shared/formats/transcript.md``),
  and as :class:`bot.events.Message` objects built by the replay reader itself.

Clean messages never contain a lexicon word by accident: one that does is
drawn again, so the violations are the ones put there on purpose.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import ahocorasick_rs

from bot.engine.benchmark import rules_with_big_lexicon
from bot.engine.normalize import normalize
from bot.events import Message, Sender
from bot.replay import Entry, read_transcript

__all__ = [
    "BENCH_RULE",
    "Workload",
    "bench_rules",
    "common_hanzi",
    "lexicon_words",
    "make_workload",
    "member_messages",
]

ROOMS = 100
MEMBERS_PER_ROOM = 500
START = datetime(2026, 11, 20, 8, 0, tzinfo=timezone(timedelta(hours=8)))

TOPICS = (
    "金矿提金技术交流群",
    "选矿工艺讨论群",
    "深圳IT招聘内推群",
    "2008级化学系校友群",
    "项目部工作群",
    "湿法冶金设备交流",
    "北京求职互助群",
    "公司行政通知群",
)

# What members say: clauses of everyday group chat, and words to string together.
CLAUSES = (
    "收到",
    "好的，谢谢",
    "大家早上好",
    "明天上午九点开会，大家别迟到",
    "报告我下午发群里",
    "这批矿石的含砷量偏高，建议先做个预氧化试验",
    "浸出率只有百分之八十五，是不是磨矿细度不够",
    "有没有人用过新型浓密机，效果怎么样",
    "载金炭送解吸之前要先酸洗",
    "周六的聚会定在老地方，六点半开始",
    "这本书我看完了，第三章写得特别好",
    "哪位有上次培训的课件，麻烦发我一下",
    "我们这边今天停电，报表明天再交",
    "恭喜恭喜，新婚快乐",
    "生日快乐",
    "辛苦了，路上注意安全",
    "下周一之前把材料交给行政",
    "请各位核对一下自己的信息",
    "这个岗位还招人吗，要求几年经验",
    "简历已经发到邮箱了，麻烦看一下",
    "面试安排在周三下午两点",
    "老师的课讲得真好，受益匪浅",
    "今天食堂的菜不错",
    "谁知道高速哪个出口离工地最近",
    "已经按要求修改好了",
    "这个问题我们上个月也遇到过",
    "建议把氰化物用量再降一点，成本太高",
    "炭浸槽的搅拌速度调到多少合适",
    "现场照片我晚点补上",
    "孩子学校的家长会改到周五了",
    "谢谢分享，学习了",
    "同意楼上的看法",
    "这个数据有出处吗",
    "回头我把图纸整理一下",
)
# fmt: off
WORDS = (  # no job, money or contact words: strung together at random they would read as ads
    "我们", "今天", "明天", "项目", "报告", "会议", "公司", "部门", "同事", "领导", "客户",
    "设备", "工艺", "试验", "数据", "分析", "结果", "问题", "方案", "进度", "计划", "安排",
    "时间", "地点", "大家", "老师", "同学", "朋友", "孩子", "学校", "周末", "上午", "下午",
    "晚上", "已经", "还是", "可以", "需要", "应该", "觉得", "知道", "看看", "一下", "这个",
    "那个", "什么", "怎么", "为什么", "如果", "但是", "所以", "因为", "而且", "就是", "比较",
    "非常", "特别", "现场", "工地", "矿石", "品位", "回收率", "药剂", "成本", "效率", "质量",
    "安全", "整改", "资料", "文件", "表格", "会议室", "出差", "培训", "合同", "天气", "下雨",
    "堵车", "吃饭", "聚餐", "照片", "文章", "新闻", "政策", "标准", "规范", "流程", "图纸",
)
ASCII_BITS = (
    "OK", "ok", "PPT", "PDF", "Excel", "CEO", "HR", "KPI", "App", "iPhone", "GitHub", "Python",
    "10:30", "3点", "2026年", "85%", "0.5mm", "200目", "3000g/t", "pH 10.5", "No.3", "2号线",
    "Q3", "ISO9001", "1.2万", "50kg", "#3", "v2.1",
)
# fmt: on
URLS = (
    "https://mp.weixin.qq.com/s/{k}",
    "https://www.gov.cn/zhengce/content/2026-11/{n}.htm",
    "https://github.com/qunguard/{k}",
    "https://zhuanlan.zhihu.com/p/{n}",
    "www.cnki.net/kcms/detail/{k}.html",
    "https://docs.qq.com/doc/{k}",
)
EMOJI = ("👍", "🙏", "😂", "🤣", "🎂", "🌹", "💪", "👏", "[抱拳]", "[强]", "😄", "🔥")

# Violations of the bundled rules ({h}: a contact handle, {n}: digits), with their label.
BAD = (
    ("兼职日结{n}元，手机就能做，加V：{h}", "ad"),
    ("兼💰职🔥日💰结✨在家💰可做👉v：{h}", "ad"),
    ("代♥开♥发♥票 全国各地 联系V信：{h}", "ad"),
    ("有jian zhi需要的jia wei xin：{h}，ri结不拖", "ad"),
    ("澳门线上真人，首充送{n}%，日赚千元不是梦，v：{h}", "banned_topic"),
    ("你 就 是 个 傻 逼", "abuse"),
    ("轉發保平安，不轉必遭災", "banned_topic"),
    ("加V①③⑧②⑥⑦⑤⑨⑨⑧⑧ 带你一起做副业", "ad"),
    ("无抵押贷款，当天放款，有需要的私聊我", "ad"),
    ("刷单返利，一单一结，加我微信{h}", "ad"),
)

LENGTH_MIX = ((0.6, 5, 30), (0.3, 30, 120), (0.1, 120, 600))
LEXICON_HIT_RATE = 0.025
"""Messages carrying a word of the big lexicon."""
BAD_RATE = 0.0175
"""Messages of the kinds in ``BAD``."""
BURST_RATE = 0.001
"""Messages that start a burst of ``BURST`` copies (the 3rd copy on is a flood)."""
URL_CARD_RATE = 0.02
BURST = 6
"""Copies in a flood burst (the bundled burst limit is 5 messages in 30 s)."""


def common_hanzi() -> str:
    """The 3,755 level-1 hanzi of GB2312, in the standard's (pinyin) order."""
    out = []
    for row in range(0xB0, 0xD8):
        for col in range(0xA1, 0xFF):
            if row == 0xD7 and col > 0xF9:
                break
            out.append(bytes((row, col)).decode("gb2312"))
    return "".join(out)


def lexicon_words(n: int, seed: int = 7) -> list[str]:
    """``n`` distinct words of 2-6 common hanzi, short words the most common."""
    rng = random.Random(seed)
    chars = common_hanzi()
    lengths = (2, 3, 4, 5, 6)
    weights = (30, 25, 25, 10, 10)
    words: dict[str, None] = {}
    while len(words) < n:
        k = rng.choices(lengths, weights)[0]
        w = "".join(rng.choice(chars) for _ in range(k))
        if normalize(w) == w:  # kept as written (no numerals run, alias or variant)
            words[w] = None
    return list(words)


BENCH_RULE = "bench-big-lexicon"


def bench_rules(rules_path: Path, words: list[str], workdir: Path) -> Path:
    """A rules file in ``workdir``: the rules at ``rules_path`` plus a rule
    ``bench-big-lexicon`` on a lexicon file holding ``words``."""
    lexicon = workdir / "bench_lexicon.txt"
    lexicon.write_text("# synthetic benchmark lexicon\n" + "\n".join(words) + "\n", encoding="utf-8")
    out = workdir / "bench_rules.yaml"
    rules_with_big_lexicon(rules_path, lexicon, out)  # keeps the file as written (comments, lines)
    if not _complete(out):
        _rules_with_lexicon_yaml(rules_path, lexicon, out)  # a layout the text edit does not know
    return out


def _complete(path: Path) -> bool:
    """Whether the edited rules hold the benchmark rule once and every lexicon by an absolute path."""
    import yaml

    text = path.read_text(encoding="utf-8")
    if sum(line.startswith("lexicons:") for line in text.splitlines()) != 1:
        return False  # the text edit added a second lexicons: key
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        return False
    rules = data.get("rules") or []
    if not any(isinstance(r, dict) and r.get("name") == BENCH_RULE for r in rules):
        return False
    for value in (data.get("lexicons") or {}).values():
        file = value.get("file") if isinstance(value, dict) else value
        if not isinstance(file, str) or not Path(file).is_absolute():
            return False
    return True


def _rules_with_lexicon_yaml(rules_path: Path, lexicon: Path, out: Path) -> None:
    """The same as ``rules_with_big_lexicon``, through the YAML data (comments are lost)."""
    import yaml

    data = yaml.safe_load(rules_path.read_text(encoding="utf-8")) or {}
    base = rules_path.resolve().parent
    lexicons = dict(data.get("lexicons") or {})
    for name, value in lexicons.items():
        if isinstance(value, str):
            lexicons[name] = str(base / value)
        elif isinstance(value, dict) and isinstance(value.get("file"), str):
            lexicons[name] = {**value, "file": str(base / value["file"])}
    lexicons["bench_big"] = str(lexicon)
    data["lexicons"] = lexicons
    rule = {"name": BENCH_RULE, "category": "banned_topic", "severity": "minor", "message": "bench"}
    data["rules"] = [{**rule, "lexicon": "bench_big"}, *(data.get("rules") or [])]
    out.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


class _Chat:
    """Draws group chat text of a given length."""

    def __init__(self, rng: random.Random, lexicon: list[str]) -> None:
        self.rng = rng
        self.automaton = ahocorasick_rs.AhoCorasick(lexicon)

    def piece(self) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.45:
            return rng.choice(CLAUSES)
        if r < 0.85:
            return "".join(rng.choice(WORDS) for _ in range(rng.randint(2, 7)))
        if r < 0.93:
            return rng.choice(ASCII_BITS)
        if r < 0.96:
            return rng.choice(URLS).format(k=self.token(8), n=rng.randint(10_000, 99_999_999))
        return rng.choice(EMOJI)

    def token(self, k: int) -> str:
        return "".join(
            self.rng.choice("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(k)
        )

    def text(self, length: int) -> str:
        rng = self.rng
        while True:
            parts: list[str] = []
            size = 0
            while size < length:
                p = self.piece()
                parts.append(p)
                parts.append(rng.choice(("，", "。", " ", "！", "？", "，", "\n" if length > 120 else "，")))
                size += len(p) + 1
            text = "".join(parts)[:length].strip() or "收到"
            if not self.automaton.find_matches_as_indexes(normalize(text)):
                return text

    def length(self) -> int:
        r = self.rng.random()
        for share, lo, hi in LENGTH_MIX:
            if r < share:
                return self.rng.randint(lo, hi)
            r -= share
        return self.rng.randint(LENGTH_MIX[-1][1], LENGTH_MIX[-1][2])


def _evasive(rng: random.Random, word: str) -> str:
    """A lexicon word as a spammer writes it: split by spaces, dots or emoji, or not."""
    how = rng.random()
    if how < 0.6:
        return word
    sep = rng.choice((" ", ".", "💰", "🔥", "_"))
    return sep.join(word)


@dataclass
class Workload:
    """Generated chat: transcript rows (dicts) in time order."""

    rows: list[dict[str, object]]
    lexicon: list[str]

    def planted_share(self, limit: int | None = None) -> float:
        """Share of the messages made to break a rule (their ``expect`` label is not clean)."""
        rows = [r for r in (self.rows if limit is None else self.rows[:limit]) if "expect" in r]
        return sum(r["expect"] != "clean" for r in rows) / len(rows) if rows else 0.0

    def write_transcript(self, path: Path, limit: int | None = None) -> Path:
        rows = self.rows if limit is None else self.rows[:limit]
        with path.open("w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        return path

    def entries(self, limit: int | None = None) -> list[Entry]:
        """The rows as the replay reader turns them into events."""
        rows = self.rows if limit is None else self.rows[:limit]
        lines = (json.dumps(r, ensure_ascii=False) for r in rows)
        out = []
        for e in read_transcript(Path("bench.jsonl"), lines=lines):
            if isinstance(e, Entry):
                out.append(e)
        return out

    def messages(self, limit: int | None = None) -> list[tuple[Message, Sender]]:
        """Messages and their senders, as replay would judge them (joins left out)."""
        out = []
        for e in self.entries(limit):
            if isinstance(e.event, Message):
                out.append((e.event, Sender(e.event.sender_id)))
        return out


def make_workload(n: int, lexicon: list[str], seed: int = 11) -> Workload:
    """``n`` transcript rows of chat across ``ROOMS`` rooms of ``MEMBERS_PER_ROOM``
    members, over about one busy hour (~28 messages/s across all rooms)."""
    rng = random.Random(seed)
    chat = _Chat(rng, lexicon)
    rows: list[dict[str, object]] = []
    step = 3600.0 / max(n, 1)
    burst: list[dict[str, object]] = []
    i = 0
    while len(rows) < n:
        at = START + timedelta(seconds=i * step)
        i += 1
        if burst:
            copy = dict(burst.pop())
            copy["ts"] = at.isoformat()
            rows.append(copy)
            continue
        room = rng.randrange(ROOMS)
        member = rng.randrange(MEMBERS_PER_ROOM)
        row: dict[str, object] = {
            "ts": at.isoformat(),
            "room": f"bench-room-{room:03d}",
            "topic": TOPICS[room % len(TOPICS)],
            "from": f"wxid_r{room:03d}m{member:03d}",
            "name": f"成员{member}",
        }
        r = rng.random()
        if r < 0.002:  # someone new joins
            row["type"] = "join"
            row["inviter"] = f"wxid_r{room:03d}m{rng.randrange(MEMBERS_PER_ROOM):03d}"
            rows.append(row)
            continue
        row["type"] = "text"
        r = rng.random()
        row["expect"] = "clean"
        if r < LEXICON_HIT_RATE:
            clean = chat.text(max(2, chat.length() - 6))
            cut = rng.randint(0, len(clean))
            row["text"] = clean[:cut] + _evasive(rng, rng.choice(lexicon)) + clean[cut:]
            row["expect"] = "banned_topic"
        elif (r := r - LEXICON_HIT_RATE) < BAD_RATE:
            template, label = rng.choice(BAD)
            row["text"] = template.format(h=chat.token(rng.randint(6, 9)).lower(), n=rng.randint(20, 999))
            row["expect"] = label
        elif (r := r - BAD_RATE) < BURST_RATE:  # BURST copies of one short line
            row["text"] = chat.text(rng.randint(5, 20))
            burst = [{**row, "expect": "flood"}] * (BURST - 2) + [row]
        elif (r := r - BURST_RATE) < URL_CARD_RATE:
            row["type"] = "url"
            row["url"] = rng.choice(URLS).format(k=chat.token(10), n=rng.randint(10_000, 99_999_999))
            row["title"] = chat.text(rng.randint(8, 30))
            row["description"] = chat.text(rng.randint(10, 60))
        else:
            row["text"] = chat.text(chat.length())
        rows.append(row)
    return Workload(rows, lexicon)


def member_messages(at: datetime | None = None) -> Iterator[tuple[Message, Sender]]:
    """One short message from every member of every room, all within ten
    minutes: the flood state of ``ROOMS`` x ``MEMBERS_PER_ROOM`` active members."""
    rng = random.Random(5)
    start = at or START
    total = ROOMS * MEMBERS_PER_ROOM
    step = 600.0 / total
    k = 0
    for member in range(MEMBERS_PER_ROOM):
        for room in range(ROOMS):
            sender = f"wxid_r{room:03d}m{member:03d}"
            msg = Message(
                id=f"m{k}",
                room_id=f"bench-room-{room:03d}",
                sender_id=sender,
                at=start + timedelta(seconds=k * step),
                text=rng.choice(CLAUSES),
                room_topic=TOPICS[room % len(TOPICS)],
            )
            k += 1
            yield msg, Sender(sender)
