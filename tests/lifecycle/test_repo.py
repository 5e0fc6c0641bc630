"""The lifecycle's store access on SQLite and PostgreSQL: each step that must happen once does."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from bot.events import Message
from bot.lifecycle.featured import month_bounds
from bot.store import Store
from bot.store.lifecycle_repo import HeldMessages, LifecycleRepo
from tests.lifecycle.helpers import LI, ROOM, local

CHEN = "wxid_chen"


def test_a_deadline_moves_once_from_each_state(store: Store) -> None:
    repo = LifecycleRepo(store)
    t0 = local(20, 9)
    repo.set_deadline(ROOM, LI, "nickname", t0 + timedelta(hours=24), t0)
    assert [(d.contact_id, d.state) for d in repo.open_deadlines()] == [(LI, "pending")]
    assert repo.move_deadline(ROOM, LI, "nickname", ("pending",), "reminded", t0 + timedelta(hours=12))
    assert not repo.move_deadline(ROOM, LI, "nickname", ("pending",), "reminded", t0 + timedelta(hours=13))
    assert repo.move_deadline(
        ROOM, LI, "nickname", ("pending", "reminded"), "expired", t0 + timedelta(hours=24)
    )
    assert not repo.move_deadline(
        ROOM, LI, "nickname", ("pending", "reminded"), "expired", t0 + timedelta(hours=25)
    )
    d = repo.deadline(ROOM, LI, "nickname")
    assert (d.state, d.reminded_at, d.done_at) == (
        "expired",
        t0 + timedelta(hours=12),
        t0 + timedelta(hours=24),
    )
    assert repo.open_deadlines() == []
    repo.set_deadline(ROOM, LI, "nickname", t0 + timedelta(days=3), t0 + timedelta(days=2))  # rejoined
    assert repo.deadline(ROOM, LI, "nickname").state == "pending"


def test_a_notice_slot_is_claimed_once(store: Store) -> None:
    repo = LifecycleRepo(store)
    slot = local(21, 9)
    assert repo.claim_notice("notice:morning", ROOM, slot, slot)
    assert not repo.claim_notice("notice:morning", ROOM, slot, slot + timedelta(minutes=1))
    assert repo.claim_notice("notice:morning", ROOM, slot + timedelta(days=1), slot + timedelta(days=1))
    assert repo.notice_sent("notice:morning", ROOM, slot)


def test_held_messages_go_out_once_when_due(store: Store) -> None:
    held = HeldMessages(store)
    night = local(21, 23, 30)
    held.hold("晚安", local(22, 7, 30), room_id=ROOM, now=night)
    held.hold("日报", local(22, 7, 30), to_id=LI, now=night)
    assert held.due(local(22, 7)) == []
    due = held.due(local(22, 7, 31))
    assert [(m.room_id, m.to_id, m.text) for m in due] == [(ROOM, None, "晚安"), (None, LI, "日报")]
    assert held.claim(due[0].id, local(22, 7, 31))
    assert not held.claim(due[0].id, local(22, 7, 32))
    assert [m.text for m in held.pending()] == ["日报"]


def test_featured_messages_are_kept_once_and_read_by_month(store: Store) -> None:
    repo = LifecycleRepo(store)
    view, new = repo.add_featured(
        ROOM,
        "m1",
        "全泥氰化",
        sender_id=LI,
        sender_name="李四",
        said_at=local(21, 10),
        marked_by="wxid_admin",
        at=local(21, 11),
    )
    assert new and view.sender_name == "李四"
    _, again = repo.add_featured(ROOM, "m1", "全泥氰化", at=local(21, 12))
    assert not again
    repo.add_featured(ROOM, "m2", "十二月", said_at=local(21, 10).replace(month=12), at=local(21, 10))
    nov = repo.featured(ROOM, *month_bounds("2026-11", ZoneInfo("Asia/Shanghai")))
    assert [f.message_id for f in nov] == ["m1"]


def test_speakers_and_the_cap_alert(store: Store) -> None:
    repo = LifecycleRepo(store)
    for i, (who, name) in enumerate([(LI, "李四"), (LI, "李四"), (CHEN, "陈七")]):
        store.note_message(Message(f"m{i}", ROOM, who, local(21, 10 + i), text="hi", sender_name=name))
    store.note_message(Message("m9", ROOM, CHEN, local(22, 10), text="hi", sender_name="陈七"))
    day = date(2026, 11, 21)
    assert repo.speakers_between(ROOM, day, day) == [(LI, "李四", 2), (CHEN, "陈七", 1)]
    assert repo.distinct_speakers(ROOM, day, day + timedelta(days=1)) == 2
    repo.set_cap_alerted(ROOM, local(21, 12))
    assert store.room(ROOM).cap_alerted_at == local(21, 12)
    repo.set_cap_alerted(ROOM, None)
    assert store.room(ROOM).cap_alerted_at is None
    store.upsert_room(ROOM, topic="金矿提金技术交流群")
    assert repo.rooms_like("提金") == [(ROOM, "金矿提金技术交流群")]
    assert repo.rooms_like(ROOM) == [(ROOM, "金矿提金技术交流群")]
