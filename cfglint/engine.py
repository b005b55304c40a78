"""The static check: discover → prefilter → parse once → facts → project index → rules → findings.

Files are parsed with stdlib `ast` exactly once per run (cached by resolved path), whether they were
named on the command line or pulled in because a checked class derives from a class they define.
"""

from __future__ import annotations

import gc
import os
import stat as stat_module
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from cfglint import __version__
from cfglint.cache import UNTRUSTED, FileEntry, Inputs, ResultCache, Snapshot, StatKey, digest, run_key, stat_key
from cfglint.cache import facts_json as cache_json
from cfglint.config import DEFAULT_MAX_FILE_SIZE, RuleSelection, Settings
from cfglint.context import ClassContext, ModuleContext
from cfglint.discovery import Discovery, discover
from cfglint.facts import KerasImport, ModuleFacts
from cfglint.finding import Finding, Severity, Span, Target
from cfglint.finding_filter import is_reported
from cfglint.keras_names import BUILTIN_DISTRIBUTIONS
from cfglint.keras_target import Decision, Evidence, ProjectFacts, ProjectMetadata, decide
from cfglint.parsing import ParseFailure, parse_module
from cfglint.prefilter import keras_reexporters, reexported_names, signature, worth_parsing
from cfglint.project import ProjectIndex, RunView, module_name
from cfglint.rules import ALL_RULES, PARSE_ERROR
from cfglint.rules.base import Hit, Rule
from cfglint.settings_resolver import SettingsResolver, one_configuration
from cfglint.source import SourceError, decode_source, read_error

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

Job = TypeVar("Job")
Result = TypeVar("Result")


@dataclass
class Report:
    """The outcome of a run: findings, how many files were checked, and problems with the paths."""

    findings: list[Finding] = field(default_factory=list)
    files_checked: int = 0
    errors: list[str] = field(default_factory=list)  # fatal for the exit code (missing paths)
    warnings: list[str] = field(default_factory=list)


class Checker:
    """Runs the rules over files or a single source text.

    `cache` (a `ResultCache`) lets unchanged files skip reading and parsing, and a run over an unchanged
    tree skip everything; `jobs` > 1 parses in that many processes. Output is identical either way."""

    def __init__(self, settings: Settings, selection: RuleSelection | None = None, target: Target | str | None = None,
                 *, resolver: SettingsResolver | None = None, cache: ResultCache | None = None,
                 jobs: int = 1) -> None:
        """Either one `settings`/`selection` for every file, or a `resolver` giving each file the
        configuration nearest to it (the command line)."""
        if resolver is None:
            resolver = one_configuration(settings, selection, target)
        self.settings = settings
        self.resolver = resolver
        self.cache = cache or ResultCache(None)
        self.jobs = max(1, jobs)
        self.max_file_size = settings.max_file_size
        self.parse_all = False  # parse every file, not only those that may hold a Keras class (`verify`)
        self._pool: ProcessPoolExecutor | None = None  # worker processes, started on first use, kept for the run
        self._parsed: dict[str, ModuleFacts | None] = {}
        self._consulted: dict[str, StatKey] = {}  # files read only to resolve base classes
        self._looked_up: set[str] = set()  # every module file asked for to resolve a name, lent or read
        self._module_names: dict[Path, tuple[str, Path]] = {}  # of the files of the current run
        self._unstable = False  # a file changed or could not be read during the run
        # what `check_paths` would have read, when the cache served its findings whole
        self._served: tuple[Discovery, list[str], list[tuple[str, StatKey | None]]] | None = None
        self.metadata = ProjectMetadata()  # what each project declares about its Keras (`auto`)
        self.discovered: list[Path] = []  # the files of the last `check_paths`
        self.walked: list[str] = []  # the folders whose listings it read
        # what the findings of the last `check_paths` were computed from, when its cache snapshot vouches
        # for it (the run's key and every file read or consulted, with its stat); None otherwise
        self.inputs: Inputs | None = None
        # the configuration and metadata files the last `check_paths` depended on, with their stats
        self.settings_files: tuple[tuple[str, StatKey | None], ...] = ()
        self.settings_key: str | None = None  # the configuration and options of the last `check_paths`
        # every file the last `check_paths` read or looked for, with the stat it was read with (None: absent)
        self.read_stats: dict[str, StatKey | None] = {}
        self.respect_gitignore = True  # skip what Git ignores when walking folders (`--no-respect-gitignore`)
        roots = [settings.root, settings.root / "src"]
        self.index = ProjectIndex(self._load_for_index, roots)

    # ------------------------------------------------------------------ entry points
    def check_paths(self, paths: list[str], *, force_exclude: bool = False) -> Report:
        self._module_names.clear()
        found = discover(paths, self.settings, force_exclude=force_exclude,
                         respect_gitignore=self.respect_gitignore)
        self.discovered, self.walked = found.files, found.directories
        stats = _stats(found.files)
        fingerprint = self._settings_fingerprint(found.files)
        self.settings_key = run_key(__version__, fingerprint)
        key = run_key(__version__, sorted(paths), force_exclude, fingerprint,
                      tuple(self._module_name(path)[0] for path in found.files))
        snapshot = self.cache.snapshot(key)
        self._served = None
        if snapshot is not None and _unchanged(snapshot, stats):
            report = Report(list(snapshot.findings), snapshot.files_checked)  # nothing changed: no source read
            self._served = (found, paths, stats)
            self.inputs = (key, snapshot.files)
            self.read_stats = dict(snapshot.files)
        else:
            with _collector_paused():
                report, checked = self._parse(found, paths, stats)
                for facts in checked:
                    report.findings.extend(self._check_module(facts))
            report.findings.sort(key=Finding.sort_key)
            self.close()
            self.read_stats = {**dict(stats), **{path: None for path in self.index.absent_files}, **self._consulted}
            if self.cache.enabled and not self._unstable:  # a file changed or vanished mid-run: no snapshot
                absent = {path: None for path in self.index.absent_files}
                files = tuple(stats) + tuple(sorted({**absent, **self._consulted}.items()))
                saved = Snapshot(key, files, report.findings, report.files_checked)
                self.cache.save(saved)
                self.inputs = (key, saved.files)  # marked racy by the save when a file is too recent
        report.errors.extend(f"{path}: {message}" for path, message in found.errors)
        report.warnings.extend(found.warnings)
        return report

    def read_inputs(self, paths: list[str]) -> tuple[list[tuple[str, StatKey | None]], list[str], list[str]] | None:
        """What the last `check_paths` read, for a record that lets the same run be replayed
        (`cfglint.replay`): the files with the stats it saw (None: looked for, absent), the folders
        whose listings it read, and the folders above them where it looked for configuration, Git
        files or packages. None when no snapshot vouches for the run (a file changed meanwhile)."""
        if self.inputs is None or any(path == "<racy>" for path, _ in self.inputs[1]):
            return None
        files = [*self.inputs[1], *self.settings_files]
        listed = [*self.walked, *self.metadata.listed_directories(), *map(str, self.index.roots)]
        probed: set[str] = set()
        for start in {os.getcwd(), *map(os.path.abspath, paths), *(os.path.dirname(path) for path, _ in files)}:
            directory = start
            while directory not in probed:
                probed.add(directory)
                parent = os.path.dirname(directory)
                if parent == directory:
                    break
                directory = parent
        return files, [os.path.abspath(folder) for folder in listed], sorted(probed)

    def parse_paths(self, paths: list[str], *, force_exclude: bool = False) -> tuple[Report, list[ModuleFacts]]:
        """Discover and parse the files that may hold Keras classes (also used by `verify`)."""
        self._module_names.clear()
        found = discover(paths, self.settings, force_exclude=force_exclude,
                         respect_gitignore=self.respect_gitignore)
        with _collector_paused():
            report, checked = self._parse(found, paths, _stats(found.files))
        self.close()
        report.errors.extend(f"{path}: {message}" for path, message in found.errors)
        report.warnings.extend(found.warnings)
        return report, checked

    def target_of(self, facts: ModuleFacts) -> Target:
        """The Keras flavour a module is checked for (see `decision_of`)."""
        return self.decision_of(facts).target

    def decision_of(self, facts: ModuleFacts) -> Decision:
        """Which Keras a module is checked for, and why. `--target`, then `target` in the
        configuration; with `auto`, the module's own unconditional imports of `tf_keras` or `keras`
        (read together with the keras version the project pins), then the project's metadata for
        `tf.keras` code, then Keras 3."""
        config = self.resolver.for_path(facts.path)
        if config.target is not Target.AUTO:
            if self.resolver.cli.target is not None:
                return Decision(config.target, "command line", f"--target {config.target.value}")
            where = config.settings.config_path
            evidence = (Evidence(str(where), _line_of_key(where, "target"), f'target = "{config.target.value}"'),) \
                if where else ()
            return Decision(config.target, "configuration", f"target = {config.target.value!r}", evidence)
        flavour, line = _import_flavour(facts)
        project = self.metadata.facts(os.path.dirname(os.path.abspath(facts.path)))
        if facts.legacy_keras_line and project.legacy_env is None:
            own = Evidence(facts.path, facts.legacy_keras_line, "TF_USE_LEGACY_KERAS set in the module")
            project = ProjectFacts(project.requirements, own)
        return decide(flavour, line, project)

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

    def discard(self) -> None:
        """This checker is done with: its index (which refers back to it to load modules) is let go, so
        that reference counting frees its facts at once instead of the cyclic garbage collector later
        (fix validation makes hundreds of short-lived checkers)."""
        self.close()
        self.index = ProjectIndex(_nothing_to_load, [])

    def reuse_facts(self, known: dict[str, ModuleFacts | None]) -> None:
        """Facts of other files that an earlier checker of the same run read (`consulted_facts`): a
        file checked again and again while fixes are validated need not re-read its bases each time."""
        lent = dict(known)  # one copy in C, not a call per file: a run lends ~1,000 files to each check
        lent.update(self._parsed)
        self._parsed = lent

    def looked_up(self) -> set[str]:
        """The files (cache keys) this checker asked for to resolve names, whether found, lent by
        `reuse_facts` or absent, and those whose lent subclasses it read: what its findings depend on
        besides the text checked."""
        return self._looked_up | self.index.absent_files | self.index.lent_files

    def project_view(self) -> RunView:
        """What the last run knew of the project, for the checkers that check its files again while
        fixes are planned (`ProjectIndex.lend`). A run served whole by the cache read no facts: they
        are taken from the cache now (nothing is parsed while the files are unchanged)."""
        if self._served is not None and not self.index.modules:
            found, paths, stats = self._served
            with _collector_paused():
                self._parse(found, paths, stats)
            self.close()
        return self.index.view()

    def consulted_facts(self) -> dict[str, ModuleFacts | None]:
        """The facts of the files read only to resolve base classes, by file."""
        return {key: self._parsed[key] for key in self._consulted if key in self._parsed}

    def known_facts(self) -> dict[str, ModuleFacts | None]:
        """The facts of every file this checker read, checked or consulted, by file."""
        return dict(self._parsed)

    # ------------------------------------------------------------------ parsing
    def _settings_fingerprint(self, files: list[Path]) -> tuple[object, ...]:
        """What the findings depend on besides the files: every configuration in play, the options."""
        directories = {os.path.dirname(name) for name in map(str, files)}  # strings: one per directory
        configs = {self.resolver.for_path(os.path.join(directory, "_")).settings.config_path
                   for directory in directories}
        configs.add(self.settings.config_path)
        fingerprint = []
        for config in sorted(configs, key=str):
            try:
                fingerprint.append((str(config), stat_key(os.stat(config)) if config else None))
            except OSError:
                fingerprint.append((str(config), None))
        metadata = sorted({path for directory in directories for path in self.metadata.files(directory)})
        for path in metadata:  # the project's dependencies decide `--target auto`
            try:
                fingerprint.append((path, stat_key(os.stat(path))))
            except OSError:
                fingerprint.append((path, None))
        cli = self.resolver.cli
        self.settings_files = tuple((path, stat) for path, stat in fingerprint if path != "None")
        return (tuple(fingerprint), tuple(cli.select or ()), tuple(cli.ignore or ()),
                tuple(cli.extend_select or ()), cli.target)

    def _entry(self, path: Path, stat: StatKey | None, report: Report, fresh: Read | None = None) -> FileEntry | None:
        """The cached entry of a file when its stat (or, failing that, its bytes) are unchanged; else a
        fresh one (read, decoded, its prefilter signature taken). None when it cannot be read.
        `fresh` is a `read_entry` result already computed in a worker process."""
        key = _key(path)
        dotted = self._module_name(path)[0]
        if stat is not None:
            entry = self.cache.by_stat(key, stat)
            if entry is not None and entry.module == dotted:
                return entry
        new, error, facts = fresh if fresh is not None else read_entry((str(path), dotted, self.max_file_size))
        if new is None:
            self._unreadable(path, error or "cannot be read", report)
            return None
        cached = self.cache.by_digest(key, new.stat, new.digest)
        if cached is not None and cached.module == dotted:
            return cached
        self.cache.put(key, new, facts)
        return new

    def _unreadable(self, path: Path, reason: str, report: Report) -> None:
        """A file that could not be read: nothing about it is cached. One that vanished during the run
        is a warning (it is simply no longer there to check); any other reason is a CFG001 finding."""
        self.cache.forget(_key(path))
        self._unstable = True
        if not os.path.lexists(path):
            report.warnings.append(f"{path}: {reason}; skipped")
        else:
            report.findings.extend(self._parse_error(str(path), reason, 1, 1))

    def _pool_map(self, function: Callable[[Job], Result], items: list[Job], *, minimum: int,
                  chunksize: int = 0, speculate: Speculation | None = None) -> list[Result]:
        """`map` in `jobs` processes when there is enough work to pay for them, else in this one.
        A pool started here with `speculate` parses, while reading, the files sure to be parsed."""
        if self.jobs < 2 or len(items) < max(minimum, 2 * self.jobs):
            return [function(item) for item in items]
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("fork" if "fork" in methods else None)
            self._pool = ProcessPoolExecutor(max_workers=self.jobs, mp_context=context,
                                             initializer=_start_worker, initargs=(speculate, self.cache.enabled))
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
        missing = [(str(path), self._module_name(path)[0], self.max_file_size, stat[2] if stat else 0)
                   for path, (key, stat) in zip(found.files, stats, strict=True)
                   if stat is None or self.cache.by_stat(key, stat) is None]
        fresh = self._read_missing(missing, found)
        for path, (_, stat) in zip(found.files, stats, strict=True):
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
        keras_classes: dict[str, str] = {}  # qualname -> name of the classes found to be Keras classes
        project = self._project_modules(entries)
        walked = {entry.module for entry in entries.values()}
        reexporters = keras_reexporters(((e.module, e.signature) for e in entries.values() if e.signature), walked)
        first = True
        while pending:
            batch = [p for p, entry in pending.items()
                     if (first and (self.parse_all or os.path.normpath(p) in explicit))
                     or worth_parsing(entry.signature, known, project, walked, reexporters)]  # type: ignore[arg-type]
            if not batch:
                break
            # from the second round, when what the first found is known (its own files define many
            # classes that are not Keras's, which would make the look-ahead parse far too much)
            ahead = self._ahead(batch, pending, known, project, walked, reexporters) \
                if self.jobs > 1 and not first else []
            first = False
            parsed = self._parse_batch([(p, pending.pop(p)) for p in batch], report, ahead)
            for path in batch:
                if path not in parsed:
                    del entries[path]
                    continue
                entry = entries[path] = parsed[path]
                if entry.error is not None:
                    report.findings.extend(self._parse_error(str(path), *entry.error))
                elif entry.facts is not None:
                    facts = entry.facts if entry.facts.path == str(path) else replace(entry.facts, path=str(path))
                    self._parsed[_key(path)] = facts
                    self.index.add(facts, self._module_name(path)[1])
                    checked.append(facts)
            # a class found to be a Keras class stays one as more modules are read: only the others
            # are looked at again (adding modules clears the index's hierarchies)
            for facts in checked:
                for cls in facts.classes:
                    if cls.qualname not in keras_classes and self.index.hierarchy(cls, facts).is_keras:
                        keras_classes[cls.qualname] = cls.name
            names = set(keras_classes.values())
            names |= reexported_names((e.signature for e in entries.values() if e.signature), names)
            if names <= known:
                break
            known |= names
        return report, checked

    def _ahead(self, batch: list[Path], pending: dict[Path, FileEntry], known: set[str], project: set[str],
               walked: set[str], reexporters: set[str]) -> list[tuple[Path, FileEntry]]:
        """The files later rounds of the prefilter may select, to parse with this round's `batch` (with
        several processes: the later rounds then find their files parsed, and the processes do not wait
        while the hierarchy is worked out between rounds).

        A later round selects a file whose bases may name a Keras class found by then, which is defined
        with a base list in a file parsed before it. Taking every class the batch's files define as if it
        were one, and closing over the texts, gives a superset of what the rounds will select; what
        they select, and so the findings, do not change."""
        due = set(batch)
        names = set(known)
        fresh = {name for path in batch for name in pending[path].signature.defines}  # type: ignore[union-attr]
        signatures = [entry.signature for entry in pending.values() if entry.signature is not None]
        while fresh - names:
            names |= fresh
            names |= reexported_names(signatures, names)
            more = [path for path, entry in pending.items() if path not in due and entry.signature is not None
                    and entry.facts is None and entry.error is None
                    and worth_parsing(entry.signature, names, project, walked, reexporters)]
            due.update(more)
            fresh = {name for path in more for name in pending[path].signature.defines}  # type: ignore[union-attr]
        return [(path, pending[path]) for path in due.difference(batch)]

    def _read_missing(self, missing: list[tuple[str, str, int, int]], found: Discovery) -> dict[str, Read]:
        """Read the files the cache cannot vouch for (in `jobs` processes when there are many). The
        worker processes also parse, from the bytes they just read, every file that the first round
        of the prefilter parses whatever the other files say, so that round needs no second read
        and the workers never wait for the whole tree to be read: largest first, in small chunks."""
        jobs = [job[:3] for job in sorted(missing, key=lambda job: -job[3])] if self.jobs > 1 else \
            [job[:3] for job in missing]
        speculate = None if self.parse_all else \
            (frozenset(self._project_modules(found.files)), frozenset(self._module_name(p)[0] for p in found.files))
        results = self._pool_map(read_entry, jobs, minimum=64, chunksize=max(1, min(32, len(jobs) // (self.jobs * 16))),
                                 speculate=speculate)
        return dict(zip((job[0] for job in jobs), results, strict=True))

    def _parse_batch(self, batch: list[tuple[Path, FileEntry]], report: Report,
                     ahead: Sequence[tuple[Path, FileEntry]] = ()) -> dict[Path, FileEntry]:
        """Parse the entries that have no facts yet, in `jobs` processes when there are many. Returns
        the entry of each path as it now stands (a file that changed since it was read gets a new one;
        one that can no longer be read is dropped and reported). The entries `ahead` are parsed along,
        for a later round: each takes its facts (or error) when its file still holds what was read, and
        is left as it was otherwise (its round then reads it again)."""
        current = dict(batch)
        todo = [(path, entry) for path, entry in batch if entry.facts is None and entry.error is None]
        later = [(path, entry) for path, entry in ahead if entry.facts is None and entry.error is None]
        if not todo and not later:
            return current
        work = [(str(path), entry.module, entry.digest, self.max_file_size) for path, entry in todo + later]
        if self.jobs > 1:  # largest first, one at a time: a few huge files otherwise decide the wall time
            order = sorted(range(len(work)), key=lambda i: -_size(work[i][0]))
            done = self._pool_map(parse_file, [work[i] for i in order], minimum=8,
                                  chunksize=max(1, min(4, len(work) // (self.jobs * 16))))
            by_position = dict(zip(order, done, strict=True))
            results = [by_position[position] for position in range(len(work))]
        else:
            results = [parse_file(item) for item in work]
        for (path, entry), parsed in zip(todo, results[:len(todo)], strict=True):
            self._apply_parsed(path, entry, parsed, report, current)
        for (path, entry), parsed in zip(later, results[len(todo):], strict=True):
            if parsed.unreadable is None and parsed.replaced is None:
                self._apply_parsed(path, entry, parsed, None, {})
        return current

    def _apply_parsed(self, path: Path, entry: FileEntry, parsed: Parsed, report: Report | None,
                      current: dict[Path, FileEntry]) -> None:
        if parsed.unreadable is not None:
            del current[path]
            self._unreadable(path, parsed.unreadable, report if report is not None else Report())
        elif parsed.replaced is not None:
            self._unstable = True
            self.cache.put(_key(path), parsed.replaced, parsed.facts_json)
            current[path] = parsed.replaced
        else:
            entry.facts, entry.error = parsed.facts, parsed.error
            if parsed.facts_json is not None:
                self.cache.put(_key(path), entry, parsed.facts_json)

    def _module_name(self, path: Path) -> tuple[str, Path]:
        """`module_name`, once per file and run (each file's name is asked for five times). The key
        of a run's snapshot holds these names: adding an `__init__.py` above a file changes them."""
        known = self._module_names.get(path)
        if known is None:
            known = self._module_names[path] = module_name(path)
        return known

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
        self._looked_up.add(key)
        if key not in self._parsed:
            report = Report()
            try:
                stat = stat_key(os.stat(path))
            except OSError:
                stat = None
            entry = self._entry(path, stat, report)
            if entry is not None and entry.facts is None and entry.error is None:
                current = {path: entry}
                self._apply_parsed(path, entry, parse_file((str(path), entry.module, entry.digest, self.max_file_size)),
                                  None, current)
                entry = current.get(path)
            self._parsed[key] = entry.facts if entry is not None else None
            if entry is not None:
                self._consulted[key] = entry.stat
        return self._parsed[key]

    # ------------------------------------------------------------------ rules
    def _check_module(self, facts: ModuleFacts) -> Iterable[Finding]:
        config = self.resolver.for_path(facts.path)
        target = self.target_of(facts)
        facts = bound_for_target(facts, target)
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
        if not is_reported(rule.code, facts.path, hit.span.line,
                           selection=self.resolver.for_path(facts.path).selection, noqa=facts.noqa):
            return
        severity = hit.severity or rule.severity[target]
        message = hit.message
        if severity is not Severity.INFO and facts.module.split(".")[0] in BUILTIN_DISTRIBUTIONS:
            severity, message = Severity.INFO, f"{message} (in Keras's own source: trusted as built-in)"
        yield Finding(facts.path, hit.span, rule.code, rule.name, message, severity, class_name,
                      subject=hit.subject)

    def _parse_error(self, path: str, message: str, line: int, column: int) -> Iterable[Finding]:
        if not is_reported(PARSE_ERROR.code, path, line, selection=self.resolver.for_path(path).selection,
                           noqa={}):
            return
        span = Span(line, column, line, column + 1)
        severity = PARSE_ERROR.severity[Target.KERAS3]
        yield Finding(path, span, PARSE_ERROR.code, PARSE_ERROR.name, message, severity)


FREEZE_AFTER = 100_000


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while facts pile up: hundreds of thousands of small objects
    that live until the end of the run and hold no cycles, which every full collection would walk
    again. Unpickling the facts sent back by worker processes took 15 times longer with it on.

    After a large run, what survives the pause is moved out of the collector's sight (`gc.freeze`):
    otherwise the first collection after it walks every one of those objects at once (0.2 s on a
    large tree). Frozen objects are still freed by reference counting; what an earlier run left frozen
    (a checker and its index refer to each other) is collected when the next run starts."""
    enabled = gc.isenabled()
    if enabled and gc.get_freeze_count():
        gc.unfreeze()
        gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if gc.get_count()[0] >= FREEZE_AFTER:  # objects allocated (and not freed) during the pause
                gc.freeze()
            gc.enable()


def _line_of_key(path: Path, key: str) -> int:
    """The line of `key = ...` in a configuration file (1 when it cannot be found)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return 1
    return next((number for number, line in enumerate(lines, 1) if line.strip().startswith(f"{key} =")
                 or line.strip().startswith(f"{key}=")), 1)


def _import_flavour(facts: ModuleFacts) -> tuple[str | None, int]:
    """The module's own evidence: an unconditional `tf_keras` import, else one of `keras`, else none
    (`tf.keras`, or Keras only through project modules: the project decides)."""
    for flavour in ("tf_keras", "keras"):
        for found in facts.keras_imports:
            if found.flavour == flavour and not found.conditional:
                return flavour, found.line
    return None, 0


def bound_for_target(facts: ModuleFacts, target: Target) -> ModuleFacts:
    """The module as it runs under `target`: a name bound in each branch of a Keras switch
    (`try: import tf_keras as keras` / `except ImportError: from tensorflow import keras`) takes the
    binding of the branch that runs, `tf_keras` for tf-keras and `keras` for Keras 3, else the
    `tf.keras` one."""
    if not any(found.conditional for found in facts.keras_imports):
        return facts
    wanted = "tf_keras" if target is Target.TF_KERAS else "keras"
    chosen: dict[str, KerasImport] = {}
    for found in facts.keras_imports:
        if not found.conditional or found.name == "*":
            continue
        current = chosen.get(found.name)
        rank = {wanted: 2, "tf.keras": 1}.get(found.flavour, 0)
        if current is None or rank > {wanted: 2, "tf.keras": 1}.get(current.flavour, 0):
            chosen[found.name] = found
    changed = {name: found.dotted for name, found in chosen.items() if facts.imports.get(name) != found.dotted}
    return replace(facts, imports={**facts.imports, **changed}) if changed else facts


def _nothing_to_load(path: Path) -> ModuleFacts | None:
    return None


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


class Refused(Exception):
    """A file that is not read at all: not a regular file, or larger than `max-file-size`."""


def _read_bytes(path: str, limit: int = DEFAULT_MAX_FILE_SIZE) -> tuple[bytes, StatKey]:
    """The bytes of a regular file of at most `limit` bytes, and a stat that describes them: taken on
    the open descriptor before and after reading, and UNTRUSTED when the two differ (the file changed
    while it was read). Opened without blocking, so a FIFO or a device is refused instead of hanging
    or reading forever."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    with open(descriptor, "rb", closefd=True) as handle:
        status = os.fstat(descriptor)
        if not stat_module.S_ISREG(status.st_mode):
            raise Refused("is not a regular file; not read")
        if status.st_size > limit:
            raise Refused(_too_large(status.st_size, limit))
        before = stat_key(status)
        data = handle.read(limit + 1)
        if len(data) > limit:  # it grew while being read
            raise Refused(_too_large(len(data), limit))
        after = stat_key(os.fstat(descriptor))
    return data, (before if before == after else UNTRUSTED)


def _too_large(size: int, limit: int) -> str:
    return f"is larger than `max-file-size` ({size:,} > {limit:,} bytes); not checked"


def _entry_from_bytes(data: bytes, stat: StatKey, path: str, module: str) -> FileEntry:
    content = digest(data)
    try:
        return FileEntry(stat, content, module, signature(decode_source(data, path)))
    except SourceError as exc:
        return FileEntry(stat, content, module, error=(exc.reason, exc.line, exc.column))


Speculation = tuple[frozenset[str], frozenset[str]]  # the prefilter's project modules and walked modules
Read = tuple[FileEntry | None, str | None, str | None]  # entry, or why it cannot be read; its facts as JSON
_speculation: Speculation | None = None  # set in worker processes only
_encode_facts = False  # in worker processes of a run with a cache


def _start_worker(speculate: Speculation | None, encode_facts: bool) -> None:
    """Runs first in each worker process: what its `read_entry` may parse at once, and whether the
    facts it sends back go with their encoding for the cache (the parent then saves without encoding)."""
    global _speculation, _encode_facts
    _speculation, _encode_facts = speculate, encode_facts


def read_entry(job: tuple[str, str, int]) -> Read:
    """Read one file and take its prefilter signature (in a worker process when `--jobs` > 1).
    None and the reason when it cannot be read: nothing about such a file is cached. In a worker,
    a file that the prefilter's first round is sure to parse is parsed at once (see `_read_missing`)."""
    path, module, limit = job
    try:
        data, stat = _read_bytes(path, limit)
    except OSError as exc:
        return None, read_error(exc), None
    except Refused as refused:
        return None, str(refused), None
    content = digest(data)
    try:
        text = decode_source(data, path)
    except SourceError as exc:
        return FileEntry(stat, content, module, error=(exc.reason, exc.line, exc.column)), None, None
    entry = FileEntry(stat, content, module, signature(text))
    if _speculation is not None and entry.signature is not None and worth_parsing(entry.signature, (), *_speculation):
        entry.facts, entry.error = _facts_of(text, path, module)
        return entry, None, cache_json(entry.facts) if _encode_facts else None
    return entry, None, None


def _facts_of(text: str, path: str, module: str) -> tuple[ModuleFacts | None, tuple[str, int, int] | None]:
    """The facts of a decoded source, or its CFG001 error."""
    try:
        return parse_module(text, path, module), None
    except ParseFailure as failure:
        return None, (failure.message, failure.line, failure.column)


@dataclass
class Parsed:
    """The outcome of parsing one file: facts or a CFG001 error for the bytes it read. `replaced` is a
    fresh entry when those bytes are not the ones the prefilter saw (the file changed in between);
    `unreadable` the reason when the file could not be read again (nothing is cached then)."""

    facts: ModuleFacts | None = None
    error: tuple[str, int, int] | None = None
    replaced: FileEntry | None = None
    unreadable: str | None = None
    facts_json: str | None = None  # the facts as the cache writes them (worker processes of a cached run)


def parse_file(job: tuple[str, str, bytes | None, int]) -> Parsed:
    """Read and parse one file (in a worker process when `--jobs` > 1): its facts, or a CFG001 error.

    The facts must describe the bytes whose digest the cache records, so the digest of what was read
    is compared with `expected`; when they differ a complete new entry is returned."""
    path, module, expected, limit = job
    try:
        data, _stat = _read_bytes(path, limit)
    except OSError as exc:
        return Parsed(unreadable=read_error(exc))
    except Refused as refused:
        return Parsed(unreadable=str(refused))
    outcome = Parsed()
    if expected is not None and digest(data) != expected:
        outcome.replaced = _entry_from_bytes(data, UNTRUSTED, path, module)
        if outcome.replaced.error is not None:
            outcome.error = outcome.replaced.error
            return outcome
    try:
        outcome.facts = parse_module(decode_source(data, path), path, module)
    except SourceError as exc:
        outcome.error = (exc.reason, exc.line, exc.column)
    except ParseFailure as failure:
        outcome.error = (failure.message, failure.line, failure.column)
    if outcome.replaced is not None:
        outcome.replaced.facts, outcome.replaced.error = outcome.facts, outcome.error
    if _encode_facts:
        outcome.facts_json = cache_json(outcome.facts)
    return outcome
