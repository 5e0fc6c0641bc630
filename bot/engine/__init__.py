"""The rule engine: pure, no I/O; rules.yaml in, violations with evidence out.

::

    from bot.engine import load_rules, Engine
    rules = load_rules("rules/rules.yaml")     # RulesError naming file:line: key
    engine = Engine(rules)
    violations = engine.evaluate(message, sender)
"""

from bot.engine.engine import Engine
from bot.engine.loader import load_rules, parse_rules
from bot.engine.model import RuleSet
from bot.engine.normalize import normalize

__all__ = ["Engine", "RuleSet", "load_rules", "normalize", "parse_rules"]
