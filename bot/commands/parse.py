"""Reading the words after a command: who (by contact id), for how long, which case, why.

Who a command is about is never read from a display name. In a room it is the
contact ids WeChat attached to the @mentions of the message; the ``@张三``
text in the message is only removed from the reason. In a private chat the
admin names a member by contact id (``wxid_…``), which they can copy from any
of the bot's notices.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

MENTION_END = "\u2005"
"""WeChat ends an @mention with a four-per-em space."""

_MENTION = re.compile(r"@[^\s\u2005]*[\s\u2005]?")
_CASE = re.compile(r"^[#＃]?(\d{1,9})$")
_DURATION = re.compile(
    r"^(\d{1,5}(?:\.\d+)?)\s*(s|sec|秒|m|min|分|分钟|h|hr|小时|时|d|天|日|w|周|星期)?$", re.IGNORECASE
)
_UNIT_S = {
    "s": 1,
    "sec": 1,
    "秒": 1,
    "m": 60,
    "min": 60,
    "分": 60,
    "分钟": 60,
    "h": 3600,
    "hr": 3600,
    "小时": 3600,
    "时": 3600,
    "d": 86400,
    "天": 86400,
    "日": 86400,
    "w": 604800,
    "周": 604800,
    "星期": 604800,
}
MAX_MUTE = timedelta(days=30)
CONTACT_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_@.\-]{2,63}$")


def strip_mentions(args: str, count: int) -> str:
    """``'@张三\u2005发广告'`` -> ``'发广告'``: drop the first ``count`` @-segments.

    A display name can hold spaces; WeChat ends a real mention with U+2005, so
    the text up to that space is dropped when it is there."""
    out = args
    for _ in range(count):
        at = out.find("@")
        if at < 0:
            break
        end = out.find(MENTION_END, at)
        if end < 0:
            m = _MENTION.match(out, at)
            end = m.end() - 1 if m else len(out) - 1
        out = (out[:at] + " " + out[end + 1 :]).strip()
    return " ".join(out.split())


def has_typed_mention(args: str) -> bool:
    """The admin typed ``@名字`` by hand (no real mention came with it)."""
    return "@" in args


def parse_duration(token: str) -> timedelta | None:
    """``2h`` ``30m`` ``1d`` ``2小时`` ``3天`` ``90`` (minutes); None when it is no duration."""
    m = _DURATION.match(token.strip())
    if not m:
        return None
    unit = (m.group(2) or "m").lower()
    seconds = float(m.group(1)) * _UNIT_S[unit]
    if seconds <= 0:
        return None
    return min(timedelta(seconds=seconds), MAX_MUTE)


def parse_case(token: str) -> int | None:
    m = _CASE.match(token.strip())
    return int(m.group(1)) if m else None


@dataclass(frozen=True)
class CaseArgs:
    case_no: int
    rest: str


def case_and_rest(args: str) -> CaseArgs | None:
    """``'17 理由'`` / ``'#17'`` / ``'案件17 理由'`` -> (17, '理由')."""
    s = args.strip().removeprefix("案件").removeprefix("案").strip()
    m = re.match(r"^[#＃]?(\d{1,9})(?:\s+|$)(.*)$", s, re.DOTALL)
    if not m:
        return None
    return CaseArgs(int(m.group(1)), " ".join(m.group(2).split()))


def split_first(text: str) -> tuple[str, str]:
    parts = text.split(maxsplit=1)
    if not parts:
        return "", ""
    return parts[0], parts[1].strip() if len(parts) > 1 else ""


ON_WORDS = frozenset({"开", "开启", "打开", "on", "1", "true", "yes", "是"})
OFF_WORDS = frozenset({"关", "关闭", "off", "0", "false", "no", "否"})


def on_off(token: str) -> bool | None:
    t = token.strip().lower()
    if t in ON_WORDS:
        return True
    if t in OFF_WORDS:
        return False
    return None
