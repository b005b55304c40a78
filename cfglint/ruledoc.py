"""Rule documentation for `cfglint rule`, built from the same examples the tests run."""

from __future__ import annotations

import textwrap

from cfglint.finding import FLAVOURS
from cfglint.rules.base import NOT_FIXED, Example, Rule

TARGET_NAMES = {"keras3": "Keras 3", "tf-keras": "tf-keras 2"}


def applies_to(rule: Rule) -> str:
    return ", ".join(f"{TARGET_NAMES[t.value]} ({s.value})" for t, s in rule.severity.items())


def _example(example: Example) -> str:
    lines = [f"```python{'  # target: ' + example.target.value if example.target.value != 'keras3' else ''}"]
    lines.append(example.code.rstrip("\n"))
    lines.append("```")
    for name, text in example.files:  # what `cfglint saved` reads beside the source (rules/cfg5.py)
        if name.endswith(".json"):
            lines += ["", f"Saved config `{name}`:", "", "```json", textwrap.dedent(text).strip("\n"), "```"]
        elif name.endswith("@old"):
            lines += ["", f"`{name[:-4]}` at `--since REV`:", "", "```python", textwrap.dedent(text).strip("\n"),
                      "```"]
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
    parts = ["# cfglint rules\n", "Generated by `python -m cfglint.ruledoc` (or `python -m cfglint rule --all "
             "--output-format markdown`); do not edit by hand.\n"]
    for rule in rules:
        parts.append(f'<a id="{rule.code.lower()}"></a>\n\n' + render_text(rule).replace("# ", "## ", 1)
                     .replace("\n## ", "\n### "))
    return "\n".join(parts)


# ------------------------------------------------------------------------------ generated README tables
def _severity_cell(rule: Rule) -> str:
    """`error`, or `error / info` when the targets differ (`—` where the rule does not apply), with the
    rule's note and `(verify)` / `(not selected by default)` as they apply."""
    values = [rule.severity[t].value if t in rule.severity else "—" for t in FLAVOURS]
    cell = values[0] if len(set(values)) == 1 else " / ".join(values)
    notes = [rule.severity_note] if rule.severity_note else []
    if not rule.default_enabled:
        notes.append("not selected by default")
    if rule.dynamic:
        notes.append(f"`{rule.command}`")
    return cell + (f" ({'; '.join(notes)})" if notes else "")


def render_readme_rules(rules: list[Rule]) -> str:
    """The README's table of rules: code, name, default severity per Keras target."""
    rows = ["| code | name | default severity (Keras 3 / tf-keras) |", "| --- | --- | --- |"]
    rows += [f"| {rule.code} | {rule.name} | {_severity_cell(rule)} |" for rule in rules]
    return "\n".join(rows) + "\n"


def render_readme_fixes(rules: list[Rule]) -> str:
    """The README's table of fixes: rules sharing a fix share a row; safe fixes first."""
    groups: dict[tuple[str, bool], list[str]] = {}
    for rule in rules:
        if rule.fix is not None:
            groups.setdefault((rule.fix.title, rule.fix.safe), []).append(rule.code)
    rows = ["| code | fix | safe |", "| --- | --- | --- |"]
    for (title, safe), codes in sorted(groups.items(), key=lambda item: (not item[0][1], item[1][0])):
        rows.append(f"| {', '.join(codes)} | {title[:1].lower()}{title[1:]} | "
                    f"{'yes' if safe else 'no: only with `--unsafe-fixes`'} |")
    return "\n".join(rows) + "\n"


README_TABLES = {"rules": render_readme_rules, "fixes": render_readme_fixes}


def with_tables(readme: str, rules: list[Rule]) -> str:
    """`readme` with each `<!-- generated: NAME -->` ... `<!-- end generated: NAME -->` block rewritten."""
    for name, render in README_TABLES.items():
        begin, end = f"<!-- generated: {name} -->\n", f"<!-- end generated: {name} -->"
        start, stop = readme.find(begin), readme.find(end)
        if start < 0 or stop < start:
            raise ValueError(f"README has no `{begin.strip()}` ... `{end}` block")
        readme = readme[:start + len(begin)] + render(rules) + readme[stop:]
    return readme


def main(argv: list[str] | None = None) -> int:
    """`python -m cfglint.ruledoc [ROOT]`: regenerate `docs/rules.md` and the README's rule and fix
    tables of the repository at ROOT (the current folder by default) from the rule catalog."""
    import sys
    from pathlib import Path

    from cfglint.rules import ALL_RULES

    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0]) if args else Path.cwd()
    rules = list(ALL_RULES.values())
    (root / "docs" / "rules.md").write_text(render_page(rules), encoding="utf-8")
    readme = root / "README.md"
    readme.write_text(with_tables(readme.read_text(encoding="utf-8"), rules), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
