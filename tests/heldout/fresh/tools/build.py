"""Build the fresh (blind) corpus: messages.jsonl, flood_*.jsonl and README.md.

Standard library only, fixed seed. Run from anywhere:
    python3 tools/build.py
"""

import json
import random
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

from data_flood import SCENARIOS
from data_msgs import BY_ROOM, ROOMS

HERE = Path(__file__).resolve().parent
OUT = HERE.parent
TZ = timezone(timedelta(hours=8))
LABELS = ["clean", "ad", "banned_topic", "abuse", "flood"]
rng = random.Random(20261201)

# ------------------------------------------------------------ name pools
SURN = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
MINE_REAL = [
    "鞍钢矿业",
    "江西铜业",
    "金川集团",
    "攀钢矿业",
    "河钢矿业",
    "马钢矿业",
    "本钢南芬",
    "太钢峨口",
    "首钢水厂",
    "酒钢镜铁山",
    "铜陵有色",
    "大冶有色",
    "西部矿业",
    "中国黄金",
    "云南锡业",
    "白银有色",
    "山东黄金",
    "北方矿业",
    "中冶北方",
    "长沙矿冶院",
]
MINE_FAKE = [
    "鑫隆矿业",
    "宏远选厂",
    "北岭矿业",
    "泰和机电",
    "丰源矿山",
    "通达耐磨",
    "金石选矿",
    "兴旺矿机",
    "华盛重工",
    "远航矿业",
    "博达机械",
    "永丰选厂",
    "瑞祥矿业",
    "利民选厂",
    "正阳矿机",
    "恒通选厂",
    "天成矿业",
    "安达机电",
    "顺发选矿",
    "龙腾矿业",
]
MINE_SUFFIX = ["工", "工", "工", "师傅", "师傅", "主任", "班长", "技术员"]
GIVEN = [
    "建国",
    "志强",
    "海涛",
    "文博",
    "国庆",
    "红军",
    "晓东",
    "伟",
    "磊",
    "斌",
    "涛",
    "军",
    "勇",
    "超",
    "鹏",
    "刚",
    "新民",
    "德明",
    "立新",
    "永平",
]
SCHOOLS = [
    "华科",
    "武大",
    "北邮",
    "西电",
    "川大",
    "中南",
    "哈工大",
    "浙大",
    "南大",
    "厦大",
    "山大",
    "东南",
    "电子科大",
    "华师",
    "湖大",
    "郑大",
    "苏大",
    "暨大",
    "深大",
    "重大",
    "北理",
    "天大",
    "大工",
    "吉大",
    "西交",
    "同济",
    "上大",
    "江南",
    "南理工",
    "南航",
]
NICKS = [
    "小鱼",
    "阿杰",
    "橙子",
    "木木",
    "星河",
    "Momo",
    "大白",
    "土豆",
    "柚子",
    "Kiki",
    "阿凯",
    "小满",
    "石头",
    "糯米",
    "Leo",
    "小熊",
    "豆包",
    "一一",
    "Vivian",
    "阿哲",
    "芒果",
    "小葵",
    "Tony",
    "七七",
    "饺子",
    "阿远",
    "Yuki",
    "桃子",
    "麦兜",
    "阿宁",
]
KIDS = [
    "子涵",
    "浩然",
    "一诺",
    "梓萱",
    "宇轩",
    "欣怡",
    "俊熙",
    "诗涵",
    "睿泽",
    "雨桐",
    "皓轩",
    "可馨",
    "沐阳",
    "思彤",
    "若汐",
    "嘉懿",
    "天佑",
    "奕辰",
    "语嫣",
    "铭轩",
    "安琪",
    "梓睿",
    "依依",
    "子墨",
    "锦程",
    "书瑶",
    "晨曦",
    "乐乐",
    "嘉豪",
    "雨萱",
]
KIN = ["妈妈", "妈妈", "妈妈", "爸爸", "爸爸", "奶奶", "外婆", "爷爷"]
WARD_TITLES = ["N1", "N2", "N2", "N3", "N4", "责任护士", "主班", "夜班", "治疗班", "规培", "进修", "办公班"]
WARD_GIVEN = [
    "静",
    "娜",
    "丽",
    "婷",
    "倩",
    "爽",
    "敏",
    "欢",
    "晓",
    "悦",
    "洁",
    "蕾",
    "雪",
    "瑶",
    "红梅",
    "静怡",
    "佳",
    "萌",
    "琳",
    "露",
    "思雨",
    "梦洁",
    "晓燕",
    "艳",
]
HIKE_NICKS = [
    "山野老张",
    "阿珂",
    "小鹿乱撞",
    "风一样的女子",
    "Kevin",
    "背包客阿杰",
    "晴天娃娃",
    "山猫",
    "一只羊",
    "走走停停",
    "云朵朵",
    "老胡不糊",
    "Sunny",
    "林间小路",
    "大脚板",
    "追风少年",
    "米粒",
    "二狗子",
    "Linda",
    "阿亮",
    "暴走萝莉",
    "西湖边的猫",
    "老李头",
    "Ocean",
    "行者无疆",
    "花花",
    "Jerry",
    "慢慢走",
    "橘子汽水",
    "野生程序员",
    "小树苗",
    "Grace",
    "大鹏",
    "青青草",
    "爬山虎",
    "雨后彩虹",
    "Max",
    "北纬30度",
    "豆豆妈",
    "老王爱徒步",
    "石榴姐",
    "Ivan",
    "阿飞",
    "铁腿老陈",
    "Momo酱",
    "天天向上",
    "清风徐来",
    "Cathy",
    "阿Ben",
    "胖虎",
    "糖糖",
    "Eric",
    "远方",
    "阿布",
    "菜菜子",
    "山海经",
    "Tina",
    "火锅底料",
    "夏天的风",
    "小飞侠",
    "蘑菇头",
    "Andy",
    "大橙子",
    "周末去哪儿",
    "白开水",
]


def pool_name(room, label, used):
    for _ in range(10000):
        if room == "f-mine":
            unit = rng.choice(MINE_REAL if label == "clean" else MINE_FAKE)
            s = rng.choice(SURN)
            person = s + rng.choice(MINE_SUFFIX) if rng.random() < 0.75 else s + rng.choice(GIVEN)
            n = f"{unit}-{person}"
        elif room == "f-jobs":
            n = f"27届-{rng.choice(SCHOOLS)}-{rng.choice(NICKS)}"
        elif room == "f-parents":
            n = rng.choice(SURN) + rng.choice(KIDS) + rng.choice(KIN)
        elif room == "f-ward":
            n = f"{rng.choice(WARD_TITLES)}-{rng.choice(SURN)}{rng.choice(WARD_GIVEN)}"
        elif room == "f-hike":
            n = rng.choice(HIKE_NICKS)
        else:
            b = rng.randint(1, 12)
            if rng.random() < 0.8:
                n = f"{b}栋-{rng.randint(2, 26)}{rng.randint(1, 4):02d}"
            else:
                n = f"{b}栋-{rng.choice(SURN)}{rng.choice(['姐', '哥', '阿姨', '叔', '老师'])}"
        if n not in used:
            used.add(n)
            return n
    raise RuntimeError("name pool exhausted for " + room)


def payload_fields(p):
    if isinstance(p, str):
        return {"type": "text", "text": p}
    d = dict(p)
    return d


def line(ts, room, sender, name, payload, label, opts=None):
    opts = opts or {}
    row = {"ts": ts.isoformat(), "room": room, "topic": ROOMS[room]}
    fields = payload_fields(payload)
    row["type"] = fields.pop("type")
    row["from"] = sender
    row["name"] = name
    row.update(fields)
    row["expect"] = label
    if opts.get("ev"):
        row["evasion"] = opts["ev"]
    if opts.get("hn"):
        row["hard_negative"] = opts["hn"]
    if opts.get("bk"):
        row["banned_kind"] = opts["bk"]
    if opts.get("note"):
        row["tricky"] = True
        row["note"] = opts["note"]
    return row


def dump(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def build_messages():
    entries = []
    explicit = set()
    for room, items in BY_ROOM.items():
        for label, payload, opts in items:
            if opts.get("name"):
                assert opts["name"] not in explicit, opts["name"]
                explicit.add(opts["name"])
            entries.append((room, label, payload, opts))
    used = set(explicit)
    named = []
    for room, label, payload, opts in entries:
        name = opts.get("name") or pool_name(room, label, used)
        named.append((room, label, payload, opts, name))
    rng.shuffle(named)
    t = datetime(2026, 12, 1, 8, 0, 0, tzinfo=TZ)
    rows = []
    for i, (room, label, payload, opts, name) in enumerate(named):
        if i:
            t += timedelta(seconds=rng.randint(120, 480))
            if t.hour >= 23 or t.hour < 7:
                day = (t if t.hour >= 7 else t - timedelta(days=1)).date() + timedelta(days=1)
                t = datetime(day.year, day.month, day.day, 7, 0, 0, tzinfo=TZ) + timedelta(
                    seconds=rng.randint(0, 1500)
                )
        rows.append(line(t, room, f"wxid_f{i + 1:04d}", name, payload, label, opts))
    dump(OUT / "messages.jsonl", rows)
    return rows


def build_floods():
    out = {}
    for fi, (fname, room, date, scenario, desc, items) in enumerate(SCENARIOS, start=1):
        ids = {}
        rows = []
        y, m, d = map(int, date.split("-"))
        for it in items:
            hms, key, name, payload, label = it[:5]
            opts = it[5] if len(it) > 5 else {}
            if key not in ids:
                ids[key] = f"wxid_fl{fi}{len(ids) + 1:02d}"
            hh, mm, ss = map(int, hms.split(":"))
            ts = datetime(y, m, d, hh, mm, ss, tzinfo=TZ)
            rows.append(line(ts, room, ids[key], name, payload, label, opts))
        dump(OUT / fname, rows)
        out[fname] = (room, scenario, desc, rows)
    return out


ROOM_RULES = [
    (
        "f-mine",
        "engineers and fitters from mines and plants; names `单位-姓名` (鞍钢矿业-于师傅)",
        "repair and maintenance talk, standards and manuals with source, phone/WeChat swapped on request, a repairman's number passed on when asked",
        "job posts, equipment and spare parts for sale, suppliers pitching products, recycling buyers",
    ),
    (
        "f-jobs",
        "27届 students `27届-学校-昵称`, recruiters `HR-公司-姓名`",
        "**job posts** with company, role, base and an official channel (careers page, company e-mail, 内推码); hc gossip; interview and offer talk; free study groups",
        "paid referrals (付费内推), CV and interview services, paid course bundles, 'jobs' with no company and no official channel (日结, 私聊)",
    ),
    (
        "f-parents",
        "parents `孩子名+妈妈/爸爸`, teachers `科目-X老师`, 家委",
        "teachers' notices and homework, the class fee 接龙 and its collection by the 家委, lost-and-found, arranging play dates",
        "parents selling (腊肠, 代购, 保险), tutoring-class ads, 砍一刀/助力, 拉票 for children's contests",
    ),
    (
        "f-ward",
        "nurses `职务-姓名` (护士长-刘敏, N2-李娜, 规培-王璐)",
        "internal notices (this *is* the internal channel), shifts, patient care talk, department phone numbers, swapping WeChat to pass on work files",
        "anything unrelated to work that sells; patient data and other institutions' internal documents must not circulate",
    ),
    (
        "f-hike",
        "free nicknames; leaders `领队-X`",
        "routes, tracks, weather, the club's own outings and the leader's AA fee collection, photos",
        "gear for sale (second-hand goes to 闲鱼), other clubs' paid trips, paid guiding, guesthouses",
    ),
    (
        "f-owners",
        "owners `楼栋-房号` (3栋-1502), property staff `物业-X`, 业委会",
        "property management notices (停水, 物业费, 装修时间, 演练), complaints, owners' debates, the 业委会's official election notice, lost-and-found",
        "renovation and cleaning companies, house agents and flat listings, 团购 groups, loans, members selling",
    ),
]


def table(counts_by_file):
    out = ["| file | lines | clean | ad | banned_topic | abuse | flood |", "|---|---|---|---|---|---|---|"]
    tot = Counter()
    n = 0
    for f, c in counts_by_file:
        lines = sum(c.values())
        n += lines
        tot += c
        out.append(f"| `{f}` | {lines} | " + " | ".join(str(c.get(k, 0)) for k in LABELS) + " |")
    out.append(f"| **all** | {n} | " + " | ".join(str(tot.get(k, 0)) for k in LABELS) + " |")
    return out


def build_readme(msgs, floods):
    L = []
    L.append("# qunguard fresh evaluation set (`tests/heldout/fresh`)")
    L.append("")
    L.append("Hand-written Chinese WeChat group chat in six rooms that do not occur in the")
    L.append("development corpus, written without looking at the bot's rules, tests or source.")
    L.append("It measures how the bot does on wording it has never seen. The format is the")
    L.append("transcript format of `shared/formats/transcript.md`; labels follow the")
    L.append('definitions in `shared/corpus/dev/README.md` ("What each label means" and')
    L.append('"Flood rules used for the labels"), applied to the room rules below.')
    L.append("")
    L.append("- `messages.jsonl`: 420 single messages, each from a different sender")
    L.append("  (`wxid_f0001` ...), at least 2 minutes apart: nothing here is flood.")
    L.append("- `flood_*.jsonl`: 5 short transcripts, one room each.")
    L.append("- `check.py`: validates every file and recomputes the flood labels; run")
    L.append("  `python tools/check.py`.")
    L.append("- `tools/`: the data (`data_msgs.py`, `data_flood.py`) and the builder (`build.py`,")
    L.append("  standard library, fixed seed). Edit the data and rebuild; do not hand-edit the JSONL.")
    L.append("")
    L.append("No images or files are referenced (nothing to ship besides the JSONL).")
    L.append("")
    L.append("## Counts per file and label")
    L.append("")
    per_file = [("messages.jsonl", Counter(r["expect"] for r in msgs))]
    for fname, (_room, _sc, _d, rows) in floods.items():
        per_file.append((fname, Counter(r["expect"] for r in rows)))
    L += table(per_file)
    L.append("")
    L.append("## Messages per room (`messages.jsonl`)")
    L.append("")
    L.append("| room | topic | messages | clean | ad | banned_topic | abuse |")
    L.append("|---|---|---|---|---|---|---|")
    for room, topic in ROOMS.items():
        c = Counter(r["expect"] for r in msgs if r["room"] == room)
        L.append(
            f"| `{room}` | {topic} | {sum(c.values())} | "
            + " | ".join(str(c.get(k, 0)) for k in LABELS[:4])
            + " |"
        )
    L.append("")
    L.append("## Message types by label (`messages.jsonl`)")
    L.append("")
    L.append("| type | clean | ad | banned_topic | abuse |")
    L.append("|---|---|---|---|---|")
    for tp in ["text", "url", "mini_program", "contact_card"]:
        c = Counter(r["expect"] for r in msgs if r["type"] == tp)
        L.append(f"| `{tp}` | " + " | ".join(str(c.get(k, 0)) for k in LABELS[:4]) + " |")
    L.append("")
    L.append("## The rooms and the rules the labels assume")
    L.append("")
    L.append("Every room forbids ads (selling, shop/loan/investment links, contact cards of")
    L.append("strangers, 砍价/助力, 拉票, 互关互推), flooding, banned topics and personal attacks.")
    L.append("")
    L.append("| room | topic | members, names | also allowed | also forbidden |")
    L.append("|---|---|---|---|---|")
    for room, members, allowed, forbidden in ROOM_RULES:
        L.append(f"| `{room}` | {ROOMS[room]} | {members} | {allowed} | {forbidden} |")
    L.append("")
    L.append("## Extra fields")
    L.append("")
    L.append("`evasion` (list), `hard_negative`, `banned_kind`, `tricky` + `note` are for")
    L.append("people slicing the set; the bot must ignore them.")
    L.append("")
    ev = Counter(e for r in msgs for e in r.get("evasion", []))
    L.append("| evasion | lines |")
    L.append("|---|---|")
    for k, v in sorted(ev.items(), key=lambda kv: -kv[1]):
        L.append(f"| `{k}` | {v} |")
    L.append("")
    hn = Counter(r["hard_negative"] for r in msgs if "hard_negative" in r)
    L.append("| hard_negative (clean lines) | lines |")
    L.append("|---|---|")
    for k, v in sorted(hn.items(), key=lambda kv: -kv[1]):
        L.append(f"| `{k}` | {v} |")
    L.append("")
    bk = Counter(r["banned_kind"] for r in msgs if "banned_kind" in r)
    L.append("| banned_kind | lines |")
    L.append("|---|---|")
    for k, v in sorted(bk.items(), key=lambda kv: -kv[1]):
        L.append(f"| `{k}` | {v} |")
    L.append("")
    L.append("## Tricky lines (judgment calls)")
    L.append("")
    for i, r in enumerate(msgs, start=1):
        if r.get("tricky"):
            shown = r.get("text") or r.get("title") or r.get("card_name")
            shown = shown.replace("\n", " / ").replace("\u200b", "")
            if len(shown) > 60:
                shown = shown[:60] + "..."
            L.append(f"- `messages.jsonl:{i}` ({r['room']}) **{r['expect']}**: `{shown}`. {r['note']}")
    for fname, (_room, _sc, _d, rows) in floods.items():
        for i, r in enumerate(rows, start=1):
            if r.get("tricky"):
                L.append(f"- `{fname}:{i}` **{r['expect']}**: `{r.get('text', '')}`. {r['note']}")
    L.append("")
    L.append("## Flood transcripts")
    L.append("")
    L.append("| file | scenario | room | lines | flooders | flood lines | what happens |")
    L.append("|---|---|---|---|---|---|---|")
    for fname, (room, sc, desc, rows) in floods.items():
        fl = [r for r in rows if r["expect"] == "flood"]
        L.append(
            f"| `{fname}` | {sc} | `{room}` | {len(rows)} | {len({r['from'] for r in fl})} | {len(fl)} | {desc} |"
        )
    L.append("")
    L.append("## Caveats")
    L.append("")
    L.append("- All ids, phone numbers, handles, e-mail addresses, domains and people are invented.")
    L.append("  Real mining companies appear only in `f-mine` display names on clean lines.")
    L.append("- Real university names appear in `f-jobs` display names whatever the label.")
    L.append("- Zero-width spaces (U+200B) are written as the raw character inside the JSON strings.")
    L.append("- Banned-topic lines are deliberately mild and name no real politician.")
    L.append("- Sender ids in `messages.jsonl` are all distinct, so the same role (a teacher, the")
    L.append("  property manager) appears under several display names; read each line on its own.")
    (OUT / "README.md").write_text("\n".join(L) + "\n", encoding="utf-8")


if __name__ == "__main__":
    msgs = build_messages()
    floods = build_floods()
    build_readme(msgs, floods)
    print("messages:", len(msgs), dict(Counter(r["expect"] for r in msgs)))
    for f, (_r, _s, _d, rows) in floods.items():
        print(f, len(rows), dict(Counter(r["expect"] for r in rows)))
