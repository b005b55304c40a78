"""Automatic fixes: the functions that apply the fix each rule declares (`Rule.fix`, a `FixSpec`).

This module is thin wrappers: importing it does not import libcst, so the reporters can
mark fixable findings without slowing down `cfglint check`. The rewriting itself (libcst, which keeps
every comment and all formatting outside the edited region) is loaded on the first call of
`fix_source` / `fix_one`.

A fix is *safe* when code that works keeps behaving the same; only safe fixes apply without
`--unsafe-fixes`. Every fix locates its target from the facts of the source it is given and gives up
(the finding is returned in `skipped` with a reason) rather than guess. Given a `check` (a
`cfglint.fixes.safety.Recheck`), safe fixes are also validated: the fixed text is checked again and a
fix that creates a finding is *held back* (not applied as safe; `held_back` says why), and a
`get_config` is only written where the config it replaces is known (see `cfglint.fixes.safety`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from cfglint.fixes.outcome import FixOutcome

if TYPE_CHECKING:
    from cfglint.finding import Finding, Fix
    from cfglint.fixes.safety import Check
    from cfglint.rules.base import FixSpec


def fixable_codes(unsafe: bool = False) -> frozenset[str]:
    """Codes whose findings `fix_source` may fix (unsafe ones included when `unsafe`)."""
    from cfglint.rules import fixable_codes as codes

    return codes(unsafe)


def describe(code: str) -> str:
    """One line for `cfglint rule CODE`: whether a fix exists and whether it is safe."""
    from cfglint.rules import fix_spec

    spec = fix_spec(code)
    if spec is None:
        return "No automatic fix."
    if spec.safe:
        return (f"Fix available, safe ({spec.title}): `cfglint check --fix` applies it once the fixed file, "
                "checked again, shows no new finding (otherwise it is held back as unsafe).")
    return f"Fix available, unsafe ({spec.title}): applied only with `cfglint check --fix --unsafe-fixes`."


def fix_source(source: str, findings: Sequence[Finding], *, unsafe: bool = False, check: Check | None = None,
               baseline: Sequence[Finding] | None = None, decide: bool = False) -> FixOutcome:
    """Apply the fix of every fixable finding of one file's `source` (unsafe fixes too when `unsafe`).

    Each fix is located from the facts of `source` (the class by `finding.class_name` and the line, the
    parameter or key by its position) and applied one after the other; a fix whose result would not
    compile is dropped. Findings not fixed come back in `skipped` with a one-line reason. The input
    findings must come from checking exactly this text.

    With `check` (`(text, path) -> findings`, the same configuration that produced the findings) and
    without `unsafe`, the safe fixes are validated: the result is checked once, and when it has a
    finding that `baseline` (every finding of `source`, by default `findings`) did not have, each fix is
    checked on its own and the ones that create a finding are held back.

    `decide` only decides which findings are fixed, without libcst (see `cfglint.fixes.decide`): the
    text it gives is equivalent, not what `--fix` writes, and it raises `Unsure` where it cannot tell."""
    from cfglint.fixes.apply import apply_fixes

    return apply_fixes(source, findings, unsafe=unsafe, check=check, baseline=baseline, decide=decide)


def fix_one(source: str, finding: Finding, check: Check | None = None) -> str | None:
    """The text after fixing only `finding` (safe or not: an editor shows the choice to its user, with
    `cfglint.rules.fix_spec(code).safe`, or `check_one`), or None when it has no fix here. `check` only lends the fix
    the project's facts (its base classes in other files); nothing is validated here."""
    outcome = fix_source(source, [finding], unsafe=True, check=check)
    return outcome.source if outcome.applied else None


def check_one(source: str, finding: Finding, check: Check, baseline: Sequence[Finding]
              ) -> tuple[str, bool, str | None] | None:
    """`fix_one` with its safety validated: (fixed text, safe, why it is not safe), or None when the
    finding has no fix here. A fix marked safe that creates a finding (compared with `baseline`, every
    finding of `source`) is reported unsafe with the reason."""
    reason = None
    if _spec(finding.code).safe:  # the validated fix first: when it applies, it is the answer
        outcome = fix_source(source, [finding], check=check, baseline=baseline)
        if outcome.applied:
            return outcome.source, True, None
        if outcome.held_back:
            reason = outcome.held_back[0][1]
        elif outcome.skipped:
            reason = outcome.skipped[0][1]
    fixed = fix_one(source, finding, check)
    return None if fixed is None else (fixed, False, reason)


def _spec(code: str) -> FixSpec:
    from cfglint.rules import fix_spec

    spec = fix_spec(code)
    if spec is None:
        raise KeyError(f"{code} has no automatic fix")
    return spec


def fix_for(source: str, finding: Finding) -> Fix | None:
    """`fix_one` as a `Fix`: one `Edit` replacing the smallest range of whole lines that changed."""
    from cfglint.finding import Edit, Fix, Span
    from cfglint.line_edit import line_edit

    fixed = fix_one(source, finding)
    edit = line_edit(source, fixed) if fixed is not None else None
    if edit is None:
        return None
    span = Span(edit.line + 1, edit.column + 1, edit.end_line + 1, edit.end_column + 1)
    spec = _spec(finding.code)
    return Fix(spec.title, (Edit(span, edit.text),), safe=spec.safe)


__all__ = ["FixOutcome", "check_one", "describe", "fix_for", "fix_one", "fix_source",
           "fixable_codes"]
