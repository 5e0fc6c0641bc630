"""The penalty ladder: from one message's violations and the sender's history to actions.

The group rules punish in tiers (轻微 → 私下提醒并请撤回; 中度 → 公开警告并禁言
24 小时; 严重 → 移出群聊并告知邀请人; 恶意或屡犯 → 移出并拉黑). The ladder is
pure: it sees only the violations of one message, the sender's earlier offences
within the window (read from the records by the caller) and who the sender is.

The ``ladder:`` section of rules.yaml::

    ladder:
      window: 30d              # earlier offences counted within this window
      across_rooms: false      # count offences in every room the bot manages
      incident: 2m             # offences closer together than this are one incident
      tiers:
        minor:     [warn_private]
        moderate:  [warn_public, {mute: 24h}]
        severe:    [kick, notify_inviter, notify_admins]
        malicious: [kick, blacklist, notify_admins]
      escalate:                # the n-th incident within the window is at least this severe
        2: moderate
        3: severe
        4: malicious
      review: [kick, blacklist]   # actions an admin confirms first (the live bot)

Each incident counts once however many rules fired and however many messages
it took: a member who sends twelve fragments in half a minute has flooded once,
not twelve times, and cannot read the first warning before the last fragment.
It is answered once too: the rest of it is recorded, and acted on only when a
message is worse than what the incident was already answered with (no second
public warning, mute or admins' notice for the same burst).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from bot.actions import Action, ActionKind
from bot.errors import RulesError
from bot.events import Sender
from bot.moderation import MUTED_SPEAKING_RULE
from bot.verdicts import PastOffence, Severity, Violation

__all__ = [
    "DEFAULT_POLICY",
    "Ladder",
    "LadderPolicy",
    "Step",
    "fill_template",
    "parse_duration",
]


@dataclass(frozen=True, slots=True)
class Step:
    """One action of a tier; ``duration`` only for ``mute``."""

    kind: ActionKind
    duration: timedelta | None = None


@dataclass(frozen=True)
class LadderPolicy:
    """The parsed ``ladder:`` section."""

    window: timedelta = timedelta(days=30)
    across_rooms: bool = False
    incident: timedelta = timedelta(minutes=2)
    tiers: Mapping[Severity, tuple[Step, ...]] = field(
        default_factory=lambda: {
            Severity.MINOR: (Step(ActionKind.WARN_PRIVATE),),
            Severity.MODERATE: (Step(ActionKind.WARN_PUBLIC), Step(ActionKind.MUTE, timedelta(hours=24))),
            Severity.SEVERE: (
                Step(ActionKind.KICK),
                Step(ActionKind.NOTIFY_INVITER),
                Step(ActionKind.NOTIFY_ADMINS),
            ),
            Severity.MALICIOUS: (
                Step(ActionKind.KICK),
                Step(ActionKind.BLACKLIST),
                Step(ActionKind.NOTIFY_ADMINS),
            ),
        }
    )
    escalate: Mapping[int, Severity] = field(
        default_factory=lambda: {2: Severity.MODERATE, 3: Severity.SEVERE, 4: Severity.MALICIOUS}
    )
    review: frozenset[ActionKind] = frozenset({ActionKind.KICK, ActionKind.BLACKLIST})

    @classmethod
    def from_mapping(cls, data: Any, path: str = "rules.yaml", key: str = "ladder") -> LadderPolicy:
        """Validate a ``ladder:`` mapping (as :func:`bot.yamlsource.load_yaml` returns it).

        Missing keys take the group rules' defaults; a missing tier keeps its
        default actions. Raises :class:`RulesError` naming the line and key.
        """
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise RulesError("expected a mapping", path, _line(data), key)
        default = cls()
        known = {"window", "across_rooms", "incident", "tiers", "escalate", "review"}
        for k in data:
            if k not in known:
                raise RulesError(
                    f"unknown key (known: {', '.join(sorted(known))})", path, _line(data, k), f"{key}.{k}"
                )

        def where(k: str) -> tuple[str, int | None, str]:
            return path, _line(data, k), f"{key}.{k}"

        window = _duration_at(data.get("window"), default.window, *where("window"))
        incident = _duration_at(data.get("incident"), default.incident, *where("incident"), zero_ok=True)
        across = data.get("across_rooms", default.across_rooms)
        if not isinstance(across, bool):
            raise RulesError(f"expected true or false, got {across!r}", *where("across_rooms"))

        tiers = dict(default.tiers)
        raw_tiers = data.get("tiers")
        if raw_tiers is not None:
            if not isinstance(raw_tiers, Mapping):
                raise RulesError("expected a mapping of severity to actions", *where("tiers"))
            for sev_name, steps in raw_tiers.items():
                sev = _severity(sev_name, path, _line(raw_tiers, sev_name), f"{key}.tiers.{sev_name}")
                tiers[sev] = _steps(steps, path, _line(raw_tiers, sev_name), f"{key}.tiers.{sev_name}")

        escalate = dict(default.escalate)
        raw_esc = data.get("escalate")
        if raw_esc is not None:
            if not isinstance(raw_esc, Mapping):
                raise RulesError("expected a mapping of offence number to severity", *where("escalate"))
            escalate = {}
            for n, sev_name in raw_esc.items():
                k = f"{key}.escalate.{n}"
                if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                    raise RulesError(
                        f"expected an offence number (1, 2, 3, ...), got {n!r}", path, _line(raw_esc, n), k
                    )
                escalate[n] = _severity(sev_name, path, _line(raw_esc, n), k)

        review = default.review
        raw_review = data.get("review")
        if raw_review is not None:
            items = raw_review if isinstance(raw_review, list) else [raw_review]
            kinds = set()
            for i, item in enumerate(items):
                kinds.add(_kind(item, path, _line(items, i) or _line(data, "review"), f"{key}.review[{i}]"))
            review = frozenset(kinds)

        return cls(
            window=window,
            across_rooms=across,
            incident=incident,
            tiers=tiers,
            escalate=escalate,
            review=review,
        )


DEFAULT_POLICY = LadderPolicy()


class Ladder:
    """Decides what to do about one message's violations."""

    def __init__(self, policy: LadderPolicy | Mapping[str, Any] | Any | None = None) -> None:
        self.policy = _as_policy(policy)

    @classmethod
    def from_rules(cls, rules: Any) -> Ladder:
        """Build from a loaded rule set (its ``ladder`` attribute), whatever form the loader keeps it in."""
        return cls(getattr(rules, "ladder", None))

    @property
    def across_rooms(self) -> bool:
        return self.policy.across_rooms

    def window_start(self, at: datetime) -> datetime:
        return at - self.policy.window

    def needs_review(self, action: Action | ActionKind) -> bool:
        kind = action.kind if isinstance(action, Action) else action
        return kind in self.policy.review

    def offence_number(self, history: Sequence[PastOffence], at: datetime) -> int:
        """Which incident this message belongs to: 1 for a first offence.

        Earlier offences are grouped into incidents (a gap of less than
        ``incident`` joins them); a message that follows the last offence
        within ``incident`` continues that incident instead of starting a new one.
        """
        earlier = [o for o in history if o.at <= at]
        if not earlier:
            return 1
        gap = self.policy.incident
        last = max(o.at for o in earlier)
        continues = gap > timedelta(0) and at - last < gap
        incidents = _incidents(earlier, gap)
        return incidents if continues else incidents + 1

    def severity_for(
        self, violations: Sequence[Violation], history: Sequence[PastOffence], at: datetime
    ) -> Severity:
        worst = max((v.severity for v in violations), key=lambda s: s.rank)
        return self._escalated(worst, self.offence_number(history, at))

    def decide(
        self,
        violations: Sequence[Violation],
        history: Sequence[PastOffence],
        sender: Sender,
        at: datetime,
        *,
        name: str = "",
        case_no: int | None = None,
    ) -> list[Action]:
        """Actions for one message, in the order the tier lists them.

        Nothing for the bot itself, helper bots and exempt members. Admins are
        bound: rules that exempt admins never produce their violations.
        """
        if not violations or sender.is_bot or sender.is_exempt:
            return []
        real = [v for v in violations if v.rule != MUTED_SPEAKING_RULE]
        past = [h for h in history if h.rule != MUTED_SPEAKING_RULE]
        if real:
            severity = self.severity_for(real, past, at)
            n = self.offence_number(past, at)
            dealt = self._dealt_with(past, at, n)
            if dealt is not None and severity.rank <= dealt.rank:
                return []  # more of an incident already answered at this tier: recorded, not repeated
            lead = max(real, key=lambda v: v.severity.rank)  # first of the most severe
        else:
            # Speaking while muted: reminded first, escalated when it happens again.
            last_real = max((h.at for h in past), default=None)
            reminded = any(
                h.rule == MUTED_SPEAKING_RULE and (last_real is None or h.at > last_real) for h in history
            )
            lead = violations[0]
            n = self.offence_number(past, at) if past else 1
            if not reminded:
                reason = self._reasons(lead, lead.severity, n, at, (), sender, name, case_no)[0]
                return [Action(ActionKind.WARN_PRIVATE, lead.room_id, lead.sender_id, None, reason)]
            n = _incidents(past, self.policy.incident) + 1
            severity = self._escalated(lead.severity, n)
        steps = self.policy.tiers.get(severity, ())
        member_reason, admin_reason = self._reasons(lead, severity, n, at, steps, sender, name, case_no)
        actions: list[Action] = []
        seen: set[ActionKind] = set()
        for step in steps:
            if step.kind in seen:
                continue
            seen.add(step.kind)
            reason = admin_reason if step.kind in _ADMIN_FACING else member_reason
            actions.append(Action(step.kind, lead.room_id, lead.sender_id, step.duration, reason))
        return actions

    def _dealt_with(self, past: Sequence[PastOffence], at: datetime, n: int) -> Severity | None:
        """The tier the current incident was already answered at, when this message continues
        it (earlier offences less than ``incident`` before): its worst offence, escalated as
        the n-th incident. None for a message that starts a new incident."""
        gap = self.policy.incident
        earlier = sorted((o for o in past if o.at <= at), key=lambda o: o.at, reverse=True)
        if gap <= timedelta(0) or not earlier or at - earlier[0].at >= gap:
            return None
        worst = earlier[0].severity
        for before, after in pairwise(earlier):
            if before.at - after.at >= gap:
                break
            if after.severity.rank > worst.rank:
                worst = after.severity
        return self._escalated(worst, n)

    def _escalated(self, severity: Severity, n: int) -> Severity:
        for threshold, sev in self.policy.escalate.items():
            if n >= threshold and sev.rank > severity.rank:
                severity = sev
        return severity

    def _reasons(
        self,
        lead: Violation,
        severity: Severity,
        n: int,
        at: datetime,
        steps: Sequence[Step],
        sender: Sender,
        name: str,
        case_no: int | None,
    ) -> tuple[str, str]:
        """The member-facing reason (the rule's message, filled in) and the admins' one."""
        mute_until = next((at + s.duration for s in steps if s.kind is ActionKind.MUTE and s.duration), None)
        values = {
            "name": name or sender.contact_id,
            "rule": lead.rule,
            "category": lead.category_zh,
            "severity": severity.label_zh,
            "case": str(case_no) if case_no is not None else "",
            "until": _until_text(mute_until, lead),
            "count": str(n),
        }
        member = fill_template(lead.message, values).strip() or _default_reason(lead)
        # Inviters and removed members read this too: the rule's Chinese description, never its id.
        what = f"（{lead.description}）" if lead.description and lead.description != member else ""
        admin = f"{lead.category_zh}·{severity.label_zh}{what}，第{n}次违规：{member}"
        return _clip(member), _clip(admin)


def _incidents(history: Sequence[PastOffence], gap: timedelta) -> int:
    """How many incidents ``history`` holds: offences less than ``gap`` apart are one."""
    times = sorted({(o.room_id, o.message_id, o.at) for o in history}, key=lambda t: t[2])
    if not times:
        return 0
    incidents = 1
    for (_, _, before), (_, _, after) in pairwise(times):
        if gap <= timedelta(0) or after - before >= gap:
            incidents += 1
    return incidents


_ADMIN_FACING = frozenset(
    {ActionKind.NOTIFY_ADMINS, ActionKind.NOTIFY_INVITER, ActionKind.KICK, ActionKind.BLACKLIST}
)
_MAX_REASON = 200


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_REASON else text[: _MAX_REASON - 1] + "…"


def _default_reason(v: Violation) -> str:
    """A rule without a message: its description, else its category (the app adds "违反了群规：")."""
    return v.description or v.category_zh


def _until_text(mute_until: datetime | None, lead: Violation) -> str:
    if mute_until is not None:
        return f"{mute_until:%m-%d %H:%M}"
    for ev in lead.evidence:  # a muted member speaking: the mute already in force
        if ev.check == "muted" and ev.detail.startswith("禁言至"):
            return ev.detail.removeprefix("禁言至").strip()
    return ""


_FIELD = re.compile(r"\{\{|\}\}|\{([a-z_]+)\}")


def fill_template(template: str, values: Mapping[str, str]) -> str:
    """Fill ``{field}`` placeholders in one pass, inserting values literally.

    Never ``str.format``: a value (a member's name such as ``{rule}{__class__}``)
    is not parsed again, attribute and index lookups do not exist, and an
    unknown ``{field}`` stays as written. ``{{`` and ``}}`` give literal braces.
    """

    def sub(m: re.Match[str]) -> str:
        token = m.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        return values.get(m.group(1), token)

    return _FIELD.sub(sub, template or "")


_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d|w)?\s*", re.IGNORECASE)
_UNIT_S = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: Any) -> timedelta:
    """``90s``, ``10m``, ``24h``, ``30d``, ``2w`` or a number of seconds; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as 24h, got {value!r}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION.fullmatch(value)):
        seconds = float(m.group(1)) * _UNIT_S[(m.group(2) or "s").lower()]
    else:
        raise ValueError(f"expected a duration such as 30m, 24h or 30d, got {value!r}")
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative, got {value!r}")
    return timedelta(seconds=seconds)


def _line(container: Any, key: Any = None) -> int | None:
    if key is not None and hasattr(container, "line_of"):
        try:
            return int(container.line_of(key)) or None
        except (KeyError, IndexError, TypeError):
            pass
    line = getattr(container, "line", None)
    return int(line) if line else None


def _duration_at(
    value: Any, default: timedelta, path: str, line: int | None, key: str, zero_ok: bool = False
) -> timedelta:
    if value is None:
        return default
    try:
        d = parse_duration(value)
    except ValueError as exc:
        raise RulesError(str(exc), path, line, key) from None
    if d <= timedelta(0) and not zero_ok:
        raise RulesError("must be longer than zero", path, line, key)
    return d


def _severity(value: Any, path: str, line: int | None, key: str) -> Severity:
    if isinstance(value, Severity):
        return value
    try:
        return Severity(str(value).strip().lower())
    except ValueError:
        choices = ", ".join(s.value for s in Severity)
        raise RulesError(f"unknown severity {value!r} (one of {choices})", path, line, key) from None


def _kind(value: Any, path: str, line: int | None, key: str) -> ActionKind:
    if isinstance(value, ActionKind):
        return value
    try:
        return ActionKind(str(value).strip().lower())
    except ValueError:
        choices = ", ".join(k.value for k in ActionKind)
        raise RulesError(f"unknown action {value!r} (one of {choices})", path, line, key) from None


def _steps(value: Any, path: str, line: int | None, key: str) -> tuple[Step, ...]:
    items = value if isinstance(value, list) else [value]
    out: list[Step] = []
    for i, item in enumerate(items):
        item_line = _line(items, i) or line
        item_key = f"{key}[{i}]"
        if isinstance(item, Mapping):
            if len(item) != 1:
                raise RulesError(
                    "an action with options is one key, e.g. {mute: 24h}", path, item_line, item_key
                )
            ((name, opt),) = item.items()
            kind = _kind(name, path, item_line, item_key)
            if kind is ActionKind.MUTE:
                out.append(Step(kind, _duration_at(opt, timedelta(hours=24), path, item_line, item_key)))
            elif opt in (None, True):
                out.append(Step(kind))
            else:
                raise RulesError(f"{kind.value} takes no option", path, item_line, item_key)
        elif isinstance(item, Step):
            out.append(item)
        else:
            kind = _kind(item, path, item_line, item_key)
            out.append(Step(kind, timedelta(hours=24) if kind is ActionKind.MUTE else None))
    return tuple(out)


def _as_policy(value: Any) -> LadderPolicy:
    """Accept the policy itself, a raw ``ladder:`` mapping, or an equivalent model object."""
    if value is None:
        return DEFAULT_POLICY
    if isinstance(value, LadderPolicy):
        return value
    if isinstance(value, Mapping):
        return LadderPolicy.from_mapping(value)
    nested = getattr(value, "policy", None)
    if isinstance(nested, LadderPolicy):
        return nested
    default = DEFAULT_POLICY
    tiers_raw = getattr(value, "tiers", None)
    tiers = dict(default.tiers)
    if isinstance(tiers_raw, Mapping):
        for sev, steps in tiers_raw.items():
            tiers[_severity(sev, "", None, "ladder.tiers")] = tuple(_coerce_step(s) for s in steps)
    escalate_raw = getattr(value, "escalate", None)
    escalate = (
        {int(n): _severity(s, "", None, "ladder.escalate") for n, s in escalate_raw.items()}
        if isinstance(escalate_raw, Mapping)
        else dict(default.escalate)
    )
    review_raw: Iterable[Any] | None = getattr(value, "review", None)
    return LadderPolicy(
        window=_coerce_td(getattr(value, "window", None), default.window),
        across_rooms=bool(getattr(value, "across_rooms", default.across_rooms)),
        incident=_coerce_td(getattr(value, "incident", None), default.incident),
        tiers=tiers,
        escalate=escalate,
        review=frozenset(_kind(k, "", None, "ladder.review") for k in review_raw)
        if review_raw is not None
        else default.review,
    )


def _coerce_td(value: Any, default: timedelta) -> timedelta:
    if value is None:
        return default
    if isinstance(value, timedelta):
        return value
    return parse_duration(value)


def _coerce_step(value: Any) -> Step:
    if isinstance(value, Step):
        return value
    kind = getattr(value, "kind", None)
    if kind is not None:
        duration = getattr(value, "duration", None)
        return Step(_kind(kind, "", None, "ladder"), _coerce_td(duration, timedelta(0)) if duration else None)
    return _steps(value, "", None, "ladder")[0]
