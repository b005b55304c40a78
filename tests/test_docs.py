"""The README and `cfglint rule` stay in step with the rule catalog."""

from __future__ import annotations

from pathlib import Path

from cfglint.cli import main
from cfglint.ruledoc import with_tables
from cfglint.rules import ALL_RULES

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_starts_with_the_two_newcomer_commands():
    head = README.read_text(encoding="utf-8").splitlines()[:8]
    text = "\n".join(head)
    assert "cfglint check fixtures/" in text
    assert "python -m pytest" in text


def test_readme_rule_table_lists_every_rule():
    text = README.read_text(encoding="utf-8")
    for code, rule in ALL_RULES.items():
        assert f"| {code} | {rule.name} |" in text, code


def test_readme_tables_are_generated_from_the_catalog():
    """The README's rule and fix tables are what `python -m cfglint.ruledoc` writes."""
    text = README.read_text(encoding="utf-8")
    assert with_tables(text, list(ALL_RULES.values())) == text, "regenerate: python -m cfglint.ruledoc"


def test_rule_all_prints_every_rule_with_its_sections(capsys):
    assert main(["rule", "--all"]) == 0
    out = capsys.readouterr().out
    for code, rule in ALL_RULES.items():
        assert f"# {code} ({rule.name})" in out
    assert out.count("## Why is this bad?") == len(ALL_RULES)


def test_rules_page_is_up_to_date(capsys):
    """docs/rules.md is what SARIF results and editor diagnostics link to (`#cfg101` anchors)."""
    assert main(["rule", "--all", "--output-format", "markdown"]) == 0
    page = (README.parent / "docs" / "rules.md").read_text(encoding="utf-8")
    regenerate = "python -m cfglint.ruledoc"
    assert capsys.readouterr().out == page, f"regenerate: {regenerate}"
    for code in ALL_RULES:
        assert f'<a id="{code.lower()}"></a>' in page
