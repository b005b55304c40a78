"""`cfglint saved PATH...`: the command line (options, output, exit codes); the work is in `check`.

Imported when the CLI builds its parser, so it imports nothing heavy at the top.

Exit codes as `cfglint check`: 0 clean, 1 error or warning findings, 2 a path that does not exist or a
configuration mistake. An unreadable archive is finding CFG500, as a file that does not parse is
CFG001 for `check`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cfglint.finding import Finding, Severity, Span, Target

if TYPE_CHECKING:
    from cfglint.engine import Checker
    from cfglint.facts import ModuleFacts
    from cfglint.saved.reader import SavedConfig

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
                       help="also load each archive with Keras in a worker process (RUNS your code; needs the "
                            "`verify` extra): CFG505 for each load that fails, with Keras's error")
    saved.add_argument("--timeout", type=float, default=120.0, metavar="SECONDS",
                       help="with --dynamic: limit per archive, the project's imports included (default: 120)")
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
    from cfglint.saved.check import check_configs, unreadable_findings
    from cfglint.saved.reader import read_paths
    from cfglint.settings_resolver import CliOverrides, resolve_settings

    fmt = args.output_format or os.environ.get("CFGLINT_OUTPUT_FORMAT") or "text"
    if fmt not in FORMATS:
        raise SavedUsageError(f"unknown output format {fmt!r}; valid: {', '.join(FORMATS)}")
    if args.timeout <= 0:
        raise SavedUsageError("--timeout must be positive")
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
    if args.dynamic:
        findings = sorted([*findings, *_run_dynamic(reading.configs, checker, args, modules)], key=Finding.sort_key)
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
    failing = any(f.severity is not Severity.INFO for f in findings)
    return EXIT_FINDINGS if failing and not args.exit_zero else EXIT_CLEAN


# ------------------------------------------------------------------------------ --dynamic
def _run_dynamic(archives: list[SavedConfig], checker: Checker, args: argparse.Namespace,
                 modules: list[ModuleFacts] | None = None) -> list[Finding]:
    """Load each archive with real Keras in worker processes (`cfglint.saved.dynamic`), importing the
    project's modules that define classes first: a CFG505 finding, at the saved file, for each load
    that fails, with what Keras said."""
    from cfglint.finding_filter import is_reported
    from cfglint.project import module_name
    from cfglint.rules import ALL_RULES
    from cfglint.saved import dynamic
    from cfglint.verify.pool import WorkerStartError

    rule = ALL_RULES["CFG505"]
    imports = sorted({(facts.module, str(module_name(Path(facts.path))[1]), facts.path)
                      for facts in modules or [] if facts.classes})
    by_target: dict[Target, list[str]] = {}
    for config in archives:  # one pool per Keras: each worker imports TensorFlow once
        target = Target(args.target) if args.target not in (None, Target.AUTO.value) else config.flavour
        by_target.setdefault(target, []).append(config.path)
    findings = []
    for target, paths in by_target.items():
        try:
            outcomes = dynamic.load_archives(paths, imports, target=target.value, timeout=args.timeout, jobs=1)
        except WorkerStartError as exc:
            raise SavedUsageError(str(exc)) from None
        for outcome in outcomes:
            selection = checker.resolver.for_path(outcome.archive).selection
            if outcome.ok or not is_reported(rule.code, outcome.archive, 1, selection=selection, noqa={}):
                continue
            findings.append(Finding(outcome.archive, Span(1, 1, 1, 2), rule.code, rule.name,
                                    f"{outcome.archive}: {dynamic.outcome_message(outcome)}", rule.severity[target]))
    return findings
