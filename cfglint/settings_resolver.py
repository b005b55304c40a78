"""Which configuration applies to each file: the nearest `pyproject.toml` with `[tool.cfglint]`.

As in ruff, a file follows the configuration closest to it, so `cfglint check a/x.py b/y.py` and
`cfglint check .` treat each file the same whatever the order of the arguments; command-line options
are layered on top of every configuration. `--config FILE` applies one configuration to all files.

`resolve_settings` is the one way in: `check`, `verify`, the pytest plugin and the language server all
call it, so a file gets the same settings whichever of them looks at it.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from cfglint.config import RuleSelection, Settings, load_settings, validate_codes
from cfglint.finding import Target
from cfglint.rules import ALL_RULES, DEFAULT_CODES


@dataclass(frozen=True)
class CliOverrides:
    """Rule selection and target given on the command line (None: not given)."""

    select: Sequence[str] | None = None
    ignore: Sequence[str] | None = None
    extend_select: Sequence[str] | None = None
    target: Target | None = None  # the spelling users type ("tf-keras") is accepted and converted
    exclude: tuple[str, ...] | None = None  # replaces `exclude`
    extend_exclude: tuple[str, ...] = ()  # added to `extend-exclude`
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] | None = None  # replaces `per-file-ignores`

    def __post_init__(self) -> None:
        if self.target is not None and not isinstance(self.target, Target):
            object.__setattr__(self, "target", Target(self.target))

    def apply(self, settings: Settings) -> Settings:
        """`settings` with the path options of the command line layered on top (as ruff does)."""
        if self.exclude is None and not self.extend_exclude and self.per_file_ignores is None:
            return settings
        return replace(settings, exclude=settings.exclude if self.exclude is None else self.exclude,
                       extend_exclude=(*settings.extend_exclude, *self.extend_exclude),
                       per_file_ignores=settings.per_file_ignores if self.per_file_ignores is None
                       else self.per_file_ignores)


@dataclass(frozen=True)
class FileSettings:
    """What one file is checked with: its configuration, the rules it runs and its target."""

    settings: Settings
    selection: RuleSelection
    target: Target  # AUTO: decided per file from its imports and project (`Checker.decision_of`)

    def __post_init__(self) -> None:
        if not isinstance(self.target, Target):
            object.__setattr__(self, "target", Target(self.target))


class SettingsResolver:
    """Loads each configuration once and remembers which one every directory uses.

    `base` is the configuration as loaded; `self.base` is it with the command line applied (what
    discovery and the cache use)."""

    def __init__(self, base: Settings, *, all_codes: Collection[str], default_codes: Collection[str],
                 cli: CliOverrides = CliOverrides(), fixed: bool = False) -> None:
        self.base = cli.apply(base)
        self._all_codes = all_codes
        self._default_codes = default_codes
        self.cli = cli
        self._fixed = fixed  # --config given, or a single settings object handed in
        self._by_config: dict[Path | None, FileSettings] = {}
        self._by_dir: dict[str, FileSettings] = {}
        self.default = self._file_settings(base)

    def _file_settings(self, settings: Settings) -> FileSettings:
        key = settings.config_path
        if key not in self._by_config:
            settings = self.cli.apply(settings)
            selection = RuleSelection.from_settings(
                settings, all_codes=self._all_codes, default_codes=self._default_codes,
                cli_select=self.cli.select, cli_ignore=self.cli.ignore,
                cli_extend_select=self.cli.extend_select)
            self._by_config[key] = FileSettings(settings, selection, self.cli.target or settings.target)
        return self._by_config[key]

    def for_path(self, path: str | Path) -> FileSettings:
        """The settings of the configuration nearest to `path` (a file that may not exist: stdin)."""
        if self._fixed:
            return self.default
        return self._for_dir(os.path.dirname(os.path.abspath(path)))

    def _for_dir(self, directory: str) -> FileSettings:
        """One `pyproject.toml` look-up per directory: a directory without one inherits its parent's."""
        found = self._by_dir.get(directory)
        if found is not None:
            return found
        candidate = os.path.join(directory, "pyproject.toml")
        table_path = Path(candidate) if os.path.isfile(candidate) and _mentions_cfglint(candidate) else None
        settings = load_settings(Path(directory), known_codes=self._all_codes) if table_path else None
        if settings is not None and settings.config_path is not None:
            found = self._file_settings(settings)
        else:
            parent = os.path.dirname(directory)
            found = self.default if parent == directory else self._for_dir(parent)
        self._by_dir[directory] = found
        return found


def resolve_settings(start: Path, *, config_file: Path | None = None, cli: CliOverrides = CliOverrides(),
                     fallback: Path | None = None) -> SettingsResolver:
    """The settings of a run: the configuration nearest to `start` (a directory) is the base, or
    `config_file` for every file when given; each file then follows the configuration nearest to it,
    with `cli` layered on top. `fallback` is where to look when nothing configures `start` (the
    command line uses the working directory). Raises `ConfigError` for any mistake, the command line's
    `--per-file-ignores` codes first, as they are read first."""
    for _, codes in cli.per_file_ignores or ():
        validate_codes(codes, ALL_RULES, where="--per-file-ignores")
    base = load_settings(start.absolute(), known_codes=ALL_RULES, config_file=config_file)
    if base.config_path is None and config_file is None and fallback is not None:
        base = load_settings(fallback.absolute(), known_codes=ALL_RULES)
    return SettingsResolver(base, all_codes=ALL_RULES, default_codes=DEFAULT_CODES, cli=cli,
                            fixed=config_file is not None)


def one_configuration(settings: Settings, selection: RuleSelection | None = None,
                      target: Target | str | None = None) -> SettingsResolver:
    """Every file checked with `settings` (and `selection`, `target` when given) whatever configuration
    lies nearer to it: what tests, and callers holding one configuration, ask for."""
    resolver = SettingsResolver(settings, all_codes=ALL_RULES, default_codes=DEFAULT_CODES,
                                cli=CliOverrides(target=None if target is None else Target(target)), fixed=True)
    if selection is not None:
        resolver.default = FileSettings(settings, selection, Target(target or settings.target))
    return resolver


def _mentions_cfglint(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            return b"cfglint" in handle.read()
    except OSError:
        return False
