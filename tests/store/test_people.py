"""Members, rooms, the blacklist, appeals, reviews, audit, counts, retention."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.actions import ActionKind
from bot.errors import QunguardError
from bot.events import MemberJoined, MemberLeft
from bot.store import Store, open_store
from tests.store.helpers import LI, ROOM, ROOM2, T0, WANG, ad, msg, mute, warn


def test_messages_count_per_day_with_speakers_and_last_spoke(store):
    for i, (sender, dt) in enumerate([(LI, 0), (LI, 1), (WANG, 2), (LI, 24 * 60)]):
        store.note_message(msg(f"m{i}", sender=sender, at=T0 + timedelta(minutes=dt), name=sender[-2:]))
    m = msg("bad", sender=WANG, at=T0 + timedelta(minutes=3))
    store.note_message(m)
    store.record_violations(m, [ad(m)])
    days = store.daily_counts(ROOM, date(2026, 11, 19))
    assert [(d.day, d.messages, d.speakers, d.violations) for d in days] == [
        (date(2026, 11, 20), 4, 2, 1),
        (date(2026, 11, 21), 1, 1, 0),
    ]
    assert days[0].by_rule == {"ad-contact-handle": 1}
    assert store.member(ROOM, LI).last_spoke_at == T0 + timedelta(days=1)
    assert store.member(ROOM, LI).message_count == 3
    assert store.top_speakers(ROOM, date(2026, 11, 20)) == [(LI, 3), (WANG, 2)]


def test_a_message_noted_twice_counts_once(store):
    store.note_message(msg("a"))
    store.note_message(msg("a"))
    store.note_message(ROOM, LI, T0 + timedelta(minutes=1), "李四")  # no id: always counted
    [day] = store.daily_counts(ROOM, T0.date())
    assert day.messages == 2


def test_speakers_are_counted_once_per_day_across_flushes(store):
    store.note_message(msg("a"))
    store.flush()
    store.note_message(msg("b", at=T0 + timedelta(minutes=1)))
    store.flush()
    [day] = store.daily_counts(ROOM, T0.date())
    assert (day.messages, day.speakers) == (2, 1)


def test_counts_in_the_configured_time_zone(store):
    late = msg("late", at=T0.replace(hour=23, minute=30))  # 23:30 in Beijing is 15:30 UTC
    store.note_message(late)
    assert [d.day for d in store.daily_counts(ROOM, date(2026, 11, 1))] == [date(2026, 11, 20)]


def test_display_name_history_keeps_every_new_name(store):
    store.note_message(msg("a", name="李四"))
    store.flush()
    store.note_message(msg("b", name="金矿-李四", at=T0 + timedelta(hours=1)))
    member = store.member(ROOM, LI)
    assert member.display_name == "金矿-李四"
    assert [n for n, _ in member.names] == ["李四", "金矿-李四"]


def test_joins_and_leaves_update_members_and_counts(store):
    store.member_joined(MemberJoined(ROOM, WANG, T0, name="王五", inviter_id=LI))
    store.member_joined(MemberJoined(ROOM, WANG, T0, name="王五", inviter_id=LI))  # the same event again
    facts = store.member_facts(ROOM, WANG)
    assert (facts.inviter_id, facts.joined_at, facts.present) == (LI, T0, True)
    assert store.present_members(ROOM) == {WANG}
    store.member_left(MemberLeft(ROOM, WANG, T0 + timedelta(hours=1)))
    assert store.present_members(ROOM) == set()
    assert not store.member(ROOM, WANG).present
    [day] = store.daily_counts(ROOM, T0.date())
    assert (day.joins, day.leaves) == (1, 1)


def test_exempt_members_and_lifecycle_flags(store):
    store.set_member(ROOM, LI, exempt=True, nickname_ok=True, intro_done_at=T0, by="wxid_admin")
    member = store.member(ROOM, LI)
    assert (member.exempt, member.nickname_ok, member.intro_done_at) == (True, True, T0)


def test_rooms_switched_on_and_off_by_people(store):
    store.save_room(ROOM, "金矿提金技术交流群", "wxid_owner", ["wxid_admin"], 120, "wxid_bot", T0)
    assert store.switched_rooms() == {}
    store.set_room_moderated(ROOM, True, by="wxid_owner", at=T0)
    store.set_room_moderated(ROOM2, False, by="wxid_owner", at=T0)
    assert store.switched_rooms() == {ROOM: True, ROOM2: False}
    room = store.room(ROOM)
    assert (room.topic, room.owner_id, room.admin_ids, room.member_count) == (
        "金矿提金技术交流群", "wxid_owner", ("wxid_admin",), 120,
    )  # fmt: skip
    assert [r.id for r in store.moderated_rooms()] == [ROOM]


@pytest.mark.parametrize(
    ("scope", "barred_from"),
    [
        pytest.param("room", {ROOM}, id="one-room"),
        pytest.param("bot", {ROOM, ROOM2}, id="every-room-of-this-bot"),
        pytest.param("all", {ROOM, ROOM2, "other-bots-room"}, id="every-bot"),
    ],
)
def test_blacklist_scopes(store, migrated_db_url, scope, barred_from):
    store.blacklist_add(LI, scope=scope, room_id=ROOM, reason="诈骗", by="wxid_admin")
    with open_store(migrated_db_url, journal_dir=None, bot_id="wxid_other_bot") as other_bot:
        barred = {r for r in (ROOM, ROOM2) if store.is_blacklisted(LI, r)}
        if other_bot.is_blacklisted(LI, "other-bots-room"):
            barred.add("other-bots-room")
    assert barred == barred_from
    assert not store.is_blacklisted(WANG, ROOM)
    assert store.blacklist_remove(LI, room_id=ROOM, by="wxid_admin") == 1
    assert not store.is_blacklisted(LI, ROOM)


def test_a_blacklist_entry_needs_a_known_scope(store):
    with pytest.raises(QunguardError):
        store.blacklist_add(LI, scope="planet")


def test_an_accepted_appeal_pardons_the_case_and_tells_the_story(store):
    m = msg("m1")
    case = store.record_violations(m, [ad(m)])
    store.record_actions(case, m, [warn(m), mute(m)])
    store.blacklist_add(LI, scope="room", room_id=ROOM, case_no=case.case_no, by="wxid_bot")
    appeal = store.add_appeal(case.case_no, LI, "我发的是公司官网，不是广告", at=T0 + timedelta(hours=1))
    assert [a.id for a in store.appeals()] == [appeal.id]
    decided = store.decide_appeal(
        appeal.id, True, by="wxid_admin", answer="已核实", at=T0 + timedelta(hours=2)
    )
    assert decided.state == "accepted"
    story = store.case(case.case_no)
    assert story.case.state == "pardoned"
    assert story.mutes[0].lifted_by == "wxid_admin"
    assert not store.is_blacklisted(LI, ROOM)
    assert [a.command for a in story.audit] == ["appeal_accepted", "pardon"]
    assert store.history(None, LI, T0 - timedelta(days=1)) == []
    assert store.muted_until(ROOM, LI, T0 + timedelta(hours=3)) is None


def test_a_rejected_appeal_keeps_the_case(store):
    m = msg("m1")
    case = store.record_violations(m, [ad(m)])
    appeal = store.add_appeal(case.case_no, LI, "冤枉")
    store.decide_appeal(appeal.id, False, by="wxid_admin", answer="证据确凿")
    assert store.case(case.case_no).case.state != "pardoned"
    assert store.appeals(state="rejected")[0].answer == "证据确凿"


def test_review_requests_wait_for_an_admin_or_time_out(store):
    m = msg("m1")
    case = store.record_violations(m, [ad(m)])
    r1 = store.request_review(case.case_no, ActionKind.KICK, T0 + timedelta(minutes=30), "act", at=T0)
    r2 = store.request_review(case.case_no, ActionKind.BLACKLIST, T0 + timedelta(minutes=10), "drop", at=T0)
    assert [r.id for r in store.pending_reviews(due_before=T0 + timedelta(minutes=15))] == [r2.id]
    assert store.decide_review(r1.id, True, by="wxid_admin").state == "approved"
    assert store.decide_review(r2.id, None).state == "timed_out"
    assert store.decide_review(r1.id, False, by="wxid_admin").state == "approved"  # decided once
    assert [a.command for a in store.case(case.case_no).audit] == ["review_approved", "review_timed_out"]


def test_audit_keeps_admin_commands(store):
    store.audit("wxid_admin", "warn", room_id=ROOM, target_id=LI, detail={"reason": "发广告"}, at=T0)
    [entry] = store.audit_log(room_id=ROOM)
    assert (entry.actor_id, entry.command, entry.detail) == ("wxid_admin", "warn", {"reason": "发广告"})


def test_an_admin_opens_a_case_by_hand_and_adds_actions(store):
    case_no = store.open_case(ROOM, LI, by="wxid_admin", reason="私下骚扰", at=T0)
    store.add_action(case_no, mute(msg("x")), state="done", by="wxid_admin", at=T0)
    story = store.case(case_no)
    assert story.violations[0].rule == "manual"
    assert story.actions[0].kind == "mute" and story.case.state == "done"
    assert store.muted_until(ROOM, LI, T0 + timedelta(hours=1)) is not None


def test_purge_empties_old_excerpts_and_spans_but_keeps_cases_and_counts(store):
    old, new = msg("old", at=T0 - timedelta(days=200)), msg("new")
    for m in (old, new):
        store.note_message(m)
        store.record_actions(store.record_violations(m, [ad(m)]), m, [])  # settled: case done
    result = store.purge(timedelta(days=180), now=T0)
    assert result.excerpts == 1
    by_id = {v.message_id: v for v in store.violations()}
    assert by_id["old"].excerpt is None and by_id["old"].evidence[0]["span"] == ""
    assert by_id["new"].excerpt == "加我微信 abc123"
    assert len(store.cases()) == 2
    assert sum(d.violations for d in store.daily_counts(ROOM, date(2026, 1, 1))) == 2
    assert store.purge(timedelta(days=180), now=T0).excerpts == 0


def _settled(store, m):
    store.record_actions(store.record_violations(m, [ad(m)]), m, [])


def _open_case(store, m):
    store.record_violations(m, [ad(m)])


def _open_appeal(store, m):
    case = store.record_violations(m, [ad(m)])
    store.record_actions(case, m, [])
    store.add_appeal(case.case_no, m.sender_id, "我没有发广告", at=T0 - timedelta(days=1))


def _rejected_appeal(store, m):
    case = store.record_violations(m, [ad(m)])
    store.record_actions(case, m, [])
    appeal = store.add_appeal(case.case_no, m.sender_id, "我没有发广告", at=T0 - timedelta(days=2))
    store.decide_appeal(appeal.id, False, by="wxid_admin", at=T0 - timedelta(days=1))


def _pending_review(store, m):
    case = store.record_violations(m, [ad(m)])
    store.record_actions(case, m, [])
    store.request_review(case.case_no, ActionKind.KICK, T0 + timedelta(minutes=30), at=T0)


def _blacklisted(store, m):
    _settled(store, m)
    store.blacklist_add(m.sender_id, room_id=ROOM, by="wxid_admin", reason="屡次发广告", at=m.at)


@pytest.mark.parametrize(
    ("setup", "purged"),
    [
        pytest.param(_settled, True, id="a-settled-case-is-purged"),
        pytest.param(_open_case, False, id="an-open-case-keeps-its-evidence"),
        pytest.param(_open_appeal, False, id="an-open-appeal-keeps-its-evidence"),
        pytest.param(_rejected_appeal, True, id="a-decided-appeal-does-not"),
        pytest.param(_pending_review, False, id="a-pending-review-keeps-its-evidence"),
    ],
)
def test_purge_keeps_the_evidence_of_what_is_still_undecided(store, setup, purged):
    old = msg("old", at=T0 - timedelta(days=200))
    store.note_message(old)  # the name they used then
    setup(store, old)
    result = store.purge(timedelta(days=180), now=T0)
    assert result.excerpts == (1 if purged else 0)
    [v] = store.violations()
    assert (v.excerpt is None) is purged
    member = store.member(ROOM, LI)
    assert member is not None
    assert (member.names == ()) is purged, "the name they went by is evidence too"
    assert result.names == (1 if purged else 0)


def test_purge_never_touches_the_blacklist(store):
    old = msg("old", at=T0 - timedelta(days=400))
    _blacklisted(store, old)
    before = store.blacklist(ROOM)
    assert store.purge(timedelta(days=180), now=T0).excerpts == 1
    assert store.blacklist(ROOM) == before and before


def test_export_has_everything_about_one_room(store):
    m = msg("m1")
    store.record_actions(store.record_violations(m, [ad(m)]), m, [warn(m)])
    other = msg("m2", room=ROOM2)
    store.record_violations(other, [ad(other)])
    types = [r["type"] for r in store.export(ROOM)]
    assert {"room", "case", "violation", "action", "daily", "daily_rule"} <= set(types)
    assert all(r.get("room_id", ROOM) == ROOM for r in store.export(ROOM) if r["type"] != "action")


def test_reads_say_so_when_the_schema_is_not_migrated(tmp_path):
    from bot.errors import StoreUnavailable

    with pytest.raises(StoreUnavailable, match="qunguard db upgrade"):
        open_store(f"sqlite:///{tmp_path / 'empty.db'}", journal_dir=None, upgrade=False)


def test_store_returns_plain_dataclasses(store):
    m = msg("m1")
    store.record_violations(m, [ad(m)])
    story = store.case(1) or store.case(store.cases()[0].case_no)
    assert type(story).__module__ == "bot.store.views"
    assert isinstance(store, Store)


def test_an_older_message_counted_later_does_not_move_last_spoke_back(store):
    store.note_message(msg("late", at=T0 + timedelta(hours=1), name="李四"))
    store.flush()
    store.note_message(msg("early", at=T0, name=""))
    member = store.member(ROOM, LI)
    assert (member.last_spoke_at, member.message_count, member.display_name) == (
        T0 + timedelta(hours=1),
        2,
        "李四",
    )


def test_a_restart_does_not_repeat_an_unchanged_name_in_the_history(migrated_db_url, tmp_path):
    for run in range(2):
        with open_store(migrated_db_url, journal_dir=None) as s:
            s.note_message(msg(f"m{run}", at=T0 + timedelta(hours=run), name="李四"))
    with open_store(migrated_db_url, journal_dir=None) as s:
        s.note_message(msg("m9", at=T0 + timedelta(hours=5), name="金矿-李四"))
        assert [n for n, _ in s.member(ROOM, LI).names] == ["李四", "金矿-李四"]
