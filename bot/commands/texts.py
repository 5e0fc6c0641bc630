"""What the bot says to admins and members about commands, appeals, reports and reviews.

Members read these: short, polite, firm Chinese. Admin notices start with a
bracketed tag. Values go in with :func:`bot.app.texts.fill` (one pass, no
``str.format``), so a member named ``{rule}{__class__}`` is shown as written
and cannot reach into a template.
"""

from __future__ import annotations

from bot.app.texts import fill

__all__ = ["fill"]

# --- usage and refusals ------------------------------------------------------------

USAGE = "用法：{usage}"
UNKNOWN = "没有“{word}”这个命令。发送 #帮助 查看可用命令。"
NEED_MENTION = "请在命令里 @ 要处理的成员（长按对方头像即可 @），不要手打名字。用法：{usage}"
NOT_ROOM_ADMIN = "你不是该群的群主或管理员，不能处理该群的事务。"
NO_ROOM_FOR_TARGET = "找不到你能管理、且有该成员的群。请在对应群内发送该命令。"
SEVERAL_ROOMS = "该成员在你管理的多个群里，请在对应群内发送该命令。"
STORE_DOWN = "系统暂时无法记录，请稍后再发一次。"
ONE_AT_A_TIME = "一条命令只处理一位成员，请分别发送。"
NOT_SELF = "不能对自己或机器人执行该命令。"
TARGET_IS_ADMIN = "{name} 是本群管理员，请由群主处理。"
NO_CASE = "没有找到案件 {case}。"
GLOBAL_ONLY = "私聊里只有总管理员可以切换所有群的试运行；请在对应群内发送 #试运行 开/关。"

# --- admin commands: confirmations -----------------------------------------------

WARNED = "已警告 {name}，案件号 {case}。"
MUTED = "已对 {name} 禁言 {duration}，至 {until}，案件号 {case}。"
MUTE_LIFTED_ROOM = "管理员已解除你的禁言，请遵守群规。"
UNMUTED = "已解除 {name} 的禁言。"
NOT_MUTED = "{name} 当前没有被禁言。"
KICKED = "已将 {name} 移出群聊，案件号 {case}。"
KICK_ASKED = "我没有本群的管理权限，已请群主、管理员将 {name} 移出，案件号 {case}。"
BANNED = "已将 {name} 移出并拉黑，案件号 {case}。"
BAN_ASKED = "已将 {name} 拉黑（我没有本群管理权限，已请群主、管理员移出），案件号 {case}。"
ACT_FAILED = "案件 {case}：对 {name} 的「{action}」未能完成（{error}），请人工处理。"
UNBANNED = "已将 {name} 移出黑名单，可以重新邀请入群。"
NOT_BANNED = "{name} 不在黑名单中。"
STILL_BANNED = "{name} 在所有群通用的黑名单中，需由总管理员私聊我“解除拉黑 微信号”解除。"
PARDONED = "案件 {case} 已撤销：记录不再计入违规次数，禁言、黑名单随之解除，已告知 {name}。"
PARDONED_KICKED = "{name} 此前已被移出，如需请重新邀请入群。"
ALREADY_PARDONED = "案件 {case} 此前已撤销。"
EXEMPTED = "已将 {name} 设为本群信任成员，机器人不再自动处理其消息。"
UNEXEMPTED = "已取消 {name} 的信任成员身份，其消息恢复正常审核。"
DRY_RUN_ON = "{where}已切换为试运行：机器人只向管理员报告将会做什么，不实际处理。"
DRY_RUN_OFF = "{where}已恢复正式运行：违规消息将按群规处理。"
RELOADED = "规则已重新加载，共 {count} 条规则。"
RELOAD_FAILED = "【规则文件有误】{error}\n仍按上一版有效规则执行。"

STRIKES_NONE = "{name} 近 {days} 天没有违规记录。"
STRIKES_HEAD = "{name} 近 {days} 天违规 {count} 次（不含已撤销）："
STRIKE_LINE = "· 案件 {case}（{day}）{what}{state}"

STATS = (
    "「{topic}」今日统计（{day}）：\n"
    "消息 {messages} 条，发言 {speakers} 人；入群 {joins} 人，退群 {leaves} 人；\n"
    "违规 {violations} 次{by_rule}，立案 {cases} 起{pending}。"
)
TODO_HEAD = "待处理事项（回复“同意 案件号”或“驳回 案件号 理由”）："
TODO_REVIEW = "· 案件 {case}：「{topic}」{name}，拟{actions}，待确认"
TODO_APPEAL = "· 案件 {case}：「{topic}」{name} 申诉：{text}"
TODO_NONE = "目前没有待确认的处理，也没有待处理的申诉。"
REPORT_TOO_MANY = "你的举报已收到多条，管理员会逐一处理，请稍后再提交。"
STATS_NONE = "你管理的群今天还没有统计数据。"

HELP_ADMIN_HEAD = "管理员命令（群内发送，或私聊我；@ 成员请长按头像选择）："
HELP_EVERYONE_HEAD = "所有人可用："
HELP_MEMBER = (
    "可用命令：\n"
    "#群规 查看群规\n"
    "#举报 @成员 说明 —— 向管理员举报（也可私聊我发送）\n"
    "申诉 案件号 理由 —— 私聊我，对处理提出申诉"
)

# --- members ---------------------------------------------------------------------------

RULES = "本群群规要点：\n{rules}\n违规处理：{ladder}。\n对处理有异议，可私聊我“申诉 案件号 理由”。"

APPEAL_USAGE = "申诉请私聊我发送：申诉 案件号 理由，例如“申诉 17 我发的是公司招聘，不是广告”。"
APPEAL_RECENT = "你最近的案件：{cases}。"
APPEAL_RECENT_CASE = "案件 {case}（「{topic}」，{at}）"
APPEAL_NOT_YOURS = "没有找到你名下的案件 {case}，请核对案件号（见处理通知）。"
APPEAL_RECEIVED = "已收到你对案件 {case} 的申诉，管理员会尽快复核，结果会私信告诉你。"
APPEAL_OPEN_ALREADY = "你对案件 {case} 的申诉已在处理中，请耐心等待。"
APPEAL_DECIDED_ALREADY = "案件 {case} 的申诉已处理过，结果见此前的通知。"
APPEAL_PARDONED_ALREADY = "案件 {case} 已经撤销，无需申诉。"
APPEAL_TO_ADMINS = (
    "【申诉】「{topic}」{name}（{contact}）对案件 {case} 提出申诉：\n{text}\n"
    "原处理：{what}\n回复“同意 {case}”撤销处罚，或“驳回 {case} 理由”驳回。"
)
APPEAL_ACCEPTED = "你好，你对案件 {case} 的申诉已通过，相关记录已撤销{undo}。给你带来不便，敬请谅解。"
APPEAL_REJECTED = "你好，你对案件 {case} 的申诉经管理员复核未获通过{answer}。感谢理解，请继续遵守群规。"
REMOVED_TOLD = (
    "你好，你因违反群规（{reason}）已被移出「{topic}」，案件号 {case}。\n"
    "如有异议，可回复“申诉 {case} 理由”，管理员会复核。"
)
PARDON_TOLD = "你好，你在「{topic}」的案件 {case} 已由管理员撤销，相关记录已撤销{undo}。"
APPEAL_DONE_ADMIN = "已{verb}案件 {case} 的申诉，并已告知 {name}。"

REPORT_USAGE = "举报请写明对象和原因，例如“#举报 @张三 在群里发赌博广告”。不用附上对方的链接或二维码，管理员能查到原消息。"
REPORT_RECEIVED = "收到你的举报，已转给管理员处理，谢谢你帮忙维护群秩序。"
REPORT_TO_ADMINS = "【举报】「{topic}」{reporter}（{reporter_id}）举报{target}：\n{text}"
REPORT_NO_ROOM = "没有找到你所在的、由我管理的群，请在群内发送 #举报。"

# --- human review --------------------------------------------------------------------------

REVIEW_ASK = (
    "【待确认】案件 {case}：「{topic}」的 {name}（{contact}），{reason}\n"
    "拟{actions}。回复“同意 {case}”执行，“驳回 {case}”取消；"
    "{minutes} 分钟内无人处理将{default}。"
)
REVIEW_APPROVED = "已同意案件 {case}：{actions}{result}。"
REVIEW_REJECTED = "已驳回案件 {case}：不再{actions}。"
REVIEW_TIMED_OUT = "【复核超时】案件 {case}：{minutes} 分钟内无人处理，已按默认{verb}：{actions}{result}。"
REVIEW_NOTHING = "案件 {case} 没有待确认的处理，也没有待处理的申诉。"
REVIEW_DECIDED_BY = "【已处理】案件 {case}（{actions}）已由 {admin} {verb}，无需再回复。"
