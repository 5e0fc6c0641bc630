"""WeChat quote replies, as the puppet delivers them: ``「张三：原消息」\\n- - - - - -\\n回复``.

Read by the commands (a quote reply ending in ``#举报`` reports the quoted message) and by
the app (what a reporter wrote themselves, apart from what they quote)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_QUOTE = re.compile(r"^「(?P<quoted>.*)」\s*\n\s*(?:-\s*){5,}\n(?P<reply>.*)$", re.DOTALL)


@dataclass(frozen=True)
class Quote:
    quoted: str
    """``张三：原消息`` as WeChat puts it in a quote reply."""
    reply: str


def split_quote(text: str) -> Quote | None:
    """A WeChat quote reply -> (quoted, reply); None for a message that quotes nothing."""
    m = _QUOTE.match(text.strip())
    if not m:
        return None
    return Quote(m.group("quoted").strip(), m.group("reply").strip())


def own_words(text: str) -> str:
    """What the sender wrote themselves: the reply of a quote reply, else the whole text."""
    quote = split_quote(text)
    return text if quote is None else quote.reply
