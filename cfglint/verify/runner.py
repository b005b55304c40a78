"""`cfglint verify`: find the Keras classes statically, check each one in a worker process.

The parent never imports user code or Keras: the static pass (the same one `check` uses) says which
files define Keras classes and where, so only those modules are imported, in workers, and every
finding points at the class's own line. Results use the same `Finding` type, the same filter
(`# noqa`, rule selection, per-file-ignores) and the same reporters as `check`.
"""

from __future__ import annotations

import ast
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from cfglint.config import ConfigError
from cfglint.engine import Checker
from cfglint.facts import ModuleFacts
from cfglint.finding import Finding, Target
from cfglint.finding_filter import NoqaMap, reported
from cfglint.project import module_candidates, module_name
from cfglint.rules import ALL_RULES
from cfglint.verify.pool import WorkerInfo, WorkerPool, WorkerStartError
from cfglint.verify.protocol import Job, Result
from cfglint.verify.shard import Shard, select_shard


@dataclass(frozen=True)
class ClassTarget:
    path: str  # as displayed
    module: str
    root: str
    file: str
    name: str
    line: int
    column: int
    end_column: int
    target: Target
    noqa: NoqaMap = field(default_factory=dict, compare=False, hash=False)  # the file's noqa directives (line -> codes)


@dataclass
class VerifyReport:
    findings: list[Finding] = field(default_factory=list)
    verified: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    workers: dict[str, WorkerInfo] = field(default_factory=dict)  # target → backend/device
    seconds: float = 0.0
    files: int = 0  # files that define the classes checked
    unparsed: int = 0  # files that could not be read or parsed (CFG908 each)
    shard: Shard | None = None  # `--shard K/N`: this run verifies only part of the classes found
    found: int = 0  # the classes found under the paths, every shard's together

    @property
    def classes(self) -> int:
        return len(self.verified) + len(self.failed) + len(self.skipped)

    def summary(self) -> str:
        counts = f"{len(self.verified)} verified, {len(self.failed)} failed, {len(self.skipped)} skipped"
        if self.shard is None:
            parts = [f"{self.classes} class{'es' if self.classes != 1 else ''}: {counts}"]
        else:
            share = f"shard {self.shard}: {self.classes} of {self.found} class{'es' if self.found != 1 else ''}"
            parts = [f"{share}: {counts}" if self.classes else f"{share}, nothing to verify on this shard"]
        if self.unparsed:
            parts.append(f"{self.unparsed} file{'s' if self.unparsed != 1 else ''} not parsed")
        for target, info in sorted(self.workers.items()):
            parts.append(f"{target} on {info.device.upper()} ({info.backend} backend, Keras {info.keras})")
        text = "cfglint verify: " + "; ".join(parts) + f" in {self.seconds:.1f} s"
        for name, why in self.skipped:
            text += f"\n  skipped {name}: {why}"
        return text


def resolve_arguments(args: list[str], roots: list[Path]) -> tuple[list[str], list[str]]:
    """Paths as given, and dotted module names turned into their files; plus errors."""
    paths, errors = [], []
    for arg in args:
        if os.path.exists(arg):
            paths.append(arg)
            continue
        found = next((c for c in module_candidates(arg, roots) if os.path.isfile(c)), None)
        if found is None:
            errors.append(f"{arg}: no such file, directory or module")
            continue
        inside = str(found.resolve()).startswith(str(Path.cwd().resolve()) + os.sep)
        paths.append(os.path.relpath(found) if inside else str(found))
    return paths, errors


def find_classes(checker: Checker, paths: list[str]) -> tuple[list[ClassTarget], list[str], list[Finding]]:
    """The classes to check, errors with the paths, and a CFG908 for each file that could not be read
    or parsed: it may define classes, and none of them was verified."""
    checker.parse_all = True  # a file that does not parse is a module verify cannot import: report it
    report, modules = checker.parse_paths(paths)
    errors = list(report.errors)
    targets: list[ClassTarget] = []
    for facts in modules:
        targets.extend(_classes_of(checker, facts))
    crashed = ALL_RULES["CFG908"]
    unverified = [Finding(f.path, f.span, crashed.code, crashed.name, f"not verified: the file {f.message}",
                          crashed.severity.get(Target.KERAS3) or next(iter(crashed.severity.values())))
                  for f in report.findings if f.code == "CFG001"]
    return sorted(targets, key=lambda t: (t.path, t.line)), errors, unverified


def _classes_of(checker: Checker, facts: ModuleFacts) -> list[ClassTarget]:
    found = []
    dotted, root = module_name(Path(facts.path))
    for cls, _ in checker.index.keras_classes(facts):
        if cls.qualname != f"{facts.module}.{cls.name}" or "." in cls.name:
            continue
        found.append(ClassTarget(facts.path, dotted, str(root), os.path.abspath(facts.path), cls.name,
                                 cls.span.line, cls.span.column, cls.span.end_column, checker.target_of(facts),
                                 facts.noqa))
    return found


def run_verify(checker: Checker, args: list[str], *, device: str, timeout: float, jobs: int,
               examples: dict[str, Any], progress: Progress | None = None,
               shard: Shard | None = None) -> VerifyReport:
    """Verify the classes under `args`, or the `shard` of them. Raises ExampleError before any worker
    starts when an example names a class that does not exist (it would silently never be used); the
    examples are checked against every class found, whichever shard runs. The findings are those the
    settings of each file let through (`finding_filter`), as for `check`. A file that does not parse
    belongs to no class: shard 1 reports it, so the shards' findings together are the unsharded run's."""
    started = time.monotonic()
    report = VerifyReport(shard=shard)
    roots = search_roots(checker)
    paths, errors = resolve_arguments(args, roots)
    report.errors.extend(errors)
    targets, errors, unverified = find_classes(checker, paths) if paths else ([], [], [])
    if not report.errors:  # a missing path first: it may be why an example's class is not found
        check_example_keys(examples, targets, roots, checker.settings.config_path)
    report.errors.extend(errors)
    report.found = len(targets)
    if shard is not None:
        targets = select_shard(targets, shard)
        unverified = unverified if shard.index == 1 else []
    report.findings.extend(unverified)
    report.unparsed = len(unverified)
    report.files = len({t.path for t in targets})
    by_target: dict[Target, list[ClassTarget]] = {}
    for target in targets:
        by_target.setdefault(target.target, []).append(target)
    if progress is not None:
        progress.start(len(targets), report.files)
    try:
        _run_groups(report, by_target, device=device, timeout=timeout, jobs=jobs, examples=examples,
                    progress=progress)
    finally:
        if progress is not None:
            progress.stop()
    report.findings = reported(report.findings, checker.resolver, {t.path: t.noqa for t in targets})
    report.findings.sort(key=Finding.sort_key)
    report.seconds = time.monotonic() - started
    return report


def _run_groups(report: VerifyReport, by_target: dict[Target, list[ClassTarget]], *, device: str, timeout: float,
                jobs: int, examples: dict[str, Any], progress: Progress | None) -> None:
    """One worker pool per Keras flavour, recording each class's result as it arrives."""
    done = 0
    for flavour, group in sorted(by_target.items(), key=lambda item: item[0].value):
        job_list = [Job(i, t.module, t.root, t.file, t.name, examples.get(f"{t.module}:{t.name}"))
                    for i, t in enumerate(group)]

        def on_result(job: Job, result: Result, group: list[ClassTarget] = group) -> None:
            nonlocal done
            done += 1
            _record(report, group[job.id], result)
            if progress is not None:
                progress.update(done)

        pool = WorkerPool(target=flavour.value, device=device, jobs=jobs, timeout=timeout)
        try:
            pool.run(job_list, on_result)
        except WorkerStartError as exc:
            if flavour is Target.KERAS3 or device == "gpu":
                raise
            for t in group:  # e.g. tf-keras not installed: the Keras 3 classes are still verified
                report.skipped.append((f"{t.module}:{t.name}", str(exc)))
            continue
        report.workers[flavour.value] = pool.info


def _record(report: VerifyReport, target: ClassTarget, result: Result) -> None:
    label = f"{target.module}:{target.name}"
    if result.status == "verified":
        report.verified.append(label)
    elif result.status == "skipped":
        report.skipped.append((label, result.reason))
    else:
        report.failed.append(label)
    from cfglint.finding import Span

    span = Span(target.line, target.column, target.line, target.end_column)
    flavour = target.target
    for problem in result.problems:
        rule = ALL_RULES[problem.code]
        severity = rule.severity.get(flavour) or next(iter(rule.severity.values()))
        report.findings.append(Finding(target.path, span, problem.code, rule.name,
                                       f"{target.name}: {problem.stage}: {problem.message}", severity, target.name))


def default_jobs() -> int:
    return os.cpu_count() or 1


# ------------------------------------------------------------------------------------------ examples
class ExampleError(ConfigError):
    """An example in `[tool.cfglint.verify.examples]` names no class: it would never be used."""


def search_roots(checker: Checker) -> list[Path]:
    """Where dotted module names (arguments, example keys) are looked for."""
    return [Path.cwd(), checker.settings.root, checker.settings.root / "src"]


def check_example_keys(examples: Mapping[str, Any], targets: list[ClassTarget], roots: list[Path],
                       config: Path | None) -> None:
    """Raise ExampleError for the first example whose `module:Class` names no class.

    An example for a class this run does not check (another directory) is fine as long as its module
    defines the class; a misspelt module or class would otherwise make the example silently unused."""
    labels = {f"{t.module}:{t.name}" for t in targets}
    roots = [*roots, *sorted({Path(t.root) for t in targets})]  # the import roots of the classes found
    by_file = {os.path.realpath(t.file): t.module for t in targets}
    for key in examples:
        if key in labels:
            continue
        problem = _example_problem(key, roots, by_file, labels)
        if problem is not None:
            where = f"{config}: " if config is not None else ""
            raise ExampleError(f'{where}[tool.cfglint.verify.examples."{key}"]: {problem}')


def _example_problem(key: str, roots: list[Path], by_file: dict[str, str], labels: set[str]) -> str | None:
    """Why `key` names no class, or None when it does (or when that cannot be known)."""
    module, _, qualname = key.partition(":")
    found = next((c for c in module_candidates(module, roots) if os.path.isfile(c)), None)
    if found is None:
        return f"no module `{module}` found{_suggest(qualname, labels)}"
    checked_as = by_file.get(os.path.realpath(found))
    if checked_as is not None and checked_as != module:
        return f"that file is imported as `{checked_as}`: name the example `{checked_as}:{qualname}`"
    defined = _defines_class(found, qualname)
    if defined is False:
        return f"`{module}` defines no class `{qualname}`{_suggest(qualname, labels)}"
    return None


def _defines_class(path: Path, qualname: str) -> bool | None:
    """Whether the module file defines the (possibly nested) class: False only when nothing in it binds
    the name (no class, assignment, import or `import *`, also under `if`/`try`); None when unsure."""
    try:
        body: list[ast.stmt] = ast.parse(path.read_bytes()).body
    except (OSError, SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    for part in qualname.split("."):
        found = _binding(body, part)
        if not isinstance(found, ast.ClassDef):
            return found
        body = found.body
    return True


_BLOCKS: tuple[type[ast.stmt], ...] = (ast.If, ast.Try, ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While,
                                      *([ast.TryStar] if hasattr(ast, "TryStar") else []))


def _binding(body: list[ast.stmt], name: str) -> ast.ClassDef | bool | None:
    """The class statement binding `name` in a module or class body; False if nothing binds it; None
    if something other than a class statement may (an assignment, an import, a function)."""
    unsure = False
    for node in body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return node
        if isinstance(node, _BLOCKS):
            inner = [*getattr(node, "body", []), *getattr(node, "orelse", []), *getattr(node, "finalbody", []),
                     *(s for handler in getattr(node, "handlers", []) for s in handler.body)]
            found = _binding(inner, name)
            if isinstance(found, ast.ClassDef):
                return found
            unsure = unsure or found is None
        elif _may_bind(node, name):
            unsure = True
    return None if unsure else False


def _may_bind(node: ast.stmt, name: str) -> bool:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return node.name == name
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return any(alias.name == "*" or (alias.asname or alias.name.split(".")[0]) == name for alias in node.names)
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return any(isinstance(n, ast.Name) and n.id == name for t in targets for n in ast.walk(t))
    return False


def _suggest(qualname: str, labels: set[str]) -> str:
    """` (did you mean ...?)` from the classes this run found."""
    import difflib

    same_name = sorted(label for label in labels if label.rpartition(":")[2] == qualname)
    close = same_name or difflib.get_close_matches(qualname, sorted(labels), n=1)
    return f" (did you mean `{close[0]}`?)" if close else ""


# ------------------------------------------------------------------------------------------ progress
PROGRESS_INTERVAL = 5.0  # seconds between progress lines in a log (CI): well inside 10 s
TERMINAL_DELAY = 3.0  # a terminal shows progress only for runs that last


class Progress:
    """How far a run is, on standard error (standard output may hold JSON or SARIF).

    In a log (standard error not a terminal, or `--progress`): a line when the run starts, then one
    every `interval` seconds whether or not a class finished meanwhile, so a CI job that loads
    TensorFlow for minutes is visibly alive. On a terminal: one line rewritten in place, after a few
    seconds. Lines are written from a timer thread and from result callbacks, under one lock.
    """

    def __init__(self, stream: TextIO, *, terminal: bool, interval: float = PROGRESS_INTERVAL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.terminal = terminal
        self.interval = 1.0 if terminal else interval
        self.clock = clock
        self.total = self.done = 0
        self.started = clock()
        self._drawn = False
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, total: int, files: int) -> None:
        self.total, self.done, self.started = total, 0, self.clock()
        if total == 0:
            return
        if not self.terminal:
            self._write(f"cfglint: progress: checking {total} class{'es' if total != 1 else ''} "
                        f"in {files} file{'s' if files != 1 else ''}\n")
        self._thread = threading.Thread(target=self._tick, name="cfglint-progress", daemon=True)
        self._thread.start()

    def update(self, done: int) -> None:
        with self._lock:
            self.done = done
        if self.terminal:
            self._show()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._drawn:
            self._show()
            self._write("\n")

    def line(self) -> str:
        elapsed = self.clock() - self.started
        return f"cfglint: progress: {self.done}/{self.total} classes checked, {elapsed:.0f} s elapsed"

    def _tick(self) -> None:
        while not self._stopped.wait(self.interval):
            if self.terminal:
                self._show()
            else:
                self._write(self.line() + "\n")

    def _show(self) -> None:
        """The in-place terminal line, once the run has lasted a few seconds."""
        if self.clock() - self.started >= TERMINAL_DELAY:
            self._drawn = True
            self._write("\r" + self.line())

    def _write(self, text: str) -> None:
        with self._lock:
            try:
                self.stream.write(text)
                self.stream.flush()
            except (OSError, ValueError):  # standard error closed: progress is not worth a crash
                pass


def make_progress(wanted: bool | None, stream: TextIO | None = None) -> Progress | None:
    """`--progress` (True): lines; `--no-progress` (False): none; default: by whether it is a terminal."""
    stream = stream or sys.stderr
    if wanted is False:
        return None
    try:
        terminal = wanted is None and stream.isatty()
    except (AttributeError, ValueError):
        terminal = False
    return Progress(stream, terminal=terminal)
