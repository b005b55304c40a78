"""Turn saved configs into findings: resolve every object, compare it with today's class, filter.

This is `cfglint saved`'s engine, without the command line: it takes the configs the reader produced
and a `Checker` that has parsed the project, and returns `Finding`s filtered exactly as `check`
filters its own (`# noqa` on the reported line, the rule selection and per-file-ignores of that file).
"""

from __future__ import annotations

from collections.abc import Iterator

from cfglint.context import ClassContext
from cfglint.engine import Checker, bound_for_target
from cfglint.facts import ModuleFacts
from cfglint.finding import Finding, Span, Target
from cfglint.finding_filter import NoqaMap, is_reported
from cfglint.rules import ALL_RULES
from cfglint.saved.compare import Problem, missing_required, unknown_keys
from cfglint.saved.defaults import changed_defaults
from cfglint.saved.reader import SavedConfig, Unreadable
from cfglint.saved.resolve import Found, Missing, ProjectClasses
from cfglint.saved.walker import walk
from cfglint.settings_resolver import SettingsResolver


def unreadable_findings(unreadable: list[Unreadable], resolver: SettingsResolver) -> list[Finding]:
    """CFG500 for each archive or JSON file that could not be read."""
    rule = ALL_RULES["CFG500"]
    return [Finding(item.path, Span(item.line, item.column, item.line, item.column + 1), rule.code, rule.name,
                    item.message, rule.severity[Target.KERAS3])
            for item in unreadable
            if is_reported(rule.code, item.path, item.line, selection=resolver.for_path(item.path).selection,
                           noqa={})]


def check_configs(configs: list[SavedConfig], modules: list[ModuleFacts], checker: Checker,
                  resolver: SettingsResolver, *, target: Target | None = None,
                  since: str | None = None) -> list[Finding]:
    """Every finding for the saved configs, against the project the checker has parsed (`modules`).
    `target` is the Keras that loads them (None or AUTO: the one that saved each config)."""
    classes = ProjectClasses(modules, checker.index)
    findings: dict[tuple[str, int, int, str, str], Finding] = {}
    for config in configs:
        flavour = config.flavour if target in (None, Target.AUTO) else target
        for problem, class_name, noqa in _problems(config, classes, checker, flavour, since):
            finding = _finding(problem, class_name, noqa, flavour, resolver)
            if finding is not None:
                findings.setdefault(finding.sort_key(), finding)
    return sorted(findings.values(), key=Finding.sort_key)


def _problems(config: SavedConfig, classes: ProjectClasses, checker: Checker, flavour: Target,
              since: str | None) -> Iterator[tuple[Problem, str | None, NoqaMap]]:
    """Each problem of one config, with the class it is about and the `noqa` map of its file."""
    for saved in walk(config.root):
        where = f"{config.path} ({saved.layer_path})"
        resolution = classes.resolve(saved)
        if isinstance(resolution, Missing):
            yield Problem("CFG503", config.path, Span(1, 1, 1, 2), f"{where}: {resolution.message}",
                          subject=saved.class_name), None, {}
            continue
        if not isinstance(resolution, Found):
            continue
        cls, module = resolution.cls, bound_for_target(resolution.module, flavour)
        if resolution.problem is not None:
            yield Problem("CFG503", module.path, cls.span, f"{where}: {resolution.problem}",
                          subject=saved.registered_name), cls.name, module.noqa
        hierarchy = checker.index.hierarchy(cls, module)
        if not hierarchy.is_keras:
            continue
        ctx = ClassContext(cls, module, hierarchy, flavour, checker.index)
        problems = [*unknown_keys(ctx, saved.config, where), *missing_required(ctx, saved.config, where)]
        if since:
            problems.extend(changed_defaults(ctx, saved.config, where, since))
        for problem in problems:
            yield problem, cls.name, _noqa_of(problem.path, ctx)


def _noqa_of(path: str, ctx: ClassContext) -> NoqaMap:
    """The `noqa` directives of the file a problem points into (the class's, or a base class's)."""
    return next((ancestor.module.noqa for ancestor in ctx.chain if ancestor.module.path == path), {})


def _finding(problem: Problem, class_name: str | None, noqa: NoqaMap, flavour: Target,
             resolver: SettingsResolver) -> Finding | None:
    rule = ALL_RULES[problem.code]
    if not is_reported(rule.code, problem.path, problem.span.line,
                       selection=resolver.for_path(problem.path).selection, noqa=noqa):
        return None
    severity = rule.severity.get(flavour) or rule.severity[Target.KERAS3]
    return Finding(problem.path, problem.span, rule.code, rule.name, problem.message, severity, class_name,
                   subject=problem.subject)
