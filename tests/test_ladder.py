"""The penalty ladder: tiers, escalation, who is never punished, safe reasons, parsing."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.actions import ActionKind
from bot.errors import RulesError
from bot.events import Sender
from bot.ladder import Ladder, LadderPolicy, Step, fill_template, parse_duration
from bot.moderation import MUTED_SPEAKING_RULE
from bot.verdicts import Evidence, PastOffence, Severity, Violation
from bot.yamlsource import load_yaml

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone(timedelta(hours=8)))
MEMBER = Sender("wxid_member", inviter_id="wxid_inviter")

W, P, M, K, B, NA, NI = (
    ActionKind.WARN_PRIVATE,
    ActionKind.WARN_PUBLIC,
    ActionKind.MUTE,
    ActionKind.KICK,
    ActionKind.BLACKLIST,
    ActionKind.NOTIFY_ADMINS,
    ActionKind.NOTIFY_INVITER,
)


def violation(
    severity: Severity, rule: str = "ad-contact", message: str = "请勿发广告，请撤回。"
) -> Violation:
    return Violation(rule, "ad", severity, "r-gold", MEMBER.contact_id, "m-now", message=message)


def offences(*ages: timedelta, severity: Severity = Severity.MINOR) -> list[PastOffence]:
    """Earlier offences, each on its own message, ``age`` before T0."""
    return [
        PastOffence(T0 - age, "ad-contact", "ad", severity, "r-gold", f"m{i}") for i, age in enumerate(ages)
    ]


def kinds(actions) -> list[ActionKind]:
    return [a.kind for a in actions]


HOUR, DAY = timedelta(hours=1), timedelta(days=1)

TIERS = [
    pytest.param([Severity.MINOR], [], [W], id="minor-first-offence-private-warning"),
    pytest.param([Severity.MODERATE], [], [P, M], id="moderate-public-warning-and-mute"),
    pytest.param([Severity.SEVERE], [], [K, NI, NA], id="severe-kick-and-tell-inviter"),
    pytest.param([Severity.MALICIOUS], [], [K, B, NA], id="malicious-kick-and-blacklist"),
    pytest.param([Severity.MINOR, Severity.SEVERE], [], [K, NI, NA], id="most-severe-violation-decides"),
    pytest.param([Severity.MINOR], offences(2 * DAY), [P, M], id="second-offence-in-window-is-moderate"),
    pytest.param([Severity.MINOR], offences(3 * DAY, 2 * DAY), [K, NI, NA], id="third-offence-is-severe"),
    pytest.param(
        [Severity.MINOR], offences(4 * DAY, 3 * DAY, 2 * DAY), [K, B, NA], id="fourth-offence-blacklists"
    ),
    pytest.param([Severity.MINOR], offences(40 * DAY), [W], id="offence-outside-window-forgotten"),
    pytest.param([Severity.SEVERE], offences(DAY), [K, NI, NA], id="escalation-never-lowers-severity"),
    pytest.param(
        [Severity.MINOR],
        offences(90 * timedelta(seconds=1), 60 * timedelta(seconds=1), 30 * timedelta(seconds=1)),
        [],
        id="burst-within-incident-answered-once",
    ),
    pytest.param(
        [Severity.SEVERE],
        offences(60 * timedelta(seconds=1), 30 * timedelta(seconds=1)),
        [K, NI, NA],
        id="a-worse-offence-within-the-incident-is-answered",
    ),
    pytest.param(
        [Severity.MINOR],
        offences(5 * 60 * timedelta(seconds=1)),
        [P, M],
        id="after-the-incident-a-new-one-escalates",
    ),
    pytest.param(
        [Severity.MINOR], offences(HOUR, HOUR - timedelta(seconds=20)), [P, M], id="one-earlier-incident"
    ),
]


@pytest.mark.parametrize(("severities", "history", "expected"), TIERS)
def test_tiers(severities, history, expected):
    ladder = Ladder()
    found = [violation(s) for s in severities]
    window = [h for h in history if h.at >= ladder.window_start(T0)]
    assert kinds(ladder.decide(found, window, MEMBER, T0)) == expected


def test_mute_lasts_a_day_by_default():
    (_, mute) = Ladder().decide([violation(Severity.MODERATE)], [], MEMBER, T0)
    assert mute.duration == timedelta(hours=24)


def test_several_violations_of_one_earlier_message_count_once():
    same_message = [
        PastOffence(T0 - DAY, "ad-contact", "ad", Severity.MINOR, "r-gold", "m1"),
        PastOffence(T0 - DAY, "ad-qr", "ad", Severity.MINOR, "r-gold", "m1"),
    ]
    assert kinds(Ladder().decide([violation(Severity.MINOR)], same_message, MEMBER, T0)) == [P, M]


@pytest.mark.parametrize(
    "sender",
    [
        pytest.param(Sender("wxid_bot", is_bot=True), id="the-bot-or-a-helper-bot"),
        pytest.param(Sender("wxid_trusted", is_exempt=True), id="exempt-member"),
    ],
)
def test_never_punished(sender):
    assert Ladder().decide([violation(Severity.MALICIOUS)], offences(DAY, DAY / 2), sender, T0) == []


def test_admins_are_bound_like_everyone():
    admin = Sender("wxid_admin", is_admin=True)
    assert kinds(Ladder().decide([violation(Severity.MODERATE)], [], admin, T0)) == [P, M]


def test_no_violations_no_actions():
    assert Ladder().decide([], offences(DAY), MEMBER, T0) == []


def test_actions_target_the_offender_in_the_room():
    for action in Ladder().decide([violation(Severity.SEVERE)], [], MEMBER, T0):
        assert (action.room_id, action.contact_id) == ("r-gold", "wxid_member")


def test_reason_is_the_rules_message_filled_in():
    v = violation(Severity.MODERATE, message="{name}，你发布了{category}信息，已禁言至{until}。")
    warn, _ = Ladder().decide([v], [], MEMBER, T0, name="王工")
    assert warn.reason == "王工，你发布了广告信息，已禁言至11-21 09:00。"


def test_admin_notices_say_what_and_how_often():
    actions = Ladder().decide([violation(Severity.MINOR)], offences(3 * DAY, 2 * DAY), MEMBER, T0)
    notice = next(a for a in actions if a.kind is NA)
    assert "第3次" in notice.reason and "广告" in notice.reason


def test_notices_name_the_rule_by_its_chinese_description_never_its_id():
    """Inviters and removed members read the admin-facing reason too."""
    v = Violation(
        "bt-gambling",
        "banned_topic",
        Severity.SEVERE,
        "r-gold",
        MEMBER.contact_id,
        "m-now",
        message="群内严禁涉赌内容。",
        description="赌博、博彩、网赌回血",
    )
    for action in Ladder().decide([v], [], MEMBER, T0):
        assert "bt-gambling" not in action.reason
    kick = next(a for a in Ladder().decide([v], [], MEMBER, T0) if a.kind is ActionKind.KICK)
    assert kick.reason == "违规话题·严重（赌博、博彩、网赌回血），第1次违规：群内严禁涉赌内容。"


def muted(message: str = "你正在禁言期内（至 {until}）。") -> Violation:
    return Violation(
        MUTED_SPEAKING_RULE,
        "mute",
        Severity.MODERATE,
        "r-gold",
        MEMBER.contact_id,
        "m-now",
        evidence=(Evidence("muted", detail="禁言至 11-21 08:00"),),
        message=message,
    )


def test_muted_member_speaking_is_first_reminded_privately_until_when():
    history = offences(2 * DAY, HOUR)  # the second incident brought the mute
    (reminder,) = Ladder().decide([muted()], history, MEMBER, T0)
    assert reminder.kind is W and reminder.reason == "你正在禁言期内（至 11-21 08:00）。"


def test_muted_member_speaking_again_after_a_reminder_is_escalated():
    history = [
        *offences(2 * DAY, HOUR),
        PastOffence(
            T0 - timedelta(minutes=30), MUTED_SPEAKING_RULE, "mute", Severity.MODERATE, "r-gold", "m-r"
        ),
    ]
    assert kinds(Ladder().decide([muted()], history, MEMBER, T0)) == [K, NI, NA]


def test_removal_for_speaking_while_muted_says_so_in_chinese():
    history = [
        *offences(2 * DAY, HOUR),
        PastOffence(
            T0 - timedelta(minutes=30), MUTED_SPEAKING_RULE, "mute", Severity.MODERATE, "r-gold", "m-r"
        ),
    ]
    kick = next(a for a in Ladder().decide([muted()], history, MEMBER, T0) if a.kind is K)
    assert kick.reason.startswith("禁言期间发言·")


def test_reminders_while_muted_do_not_count_as_offences_later():
    history = [
        *offences(3 * DAY),
        PastOffence(T0 - 2 * DAY, MUTED_SPEAKING_RULE, "mute", Severity.MODERATE, "r-gold", "m-r"),
    ]
    assert kinds(Ladder().decide([violation(Severity.MINOR)], history, MEMBER, T0)) == [P, M]


def test_empty_template_gets_a_plain_reason():
    v = Violation("x", "abuse", Severity.MINOR, "r", "wxid_member", "m", message="", description="辱骂群友")
    (warn,) = Ladder().decide([v], [], MEMBER, T0)
    assert warn.reason == "辱骂群友"


@pytest.mark.parametrize(
    ("template", "values", "expected"),
    [
        pytest.param(
            "{name}你好", {"name": "{rule}{__class__}"}, "{rule}{__class__}你好", id="name-is-not-reparsed"
        ),
        pytest.param("{name.__class__}", {"name": "x"}, "{name.__class__}", id="no-attribute-lookup"),
        pytest.param("{name[0]}", {"name": "x"}, "{name[0]}", id="no-index-lookup"),
        pytest.param("{unknown}", {}, "{unknown}", id="unknown-field-kept"),
        pytest.param("{{name}}", {"name": "x"}, "{name}", id="doubled-braces-literal"),
        pytest.param("{", {}, "{", id="lone-brace"),
        pytest.param("{0}{}", {}, "{0}{}", id="positional-fields-inert"),
    ],
)
def test_fill_template_is_safe(template, values, expected):
    assert fill_template(template, values) == expected


def test_hostile_member_name_lands_in_reason_verbatim():
    v = violation(Severity.MINOR, message="{name}：请撤回")
    (warn,) = Ladder().decide([v], [], MEMBER, T0, name="{rule}{__class__}{0}")
    assert warn.reason == "{rule}{__class__}{0}：请撤回"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", 90),
        ("10m", 600),
        ("24h", 86400),
        ("30d", 30 * 86400),
        ("2w", 14 * 86400),
        (45, 45),
        ("1.5h", 5400),
    ],
)
def test_parse_duration(text, expected):
    assert parse_duration(text) == timedelta(seconds=expected)


@pytest.mark.parametrize("text", ["", "abc", "-5m", "24 hours", True])
def test_parse_duration_refuses(text):
    with pytest.raises(ValueError):
        parse_duration(text)


LADDER_YAML = """\
ladder:
  window: 7d
  across_rooms: true
  incident: 0
  tiers:
    minor: [warn_private]
    moderate: [warn_public, {mute: 2h}]
  escalate:
    3: malicious
  review: [blacklist]
"""


def test_policy_from_yaml():
    policy = LadderPolicy.from_mapping(load_yaml(LADDER_YAML)["ladder"], "rules.yaml")
    assert policy.window == timedelta(days=7)
    assert policy.across_rooms is True
    assert policy.tiers[Severity.MODERATE] == (Step(P), Step(M, timedelta(hours=2)))
    assert (
        policy.tiers[Severity.SEVERE] == LadderPolicy().tiers[Severity.SEVERE]
    )  # untouched tiers keep defaults
    assert policy.escalate == {3: Severity.MALICIOUS}
    assert policy.review == frozenset({B})
    ladder = Ladder(policy)
    assert ladder.across_rooms and ladder.needs_review(B) and not ladder.needs_review(K)
    assert ladder.window_start(T0) == T0 - timedelta(days=7)


def test_zero_incident_counts_every_message():
    policy = LadderPolicy.from_mapping(load_yaml(LADDER_YAML)["ladder"])
    history = offences(timedelta(seconds=20), timedelta(seconds=10))
    assert kinds(Ladder(policy).decide([violation(Severity.MINOR)], history, MEMBER, T0)) == [K, B, NA]


def test_ladder_accepts_a_raw_mapping():
    assert (
        Ladder({"tiers": {"minor": ["warn_public"]}})
        .decide([violation(Severity.MINOR)], [], MEMBER, T0)[0]
        .kind
        is P
    )


@pytest.mark.parametrize(
    ("body", "line", "key"),
    [
        pytest.param("  window: soon\n", 2, "ladder.window", id="bad-duration"),
        pytest.param("  tiers:\n    awful: [kick]\n", 3, "ladder.tiers.awful", id="unknown-severity"),
        pytest.param("  tiers:\n    minor: [spank]\n", 3, "ladder.tiers.minor[0]", id="unknown-action"),
        pytest.param("  tiers:\n    minor: [{kick: 3h}]\n", 3, "ladder.tiers.minor[0]", id="option-on-kick"),
        pytest.param(
            "  escalate:\n    second: severe\n", 3, "ladder.escalate.second", id="bad-offence-number"
        ),
        pytest.param("  escalate:\n    2: worse\n", 3, "ladder.escalate.2", id="bad-escalation-severity"),
        pytest.param("  across_rooms: maybe\n", 2, "ladder.across_rooms", id="not-a-boolean"),
        pytest.param("  windw: 3d\n", 2, "ladder.windw", id="unknown-key"),
        pytest.param("  review: [nuke]\n", 2, "ladder.review[0]", id="unknown-review-action"),
    ],
)
def test_policy_errors_name_line_and_key(body, line, key):
    data = load_yaml("ladder:\n" + body, "rules.yaml")
    with pytest.raises(RulesError) as err:
        LadderPolicy.from_mapping(data["ladder"], "rules.yaml")
    assert (err.value.path, err.value.line, err.value.key) == ("rules.yaml", line, key)
