"""The database goes away and comes back: nothing lost, nothing twice.

PostgreSQL is reached through a TCP proxy on 127.0.0.1 that the test can cut
(every connection dropped, new ones refused) and restore; a SQLite file is made
unreachable by moving its directory away."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from bot.errors import StoreUnavailable
from bot.events import MemberJoined
from bot.store import Store, migrate, open_store
from bot.store.db import make_engine
from bot.store.journal import Journal
from tests.store.helpers import LI, ROOM, T0, ad, msg, mute, warn
from tests.store.pgserver import TcpProxy


def handle(store: Store, m):
    case = store.record_violations(m, [ad(m)])
    if case.is_new:
        store.record_actions(case, m, [warn(m), mute(m, hours=1)])
    return case


@pytest.fixture
def proxied_pg(pg_url):
    u = make_url(pg_url)
    proxy = TcpProxy(u.host or "127.0.0.1", u.port or 5432)
    try:
        yield proxy, u.set(port=proxy.port).render_as_string(hide_password=False)
    finally:
        proxy.down()


def test_postgresql_going_away_mid_stream_loses_nothing_and_doubles_nothing(proxied_pg, pg_url, tmp_path):
    proxy, url = proxied_pg
    told = []
    store = open_store(url, journal_dir=tmp_path / "journal", retry_interval_s=0)
    store.on_outage(told.append)
    msgs = [msg(f"m{i}", at=T0 + timedelta(minutes=10 * i)) for i in range(9)]
    for m in msgs[:3]:
        assert handle(store, m).case_no > 0

    proxy.down()
    during = [handle(store, m) for m in msgs[3:6]]
    assert all(c.case_no < 0 and c.is_new for c in during), "provisional case numbers while down"
    assert store.outage is not None and len(told) == 1, "the app is told once"
    redelivered = store.record_violations(msgs[4], [ad(msgs[4])])
    assert not redelivered.is_new and len(redelivered.actions) == 2
    assert [h.message_id for h in store.history(ROOM, LI, T0 - timedelta(days=1))] == [m.id for m in msgs[:6]]
    assert store.muted_until(ROOM, LI, msgs[5].at + timedelta(minutes=5)) == msgs[5].at + timedelta(hours=1)
    store.record_outcome(during[0].case_no, 0, warn(msgs[3]), "done", "", msgs[3].at)
    store.member_joined(MemberJoined(ROOM, "wxid_new", msgs[5].at, inviter_id=LI))
    with pytest.raises(StoreUnavailable):
        store.cases()
    assert store.journal

    proxy.up()
    for m in msgs[6:]:
        assert handle(store, m).case_no > 0  # the first write finds the database back
    assert store.outage is None and told[-1] is None and len(told) == 2
    assert not store.journal, "the journal is emptied once written"
    store.close()

    with open_store(pg_url, journal_dir=None) as direct:
        assert sorted(v.message_id for v in direct.violations()) == sorted(m.id for m in msgs)
        for c in direct.cases():
            assert [a.kind for a in direct.case(c.case_no).actions] == ["warn_private", "mute"]
        m3 = direct.case(direct.case_for_message(ROOM, "m3").case_no)
        assert m3.actions[0].state == "done"
        assert direct.member(ROOM, "wxid_new").inviter_id == LI
        assert len(direct.active_mutes(msgs[5].at + timedelta(minutes=5))) == 6  # m0..m5, an hour each


def test_a_provisional_case_number_resolves_once_the_database_is_back(proxied_pg, tmp_path):
    proxy, url = proxied_pg
    with open_store(url, journal_dir=tmp_path / "journal", retry_interval_s=0) as store:
        proxy.down()
        m = msg("m1")
        case = handle(store, m)
        assert store.resolve_case_no(case.case_no) is None
        proxy.up()
        handle(store, msg("m2", at=T0 + timedelta(minutes=1)))
        real = store.resolve_case_no(case.case_no)
        assert real is not None and store.case(real).case.message_id == "m1"


def test_a_database_down_at_start_is_journaled_until_it_comes_up(proxied_pg, pg_url, tmp_path):
    proxy, url = proxied_pg
    proxy.down()
    store = open_store(url, journal_dir=tmp_path / "journal", retry_interval_s=0)
    assert store.outage is not None
    handle(store, msg("m1"))
    proxy.up()
    store.close()  # closing writes the journal when it can
    with open_store(pg_url, journal_dir=None) as direct:
        assert [v.message_id for v in direct.violations()] == ["m1"]


def test_without_a_journal_an_outage_is_an_error(proxied_pg, tmp_path):
    proxy, url = proxied_pg
    store = open_store(url, journal_dir=None, retry_interval_s=0)
    proxy.down()
    with pytest.raises(StoreUnavailable):
        store.record_violations(msg("m1"), [ad(msg("m1"))])
    store.close()


def test_a_sqlite_file_made_unreachable_and_back(tmp_path):
    folder = tmp_path / "db"
    url = f"sqlite:///{folder / 'q.db'}"
    setup = make_engine(url)
    migrate.upgrade(setup)
    setup.dispose()
    journal = Journal(tmp_path / "journal.jsonl")
    store = Store(make_engine(url, poolclass=NullPool), journal=journal, retry_interval_s=0)
    store.warm()
    handle(store, msg("m1"))
    folder.rename(tmp_path / "away")
    handle(store, msg("m2", at=T0 + timedelta(minutes=1)))
    assert store.outage is not None and journal
    (tmp_path / "away").rename(folder)
    handle(store, msg("m3", at=T0 + timedelta(minutes=2)))
    assert store.outage is None and not journal
    assert [v.message_id for v in store.violations()] == ["m1", "m2", "m3"]
    store.close()


def test_replaying_a_journal_twice_adds_nothing(proxied_pg, pg_url, tmp_path):
    """A crash after the journal was written to the database but before it was
    emptied: the next start replays it again, and nothing doubles."""
    proxy, url = proxied_pg
    jdir = tmp_path / "journal"
    store = open_store(url, journal_dir=jdir, retry_interval_s=0)
    proxy.down()
    for i in range(3):
        handle(store, msg(f"m{i}", at=T0 + timedelta(minutes=i)))
    saved = store.journal.path.read_bytes()
    proxy.up()
    store.close()
    store.journal.path.write_bytes(saved)
    with open_store(url, journal_dir=jdir) as again:
        assert not again.journal
        assert [v.message_id for v in again.violations()] == ["m0", "m1", "m2"]
        assert sum(len(again.case(c.case_no).actions) for c in again.cases()) == 6


def test_a_torn_last_journal_line_is_skipped(tmp_path):
    journal = Journal(tmp_path / "j.jsonl")
    journal.append("violations", {"x": 1})
    with journal.path.open("a", encoding="utf-8") as f:
        f.write('{"seq": 2, "op": "actio')
    journal.close()  # the writer died mid-line
    assert [e.seq for e in journal.entries()] == [1]
    reopened = Journal(journal.path)
    assert reopened.append("actions", {"y": 2}) == 2
    reopened.close()
    assert [(e.seq, e.op, e.data) for e in reopened.entries()] == [
        (1, "violations", {"x": 1}),
        (2, "actions", {"y": 2}),
    ]


def test_journal_files_are_kept_per_database(tmp_path):
    from bot.store.journal import journal_path

    a = journal_path(tmp_path, "sqlite:///a.db", "bot1")
    assert a != journal_path(tmp_path, "sqlite:///b.db", "bot1")
    assert a != journal_path(tmp_path, "sqlite:///a.db", "bot2")
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_a_database_restart_between_writes_is_no_outage(proxied_pg, tmp_path):
    """Pooled connections died with the server; the next write takes a fresh one."""
    proxy, url = proxied_pg
    with open_store(url, journal_dir=tmp_path / "journal", retry_interval_s=60) as store:
        handle(store, msg("m1"))
        proxy.down()
        proxy.up()
        assert handle(store, msg("m2", at=T0 + timedelta(minutes=1))).case_no > 0
        assert store.outage is None and not store.journal


def test_two_bots_sharing_a_data_directory_keep_their_own_journals(proxied_pg, pg_url, tmp_path):
    proxy, url = proxied_pg
    jdir = tmp_path / "journal"
    a = open_store(url, journal_dir=jdir, retry_interval_s=0)
    b = open_store(url, journal_dir=jdir, retry_interval_s=0)
    proxy.down()
    handle(a, msg("a1"))
    handle(b, msg("b1", room="r-other"))
    assert a.journal.path != b.journal.path
    proxy.up()
    handle(a, msg("a2", at=T0 + timedelta(minutes=1)))  # a is back; b's journal is b's, still held
    assert b.journal and b.outage is not None
    handle(b, msg("b2", room="r-other", at=T0 + timedelta(minutes=1)))
    a.close()
    b.close()
    with open_store(pg_url, journal_dir=None) as direct:
        assert sorted(v.message_id for v in direct.violations()) == ["a1", "a2", "b1", "b2"]
    assert list(jdir.iterdir()) == []


def test_a_journal_left_by_a_dead_process_is_written_at_the_next_start(proxied_pg, pg_url, tmp_path):
    proxy, url = proxied_pg
    jdir = tmp_path / "journal"
    proxy.down()
    dead = open_store(url, journal_dir=jdir, retry_interval_s=3600)
    handle(dead, msg("m1"))
    dead.journal._fh.close()  # the process dies: its lock goes, its journal stays
    dead.journal._fh = None
    dead.engine.dispose()
    proxy.up()
    with open_store(url, journal_dir=jdir) as next_start:
        assert [v.message_id for v in next_start.violations()] == ["m1"]
    assert list(jdir.iterdir()) == []
