"""What the operator of the local simulated group types, parsed.

One line is either ``名字: 消息`` (a member speaks; a full-width colon works
too) or a slash command. Parsing is pure; :mod:`bot.puppet.local` acts on it.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_NAME_CHARS = 32

HELP = """\
怎么用 / how to use:
  名字: 消息                 以这个名字在群里发言（新名字就是新成员）  speak as a member, e.g.  小王: 大家好
  /join 名字 [邀请人]        有人入群（可写邀请人）                    a member joins (invited by someone)
  /leave 名字                有人退群                                  a member leaves
  /image [名字] 图片路径      发图片（识别其中的二维码；不写名字则为上一位发言人）  send an image (its QR code is read)
  /qr 名字 内容               发一张二维码图片（内容如 weixin://…）       send a QR-code image made from the text
  /url 名字 网址 标题         分享链接卡片                              share a link card
  /admin 名字                设为群管理员（也可以是机器人）             make a member (or the bot) a room admin
  /owner [名字]              把群主转给他（不写名字则还给机器人）       transfer ownership (no name: back to the bot)
  /stranger 名字             设为/取消 非机器人好友（机器人不能私聊他） toggle "not the bot's friend"
  /pm 名字 消息               私聊机器人（管理员命令、申诉）             a private message to the bot
  /repeat 名字 次数 消息      连发多条（试试刷屏检测）                   say it N times at once (try flooding)
  /recall 名字               撤回他最近的一条消息                      recall the member's last message
  /topic 名字 新群名          改群名                                    rename the room
  /members                   列出群成员                                list members
  /help                      显示本帮助                                this help
  /quit                      退出（Ctrl-D 也可以）                     quit (or Ctrl-D)"""


@dataclass(frozen=True)
class Say:
    name: str
    text: str


@dataclass(frozen=True)
class Command:
    name: str
    """Without the slash, lower case: ``join``, ``image``, ..."""
    args: str
    """Everything after the command word, stripped."""


@dataclass(frozen=True)
class Unreadable:
    reason: str


Line = Say | Command | Unreadable | None

COMMANDS = frozenset(
    {
        "join",
        "leave",
        "image",
        "qr",
        "url",
        "admin",
        "owner",
        "stranger",
        "pm",
        "repeat",
        "recall",
        "topic",
        "members",
        "help",
        "quit",
    }
)
ALIASES = {
    "exit": "quit",
    "q": "quit",
    "h": "help",
    "?": "help",
    "img": "image",
    "link": "url",
    "flood": "repeat",
}
MAX_REPEAT = 50


def parse_line(raw: str) -> Line:
    """Parse one typed line; ``None`` for a blank one."""
    line = raw.strip().lstrip("\ufeff")
    if not line:
        return None
    if line.startswith("/") and not line.startswith("//"):
        word, _, rest = line[1:].partition(" ")
        name = ALIASES.get(word.lower(), word.lower())
        if name not in COMMANDS:
            return Unreadable(f"未知命令 /{word}（输入 /help 查看命令 / type /help）")
        return Command(name, rest.strip())
    cut = _first_colon(line)
    if cut is None:
        return Unreadable("格式：名字: 消息，例如 “小王: 大家好”（输入 /help 查看命令 / type name: message）")
    name, text = line[:cut].strip(), line[cut + 1 :].strip()
    if not name or len(name) > MAX_NAME_CHARS or text.startswith("//"):
        return Unreadable(
            "格式：名字: 消息，例如 “小王: 大家好”（名字最多 32 个字 / name up to 32 characters）"
        )
    if not text:
        return Unreadable(f"{name} 要说什么？格式：名字: 消息 / nothing to say")
    return Say(name, text)


def _first_colon(line: str) -> int | None:
    found = [i for i in (line.find(":"), line.find("：")) if i >= 0]
    return min(found) if found else None


def split_name(args: str) -> tuple[str, str]:
    """``"小王 其余的话"`` -> ``("小王", "其余的话")``."""
    name, _, rest = args.strip().partition(" ")
    return name, rest.strip()
