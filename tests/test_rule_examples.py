"""Every rule's documented examples are tests: bad ones fire exactly where expected, good ones never."""

from __future__ import annotations

import pytest
from helpers import positions

from cfglint.rules import ALL_RULES

STATIC = {code: rule for code, rule in ALL_RULES.items() if not rule.dynamic}  # CFG9: tests/test_verify.py
BAD = [(code, i, ex) for code, rule in STATIC.items() for i, ex in enumerate(rule.invalid)]
GOOD = [(code, i, ex) for code, rule in STATIC.items() for i, ex in enumerate(rule.valid)]


@pytest.mark.parametrize(("code", "index", "example"), BAD, ids=[f"{c}-bad{i}" for c, i, _ in BAD])
def test_bad_example_fires_at_expected_positions(tmp_path, code, index, example):
    assert positions(tmp_path, example, code) == sorted(example.expect)


@pytest.mark.parametrize(("code", "index", "example"), GOOD, ids=[f"{c}-good{i}" for c, i, _ in GOOD])
def test_good_example_is_clean(tmp_path, code, index, example):
    assert positions(tmp_path, example, code) == []


@pytest.mark.parametrize("code", list(ALL_RULES))
def test_rule_has_two_bad_and_two_good_examples(code):
    rule = ALL_RULES[code]
    assert len(rule.invalid) >= 2 and len(rule.valid) >= 2


@pytest.mark.parametrize("code", list(ALL_RULES))
def test_rule_documentation_is_complete(code):
    rule = ALL_RULES[code]
    assert rule.name == rule.name.lower() and " " not in rule.name
    for text in (rule.summary, rule.what, rule.why, rule.instead, rule.fix_safety):
        assert text.strip()
