"""Engine figures on synthetic chat: ``python -m bot.engine.benchmark``.

Prints what issue 7's ``python -m bot.bench`` reports for the engine:
loading a 50,000-word lexicon, normalisation and a raw Aho-Corasick scan per
message (the floor), the full ``Engine.evaluate`` per message (throughput,
p50/p99/max latency) and its ratio to the floor, and the memory of the flood
state for 100 rooms x 500 members. Figures are CPU time where it matters, so
a busy machine disturbs them less; nothing here is asserted by a test.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bot.engine import Engine, load_rules, normalize
from bot.events import Message, MessageType, Sender

CLEAN = (  # ordinary talk, including words and forms that look alarming
    "收到，谢谢",
    "今天金价又涨了，老板开会说要把低品位矿重新圈一遍",
    "毒砂和黄铁矿浮选时一起走，砷硫分离太难了",
    "载金炭到3000g/t左右就送解吸了",
    "@长春黄金研究院-孙博 方便加个微信吗？想请教下炭浸的问题",
    "哈哈哈老王你是不是傻，自己结婚纪念日都能记错🤣",
    "謝謝分享，這篇綜述寫得很清楚，我們在印尼的項目也是類似的含砷礦",
    "ＯＫ，下午３点前发你",
    "一般10到15 L/(m²·h)，看矿石渗透性，渗透差的要先制粒",
    "明天上午九点开会，大家别迟到",
    "生日快乐🎂",
    "🙏🙏",
    "这批矿石的含砷量偏高，建议先做个预氧化试验",
    "好的，我下午把报告发群里",
    "浸出率只有85%，是不是磨矿细度不够",
    "有没有人用过那个新型浓密机？效果怎么样",
    "周六的聚会定在老地方，六点半开始",
    "这本书我看完了，第三章写得特别好",
    "哪位有上次培训的课件，麻烦发我一下",
    "谢谢周总的红包🧧[抱拳]",
    "我们这边今天停电，报表明天再交",
    "收到",
    "1",
    "赞👍",
)
SPAM = (  # ads, banned topics and abuse in their usual disguises, and a warning that quotes one
    "兼💰职🔥日💰结✨在家💰可做👉v：aa9966",
    "代♥开♥发♥票 全国各地 联系V信：kp_6688",
    "有jian zhi需要的jia wei xin：ww5588，ri结不拖",
    "澳门线上真人，首充送38%，日赚千元不是梦，v：am8888",
    "你 就 是 个 傻 逼",
    "加V①③⑧②⑥⑦⑤⑨⑨⑧⑧ 带你一起做副业",
    "轉發保平安，不轉必遭災",
    "刚有人私聊我“兼职日结，加V：qz5201”，大家别信啊，都是刷单骗局",
)
SAMPLES = CLEAN + SPAM
NAMES = (
    "紫金矿业-王工",
    "北矿院-周工",
    "26届-西电-木子",
    "HR-星云科技-李",
    "Jason陈",
    "遇见",
    "老胡说摄影",
    "A靠谱兼职",
)


def synthetic_lexicon(path: Path, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    common = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
    words: set[str] = set()
    while len(words) < n:
        words.add("".join(rng.choice(common) for _ in range(rng.randint(2, 4))))
    path.write_text("\n".join(sorted(words)) + "\n", encoding="utf-8")


def rules_with_big_lexicon(rules_path: Path, lexicon: Path, out: Path) -> None:
    """The given rules plus one rule using the big lexicon (lexicon paths made absolute)."""
    text = rules_path.read_text(encoding="utf-8")
    base = rules_path.resolve().parent
    text = text.replace(": lexicons/", f": {base}/lexicons/")
    extra = (
        "  - name: bench-big-lexicon\n    category: banned_topic\n    severity: minor\n"
        "    message: bench\n    lexicon: bench_big\n"
    )
    if "\nlexicons:\n" in text:
        text = text.replace("\nlexicons:\n", f"\nlexicons:\n  bench_big: {lexicon}\n", 1)
    else:
        text = f"lexicons:\n  bench_big: {lexicon}\n" + text
    text = text.replace("\nrules:\n", "\nrules:\n" + extra, 1)
    out.write_text(text, encoding="utf-8")


def messages(n: int, members: int, rooms: int, spam_share: float = 0.1, seed: int = 11) -> list[Message]:
    """``n`` messages from ``members`` members in ``rooms`` rooms, one in
    ``1 / spam_share`` breaking a rule."""
    rng = random.Random(seed)
    t0 = datetime(2026, 11, 20, tzinfo=timezone.utc)
    out = []
    for i in range(n):
        text = rng.choice(SPAM if rng.random() < spam_share else CLEAN)
        if rng.random() < 0.5:
            text += f" {rng.randint(0, 999)}"
        out.append(
            Message(
                id=str(i),
                room_id=f"room{rng.randrange(rooms)}",
                sender_id=f"m{rng.randrange(members)}",
                at=t0 + timedelta(seconds=i * 0.2),
                type=MessageType.TEXT,
                text=text,
                room_topic="技术交流群",
            )
        )
    return out


def cpu_per_item(fn: Callable[[], object], items: int, reps: int = 3) -> float:
    best = float("inf")
    for _ in range(reps):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best / items * 1e6


def run(rules_path: Path, words: int, n: int, members_per_room: int = 500) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        lexicon = Path(tmp) / "big.txt"
        synthetic_lexicon(lexicon, words)
        bench_rules = Path(tmp) / "rules.yaml"
        rules_with_big_lexicon(rules_path, lexicon, bench_rules)
        start = time.process_time()
        rules = load_rules(bench_rules)
        loaded = time.process_time()
        engine = Engine(rules)
        compiled = time.process_time()
    print(f"rules: {rules_path} + a synthetic lexicon of {words:,} words")
    print(
        f"load (CPU time): parse + normalise {loaded - start:.2f} s, compile {compiled - loaded:.2f} s "
        f"(target ≤ 2 s); {len(engine.index):,} words, {len(engine.pinyin.patterns):,} pinyin spellings"
    )

    msgs = messages(n, members=50_000, rooms=100)
    senders = [Sender(m.sender_id) for m in msgs]
    norm = [normalize(m.text) for m in msgs]
    automaton = engine.index.automaton
    assert automaton is not None  # the synthetic lexicon alone has 50,000 words
    t_norm = cpu_per_item(lambda: [normalize(m.text) for m in msgs], n)
    t_scan = cpu_per_item(lambda: [automaton.find_matches_as_indexes(s, overlapping=True) for s in norm], n)
    t_pinyin = cpu_per_item(lambda: [engine.pinyin.scan(s, {}) for s in norm], n)
    floor = t_norm + t_scan
    print(f"normalise: {t_norm:.2f} µs/message")
    print(f"raw Aho-Corasick scan ({len(engine.index):,} patterns): {t_scan:.2f} µs/message")
    print(f"pinyin layer: {t_pinyin:.2f} µs/message")
    for label, share in (
        ("typical chat, 1 in 10 breaks a rule", 0.1),
        ("spam wave, 1 in 2 breaks a rule", 0.5),
    ):
        msgs = messages(n, members=50_000, rooms=100, spam_share=share)
        senders = [Sender(m.sender_id) for m in msgs]
        for m, s in zip(msgs, senders, strict=True):  # warm caches (RE2 DFAs, room views)
            engine.evaluate(m, s, track=False)
        fresh = [engine.with_rules(rules) for _ in range(3)]
        for e in fresh:
            e.flood.clear()
        it = iter(fresh)

        def judge_all(msgs: list[Message] = msgs, senders: list[Sender] = senders, it=it) -> None:
            e = next(it)
            for m, s in zip(msgs, senders, strict=True):
                e.evaluate(m, s)

        t_eval = cpu_per_item(judge_all, n)
        latencies = []
        e = engine.with_rules(rules)
        e.flood.clear()
        for m, s in zip(msgs, senders, strict=True):
            a = time.perf_counter()
            e.evaluate(m, s)
            latencies.append(time.perf_counter() - a)
        latencies.sort()
        print(
            f"evaluate, {label}: {t_eval:.2f} µs/message = {1e6 / t_eval:,.0f} messages/s, "
            f"{floor / t_eval:.0%} of the speed of normalise + scan (target ≥ 25%); "
            f"latency p50 {latencies[n // 2] * 1e6:.0f} µs, p99 {latencies[int(n * 0.99)] * 1e6:.0f} µs, "
            f"max {latencies[-1] * 1e3:.1f} ms (target p99 ≤ 1 ms)"
        )

    e = engine.with_rules(rules)
    e.flood.clear()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    t0 = datetime(2026, 11, 21, tzinfo=timezone.utc)
    k = 0
    for room in range(100):
        for member in range(members_per_room):
            k += 1
            msg = Message(
                id=str(k),
                room_id=f"room{room}",
                sender_id=f"m{room}-{member}",
                at=t0 + timedelta(seconds=k * 0.01),
                text=SAMPLES[k % len(SAMPLES)],
            )
            e.evaluate(msg, Sender(msg.sender_id))
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    print(
        f"flood state, 100 rooms x 500 members each speaking within 10 minutes: {(after - before) / 1e6:.1f} MB"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.engine.benchmark", description=__doc__.split("\n")[0]
    )
    here = Path(__file__).resolve().parents[2] / "rules" / "rules.yaml"
    parser.add_argument("--rules", type=Path, default=here, help="rules file (default: the bundled rules)")
    parser.add_argument("--words", type=int, default=50_000, help="size of the synthetic lexicon")
    parser.add_argument("-n", type=int, default=20_000, help="messages to judge")
    parser.add_argument(
        "--members", type=int, default=500, help="members per room for the flood-memory figure"
    )
    args = parser.parse_args(argv)
    run(args.rules, args.words, args.n, args.members)
    return 0


if __name__ == "__main__":
    sys.exit(main())
