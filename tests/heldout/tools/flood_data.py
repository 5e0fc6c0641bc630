"""Hand-written flood transcripts of the held-out corpus.

Each transcript is a room and a list of ``(seconds, who, label, payload)``:
``seconds`` since the transcript's start, ``who`` a key into its cast (one
contact each), ``payload`` a text or a dict of other transcript fields.
Labels follow the dev corpus's flood rules (burst: the 6th and later message
of one member inside 30 s; repeat: the 3rd and later copy inside 10 minutes,
ignoring digits, emoji, punctuation and spaces; different members never flood
together). ``build_heldout.py`` recomputes them and refuses a wrong one.
"""

from __future__ import annotations

# fmt: off
FLOODS: dict[str, dict] = {
    # A rider fires fragments while the group sorts out a meeting point.
    "flood_burst_ride": {
        "room": "h-ride",
        "start": "2026-12-05T06:40:00+08:00",
        "cast": {
            "lead": "领骑-大刘", "zhen": "阿珍", "wang": "老司机-王哥", "lu": "小鹿",
            "pang": "胖子骑行", "mike": "Mike", "newbie": "新人-小齐",
        },
        "lines": [
            (0, "lead", "clean", "早，绿道起点集合，6:55出发"),
            (40, "zhen", "clean", "我到了，在停车场这边"),
            (75, "wang", "clean", "路上有点堵，晚五分钟"),
            (110, "lu", "clean", "👌"),
            (150, "newbie", "clean", "到了吗"),
            (154, "newbie", "clean", "我在路口"),
            (158, "newbie", "clean", "哪个路口啊"),
            (161, "newbie", "clean", "是加油站那个吗"),
            (165, "newbie", "clean", "😂"),
            (169, "newbie", "flood", "找不到你们"),
            (172, "pang", "clean", "加油站往前两百米，看到红色拱门就是"),
            (174, "newbie", "flood", "看到了看到了"),
            (177, "newbie", "flood", "等我一下"),
            (180, "newbie", "flood", {"type": "emoticon"}),
            (183, "newbie", "flood", "马上到"),
            (240, "lead", "clean", "人齐了，出发，注意保持车距"),
            (300, "mike", "clean", "今天风大，大家别逞强"),
            (420, "newbie", "clean", "不好意思刚才刷屏了，第一次参加有点慌"),
            (480, "zhen", "clean", "哈哈没事，欢迎新人"),
            (560, "wang", "clean", "前面修路，走辅道"),
            (600, "lu", "clean", "收到"),
            (660, "pang", "clean", "收到"),
        ],
    },
    # A parent asks the same question again and again before the teacher answers.
    "flood_repeat_parents": {
        "room": "h-parents",
        "start": "2026-12-07T19:30:00+08:00",
        "cast": {
            "teacher": "班主任-陈老师", "sun": "孙悦妈妈", "wu": "吴昊爸爸", "he": "何佳怡爸爸",
            "zhao": "赵可馨妈妈", "lin": "林梓萱爸爸",
        },
        "lines": [
            (0, "teacher", "clean", "明天美术课做手工，请孩子带好剪刀和胶棒"),
            (60, "wu", "clean", "收到"),
            (95, "zhao", "clean", "收到，谢谢老师"),
            (140, "sun", "clean", "老师，明天要带水彩笔吗？"),
            (200, "he", "clean", "剪刀要圆头的吧？"),
            (260, "sun", "clean", "老师，明天要带水彩笔吗？？"),
            (330, "lin", "clean", "圆头的安全点"),
            (400, "sun", "flood", "老师，明天要带水彩笔吗🙏"),
            (470, "he", "clean", "好的谢谢"),
            (520, "sun", "flood", "老师！！明天要带水彩笔吗"),
            (560, "teacher", "clean", "@孙悦妈妈 不用带水彩笔，剪刀胶棒就行"),
            (600, "sun", "clean", "好的，谢谢老师，刚才着急了不好意思"),
            (650, "wu", "clean", "老师，胶棒要几支？"),
            (720, "wu", "clean", "老师，胶棒要几支呀"),
            (780, "teacher", "clean", "一支就够"),
            (840, "zhao", "clean", "👍"),
            (900, "lin", "clean", "👍"),
            (960, "he", "clean", "👍"),
        ],
    },
    # A paid-referral spammer reposts, changing only the digits; a recruiter posts several different jobs.
    "flood_spam_wave_jobs": {
        "room": "h-jobs",
        "start": "2026-12-08T10:00:00+08:00",
        "cast": {
            "spam": "上岸学长-小K", "card": "内推助手", "hr": "HR-青禾科技-沈琳", "wu": "27届-中南大学-小吴",
            "fei": "27届-武汉大学-阿飞", "kiki": "27届-中山-Kiki", "owner": "群主-数据分析学长",
        },
        "lines": [
            (0, "spam", None, {"type": "join"}),
            (10, "card", None, {"type": "join"}),
            (60, "wu", "clean", "有人今天做了远山的笔试吗"),
            (90, "spam", "ad", "付费内推，仅剩3个名额，大厂保面，加V：offer_77"),
            (120, "fei", "clean", "做了，SQL题挺难的"),
            (150, "hr", "clean", "【内推】青禾科技 数据分析实习生\nbase：上海\n投递：campus@qinghe-tech.com"),
            (200, "hr", "clean", "【内推】青禾科技 数据产品经理（校招）\nbase：杭州\n投递：campus@qinghe-tech.com"),
            (230, "card", "ad", {"type": "contact_card", "card_id": "wxid_nt9x02ksl", "card_name": "内推老师-Vivian"}),
            (260, "hr", "clean", "【内推】青禾科技 算法工程师（校招）\nbase：北京\n投递：campus@qinghe-tech.com"),
            (300, "spam", "ad", "付费内推，仅剩2个名额，大厂保面，加V：offer_77"),
            (330, "kiki", "clean", "请问青禾的实习能转正吗？"),
            (360, "hr", "clean", "@27届-中山-Kiki 表现好可以转正，去年转正率一半左右"),
            (400, "card", "ad", {"type": "contact_card", "card_id": "wxid_nt9x02ksl", "card_name": "内推老师-Vivian"}),
            (450, "spam", "flood", "付费内推，仅剩1个名额，大厂保面，加V：offer_77"),
            (480, "wu", "clean", "这人又来了"),
            (520, "card", "flood", {"type": "contact_card", "card_id": "wxid_nt9x02ksl", "card_name": "内推老师-Vivian"}),
            (560, "spam", "flood", "付费内推，仅剩1个名额！！大厂保面，加V：offer_77"),
            (600, "owner", "clean", "刚才发付费内推和名片的两个号已经移出，大家别加"),
            (640, "fei", "clean", "辛苦群主"),
            (700, "kiki", "clean", "谢谢沈老师，已投"),
        ],
    },
    # Many colleagues answer the same notice at once; a 接龙 grows; one colleague sends exactly five quick lines.
    "flood_ack_work": {
        "room": "h-work",
        "start": "2026-12-09T09:00:00+08:00",
        "cast": {
            "boss": "运营总监-林总", "a": "客服部-小李", "b": "运营部-何佳", "c": "运营部-周敏", "d": "财务部-龚姐",
            "e": "行政部-小芳", "f": "仓储部-阿彪", "g": "市场部-陶然", "h": "数据组-严工", "i": "人事部-罗敏",
            "j": "运营部-王莉", "k": "客服部-阿琳", "l": "运营部-小吕",
        },
        "lines": [
            (0, "boss", "clean", "@所有人 今天下午三点全员大会，地点一楼报告厅，不得缺席"),
            (8, "a", "clean", "收到"),
            (12, "b", "clean", "收到"),
            (15, "c", "clean", "收到"),
            (19, "d", "clean", "收到"),
            (22, "e", "clean", "收到👌"),
            (26, "f", "clean", "收到"),
            (30, "g", "clean", "收到"),
            (34, "h", "clean", "收到"),
            (39, "i", "clean", "收到！"),
            (45, "j", "clean", "收到"),
            (52, "k", "clean", "收到"),
            (60, "l", "clean", "收到"),
            (300, "e", "clean", "#接龙 大会后聚餐\n1. 小芳"),
            (330, "a", "clean", "#接龙 大会后聚餐\n1. 小芳\n2. 小李"),
            (352, "b", "clean", "#接龙 大会后聚餐\n1. 小芳\n2. 小李\n3. 何佳"),
            (371, "g", "clean", "#接龙 大会后聚餐\n1. 小芳\n2. 小李\n3. 何佳\n4. 陶然"),
            (600, "h", "clean", "报告厅投影是不是坏了"),
            (606, "h", "clean", "我刚去试了一下"),
            (612, "h", "clean", "HDMI没信号"),
            (620, "h", "clean", "换了根线也不行"),
            (628, "h", "clean", "@行政部-小芳 能不能找人修一下"),
            (700, "e", "clean", "好的，我马上叫IT过去"),
            (760, "h", "clean", "谢谢"),
        ],
    },
}
# fmt: on
