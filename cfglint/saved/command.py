"""`cfglint saved PATH...`: report where today's code would no longer load the saved model configs.

Exit codes as `cfglint check`: 0 clean, 1 error or warning findings, 2 a path that does not exist or a
configuration mistake. An unreadable archive is finding CFG500, as a file that does not parse is
CFG001 for `check`.
"""

from __future__ import annotations

import argparse
import ast
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cfglint.finding import Finding, Severity, Span, Target

if TYPE_CHECKING:
    from cfglint.engine import Checker
    from cfglint.facts import ModuleFacts
    from cfglint.saved.compare import Problem
    from cfglint.saved.reader import SavedConfig
    from cfglint.settings_resolver import SettingsResolver

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class SavedUsageError(Exception):
    """A usage or input problem: a message on standard error and exit code 2."""


def add_parser(commands: Any, targets: tuple[str, ...], formats: tuple[str, ...], codes: Any) -> None:
    """The `saved` sub-command's options (`commands` is the CLI's sub-parser collection)."""
    saved = commands.add_parser(
        "saved", help="check saved model configs (.keras, JSON) against today's code (never imports it)",
        allow_abbrev=False,
        description="Read saved Keras model configs (.keras archives, model.to_json() or get_config() JSON, "
                    "and folders of them) without TensorFlow, find the project class of every custom object in "
                    "them, and report where today's code would no longer load them: keys the constructor does "
                    "not take, required arguments the config lacks, classes gone or registered under another "
                    "name, and (with --since) changed defaults. Exit codes: 0 clean, 1 findings, 2 a missing "
                    "path or a configuration mistake.")
    saved.add_argument("paths", nargs="+", metavar="PATH", help=".keras archives, config JSON files, or folders")
    saved.add_argument("--project", type=Path, default=Path("."), metavar="DIR",
                       help="the project whose classes load the configs (default: .)")
    saved.add_argument("--target", choices=targets,
                       help="the Keras that loads them (default: auto: the Keras that saved each one)")
    saved.add_argument("--since", metavar="REV",
                       help="also warn about defaulted arguments absent from a config whose default changed "
                            "since git revision REV (CFG504)")
    saved.add_argument("--dynamic", action="store_true",
                       help="also load each archive with Keras in a worker process (RUNS your code)")
    saved.add_argument("--output-format", choices=formats, default=None, help="default: text")
    saved.add_argument("--select", type=codes, help="rule codes or prefixes to enable (e.g. CFG501)")
    saved.add_argument("--ignore", type=codes, help="rule codes or prefixes to disable")
    saved.add_argument("--config", type=Path, metavar="FILE", help="pyproject.toml to read [tool.cfglint] from")
    saved.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    saved.add_argument("-v", "--verbose", action="store_true",
                       help="also list on standard error the files skipped as not Keras configs")


def run_saved(args: argparse.Namespace) -> int:
    from cfglint import __version__
    from cfglint.config import ConfigError
    from cfglint.display import printable
    from cfglint.engine import Checker
    from cfglint.reporters import FORMATS, write_report
    from cfglint.rules import ALL_RULES
    from cfglint.saved.reader import read_paths
    from cfglint.settings_resolver import CliOverrides, resolve_settings

    fmt = args.output_format or os.environ.get("CFGLINT_OUTPUT_FORMAT") or "text"
    if fmt not in FORMATS:
        raise SavedUsageError(f"unknown output format {fmt!r}; valid: {', '.join(FORMATS)}")
    if not args.project.is_dir():
        raise SavedUsageError(f"{args.project}: --project must be a directory")
    cli = CliOverrides(select=args.select, ignore=args.ignore,
                       target=None if args.target is None else Target(args.target))
    try:
        resolver = resolve_settings(args.project, config_file=args.config, cli=cli, fallback=Path.cwd())
    except ConfigError as exc:
        raise SavedUsageError(str(exc)) from None
    reading = read_paths(args.paths)
    checker = Checker(resolver.base, resolver=resolver)
    checker.parse_all = True  # registered initializers and other non-layer classes are looked up too
    parsed, modules = checker.parse_paths([str(args.project)])
    unparsed = [f"{f.path}:{f.line}:{f.column}: {f.message}: its classes are unknown to this run"
                for f in parsed.findings if f.code == "CFG001"]
    findings = [*unreadable_findings(reading.unreadable, resolver),
                *check_configs(reading.configs, modules, checker, resolver, target=cli.target, since=args.since)]
    failed_loads = _run_dynamic(reading.configs, checker, args, modules) if args.dynamic else 0
    for error in reading.errors:
        print(f"cfglint: error: {error}", file=sys.stderr)
    nothing_read = not reading.configs and not reading.unreadable and not reading.errors
    for note in [*unparsed, *(reading.notes if args.verbose or nothing_read else [])]:
        print(f"cfglint: warning: {printable(note)}", file=sys.stderr)
    if nothing_read:
        print(f"cfglint: warning: no saved model config found in {', '.join(map(printable, args.paths))}",
              file=sys.stderr)
    if findings or not reading.errors:
        write_report(fmt, findings, sys.stdout, rules=ALL_RULES,
                     files_checked=len(reading.configs) + len(reading.unreadable), version=__version__)
    if reading.errors:
        return EXIT_ERROR
    failing = failed_loads or any(f.severity is not Severity.INFO for f in findings)
    return EXIT_FINDINGS if failing and not args.exit_zero else EXIT_CLEAN


def unreadable_findings(unreadable: list[Any], resolver: SettingsResolver) -> Iterator[Finding]:
    """CFG500 for each archive or JSON file that could not be read."""
    from cfglint.finding_filter import is_reported
    from cfglint.rules import ALL_RULES

    rule = ALL_RULES["CFG500"]
    for item in unreadable:
        if is_reported(rule.code, item.path, item.line, selection=resolver.for_path(item.path).selection, noqa={}):
            yield Finding(item.path, Span(item.line, item.column, item.line, item.column + 1), rule.code, rule.name,
                          item.message, rule.severity[Target.KERAS3])


def check_configs(configs: list[SavedConfig], modules: list[ModuleFacts], checker: Checker,
                  resolver: SettingsResolver, *, target: Target | None = None,
                  since: str | None = None) -> list[Finding]:
    """Every finding for the saved configs, against the project the checker has parsed (`modules`)."""
    from cfglint.saved.resolve import ProjectClasses

    classes = ProjectClasses(modules, checker.index)
    findings: list[Finding] = []
    seen: set[tuple[str, int, int, str, str]] = set()
    for config in configs:
        flavour = config.flavour if target in (None, Target.AUTO) else target
        assert flavour is not None
        for problem, class_name, noqa in _problems(config, classes, checker, flavour, since):
            finding = _finding(problem, class_name, noqa, flavour, resolver)
            if finding is not None and finding.sort_key() not in seen:
                seen.add(finding.sort_key())
                findings.append(finding)
    findings.sort(key=Finding.sort_key)
    return findings


def _problems(config: SavedConfig, classes: Any, checker: Checker, flavour: Target,
              since: str | None) -> Iterator[tuple[Problem, str | None, dict[int, frozenset[str] | None]]]:
    from cfglint.context import ClassContext
    from cfglint.engine import bound_for_target
    from cfglint.saved.compare import Problem, missing_required, unknown_keys
    from cfglint.saved.resolve import Found, Missing
    from cfglint.saved.walker import walk

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
        for problem in (*unknown_keys(ctx, saved.config, where), *missing_required(ctx, saved.config, where)):
            yield problem, cls.name, _noqa_of(problem.path, ctx)
        if since:
            for problem in _changed_defaults(ctx, saved.config, where, since):
                yield problem, cls.name, _noqa_of(problem.path, ctx)


def _noqa_of(path: str, ctx: Any) -> dict[int, frozenset[str] | None]:
    for ancestor in ctx.chain:
        if ancestor.module.path == path:
            return dict(ancestor.module.noqa)
    return {}


def _finding(problem: Problem, class_name: str | None, noqa: dict[int, frozenset[str] | None], flavour: Target,
             resolver: SettingsResolver) -> Finding | None:
    from cfglint.finding_filter import is_reported
    from cfglint.rules import ALL_RULES

    rule = ALL_RULES[problem.code]
    if not is_reported(rule.code, problem.path, problem.span.line,
                       selection=resolver.for_path(problem.path).selection, noqa=noqa):
        return None
    severity = rule.severity.get(flavour) or rule.severity[Target.KERAS3]
    return Finding(problem.path, problem.span, rule.code, rule.name, problem.message, severity, class_name,
                   subject=problem.subject)


# ------------------------------------------------------------------------------ CFG504 (--since)
def _changed_defaults(ctx: Any, config: dict[str, object], where: str, rev: str) -> Iterator[Problem]:
    """CFG504: defaulted arguments the config lacks whose default is not what it was at `rev`."""
    from cfglint.saved.compare import Problem, absent_defaults

    absent = list(absent_defaults(ctx, config))
    if not absent:
        return
    old = old_defaults(absent[0][1], ctx.cls.name, rev)
    if old is None:
        return
    for param, path in absent:
        assert param.default is not None
        now = _source_text(path, param.default.span)
        then = old.get(param.name)
        if then is None or now is None or _same_expression(then, now):
            continue
        yield Problem("CFG504", path, param.span,
                      f"{where}: `{param.name}` is not in the saved config and its default changed since {rev} "
                      f"(`{then}` then, `{now}` now): the reload builds it with the new default",
                      subject=param.name)


def old_defaults(path: str, class_name: str, rev: str) -> dict[str, str] | None:
    """The class's `__init__` defaults at git revision `rev` (None: not available)."""
    try:
        from cfglint.saved import history  # type: ignore[attr-defined,unused-ignore]
    except ImportError:  # the git reader is not installed with this build: nothing to compare with
        return None
    result: dict[str, str] | None = history.old_defaults(path, class_name, rev)
    return result


def _source_text(path: str, span: Span) -> str | None:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    if span.end_line > len(lines):
        return None
    if span.line == span.end_line:
        return lines[span.line - 1][span.column - 1:span.end_column - 1]
    parts = [lines[span.line - 1][span.column - 1:], *lines[span.line:span.end_line - 1],
             lines[span.end_line - 1][:span.end_column - 1]]
    return "\n".join(parts)


def _same_expression(first: str, second: str) -> bool:
    """Whether two default expressions are the same code (`0.10` and `0.1`, `'a'` and `"a"` are)."""
    try:
        return ast.dump(ast.parse(first.strip(), mode="eval")) == ast.dump(ast.parse(second.strip(), mode="eval"))
    except (SyntaxError, ValueError, RecursionError):
        return first.strip() == second.strip()


# ------------------------------------------------------------------------------ --dynamic
def _run_dynamic(archives: list[SavedConfig], checker: Checker, args: argparse.Namespace,
                 modules: list[ModuleFacts] | None = None) -> int:
    """Load each archive with real Keras in worker processes (`cfglint.saved.dynamic`), importing the
    project's modules that define classes first; say on standard error which loads fail and why.
    Returns how many failed."""
    try:
        from cfglint.saved import dynamic  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        raise SavedUsageError("`cfglint saved --dynamic` is not available in this build of cfglint") from None
    from cfglint.project import module_name
    from cfglint.verify.pool import WorkerStartError

    imports = sorted({(facts.module, str(module_name(Path(facts.path))[1]), facts.path)
                      for facts in modules or [] if facts.classes})
    by_target: dict[str, list[str]] = {}
    for config in archives:  # one pool per Keras: each worker imports TensorFlow once
        target = args.target if args.target not in (None, Target.AUTO.value) else config.flavour.value
        by_target.setdefault(target, []).append(config.path)
    failed = 0
    for target, paths in by_target.items():
        try:
            outcomes = dynamic.load_archives(paths, imports, target=target, timeout=120.0, jobs=1)
        except WorkerStartError as exc:
            raise SavedUsageError(str(exc)) from None
        for outcome in outcomes:
            if not outcome.ok:
                failed += 1
                print(f"cfglint: dynamic: {outcome.archive}: {dynamic.outcome_message(outcome)}", file=sys.stderr)
    return failed
