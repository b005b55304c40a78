"""The `cfglint` command line (ruff's conventions: exit 0 clean, 1 findings, 2 usage or errors)."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path
from typing import Iterator, Sequence, TextIO

from cfglint import __version__
from cfglint.display import printable
from cfglint.reporters import FORMATS

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
TARGETS = ("keras3", "tf-keras", "auto")


class UsageError(Exception):
    """A problem with the command line or configuration: message to stderr, exit code 2."""


def _codes(text: str) -> list[str]:
    return [c.strip().upper() for c in text.split(",") if c.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cfglint",
        description="Find Keras custom-layer config bugs (get_config/from_config) before they ship.",
    )
    parser.add_argument("--version", action="version", version=f"cfglint {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = commands.add_parser(
        "check", help="statically check Keras Layer/Model subclasses (never imports or runs them)",
        description="Statically check the Keras Layer and Model subclasses in PATHS. Reads source only: "
                    "nothing is imported or executed, and TensorFlow is not needed.")
    check.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (default: .)")
    check.add_argument("--select", type=_codes, help="rule codes or prefixes to enable (e.g. CFG1,CFG201)")
    check.add_argument("--extend-select", type=_codes, help="codes or prefixes to enable in addition")
    check.add_argument("--ignore", type=_codes, help="rule codes or prefixes to disable")
    check.add_argument("--target", choices=TARGETS,
                       help="Keras flavour to check for (default: auto: per file, from its imports of tf_keras "
                            "or keras, then the project's dependencies (TensorFlow < 2.16, keras<3, tf-keras, "
                            "TF_USE_LEGACY_KERAS: tf-keras; keras>=3, TensorFlow >= 2.16: Keras 3), else Keras 3)")
    check.add_argument("--output-format", choices=FORMATS, default=None, help="default: text")
    check.add_argument("--statistics", action="store_true", help="print counts per rule instead of findings")
    check.add_argument("--fix", action="store_true",
                       help="apply the safe fixes to the files (atomically, only when the result parses and, "
                            "checked again, shows no new finding), then report what remains")
    check.add_argument("--unsafe-fixes", action="store_true",
                       help="with --fix or --diff: include the fixes that may change what working code does")
    check.add_argument("--diff", action="store_true",
                       help="print a unified diff of what --fix would change and write nothing "
                            "(exit 1 when there is a diff)")
    check.add_argument("--stdin-filename", metavar="NAME", help="read source from standard input as NAME")
    check.add_argument("--config", type=Path, metavar="FILE", help="pyproject.toml to read [tool.cfglint] from")
    check.add_argument("--force-exclude", action="store_true",
                       help="apply `exclude` to files named on the command line too (pre-commit)")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    check.add_argument("--no-cache", action="store_true", help="neither read nor write the result cache")
    check.add_argument("--cache-dir", type=Path, metavar="DIR",
                       help="where to keep the cache (default: .cfglint_cache at the project root)")
    check.add_argument("--jobs", type=int, default=None, metavar="N",
                       help="processes that parse files (default: the number of cores)")
    check.add_argument("-v", "--verbose", action="store_true",
                       help="also say on standard error which Keras each project's tf.keras code is checked for, "
                            "and why")
    check.add_argument("--show-settings", action="store_true",
                       help="print the settings each file is checked with (configuration, rule selection, "
                            "target and the evidence that decided it), then exit")

    clean = commands.add_parser("clean", help="remove the result cache",
                                description="Remove the result cache of the project in PATH (default: .).")
    clean.add_argument("path", nargs="?", default=".", help="a file or directory of the project")
    clean.add_argument("--cache-dir", type=Path, metavar="DIR", help="the cache directory to remove")

    verify = commands.add_parser(
        "verify", help="import each Keras class and round-trip it through Keras (RUNS your code)",
        description="Dynamic check: imports the modules that define Keras Layer/Model subclasses and, for "
                    "each class, runs get_config -> JSON -> from_config, copies the weights, compares outputs "
                    "and saves/loads a .keras model. This EXECUTES the code being checked (in separate worker "
                    "processes). Needs TensorFlow and Keras: pip install 'cfglint[verify]'. Exit codes: 0 "
                    "clean, 1 an error or warning finding (info findings such as CFG900 alone exit 0), 2 "
                    "a missing path or a configuration mistake.")
    verify.add_argument("paths", nargs="*", metavar="PATH_OR_MODULE",
                        help="files, directories or dotted module names (default: .)")
    verify.add_argument("--device", choices=("auto", "cpu", "gpu"), default="auto",
                        help="where to run the layers (default: a GPU when the backend sees one)")
    verify.add_argument("--timeout", type=float, default=120.0, metavar="SECONDS",
                        help="limit per class, import included (default: 120)")
    verify.add_argument("--jobs", type=int, default=None, metavar="N", help="worker processes (default: cores)")
    verify.add_argument("--target", choices=TARGETS, help="Keras flavour (default: auto, per file)")
    verify.add_argument("--output-format", choices=FORMATS, default=None, help="default: text")
    verify.add_argument("--select", type=_codes, help="report only these codes or prefixes")
    verify.add_argument("--ignore", type=_codes, help="do not report these codes or prefixes")
    verify.add_argument("--config", type=Path, metavar="FILE", help="pyproject.toml to read [tool.cfglint] from")
    verify.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    verify.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="progress lines on standard error (default: every few seconds when it is not a "
                             "terminal, as in CI; in place on a terminal)")

    server = commands.add_parser("server", help="language server (LSP) on stdio, for editors",
                                 description="Run the cfglint language server on standard input/output. "
                                             "Needs pygls: pip install 'cfglint[lsp]'.")
    server.set_defaults(command="server")

    rule = commands.add_parser("rule", help="explain a rule: what, why, example, fix",
                               description="Explain a rule: what it catches, why it breaks, examples, fix.")
    rule.add_argument("code", nargs="?", help="rule code, e.g. CFG101")
    rule.add_argument("--all", action="store_true", help="explain every rule")
    rule.add_argument("--output-format", choices=("text", "concise", "json", "markdown"), default="text",
                      help="concise: one line per rule; json: for tooling; markdown: the rules page (docs/rules.md)")
    return parser


def _say(kind: str, text: str, *, file: TextIO | None = None) -> None:
    """One `cfglint: <kind>: ...` line on standard error, with names from the file system made safe."""
    print(f"cfglint: {kind}: {printable(text)}", file=file or sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            return run_check(args)
        if args.command == "rule":
            return run_rule(args)
        if args.command == "verify":
            return run_verify(args)
        if args.command == "clean":
            return run_clean(args)
        if args.command == "server":
            return run_server()
        parser.print_help()
        return EXIT_ERROR
    except UsageError as exc:
        _say("error", f"{exc}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence: never a traceback
        print(f"cfglint: internal error: {type(exc).__name__}: {exc}\n"
              "Please report this with the file that triggered it.", file=sys.stderr)
        if os.environ.get("CFGLINT_DEBUG"):
            raise
        return EXIT_ERROR


def run_check(args: argparse.Namespace) -> int:
    from cfglint.cache import CACHE_DIR_NAME, ResultCache
    from cfglint.config import ConfigError
    from cfglint.discovery import is_excluded
    from cfglint.engine import Checker, Report
    from cfglint.reporters import write_report
    from cfglint.rules import ALL_RULES, DEFAULT_CODES
    from cfglint.settings_resolver import CliOverrides, SettingsResolver
    from cfglint.source import SourceError, decode_source

    # file names that are not valid UTF-8 arrive as surrogate escapes: print them, never crash
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")
    fmt = args.output_format or os.environ.get("CFGLINT_OUTPUT_FORMAT") or "text"
    if fmt not in FORMATS:
        raise UsageError(f"unknown output format {fmt!r} (from CFGLINT_OUTPUT_FORMAT); "
                         f"valid: {', '.join(FORMATS)}")
    if args.statistics and fmt not in ("text", "concise", "full", "json"):
        raise UsageError("--statistics works with --output-format text or json (and concise, full)")
    if args.stdin_filename is not None and args.paths:
        raise UsageError("give either --stdin-filename or paths, not both")
    try:
        base = _settings_for(args, ALL_RULES)
        cli = CliOverrides(args.select, args.ignore, args.extend_select, args.target)
        resolver = SettingsResolver(base, all_codes=ALL_RULES, default_codes=DEFAULT_CODES, cli=cli,
                                    fixed=args.config is not None)
        if args.jobs is not None and args.jobs < 1:
            raise UsageError("--jobs must be at least 1")
        no_cache = os.environ.get("CFGLINT_NO_CACHE", "").lower() not in ("", "0", "false", "no")
        cache = ResultCache(None if args.no_cache or no_cache
                            else args.cache_dir or base.root / CACHE_DIR_NAME)
        jobs = args.jobs or os.cpu_count() or 1
        checker = Checker(base, resolver=resolver, cache=cache, jobs=jobs)
        if args.show_settings:
            from cfglint.show_settings import show_settings

            return show_settings(checker, args.paths or ["."], stdin_filename=args.stdin_filename,
                                 force_exclude=args.force_exclude)
        fixing = args.fix or args.diff
        fixed_note = None

        check_text = None
        if fixing:
            from cfglint.fixes.safety import Recheck

            # a fixed text is checked afresh (the project index must not hold its earlier facts); the
            # same object validates the safe fixes and lends them the project's facts
            check_text = Recheck(lambda: Checker(base, resolver=resolver))

        if args.stdin_filename is not None:
            report = Report(files_checked=1)
            data = sys.stdin.buffer.read()
            text = None
            stdin_settings = resolver.for_path(args.stdin_filename).settings
            if not (args.force_exclude and is_excluded(args.stdin_filename, stdin_settings)):
                try:
                    text = decode_source(data, args.stdin_filename)
                    report.findings = checker.check_source(text, args.stdin_filename)
                except SourceError as exc:
                    report.findings = list(checker._parse_error(args.stdin_filename, exc.reason, exc.line, exc.column))
            if fixing:
                return _fix_stdin(args, fmt, data, text, report, check_text)
        else:
            report = checker.check_paths(args.paths or ["."], force_exclude=args.force_exclude)
            if fixing:
                from cfglint.fixes.files import fix_files, unified_diff

                run = fix_files(report.findings, check_text, unsafe=args.unsafe_fixes, write=not args.diff,
                                roots=args.paths or ["."])
                for result in run.problems:
                    _say("warning", f"{result.path}: {result.problem}", file=sys.stderr)
                for result in run.files:
                    _print_held_back(result.held_back)
                if args.diff:
                    changed = [result for result in run.files if result.changed]
                    for result in changed:
                        sys.stdout.write(unified_diff(result.path, result.original, result.fixed))
                    count = len(run.reported)  # the findings a report marks `[*]`
                    print(f"Would fix {_count(count, 'finding')}." if count else "No fixes available.",
                          file=sys.stderr)
                    for error in report.errors:
                        _say("error", f"{error}", file=sys.stderr)
                    return EXIT_ERROR if report.errors else EXIT_FINDINGS if changed else EXIT_CLEAN
                if run.applied:  # report what remains, as a fresh run sees the rewritten files
                    warnings, errors = report.warnings, report.errors
                    report = Checker(base, resolver=resolver, cache=cache, jobs=jobs).check_paths(
                        args.paths or ["."], force_exclude=args.force_exclude)
                    report.warnings, report.errors = warnings, errors
                fixed_note = f"Fixed {_count(run.applied, 'finding')} ({len(report.findings)} remaining)."
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    if args.verbose and args.stdin_filename is None:
        from cfglint.show_settings import project_targets

        for line in project_targets(checker, checker.discovered):
            print(f"cfglint: {line}", file=sys.stderr)
    for warning in report.warnings:
        _say("warning", f"{warning}", file=sys.stderr)
    for error in report.errors:
        _say("error", f"{error}", file=sys.stderr)
    if report.findings or not report.errors:
        stdin_text = text if args.stdin_filename is not None else None
        findings, fixable = _fix_details(fmt, report.findings, checker, base, resolver, args, stdin_text)
        write_report(fmt, findings, sys.stdout, rules=ALL_RULES, files_checked=report.files_checked,
                     version=__version__, statistics=args.statistics, fixable=fixable,
                     sources={args.stdin_filename: stdin_text} if stdin_text is not None else None)
    if fixed_note is not None:
        print(fixed_note, file=sys.stdout if fmt in ("text", "concise", "full") else sys.stderr)
    if report.errors:
        return EXIT_ERROR
    if report.findings and not args.exit_zero:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _print_held_back(held_back: list) -> None:
    """One line per safe fix that validation left out: it would have created a finding."""
    for finding, reason in held_back:
        _say("note", f"{finding.path}:{finding.line}:{finding.column}: {finding.code} not fixed: {reason}",
              file=sys.stderr)


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def _fix_details(fmt: str, findings: list, checker, base, resolver,  # type: ignore[no-untyped-def]
                 args: argparse.Namespace, stdin_text: str | None):
    """The findings with their fixes (json, sarif, json-lines, full) and the ones `--fix` would fix
    (`[*]`), both from planning the fixes. Only files with a finding whose rule has a fix are planned:
    a run without one never loads the rewriting machinery."""
    from cfglint.fixes import FIXES, fixable_codes

    carries_fix = fmt in ("json", "json-lines", "sarif", "full") and not args.statistics
    marks = fmt in ("text", "concise", "full") and not args.fix and not args.statistics
    wanted = set(FIXES) if carries_fix else fixable_codes(args.unsafe_fixes) if marks else set()
    if not any(f.code in wanted for f in findings):
        return findings, frozenset()
    from cfglint.engine import Checker
    from cfglint.fixes import plan
    from cfglint.fixes.safety import Recheck

    stdin = None
    if args.stdin_filename is not None:
        if stdin_text is None:
            return findings, frozenset()
        stdin = (args.stdin_filename, stdin_text)
    findings, fixable = plan.plan_report(findings, Recheck(lambda: Checker(base, resolver=resolver)),
                                         unsafe=args.unsafe_fixes, marks=marks, carry=carries_fix, stdin=stdin,
                                         cache=checker.cache, inputs=None if args.fix else checker.inputs)
    return findings, fixable




def _fix_stdin(args: argparse.Namespace, fmt: str, data: bytes, text: str | None,  # type: ignore[no-untyped-def]
               report, check_text) -> int:
    """`--fix`/`--diff` with `--stdin-filename`: the fixed source goes to standard output (always the
    whole text, unchanged when there is nothing to fix, as editors replace the buffer with it), what
    remains to standard error; `--diff` prints only the diff."""
    from cfglint.fixes.files import encode_like, fix_until_stable, unified_diff
    from cfglint.reporters import write_report
    from cfglint.rules import ALL_RULES

    name = args.stdin_filename
    stable = None
    if text is not None:
        stable = fix_until_stable(text, name, report.findings, check_text, unsafe=args.unsafe_fixes)
        _print_held_back(stable.held_back)
    if args.diff:
        diff = unified_diff(name, text, stable.source) if stable is not None and stable.source != text else ""
        sys.stdout.write(diff)
        count = len(stable.reported) if stable is not None and diff else 0
        print(f"Would fix {_count(count, 'finding')}." if count else "No fixes available.", file=sys.stderr)
        return EXIT_FINDINGS if diff else EXIT_CLEAN
    output = data
    if stable is not None and stable.source != text:
        try:
            output = encode_like(data, stable.source)
        except (UnicodeEncodeError, LookupError):
            stable = None
    remaining = stable.remaining if stable is not None else report.findings
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is not None:
        sys.stdout.flush()
        buffer.write(output)
        buffer.flush()
    else:
        sys.stdout.write(output.decode("utf-8", "surrogateescape"))
    write_report(fmt, remaining, sys.stderr, rules=ALL_RULES, files_checked=1, version=__version__,
                 statistics=args.statistics, fixable=frozenset())
    applied = stable.applied if stable is not None else 0
    print(f"Fixed {_count(applied, 'finding')} ({len(remaining)} remaining).", file=sys.stderr)
    if remaining and not args.exit_zero:
        return EXIT_FINDINGS
    return EXIT_CLEAN


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (a CI job cancelled, `kill`) unwinds like Ctrl-C, so the workers are ended on the way out
    instead of being orphaned."""
    import signal

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread (an embedding program): nothing to install
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_verify(args: argparse.Namespace) -> int:
    """Exit 0 when nothing failed, 1 when a class has an error or warning finding, 2 for usage errors
    (a missing path, a bad configuration or example). Info findings (CFG900: a class `verify` could
    not construct without an example) are reported but do not fail the run: nothing was found wrong."""
    import importlib.util

    from cfglint.config import ConfigError
    from cfglint.engine import Checker
    from cfglint.finding import Severity
    from cfglint.reporters import write_report
    from cfglint.rules import ALL_RULES, DEFAULT_CODES
    from cfglint.settings_resolver import CliOverrides, SettingsResolver

    target_module = "tf_keras" if args.target == "tf-keras" else "keras"
    missing = [m for m in ("tensorflow", target_module) if importlib.util.find_spec(m) is None]
    if missing:
        raise UsageError(f"`cfglint verify` needs {' and '.join(missing)}: pip install 'cfglint[verify]'"
                         + (" tf-keras" if "tf_keras" in missing else ""))
    fmt = args.output_format or os.environ.get("CFGLINT_OUTPUT_FORMAT") or "text"
    if fmt not in FORMATS:
        raise UsageError(f"unknown output format {fmt!r}; valid: {', '.join(FORMATS)}")
    if args.timeout <= 0 or (args.jobs is not None and args.jobs < 1):
        raise UsageError("--timeout and --jobs must be positive")
    from cfglint.verify.pool import WorkerStartError
    from cfglint.verify.runner import default_jobs, make_progress, run_verify as verify

    try:
        base = _settings_for(args, ALL_RULES, stdin=False)  # validates [tool.cfglint.verify] too
        resolver = SettingsResolver(base, all_codes=ALL_RULES, default_codes=DEFAULT_CODES,
                                    cli=CliOverrides(args.select, args.ignore, None, args.target),
                                    fixed=args.config is not None)
        checker = Checker(base, resolver=resolver)
        with _sigterm_as_interrupt():
            report = verify(checker, args.paths or ["."], device=args.device, timeout=args.timeout,
                            jobs=args.jobs or default_jobs(), examples=dict(base.verify.get("examples", {})),
                            progress=make_progress(getattr(args, "progress", None)))
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    except WorkerStartError as exc:
        raise UsageError(str(exc)) from None
    findings = [f for f in report.findings
                if resolver.for_path(f.path).selection.enabled_for(f.code, Path(f.path))]
    for error in report.errors:
        _say("error", f"{error}", file=sys.stderr)
    if findings or not report.errors:  # a missing path is no "All checks passed"
        write_report(fmt, findings, sys.stdout, rules=ALL_RULES, files_checked=report.files, version=__version__)
    print(report.summary(), file=sys.stdout if fmt in ("text", "concise", "full") else sys.stderr)
    if report.errors:
        return EXIT_ERROR
    if any(f.severity is not Severity.INFO for f in findings) and not args.exit_zero:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def run_server() -> int:
    import importlib.util

    if importlib.util.find_spec("pygls") is None:
        raise UsageError("`cfglint server` needs pygls: pip install 'cfglint[lsp]'")
    from cfglint.server import main as serve

    serve()
    return EXIT_CLEAN


def run_clean(args: argparse.Namespace) -> int:
    from cfglint.cache import CACHE_DIR_NAME, clean
    from cfglint.config import ConfigError, load_settings
    from cfglint.rules import ALL_RULES

    try:
        start = Path(args.path)
        settings = load_settings((start if os.path.isdir(start) else start.parent).absolute(), known_codes=ALL_RULES)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    directory = args.cache_dir or settings.root / CACHE_DIR_NAME
    if clean(directory):
        print(f"Removed {directory}")
    else:
        print(f"No cfglint cache at {directory}")
    return EXIT_CLEAN


def _settings_for(args: argparse.Namespace, known_codes, stdin: bool = True):  # type: ignore[no-untyped-def]
    """The base configuration: `--config`, else the one nearest the first path, else the one
    nearest the working directory. Each file then follows the configuration nearest to it."""
    from cfglint.config import load_settings

    named = args.stdin_filename if stdin else None
    first = Path(named or (args.paths[0] if args.paths else "."))
    start = first if os.path.isdir(first) else first.parent
    settings = load_settings(start.absolute(), known_codes=known_codes, config_file=args.config)
    if settings.config_path is None and args.config is None:
        settings = load_settings(Path.cwd(), known_codes=known_codes)
    return settings


def run_rule(args: argparse.Namespace) -> int:
    from cfglint.ruledoc import render_json, render_text
    from cfglint.rules import ALL_RULES

    if args.all == bool(args.code):
        raise UsageError("give a rule code (e.g. `cfglint rule CFG101`) or --all")
    if args.all:
        rules = list(ALL_RULES.values())
    else:
        code = args.code.upper()
        if code not in ALL_RULES:
            raise UsageError(f"unknown rule {args.code!r}; valid codes: {', '.join(ALL_RULES)}")
        rules = [ALL_RULES[code]]
    if args.output_format == "json":
        sys.stdout.write(render_json(rules))
    elif args.output_format == "concise":
        from cfglint.ruledoc import render_concise

        sys.stdout.write(render_concise(rules))
    elif args.output_format == "markdown":
        from cfglint.ruledoc import render_page

        sys.stdout.write(render_page(rules))
    else:
        sys.stdout.write("\n\n".join(render_text(rule) for rule in rules))
    return EXIT_CLEAN
