"""The store as the moderator's Records, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.actions import ActionKind
from bot.store import open_store
from bot.verdicts import Severity
from tests.store.helpers import LI, ROOM, ROOM2, T0, WANG, ad, msg, mute, warn


def test_a_violation_is_committed_as_a_numbered_case(store, migrated_db_url, tmp_path):
    m = msg("m1")
    case = store.record_violations(m, [ad(m)])
    assert case.is_new and case.case_no > 0
    with open_store(migrated_db_url, journal_dir=None) as other:  # another process sees it at once
        story = other.case(case.case_no)
    assert story is not None
    assert [v.rule for v in story.violations] == ["ad-contact-handle"]
    assert story.violations[0].excerpt == "加我微信 abc123"
    assert story.violations[0].evidence[0]["span"] == "加我微信"
    assert story.case.state == "open"


def test_the_same_message_twice_is_one_case_and_returns_the_first_actions(store):
    m = msg("m1")
    first = store.record_violations(m, [ad(m)])
    store.record_actions(first, m, [warn(m), mute(m)])
    again = store.record_violations(m, [ad(m)])
    assert not again.is_new
    assert again.case_no == first.case_no
    assert [a.kind for a in again.actions] == [ActionKind.WARN_PRIVATE, ActionKind.MUTE]
    assert again.actions[1].duration == timedelta(hours=24)
    store.record_actions(again, m, [warn(m)])  # a replay that decides again changes nothing
    assert len(store.violations()) == 1
    assert [a.kind for a in store.case(first.case_no).actions] == ["warn_private", "mute"]


def test_same_message_id_in_two_rooms_is_two_cases(store):
    a, b = msg("m1"), msg("m1", room=ROOM2)
    assert store.record_violations(a, [ad(a)]).case_no != store.record_violations(b, [ad(b)]).case_no


def test_several_rules_on_one_message_are_one_case_with_the_worst_severity(store):
    m = msg("m1")
    case = store.record_violations(m, [ad(m), ad(m, "fraud-words", Severity.SEVERE), ad(m)])
    story = store.case(case.case_no)
    assert [v.rule for v in story.violations] == ["ad-contact-handle", "fraud-words"]
    assert story.case.severity == "severe"


@pytest.mark.parametrize(
    ("room", "expected"),
    [
        pytest.param(ROOM, ["m1", "m3"], id="one-room"),
        pytest.param(None, ["m1", "m2", "m3"], id="across-rooms"),
    ],
)
def test_history_counts_offences_in_one_room_or_across_rooms(store, room, expected):
    for mid, r, dt in (("m1", ROOM, 0), ("m2", ROOM2, 1), ("m3", ROOM, 2)):
        m = msg(mid, room=r, at=T0 + timedelta(hours=dt))
        store.record_violations(m, [ad(m)])
    other = msg("x", sender=WANG)
    store.record_violations(other, [ad(other)])
    history = store.history(room, LI, T0 - timedelta(days=1))
    assert [h.message_id for h in history] == expected
    assert all(h.at.tzinfo is not None for h in history)


def test_history_leaves_out_older_offences_and_pardoned_cases(store):
    old = msg("old", at=T0 - timedelta(days=40))
    kept = msg("kept")
    pardoned = msg("pardoned", at=T0 + timedelta(minutes=5))
    for m in (old, kept, pardoned):
        store.record_violations(m, [ad(m)])
    case_no = store.case_for_message(ROOM, "pardoned").case_no
    store.pardon(case_no, by="wxid_admin", reason="误判")
    assert [h.message_id for h in store.history(ROOM, LI, T0 - timedelta(days=30))] == ["kept"]
    assert store.case(case_no).audit[0].command == "pardon"


def test_a_mute_action_becomes_a_mute_in_force_until_its_end(store):
    m = msg("m1")
    case = store.record_violations(m, [ad(m)])
    store.record_actions(case, m, [warn(m), mute(m, hours=24)])
    assert store.muted_until(ROOM, LI, T0 + timedelta(hours=1)) == T0 + timedelta(hours=24)
    assert store.muted_until(ROOM, LI, T0 + timedelta(hours=25)) is None
    assert store.muted_until(ROOM2, LI, T0 + timedelta(hours=1)) is None
    assert store.muted_until(ROOM, LI, T0 - timedelta(minutes=1)) is None
    [row] = store.active_mutes(T0 + timedelta(hours=1))
    assert (row.contact_id, row.case_no, row.until) == (LI, case.case_no, T0 + timedelta(hours=24))


def test_mutes_survive_a_restart(migrated_db_url, tmp_path):
    m = msg("m1")
    with open_store(migrated_db_url, journal_dir=tmp_path / "j") as s:
        s.record_actions(s.record_violations(m, [ad(m)]), m, [mute(m)])
    with open_store(migrated_db_url, journal_dir=tmp_path / "j") as s:
        assert s.muted_until(ROOM, LI, T0 + timedelta(hours=2)) == T0 + timedelta(hours=24)


def test_lifting_and_pardoning_end_a_mute(store):
    m = msg("m1")
    case = store.record_violations(m, [ad(m)])
    store.record_actions(case, m, [mute(m)])
    assert store.lift_mute(ROOM, LI, by="wxid_admin", at=T0 + timedelta(hours=1)) == 1
    assert store.muted_until(ROOM, LI, T0 + timedelta(hours=2)) is None
    assert store.active_mutes(T0 + timedelta(hours=2)) == []


def test_end_mutes_returns_each_ended_mute_once(store):
    m = msg("m1")
    store.record_actions(store.record_violations(m, [ad(m)]), m, [mute(m, hours=1)])
    assert store.end_mutes(T0 + timedelta(minutes=30)) == []
    [ended] = store.end_mutes(T0 + timedelta(hours=2))
    assert ended.contact_id == LI and ended.until == T0 + timedelta(hours=1)
    assert store.end_mutes(T0 + timedelta(hours=3)) == []


@pytest.mark.parametrize(
    ("states", "case_state"),
    [
        pytest.param(["done", "done"], "done", id="all-done"),
        pytest.param(["done", "failed"], "failed", id="one-failed"),
        pytest.param(["fallback_mention", "awaiting_review"], "awaiting_review", id="waiting-for-an-admin"),
        pytest.param(["dry_run", "dry_run"], "done", id="dry-run"),
        pytest.param(["done"], "open", id="one-still-pending"),
    ],
)
def test_the_case_state_follows_its_actions(store, states, case_state):
    m = msg("m1")
    case = store.record_violations(m, [ad(m)])
    store.record_actions(case, m, [warn(m), mute(m)])
    for position, state in enumerate(states):
        store.record_outcome(case.case_no, position, [warn(m), mute(m)][position], state, "", T0)
    story = store.case(case.case_no)
    assert story.case.state == case_state
    assert [a.state for a in story.actions][: len(states)] == states


def test_an_action_outcome_keeps_who_and_why(store):
    m = msg("m1")
    case = store.record_violations(m, [ad(m)])
    store.record_actions(case, m, [warn(m)])
    store.set_action_state(
        case.case_no, ActionKind.WARN_PRIVATE, "fallback_mention", "not a friend", by="wxid_bot"
    )
    [action] = store.case(case.case_no).actions
    assert (action.state, action.detail, action.actor_id) == ("fallback_mention", "not a friend", "wxid_bot")


def test_a_case_with_no_actions_is_done(store):
    m = msg("m1")
    case = store.record_violations(m, [ad(m)])
    store.record_actions(case, m, [])
    assert store.case(case.case_no).case.state == "done"


def test_timestamps_come_back_in_utc_and_equal_to_what_went_in(store):
    m = msg("m1")
    store.record_violations(m, [ad(m)])
    [v] = store.violations()
    assert v.at == T0 and v.at.utcoffset() == timedelta(0)


def test_a_case_whose_actions_were_never_recorded_is_decided_again(migrated_db_url, tmp_path):
    """The process died between committing the violation and recording the actions."""
    m = msg("m1")
    with open_store(migrated_db_url, journal_dir=tmp_path / "j") as before_crash:
        first = before_crash.record_violations(m, [ad(m)])
    with open_store(migrated_db_url, journal_dir=tmp_path / "j") as after_restart:
        again = after_restart.record_violations(m, [ad(m)])
        assert again.is_new and again.case_no == first.case_no
        after_restart.record_actions(again, m, [warn(m)])
        assert len(after_restart.violations()) == 1
        assert not after_restart.record_violations(m, [ad(m)]).is_new
