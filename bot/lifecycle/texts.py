"""Every sentence of the member lifecycle: warm, short, clear.

Filled with :func:`bot.app.texts.fill` (one pass, values inserted literally):
a member called ``{rules}`` cannot change what a template says.
"""

from __future__ import annotations

DEFAULT_WELCOME = "欢迎 {name} 入群！请先看看群规：\n{rules}"
"""Used when a room has nickname or introduction requirements but no welcome of its own."""
INVITED_BY = "（邀请人：{inviter}）"
NICKNAME_ASK = "请在 {hours}内把群昵称改为「{format}」。"
INTRO_ASK = "请在 {hours}内在群里做个简短的自我介绍{template}。"
INTRO_TEMPLATE = "（{template}）"

NICKNAME_REMIND = "温馨提醒：请把群昵称改为「{format}」，方便大家认识你，还剩约 {left}。"
NICKNAME_LAST = "你的群昵称还不是「{format}」格式，请尽快修改，谢谢配合。"
NICKNAME_ADMINS = (
    "【群昵称未改】「{topic}」{name}（{contact}）入群已满 {hours}，群昵称仍不是「{format}」格式，请留意。"
)
NICKNAME_KICK = "入群 {hours} 未按要求修改群昵称"

INTRO_REMIND = "温馨提醒：还没看到你的自我介绍{template}，花一分钟介绍一下自己吧，还剩约 {left}。"
INTRO_LAST = "还没看到你的自我介绍{template}，请尽快在群里介绍一下自己，谢谢。"
INTRO_ADMINS = "【未自我介绍】「{topic}」{name}（{contact}）入群已满 {hours}，仍未做自我介绍，请留意。"
INTRO_KICK = "入群 {hours} 未做自我介绍"

CAP_ALERT = (
    "【群快满了】「{topic}」已有 {count} 人，微信群上限 500 人。可以清理长期潜水的成员，或提前准备新群。"
)

SILENCE_HEAD = "【潜水成员】「{topic}」截至 {date}："
SILENCE_NUDGE = "{days} 天以上未发言（可私下提醒）{n} 人：{names}"
SILENCE_CLEAN = "{days} 天以上未发言（待清理）{n} 人：{names}"
SILENCE_REMOVE = "{days} 天以上未发言（建议移出）{n} 人：{names}"
SILENCE_NONE = "没有长期未发言的成员，群里很活跃。"
SILENCE_NUDGED = "已私下问候其中 {n} 位（仅限机器人的好友）。"
SILENCE_REMOVED = "已按配置移出 {n} 位 {days} 天以上未发言的成员。"
SILENCE_KICK = "{days} 天以上未发言"

REPORT_DAILY_HEAD = "【群日报】「{topic}」{day}"
REPORT_WEEKLY_HEAD = "【群周报】「{topic}」{first} 至 {last}"
REPORT_COUNTS = "消息 {messages} 条，发言 {speakers} 人，入群 {joins} 人，退群 {leaves} 人"
REPORT_VIOLATIONS = "违规消息 {n} 条，涉及：{rules}"
REPORT_NO_VIOLATIONS = "无违规"
REPORT_TOP = "活跃榜：{top}"

FEATURED_OK = "已收入精华（本群第 {n} 条），群友可发“#搜 关键词”查找。"
FEATURED_AGAIN = "这条已经在精华里了。"
FEATURED_USAGE = "用法：引用一条消息回复“#精华”，或发送“#精华 内容”。"
UNFEATURED = "已移出精华。"
UNFEATURE_NONE = "精华里没有这条。"
UNFEATURE_USAGE = "用法：引用那条消息回复“#取消精华”，或发送“#取消精华 内容”。"
SEARCH_USAGE = "用法：#搜 关键词，例如“#搜 氰化”。"
SEARCH_NONE = "精华里没有找到与“{q}”相关的内容，换个关键词试试。"
SEARCH_HEAD = "精华里与“{q}”相关的内容："
SEARCH_LINE = "{i}. {text}（{name}，{date}）"

DIGEST_TITLE = "# 「{topic}」{month} 精华"
DIGEST_NONE = "本月没有收录精华。"
