"""Synthetic group chat for the store's crash, outage and speed tests: a
deterministic JSONL transcript (shared/formats/transcript.md) of mostly
ordinary chat with ads and abuse mixed in, over several rooms and days."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

CLEAN = [
    "大家好，请问氰化浸出的液固比一般控制在多少？",
    "谢谢周总的红包🧧[抱拳]",
    "明天上午九点开会，请大家准时参加",
    "这个方案我觉得可以，回头发个详细的流程图",
    "收到，辛苦了",
    "炭浸工艺的活性炭多久再生一次比较合适？",
    "周末有没有人一起去爬山",
    "刚看到一篇关于含砷金矿预处理的综述，写得不错",
    "哈哈哈哈",
    "这个岗位要求三年以上经验吗？",
    "同学聚会定在下个月初，大家看看时间",
    "好的，我晚点回复你",
]
BAD = [
    "代开发票，各行业普票专票，点数低，验真后付款，+V：fp20268",
    "兼职日结，手机操作，加微信 abc12345 详聊",
    "你就是个傻逼，滚出去",
    "专业代开各类发票，需要的加V：kp8888",
]
ROOMS = [("s-gold", "金矿提金技术交流群"), ("s-jobs", "求职招聘群"), ("s-alumni", "08级化工2班同学群")]


def write_transcript(
    path: Path, n: int, *, seed: int = 7, bad_rate: float = 0.08, senders: int = 300
) -> Path:
    rng = random.Random(seed)
    t = datetime(2026, 11, 1, 8, 0, tzinfo=timezone(timedelta(hours=8)))
    people = [f"wxid_s{i:04d}" for i in range(senders)]
    spammers = people[:12]
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            t += timedelta(seconds=rng.randint(5, 90))
            room, topic = ROOMS[rng.randrange(len(ROOMS))]
            if rng.random() < bad_rate:
                sender, text = rng.choice(spammers), rng.choice(BAD)
            else:
                sender, text = rng.choice(people), rng.choice(CLEAN)
            line = {"ts": t.isoformat(), "id": f"s{i}", "room": room, "topic": topic, "type": "text"}
            line.update({"from": sender, "name": f"成员{sender[-4:]}", "text": text})
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
    return path
