"""The static check: discover → prefilter → parse once → facts → project index → rules → findings.

Files are parsed with stdlib `ast` exactly once per run (cached by resolved path), whether they were
named on the command line or pulled in because a checked class derives from a class they define.
"""

from __future__ import annotations

import ast
import gc
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from cfglint.config import RuleSelection, Settings
from cfglint.context import ClassContext, ModuleContext
from cfglint.discovery import discover
from cfglint.extract import extract
from cfglint.facts import ModuleFacts
from cfglint.finding import Finding, Span, Target
from cfglint.noqa import is_suppressed, parse_noqa
from cfglint.prefilter import signature, worth_parsing
from cfglint.project import ProjectIndex, module_name
from cfglint.rules import ALL_RULES, DEFAULT_CODES, PARSE_ERROR
from cfglint.rules.base import Hit, Rule
from cfglint.settings_resolver import CliOverrides, FileSettings, SettingsResolver
from cfglint.source import SourceError, read_source


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
    """Runs the rules over files or a single source text, with one settings object."""

    def __init__(self, settings: Settings, selection: RuleSelection | None = None, target: str | None = None,
                 *, resolver: SettingsResolver | None = None) -> None:
        """Either one `settings`/`selection` for every file, or a `resolver` giving each file the
        configuration nearest to it (the command line)."""
        if resolver is None:
            resolver = SettingsResolver(settings, all_codes=ALL_RULES, default_codes=DEFAULT_CODES,
                                        cli=CliOverrides(target=target), fixed=True)
            if selection is not None:
                resolver.default = FileSettings(settings, selection, target or settings.target)
        self.settings = settings
        self.resolver = resolver
        self._parsed: dict[str, ModuleFacts | None] = {}
        roots = [settings.root, settings.root / "src"]
        self.index = ProjectIndex(self._load_for_index, roots)

    # ------------------------------------------------------------------ entry points
    def check_paths(self, paths: list[str], *, force_exclude: bool = False) -> Report:
        report, checked = self.parse_paths(paths, force_exclude=force_exclude)
        for facts in checked:
            report.findings.extend(self._check_module(facts))
        report.findings.sort(key=Finding.sort_key)
        return report

    def parse_paths(self, paths: list[str], *, force_exclude: bool = False) -> tuple[Report, list[ModuleFacts]]:
        """Discover and parse the files that may hold Keras classes (also used by `verify`)."""
        report = Report()
        found = discover(paths, self.settings, force_exclude=force_exclude)
        report.errors.extend(f"{path}: {message}" for path, message in found.errors)
        report.warnings.extend(found.warnings)
        explicit = {os.path.normpath(p) for p in paths if os.path.isfile(p)}
        texts: dict[Path, str] = {}
        for path in found.files:
            report.files_checked += 1
            try:
                texts[path] = read_source(path)
            except SourceError as exc:
                report.findings.extend(self._parse_error(str(path), exc.reason, exc.line, exc.column))
        return report, self._parse_candidates(texts, explicit, report)

    def target_of(self, facts: ModuleFacts) -> Target:
        """The Keras flavour a module is checked for (`auto`: tf-keras when it imports tf_keras)."""
        config = self.resolver.for_path(facts.path)
        if config.target == "auto":
            return Target.TF_KERAS if facts.imports_tf_keras else Target.KERAS3
        return Target(config.target)

    def check_source(self, source: str, path: str) -> list[Finding]:
        """Check one text (standard input, an editor buffer) as if it were the file at `path`."""
        facts = self._parse_checked(source, Path(path), [])
        findings = list(self._check_module(facts)) if isinstance(facts, ModuleFacts) else facts
        return sorted(findings, key=Finding.sort_key)

    # ------------------------------------------------------------------ parsing
    def _parse_candidates(self, texts: dict[Path, str], explicit: set[str], report: Report) -> list[ModuleFacts]:
        """Parse the files that may hold Keras classes, feeding discovered class names back."""
        checked: list[ModuleFacts] = []
        pending = dict(texts)
        known: set[str] = set()
        project = self._project_modules(texts)
        first = True
        while pending:
            batch = [p for p, text in pending.items()
                     if (first and os.path.normpath(p) in explicit) or worth_parsing(signature(text), known, project)]
            first = False
            if not batch:
                break
            for path in batch:
                result = self._parse_checked(pending.pop(path), path, report.findings)
                if isinstance(result, ModuleFacts):
                    checked.append(result)
            names = {cls.name for facts in checked for cls, _ in self.index.keras_classes(facts)}
            if names <= known:
                break
            known |= names
        return checked

    def _project_modules(self, files: Iterable[Path]) -> set[str]:
        """Top-level module names that belong to the project: imports of them may name its bases."""
        names: set[str] = set()
        for root in self.index.roots:
            try:
                entries = os.listdir(root)
            except OSError:
                continue
            names.update(e[:-3] if e.endswith(".py") else e for e in entries
                         if e.endswith(".py") or os.path.isfile(os.path.join(root, e, "__init__.py")))
        parents = {path.parent for path in files}
        for parent in parents:
            names.add(module_name(parent / "__init__.py")[0].split(".")[0])
        return names

    def _parse_checked(self, source: str, path: Path, sink: list[Finding]) -> ModuleFacts | list[Finding]:
        display = str(path)
        dotted, root = module_name(path)
        try:
            facts = parse_module(source, display, dotted)
        except ParseFailure as failure:
            findings = list(self._parse_error(display, failure.message, failure.line, failure.column))
            sink.extend(findings)
            self._parsed[_key(path)] = None
            return findings
        self._parsed[_key(path)] = facts
        self.index.add(facts, root)
        return facts

    def _load_for_index(self, path: Path) -> ModuleFacts | None:
        """Facts of a module that is not being checked but defines a base class of one that is."""
        key = _key(path)
        if key not in self._parsed:
            try:
                source = read_source(path)
                self._parsed[key] = parse_module(source, str(path), module_name(path)[0])
            except (SourceError, ParseFailure):
                self._parsed[key] = None
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
        yield Finding(facts.path, hit.span, rule.code, rule.name, hit.message, rule.severity[target], class_name)

    def _parse_error(self, path: str, message: str, line: int, column: int) -> Iterable[Finding]:
        if not self.resolver.for_path(path).selection.enabled_for(PARSE_ERROR.code, Path(path)):
            return
        span = Span(line, column, line, column + 1)
        severity = PARSE_ERROR.severity[Target.KERAS3]
        yield Finding(path, span, PARSE_ERROR.code, PARSE_ERROR.name, message, severity)


def _key(path: Path) -> str:
    return os.path.realpath(path)
