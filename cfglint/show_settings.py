"""`cfglint check --show-settings`: what each file is checked with, and why (as ruff's option).

The target is where surprises come from (the same class is an error under Keras 3 and fine under
tf-keras), so its decision is shown with the file and line of the evidence behind it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TextIO

from cfglint.engine import Checker
from cfglint.facts import ModuleFacts
from cfglint.parsing import ParseFailure, parse_module
from cfglint.project import module_name
from cfglint.source import SourceError, decode_source


def show_settings(checker: Checker, paths: list[str], *, stdin_filename: str | None = None,
                  force_exclude: bool = False, out: TextIO | None = None) -> int:
    """Print the resolved settings of every file that would be checked; exit status 0."""
    out = out or sys.stdout
    modules: list[ModuleFacts] = []
    if stdin_filename is not None:
        modules.append(_stdin_facts(stdin_filename))
    else:
        report, checked = checker.parse_paths(paths, force_exclude=force_exclude)
        for error in report.errors:
            print(f"cfglint: error: {error}", file=sys.stderr)
        modules = sorted(checked, key=lambda facts: facts.path)
        if not modules:  # nothing imports Keras: show what a `tf.keras` file there would get
            modules = [ModuleFacts(path=os.path.join(p, "_") if os.path.isdir(p) else p, module="") for p in paths]
    out.write("\n".join(describe(checker, facts) for facts in modules))
    return 0


def project_targets(checker: Checker, files: list[Path]) -> list[str]:
    """One line per project among `files` (`--verbose`): the target of its `tf.keras` code and the
    evidence. Only metadata is read, so this costs nothing when the findings come from the cache;
    files that import `tf_keras` or `keras` decide for themselves (`--show-settings` shows them)."""
    lines = []
    seen: set[tuple[str, ...]] = set()
    for directory in sorted({str(path.parent) for path in files}):
        metadata = checker.metadata.files(directory)
        config = checker.resolver.for_path(os.path.join(directory, "_"))
        key = (*metadata, str(config.settings.config_path), config.target)
        if key in seen:
            continue
        seen.add(key)
        found = checker.decision_of(ModuleFacts(path=os.path.join(directory, "_"), module=""))
        evidence = "; ".join(f"{_shown(item.path)}:{item.line}: {item.text}" for item in found.evidence)
        lines.append(f"target for tf.keras code in {_shown(directory)}: {found.target.value} "
                     f"({found.source}: {found.reason}{'; ' + evidence if evidence else ''})")
    return lines


def _stdin_facts(name: str) -> ModuleFacts:
    try:
        return parse_module(decode_source(sys.stdin.buffer.read(), name), name, module_name(Path(name))[0])
    except (SourceError, ParseFailure):
        return ModuleFacts(path=name, module="")


def describe(checker: Checker, facts: ModuleFacts) -> str:
    """The block of one file: configuration, target with its evidence, Keras imports, rules."""
    config = checker.resolver.for_path(facts.path)
    decision = checker.decision_of(facts)
    directory = os.path.dirname(os.path.abspath(facts.path))
    lines = [f"Settings for {_shown(facts.path)}:"]
    where = config.settings.config_path
    lines.append(f"  configuration: {_shown(str(where)) if where else 'none (defaults)'}")
    lines.append(f"  target: {decision.target.value} (from {decision.source}: {decision.reason})")
    lines += [f"    evidence: {_shown(item.path)}:{item.line}: {item.text}" for item in decision.evidence]
    plain: dict[str, list[int]] = {}
    for found in facts.keras_imports:
        if found.conditional:
            lines.append(f"  keras import: line {found.line}: {found.flavour} as `{found.name}` "
                         "(conditional: follows the target)")
        else:
            plain.setdefault(found.flavour, []).append(found.line)
    for flavour, numbers in plain.items():
        count = f"{len(numbers)} imports, the first" if len(numbers) > 1 else "1 import"
        lines.append(f"  keras imports: {flavour} ({count} on line {numbers[0]})")
    metadata = [_shown(path) for path in checker.metadata.files(directory)
                if os.path.basename(path) != "__init__.py"]
    lines.append(f"  project metadata read: {', '.join(metadata) if metadata else 'none found'}")
    enabled = sorted(code for code in config.selection.codes
                     if config.selection.enabled_for(code, Path(facts.path)))
    lines.append(f"  rules enabled: {', '.join(enabled) if enabled else 'none'}")
    ignored = sorted(set(config.selection.codes) - set(enabled))
    if ignored:
        lines.append(f"  ignored for this file: {', '.join(ignored)}")
    return "\n".join(lines) + "\n"


def _shown(path: str) -> str:
    """A path relative to the working directory when it lies below it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return path if relative.startswith(os.pardir) else relative
