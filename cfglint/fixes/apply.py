"""`fix_source`: locate each finding's target from the facts of the source, rewrite it with libcst
(or, to decide only, with the text edits of `cfglint.fixes.decide`).

Targets are found with the same stdlib-`ast` facts the rules read (`cfglint.parsing.parse_module`): the
class by `finding.class_name` and the finding's line, the parameter or config key by its position.
The rewrite then finds the class again in the libcst tree by name and rank among classes of that name
(source order is the same in both trees), and the method, parameter or key by name, so that several
fixes can be applied one after the other to the same tree without positions going stale.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from cfglint.finding import Finding
from cfglint.fixes.outcome import FixOutcome
from cfglint.fixes.safety import Check, describe_new, new_findings
from cfglint.fixes.site import Analysis, Skip, Unsure, analyse
from cfglint.parsing import keeps_texts
from cfglint.rules import fix_spec

# The fixes run on a libcst module (plans from `FixSpec.planner`), or, to decide without libcst, on the
# text itself (plans from `FixSpec.decider`): a document is either, and a plan maps one to the next.
Doc = Any
DocPlan = Callable[[Doc], Doc]

HELD_BACK = "held back as unsafe: {reason}; applied only with --unsafe-fixes"


def apply_fixes(source: str, findings: Sequence[Finding], *, unsafe: bool = False, check: Check | None = None,
                baseline: Sequence[Finding] | None = None, decide: bool = False) -> FixOutcome:
    """Apply the fixes (see `cfglint.fixes.fix_source`); with `check`, validate the safe ones against
    `baseline` (every finding of `source`; `findings` when not given).

    With `decide`, the deciders' text edits stand in for libcst's (`cfglint.fixes.decide`): the outcome
    says which findings are fixed, its text is equivalent but not what `--fix` writes; `Unsure` is
    raised where a decider cannot tell.

    Validation costs one check of the combined result; only when that shows a new finding is each fix
    tried and checked on its own, in order, and the ones that create a finding are held back."""
    outcome = FixOutcome(source)
    candidates: list[Finding] = []
    for finding in sorted(findings, key=Finding.sort_key):
        spec = fix_spec(finding.code)
        if spec is None:
            outcome.skipped.append((finding, f"{finding.code} has no automatic fix"))
        elif not spec.safe and not unsafe:
            outcome.skipped.append((finding, "unsafe fix: applied only with --unsafe-fixes"))
        else:
            candidates.append(finding)
    if not candidates:
        return outcome
    path = candidates[0].path
    try:
        analysis = _analysed(source, path, check)
        module = source if decide else _parse(source)
    except Skip as exc:
        outcome.skipped.extend((finding, str(exc)) for finding in candidates)
        outcome.blocked = str(exc)
        return outcome
    except RecursionError:
        reason = "the source cannot be rewritten: RecursionError"
        outcome.skipped.extend((finding, reason) for finding in candidates)
        outcome.blocked = reason
        return outcome
    plans: list[tuple[Finding, DocPlan]] = []
    planners: dict[str, Callable[..., DocPlan]] = {}
    for finding in candidates:
        try:
            if finding.code not in planners:
                planners[finding.code] = _planner(finding.code, decide)
            plans.append((finding, planners[finding.code](finding, analysis.site(finding))))
        except Skip as exc:
            outcome.skipped.append((finding, str(exc)))
        except Unsure:
            raise
        except RecursionError:
            outcome.skipped.append((finding, "the code is nested too deeply to rewrite"))
        except Exception as exc:
            if os.environ.get("CFGLINT_DEBUG"):
                raise
            outcome.skipped.append((finding, f"the fix could not be built ({type(exc).__name__}: {exc})"))
    trial = FixOutcome(source)
    _apply_in_order(module, source, plans, trial)
    if check is None or unsafe or not trial.applied:
        _merge(outcome, trial)
        return outcome
    before = baseline if baseline is not None else findings
    after = check(trial.source, path)
    created = new_findings(before, after)
    if not created:
        _merge(outcome, trial)
        outcome.rechecked = after
        return outcome
    if not _apply_outside_suspects(module, source, plans, before, created, check, outcome, decide):
        _apply_validated(module, source, plans, before, check, outcome)
    return outcome


# The same text is fixed several times in one run (a fix per finding for JSON and editors, then the
# validated one, then each pass of `--fix`): its analysis and its libcst tree (immutable) are kept for the
# last few texts, which halves the cost of a file with many findings.
_RECENT = 2
_analyses: dict[tuple[str, str, int], tuple[Check | None, Analysis]] = {}
_trees: dict[str, Doc] = {}
keeps_texts(_analyses.clear)
keeps_texts(_trees.clear)


def _analysed(source: str, path: str, check: Check | None) -> Analysis:
    key = (source, path, id(check))
    kept = _analyses.get(key)
    if kept is not None and kept[0] is check:
        return kept[1]
    analysis = analyse(source, path, check)
    _remember(_analyses, key, (check, analysis))
    return analysis


def _remember(memo: dict[Any, Any], key: Any, value: Any) -> None:
    memo.pop(key, None)
    memo[key] = value
    while len(memo) > _RECENT:
        del memo[next(iter(memo))]


def _parse(source: str) -> Doc:
    """The libcst module of `source` (libcst is imported here, when a fix is to be built), or Skip."""
    import libcst as cst

    module = _trees.get(source)
    if module is not None:
        return module
    try:
        module = cst.parse_module(source)
    except (cst.ParserSyntaxError, RecursionError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise Skip(f"the source cannot be rewritten: {detail}") from None
    _remember(_trees, source, module)
    return module


def _code(module: Doc) -> str:
    """The text of a document: a libcst module's code, or the text itself."""
    return module if isinstance(module, str) else str(module.code)


def _planner(code: str, decide: bool) -> Callable[..., DocPlan]:
    """The planner the rule's `FixSpec` names (imported now: this is where libcst is needed), or with
    `decide` its decider (Unsure when it has none)."""
    spec = fix_spec(code)
    assert spec is not None
    planner: Callable[..., DocPlan] | None = spec.load_decider() if decide else spec.load_planner()
    if planner is None:
        raise Unsure(f"{code} has no decider")
    return planner


def _merge(outcome: FixOutcome, trial: FixOutcome) -> None:
    outcome.source = trial.source
    outcome.applied.extend(trial.applied)
    outcome.skipped.extend(trial.skipped)


def _apply_one(module: Doc, current: str, finding: Finding, plan: DocPlan) -> tuple[Doc, str] | str:
    """The module and text after one more fix, or the reason it is left out."""
    try:
        fixed = plan(module)
    except Skip as exc:
        return str(exc)
    except Unsure:
        raise
    except RecursionError:
        return "the code is nested too deeply to rewrite"
    except Exception as exc:
        if os.environ.get("CFGLINT_DEBUG"):
            raise
        return f"the fix could not be built ({type(exc).__name__}: {exc})"
    try:
        text = _code(fixed)
    except (RecursionError, MemoryError):
        return "the code is nested too deeply to rewrite"
    if text == current:
        return "the fix changes nothing"
    try:
        compile(text, finding.path or "<fix>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return "the fixed source would not compile; left as is"
    return fixed, text


def _apply_in_order(module: Doc, source: str, plans: list[tuple[Finding, DocPlan]],
                    outcome: FixOutcome) -> None:
    """Every plan applied one after the other, recorded in `outcome`.

    The text is generated and compiled once, after the last plan: doing it after each one made a file
    with N fixes cost N times its size (minutes for a few hundred findings). Only when that one text
    does not compile are the plans applied again one by one, each result compiled, to drop the culprit."""
    fixed, applied, skipped = module, [], []
    for finding, plan in plans:
        try:
            changed = plan(fixed)
        except Skip as exc:
            skipped.append((finding, str(exc)))
            continue
        except Unsure:
            raise
        except RecursionError:
            skipped.append((finding, "the code is nested too deeply to rewrite"))
            continue
        except Exception as exc:
            if os.environ.get("CFGLINT_DEBUG"):
                raise
            skipped.append((finding, f"the fix could not be built ({type(exc).__name__}: {exc})"))
            continue
        if changed is fixed or (isinstance(changed, str) and changed == fixed):
            skipped.append((finding, "the fix changes nothing"))
            continue
        fixed = changed
        applied.append(finding)
    try:
        text = _code(fixed) if applied else source
    except (RecursionError, MemoryError):
        outcome.skipped.extend(skipped + [(f, "the code is nested too deeply to rewrite") for f in applied])
        outcome.source = source
        return
    if not applied or text == source:
        outcome.skipped.extend(skipped + [(f, "the fix changes nothing") for f in applied])
        outcome.source = source
        return
    try:
        compile(text, plans[0][0].path or "<fix>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        _apply_one_by_one(module, source, plans, outcome)
        return
    outcome.applied.extend(applied)
    outcome.skipped.extend(skipped)
    outcome.source = text


def _apply_one_by_one(module: Doc, source: str, plans: list[tuple[Finding, DocPlan]],
                      outcome: FixOutcome) -> None:
    current = source
    for finding, plan in plans:
        result = _apply_one(module, current, finding, plan)
        if isinstance(result, str):
            outcome.skipped.append((finding, result))
            continue
        module, current = result
        outcome.applied.append(finding)
    outcome.source = current


def _apply_outside_suspects(module: Doc, source: str, plans: list[tuple[Finding, DocPlan]],
                            before: Sequence[Finding], created: Sequence[Finding], check: Check,
                            outcome: FixOutcome, decide: bool) -> bool:
    """The one-by-one fallback, narrowed: the fixes in classes no new finding names are applied and
    checked together, and only the fixes of the named classes are then tried one by one on top. A file
    with fifty fixed classes and one that goes wrong costs a few checks instead of fifty. False (nothing
    done) when that first batch itself creates a finding: the caller then tries every fix on its own."""
    suspects = {finding.class_name for finding in created}
    if None in suspects:
        return False
    others = [(finding, plan) for finding, plan in plans if finding.class_name not in suspects]
    rest = [(finding, plan) for finding, plan in plans if finding.class_name in suspects]
    if not others or not rest:
        return False
    batch = FixOutcome(source)
    _apply_in_order(module, source, others, batch)
    if not batch.applied or batch.source == source:
        return False
    found = check(batch.source, others[0][0].path)
    if new_findings(before, found):
        return False
    try:
        start = batch.source if decide else _parse(batch.source)
    except Skip:
        return False
    _apply_validated(start, batch.source, rest, before, check, outcome, found)
    order = {id(finding): index for index, (finding, _) in enumerate(plans)}
    outcome.applied[:0] = batch.applied
    outcome.applied.sort(key=lambda finding: order.get(id(finding), len(order)))
    outcome.skipped[:0] = batch.skipped
    return True


def _apply_validated(module: Doc, source: str, plans: list[tuple[Finding, DocPlan]],
                     before: Sequence[Finding], check: Check, outcome: FixOutcome,
                     after: list[Finding] | None = None) -> None:
    """The fallback when the combined fixes create a finding: each fix in order, kept only when the
    text with it (and the fixes kept so far) has no finding that `before` did not have. `after`: the
    findings of `source`, when known."""
    current = source
    for finding, plan in plans:
        result = _apply_one(module, current, finding, plan)
        if isinstance(result, str):
            outcome.skipped.append((finding, result))
            continue
        found = check(result[1], finding.path)
        created = new_findings(before, found)
        if created:
            reason = HELD_BACK.format(reason=describe_new(created))
            outcome.skipped.append((finding, reason))
            outcome.held_back.append((finding, reason))
            continue
        (module, current), after = result, found
        outcome.applied.append(finding)
    outcome.source = current
    outcome.rechecked = after


