"""Store functions the admin commands need beyond :class:`bot.store.Store`'s own.

Kept apart so the store's module stays the store engineer's; same tables, no
new migration.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update

from bot.errors import StoreUnavailable
from bot.store import Store
from bot.store.base import BLACKLIST
from bot.store.store import DOWN_ERRORS


def remove_room_blacklist(store: Store, contact_id: str, room_id: str, *, by: str, at: datetime) -> int:
    """Remove only the entries that name this one room (not the bot-wide or
    database-wide ones a room admin must not lift for other rooms); returns how many."""
    table = BLACKLIST
    try:
        with store.engine.begin() as conn:
            return conn.execute(
                update(table)
                .where(
                    table.c.contact_id == contact_id,
                    table.c.room_id == room_id,
                    table.c.removed_at.is_(None),
                )
                .values(removed_at=at, removed_by=by)
            ).rowcount
    except DOWN_ERRORS as exc:
        raise StoreUnavailable(f"the blacklist cannot be changed now: {exc}") from exc
