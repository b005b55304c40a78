"""The rule catalog (docs/rules.md is generated from it), keyed by code."""

from __future__ import annotations

from cfglint.rules import cfg0, cfg1, cfg2, cfg3, cfg4, cfg5, cfg9
from cfglint.rules.base import FixSpec, Rule

ALL_RULES: dict[str, Rule] = {
    rule.code: rule()
    for rule in (cfg0.ParseError, *cfg1.RULES, *cfg2.RULES, *cfg3.RULES, *cfg4.RULES, *cfg5.RULES, *cfg9.RULES)
}
DEFAULT_CODES = frozenset(code for code, rule in ALL_RULES.items() if rule.default_enabled)
PARSE_ERROR = ALL_RULES["CFG001"]
STATIC_RULES = {code: rule for code, rule in ALL_RULES.items() if not rule.dynamic}


def fix_spec(code: str) -> FixSpec | None:
    """The automatic fix the rule `code` declares, or None."""
    rule = ALL_RULES.get(code)
    return None if rule is None else rule.fix


def fixable_codes(unsafe: bool = False) -> frozenset[str]:
    """Codes whose findings `--fix` may fix (unsafe fixes too when `unsafe`)."""
    return frozenset(code for code, rule in ALL_RULES.items()
                     if rule.fix is not None and (rule.fix.safe or unsafe))
