"""``qunguard check`` and ``qunguard try``: the rules, before any WeChat account.

``check`` validates a rules file and runs every rule's own examples: exit 0
when all is well, 1 with ``file:line: key: message`` lines otherwise.
``try`` judges one made-up message and shows which rules fire, on which
normalised span, and what the penalty ladder does for a first offence.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

RULES_HELP = "rules file (default: the config's rules, else the bundled rules/rules.yaml)"


def register(sub: Any) -> None:
    p = sub.add_parser(
        "check",
        help="validate a rules file and its examples",
        description="Validate a rules file: every error names file:line and the key (exit 1); "
        "each rule's examples must do what they say; rules that can never fire are warned about.",
    )
    p.add_argument("file", nargs="?", help=RULES_HELP)
    p.add_argument("--rules", help=RULES_HELP)
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing when the file is valid")
    p.set_defaults(handler=run_check)

    t = sub.add_parser(
        "try",
        help="show which rules fire on a message, and what the ladder does",
        description="Judge one message as the bot would: which rules fire, on which span of the "
        "normalised text, and the penalty ladder's actions for a first offence.",
    )
    t.add_argument(
        "text", nargs="?", default="", help="message text (for a card: leave empty or repeat the title)"
    )
    t.add_argument("--rules", help=RULES_HELP)
    t.add_argument(
        "--type",
        default="text",
        help="message type: text, url, mini_program, contact_card, image, file, emoticon, ... (default text)",
    )
    t.add_argument("--url", default="", help="link of a url card")
    t.add_argument("--title", default="", help="title of a url card or mini program")
    t.add_argument("--description", default="", help="description of a url card")
    t.add_argument("--app", default="", help="mini program name")
    t.add_argument("--card-name", default="", help="name on a shared contact card")
    t.add_argument("--file-name", default="", help="file name of a file or image")
    t.add_argument(
        "--qr",
        action="append",
        default=[],
        metavar="PAYLOAD",
        help="what a QR code in the image decodes to (repeatable)",
    )
    t.add_argument("--room", default="try-room", metavar="ID", help="room id (selects per-room overrides)")
    t.add_argument("--topic", default="", metavar="NAME", help="room name (selects per-room overrides)")
    t.add_argument("--sender-name", default="", metavar="NAME", help="sender's display name")
    t.add_argument("--new-member", action="store_true", help="the sender joined an hour ago")
    t.add_argument("--admin", action="store_true", help="the sender is a room admin")
    t.add_argument("--json", action="store_true", help="print the verdict as JSON")
    t.add_argument(
        "--explain",
        metavar="RULE",
        action="append",
        default=[],
        help="show why RULE fires or not: each of its conditions marked ✓ or ✗ (repeatable)",
    )
    t.set_defaults(handler=run_try)


def rules_path(args: argparse.Namespace, positional: str | None = None) -> Path:
    if positional:
        return Path(positional)
    if getattr(args, "rules", None):
        return Path(args.rules)
    from bot.config import load_config

    return load_config(getattr(args, "config", None)).rules_path


def run_check(args: argparse.Namespace) -> int:
    from bot.engine import Engine, load_rules
    from bot.errors import RulesError

    path = rules_path(args, args.file)
    try:
        rules = load_rules(path)
    except RulesError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    for warning in rules.warnings:
        print(str(warning), file=sys.stderr)
    engine = Engine(rules)
    errors = engine.check_examples()
    for err in errors:
        print(str(err), file=sys.stderr)
    if errors:
        print(f"{path}: {len(errors)} example(s) fail; the rules were not accepted", file=sys.stderr)
        return 1
    if not args.quiet:
        n_examples = sum(len(r.match_examples) + len(r.no_match_examples) for r in rules.rules)
        words = sum(len(w) for w in rules.lexicons.values())
        print(
            f"{path}: OK: {len(rules.rules)} rules, {len(rules.lexicons)} lexicons ({words} words), "
            f"{len(rules.rooms)} room overrides, {n_examples} examples pass"
            + (f", {len(rules.warnings)} warning(s)" if rules.warnings else "")
        )
    return 0


def run_try(args: argparse.Namespace) -> int:
    from datetime import datetime, timedelta, timezone

    from bot.engine import Engine, load_rules, normalize
    from bot.events import Message, MessageType, Sender
    from bot.verdicts import Severity

    rules = load_rules(rules_path(args))
    engine = Engine(rules)
    mtype = MessageType.parse(args.type.strip().lower())
    if mtype is MessageType.OTHER and args.type.strip().lower() != "other":
        valid = ", ".join(t.value for t in MessageType)
        print(f"qunguard: unknown --type {args.type!r} (one of {valid})", file=sys.stderr)
        return 2
    at = datetime.now(timezone.utc)
    sender = Sender(
        "try-sender", is_admin=args.admin, joined_at=at - timedelta(hours=1) if args.new_member else None
    )
    message = Message(
        id="try",
        room_id=args.room,
        sender_id=sender.contact_id,
        at=at,
        type=mtype,
        text=args.text,
        room_topic=args.topic,
        sender_name=args.sender_name,
        url=args.url,
        title=args.title,
        description=args.description,
        app=args.app,
        card_name=args.card_name,
        file_name=args.file_name,
        qr_payloads=tuple(args.qr),
    )
    violations = engine.evaluate(message, sender, track=False)
    actions, ladder_note = _first_offence(rules, violations, sender, at)
    shown = args.text or args.title or args.card_name or args.file_name or args.url
    if args.json:
        print(
            json.dumps(
                {
                    "normalised": normalize(shown),
                    "violations": [
                        {
                            "rule": v.rule,
                            "category": v.category,
                            "severity": v.severity.value,
                            "evidence": [
                                {"check": e.check, "span": e.span, "detail": e.detail} for e in v.evidence
                            ],
                        }
                        for v in violations
                    ],
                    "actions": [a.as_json() for a in actions],
                },
                ensure_ascii=False,
            )
        )
        return 0
    print(f"原文 text:        {shown}")
    print(f"规范化 normalised: {normalize(shown)}")
    for name in args.explain:
        for line in engine.explain(name, message, sender):
            print(line)
    if not violations:
        print("没有规则触发 / no rule fires")
        return 0
    for v in violations:
        sev = Severity(v.severity)
        print(f"✗ {v.rule}  [{v.category_zh} · {sev.label_zh} {sev.value}]")
        for e in v.evidence:
            span = f" 「{e.span}」" if e.span else ""
            detail = f"  {e.detail}" if e.detail else ""
            print(f"    {e.check}{span}{detail}")
    if ladder_note:
        print(ladder_note)
    else:
        print("首次违规的处理 / first offence: " + (", ".join(_action_text(a) for a in actions) or "无 none"))
        for a in actions[:1]:
            if a.reason:
                print(f"    {a.reason}")
    return 0


def _first_offence(rules: Any, violations: list, sender: Any, at: Any) -> tuple[list, str]:
    if not violations:
        return [], ""
    try:
        from bot.ladder import Ladder
    except ImportError:
        return [], "（处罚阶梯尚不可用 / the penalty ladder is not available）"
    try:
        return list(Ladder.from_rules(rules).decide(violations, [], sender, at)), ""
    except Exception as exc:  # the ladder is another module; never let it hide the verdict
        return [], f"（处罚阶梯出错 / the ladder failed: {exc}）"


def _action_text(action: Any) -> str:
    kind = action.kind.value
    if action.duration is not None:
        hours = action.duration.total_seconds() / 3600
        kind += f" {hours:g}h" if hours >= 1 else f" {action.duration.total_seconds() / 60:g}min"
    return kind
