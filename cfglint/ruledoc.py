"""Rule documentation for `cfglint rule`, built from the same examples the tests run."""

from __future__ import annotations

from cfglint.rules.base import Example, Rule

TARGET_NAMES = {"keras3": "Keras 3", "tf-keras": "tf-keras 2"}


def applies_to(rule: Rule) -> str:
    return ", ".join(f"{TARGET_NAMES[t.value]} ({s.value})" for t, s in rule.severity.items())


def _example(example: Example) -> str:
    lines = [f"```python{'  # target: ' + example.target.value if example.target.value != 'keras3' else ''}"]
    lines.append(example.code.rstrip("\n"))
    lines.append("```")
    return "\n".join(lines)


def render_text(rule: Rule) -> str:
    """ruff's sections: What it does, Why is this bad?, Example, Use instead, Fix safety."""
    parts = [
        f"# {rule.code} ({rule.name})",
        "",
        f"{rule.summary}",
        "",
        f"Applies to: {applies_to(rule)}" + ("" if rule.default_enabled else "; not selected by default"),
        "",
        "## What it does",
        rule.what,
        "",
        "## Why is this bad?",
        rule.why,
    ]
    if rule.invalid:
        parts += ["", "## Example", _example(rule.invalid[0])]
    if rule.valid:
        parts += ["", "## Use instead", rule.instead, "", _example(rule.valid[0])]
    else:
        parts += ["", "## Use instead", rule.instead]
    parts += ["", "## Fix safety", fix_line(rule)]
    if rule.fix_safety != fix_line(rule):
        parts += ["", rule.fix_safety]
    return "\n".join(parts) + "\n"


def fix_line(rule: Rule) -> str:
    """Whether `cfglint check --fix` has a fix for the rule, and whether it is safe (static data: no
    libcst import)."""
    from cfglint.fixes import describe

    return describe(rule.code)


def _fix_json(code: str) -> dict[str, object] | None:
    from cfglint.fixes import FIXES

    info = FIXES.get(code)
    return None if info is None else {"safe": info.safe, "title": info.title, "why": info.why}


def render_json(rules: list[Rule]) -> str:
    import json

    return json.dumps([
        {
            "code": rule.code,
            "name": rule.name,
            "summary": rule.summary,
            "targets": {t.value: s.value for t, s in rule.severity.items()},
            "default_enabled": rule.default_enabled,
            "what": rule.what,
            "why": rule.why,
            "instead": rule.instead,
            "fix_safety": rule.fix_safety,
            "fix": _fix_json(rule.code),
            "bad_examples": [e.code for e in rule.invalid],
            "good_examples": [e.code for e in rule.valid],
        }
        for rule in rules
    ], indent=2) + "\n"
