"""The static check: discover → prefilter → parse once → facts → project index → rules → findings.

Files are parsed with stdlib `ast` exactly once per run (cached by resolved path), whether they were
named on the command line or pulled in because a checked class derives from a class they define.
"""

from __future__ import annotations

import ast
import gc
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable

from cfglint import __version__
from cfglint.cache import FileEntry, ResultCache, Snapshot, StatKey, digest, run_key, stat_key
from cfglint.config import RuleSelection, Settings
from cfglint.context import ClassContext, ModuleContext
from cfglint.discovery import Discovery, discover
from cfglint.extract import extract
from cfglint.facts import ModuleFacts
from cfglint.finding import Finding, Span, Target
from cfglint.noqa import is_suppressed, parse_noqa
from cfglint.prefilter import reexported_names, signature, worth_parsing
from cfglint.project import ProjectIndex, module_name
from cfglint.rules import ALL_RULES, DEFAULT_CODES, PARSE_ERROR
from cfglint.rules.base import Hit, Rule
from cfglint.settings_resolver import CliOverrides, FileSettings, SettingsResolver
from cfglint.source import SourceError, decode_source, read_error, read_source


@dataclass
class Report:
    """The outcome of a run: findings, how many files were checked, and problems with the paths."""

    findings: list[Finding] = field(default_factory=list)
    files_checked: int = 0
    errors: list[str] = field(default_factory=list)  # fatal for the exit code (missing paths)
    warnings: list[str] = field(default_factory=list)


class ParseFailure(Exception):
    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


def parse_module(source: str, path: str, module: str) -> ModuleFacts:
    """Parse and extract one module, turning every way that can fail into a `ParseFailure`.

    The cyclic garbage collector is paused meanwhile: a syntax tree is millions of young objects in a
    large file, none of them cyclic garbage, and collecting over them doubled the time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _parse_module(source, path, module)
    finally:
        if enabled:
            gc.enable()


def _parse_module(source: str, path: str, module: str) -> ModuleFacts:
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as exc:
        line = exc.lineno or 1
        column = exc.offset or 1
        raise ParseFailure(f"syntax error: {exc.msg}", line, max(column, 1)) from None
    except (ValueError, MemoryError, RecursionError) as exc:
        raise ParseFailure(f"cannot be parsed: {_reason(exc)}") from None
    try:
        facts = extract(tree, source, path, module)
    except RecursionError:
        raise ParseFailure("cannot be analysed: the code is nested too deeply") from None
    facts.noqa = parse_noqa(source)
    return facts


def _reason(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "the code is nested too deeply"
    if isinstance(exc, MemoryError):
        return "out of memory while parsing"
    return str(exc)


class Checker:
    """Runs the rules over files or a single source text.

    `cache` (a `ResultCache`) lets unchanged files skip reading and parsing, and a run over an unchanged
    tree skip everything; `jobs` > 1 parses in that many processes. Output is identical either way."""

    def __init__(self, settings: Settings, selection: RuleSelection | None = None, target: str | None = None,
                 *, resolver: SettingsResolver | None = None, cache: ResultCache | None = None,
                 jobs: int = 1) -> None:
        """Either one `settings`/`selection` for every file, or a `resolver` giving each file the
        configuration nearest to it (the command line)."""
        if resolver is None:
            resolver = SettingsResolver(settings, all_codes=ALL_RULES, default_codes=DEFAULT_CODES,
                                        cli=CliOverrides(target=target), fixed=True)
            if selection is not None:
                resolver.default = FileSettings(settings, selection, target or settings.target)
        self.settings = settings
        self.resolver = resolver
        self.cache = cache or ResultCache(None)
        self.jobs = max(1, jobs)
        self._pool = None  # worker processes, started on first use and kept for the run
        self._parsed: dict[str, ModuleFacts | None] = {}
        self._consulted: dict[str, StatKey] = {}  # files read only to resolve base classes
        roots = [settings.root, settings.root / "src"]
        self.index = ProjectIndex(self._load_for_index, roots)

    # ------------------------------------------------------------------ entry points
    def check_paths(self, paths: list[str], *, force_exclude: bool = False) -> Report:
        found = discover(paths, self.settings, force_exclude=force_exclude)
        stats = _stats(found.files)
        key = run_key(__version__, sorted(paths), force_exclude, self._settings_fingerprint(found.files),
                      _modules(found.files))
        snapshot = self.cache.snapshot(key)
        if snapshot is not None and _unchanged(snapshot, stats):
            report = Report(list(snapshot.findings), snapshot.files_checked)  # nothing changed: no source read
        else:
            report, checked = self._parse(found, paths, stats)
            for facts in checked:
                report.findings.extend(self._check_module(facts))
            report.findings.sort(key=Finding.sort_key)
            self.close()
            if self.cache.enabled:
                absent = {path: None for path in self.index.absent_files}
                files = tuple(stats) + tuple(sorted({**absent, **self._consulted}.items()))
                self.cache.save(Snapshot(key, files, report.findings, report.files_checked))
        report.errors.extend(f"{path}: {message}" for path, message in found.errors)
        report.warnings.extend(found.warnings)
        return report

    def parse_paths(self, paths: list[str], *, force_exclude: bool = False) -> tuple[Report, list[ModuleFacts]]:
        """Discover and parse the files that may hold Keras classes (also used by `verify`)."""
        found = discover(paths, self.settings, force_exclude=force_exclude)
        report, checked = self._parse(found, paths, _stats(found.files))
        self.close()
        report.errors.extend(f"{path}: {message}" for path, message in found.errors)
        report.warnings.extend(found.warnings)
        return report, checked

    def target_of(self, facts: ModuleFacts) -> Target:
        """The Keras flavour a module is checked for (`auto`: tf-keras when it imports tf_keras)."""
        config = self.resolver.for_path(facts.path)
        if config.target == "auto":
            return Target.TF_KERAS if facts.imports_tf_keras else Target.KERAS3
        return Target(config.target)

    def check_source(self, source: str, path: str) -> list[Finding]:
        """Check one text (standard input, an editor buffer) as if it were the file at `path`."""
        dotted, root = module_name(Path(path))
        try:
            facts = parse_module(source, path, dotted)
        except ParseFailure as failure:
            return list(self._parse_error(path, failure.message, failure.line, failure.column))
        self._parsed[_key(Path(path))] = facts
        self.index.add(facts, root)
        return sorted(self._check_module(facts), key=Finding.sort_key)

    # ------------------------------------------------------------------ parsing
    def _settings_fingerprint(self, files: list[Path]) -> tuple[object, ...]:
        """What the findings depend on besides the files: every configuration in play, the options."""
        configs = {self.resolver.for_path(path).settings.config_path for path in {p.parent / "_" for p in files}}
        configs.add(self.settings.config_path)
        fingerprint = []
        for config in sorted(configs, key=str):
            try:
                fingerprint.append((str(config), stat_key(os.stat(config)) if config else None))
            except OSError:
                fingerprint.append((str(config), None))
        cli = self.resolver.cli
        return (tuple(fingerprint), tuple(cli.select or ()), tuple(cli.ignore or ()),
                tuple(cli.extend_select or ()), cli.target)

    def _entry(self, path: Path, stat: StatKey | None, report: Report,
               fresh: tuple[FileEntry | None, str | None] | None = None) -> FileEntry | None:
        """The cached entry of a file when its stat (or, failing that, its bytes) are unchanged; else a
        fresh one (read, decoded, its prefilter signature taken). None when it cannot be read.
        `fresh` is a `read_entry` result already computed in a worker process."""
        key = _key(path)
        dotted = module_name(path)[0]
        if stat is not None:
            entry = self.cache.by_stat(key, stat)
            if entry is not None and entry.module == dotted:
                return entry
        new, error = fresh if fresh is not None else read_entry((str(path), dotted, stat))
        if new is None:
            report.findings.extend(self._parse_error(str(path), error or "cannot be read", 1, 1))
            return None
        cached = self.cache.by_digest(key, new.stat, new.digest)
        if cached is not None and cached.module == dotted:
            return cached
        self.cache.put(key, new)
        return new

    def _pool_map(self, function, items: list, *, minimum: int, chunksize: int = 0):  # type: ignore[no-untyped-def]
        """`map` in `jobs` processes when there is enough work to pay for them, else in this one."""
        if self.jobs < 2 or len(items) < max(minimum, 2 * self.jobs):
            return [function(item) for item in items]
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("fork" if "fork" in methods else None)
            self._pool = ProcessPoolExecutor(max_workers=self.jobs, mp_context=context)
        return list(self._pool.map(function, items, chunksize=chunksize or max(1, len(items) // (self.jobs * 8))))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def _parse(self, found: Discovery, paths: list[str], stats: list[tuple[str, StatKey | None]]
               ) -> tuple[Report, list[ModuleFacts]]:
        """Parse the files that may hold Keras classes, feeding discovered class names back to the
        prefilter until no new name appears (`class Block(MyBase)` in a file that never says keras)."""
        report = Report(files_checked=len(found.files))
        explicit = {os.path.normpath(p) for p in paths if os.path.isfile(p)}
        entries: dict[Path, FileEntry] = {}
        missing = [(str(path), module_name(path)[0], stat) for path, (key, stat) in zip(found.files, stats)
                   if stat is None or self.cache.by_stat(key, stat) is None]
        fresh = dict(zip((m[0] for m in missing), self._pool_map(read_entry, missing, minimum=64)))
        for path, (_, stat) in zip(found.files, stats):
            entry = self._entry(path, stat, report, fresh.get(str(path)))
            if entry is None:
                continue
            if entry.signature is None and entry.error is not None:  # not decodable: CFG001 now
                report.findings.extend(self._parse_error(str(path), *entry.error))
                continue
            entries[path] = entry
        checked: list[ModuleFacts] = []
        pending = dict(entries)
        known: set[str] = set()
        project = self._project_modules(entries)
        walked = {entry.module for entry in entries.values()}
        first = True
        while pending:
            batch = [p for p, entry in pending.items() if (first and os.path.normpath(p) in explicit)
                     or worth_parsing(entry.signature, known, project, walked)]  # type: ignore[arg-type]
            first = False
            if not batch:
                break
            self._parse_batch([(p, pending.pop(p)) for p in batch])
            for path in batch:
                entry = entries[path]
                if entry.error is not None:
                    report.findings.extend(self._parse_error(str(path), *entry.error))
                elif entry.facts is not None:
                    facts = entry.facts if entry.facts.path == str(path) else replace(entry.facts, path=str(path))
                    self._parsed[_key(path)] = facts
                    self.index.add(facts, module_name(path)[1])
                    checked.append(facts)
            names = {cls.name for facts in checked for cls, _ in self.index.keras_classes(facts)}
            names |= reexported_names((e.signature for e in entries.values() if e.signature), names)
            if names <= known:
                break
            known |= names
        return report, checked

    def _parse_batch(self, batch: list[tuple[Path, FileEntry]]) -> None:
        """Parse the entries that have no facts yet, in `jobs` processes when there are many."""
        todo = [(str(path), entry.module, entry) for path, entry in batch
                if entry.facts is None and entry.error is None]
        if not todo:
            return
        work = [(path, module) for path, module, _ in todo]
        if self.jobs > 1:  # largest first, one at a time: a few huge files otherwise decide the wall time
            order = sorted(range(len(work)), key=lambda i: -_size(work[i][0]))
            done = self._pool_map(parse_file, [work[i] for i in order], minimum=8, chunksize=1)
            results: list = [None] * len(work)
            for position, result in zip(order, done):
                results[position] = result
        else:
            results = [parse_file(item) for item in work]
        for (_, _, entry), (facts, error) in zip(todo, results):
            entry.facts, entry.error = facts, error

    def _project_modules(self, files: Iterable[Path]) -> set[str]:
        """Top-level module names that belong to the project: imports of them may name its bases."""
        names: set[str] = set()
        for root in self.index.roots:
            try:
                entries = os.listdir(root)
            except OSError:
                continue
            # packages, modules, and folders without `__init__.py` (namespace packages, `src/` layouts)
            names.update(e[:-3] if e.endswith(".py") else e for e in entries
                         if not e.startswith(".") and (e.endswith(".py") or os.path.isdir(os.path.join(root, e))))
        parents = {path.parent for path in files}
        for parent in parents:
            names.add(module_name(parent / "__init__.py")[0].split(".")[0])
        return names

    def _load_for_index(self, path: Path) -> ModuleFacts | None:
        """Facts of a module that is not being checked but defines a base class of one that is."""
        key = _key(path)
        if key not in self._parsed:
            report = Report()
            try:
                stat = stat_key(os.stat(path))
            except OSError:
                stat = None
            entry = self._entry(path, stat, report)
            if entry is not None and entry.facts is None and entry.error is None:
                entry.facts, entry.error = parse_file((str(path), entry.module))
            self._parsed[key] = entry.facts if entry is not None else None
            if entry is not None:
                self._consulted[key] = entry.stat
        return self._parsed[key]

    # ------------------------------------------------------------------ rules
    def _check_module(self, facts: ModuleFacts) -> Iterable[Finding]:
        config = self.resolver.for_path(facts.path)
        target = self.target_of(facts)
        rules = [rule for code, rule in ALL_RULES.items()
                 if code != PARSE_ERROR.code and not rule.dynamic and config.selection.enabled(code)
                 and target in rule.targets]
        module_ctx = ModuleContext(facts, target, self.index)
        for cls, hierarchy in self.index.keras_classes(facts):
            ctx = ClassContext(cls, facts, hierarchy, target, self.index)
            module_ctx.keras_classes[cls.qualname] = ctx
            for rule in rules:
                for hit in rule.check_class(ctx):
                    yield from self._finding(facts, rule, hit, target, cls.name)
        for rule in rules:
            for hit in rule.check_module(module_ctx):
                yield from self._finding(facts, rule, hit, target, None)

    def _finding(self, facts: ModuleFacts, rule: Rule, hit: Hit, target: Target,
                 class_name: str | None) -> Iterable[Finding]:
        if is_suppressed(facts.noqa, hit.span.line, rule.code):
            return
        if not self.resolver.for_path(facts.path).selection.enabled_for(rule.code, Path(facts.path)):
            return
        severity = hit.severity or rule.severity[target]
        yield Finding(facts.path, hit.span, rule.code, rule.name, hit.message, severity, class_name)

    def _parse_error(self, path: str, message: str, line: int, column: int) -> Iterable[Finding]:
        if not self.resolver.for_path(path).selection.enabled_for(PARSE_ERROR.code, Path(path)):
            return
        span = Span(line, column, line, column + 1)
        severity = PARSE_ERROR.severity[Target.KERAS3]
        yield Finding(path, span, PARSE_ERROR.code, PARSE_ERROR.name, message, severity)


def _key(path: Path | str) -> str:
    """The identity of a file in the cache and the index (discovery already merged symlinked twins)."""
    return os.path.abspath(path)


def _stats(files: list[Path]) -> list[tuple[str, StatKey | None]]:
    """(path, stat key) per file, None when it cannot be stat-ed (reported when read)."""
    result: list[tuple[str, StatKey | None]] = []
    for path in files:
        try:
            result.append((_key(path), stat_key(os.stat(path))))
        except OSError:
            result.append((_key(path), None))
    return result


def _modules(files: list[Path]) -> tuple[str, ...]:
    """Each file's module name: adding an `__init__.py` anywhere above a file changes it."""
    return tuple(module_name(path)[0] for path in files)


def _unchanged(snapshot: Snapshot, stats: list[tuple[str, StatKey | None]]) -> bool:
    """The same files with the same stats and module names, every consulted file unchanged, and no
    file that was looked for and missing has appeared since."""
    count = len(stats)
    if tuple(stats) != snapshot.files[:count]:
        return False
    for path, stat in snapshot.files[count:]:
        try:
            if stat_key(os.stat(path)) != stat:
                return False
        except FileNotFoundError:
            if stat is not None:
                return False
        except OSError:
            return False
    return True


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def read_entry(job: tuple[str, str, StatKey | None]) -> tuple[FileEntry | None, str | None]:
    """Read one file and take its prefilter signature (in a worker process when `--jobs` > 1)."""
    path, module, stat = job
    try:
        with open(path, "rb") as handle:
            data = handle.read()
        stat = stat or stat_key(os.stat(path))
    except OSError as exc:
        return None, read_error(exc)
    content = digest(data)
    try:
        return FileEntry(stat, content, module, signature(decode_source(data, path))), None
    except SourceError as exc:
        return FileEntry(stat, content, module, error=(exc.reason, exc.line, exc.column)), None


def parse_file(job: tuple[str, str]) -> tuple[ModuleFacts | None, tuple[str, int, int] | None]:
    """Read and parse one file (in a worker process when `--jobs` > 1): facts, or a CFG001 error."""
    path, module = job
    try:
        return parse_module(read_source(Path(path)), path, module), None
    except SourceError as exc:
        return None, (exc.reason, exc.line, exc.column)
    except ParseFailure as failure:
        return None, (failure.message, failure.line, failure.column)
