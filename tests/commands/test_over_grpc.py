"""The key command scenarios over a real gRPC socket: the real wechaty client and
adapter, the App with the commands installed, the rule engine and a SQLite file,
against the fake 1.x puppet-service server of tests/puppet on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from bot.app import App
from bot.config import BotConfig, Config, ModerationConfig, RoomSelector
from bot.puppet.outbox import Outbox
from bot.puppet.wechaty import WechatyPuppet
from bot.rules_holder import RulesHolder
from bot.store import open_store
from tests.app.grpc_live import Live
from tests.app.harness import ADMIN, LI, OWNER, ROOM, RULES, TOPIC, fresh_db
from tests.puppet.fake_service import FakePuppetService
from tests.puppet.session import arun

BOT = "wxid_bot"
WU = "wxid_wu"


def world(service: FakePuppetService) -> None:
    for cid, name in ((ADMIN, "张管理"), (OWNER, "王群主"), (LI, "李四"), (WU, "吴八")):
        service.add_contact(cid, name, friend=True)
    service.add_room(ROOM, TOPIC, [BOT, OWNER, ADMIN, LI, WU], owner=BOT, admins=[OWNER])


@asynccontextmanager
async def live_bot(tmp: Path, **moderation: object) -> AsyncIterator[Live]:
    svc = FakePuppetService(bot_id=BOT)
    world(svc)
    await svc.start()
    config = Config(
        bot=BotConfig(admins=(ADMIN,), rooms=(RoomSelector(id=ROOM),), introduce_in_rooms=False),
        moderation=ModerationConfig(**moderation),  # type: ignore[arg-type]
        data_dir=str(tmp / "data"),
    )
    puppet = WechatyPuppet(
        svc.endpoint, "test-token", tmp / "data", reconnect_min_s=0.2, reconnect_max_s=1.0, rpc_timeout_s=5.0
    )
    store = open_store(fresh_db(tmp), journal_dir=tmp / "journal")
    outbox = Outbox(puppet, per_minute=10_000, per_hour=100_000, merge_window_s=0, min_interval_s=0)
    app = App(config, puppet, store, RulesHolder.load(RULES), outbox=outbox)
    task = asyncio.create_task(app.run())
    live = Live(svc, app, store)
    try:
        await live.until(lambda: app.rooms.bot_id == BOT, timeout=15)
        await live.quiet()
        yield live
    finally:
        await app.stop(timeout_s=2)
        await asyncio.wait_for(task, 10)
        store.close()
        await svc.close()


def scenario(tmp: Path, story: Callable[[Live], Awaitable[None]], **moderation: object) -> None:
    async def main() -> None:
        async with live_bot(tmp, **moderation) as live:
            await story(live)

    arun(main(), timeout=60)


def test_grpc_an_owner_mutes_by_mention_and_a_namesake_of_the_owner_cannot(tmp_path: Path) -> None:
    async def story(live: Live) -> None:
        svc = live.service
        svc.contacts[LI].name = "王群主"  # a member copies the owner's display name
        svc.say(LI, "#踢 @吴八\u2005", room=ROOM, mentions=[WU])
        await live.until(lambda: live.sent_to(LI))
        assert live.sent_to(LI) == ["该命令仅限本群群主、管理员使用。"] and svc.kicks == []

        svc.say(OWNER, "#禁言 @吴八\u2005 2h 刷屏", room=ROOM, mentions=[WU])
        await live.until(lambda: any("禁言至" in t for t in live.sent_to(ROOM)))
        notice = next(s for s in svc.sent if s.conversation_id == ROOM)
        assert notice.mention_ids == [WU] and "刷屏（案件号 1）" in notice.text
        await live.quiet()
        assert live.store.muted_until(ROOM, WU, live.app.clock()) is not None

    scenario(tmp_path, story)


def test_grpc_the_appeal_flow(tmp_path: Path) -> None:
    async def story(live: Live) -> None:
        svc = live.service
        svc.say(WU, "有需要的加微信 wu888", room=ROOM)
        await live.until(lambda: live.sent_to(WU))
        svc.say(WU, "申诉 1 我发的是公司招聘电话")  # privately, to the bot
        await live.until(lambda: any("提出申诉" in t for t in live.sent_to(OWNER)))
        await live.until(lambda: any("已收到你对案件 1 的申诉" in t for t in live.sent_to(WU)))
        svc.say(OWNER, "同意 1")
        await live.until(lambda: any("申诉已通过" in t for t in live.sent_to(WU)))
        await live.quiet()
        assert live.store.case(1).case.state == "pardoned"
        assert live.store.appeals(case_no=1, state=None)[0].state == "accepted"

    scenario(tmp_path, story)


def test_grpc_the_review_flow_kick_awaits_then_approved(tmp_path: Path) -> None:
    async def story(live: Live) -> None:
        svc = live.service
        svc.say(WU, "澳门赌场上线了", room=ROOM)
        await live.until(lambda: any("【待确认】案件 1" in t for t in live.sent_to(OWNER)))
        await live.quiet()
        assert svc.kicks == []
        svc.say(ADMIN, "同意 1")
        await live.until(lambda: svc.kicks == [(ROOM, WU)])
        await live.until(lambda: any("已同意案件 1" in t for t in live.sent_to(ADMIN)))

    scenario(tmp_path, story, review=True)


ZHOU, ZHENG = "wxid_zhou", "wxid_zheng"

# (id, sender, text, in the room?, @mentions, conversation that hears it, what it hears)
EVERY_COMMAND = [
    ("help", LI, "#帮助", True, [], LI, "#群规 —— 查看群规"),
    ("rules", LI, "#群规", True, [], ROOM, "本群群规要点"),
    ("warn", OWNER, "#警告 @吴八\u2005发广告", True, [WU], ROOM, "请注意：发广告（案件号 1）"),
    ("mute", OWNER, "#禁言 @吴八\u2005 1h 刷屏", True, [WU], ROOM, "禁言至"),
    ("unmute", OWNER, "#解禁 @吴八\u2005", True, [WU], ROOM, "管理员已解除你的禁言"),
    ("strikes", OWNER, "#记录 @吴八\u2005", True, [WU], OWNER, "违规 2 次"),
    ("exempt", OWNER, "#exempt @李四\u2005", True, [LI], OWNER, "设为本群信任成员"),
    ("unexempt", OWNER, "#取消豁免 @李四\u2005", True, [LI], OWNER, "取消 李四 的信任成员身份"),
    ("kick", OWNER, "#踢 @周九\u2005 刷屏", True, [ZHOU], ROOM, "周九 因违反群规（刷屏）已被移出群聊"),
    ("ban", OWNER, "#拉黑 @郑十\u2005 诈骗", True, [ZHENG], ROOM, "郑十 因违反群规（诈骗）已被移出群聊"),
    ("unban", OWNER, f"解除拉黑 {ZHENG}", False, [], OWNER, "移出黑名单"),
    ("appeal", WU, "申诉 1 我没发广告", False, [], OWNER, "对案件 1 提出申诉"),
    ("reject", OWNER, "驳回 1 截图为证", False, [], WU, "未获通过：截图为证"),
    ("pardon", OWNER, "撤销 2 误判", False, [], WU, "案件 2 已由管理员撤销"),
    ("dry-run-on", OWNER, "#试运行 开", True, [], ROOM, "本群已切换为试运行"),
    ("dry-run-off", OWNER, "#dryrun off", True, [], ROOM, "本群已恢复正式运行"),
    ("reload", OWNER, "#重载规则", True, [], OWNER, "规则已重新加载，共 4 条规则"),
    ("stats", OWNER, "#统计", True, [], OWNER, "今日统计"),
    ("report", LI, "#举报 @吴八\u2005 私下拉人赌博", True, [WU], OWNER, "【举报】"),
    ("unknown", OWNER, "#开会", True, [], OWNER, "没有“开会”这个命令"),
    ("malformed", OWNER, "#禁言", True, [], OWNER, "用法：#禁言"),
]


def test_grpc_every_command_in_one_session(tmp_path: Path) -> None:
    async def story(live: Live) -> None:
        svc = live.service
        svc.add_contact(ZHOU, "周九")
        svc.add_contact(ZHENG, "郑十")
        svc.join(ROOM, [ZHOU, ZHENG], inviter=OWNER)
        await live.quiet()
        for step, sender, text, in_room, mentions, conversation, heard in EVERY_COMMAND:
            before = len(live.sent_to(conversation))
            if in_room:
                svc.say(sender, text, room=ROOM, mentions=mentions)
            else:
                svc.say(sender, text)

            def came(conversation: str = conversation, before: int = before, heard: str = heard) -> bool:
                return any(heard in t for t in live.sent_to(conversation)[before:])

            try:
                await live.until(came)
            except AssertionError as exc:
                raise AssertionError(f"step {step}: {conversation} did not hear {heard!r}") from exc
        await live.quiet()
        assert svc.kicks == [(ROOM, ZHOU), (ROOM, ZHENG)]
        assert live.store.is_blacklisted(ZHENG, ROOM) is None, "unbanned"
        assert live.store.case(2).case.state == "pardoned"
        commands = {a.command for a in live.store.audit_log(limit=200)}
        assert {
            "warn",
            "mute",
            "unmute",
            "strikes",
            "exempt",
            "unexempt",
            "kick",
            "ban",
            "unban",
            "appeal",
            "appeal_rejected",
            "pardon",
            "dry_run",
            "reload",
            "stats",
            "report",
        } <= commands

    scenario(tmp_path, story)


def test_grpc_a_broken_rules_file_keeps_the_old_rules_and_the_admin_gets_the_line(tmp_path: Path) -> None:
    import shutil

    from bot import jobs
    from tests.commands.test_reload import broken

    async def story(live: Live) -> None:
        path = tmp_path / "rules.yaml"
        shutil.copyfile(RULES, path)
        live.app.rules.path = path
        assert await live.app.rules.reload() is None
        text, line = broken(path.read_text(encoding="utf-8"))
        path.write_text(text, encoding="utf-8")
        await jobs.reload_rules(live.app, live.app.clock())
        await live.until(lambda: any(f"rules.yaml:{line}" in t for t in live.sent_to(ADMIN)))
        live.service.say(LI, "有需要的加微信 abc123", room=ROOM)
        await live.until(lambda: any("请尽快撤回" in t for t in live.sent_to(LI)))

    scenario(tmp_path, story)


def test_grpc_the_review_flow_timeout_takes_the_default(tmp_path: Path) -> None:
    from datetime import timedelta

    from bot.review import review_timeouts

    async def story(live: Live) -> None:
        svc = live.service
        svc.say(WU, "澳门赌场上线了", room=ROOM)
        await live.until(lambda: any("【待确认】案件 1" in t for t in live.sent_to(OWNER)))
        await live.quiet()
        await review_timeouts(live.app, live.app.clock() + timedelta(minutes=31))
        await live.until(lambda: svc.kicks == [(ROOM, WU)])
        await live.until(lambda: any("【复核超时】案件 1" in t for t in live.sent_to(OWNER)))

    scenario(tmp_path, story, review=True, review_default="act")
