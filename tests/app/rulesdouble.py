"""A stand-in engine until bot.engine lands: a few words per category."""

from __future__ import annotations

from bot.events import Message, Sender
from bot.verdicts import Evidence, Severity, Violation

WORDS = {
    "加微信": ("ad-contact", "ad", Severity.MINOR, "请勿在群内发布广告或引流信息。"),
    "傻逼": ("abuse-insult", "abuse", Severity.MODERATE, "请文明交流，勿人身攻击。"),
    "赌场": ("gambling", "banned_topic", Severity.SEVERE, "禁止赌博相关内容。"),
    "刷单返利": ("fraud", "banned_topic", Severity.MALICIOUS, "禁止发布诈骗信息。"),
}


class KeywordEngine:
    def evaluate(self, message: Message, sender: Sender) -> list[Violation]:
        out = []
        for word, (rule, cat, sev, text) in WORDS.items():
            if word in message.text:
                out.append(
                    Violation(rule, cat, sev, message.room_id, message.sender_id, message.id,
                              (Evidence("words", word),), text)
                )
        return out
