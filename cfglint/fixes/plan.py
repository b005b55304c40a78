"""What a report says about fixes: which findings `--fix` would fix (`[*]`) and each finding's edit.

Both come from running the fixes, never from the rule merely having one: a fix can be left out for a
class (the argument is transformed, a base class cannot be read, validation found it would create a
finding). Only files with a finding whose rule has a fix are planned, so a clean run never loads the
rewriting machinery (libcst).
"""

from __future__ import annotations

import re
from typing import Iterable, Mapping, Sequence

from cfglint import fixes
from cfglint.finding import Edit, Finding, Fix, Span
from cfglint.fixes.files import Check, fix_files, fix_until_stable
from cfglint.reporters import Identity, identity
from cfglint.source import SourceError, decode_source

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def would_fix(findings: Sequence[Finding], check: Check, *, unsafe: bool) -> frozenset[Identity]:
    """The findings (by `identity`) that `cfglint check --fix` (with `unsafe`) would fix: exactly the
    ones `--diff` counts, computed the same way (fix until stable, validated, nothing written)."""
    if not any(f.code in fixes.fixable_codes(unsafe) for f in findings):
        return frozenset()
    run = fix_files(findings, check, unsafe=unsafe, write=False)
    return frozenset(identity(f) for f in run.reported)


def would_fix_source(source: str, path: str, findings: Sequence[Finding], check: Check, *,
                     unsafe: bool) -> frozenset[Identity]:
    """`would_fix` for a text that is not read from disk (standard input)."""
    if not any(f.code in fixes.fixable_codes(unsafe) for f in findings):
        return frozenset()
    stable = fix_until_stable(source, path, findings, check, unsafe=unsafe)
    if stable.blocked is not None or stable.source == source:
        return frozenset()
    return frozenset(identity(f) for f in stable.reported)


def with_fixes(findings: Sequence[Finding], check: Check, *, sources: Mapping[str, str] | None = None
               ) -> list[Finding]:
    """The findings, each fixable one carrying its own `Fix` (the edit that fixes only it, marked
    unsafe when the rule's fix is unsafe or validation found that it would create a finding); the
    others unchanged. Files are read from disk unless `sources` holds their text."""
    texts = dict(sources or {})
    out = []
    for finding in findings:
        fix = None
        if finding.code in fixes.FIXES:
            text = _text(finding.path, texts)
            if text is not None:
                fix = single_fix(text, finding, check, [f for f in findings if f.path == finding.path])
        out.append(finding if fix is None else _replace_fix(finding, fix))
    return out


def single_fix(source: str, finding: Finding, check: Check, baseline: Iterable[Finding]) -> Fix | None:
    """The fix of `finding` alone as one edit, or None when there is none here."""
    planned = fixes.check_one(source, finding, check, list(baseline))
    if planned is None:
        return None
    fixed, safe, _ = planned
    edit = minimal_edit(source, fixed)
    if edit is None:
        return None
    return Fix(fixes.FIXES[finding.code].title, (edit,), safe=safe)


def minimal_edit(before: str, after: str) -> Edit | None:
    """One replacement turning `before` into `after`: the differing middle, positions 1-based with
    character columns (the end exclusive), as every span is."""
    if before == after:
        return None
    start = 0
    limit = min(len(before), len(after))
    while start < limit and before[start] == after[start]:
        start += 1
    end_before, end_after = len(before), len(after)
    while end_before > start and end_after > start and before[end_before - 1] == after[end_after - 1]:
        end_before, end_after = end_before - 1, end_after - 1
    # start at a line's beginning when the change does: edits read better as whole lines
    while start > 0 and before[start - 1] not in "\r\n" and before[start - 1] in " \t" and after[start - 1] in " \t":
        start -= 1
    line, column = _position(before, start)
    end_line, end_column = _position(before, end_before)
    return Edit(Span(line, column, end_line, end_column), after[start:end_after])


def _position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and character column of `offset`, lines ending as Python's tokenizer ends them."""
    line, line_start = 1, 0
    for match in _LINE_BREAK.finditer(text, 0, offset):
        if match.end() > offset:
            break
        line, line_start = line + 1, match.end()
    return line, offset - line_start + 1


def _text(path: str, texts: dict[str, str]) -> str | None:
    if path not in texts:
        try:
            with open(path, "rb") as handle:
                texts[path] = decode_source(handle.read(), path)
        except (OSError, SourceError):
            return None
    return texts[path]


def _replace_fix(finding: Finding, fix: Fix) -> Finding:
    from dataclasses import replace

    return replace(finding, fix=fix)
