"""The rule engine: a message and its sender in, violations with evidence out.

Pure: no I/O, no clock (flood windows run on ``message.at``). Per message it
normalises each field once, scans it once with one Aho-Corasick automaton
holding every word of every rule and lexicon (and their pinyin spellings),
answers every pattern on that field in one pass of the regex index
(:mod:`bot.engine.regexes`: an automaton of their literals, a small RE2 set,
and a pattern run alone only when its literals are there), and then evaluates
only the rules that can still fire: those one of whose words or patterns is
in the message, plus the few that need neither (a QR code, a domain).
Evaluating a rule asks cheap questions first (``all:`` tries its word and
type checks before its patterns; ``not:`` never searches for a span), and
only a rule that fires builds its evidence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone

import ahocorasick_rs

from bot.engine import checks as C
from bot.engine.flood import FloodPlan, FloodTracker, message_fingerprint
from bot.engine.model import Example, FloodSpec, Rule, RuleSet
from bot.engine.pinyin import PinyinIndex
from bot.engine.regexes import RegexIndex
from bot.errors import RulesError
from bot.events import Message, MessageType, Sender
from bot.verdicts import Evidence, Severity, Violation

_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)
_ROOM_CACHE_MAX = 4096


def _edge(ch: str) -> int:
    if "a" <= ch <= "z":
        return 1
    if "0" <= ch <= "9":
        return 2
    return 0


def _edges(word: str) -> tuple[int, int]:
    """Boundary kinds of a word's first and last character: 0 none (hanzi),
    1 letter, 2 digit, 3 strict (a word of only ASCII letters and digits:
    neither neighbour may be a letter or digit, so sb misses usb and 2b b2b)."""
    if word.isascii() and word.isalnum():
        return 3, 3
    return _edge(word[0]), _edge(word[-1])


class WordIndex:
    """Every word of every word condition in one automaton.

    Words that start or end with a Latin letter or digit only match at a
    boundary, so ``sb`` hits in ``你是sb吧`` but not in ``dsb``, and ``nm``
    not in ``200nm``; words of hanzi match anywhere."""

    def __init__(self, conds: Iterable[C.Words]) -> None:
        by_pattern: dict[str, list[int]] = {}
        for cond in conds:
            for w in cond.words:
                ids = by_pattern.setdefault(w, [])
                if cond.cond_id not in ids:
                    ids.append(cond.cond_id)
        self.patterns = list(by_pattern)
        self.conds = [tuple(v) for v in by_pattern.values()]
        self.edges = [_edges(p) for p in self.patterns]
        self.automaton = (
            ahocorasick_rs.AhoCorasick(self.patterns, matchkind=ahocorasick_rs.MatchKind.Standard)
            if self.patterns
            else None
        )

    def __len__(self) -> int:
        return len(self.patterns)

    def scan(self, text: str) -> dict[int, C.Span]:
        hits: dict[int, C.Span] = {}
        if self.automaton is None or not text:
            return hits
        edges = self.edges
        conds = self.conds
        n = len(text)
        for pid, s, e in self.automaton.find_matches_as_indexes(text, overlapping=True):
            first, last = edges[pid]
            if first and s > 0:
                prev = _edge(text[s - 1])
                if prev and (first == 3 or prev == first or first == 1):
                    continue
            if last and e < n:
                nxt = _edge(text[e])
                if nxt and (last == 3 or nxt == last):
                    continue
            for cid in conds[pid]:
                if cid not in hits:
                    hits[cid] = (s, e)
        return hits


_LATIN_PAIR = re.compile("[a-z]{2}")


def _has_links(ctx: C.Context) -> bool:
    return bool(ctx.message.qr_payloads or ctx.links())


def _has_qr(ctx: C.Context) -> bool:
    return bool(ctx.message.qr_payloads)


def _gate(cond: C.Condition | None) -> Callable[[C.Context], bool] | None:
    """A cheap necessary condition for a rule that needs no word or pattern
    (a ``domain:`` or ``qr:`` rule needs a link or a QR code), or None."""
    if isinstance(cond, C.Domain):
        return _has_qr if cond.qr_only or cond.any_qr else _has_links
    if isinstance(cond, C.AllOf):
        for item in cond.items:
            gate = _gate(item)
            if gate is not None:
                return gate
    return None


@dataclass
class RoomView:
    """The rules as one room sees them, after its overrides."""

    active: dict[str, bool] = field(default_factory=dict)
    add_words: dict[str, list[C.Condition]] = field(default_factory=dict)
    flood: dict[str, FloodSpec] = field(default_factory=dict)
    severity: dict[str, Severity] = field(default_factory=dict)
    exempt: frozenset[str] = frozenset()
    flood_rules: dict[tuple[MessageType, bool], FloodPlan] | None = None
    """Flood rules active in the room per message type and admin-ness (filled on first use)."""


@dataclass(frozen=True, slots=True)
class _Compiled:
    index: int
    rule: Rule
    binds_admins: bool


class Engine:
    """Compiled rules plus the in-memory flood state.

    ``Engine(rules)`` compiles; :meth:`evaluate` judges one message.
    :meth:`with_rules` builds an engine for a new RuleSet that keeps the
    flood state, for a live reload."""

    def __init__(self, rules: RuleSet, *, flood: FloodTracker | None = None) -> None:
        self.rules = rules
        self.flood = flood if flood is not None else FloodTracker()
        word_conds: list[C.Words] = []
        for rule in rules.rules:
            if rule.when is not None:
                word_conds.extend(c for c in C.walk(rule.when) if isinstance(c, C.Words))
        for room in rules.rooms:
            for cond in room.add_words.values():
                word_conds.extend(c for c in C.walk(cond) if isinstance(c, C.Words))
        self.index = WordIndex(word_conds)
        regex_conds = [
            c
            for rule in rules.rules
            if rule.when is not None
            for c in C.walk(rule.when)
            if isinstance(c, C.Regex)
        ]
        self.regexes = RegexIndex(regex_conds)
        self.pinyin = PinyinIndex(word_conds)
        self._compiled: list[_Compiled] = []
        self._by_word: dict[int, list[int]] = {}
        self._always: list[int] = []
        self._flood: list[int] = []
        bind_default = rules.settings.rules_bind_admins
        for i, rule in enumerate(rules.rules):
            words = rule.when.word_ids() if rule.when is not None else None
            binds = rule.admins == "bound" or (rule.admins == "" and bind_default)
            self._compiled.append(_Compiled(i, rule, binds))
            if rule.flood is not None:
                self._flood.append(i)
            elif words is None:
                self._always.append(i)
            else:
                for cid in words:
                    self._by_word.setdefault(cid, []).append(i)
        self._added_word_rules: dict[int, list[int]] = {}
        name_index = {r.name: i for i, r in enumerate(rules.rules)}
        for room in rules.rooms:
            for rname, cond in room.add_words.items():
                for c in C.walk(cond):
                    if isinstance(c, C.Words):
                        self._added_word_rules.setdefault(c.cond_id, []).append(name_index[rname])
        # Only fields holding a word or pattern that some rule *needs* are scanned up
        # front to pick the candidate rules; the rest are looked at lazily, if at all.
        required = set(self._by_word) | set(self._added_word_rules)
        self._fields = sorted(
            {c.field for c in word_conds if c.cond_id in required}
            | ({"text"} if self.pinyin.active else set()),
            key=lambda f: f != "text",
        )
        self._regex_fields = sorted({(c.field, c.raw) for c in regex_conds if c.cond_id in required})
        # rules to try anyway when a field's patterns could not be indexed
        self._regex_rules: dict[tuple[str, bool], set[int]] = {}
        for c in regex_conds:
            if (c.field, c.raw) not in self.regexes.sets:
                self._regex_rules.setdefault((c.field, c.raw), set()).update(self._by_word.get(c.cond_id, ()))
        self._always_types: dict[MessageType, tuple[int, ...]] = {}
        self._gates: list[Callable[[C.Context], bool] | None] = [
            _gate(c.rule.when) if i in self._always else None for i, c in enumerate(self._compiled)
        ]
        self._pinyin_always = bool(self.pinyin.homophone_conds)
        specs = [r.flood for r in rules.rules if r.flood is not None]
        specs += [s for room in rules.rooms for s in room.flood.values()]
        self._horizon = max([s.horizon for s in specs], default=0.0)
        self._rooms: dict[tuple[str, str], RoomView] = {}
        self._memo: dict = {}

    def with_rules(self, rules: RuleSet) -> Engine:
        return Engine(rules, flood=self.flood)

    # -- rooms ------------------------------------------------------------
    def room_view(self, room_id: str, topic: str) -> RoomView:
        key = (room_id, topic)
        view = self._rooms.get(key)
        if view is not None:
            return view
        view = RoomView()
        exempt: set[str] = set()
        for room in self.rules.rooms:
            if not room.match.matches(room_id, topic):
                continue
            for n in room.disable:
                view.active[n] = False
            for n in room.enable:
                view.active[n] = True
            for n, cond in room.add_words.items():
                view.add_words.setdefault(n, []).append(cond)
            view.flood.update(room.flood)
            view.severity.update(room.severity)
            exempt |= room.exempt
        view.exempt = frozenset(exempt)
        if len(self._rooms) >= _ROOM_CACHE_MAX:
            self._rooms.clear()
        self._rooms[key] = view
        return view

    # -- judging ------------------------------------------------------------
    def evaluate(
        self, message: Message, sender: Sender | None = None, *, track: bool = True
    ) -> list[Violation]:
        """Every rule that fires on ``message``, with evidence. ``track=False``
        judges without remembering the message for flood detection."""
        if sender is None:
            sender = Sender(message.sender_id)
        if sender.is_bot:
            return []
        mtype = message.type
        if mtype.__class__ is not MessageType:  # a sloppy caller passed "image"
            message = replace(message, type=MessageType.parse(str(message.type)))
            mtype = message.type
        view = self._rooms.get((message.room_id, message.room_topic or ""))
        if view is None:
            view = self.room_view(message.room_id, message.room_topic or "")
        settings = self.rules.settings
        sid = message.sender_id
        if sender.is_exempt or sid in settings.exempt or sid in view.exempt:
            return []
        ctx = C.Context(message, sender, settings, self.index.scan, regexes=self.regexes, memo=self._memo)
        present = ctx.present_fields()
        candidates: set[int] = set()
        for i in self._always_by_type(mtype):
            gate = self._gates[i]
            if gate is None or gate(ctx):
                candidates.add(i)
        by_word = self._by_word
        added_rules = self._added_word_rules
        for name in self._fields:
            if name not in present:
                continue
            hits = ctx.hits(name)
            if name == "text" and self.pinyin.active:
                norm = ctx.norm("text")
                # a pinyin hit needs two typed letters in a row, unless a lexicon takes homophones
                if self._pinyin_always or _LATIN_PAIR.search(norm) is not None:
                    extra = self.pinyin.scan(C.blank_links(norm), hits)
                    if extra:
                        hits.update(extra)
            for cid in hits.keys() & by_word.keys():  # most hits are of words no rule needs
                candidates.update(by_word[cid])
            if added_rules:
                for cid in hits.keys() & added_rules.keys():
                    candidates.update(added_rules[cid])
        for name, raw in self._regex_fields:
            if name not in present:
                continue
            ids = ctx.regex_ids(name, raw)
            if ids is None:
                candidates.update(self._regex_rules.get((name, raw), ()))
                continue
            for cid in ids & by_word.keys():
                candidates.update(by_word[cid])
        out: list[Violation] = []
        if candidates:
            compiled = self._compiled
            for i in sorted(candidates) if len(candidates) > 1 else candidates:
                v = self._judge(compiled[i], ctx, view)
                if v is not None:
                    out.append(v)
        if self._flood:
            out.extend(self._judge_flood(ctx, view, track))
        return out

    def _always_by_type(self, mtype: MessageType) -> tuple[int, ...]:
        """The rules that need no word or pattern and look at this message type."""
        found = self._always_types.get(mtype)
        if found is None:
            found = tuple(
                i for i in self._always if (t := self._compiled[i].rule.types) is None or mtype in t
            )
            self._always_types[mtype] = found
        return found

    def _allowed(self, comp: _Compiled, ctx: C.Context, view: RoomView) -> bool:
        rule = comp.rule
        if not view.active.get(rule.name, rule.enabled):
            return False
        if rule.types is not None and ctx.message.type not in rule.types:
            return False
        return not (ctx.sender.is_admin and not comp.binds_admins)

    def _judge(self, comp: _Compiled, ctx: C.Context, view: RoomView) -> Violation | None:
        if not self._allowed(comp, ctx, view):
            return None
        rule = comp.rule
        evidence = rule.when.test(ctx) if rule.when is not None else None
        if evidence is None:
            for extra in view.add_words.get(rule.name, ()):
                evidence = extra.test(ctx)
                if evidence is not None:
                    break
        if evidence is None:
            return None
        return self._violation(rule, ctx.message, evidence, view)

    def _flood_plan(self, view: RoomView, mtype: MessageType, is_admin: bool) -> FloodPlan:
        """The flood rules that judge this kind of message from this kind of
        sender in this room, with their thresholds; computed once, then cached."""
        if view.flood_rules is None:
            view.flood_rules = {}
        key = (mtype, is_admin)
        plan = view.flood_rules.get(key)
        if plan is None:
            rules: list[Rule] = []
            specs: list[FloodSpec] = []
            for i in self._flood:
                comp = self._compiled[i]
                rule = comp.rule
                spec = view.flood.get(rule.name, rule.flood)
                if spec is None or not view.active.get(rule.name, rule.enabled):
                    continue
                if rule.types is not None and mtype not in rule.types:
                    continue
                if is_admin and not comp.binds_admins:
                    continue
                rules.append(rule)
                specs.append(spec)
            plan = FloodPlan(tuple(rules), tuple(specs))
            view.flood_rules[key] = plan
        return plan

    def _judge_flood(self, ctx: C.Context, view: RoomView, track: bool) -> list[Violation]:
        message = ctx.message
        plan = self._flood_plan(view, message.type, ctx.sender.is_admin)
        if not plan.specs:
            return []
        text = ""
        fp: str | None = ""
        if not plan.needs_fingerprint:
            pass
        elif message.type is MessageType.TEXT:
            fp = None  # worked out from the text only if it is ever compared
            text = ctx.norm("text")
        else:
            fp = message_fingerprint(message, ctx.norm("text"))
        results = self.flood.observe(message, fp, plan, self._horizon, record=track, text=text)
        if results is None:
            return []
        out = []
        for rule, evidence in zip(plan.rules, results, strict=True):
            if evidence is None:
                continue
            if rule.when is not None:
                extra = rule.when.test(ctx)
                if extra is None:
                    continue
                evidence = evidence + extra
            out.append(self._violation(rule, message, evidence, view))
        return out

    @staticmethod
    def _violation(rule: Rule, message: Message, evidence: tuple[Evidence, ...], view: RoomView) -> Violation:
        return Violation(
            rule=rule.name,
            category=rule.category,
            severity=view.severity.get(rule.name, rule.severity),
            room_id=message.room_id,
            sender_id=message.sender_id,
            message_id=message.id,
            evidence=evidence,
            message=rule.message,
            description=rule.description,
        )

    # -- conveniences -----------------------------------------------------------
    def explain(self, rule_name: str, message: Message, sender: Sender | None = None) -> list[str]:
        """Why ``rule_name`` does or does not fire on ``message``: the room's view
        of the rule, then its condition tree with ✓/✗ on each condition."""
        rule = self.rules.rule(rule_name)
        if rule is None:
            raise RulesError(f"no rule named {rule_name!r}", self.rules.path, None, "")
        sender = sender or Sender(message.sender_id)
        view = self.room_view(message.room_id, message.room_topic)
        ctx = C.Context(
            message, sender, self.rules.settings, self.index.scan, regexes=self.regexes, memo=self._memo
        )
        comp = self._compiled[self.rules.rules.index(rule)]
        lines = [f"rule {rule.name} (line {rule.line}):"]
        if not view.active.get(rule.name, rule.enabled):
            lines.append("  ✗ switched off in this room (rooms: disable, or enabled: false)")
        if rule.types is not None and message.type not in rule.types:
            types = ", ".join(sorted(t.value for t in rule.types))
            lines.append(f"  ✗ looks only at {types}, not {message.type.value}")
        if sender.is_admin and not comp.binds_admins:
            lines.append("  ✗ admins are exempt from this rule")
        if rule.flood is not None:
            lines.append("  (a flood rule: it depends on the member's earlier messages; try replay)")
        if rule.when is not None:
            lines += ["  " + line for line in C.explain(rule.when, ctx)]
        for extra in view.add_words.get(rule.name, ()):
            lines += ["  room's add_words:"] + ["    " + line for line in C.explain(extra, ctx)]
        return lines

    def evaluate_text(
        self,
        text: str = "",
        *,
        type: MessageType | str = MessageType.TEXT,
        room_id: str = "try",
        topic: str = "",
        sender: Sender | None = None,
        at: datetime | None = None,
        only: str | None = None,
        **fields: object,
    ) -> list[Violation]:
        """Judge one made-up message (``qunguard try``, rule examples) without
        touching flood state. ``only`` limits the verdict to one rule."""
        mtype = type if isinstance(type, MessageType) else MessageType.parse(str(type))
        at = at or _EPOCH
        message = Message(
            id="try",
            room_id=room_id,
            sender_id=sender.contact_id if sender else "try-sender",
            at=at,
            type=mtype,
            text=text,
            room_topic=topic,
            **fields,  # type: ignore[arg-type]
        )
        violations = self.evaluate(message, sender or Sender(message.sender_id), track=False)
        if only is not None:
            violations = [v for v in violations if v.rule == only]
        return violations

    def example_message(self, ex: Example) -> tuple[Message, Sender]:
        at = _EPOCH + timedelta(days=365)
        sender = Sender(
            "example-sender",
            is_admin=ex.admin,
            joined_at=at - timedelta(hours=1) if ex.new_member else None,
        )
        message = Message(
            id="example",
            room_id=ex.room or "example-room",
            sender_id=sender.contact_id,
            at=at,
            type=ex.type,
            text=ex.text,
            room_topic=ex.topic,
            url=ex.url,
            title=ex.title,
            description=ex.description,
            app=ex.app,
            card_name=ex.card_name,
            file_name=ex.file_name,
            sender_name=ex.sender_name,
            qr_payloads=ex.qr,
        )
        return message, sender

    def check_examples(self) -> list[RulesError]:
        """Each rule against its own ``examples:``; one error per sample that
        does not do what it says."""
        errors: list[RulesError] = []
        for rule in self.rules.rules:
            if rule.flood is not None and (rule.match_examples or rule.no_match_examples):
                errors.append(
                    RulesError(
                        "examples are not checked on flood rules (they need a sequence of "
                        "messages); remove them",
                        self.rules.path,
                        rule.line,
                        f"rules.{rule.name}.examples",
                    )
                )
                continue
            for expect, samples in ((True, rule.match_examples), (False, rule.no_match_examples)):
                for ex in samples:
                    message, sender = self.example_message(ex)
                    fired = [v for v in self.evaluate(message, sender, track=False) if v.rule == rule.name]
                    if bool(fired) == expect:
                        continue
                    which = "match" if expect else "no_match"
                    if expect:
                        why = "the rule does not fire on it"
                    else:
                        ev = fired[0].evidence
                        spans = ", ".join(f"{e.check} 「{e.span}」" if e.span else e.check for e in ev)
                        why = f"the rule fires on it ({spans})"
                    errors.append(
                        RulesError(
                            f"example {ex.label!r}: {why}",
                            self.rules.path,
                            ex.line or rule.line,
                            f"rules.{rule.name}.examples.{which}",
                        )
                    )
        return errors
