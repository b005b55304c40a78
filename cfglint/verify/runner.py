"""`cfglint verify`: find the Keras classes statically, check each one in a worker process.

The parent never imports user code or Keras: the static pass (the same one `check` uses) says which
files define Keras classes and where, so only those modules are imported, in workers, and every
finding points at the class's own line. Results use the same `Finding` type and reporters as `check`.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from cfglint.engine import Checker
from cfglint.facts import ModuleFacts
from cfglint.finding import Finding, Target
from cfglint.project import module_candidates, module_name
from cfglint.rules import ALL_RULES
from cfglint.verify.pool import WorkerInfo, WorkerPool, WorkerStartError
from cfglint.verify.protocol import Job, Result


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

    @property
    def classes(self) -> int:
        return len(self.verified) + len(self.failed) + len(self.skipped)

    def summary(self) -> str:
        parts = [f"{self.classes} class{'es' if self.classes != 1 else ''}: {len(self.verified)} verified, "
                 f"{len(self.failed)} failed, {len(self.skipped)} skipped"]
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
                                 cls.span.line, cls.span.column, cls.span.end_column, checker.target_of(facts)))
    return found


def run_verify(checker: Checker, args: list[str], *, device: str, timeout: float, jobs: int,
               examples: dict[str, Any], progress: Callable[[int, int], None] | None = None) -> VerifyReport:
    started = time.monotonic()
    report = VerifyReport()
    roots = [Path.cwd(), checker.settings.root, checker.settings.root / "src"]
    paths, errors = resolve_arguments(args, roots)
    report.errors.extend(errors)
    targets, errors, unverified = find_classes(checker, paths) if paths else ([], [], [])
    report.errors.extend(errors)
    report.findings.extend(unverified)
    report.unparsed = len(unverified)
    report.files = len({t.path for t in targets})
    by_target: dict[Target, list[ClassTarget]] = {}
    for target in targets:
        by_target.setdefault(target.target, []).append(target)
    done = 0
    for flavour, group in sorted(by_target.items(), key=lambda item: item[0].value):
        job_list = [Job(i, t.module, t.root, t.file, t.name, examples.get(f"{t.module}:{t.name}"))
                    for i, t in enumerate(group)]

        def on_result(job: Job, result: Result, group: list[ClassTarget] = group) -> None:
            nonlocal done
            done += 1
            _record(report, group[job.id], result)
            if progress is not None:
                progress(done, len(targets))

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
    report.findings.sort(key=Finding.sort_key)
    report.seconds = time.monotonic() - started
    return report


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


def stderr_progress() -> Callable[[int, int], None] | None:
    """A progress line on standard error after a few seconds, only when it is a terminal."""
    if not sys.stderr.isatty():
        return None
    start = time.monotonic()

    def show(done: int, total: int) -> None:
        if time.monotonic() - start > 3:
            end = "\n" if done == total else ""
            sys.stderr.write(f"\rcfglint verify: {done}/{total} classes checked{end}")
            sys.stderr.flush()

    return show
