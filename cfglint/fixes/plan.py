"""What a report says about fixes: which findings `--fix` would fix (`[*]`) and each finding's edit.

Both come from running the fixes, never from the rule merely having one: a fix can be left out for a
class (the argument is transformed, a base class cannot be read, validation found it would create a
finding). Only files with a finding whose rule has a fix are planned, so a clean run never loads the
rewriting machinery (libcst).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from cfglint import fixes
from cfglint.finding import Edit, Finding, Fix, Span
from cfglint.fixes.files import Check, FixRun, fix_files, fix_until_stable
from cfglint.fixes.marks_memo import MarksMemo
from cfglint.fixes.site import Unsure
from cfglint.line_edit import character_edit
from cfglint.reporters import Identity, identity
from cfglint.rules import fix_spec
from cfglint.source import SourceError, decode_source

if TYPE_CHECKING:
    from cfglint.cache import Inputs, StatKey


def would_fix(findings: Sequence[Finding], check: Check, *, unsafe: bool, jobs: int = 1,
              memo: MarksMemo | None = None) -> frozenset[Identity]:
    """The findings (by `identity`) that `cfglint check --fix` (with `unsafe`) would fix: exactly the
    ones `--diff` counts, computed the same way (fix until stable, validated, nothing written).

    Decided without libcst where every fix involved has a decider (`cfglint.fixes.decide`); planned
    with libcst where one is unsure. With a `memo`, a file whose marks it holds for the same findings
    and unchanged inputs is not planned again."""
    codes = fixes.fixable_codes(unsafe)
    if not any(f.code in codes for f in findings):
        return frozenset()
    by_path: dict[str, list[Finding]] = {}
    for finding in findings:
        by_path.setdefault(finding.path, []).append(finding)
    planned = [path for path, found in by_path.items() if any(f.code in codes for f in found)]
    reused: set[Identity] = set()
    todo = list(findings)
    if memo is not None:
        todo = []
        for path in planned:
            marks = memo.marks(path, by_path[path])
            if marks is None:
                todo.extend(by_path[path])
            else:
                reused |= marks
        memo.forget_missing(planned)
    run = _fix_run(todo, check, unsafe, jobs)
    if memo is not None:
        for result in run.files:
            memo.record(result, by_path[result.path])
        memo.save()
    return frozenset(reused) | frozenset(identity(f) for f in run.reported)


def _fix_run(findings: Sequence[Finding], check: Check, unsafe: bool, jobs: int) -> FixRun:
    if not any(f.code in fixes.fixable_codes(unsafe) for f in findings):
        return FixRun()
    if decidable(findings, unsafe):
        try:
            return fix_files(findings, check, unsafe=unsafe, write=False, decide=True, jobs=jobs)
        except Unsure:
            pass
    return fix_files(findings, check, unsafe=unsafe, write=False, jobs=jobs)


def would_fix_source(source: str, path: str, findings: Sequence[Finding], check: Check, *,
                     unsafe: bool) -> frozenset[Identity]:
    """`would_fix` for a text that is not read from disk (standard input)."""
    if not any(f.code in fixes.fixable_codes(unsafe) for f in findings):
        return frozenset()
    stable = None
    if decidable(findings, unsafe):
        with contextlib.suppress(Unsure):
            stable = fix_until_stable(source, path, findings, check, unsafe=unsafe, decide=True)
    if stable is None:
        stable = fix_until_stable(source, path, findings, check, unsafe=unsafe)
    if stable.blocked is not None or stable.source == source:
        return frozenset()
    return frozenset(identity(f) for f in stable.reported)


def decidable(findings: Iterable[Finding], unsafe: bool) -> bool:
    """Whether every fix these findings could get has an `ast`-only decider."""
    codes = fixes.fixable_codes(unsafe)
    for code in {f.code for f in findings if f.code in codes}:
        spec = fix_spec(code)
        if spec is None or spec.decider is None:
            return False
    return True


def with_fixes(findings: Sequence[Finding], check: Check, *, sources: Mapping[str, str] | None = None
               ) -> list[Finding]:
    """The findings, each fixable one carrying its own `Fix` (the edit that fixes only it, marked
    unsafe when the rule's fix is unsafe or validation found that it would create a finding); the
    others unchanged. Files are read from disk unless `sources` holds their text."""
    texts = dict(sources or {})
    by_path: dict[str, list[Finding]] = {}
    for finding in findings:
        by_path.setdefault(finding.path, []).append(finding)
    out = []
    for finding in findings:
        fix = None
        if fix_spec(finding.code) is not None:
            text = _text(finding.path, texts)
            if text is not None:
                fix = single_fix(text, finding, check, by_path[finding.path])
        out.append(finding if fix is None else _replace_fix(finding, fix))
    return out


def single_fix(source: str, finding: Finding, check: Check, baseline: Iterable[Finding]) -> Fix | None:
    """The fix of `finding` alone as one edit, or None when there is none here."""
    planned = fixes.check_one(source, finding, check, list(baseline))
    if planned is None:
        return None
    fixed, safe, _ = planned
    edit = character_edit(source, fixed)
    if edit is None:
        return None
    spec = fix_spec(finding.code)
    assert spec is not None
    return Fix(spec.title, (edit,), safe=safe)


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


def plan_report(findings: Sequence[Finding], check: Check, *, unsafe: bool, marks: bool, carry: bool,
                stdin: tuple[str, str] | None = None, cache: Any = None, inputs: Inputs | None = None,
                jobs: int = 1, settings_key: str | None = None,
                read_stats: Mapping[str, StatKey | None] | None = None) -> tuple[list[Finding], frozenset[Identity]]:
    """The findings (each with its `Fix` when `carry`) and the ones to mark `[*]` (when `marks`).

    `stdin` is the name and text of standard input when that is what was checked. With a result
    `cache` and the `inputs` its snapshot vouches for (every file read or consulted, with its stat),
    the plan of an unchanged tree is served from the cache, so a warm run reads no source again; after
    a change, the marks of the files the change does not reach are (`settings_key`: the run's
    configuration; `read_stats`: the stat each file was read with; `cfglint.fixes.marks_memo`)."""
    key = _plan_key(findings, unsafe, marks, carry, inputs) if cache is not None and stdin is None else None
    if key is not None:
        served = _decode_plan(cache.plan(key), findings)
        if served is not None:
            return served
    fixable: frozenset[Identity] = frozenset()
    if marks:
        memo = (MarksMemo(cache, settings_key, unsafe, read_stats)
                if cache is not None and stdin is None and settings_key and read_stats else None)
        fixable = (would_fix(findings, check, unsafe=unsafe, jobs=jobs, memo=memo) if stdin is None
                   else would_fix_source(stdin[1], stdin[0], findings, check, unsafe=unsafe))
    out = list(findings)
    if carry:
        out = with_fixes(findings, check, sources=None if stdin is None else {stdin[0]: stdin[1]})
    if key is not None:
        cache.save_plan(key, _encode_plan(out, fixable))
    return out, fixable


def _plan_key(findings: Sequence[Finding], unsafe: bool, marks: bool, carry: bool,
              inputs: Inputs | None) -> str | None:
    """None when the inputs are not vouched for (no snapshot, or a file changed too recently to trust
    its stat)."""
    if inputs is None or any(path == "<racy>" for path, _ in inputs[1]):
        return None
    from cfglint.cache import run_key

    return run_key("fix-plan", inputs, unsafe, marks, carry, [identity(f) for f in findings])


def _encode_plan(findings: Sequence[Finding], fixable: frozenset[Identity]) -> dict[str, Any]:
    return {
        "marked": sorted(list(item) for item in fixable),
        "fixes": [[list(identity(f)), f.fix.message, f.fix.safe,
                   [[e.span.line, e.span.column, e.span.end_line, e.span.end_column, e.text] for e in f.fix.edits]]
                  for f in findings if f.fix is not None],
    }


def _decode_plan(data: Any, findings: Sequence[Finding]) -> tuple[list[Finding], frozenset[Identity]] | None:
    """The cached plan applied to `findings`, or None when it is missing or damaged."""
    try:
        fixable = frozenset(tuple(item) for item in data["marked"])
        fixes_by = {tuple(item[0]): Fix(str(item[1]), tuple(Edit(Span(*edit[:4]), str(edit[4])) for edit in item[3]),
                                        safe=bool(item[2]))
                    for item in data["fixes"]}
    except (TypeError, KeyError, IndexError, ValueError):
        return None
    out = [f if identity(f) not in fixes_by else _replace_fix(f, fixes_by[identity(f)]) for f in findings]
    return out, fixable
