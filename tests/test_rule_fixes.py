"""Each fixable rule's bad examples say what `--fix` makes of them (`fixed=`), like Fixit's
`expected_replacement`: the text after the fix, or `NOT_FIXED` where the fix declines. These tests hold
the rules to it, so an example is documentation, test and fix specification at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write_project

from cfglint.config import RuleSelection, load_settings
from cfglint.engine import Checker
from cfglint.fixes import fix_source
from cfglint.fixes.safety import Recheck
from cfglint.rules import ALL_RULES, DEFAULT_CODES
from cfglint.rules.base import NOT_FIXED, Example

FIXABLE = {code: rule for code, rule in ALL_RULES.items() if rule.fix is not None}
EXAMPLES = [pytest.param(code, example, id=f"{code}-{index}")
            for code, rule in FIXABLE.items() for index, example in enumerate(rule.invalid)]


def apply_fix(root: Path, code: str, example: Example) -> str:
    """What `cfglint check --fix` (`--unsafe-fixes` for an unsafe fix) writes for the example, or
    NOT_FIXED."""
    write_project(root, {**dict(example.files), "pyproject.toml": "", "example.py": example.code})
    settings = load_settings(root, known_codes=ALL_RULES)

    def make_checker() -> Checker:
        selection = RuleSelection.from_settings(settings, all_codes=ALL_RULES, default_codes=DEFAULT_CODES)
        return Checker(settings, selection, example.target.value)

    path = str(root / "example.py")
    found = make_checker().check_source(example.code, path)
    mine = [f for f in found if f.code == code]
    assert mine, "the bad example must fire"
    spec = FIXABLE[code].fix
    assert spec is not None
    if spec.safe:
        outcome = fix_source(example.code, mine, check=Recheck(make_checker), baseline=found)
    else:
        outcome = fix_source(example.code, mine, unsafe=True)
    return outcome.source if outcome.applied else NOT_FIXED


@pytest.mark.parametrize(("code", "example"), EXAMPLES)
def test_bad_example_is_fixed_as_documented(tmp_path: Path, code: str, example: Example) -> None:
    assert example.fixed is not None, f"{code}: a fixable rule's bad example must give `fixed=`"
    assert apply_fix(tmp_path, code, example) == example.fixed_code


@pytest.mark.parametrize("code", sorted(FIXABLE))
def test_fixed_output_is_clean_for_the_rule(tmp_path: Path, code: str) -> None:
    """The documented output no longer has the finding it fixes."""
    for index, example in enumerate(FIXABLE[code].invalid):
        if example.fixed_code in (None, NOT_FIXED):
            continue
        root = tmp_path / str(index)
        write_project(root, {**dict(example.files), "pyproject.toml": "", "example.py": example.fixed_code})
        settings = load_settings(root, known_codes=ALL_RULES)
        selection = RuleSelection.from_settings(settings, all_codes=ALL_RULES, default_codes=DEFAULT_CODES)
        checker = Checker(settings, selection, example.target.value)
        found = checker.check_source(example.fixed_code, str(root / "example.py"))
        assert [f for f in found if f.code == code] == [], (index, found)


def test_only_fixable_rules_document_a_fix() -> None:
    for code, rule in ALL_RULES.items():
        if rule.fix is None:
            assert all(example.fixed is None for example in rule.invalid), code
        else:
            assert any(example.fixed_code not in (None, NOT_FIXED) for example in rule.invalid), \
                f"{code}: show at least one example the fix applies to"
