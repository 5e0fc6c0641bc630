"""The lifecycle of members in moderated rooms: welcome, real-name nicknames,
self-introductions, the member cap, and the quiet-hours rule for everything
the lifecycle says.

One :class:`Lifecycle` per :class:`~bot.app.App` (``app.lifecycle``). Its
deadlines live in ``lifecycle_deadlines`` (the truth) and on the scheduler
under stable ids (``deadline:nickname:<room>:<contact>:remind`` / ``:due``);
each step is a conditional update of the row, so a job that fires twice, or
fires and is then swept up by :meth:`Lifecycle.tick`, acts once.

A deadline: the member is asked in the welcome; halfway to the deadline, if
still not done, reminded (@ in the room); at the deadline, the configured
action: ``remind`` (a last @ reminder), ``notify_admins`` (a private note to the
admins) or ``kick`` (through the executor: without owner/admin rights the
admins are asked to remove the member).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import deque
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.actions import Action, ActionKind
from bot.app.executor import CaseContext
from bot.errors import NotAFriend, StoreUnavailable
from bot.events import MemberJoined, MemberLeft, Message, Sender
from bot.ladder import fill_template
from bot.lifecycle import texts
from bot.lifecycle.settings import QuietHours, RoomRules, room_rules
from bot.store.lifecycle_repo import DeadlineView, HeldMessage, HeldMessages, LifecycleRepo

if TYPE_CHECKING:
    from bot.app import App
    from bot.moderation import Decision

log = logging.getLogger(__name__)

NICKNAME = "nickname"
INTRO = "intro"
OPEN = ("pending", "reminded")
RECENT_PER_ROOM = 300
CAP_RESET_MARGIN = 10
"""The cap alert is armed again once the room is this far below the mark."""


def fill(text: str, /, **values: object) -> str:
    """Fill ``{field}``s in one pass, values inserted literally (never ``str.format``)."""
    return fill_template(text, {k: "" if v is None else str(v) for k, v in values.items()})


def hours_zh(d: timedelta) -> str:
    """A duration as members read it, rounded: 24 小时, 3 天, 40 分钟."""
    s = max(0, int(d.total_seconds()))
    if s >= 2 * 86400 and s % 86400 == 0:
        return f"{s // 86400} 天"
    if s >= 3600:
        return f"{round(s / 3600)} 小时"
    return f"{max(1, round(s / 60))} 分钟"


@dataclass(frozen=True)
class Newcomer:
    contact_id: str
    name: str
    inviter: str
    """The inviter's display name ("" when unknown)."""
    asks: tuple[str, ...]
    """What the welcome asks of them (nickname, introduction)."""


@dataclass(frozen=True)
class Step:
    """What a deadline check did: ``done`` | ``reminded`` | ``expired`` | ``cancelled`` | ``waiting``."""

    outcome: str
    next_at: datetime | None = None


class Lifecycle:
    def __init__(self, app: App) -> None:
        self.app = app
        self.repo = LifecycleRepo(app.store)
        self.held = HeldMessages(app.store)
        self.quiet = QuietHours.from_config(app.config.schedule, app.tz)
        self.recent: dict[str, deque[Message]] = {}
        """The last messages of each room, to find the original of a quoted ``#精华``."""
        self.open: set[tuple[str, str, str]] = set()
        """(room, contact, kind) of deadlines still running: checked on each of their messages."""
        self.welcomes: dict[str, list[Newcomer]] = {}
        """Newcomers waiting for their (merged) welcome, per room."""
        self._welcomed_at: dict[str, float] = {}
        """When each room last had a welcome (monotonic seconds)."""
        self.searches: dict[tuple[str, str], datetime] = {}
        """When each member last searched the featured messages (``#搜``), per room."""
        self._cap_told: dict[str, bool] = {}
        """Per room: whether the admins were told of the cap (known after the first read)."""
        self._loaded = False

    # --- settings -------------------------------------------------------------------

    def rules_for(self, room_id: str) -> RoomRules:
        return room_rules(self.app.config.lifecycle, room_id, self.app.rooms.topic(room_id))

    def load(self) -> None:
        """Read the running deadlines (at login: what a restart must not forget)."""
        try:
            for d in self.repo.open_deadlines():
                self.open.add((d.room_id, d.contact_id, d.kind))
                self.arm(d)
            self._loaded = True
        except StoreUnavailable as exc:
            log.warning("lifecycle: deadlines not loaded yet (%s)", exc)

    # --- saying things, quiet hours respected --------------------------------------------

    def say_room(self, room_id: str, text: str, mentions: Sequence[str] = (), *, now: datetime) -> bool:
        """Say in a room now, or hold it until quiet hours end; True when sent now."""
        if self.quiet.contains(now):
            self.held.hold(
                text, self.quiet.end_after(now), room_id=room_id, mention_ids=tuple(mentions), now=now
            )
            return False
        self._send(self.app.port.say(room_id, text, list(mentions)), f"say-{room_id}")
        return True

    def tell_admins(self, room_id: str, text: str, *, now: datetime, urgent: bool = False) -> bool:
        """Tell the room's admins privately; outside urgent notices, held through quiet hours."""
        if not urgent and self.quiet.contains(now):
            until = self.quiet.end_after(now)
            for cid in self.app.rooms.admins_to_notify(room_id):
                self.held.hold(text, until, to_id=cid, now=now)
            return False
        self._send(self.app.executor.tell_admins(room_id, text), f"admins-{room_id}")
        return True

    def say_private(self, contact_id: str, text: str, *, now: datetime) -> None:
        """A private note (not urgent): held through quiet hours; skipped if not the bot's friend."""
        if self.quiet.contains(now):
            self.held.hold(text, self.quiet.end_after(now), to_id=contact_id, now=now)
        else:
            self.app.spawn(self._say_private(contact_id, text), name=f"note-{contact_id}")

    def tell_admins_of_rooms(self, texts_by_room: dict[str, str], *, now: datetime) -> dict[str, str]:
        """Reports of several rooms: each admin gets one message holding the reports of their
        rooms (a global admin of ten groups gets one message, not ten). Held through quiet hours.
        Returns admin id -> the text sent (or held)."""
        per_admin: dict[str, list[str]] = {}
        for room_id, text in texts_by_room.items():
            for cid in self.app.rooms.admins_to_notify(room_id):
                per_admin.setdefault(cid, []).append(text)
        out = {cid: "\n\n".join(parts) for cid, parts in per_admin.items()}
        quiet = self.quiet.contains(now)
        for cid, text in out.items():
            if quiet:
                self.held.hold(text, self.quiet.end_after(now), to_id=cid, now=now)
            else:
                self.app.spawn(self._say_private(cid, text), name=f"report-{cid}")
        if texts_by_room and not out:
            log.warning("no admin to send the reports of %s to", ", ".join(texts_by_room))
        return out

    async def _say_private(self, contact_id: str, text: str) -> None:
        try:
            await self.app.executor.say_private(contact_id, text)
        except NotAFriend:
            log.info("private note to %s not sent: not the bot's friend", contact_id)

    def _send(self, pending: Any, name: str) -> None:
        async def wait() -> None:
            await pending

        self.app.spawn(wait(), name=name)

    async def release_held(self, now: datetime) -> int:
        """Send what quiet hours held back, once each. Returns how many went out."""
        if self.quiet.contains(now):
            return 0
        sent = 0
        for msg in self.held.due(now):
            if self.held.claim(msg.id, now):
                sent += 1
                self.app.spawn(self._release(msg), name=f"held-{msg.id}")  # the outbox paces them
        return sent

    async def _release(self, msg: HeldMessage) -> None:
        try:
            if msg.to_id:
                await self.app.executor.say_private(msg.to_id, msg.text)
            elif msg.room_id:
                await _wait(self.app.port.say(msg.room_id, msg.text, list(msg.mention_ids)))
        except NotAFriend:
            log.info("held message to %s: not a friend", msg.to_id)
        except Exception as exc:
            log.warning("held message %s failed: %s", msg.id, exc)

    # --- joining -------------------------------------------------------------------------

    async def on_join(self, event: MemberJoined) -> None:
        app = self.app
        if app.rooms.is_bot(event.contact_id):
            return
        rules = self.rules_for(event.room_id)
        if app.rooms.is_admin(event.room_id, event.contact_id):  # admins are welcomed, never chased
            rules = replace(rules, nickname=None, intro_deadline=None)
        name = event.name or await self._name(event.contact_id, event.room_id)
        nickname_ok = rules.nickname.ok(name) if rules.nickname is not None else True
        asks: list[str] = []
        try:  # the welcome goes out even while the database is down; the deadlines need it
            if rules.nickname is not None:
                app.store.set_member(event.room_id, event.contact_id, nickname_ok=nickname_ok)
            if rules.nickname is not None and not nickname_ok:
                self.start_deadline(
                    event.room_id, event.contact_id, NICKNAME, event.at + rules.nickname_deadline, event.at
                )
            if rules.intro_deadline is not None:
                self.start_deadline(
                    event.room_id, event.contact_id, INTRO, event.at + rules.intro_deadline, event.at
                )
        except StoreUnavailable as exc:
            log.warning("deadlines of %s in %s not kept: %s", event.contact_id, event.room_id, exc)
        if rules.nickname is not None and not nickname_ok:
            asks.append(
                fill(texts.NICKNAME_ASK, hours=hours_zh(rules.nickname_deadline), format=rules.nickname.shown)
            )
        if rules.intro_deadline is not None:
            template = (
                fill(texts.INTRO_TEMPLATE, template=rules.intro_template) if rules.intro_template else ""
            )
            asks.append(fill(texts.INTRO_ASK, hours=hours_zh(rules.intro_deadline), template=template))
        if rules.welcome or asks:
            inviter = ""
            if event.inviter_id and not app.rooms.is_bot(event.inviter_id):
                inviter = await self._name(event.inviter_id, event.room_id)
            newcomer = Newcomer(event.contact_id, name or "新朋友", inviter, tuple(asks))
            self.welcome(event.room_id, rules, newcomer, event.at)
        await self.check_cap(event.room_id, event.at)

    def welcome_text(self, room_id: str, rules: RoomRules, newcomers: Sequence[Newcomer]) -> str:
        """One welcome for one or more newcomers: their names, the inviter(s), the rules, what to do."""
        inviters = list(dict.fromkeys(n.inviter for n in newcomers if n.inviter))
        template = rules.welcome or texts.DEFAULT_WELCOME
        if not inviters:  # "邀请人：{inviter}。" says nothing without one
            template = _NO_INVITER.sub("", template)
        inviter = "、".join(inviters)
        welcome = fill(
            template,
            name="、".join(n.name for n in newcomers),
            inviter=inviter,
            rules=self.app.rules.summary(),
            topic=self.app.rooms.topic(room_id),
        )
        if inviter and not rules.welcome:
            welcome = welcome.replace("入群！", "入群！" + fill(texts.INVITED_BY, inviter=inviter), 1)
        asks = list(dict.fromkeys(a for n in newcomers for a in n.asks))
        return "\n".join([welcome, *asks])

    def welcome(self, room_id: str, rules: RoomRules, newcomer: Newcomer, now: datetime) -> None:
        """Welcome at once; but within ``welcome_merge_s`` of the last welcome, wait for the window
        to pass and welcome everyone who came meanwhile in one message (a QR code passed around
        must not flood the group, nor the send limit the warnings need)."""
        window = self.app.config.lifecycle.welcome_merge_s
        waiting = self.welcomes.get(room_id)
        if waiting is not None:
            waiting.append(newcomer)
            return
        since = time.monotonic() - self._welcomed_at.get(room_id, float("-inf"))
        if window > 0 and since < window:
            self.welcomes[room_id] = [newcomer]
            self.app.spawn(self._welcome_later(room_id, window - since), name=f"welcome-{room_id}")
            return
        self._welcomed_at[room_id] = time.monotonic()
        self.say_room(room_id, self.welcome_text(room_id, rules, [newcomer]), [newcomer.contact_id], now=now)

    async def _welcome_later(self, room_id: str, wait_s: float) -> None:
        await asyncio.sleep(wait_s)
        newcomers = self.welcomes.pop(room_id, [])
        if newcomers:
            self._welcomed_at[room_id] = time.monotonic()
            text = self.welcome_text(room_id, self.rules_for(room_id), newcomers)
            self.say_room(room_id, text, [n.contact_id for n in newcomers], now=self.app.clock())

    async def on_leave(self, event: MemberLeft) -> None:
        for kind in (NICKNAME, INTRO):
            key = (event.room_id, event.contact_id, kind)
            if key in self.open:
                self.open.discard(key)
                self.repo.move_deadline(event.room_id, event.contact_id, kind, OPEN, "cancelled", event.at)
                self.disarm(event.room_id, event.contact_id, kind)
        await self.check_cap(event.room_id, event.at)

    async def check_cap(self, room_id: str, now: datetime) -> bool:
        """Tell the admins (urgent) once when the room reaches ``member_cap_alert``; True when told."""
        mark = self.app.config.lifecycle.member_cap_alert
        info = self.app.rooms.info.get(room_id)
        if mark <= 0 or info is None or not info.member_ids:
            return False
        count = len(info.member_ids)
        if count < mark - CAP_RESET_MARGIN and not self._cap_told.get(room_id, True):
            return False  # well below the mark, nothing to reset: no database read for each join
        try:
            room = self.app.store.room(room_id)
            alerted = room.cap_alerted_at if room is not None else None
            self._cap_told[room_id] = alerted is not None
            if count >= mark and alerted is None:
                self.repo.set_cap_alerted(room_id, now)
                self._cap_told[room_id] = True
        except StoreUnavailable as exc:
            log.warning("member cap of %s not checked: %s", room_id, exc)
            return False
        if count >= mark and alerted is None:
            self.tell_admins(
                room_id, fill(texts.CAP_ALERT, topic=info.topic, count=count), now=now, urgent=True
            )
            return True
        if count < mark - CAP_RESET_MARGIN and alerted is not None:
            self.repo.set_cap_alerted(room_id, None)
            self._cap_told[room_id] = False
        return False

    # --- deadlines -------------------------------------------------------------------------

    def start_deadline(self, room_id: str, contact_id: str, kind: str, due: datetime, now: datetime) -> None:
        self.repo.set_deadline(room_id, contact_id, kind, due, now)
        self.open.add((room_id, contact_id, kind))
        self.arm(DeadlineView(room_id, contact_id, kind, due, "pending", now))

    def arm(self, d: DeadlineView) -> None:
        """Put the deadline's reminder and end on the scheduler (stable ids, kept in the database)."""
        sched = self.app.scheduler
        if sched is None:
            return
        base = f"deadline:{d.kind}:{d.room_id}:{d.contact_id}"
        args = {"room_id": d.room_id, "contact_id": d.contact_id, "kind": d.kind}
        if d.state == "pending":
            sched.at(base + ":remind", "lifecycle_deadline", remind_at(d), **args)
        sched.at(base + ":due", "lifecycle_deadline", d.due_at, **args)

    def disarm(self, room_id: str, contact_id: str, kind: str) -> None:
        sched = self.app.scheduler
        if sched is not None:
            base = f"deadline:{kind}:{room_id}:{contact_id}"
            sched.cancel(base + ":remind")
            sched.cancel(base + ":due")

    async def check_deadline(self, room_id: str, contact_id: str, kind: str, now: datetime) -> Step:
        """One look at a deadline: done, reminder, action or nothing yet. Safe to call any
        number of times: each step happens once."""
        d = self.repo.deadline(room_id, contact_id, kind)
        if d is None or d.state not in OPEN:
            self.open.discard((room_id, contact_id, kind))
            return Step(d.state if d is not None else "cancelled")
        member = self.app.store.member(room_id, contact_id)
        if (
            member is None
            or member.left_at is not None
            or member.exempt
            or self.app.rooms.is_admin(room_id, contact_id)
            or not self.app.rooms.moderated(room_id)
        ):
            self.repo.move_deadline(room_id, contact_id, kind, OPEN, "cancelled", now)
            self.open.discard((room_id, contact_id, kind))
            return Step("cancelled")
        rules = self.rules_for(room_id)
        name = await self._name(contact_id, room_id) or member.display_name
        if await self._satisfied(kind, rules, member, name, now):
            return Step("done")
        if now >= d.due_at:
            if self.repo.move_deadline(room_id, contact_id, kind, OPEN, "expired", now):
                self.open.discard((room_id, contact_id, kind))
                await self._act(kind, rules, room_id, contact_id, name, d, now)
            return Step("expired")
        if d.state == "pending" and now >= remind_at(d):
            said_at = self.quiet.end_after(now)  # a reminder due at night is said in the morning
            if (
                self.repo.move_deadline(room_id, contact_id, kind, ("pending",), "reminded", now)
                and said_at < d.due_at
            ):
                left = hours_zh(d.due_at - said_at)
                if kind == NICKNAME and rules.nickname is not None:
                    text = fill(texts.NICKNAME_REMIND, format=rules.nickname.shown, left=left)
                else:
                    text = fill(texts.INTRO_REMIND, template=_template(rules), left=left)
                self.say_room(room_id, text, [contact_id], now=now)
            return Step("reminded", d.due_at)
        return Step("waiting", remind_at(d) if d.state == "pending" else d.due_at)

    async def _satisfied(self, kind: str, rules: RoomRules, member: Any, name: str, now: datetime) -> bool:
        room_id, contact_id = member.room_id, member.contact_id
        if kind == NICKNAME:
            ok = rules.nickname is None or rules.nickname.ok(name)
        else:
            ok = rules.intro_deadline is None or member.intro_done_at is not None
        if ok and self.repo.move_deadline(room_id, contact_id, kind, OPEN, "done", now):
            if kind == NICKNAME:
                self.app.store.set_member(room_id, contact_id, nickname_ok=True)
            self.open.discard((room_id, contact_id, kind))
            self.disarm(room_id, contact_id, kind)
        return ok

    async def _act(
        self,
        kind: str,
        rules: RoomRules,
        room_id: str,
        contact_id: str,
        name: str,
        d: DeadlineView,
        now: datetime,
    ) -> None:
        action = rules.nickname_action if kind == NICKNAME else rules.intro_action
        hours = hours_zh(d.due_at - d.created_at)
        topic = self.app.rooms.topic(room_id)
        fmt = rules.nickname.shown if rules.nickname is not None else ""
        log.info("%s deadline of %s in %s passed: %s", kind, contact_id, room_id, action)
        if action == "remind":
            text = (
                fill(texts.NICKNAME_LAST, format=fmt)
                if kind == NICKNAME
                else fill(texts.INTRO_LAST, template=_template(rules))
            )
            self.say_room(room_id, text, [contact_id], now=now)
        elif action == "notify_admins":
            template = texts.NICKNAME_ADMINS if kind == NICKNAME else texts.INTRO_ADMINS
            self.tell_admins(
                room_id,
                fill(
                    template,
                    topic=topic,
                    name=name or contact_id,
                    contact=contact_id,
                    hours=hours,
                    format=fmt,
                ),
                now=now,
            )
        elif action == "kick":
            reason = fill(texts.NICKNAME_KICK if kind == NICKNAME else texts.INTRO_KICK, hours=hours)
            ctx = CaseContext(room_id=room_id, contact_id=contact_id, at=now, name=name, topic=topic)
            try:
                self.app.store.audit(
                    self.app.rooms.bot_id or "bot",
                    f"lifecycle_{kind}_kick",
                    room_id=room_id,
                    target_id=contact_id,
                    detail={"reason": reason},
                    at=now,
                )
            except StoreUnavailable as exc:
                log.warning("lifecycle kick of %s not in the audit log: %s", contact_id, exc)
            self.app.spawn(
                self.app.executor.execute(ctx, [Action(ActionKind.KICK, room_id, contact_id, reason=reason)]),
                name=f"lifecycle-kick-{contact_id}",
            )

    async def tick(self, now: datetime) -> list[Step]:
        """The safety net (every minute): held messages out, and every deadline that is due
        stepped, whether or not its own job fired."""
        await self.release_held(now)
        if not self._loaded:
            self.load()
        steps = []
        for d in self.repo.open_deadlines():
            if now >= (remind_at(d) if d.state == "pending" else d.due_at):
                steps.append(await self.check_deadline(d.room_id, d.contact_id, d.kind, now))
        return steps

    # --- messages ------------------------------------------------------------------------------

    async def on_message(self, msg: Message, sender: Sender, decision: Decision) -> None:
        room = self.recent.setdefault(msg.room_id, deque(maxlen=RECENT_PER_ROOM))
        room.append(msg)
        if sender.is_bot or decision.violations:
            return
        from bot.lifecycle.featured import maybe_feature_quoted

        if sender.is_admin and await maybe_feature_quoted(self, msg):
            return
        for kind in (NICKNAME, INTRO):
            if (msg.room_id, msg.sender_id, kind) in self.open:
                await self._progress(kind, msg)

    async def _progress(self, kind: str, msg: Message) -> None:
        rules = self.rules_for(msg.room_id)
        if kind == NICKNAME:
            if rules.nickname is None or rules.nickname.ok(msg.sender_name):
                if self.repo.move_deadline(msg.room_id, msg.sender_id, kind, OPEN, "done", msg.at):
                    self.app.store.set_member(msg.room_id, msg.sender_id, nickname_ok=True)
                self.open.discard((msg.room_id, msg.sender_id, kind))
                self.disarm(msg.room_id, msg.sender_id, kind)
        elif rules.intro_ok(msg.text):
            if self.repo.move_deadline(msg.room_id, msg.sender_id, kind, OPEN, "done", msg.at):
                self.app.store.set_member(msg.room_id, msg.sender_id, intro_done_at=msg.at)
            self.open.discard((msg.room_id, msg.sender_id, kind))
            self.disarm(msg.room_id, msg.sender_id, kind)

    async def _name(self, contact_id: str, room_id: str) -> str:
        try:
            return await self.app.puppet.contact_name(contact_id, room_id) or ""
        except Exception:
            return ""


_NO_INVITER = re.compile(r"[（(]?邀请人[：:]\s*\{inviter\}[)）]?[。，,；;]?\s*")


def remind_at(d: DeadlineView) -> datetime:
    """Halfway between the start of a deadline and its end."""
    return d.created_at + (d.due_at - d.created_at) / 2


def _template(rules: RoomRules) -> str:
    return fill(texts.INTRO_TEMPLATE, template=rules.intro_template) if rules.intro_template else ""


async def _wait(pending: Any) -> Any:
    if isinstance(pending, Awaitable):
        return await pending
    return pending
