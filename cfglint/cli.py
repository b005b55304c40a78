"""The `cfglint` command line (ruff's conventions: exit 0 clean, 1 findings, 2 usage or errors)."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, TextIO

from cfglint import __version__
from cfglint.display import printable
from cfglint.finding import FLAVOURS, Target
from cfglint.reporters import FORMATS, STATISTICS_FORMATS, TEXT_FORMATS

if TYPE_CHECKING:
    from cfglint.config import Settings
    from cfglint.engine import Checker, Report
    from cfglint.finding import Finding
    from cfglint.fixes.safety import Recheck
    from cfglint.reporters import Identity
    from cfglint.settings_resolver import CliOverrides, SettingsResolver
    from cfglint.verify.shard import Shard

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
TARGETS = (*(flavour.value for flavour in FLAVOURS), Target.AUTO.value)  # `--target` choices, as users write them


class UsageError(Exception):
    """A problem with the command line or configuration: message to stderr, exit code 2."""


def _codes(text: str) -> list[str]:
    return [c.strip().upper() for c in text.split(",") if c.strip()]


def _globs(text: str) -> list[str]:
    return [glob.strip() for glob in text.split(",") if glob.strip()]


def _shard(text: str) -> Shard:
    """`--shard K/N`, checked while the command line is read: before anything looks for TensorFlow."""
    from cfglint.verify.shard import parse_shard

    try:
        return parse_shard(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _per_file_ignore(text: str) -> tuple[str, tuple[str, ...]]:
    """`GLOB:CODES` (ruff's spelling), e.g. `tests/*:CFG404` or `gen/*.py:CFG1,CFG201`."""
    glob, colon, codes = text.rpartition(":")
    if not colon or not glob.strip() or not _codes(codes):
        raise argparse.ArgumentTypeError(f"expected GLOB:CODES (e.g. 'tests/*:CFG404'), not {text!r}")
    return glob.strip(), tuple(_codes(codes))


class _Parser(argparse.ArgumentParser):
    """An argument parser that knows its commands' parsers: an error shows the usage of the command."""

    commands: Mapping[str, argparse.ArgumentParser] = MappingProxyType({})


def build_parser() -> _Parser:
    parser = _Parser(
        prog="cfglint", allow_abbrev=False,
        description="Find Keras custom-layer config bugs (get_config/from_config) before they ship.",
    )
    parser.add_argument("--version", action="version", version=f"cfglint {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = commands.add_parser(
        "check", help="statically check Keras Layer/Model subclasses (never imports or runs them)",
        allow_abbrev=False,
        description="Statically check the Keras Layer and Model subclasses in PATHS. Reads source only: "
                    "nothing is imported or executed, and TensorFlow is not needed.")
    check.add_argument("paths", nargs="*", metavar="PATH",
                       help="files or directories (default: .); `-` reads the source from standard input")
    check.add_argument("--select", type=_codes, help="rule codes or prefixes to enable (e.g. CFG1,CFG201)")
    check.add_argument("--extend-select", type=_codes, help="codes or prefixes to enable in addition")
    check.add_argument("--ignore", type=_codes, help="rule codes or prefixes to disable")
    check.add_argument("--per-file-ignores", type=_per_file_ignore, action="append", metavar="GLOB:CODES",
                       help="ignore codes in the files a glob matches, e.g. 'tests/*:CFG404' (repeatable; "
                            "replaces the configured per-file-ignores)")
    check.add_argument("--exclude", type=_globs, metavar="GLOBS",
                       help="comma-separated globs of files and folders not to check (replaces `exclude`)")
    check.add_argument("--extend-exclude", type=_globs, metavar="GLOBS",
                       help="comma-separated globs to exclude in addition to `exclude`")
    gitignore = check.add_mutually_exclusive_group()
    gitignore.add_argument("--respect-gitignore", dest="respect_gitignore", action="store_true", default=True,
                           help="skip the files .gitignore and .git/info/exclude ignore (default)")
    gitignore.add_argument("--no-respect-gitignore", dest="respect_gitignore", action="store_false",
                           help="check the files Git ignores too")
    check.add_argument("--force-exclude", action="store_true",
                       help="apply `exclude` to files named on the command line too (pre-commit)")
    check.add_argument("--target", choices=TARGETS,
                       help="Keras flavour to check for (default: auto: per file, from its imports of tf_keras "
                            "or keras, then the project's dependencies (TensorFlow < 2.16, keras<3, tf-keras, "
                            "TF_USE_LEGACY_KERAS: tf-keras; keras>=3, TensorFlow >= 2.16: Keras 3), else Keras 3)")
    check.add_argument("--output-format", choices=FORMATS, default=None, help="default: text")
    check.add_argument("-o", "--output-file", type=Path, metavar="FILE",
                       help="write the report to FILE instead of standard output")
    check.add_argument("--statistics", action="store_true", help="print counts per rule instead of findings")
    check.add_argument("--fix", dest="fix", action="store_true", default=None,
                       help="apply the safe fixes to the files (atomically, only when the result parses and, "
                            "checked again, shows no new finding), then report what remains")
    check.add_argument("--no-fix", dest="fix", action="store_false",
                       help="do not fix (the last of --fix and --no-fix wins)")
    check.add_argument("--unsafe-fixes", action="store_true",
                       help="with --fix or --diff: include the fixes that may change what working code does")
    check.add_argument("--fix-only", action="store_true",
                       help="apply the fixes and report only what was fixed, not the remaining findings "
                            "(exit 0 unless --exit-non-zero-on-fix)")
    check.add_argument("--show-fixes", action="store_true",
                       help="with --fix: list the fixed findings per file and rule")
    check.add_argument("--diff", action="store_true",
                       help="print a unified diff of what --fix would change and write nothing "
                            "(exit 1 when there is a diff)")
    exit_choice = check.add_mutually_exclusive_group()
    exit_choice.add_argument("--exit-non-zero-on-fix", action="store_true",
                       help="exit 1 when a fix was applied, even if no finding remains")
    check.add_argument("--add-noqa", action="store_true",
                       help="add `# noqa: CODE` to the line of every current finding (merged with the "
                            "line's noqa directive), then exit 0")
    check.add_argument("--stdin-filename", metavar="NAME",
                       help="read source from standard input as NAME (also the name for the path `-`)")
    check.add_argument("--config", type=Path, metavar="FILE", help="pyproject.toml to read [tool.cfglint] from")
    exit_choice.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    check.add_argument("--no-cache", action="store_true", help="neither read nor write the result cache")
    check.add_argument("--cache-dir", type=Path, metavar="DIR",
                       help="where to keep the cache (default: .cfglint_cache at the project root)")
    check.add_argument("--jobs", type=int, default=None, metavar="N",
                       help="processes that parse files (default: the number of cores)")
    check.add_argument("--watch", action="store_true",
                       help="check again whenever a Python file, pyproject.toml or .gitignore under the paths "
                            "changes, until interrupted (with the `watch` extra, without polling)")
    check.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                       help="colour in the text output (default: auto: at a terminal, unless NO_COLOR is set "
                            "or TERM=dumb; FORCE_COLOR forces it)")
    logging = check.add_mutually_exclusive_group()
    logging.add_argument("-v", "--verbose", action="store_true",
                         help="also say on standard error which Keras each project's tf.keras code is checked "
                              "for, and why")
    logging.add_argument("-q", "--quiet", action="store_true",
                         help="print the findings and nothing else (no summary, notes or warnings)")
    logging.add_argument("-s", "--silent", action="store_true",
                         help="print nothing but errors; the exit code still says whether there are findings")
    check.add_argument("--show-settings", action="store_true",
                       help="print the settings each file is checked with (configuration, rule selection, "
                            "target and the evidence that decided it), then exit")
    check.add_argument("--show-files", action="store_true",
                       help="print the files that would be checked, one per line, then exit")

    clean = commands.add_parser("clean", help="remove the result cache", allow_abbrev=False,
                                description="Remove the result cache of the project in PATH (default: .).")
    clean.add_argument("path", nargs="?", default=".", help="a file or directory of the project")
    clean.add_argument("--cache-dir", type=Path, metavar="DIR", help="the cache directory to remove")

    verify = commands.add_parser(
        "verify", help="import each Keras class and round-trip it through Keras (RUNS your code)",
        allow_abbrev=False,
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
    verify.add_argument("--shard", type=_shard, default=None, metavar="K/N",
                        help="verify only shard K of N, one per CI machine: the classes sorted by module and "
                             "name and dealt round-robin, so shards differ by at most one class and every "
                             "machine computes the same split (default: $CFGLINT_VERIFY_SHARD, else all classes)")

    from cfglint.saved.command import add_parser as add_saved_parser

    add_saved_parser(commands, TARGETS, FORMATS, _codes)

    server = commands.add_parser("server", help="language server (LSP) on stdio, for editors", allow_abbrev=False,
                                 description="Run the cfglint language server on standard input/output. "
                                             "Needs pygls: pip install 'cfglint[lsp]'.")
    server.set_defaults(command="server")

    rule = commands.add_parser("rule", help="explain a rule: what, why, example, fix", allow_abbrev=False,
                               description="Explain a rule: what it catches, why it breaks, examples, fix.")
    parser.commands = commands.choices
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
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # the usage of the command the option was given to, as ruff prints it
        (parser.commands.get(args.command) or parser).error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        if args.command == "check":
            return run_check(args)
        if args.command == "rule":
            return run_rule(args)
        if args.command == "verify":
            return run_verify(args)
        if args.command == "clean":
            return run_clean(args)
        if args.command == "saved":
            return run_saved(args)
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
    except Exception as exc:
        print(f"cfglint: internal error: {type(exc).__name__}: {exc}\n"
              "Please report this with the file that triggered it.", file=sys.stderr)
        if os.environ.get("CFGLINT_DEBUG"):
            raise
        return EXIT_ERROR


def run_check(args: argparse.Namespace) -> int:
    _normalise_check(args)
    if args.watch:
        return _watch(args)
    return _check_once(args)


def _normalise_check(args: argparse.Namespace) -> None:
    """Settle the options that imply or exclude others, as ruff does, before anything is read."""
    if "-" in args.paths:
        if len(args.paths) > 1:
            raise UsageError("`-` (standard input) cannot be combined with other paths")
        args.paths = []
        args.stdin_filename = args.stdin_filename or "-"
    elif args.stdin_filename is not None and args.paths:
        raise UsageError("give either --stdin-filename or paths, not both")
    if args.fix_only and args.fix is not False:
        args.fix = True
    args.fix = bool(args.fix)
    if args.fix_only and not args.fix:
        args.fix_only = False
    if args.add_noqa and (args.fix or args.diff or args.stdin_filename is not None):
        raise UsageError("--add-noqa works on files, without --fix, --diff or standard input")
    if args.watch and args.stdin_filename is not None:
        raise UsageError("--watch needs paths, not standard input")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")


class _Voice:
    """Where each kind of output goes: the report to standard output or `--output-file` (nowhere with
    `--silent`), notes and warnings to standard error unless `--quiet` or `--silent`."""

    def __init__(self, args: argparse.Namespace, out: TextIO) -> None:
        self.silent = args.silent
        self.chatty = not (args.quiet or args.silent)
        self.out = io.StringIO() if args.silent else out

    def note(self, text: str, *, kind: str | None = None, to_out: bool = False) -> None:
        if not self.chatty:
            return
        if kind is not None:
            _say(kind, text, file=sys.stderr)
        else:
            print(text, file=self.out if to_out else sys.stderr)


@contextlib.contextmanager
def _report_stream(args: argparse.Namespace) -> Iterator[TextIO]:
    """Standard output, or the `--output-file` (its folders created, as ruff does)."""
    if args.output_file is None:
        # file names that are not valid UTF-8 arrive as surrogate escapes: print them, never crash
        if hasattr(sys.stdout, "reconfigure"):
            sys.stdout.reconfigure(errors="backslashreplace")
        yield sys.stdout
        return
    try:
        args.output_file.parent.mkdir(parents=True, exist_ok=True)
        stream = open(args.output_file, "w", encoding="utf-8", errors="backslashreplace")  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise UsageError(f"{args.output_file}: cannot write the output file ({exc.strerror or exc})") from None
    with stream:
        yield stream


@contextlib.contextmanager
def _color(choice: str) -> Iterator[None]:
    """`--color`: `always` and `never` win over NO_COLOR/FORCE_COLOR; `auto` leaves them in charge and
    turns colour off for TERM=dumb. The reporters read the environment, so it is set for the run only."""
    wanted: dict[str, str | None] = {}
    if choice == "always":
        wanted = {"FORCE_COLOR": "1", "NO_COLOR": None}
    elif choice == "never" or (os.environ.get("TERM") == "dumb" and not os.environ.get("FORCE_COLOR")):
        wanted = {"FORCE_COLOR": None, "NO_COLOR": "1"}
    saved = {name: os.environ.get(name) for name in wanted}
    try:
        for name, value in wanted.items():
            _set_env(name, value)
        yield
    finally:
        for name, value in saved.items():
            _set_env(name, value)


def _set_env(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def _cli_overrides(args: argparse.Namespace) -> CliOverrides:
    """The settings the command line gives; `verify` has no path options (no exclude, per-file-ignores)."""
    from cfglint.settings_resolver import CliOverrides

    per_file = getattr(args, "per_file_ignores", None)
    exclude = getattr(args, "exclude", None)
    return CliOverrides(args.select, args.ignore, getattr(args, "extend_select", None),
                        None if args.target is None else Target(args.target),
                        exclude=tuple(exclude) if exclude is not None else None,
                        extend_exclude=tuple(getattr(args, "extend_exclude", None) or ()),
                        per_file_ignores=tuple(per_file) if per_file is not None else None)


def _check_once(args: argparse.Namespace) -> int:
    with _report_stream(args) as stream, _color(args.color):
        return _check(args, _Voice(args, stream))


def _check(args: argparse.Namespace, voice: _Voice) -> int:
    from cfglint.cache import CACHE_DIR_NAME, ResultCache
    from cfglint.config import ConfigError
    from cfglint.discovery import is_excluded
    from cfglint.engine import Checker, Report
    from cfglint.source import SourceError, decode_source

    fmt = args.output_format or os.environ.get("CFGLINT_OUTPUT_FORMAT") or "text"
    if fmt not in FORMATS:
        raise UsageError(f"unknown output format {fmt!r} (from CFGLINT_OUTPUT_FORMAT); "
                         f"valid: {', '.join(FORMATS)}")
    if args.statistics and fmt not in STATISTICS_FORMATS:
        raise UsageError("--statistics works with --output-format text or json (and concise, full)")
    paths = args.paths or ["."]
    try:
        resolver = _resolve(args)
        base = resolver.base
        no_cache = os.environ.get("CFGLINT_NO_CACHE", "").lower() not in ("", "0", "false", "no")
        cache = ResultCache(None if args.no_cache or no_cache
                            else args.cache_dir or base.root / CACHE_DIR_NAME)
        jobs = args.jobs or os.cpu_count() or 1

        def new_checker(cache: ResultCache | None = None, jobs: int = 1) -> Checker:
            checker = Checker(base, resolver=resolver, cache=cache, jobs=jobs)
            checker.respect_gitignore = args.respect_gitignore
            return checker

        checker = new_checker(cache=cache, jobs=jobs)
        if args.show_settings:
            from cfglint.show_settings import show_settings

            return show_settings(checker, paths, stdin_filename=args.stdin_filename,
                                 force_exclude=args.force_exclude, out=voice.out)
        if args.show_files:
            return _show_files(args, base, voice)
        fixing = args.fix or args.diff
        fixed_note = None
        applied = 0
        before: list[Finding] = []

        check_text: Recheck | None = None
        if fixing:
            from cfglint.fixes.safety import Recheck

            # a fixed text is checked afresh (the project index must not hold its earlier facts); the
            # same object validates the safe fixes and lends them the project's facts
            check_text = Recheck(lambda: new_checker())

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
            if check_text is not None:  # fixing
                check_text.agree_with(checker)
                return _fix_stdin(args, fmt, data, text, report, check_text, voice)
        else:
            report = checker.check_paths(paths, force_exclude=args.force_exclude)
            if check_text is not None:
                check_text.agree_with(checker)
            inputs = checker.read_inputs(paths) if cache.directory else None
            if inputs is not None and check_text is None and not args.add_noqa and args.output_file is None:
                from cfglint import replay  # this run may be replayed while nothing it read changes

                replay.offer(str(cache.directory), *inputs)
            if args.add_noqa:
                return _add_noqa(report, paths, voice)
            if check_text is not None:  # fixing
                from cfglint.fixes.files import fix_files, unified_diff

                run = fix_files(report.findings, check_text, unsafe=args.unsafe_fixes, write=not args.diff,
                                roots=paths)
                for result in run.problems:
                    voice.note(f"{result.path}: {result.problem}", kind="warning")
                for result in run.files:
                    _print_held_back(result.held_back, voice)
                if args.diff:
                    changed = [result for result in run.files if result.changed]
                    for result in changed:
                        voice.out.write(unified_diff(result.path, result.original, result.fixed))
                    count = len(run.reported)  # the findings a report marks `[*]`
                    voice.note(f"Would fix {_count(count, 'finding')}." if count else "No fixes available.")
                    for error in report.errors:
                        _say("error", f"{error}", file=sys.stderr)
                    return EXIT_ERROR if report.errors else EXIT_FINDINGS if changed else EXIT_CLEAN
                applied = run.applied
                before = report.findings
                if run.applied:  # report what remains, as a fresh run sees the rewritten files
                    warnings, errors = report.warnings, report.errors
                    report = new_checker(cache=cache, jobs=jobs).check_paths(
                        paths, force_exclude=args.force_exclude)
                    report.warnings, report.errors = warnings, errors
                fixed_note = f"Fixed {_count(run.applied, 'finding')} ({len(report.findings)} remaining)."
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    if args.verbose and args.stdin_filename is None:
        from cfglint.show_settings import project_targets

        for line in project_targets(checker, checker.discovered):
            print(f"cfglint: {line}", file=sys.stderr)
    for warning in report.warnings:
        voice.note(f"{warning}", kind="warning")
    for error in report.errors:
        _say("error", f"{error}", file=sys.stderr)
    text_out = fmt in TEXT_FORMATS
    if args.show_fixes and args.fix:
        _show_fixes(before, report.findings, voice.out if text_out else sys.stderr, voice)
    if args.fix_only:
        if applied:  # as ruff: nothing at all when there was nothing to fix
            voice.note(f"Fixed {_count(applied, 'finding')}.", to_out=text_out)
    elif report.findings or not report.errors:
        stdin_text = text if args.stdin_filename is not None else None
        findings, fixable = _fix_details(fmt, report.findings, checker, base, resolver, args, stdin_text)
        _write_report(args, fmt, findings, voice, files_checked=report.files_checked, fixable=fixable,
                      sources={args.stdin_filename: stdin_text} if stdin_text is not None else None)
        if fixed_note is not None:
            voice.note(fixed_note, to_out=text_out)
    if report.errors:
        return EXIT_ERROR
    if applied and args.exit_non_zero_on_fix:
        return EXIT_FINDINGS
    if report.findings and not args.exit_zero and not args.fix_only:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _write_report(args: argparse.Namespace, fmt: str, findings: list[Finding], voice: _Voice, *,
                  files_checked: int, fixable: frozenset[Identity], stream: TextIO | None = None,
                  sources: dict[str, str] | None = None) -> None:
    """The report in `fmt`; with `--quiet`, the findings alone (the text format's summary left out)."""
    from cfglint.reporters import write_report
    from cfglint.rules import ALL_RULES

    target = stream or voice.out
    quiet_text = args.quiet and fmt in TEXT_FORMATS
    buffer = io.StringIO()
    write_report(fmt, findings, buffer if quiet_text else target, rules=ALL_RULES, files_checked=files_checked,
                 version=__version__, statistics=args.statistics, fixable=fixable, sources=sources)
    if quiet_text:
        target.write(_without_summary(buffer.getvalue()))


def _without_summary(text: str) -> str:
    """The text report without its closing summary (the last paragraph), as `ruff -q` prints it."""
    body, _, _ = text.rstrip("\n").rpartition("\n\n")
    return body + "\n" if body else ""


def _show_files(args: argparse.Namespace, base: Settings, voice: _Voice) -> int:
    """`--show-files`: the files a check would read, absolute and sorted, one per line (as ruff)."""
    from cfglint.discovery import discover

    found = discover(args.paths or ["."], base, force_exclude=args.force_exclude,
                     respect_gitignore=args.respect_gitignore)
    for path in sorted(os.path.abspath(name) for name in found.files):
        voice.out.write(printable(path) + "\n")
    for warning in found.warnings:
        voice.note(warning, kind="warning")
    for path, message in found.errors:
        _say("error", f"{path}: {message}", file=sys.stderr)
    return EXIT_ERROR if found.errors else EXIT_CLEAN


def _add_noqa(report: Report, paths: list[str], voice: _Voice) -> int:
    """`--add-noqa`: write the directives, say how many (ruff's words), exit 0 unless an error."""
    from cfglint.add_noqa import add_noqa

    run = add_noqa(report.findings, roots=paths)
    for warning in report.warnings:
        voice.note(f"{warning}", kind="warning")
    for problem in run.problems:
        voice.note(problem, kind="warning")
    for error in report.errors:
        _say("error", f"{error}", file=sys.stderr)
    if run.added:
        voice.note(f"Added {_count(run.added, 'noqa directive')}.")
    return EXIT_ERROR if report.errors else EXIT_CLEAN


def _show_fixes(before: list[Finding], after: list[Finding], stream: TextIO, voice: _Voice) -> None:
    """`--show-fixes`: the findings the fixes removed, per file and rule, in ruff's layout."""
    from cfglint.rules import ALL_RULES

    if voice.silent:
        return
    counts: dict[str, dict[str, int]] = {}
    for finding in before:
        counts.setdefault(finding.path, {}).setdefault(finding.code, 0)
        counts[finding.path][finding.code] += 1
    for finding in after:
        if finding.code in counts.get(finding.path, {}):
            counts[finding.path][finding.code] -= 1
    lines = []
    total = 0
    for path in sorted(counts):
        fixed = {code: number for code, number in sorted(counts[path].items()) if number > 0}
        if not fixed:
            continue
        lines.append(f"- {printable(path)}:")
        for code, number in fixed.items():
            total += number
            lines.append(f"    {number} × {code} ({ALL_RULES[code].name if code in ALL_RULES else code})")
    if total:
        stream.write(f"Fixed {_count(total, 'finding')}:\n" + "\n".join(lines) + "\n\n")
    else:
        stream.write("No findings fixed.\n\n")


def _watch(args: argparse.Namespace) -> int:
    """`--watch`: check, then check again whenever a watched file changes, until interrupted."""
    paths = args.paths or ["."]
    print("Starting cfglint in watch mode...", file=sys.stderr, flush=True)
    with _sigterm_as_interrupt():
        while True:
            before = _watch_snapshot(args, paths)  # an edit made while checking counts as a change
            try:
                _check_once(args)
            except UsageError as exc:
                _say("error", f"{exc}", file=sys.stderr)
            sys.stdout.flush()
            print("Watching for file changes.", file=sys.stderr, flush=True)
            _wait_for_change(args, paths, before)
            print("File change detected...", file=sys.stderr, flush=True)


WATCH_INTERVAL = 0.5
WATCHED_NAMES = ("pyproject.toml", ".gitignore")


def _wait_for_change(args: argparse.Namespace, paths: list[str], before: frozenset[tuple[str, int, int]]) -> None:
    """Return once a Python file, a pyproject.toml or a .gitignore under `paths` changed since the
    snapshot `before`: through the operating system's notifications when `watchfiles` is installed (the
    `watch` extra), else by polling."""
    try:
        import watchfiles
    except ImportError:
        _wait_by_polling(args, paths, seen=before)
        return
    folders = sorted({given if os.path.isdir(given) else os.path.dirname(given) or "." for given in paths})
    watched = {os.path.abspath(given) for given in paths if not os.path.isdir(given)}
    default = watchfiles.DefaultFilter()  # skips .git, .venv, __pycache__ and editors' temporary files

    def relevant(change: watchfiles.Change, path: str) -> bool:
        name = os.path.basename(path)
        if not default(change, path):
            return False
        if watched and os.path.abspath(path) not in watched and name not in WATCHED_NAMES:
            return False
        return name.endswith((".py", ".pyi")) or name in WATCHED_NAMES

    first = True
    for changes in watchfiles.watch(*folders, watch_filter=relevant, raise_interrupt=False, debounce=200,
                                    yield_on_timeout=True, rust_timeout=500):
        # the first wake-up comes once the watcher runs: a change made before it started is found by
        # comparing with the snapshot, every later one is notified
        if changes or (first and _watch_snapshot(args, paths) != before):
            return
        first = False
    raise KeyboardInterrupt  # the watcher ended: interrupted


def _wait_by_polling(args: argparse.Namespace, paths: list[str], interval: float = WATCH_INTERVAL,
                     seen: frozenset[tuple[str, int, int]] | None = None) -> None:
    import time

    seen = _watch_snapshot(args, paths) if seen is None else seen
    while _watch_snapshot(args, paths) == seen:
        time.sleep(interval)


def _watch_snapshot(args: argparse.Namespace, paths: list[str]) -> frozenset[tuple[str, int, int]]:
    """What a change is noticed by: the Python files a check would read, and the pyproject.toml and
    .gitignore files of the folders named, each with its modification time and size."""
    from cfglint.config import ConfigError
    from cfglint.discovery import discover

    try:
        settings = _resolve(args).base
    except ConfigError:
        settings = None
    names = [str(path) for path in discover(paths, settings, respect_gitignore=args.respect_gitignore).files] \
        if settings is not None else []
    for given in paths:
        folder = given if os.path.isdir(given) else os.path.dirname(given) or "."
        names.extend(os.path.join(folder, name) for name in WATCHED_NAMES)
    if settings is not None:
        names.append(os.path.join(settings.root, "pyproject.toml"))
    state = set()
    for name in names:
        try:
            status = os.stat(name)
        except OSError:
            continue
        state.add((name, status.st_mtime_ns, status.st_size))
    return frozenset(state)


def _print_held_back(held_back: list[tuple[Finding, str]], voice: _Voice | None = None) -> None:
    """One line per safe fix that validation left out: it would have created a finding."""
    if voice is not None and not voice.chatty:
        return
    for finding, reason in held_back:
        _say("note", f"{finding.path}:{finding.line}:{finding.column}: {finding.code} not fixed: {reason}",
              file=sys.stderr)


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def _fix_details(fmt: str, findings: list[Finding], checker: Checker, base: Settings, resolver: SettingsResolver,
                 args: argparse.Namespace, stdin_text: str | None) -> tuple[list[Finding], frozenset[Identity]]:
    """The findings with their fixes (json, sarif, json-lines, full) and the ones `--fix` would fix
    (`[*]`), both from planning the fixes. Only files with a finding whose rule has a fix are planned:
    a run without one never loads the rewriting machinery."""
    from cfglint.rules import fixable_codes

    carries_fix = fmt in ("json", "json-lines", "sarif", "full") and not args.statistics
    marks = fmt in TEXT_FORMATS and not args.fix and not args.statistics
    wanted = set(fixable_codes(unsafe=True)) if carries_fix else fixable_codes(args.unsafe_fixes) if marks else set()
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
    recheck = Recheck(lambda: Checker(base, resolver=resolver)).agree_with(checker)
    findings, fixable = plan.plan_report(findings, recheck,
                                         unsafe=args.unsafe_fixes, marks=marks, carry=carries_fix, stdin=stdin,
                                         cache=checker.cache, inputs=None if args.fix else checker.inputs,
                                         jobs=checker.jobs, settings_key=checker.settings_key,
                                         read_stats=None if args.fix else checker.read_stats)
    return findings, fixable




def _fix_stdin(args: argparse.Namespace, fmt: str, data: bytes, text: str | None, report: Report,
               check_text: Recheck, voice: _Voice) -> int:
    """`--fix`/`--diff` with `--stdin-filename`: the fixed source goes to standard output (always the
    whole text, unchanged when there is nothing to fix, as editors replace the buffer with it), what
    remains to standard error; `--diff` prints only the diff."""
    from cfglint.fixes.files import encode_like, fix_until_stable, unified_diff

    name = args.stdin_filename
    stable = None
    if text is not None:
        stable = fix_until_stable(text, name, report.findings, check_text, unsafe=args.unsafe_fixes)
        _print_held_back(stable.held_back, voice)
    if args.diff:
        diff = unified_diff(name, text, stable.source) if stable is not None and text is not None \
            and stable.source != text else ""
        voice.out.write(diff)
        count = len(stable.reported) if stable is not None and diff else 0
        voice.note(f"Would fix {_count(count, 'finding')}." if count else "No fixes available.")
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
    applied = stable.applied if stable is not None else 0
    if args.show_fixes:
        _show_fixes(report.findings, remaining, sys.stderr, voice)
    if args.fix_only:
        if applied:
            voice.note(f"Fixed {_count(applied, 'finding')}.")
    elif not voice.silent:
        _write_report(args, fmt, remaining, voice, files_checked=1, fixable=frozenset(), stream=sys.stderr)
        voice.note(f"Fixed {_count(applied, 'finding')} ({len(remaining)} remaining).")
    if applied and args.exit_non_zero_on_fix:
        return EXIT_FINDINGS
    if remaining and not args.exit_zero and not args.fix_only:
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
    from cfglint.rules import ALL_RULES

    shard = args.shard or _shard_from_environment()  # a usage error even where TensorFlow is missing
    target_module = "tf_keras" if args.target == Target.TF_KERAS.value else "keras"
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
    from cfglint.verify.runner import default_jobs, make_progress
    from cfglint.verify.runner import run_verify as verify

    try:
        resolver = _resolve(args)  # validates [tool.cfglint.verify] too
        base = resolver.base
        checker = Checker(base, resolver=resolver)
        with _sigterm_as_interrupt():
            report = verify(checker, args.paths or ["."], device=args.device, timeout=args.timeout,
                            jobs=args.jobs or default_jobs(), examples=dict(base.verify.get("examples", {})),
                            progress=make_progress(getattr(args, "progress", None)), shard=shard)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    except WorkerStartError as exc:
        raise UsageError(str(exc)) from None
    findings = report.findings  # `noqa`, the rule selection and per-file-ignores already applied
    for error in report.errors:
        _say("error", f"{error}", file=sys.stderr)
    if findings or not report.errors:  # a missing path is no "All checks passed"
        write_report(fmt, findings, sys.stdout, rules=ALL_RULES, files_checked=report.files, version=__version__)
    print(report.summary(), file=sys.stdout if fmt in TEXT_FORMATS else sys.stderr)
    if report.errors:
        return EXIT_ERROR
    if any(f.severity is not Severity.INFO for f in findings) and not args.exit_zero:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _shard_from_environment() -> Shard | None:
    """`CFGLINT_VERIFY_SHARD=K/N`, for a CI matrix that sets the environment; unset or empty: no shard."""
    from cfglint.verify.shard import SHARD_ENV, parse_shard

    text = os.environ.get(SHARD_ENV, "").strip()
    if not text:
        return None
    try:
        return parse_shard(text)
    except ValueError as exc:
        raise UsageError(f"{SHARD_ENV}: {exc}") from None


def run_saved(args: argparse.Namespace) -> int:
    """`cfglint saved`: the saved model configs against today's code (cfglint/saved/command.py)."""
    from cfglint.saved.command import SavedUsageError
    from cfglint.saved.command import run_saved as run

    try:
        return run(args)
    except SavedUsageError as exc:
        raise UsageError(str(exc)) from None


def run_server() -> int:
    import importlib.util

    if importlib.util.find_spec("pygls") is None:
        raise UsageError("`cfglint server` needs pygls: pip install 'cfglint[lsp]'")
    from cfglint.server import main as serve

    serve()
    return EXIT_CLEAN


def run_clean(args: argparse.Namespace) -> int:
    from cfglint.cache import CACHE_DIR_NAME, clean
    from cfglint.config import ConfigError
    from cfglint.settings_resolver import resolve_settings

    try:
        start = Path(args.path)
        settings = resolve_settings(start if os.path.isdir(start) else start.parent).base
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    directory = args.cache_dir or settings.root / CACHE_DIR_NAME
    if clean(directory):
        print(f"Removed {directory}")
    else:
        print(f"No cfglint cache at {directory}")
    return EXIT_CLEAN


def _resolve(args: argparse.Namespace) -> SettingsResolver:
    """The settings of `check` or `verify`: the base configuration is `--config`, else the one nearest
    the first path (or `--stdin-filename`), else the one nearest the working directory; each file then
    follows the configuration nearest to it, with the command line on top."""
    from cfglint.settings_resolver import resolve_settings

    first = Path(getattr(args, "stdin_filename", None) or (args.paths[0] if args.paths else "."))
    start = first if os.path.isdir(first) else first.parent
    return resolve_settings(start, config_file=args.config, cli=_cli_overrides(args), fallback=Path.cwd())


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
