"""Rule documentation for `cfglint rule`, built from the same examples the tests run."""

from __future__ import annotations

from cfglint.rules.base import NOT_FIXED, Example, Rule

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
    parts += _fix_example(rule)
    return "\n".join(parts) + "\n"


def _fix_example(rule: Rule) -> list[str]:
    """The first bad example the fix applies to, after the fix (with the example itself when it is
    not the one shown above)."""
    if rule.fix is None:
        return []
    example = next((e for e in rule.invalid if e.fixed_code not in (None, NOT_FIXED)), None)
    if example is None or example.fixed_code is None:
        return []
    command = "cfglint check --fix" + ("" if rule.fix.safe else " --unsafe-fixes")
    parts = [""]
    if example is not rule.invalid[0]:
        parts += ["For example:", "", _example(example), ""]
    fixed = Example(example.fixed_code, (), example.target)
    return [*parts, f"After `{command}`:", "", _example(fixed)]


def fix_line(rule: Rule) -> str:
    """Whether `cfglint check --fix` has a fix for the rule, and whether it is safe (static data: no
    libcst import)."""
    from cfglint.fixes import describe

    return describe(rule.code)


def _fix_json(rule: Rule) -> dict[str, object] | None:
    spec = rule.fix
    return None if spec is None else {"safe": spec.safe, "title": spec.title, "why": spec.why}


def render_concise(rules: list[Rule]) -> str:
    """One line per rule, columns aligned: code, name, severity per Keras target, and whether
    `--fix` has a fix (safe or unsafe); rules not selected by default say so."""
    from cfglint.finding import FLAVOURS

    rows = [(rule.code, rule.name,
             *(f"{target.value}: {rule.severity[target].value if target in rule.severity else '-'}"
               for target in FLAVOURS),
             _fix_word(rule) + ("" if rule.default_enabled else "  (not selected by default)"))
            for rule in rules]
    widths = [max((len(row[column]) for row in rows), default=0) for column in range(len(FLAVOURS) + 2)]
    # the last cell is not padded: `widths` is one shorter than a row
    return "".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1] + "\n"
        for row in rows
    )


def _fix_word(rule: Rule) -> str:
    spec = rule.fix
    return "fix: none" if spec is None else "fix: safe" if spec.safe else "fix: unsafe"


def render_json(rules: list[Rule]) -> str:
    """For tooling: every field of the rule, its severity per target, whether a fix exists and is
    safe, and the documentation text `cfglint rule CODE` prints (`explanation`, as ruff names it)."""
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
            "fix": _fix_json(rule),
            # as ruff: a fix exists but is offered only where its target is certain
            "fix_availability": "Sometimes" if rule.fix is not None else "None",
            "explanation": render_text(rule),
            "bad_examples": [e.code for e in rule.invalid],
            "good_examples": [e.code for e in rule.valid],
        }
        for rule in rules
    ], indent=2) + "\n"


def render_page(rules: list[Rule]) -> str:
    """`docs/rules.md`: every rule's text with an anchor per code (`#cfg101`), which SARIF results and
    editor diagnostics link to."""
    parts = ["# cfglint rules\n", "Generated by `python -m cfglint rule --all --output-format markdown`; "
             "do not edit by hand.\n"]
    for rule in rules:
        parts.append(f'<a id="{rule.code.lower()}"></a>\n\n' + render_text(rule).replace("# ", "## ", 1)
                     .replace("\n## ", "\n### "))
    return "\n".join(parts)
