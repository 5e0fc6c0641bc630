"""The live bot, as admins and members meet it: scenarios over a fake WeChat."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot import jobs
from bot.errors import ActionFailed
from bot.events import MemberLeft, RoomInfo, RoomInvitation
from bot.store import Store
from tests.app.harness import ADMIN, BOT, CHEN, LI, OWNER, ROOM, TOPIC, Bot, make_config, play, states
from tests.app.wire import T0, FakeWeChat


def room_with_members(wechat: FakeWeChat, *, bot_is_owner: bool = True) -> None:
    owner = BOT if bot_is_owner else OWNER
    wechat.add_room(ROOM, TOPIC, owner, [OWNER, ADMIN, LI, CHEN], admins=[OWNER] if bot_is_owner else [])
    wechat.friends.update({ADMIN, OWNER, LI})


def configured(**moderation: object):
    from bot.config import RoomSelector

    return make_config(rooms=(RoomSelector(id=ROOM),), **moderation)


def test_an_admin_invites_the_bot_and_enables_the_room(tmp_path: Path) -> None:
    def setup(w: FakeWeChat) -> None:
        w.friends.update({ADMIN, OWNER, LI})
        w.invitations["inv-1"] = RoomInfo(ROOM, TOPIC, OWNER, (ADMIN,), (OWNER, ADMIN, LI))

    async def story(bot: Bot) -> None:
        bot.wechat.emit(RoomInvitation("inv-1", ADMIN, TOPIC, bot.clock()))
        await bot.settle()
        assert bot.wechat.accepted == ["inv-1"]
        assert ROOM in bot.app.rooms.info
        await bot.says(LI, "加微信领资料")
        assert bot.wechat.room_said(ROOM) == [] and bot.wechat.private_to(LI) == [], (
            "a room the bot is merely in is left alone"
        )

        assert "发送 #启用" in bot.wechat.private_to(ADMIN)[-1].text, "the inviter learns how to switch it on"
        await bot.says(OWNER, "#启用")
        intro = bot.wechat.room_said(ROOM)[-1].text
        assert "大家好，我是群管机器人" in intro and "申诉" in intro
        assert "还不是本群的群主或管理员" in bot.wechat.private_to(OWNER)[-1].text
        assert bot.store.room(ROOM).moderated
        assert [(a.actor_id, a.command) for a in bot.store.audit_log(room_id=ROOM)] == [(OWNER, "enable")]

        await bot.says(LI, "加微信领资料")
        assert "请尽快撤回" in bot.wechat.private_to(LI)[-1].text

    play(story, setup=setup, db=tmp_path)


def test_an_invitation_from_a_stranger_is_not_accepted(tmp_path: Path) -> None:
    def setup(w: FakeWeChat) -> None:
        w.invitations["inv-2"] = RoomInfo(ROOM, TOPIC, CHEN, (), (CHEN,))

    async def story(bot: Bot) -> None:
        bot.wechat.emit(RoomInvitation("inv-2", CHEN, TOPIC, bot.clock()))
        await bot.settle()
        assert bot.wechat.accepted == []

    play(story, setup=setup, db=tmp_path)


def test_a_member_cannot_enable_the_room_and_gets_told_privately(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(LI, "#启用", name="王群主")  # a copied display name gives no rights
        assert not bot.app.rooms.moderated(ROOM)
        assert bot.wechat.room_said(ROOM) == []

    play(story, setup=room_with_members, db=tmp_path)


def test_an_ad_gets_a_private_warning_asking_to_recall(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(LI, "有需要的加微信 abc123")
        warning = bot.wechat.private_to(LI)[-1].text
        assert "请尽快撤回" in warning and "案件号 1" in warning
        assert bot.wechat.room_said(ROOM) == []
        assert states(bot.store, 1) == {"warn_private": "done"}

    play(story, config=configured(), setup=room_with_members, db=tmp_path)


def test_a_second_offence_gets_a_public_warning_and_a_mute(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(LI, "加微信 abc123")
        bot.clock.advance(minutes=10)
        await bot.says(LI, "需要资料的加微信 abc123")
        notice = bot.wechat.room_said(ROOM)[-1]
        assert notice.mentions == (LI,)
        assert "请注意" in notice.text and "案件号 2" in notice.text and "禁言至" in notice.text
        assert "abc123" not in notice.text, "public notices leave the offending text out by default"
        assert states(bot.store, 2) == {"warn_public": "done", "mute": "done"}
        assert bot.store.muted_until(ROOM, LI, bot.clock()) is not None

    play(story, config=configured(), setup=room_with_members, db=tmp_path)


def test_the_public_notice_quotes_the_text_when_the_config_says_so(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(LI, "加微信 abc123")
        bot.clock.advance(minutes=10)
        await bot.says(LI, "加微信 xyz789")
        assert "原消息：「加微信 xyz789」" in bot.wechat.room_said(ROOM)[-1].text

    play(story, config=configured(public_notice_shows_text=True), setup=room_with_members, db=tmp_path)


def test_speaking_while_muted_is_reminded_then_takes_the_next_step(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(LI, "加微信 abc123")
        bot.clock.advance(minutes=10)
        await bot.says(LI, "加微信 abc123!")
        bot.clock.advance(minutes=10)
        await bot.says(LI, "大家早上好")
        assert "禁言" in bot.wechat.private_to(LI)[-1].text
        assert bot.wechat.kicked == []
        bot.clock.advance(minutes=10)
        await bot.says(LI, "我就要说话")
        assert bot.wechat.kicked == [(ROOM, LI)], "the ladder's next step after a reminder"
        assert bot.app.pending_kicks == {}, "the room-leave event confirmed the kick"

    play(story, config=configured(), setup=room_with_members, db=tmp_path)


def test_a_kick_without_owner_rights_asks_the_room_admins_privately(tmp_path: Path) -> None:
    def setup(w: FakeWeChat) -> None:
        room_with_members(w, bot_is_owner=False)

    async def story(bot: Bot) -> None:
        await bot.says(LI, "澳门赌场上线了")
        assert bot.wechat.kicked == []
        request = "\n".join(s.text for s in bot.wechat.private_to(OWNER))
        assert "请协助移出" in request and "@李四" in request and "案件号 1" in request
        assert states(bot.store, 1)["kick"] == "requested_admins"

    play(story, config=configured(), setup=setup, db=tmp_path)


def test_a_severe_violation_removes_the_member_and_tells_the_inviter(tmp_path: Path) -> None:
    def setup(w: FakeWeChat) -> None:
        room_with_members(w)
        w.friends.add(CHEN)

    async def story(bot: Bot) -> None:
        await bot.joins("wxid_new", inviter=CHEN)
        await bot.says("wxid_new", "澳门赌场上线了", name="新人")
        assert bot.wechat.kicked == [(ROOM, "wxid_new")]
        assert "邀请人负责制" in bot.wechat.private_to(CHEN)[-1].text
        assert "违规通报" in bot.wechat.private_to(OWNER)[-1].text
        assert states(bot.store, 1) == {"kick": "done", "notify_inviter": "done", "notify_admins": "done"}

    play(story, config=configured(), setup=setup, db=tmp_path)


def test_a_blacklisted_member_who_joins_is_removed_at_once(tmp_path: Path) -> None:
    def before(store: Store) -> None:
        store.blacklist_add("wxid_spammer", scope="bot", reason="广告", by=ADMIN, at=T0)

    async def story(bot: Bot) -> None:
        await bot.joins("wxid_spammer", inviter=LI)
        assert bot.wechat.kicked == [(ROOM, "wxid_spammer")]
        assert "黑名单" in bot.wechat.private_to(OWNER)[-1].text
        assert "黑名单" in bot.wechat.private_to(LI)[-1].text, "the inviter is told (邀请人负责制)"
        [entry] = [a for a in bot.store.audit_log(room_id=ROOM) if a.command == "blacklist_removal"]
        assert (entry.target_id, entry.detail["kick"], entry.detail["inviter"]) == (
            "wxid_spammer",
            "done",
            LI,
        )

    play(story, config=configured(), setup=room_with_members, before=before, db=tmp_path)


def test_a_blacklisted_member_who_joined_unseen_is_removed_when_they_speak(tmp_path: Path) -> None:
    def before(store: Store) -> None:
        store.blacklist_add("wxid_spammer", scope="room", room_id=ROOM, reason="广告", by=ADMIN, at=T0)

    async def story(bot: Bot) -> None:
        from dataclasses import replace

        info = bot.wechat.rooms_[ROOM]  # joined through someone's QR code: no room-join event
        bot.wechat.rooms_[ROOM] = replace(info, member_ids=(*info.member_ids, "wxid_spammer"))
        await bot.says("wxid_spammer", "大家好")
        assert bot.wechat.kicked == [(ROOM, "wxid_spammer")]

    play(story, config=configured(), setup=room_with_members, before=before, db=tmp_path)


def test_a_blacklist_entry_follows_the_configured_scope(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(CHEN, "刷单返利，日赚五百")
        assert bot.wechat.kicked == [(ROOM, CHEN)]
        (entry,) = bot.store.blacklist()
        assert (entry.contact_id, entry.room_id, entry.bot_id) == (CHEN, None, BOT)

    play(story, config=configured(blacklist_scope="bot"), setup=room_with_members, db=tmp_path)


def test_a_non_friends_private_warning_falls_back_to_a_mention(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(CHEN, "加微信 abc123")
        said = bot.wechat.room_said(ROOM)[-1]
        assert said.mentions == (CHEN,) and "请尽快撤回" in said.text
        assert states(bot.store, 1) == {"warn_private": "fallback_mention"}

    play(story, config=configured(), setup=room_with_members, db=tmp_path)


def test_a_non_friends_private_warning_is_skipped_when_the_config_says_none(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(CHEN, "加微信 abc123")
        assert bot.wechat.room_said(ROOM) == []
        assert states(bot.store, 1) == {"warn_private": "dropped"}
        assert bot.store.case(1).case.state == "done", "settled: nothing left to do"

    play(story, config=configured(private_warning_fallback="none"), setup=room_with_members, db=tmp_path)


def test_a_redelivered_message_is_handled_once(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        msg = await bot.says(LI, "加微信 abc123")
        bot.wechat.emit(msg)
        await bot.settle()
        assert len(bot.wechat.private_to(LI)) == 1

    play(story, config=configured(), setup=room_with_members, db=tmp_path)


def test_a_message_redelivered_after_a_restart_is_handled_once(tmp_path: Path) -> None:
    first: list = []

    async def before(bot: Bot) -> None:
        first.append(await bot.says(LI, "加微信 abc123"))

    async def after(bot: Bot) -> None:
        bot.wechat.emit(first[0])
        await bot.settle()
        assert bot.wechat.private_to(LI) == []

    play(before, config=configured(), setup=room_with_members, db=tmp_path)
    play(after, config=configured(), setup=room_with_members, db=tmp_path)


def test_mutes_expire_on_time(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(LI, "加微信 abc123")
        bot.clock.advance(minutes=10)
        await bot.says(LI, "加微信 abc123!")
        assert await jobs.expire_mutes(bot.app, bot.clock.advance(hours=23)) == 0
        assert await jobs.expire_mutes(bot.app, bot.clock.advance(hours=1, minutes=1)) == 1
        assert "禁言已到期" in bot.wechat.private_to(LI)[-1].text
        assert await jobs.expire_mutes(bot.app, bot.clock.advance(minutes=1)) == 0, "told once"
        before = len(bot.wechat.said)
        await bot.says(LI, "谢谢大家")
        assert len(bot.wechat.said) == before, "speaking after the mute is fine"

    play(story, config=configured(), setup=room_with_members, db=tmp_path)


def test_admins_are_told_when_the_room_leave_after_a_kick_does_not_come(tmp_path: Path) -> None:
    def setup(w: FakeWeChat) -> None:
        room_with_members(w)
        w.leave_after_kick = False

    async def story(bot: Bot) -> None:
        await bot.says(LI, "澳门赌场上线了")
        assert bot.wechat.kicked == [(ROOM, LI)]
        # WeChat says the kick worked, but the member is back in the list and no leave came
        from dataclasses import replace

        info = bot.wechat.rooms_[ROOM]
        bot.wechat.rooms_[ROOM] = replace(info, member_ids=(*info.member_ids, LI))
        assert await jobs.confirm_kicks(bot.app, bot.clock.advance(minutes=5)) == []
        assert await jobs.confirm_kicks(bot.app, bot.clock.advance(minutes=6)) == [LI]
        assert "移出未确认" in bot.wechat.private_to(ADMIN)[-1].text

    play(story, config=configured(), setup=setup, db=tmp_path)


def test_dry_run_tells_the_admins_what_would_have_happened(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(LI, "澳门赌场上线了")
        assert bot.wechat.kicked == []
        (told,) = bot.wechat.private_to(OWNER)
        assert "试运行" in told.text and "移出群聊" in told.text
        assert set(states(bot.store, 1).values()) == {"dry_run"}

    play(story, config=configured(dry_run_rooms=(ROOM,)), setup=room_with_members, db=tmp_path)


def test_a_failed_kick_is_recorded_and_the_admins_are_told(tmp_path: Path) -> None:
    def setup(w: FakeWeChat) -> None:
        room_with_members(w)
        w.kick_error = ActionFailed("网络错误")

    async def story(bot: Bot) -> None:
        await bot.says(LI, "澳门赌场上线了")
        assert states(bot.store, 1)["kick"] == "failed"
        assert any("处理失败" in s.text and "网络错误" in s.text for s in bot.wechat.private_to(OWNER))

    play(story, config=configured(), setup=setup, db=tmp_path)


def test_one_bad_event_does_not_stop_the_bot(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        async def broken(app, msg, sender, decision):  # a plugin with a bug
            raise RuntimeError("boom")

        bot.app.hooks.message.append(broken)
        bot.wechat.emit(object())  # type: ignore[arg-type]  # not even an event
        await bot.says(LI, "你好")
        await bot.says(LI, "加微信 abc123")
        assert len(bot.wechat.private_to(LI)) == 1

    play(story, config=configured(), setup=room_with_members, db=tmp_path)


def test_an_unknown_speaker_is_treated_as_a_new_member(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        joined: list[str] = []

        async def on_join(app, event):
            joined.append(event.contact_id)

        bot.app.hooks.join.append(on_join)
        await bot.says(LI, "你好")
        await bot.says("wxid_stranger", "大家好，我是扫码进来的")
        assert joined == ["wxid_stranger"]
        assert bot.store.member(ROOM, "wxid_stranger").present

    play(story, config=configured(), setup=room_with_members, db=tmp_path)


def test_rooms_added_without_an_event_are_noticed_by_the_room_scan(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        bot.wechat.add_room("r-new@chatroom", "新建技术交流群", OWNER, [OWNER, LI])
        await jobs.reconcile(bot.app, bot.clock())
        assert "r-new@chatroom" in bot.app.rooms.info
        assert not bot.app.rooms.moderated("r-new@chatroom")

    play(story, config=configured(), setup=room_with_members, db=tmp_path)


def test_a_room_selected_by_name_is_moderated(tmp_path: Path) -> None:
    from bot.config import RoomSelector

    async def story(bot: Bot) -> None:
        await bot.says(LI, "加微信 abc123")
        assert bot.wechat.private_to(LI)

    play(
        story,
        config=make_config(rooms=(RoomSelector(name_contains="技术交流"),)),
        setup=room_with_members,
        db=tmp_path,
    )


def test_stop_moderating_with_disable(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(OWNER, "#停用")
        assert "已停用" in bot.wechat.room_said(ROOM)[-1].text
        await bot.says(LI, "加微信 abc123")
        assert bot.wechat.private_to(LI) == []

    play(story, config=configured(), setup=room_with_members, db=tmp_path)


def test_with_the_database_down_the_bot_moderates_on_and_tells_the_admins_once(tmp_path: Path) -> None:
    down = "postgresql+psycopg://qunguard@127.0.0.1:1/qunguard"  # nothing listens on port 1

    async def story(bot: Bot) -> None:
        assert bot.store.outage is not None
        await bot.says(LI, "加微信 abc123")
        bot.clock.advance(minutes=10)
        await bot.says(CHEN, "大家好")
        assert "请尽快撤回" in bot.wechat.private_to(LI)[-1].text, "moderation goes on"
        told = [s for s in bot.wechat.private_to(ADMIN) if "数据库不可用" in s.text]
        assert len(told) == 1
        assert (tmp_path / "journal").exists() and any((tmp_path / "journal").iterdir()), (
            "the journal keeps the case"
        )

    play(story, config=configured(), setup=room_with_members, db=tmp_path, url=down)


def test_a_room_renamed_to_match_a_configured_name_becomes_moderated(tmp_path: Path) -> None:
    from bot.config import RoomSelector
    from bot.events import TopicChanged

    def setup(w: FakeWeChat) -> None:
        w.add_room(ROOM, "闲聊", BOT, [OWNER, LI], admins=[OWNER])
        w.friends.update({OWNER, LI})

    async def story(bot: Bot) -> None:
        await bot.says(LI, "加微信 abc123")
        assert bot.wechat.private_to(LI) == []
        from dataclasses import replace

        bot.wechat.rooms_[ROOM] = replace(bot.wechat.rooms_[ROOM], topic="黄金技术交流群")
        bot.wechat.emit(TopicChanged(ROOM, "黄金技术交流群", OWNER, bot.clock()))
        await bot.settle()
        await bot.says(LI, "加微信 abc123 !")
        assert bot.wechat.private_to(LI)

    play(story, config=make_config(rooms=(RoomSelector(name_contains="技术交流"),)), setup=setup, db=tmp_path)


def test_when_no_admin_is_a_friend_the_kick_request_is_made_in_the_room(tmp_path: Path) -> None:
    def setup(w: FakeWeChat) -> None:
        w.add_room(ROOM, TOPIC, OWNER, [OWNER, LI, CHEN], admins=[])
        w.friends.clear()

    async def story(bot: Bot) -> None:
        await bot.says(LI, "澳门赌场上线了")
        request = bot.wechat.room_said(ROOM)[-1]
        assert request.mentions == (OWNER,) and "协助将 李四 移出" in request.text
        assert states(bot.store, 1)["kick"] == "requested_admins"

    play(story, config=configured(), setup=setup, db=tmp_path)


def test_a_kick_keeps_its_confirmation_deadline_in_the_scheduler_until_the_leave_comes(
    tmp_path: Path,
) -> None:
    from datetime import datetime, timezone

    def setup(w: FakeWeChat) -> None:
        room_with_members(w)
        w.leave_after_kick = False

    async def story(bot: Bot) -> None:
        await bot.says(LI, "澳门赌场上线了")
        assert bot.wechat.kicked == [(ROOM, LI)], bot.wechat.said
        job = f"confirm-kick:{ROOM}:{LI}"
        assert job in bot.app.scheduler.job_ids()
        assert bot.app.scheduler.next_run(job) == bot.clock() + timedelta(minutes=10)
        bot.wechat.emit(MemberLeft(ROOM, LI, bot.clock(), BOT))  # the leave arrives late
        await bot.settle()
        assert job not in bot.app.scheduler.job_ids()

    play(
        story,
        config=configured(),
        setup=setup,
        db=tmp_path,
        scheduler=True,
        start=datetime.now(timezone.utc).replace(microsecond=0),
    )


def test_a_mute_survives_a_restart_and_its_end_is_still_announced(tmp_path: Path) -> None:
    async def before(bot: Bot) -> None:
        await bot.says(LI, "加微信 abc123")
        bot.clock.advance(minutes=10)
        await bot.says(LI, "加微信 abc123!")
        assert "禁言至" in bot.wechat.room_said(ROOM)[-1].text

    async def after(bot: Bot) -> None:  # a new process on the same database, 20 minutes later
        bot.clock.advance(minutes=20)
        await bot.says(LI, "重启后我还能说话吗", msg_id="after-restart-1")
        assert "禁言期至" in bot.wechat.private_to(LI)[-1].text, "still muted after the restart"
        assert await jobs.expire_mutes(bot.app, bot.clock.advance(hours=24)) == 1
        assert "禁言已到期" in bot.wechat.private_to(LI)[-1].text

    play(before, config=configured(), setup=room_with_members, db=tmp_path)
    play(after, config=configured(), setup=room_with_members, db=tmp_path, start=T0 + timedelta(minutes=10))


def test_a_room_the_bot_left_is_dropped_at_the_next_scan(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        bot.wechat.add_room("r-other@chatroom", "另一个群", OWNER, [OWNER])
        await jobs.reconcile(bot.app, bot.clock())
        del bot.wechat.rooms_["r-other@chatroom"]
        await jobs.reconcile(bot.app, bot.clock())
        assert set(bot.app.rooms.info) == {ROOM}

    play(story, config=configured(), setup=room_with_members, db=tmp_path)


def test_a_room_whose_details_cannot_be_read_is_still_moderated(tmp_path: Path) -> None:
    from bot.errors import ActionFailed as Refused

    async def story(bot: Bot) -> None:
        real = bot.wechat.room_info

        async def unreadable(room_id: str):  # the puppet service cannot read this room just now
            if room_id == "r-odd@chatroom":
                raise Refused("room payload unavailable")
            return await real(room_id)

        bot.wechat.room_info = unreadable  # type: ignore[method-assign]
        bot.wechat.rooms_["r-odd@chatroom"] = RoomInfo("r-odd@chatroom", "", OWNER, (), (OWNER, LI, BOT))
        await bot.says(LI, "加微信 abc123", room="r-odd@chatroom")
        assert bot.wechat.private_to(LI), "moderated although its member list could not be read"

    from bot.config import RoomSelector

    config = make_config(rooms=(RoomSelector(id=ROOM), RoomSelector(id="r-odd@chatroom")))
    play(story, config=config, setup=room_with_members, db=tmp_path)


def test_two_cases_deciding_the_same_removal_kick_once(tmp_path: Path) -> None:
    def setup(w: FakeWeChat) -> None:
        room_with_members(w, bot_is_owner=False)

    async def story(bot: Bot) -> None:
        await bot.says(LI, "澳门赌场上线了")
        await bot.says(LI, "澳门赌场日赚千元")  # the same incident: answered already
        assert states(bot.store, 2) == {}, "nothing decided twice for one incident"
        bot.clock.advance(minutes=3)  # a new incident while the admins have not acted yet
        await bot.says(LI, "澳门赌场首充送彩金")
        requests = [s for s in bot.wechat.private_to(OWNER) if "请协助移出" in s.text]
        assert len(requests) == 1, "the admins are asked once"
        assert states(bot.store, 3)["kick"] == "done"

    play(story, config=configured(), setup=setup, db=tmp_path)


def test_a_member_who_left_before_the_removal_is_not_kicked_again(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        await bot.says(LI, "你好")
        bot.wechat.emit(MemberLeft(ROOM, LI, bot.clock()))  # gone by the time the case is decided
        await bot.settle()
        from bot.actions import Action, ActionKind
        from bot.app import CaseContext

        ctx = CaseContext(ROOM, LI, bot.clock(), name="李四", topic=TOPIC)
        [outcome] = await bot.app.executor.execute(ctx, [Action(ActionKind.KICK, ROOM, LI, reason="测试")])
        assert (outcome.state, outcome.detail) == ("done", "already left the room")
        assert bot.wechat.kicked == []

    play(story, config=configured(), setup=room_with_members, db=tmp_path)


def test_reconciliation_finds_joins_and_leaves_that_came_without_events(tmp_path: Path) -> None:
    from dataclasses import replace

    async def story(bot: Bot) -> None:
        joined: list[str] = []

        async def on_join(app, event):
            joined.append(event.contact_id)

        bot.app.hooks.join.append(on_join)
        info = bot.wechat.rooms_[ROOM]
        members = (*(m for m in info.member_ids if m != CHEN), "wxid_qr_joiner")
        bot.wechat.rooms_[ROOM] = replace(info, member_ids=members)  # one scanned a QR code, one left
        await jobs.reconcile(bot.app, bot.clock())
        assert joined == ["wxid_qr_joiner"]
        assert bot.store.member(ROOM, "wxid_qr_joiner").present
        assert not bot.store.member(ROOM, CHEN).present

    play(story, config=configured(), setup=room_with_members, db=tmp_path)


def test_a_one_megabyte_message_with_odd_unicode_is_judged_and_the_bot_goes_on(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        huge = "加微信 abc123 " + ("正常聊天\u200b\U0001f600\u202e" * 150_000)[:1_000_000]
        await bot.says(LI, huge, name="李四\u202e{rule}{__class__}")
        warning = bot.wechat.private_to(LI)[-1].text
        assert "请尽快撤回" in warning and len(warning) < 500
        await bot.says(CHEN, "大家好")  # and the next message is handled as usual
        assert states(bot.store, 1) == {"warn_private": "done"}

    play(story, config=configured(), setup=room_with_members, db=tmp_path)


def test_speakers_in_a_room_whose_members_could_not_be_read_are_not_welcomed_as_newcomers(
    tmp_path: Path,
) -> None:
    from dataclasses import replace

    from bot.config import RoomSelector
    from bot.errors import ActionFailed as Refused

    async def story(bot: Bot) -> None:
        joined: list[str] = []

        async def welcome(app, event):
            joined.append(event.contact_id)

        bot.app.hooks.join.append(welcome)
        real = bot.wechat.room_info

        async def unreadable(room_id: str):  # type: ignore[no-untyped-def]
            if room_id == "r-odd@chatroom":
                raise Refused("room payload unavailable")
            return await real(room_id)

        bot.wechat.room_info = unreadable  # type: ignore[method-assign]
        bot.wechat.rooms_["r-odd@chatroom"] = RoomInfo("r-odd@chatroom", "", OWNER, (), (OWNER, LI, BOT))
        await bot.says(LI, "大家早", room="r-odd@chatroom")
        await bot.says(OWNER, "早上好", room="r-odd@chatroom")
        assert joined == [], "long-standing members found by speaking are not newcomers"
        assert bot.store.member("r-odd@chatroom", LI).present
        bot.wechat.room_info = real  # type: ignore[method-assign]
        await jobs.reconcile(bot.app, bot.clock())  # the member list is read at last
        info = bot.wechat.rooms_["r-odd@chatroom"]
        bot.wechat.rooms_["r-odd@chatroom"] = replace(info, member_ids=(*info.member_ids, "wxid_newbie"))
        await bot.says("wxid_newbie", "我是新来的", room="r-odd@chatroom")
        assert joined == ["wxid_newbie"], "once the room's members are known, a new speaker is a newcomer"

    config = make_config(rooms=(RoomSelector(id=ROOM), RoomSelector(id="r-odd@chatroom")))
    play(story, config=config, setup=room_with_members, db=tmp_path)
