"""What issue 5 and 6 features plug into: commands, hooks, the review gate, dry run, hot reload."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

from bot.actions import Action
from bot.app import CaseContext, CommandContext, Where
from bot.app.commands import split_command
from bot.config import RoomSelector
from bot.events import MemberJoined, MemberLeft, PrivateMessage
from bot.rules_holder import RulesHolder
from tests.app.harness import ADMIN, CHEN, LI, OWNER, ROOM, RULES, Bot, make_config, play, states
from tests.app.wire import FakeWeChat


def room(w: FakeWeChat) -> None:
    w.add_room(ROOM, "金矿提金技术交流群", "wxid_bot", [OWNER, ADMIN, LI, CHEN], admins=[OWNER])
    w.friends.update({ADMIN, OWNER, LI, CHEN})


CONFIG = make_config(rooms=(RoomSelector(id=ROOM),))


def test_split_command_reads_words_in_rooms_only_after_a_hash() -> None:
    assert split_command("#警告 @张三 发广告", in_room=True) == ("警告", "@张三 发广告")
    assert split_command("＃群规", in_room=True) == ("群规", "")
    assert split_command("警告一下", in_room=True) is None
    assert split_command("申诉 17 我没发广告", in_room=False) == ("申诉", "17 我没发广告")
    assert split_command("#warn\u3000理由", in_room=True) == ("warn", "理由")


def test_a_registered_admin_command_runs_for_an_admin_and_not_for_a_namesake(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        heard: list[tuple[str, bool, tuple[str, ...]]] = []

        @bot.app.commands.command("警告", "warn", where=Where.BOTH, admin_only=True)
        async def warn(ctx: CommandContext) -> None:
            heard.append((ctx.sender_id, ctx.is_admin, ctx.mention_ids))
            await ctx.reply("已警告。")

        await bot.says(OWNER, "#警告 @李四 发广告", mentions=(LI,))
        assert heard == [(OWNER, True, (LI,))]
        await bot.says(CHEN, "#warn @李四", name="王群主", mentions=(LI,))  # a copied display name
        assert len(heard) == 1
        assert "仅限本群群主、管理员" in bot.wechat.private_to(CHEN)[-1].text

    play(story, config=CONFIG, setup=room, db=tmp_path)


def test_private_commands_and_free_text_reach_their_handlers(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        appeals: list[str] = []
        other: list[str] = []

        @bot.app.commands.command("申诉", "appeal", where=Where.PRIVATE)
        async def appeal(ctx: CommandContext) -> None:
            appeals.append(ctx.args)
            await ctx.reply("已收到你的申诉。")

        async def chat(app, msg: PrivateMessage) -> bool:
            other.append(msg.text)
            return True

        bot.app.hooks.private.append(chat)
        bot.wechat.emit(PrivateMessage("p1", LI, bot.clock(), "申诉 1 我没有发广告"))
        bot.wechat.emit(PrivateMessage("p2", LI, bot.clock(), "你好"))
        await bot.settle()
        assert appeals == ["1 我没有发广告"] and other == ["你好"]
        assert bot.wechat.private_to(LI)[-1].text == "已收到你的申诉。"

    play(story, config=CONFIG, setup=room, db=tmp_path)


def test_join_and_message_hooks_see_members_of_moderated_rooms(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        seen: list[str] = []

        async def welcome(app, event: MemberJoined) -> None:
            seen.append(f"join {event.contact_id} by {event.inviter_id}")

        async def spoke(app, msg, sender, decision) -> None:
            seen.append(f"said {msg.sender_id} {len(decision.violations)}")

        bot.app.hooks.join.append(welcome)
        bot.app.hooks.message.append(spoke)
        await bot.joins("wxid_new", inviter=LI)
        await bot.says("wxid_new", "大家好，我是新来的")
        assert seen == ["join wxid_new by wxid_li", "said wxid_new 0"]

        left_at = bot.clock()
        bot.wechat.emit(MemberLeft(ROOM, "wxid_new", left_at))
        await bot.settle()
        await bot.says("wxid_new", "我是张三，做选矿的", at=left_at - timedelta(seconds=1))  # delivered late
        assert seen == ["join wxid_new by wxid_li", "said wxid_new 0"], "no hook for someone gone"

    play(story, config=CONFIG, setup=room, db=tmp_path)


def test_a_review_gate_holds_a_kick_until_an_admin_approves(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        held: list[tuple[CaseContext, Action, int]] = []

        class Gate:
            async def hold(self, ctx: CaseContext, action: Action, position: int) -> bool:
                held.append((ctx, action, position))
                return True

        bot.app.executor.review_gate = Gate()
        await bot.says(LI, "澳门赌场上线了")
        assert bot.wechat.kicked == [] and [a.kind.value for _, a, _ in held] == ["kick"]
        assert states(bot.store, 1)["kick"] == "awaiting_review"
        ctx, action, position = held[0]
        outcome = await bot.app.executor.perform(ctx, action, position)  # 同意 1
        await bot.settle()
        assert outcome.state == "done" and bot.wechat.kicked == [(ROOM, LI)]
        assert states(bot.store, 1)["kick"] == "done"

    play(story, config=CONFIG, setup=room, db=tmp_path)


def test_dry_run_can_be_switched_per_room_at_run_time(tmp_path: Path) -> None:
    async def story(bot: Bot) -> None:
        bot.app.executor.set_dry_run(ROOM, True)
        await bot.says(LI, "加微信 abc123")
        assert bot.wechat.private_to(LI) == []
        assert any("试运行" in s.text for s in bot.wechat.private_to(ADMIN))
        assert states(bot.store, 1) == {"warn_private": "dry_run"}

    play(story, config=CONFIG, setup=room, db=tmp_path)


def test_a_broken_rules_edit_keeps_the_last_good_rules_and_tells_the_admins_the_line(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    shutil.copyfile(RULES, rules)

    async def story(bot: Bot) -> None:
        bot.app.rules.listeners.clear()
        bot.app.rules = RulesHolder.load(rules)
        bot.app.rules.listeners.append(bot.app._rules_reloaded)
        rules.write_text(
            rules.read_text(encoding="utf-8") + "  - name: broken\n    severity: [oops\n", encoding="utf-8"
        )
        error = await bot.app.rules.reload_if_changed()
        assert error is not None and f"{rules}:" in str(error)
        await bot.settle()
        assert any("规则文件有误" in s.text and f"{rules}:" in s.text for s in bot.wechat.private_to(ADMIN))
        await bot.says(LI, "加微信 abc123")
        assert bot.wechat.private_to(LI), "still moderating on the last good rules"
        assert await bot.app.rules.reload_if_changed() is None, "a broken file is reported once"

    play(story, config=CONFIG, setup=room, db=tmp_path)


def test_a_command_waiting_on_the_outbox_does_not_hold_up_moderation(tmp_path: Path) -> None:
    import asyncio

    async def story(bot: Bot) -> None:
        release = asyncio.Event()
        order: list[str] = []

        @bot.app.commands.command("慢", where=Where.ROOM, admin_only=True)
        async def slow(ctx: CommandContext) -> None:  # as if its reply waited for the hourly limit
            await release.wait()
            order.append("slow")

        @bot.app.commands.command("快", where=Where.ROOM, admin_only=True)
        async def fast(ctx: CommandContext) -> None:
            order.append("fast")

        for text in ("#慢", "#快"):
            bot.wechat.emit(bot_message(bot, OWNER, text))
        bot.wechat.emit(bot_message(bot, LI, "加微信 abc123"))
        for _ in range(200):
            if bot.wechat.private_to(LI):
                break
            await asyncio.sleep(0.01)
        assert bot.wechat.private_to(LI), "the ad was warned while the command waited"
        assert order == []
        release.set()
        await bot.settle()
        assert order == ["slow", "fast"], "commands still take effect in the order they were typed"

    play(story, config=CONFIG, setup=room, db=tmp_path)


def bot_message(bot: Bot, sender: str, text: str):  # type: ignore[no-untyped-def]
    from bot.events import Message

    bot._n += 1
    return Message(f"x{bot._n}", ROOM, sender, bot.clock(), text=text, room_topic="金矿提金技术交流群")


def test_a_member_typing_admin_commands_does_not_make_the_bot_reread_the_room_each_time(
    tmp_path: Path,
) -> None:
    async def story(bot: Bot) -> None:
        reads: list[str] = []
        real = bot.wechat.room_info

        async def counting(room_id: str):  # type: ignore[no-untyped-def]
            reads.append(room_id)
            return await real(room_id)

        bot.wechat.room_info = counting  # type: ignore[method-assign]
        for _ in range(5):
            await bot.says(CHEN, "#启用")
        assert reads == [ROOM], "re-read once to see whether they were made admin, not five times"

    play(story, config=CONFIG, setup=room, db=tmp_path)
