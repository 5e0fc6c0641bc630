"""Every sentence the live bot says, in one place.

Members read these in their groups: short, polite, firm Chinese. Admin notices
start with a bracketed tag so they can be told apart at a glance. Values are
inserted with :func:`bot.ladder.fill_template`, never ``str.format``, so a
member called ``{rule}{__class__}`` cannot break or abuse a template.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from bot.actions import ActionKind
from bot.ladder import LadderPolicy, fill_template
from bot.verdicts import Severity

ACTION_ZH: Mapping[ActionKind, str] = {
    ActionKind.WARN_PRIVATE: "私下提醒",
    ActionKind.WARN_PUBLIC: "公开警告",
    ActionKind.MUTE: "禁言",
    ActionKind.KICK: "移出群聊",
    ActionKind.BLACKLIST: "拉黑",
    ActionKind.NOTIFY_ADMINS: "通知管理员",
    ActionKind.NOTIFY_INVITER: "告知邀请人",
}

WARN_PRIVATE = (
    "你好，你在「{topic}」发的消息违反了群规：{reason}\n"
    "请尽快撤回该消息（长按消息→撤回）。案件号 {case}。\n"
    "如有异议，可回复“申诉 {case} 理由”。"
)
WARN_PRIVATE_FALLBACK = "你的消息违反了群规（{category}），请尽快撤回。案件号 {case}。"
WARN_PUBLIC = "请注意：{reason}（案件号 {case}）"
QUOTED = "原消息：「{excerpt}」"
MUTE = "现对你禁言至 {until}，期间请勿发言，否则将从严处理。"
MUTED_REMINDER = "你正在禁言期内（至 {until}），请勿发言。"
MUTED_PRIVATE = (
    "你好，你在「{topic}」的禁言期至 {until}，期间请勿发言，并请撤回刚才的消息。"
    "再次发言将按群规从严处理。案件号 {case}。"
)
MUTE_ENDED = "你在「{topic}」的禁言已到期，欢迎继续交流，请遵守群规。"

KICK_REQUEST = (
    "【请协助移出】我不是「{topic}」的群主或管理员，无法移出成员。\n"
    "请将 @{name} 移出群聊。\n原因：{reason}\n案件号 {case}"
)
KICK_REQUEST_IN_ROOM = "请群主或管理员协助将 {name} 移出群聊（违反群规，案件号 {case}）。"
KICK_UNCONFIRMED = (
    "【移出未确认】案件 {case}：{name} 在 {minutes} 分钟后仍在「{topic}」中。"
    "请检查我是否仍有管理权限，或手动移出。"
)
BLACKLIST_JOIN_REASON = "黑名单成员入群"
MUTE_ENDED_ON_LEAVE = "已离开本群（退群或被移出），禁言随之结束"
BLACKLIST_INVITER = "对方在本群黑名单中，以后请勿再邀请"
NOTIFY_ADMINS = "【违规通报】「{topic}」{name}（{contact}）：{reason}\n处理：{actions}。案件号 {case}"
OUTCOME_NOTE: Mapping[str, str] = {
    "requested_admins": "（我没有管理权限，已请群主、管理员动手）",
    "failed": "（未能完成）",
    "fallback_mention": "（对方不是好友，改为群内提醒）",
}
"""After an action's name in the admins' summary: what became of it, when not simply done."""
NOTIFY_INVITER = (
    "你好，你邀请进入「{topic}」的 {name} 因违反群规已被处理：{reason}\n"
    "按邀请人负责制告知你，请提醒对方遵守群规。案件号 {case}"
)
NOTIFY_INVITER_REMOVED = (
    "你好，你邀请进入「{topic}」的 {name} 已被移出群聊，原因：{reason}\n"
    "按邀请人负责制告知你，今后邀请新人时请提醒对方遵守群规。案件号 {case}"
)
NOTIFY_INVITER_REMOVAL_ASKED = (
    "你好，你邀请进入「{topic}」的 {name} 违反群规，将被移出群聊，原因：{reason}\n"
    "按邀请人负责制告知你，今后邀请新人时请提醒对方遵守群规。案件号 {case}"
)
ACTION_FAILED = "【处理失败】案件 {case}：对 {name} 的「{action}」未能完成（{error}），请人工处理。"
DRY_RUN = "【试运行】案件 {case}：正式运行时将对「{topic}」的 {name} {action}。原因：{reason}"
STORE_DOWN = "【数据库不可用】记录已暂存到本地日志，恢复后自动补写。请尽快检查数据库。"
STORE_BACK = "【数据库已恢复】暂存的记录已补写。"
RULES_BROKEN = "【规则文件有误】{error}\n仍按上一版有效规则执行。"

INVITE_ACCEPTED = (
    "已加入「{topic}」。请群主或管理员在群里发送 #启用，我就开始协助管理；发送 #停用 可随时停止。"
)
NO_KICK_RIGHTS = "提示：我还不是本群的群主或管理员，无法移出成员；遇到严重违规，我会私信请群主、管理员协助。把我设为管理员即可自动处理。"
NOT_ADMIN = "该命令仅限本群群主、管理员使用。"
ENABLED_ALREADY = "本群已开启群管。"
DISABLED = "好的，本群已停用群管，我不再处理本群消息。需要时发送 #启用 即可恢复。"
DISABLED_ALREADY = "本群当前未开启群管。"

INTRO = (
    "大家好，我是{bot}，受本群管理员委托协助维护群秩序。\n"
    "以下行为违反群规：\n{rules}\n"
    "违规处理：{ladder}。\n"
    "对处理有异议，可私聊我“申诉 案件号 理由”。谢谢大家配合！"
)


def fill(template: str, **values: object) -> str:
    return fill_template(template, {k: "" if v is None else str(v) for k, v in values.items()})


def until_text(until: datetime | None, tz: object = None) -> str:
    if until is None:
        return ""
    local = until.astimezone(tz) if tz is not None else until  # type: ignore[arg-type]
    return f"{local:%m-%d %H:%M}"


def duration_zh(d: timedelta | None) -> str:
    if d is None:
        return ""
    s = int(d.total_seconds())
    if s % 86400 == 0 and s >= 2 * 86400:  # 24 小时 reads better than 1 天 for the usual mute
        return f"{s // 86400} 天"
    if s % 3600 == 0 and s >= 3600:
        return f"{s // 3600} 小时"
    if s % 60 == 0 and s >= 60:
        return f"{s // 60} 分钟"
    return f"{s} 秒"


def ladder_summary(policy: LadderPolicy) -> str:
    """The tiers as members read them: 轻微者私下提醒；中度或再犯者公开警告、禁言 24 小时；..."""
    lead = {
        Severity.MINOR: "轻微",
        Severity.MODERATE: "中度或再犯",
        Severity.SEVERE: "严重或屡犯",
        Severity.MALICIOUS: "恶意",
    }
    parts = []
    for sev in (Severity.MINOR, Severity.MODERATE, Severity.SEVERE, Severity.MALICIOUS):
        steps = [
            ACTION_ZH[s.kind] + (" " + duration_zh(s.duration) if s.kind is ActionKind.MUTE else "")
            for s in policy.tiers.get(sev, ())
            if s.kind not in (ActionKind.NOTIFY_ADMINS,)
        ]
        if steps:
            parts.append(f"{lead[sev]}者{'、'.join(steps)}")
    return "；".join(parts)


def excerpt(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
