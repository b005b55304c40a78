"""Run the static checker on snippets written to a temporary project."""

from __future__ import annotations

import textwrap
from pathlib import Path

from cfglint.config import RuleSelection, load_settings
from cfglint.engine import Checker, Report
from cfglint.rules import ALL_RULES, DEFAULT_CODES
from cfglint.rules.base import Example


def write_project(root: Path, files: dict[str, str]) -> None:
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")


def run_check(root: Path, paths: list[str] | None = None, *, select: list[str] | None = None,
              target: str | None = None) -> Report:
    settings = load_settings(root, known_codes=ALL_RULES)
    selection = RuleSelection.from_settings(settings, all_codes=ALL_RULES, default_codes=DEFAULT_CODES,
                                            cli_select=select)
    return Checker(settings, selection, target).check_paths(paths or [str(root)])


def positions(root: Path, example: Example, code: str) -> list[tuple[int, int]]:
    """Where `code` fires in an example's main file (named example.py)."""
    files = {"example.py": example.code, **dict(example.files)}
    write_project(root, files)
    report = run_check(root, [str(root / "example.py")], select=[code], target=example.target.value)
    return sorted((f.line, f.column) for f in report.findings if f.code == code)
