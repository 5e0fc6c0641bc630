"""What the bot knows about its rooms, and who is who in them.

A room is *moderated* when a person switched it on (``#启用``, kept in the
store) or, failing that, when ``config.bot.rooms`` selects it by id or by a
part of its name. ``#停用`` switches off even a configured room. Rooms the bot
is merely in are left alone.

Roles are decided by contact id only: global admins from the config, and the
room's owner and admins as WeChat reports them. A display name never makes
anyone an admin.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from bot.config import Config
from bot.events import RoomInfo

log = logging.getLogger(__name__)


class RoomBook:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.bot_id = ""
        self.info: dict[str, RoomInfo] = {}
        self.switched: dict[str, bool] = {}
        """Explicit #启用 / #停用 state per room (loaded from the store at start)."""

    # --- who is who -------------------------------------------------------

    def is_bot(self, contact_id: str) -> bool:
        return bool(contact_id) and (contact_id == self.bot_id or contact_id in self.config.bot.helper_bots)

    def is_global_admin(self, contact_id: str) -> bool:
        return contact_id in self.config.bot.admins

    def room_admin_ids(self, room_id: str) -> list[str]:
        """The room's owner and admins, people only (not the bot, not helper bots)."""
        info = self.info.get(room_id)
        if info is None:
            return []
        out: list[str] = []
        for cid in (info.owner_id, *info.admin_ids):
            if cid and cid not in out and not self.is_bot(cid):
                out.append(cid)
        return out

    def is_admin(self, room_id: str, contact_id: str) -> bool:
        return self.is_global_admin(contact_id) or contact_id in self.room_admin_ids(room_id)

    def admins_to_notify(self, room_id: str) -> list[str]:
        """Room owner and admins first, then global admins; each once."""
        out = self.room_admin_ids(room_id)
        for cid in self.config.bot.admins:
            if cid not in out and not self.is_bot(cid):
                out.append(cid)
        return out

    def bot_can_kick(self, room_id: str) -> bool | None:
        """True/False when WeChat told us the room's owner and admins; None when unknown."""
        info = self.info.get(room_id)
        if info is None or not (info.owner_id or info.admin_ids):
            return None
        return self.bot_id in (info.owner_id, *info.admin_ids)

    # --- rooms ----------------------------------------------------------------

    def topic(self, room_id: str) -> str:
        info = self.info.get(room_id)
        return info.topic if info is not None else ""

    def selected_by_config(self, room_id: str, topic: str = "") -> bool:
        topic = topic or self.topic(room_id)
        return any(sel.matches(room_id, topic) for sel in self.config.bot.rooms)

    def moderated(self, room_id: str, topic: str = "") -> bool:
        if room_id in self.switched:
            return self.switched[room_id]
        return self.selected_by_config(room_id, topic)

    def moderated_ids(self) -> list[str]:
        return [rid for rid in self.info if self.moderated(rid)]

    def remember(self, info: RoomInfo) -> bool:
        """Keep the latest facts about a room; True if the room is new to this process."""
        new = info.id not in self.info
        self.info[info.id] = info
        return new

    def set_topic(self, room_id: str, topic: str) -> None:
        info = self.info.get(room_id) or RoomInfo(room_id)
        self.info[room_id] = replace(info, topic=topic)

    def add_member(self, room_id: str, contact_id: str) -> None:
        info = self.info.get(room_id)
        if info is not None and contact_id not in info.member_ids:
            self.info[room_id] = replace(info, member_ids=(*info.member_ids, contact_id))

    def drop_member(self, room_id: str, contact_id: str) -> None:
        info = self.info.get(room_id)
        if info is not None and contact_id in info.member_ids:
            self.info[room_id] = replace(
                info, member_ids=tuple(m for m in info.member_ids if m != contact_id)
            )

    def has_member(self, room_id: str, contact_id: str) -> bool | None:
        info = self.info.get(room_id)
        if info is None or not info.member_ids:
            return None
        return contact_id in info.member_ids
