"""The configuration of each directory, and noticing when it changes.

A document is checked with the configuration nearest to it (`[tool.cfglint]` in a `pyproject.toml`).
A long-lived server must notice such a file appearing, changing or disappearing, whether or not the
client reports it: every check compares a fingerprint of the files' `stat`, which is cheap.
No pygls here: this is plain bookkeeping.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONFIG_FILE = "pyproject.toml"

__all__ = ["CONFIG_FILE", "LoadedConfig", "SettingsCache", "config_fingerprint"]


def config_fingerprint(directory: str) -> tuple[tuple[str, int, int, int], ...]:
    """The identity of every `pyproject.toml` from `directory` up to the filesystem root: any file
    appearing, changing or disappearing there changes it. A few `stat` calls."""
    result = []
    current = os.path.abspath(directory)
    while True:
        candidate = os.path.join(current, CONFIG_FILE)
        try:
            stat = os.stat(candidate)
        except OSError:
            pass
        else:
            result.append((candidate, stat.st_mtime_ns, stat.st_size, stat.st_ino))
        parent = os.path.dirname(current)
        if parent == current:
            return tuple(result)
        current = parent


@dataclass(frozen=True)
class LoadedConfig:
    """The settings and resolver for one directory, or the configuration error found there."""

    fingerprint: tuple[Any, ...]
    base: Any = None  # cfglint.config.Settings
    resolver: Any = None  # cfglint.settings_resolver.SettingsResolver
    error: str | None = None


class SettingsCache:
    """The configuration of each directory, loaded once and re-loaded when its fingerprint changes."""

    def __init__(self) -> None:
        self._entries: dict[str, LoadedConfig] = {}

    def get(self, directory: str) -> LoadedConfig:
        fingerprint = config_fingerprint(directory)
        entry = self._entries.get(directory)
        if entry is None or entry.fingerprint != fingerprint:
            entry = self._entries[directory] = _load_config(directory, fingerprint)
        return entry

    def stale(self) -> bool:
        """Whether a `pyproject.toml` above a loaded directory appeared, changed or disappeared since."""
        return any(config_fingerprint(directory) != entry.fingerprint
                   for directory, entry in list(self._entries.items()))


def _load_config(directory: str, fingerprint: tuple[Any, ...]) -> LoadedConfig:
    """As `cfglint check` does for one file: the nearest configuration is the base, and a resolver
    hands each path the configuration nearest to it (no command-line overrides)."""
    from cfglint.config import ConfigError
    from cfglint.settings_resolver import resolve_settings

    try:
        resolver = resolve_settings(Path(directory))
        resolver.for_path(os.path.join(directory, "__cfglint__.py"))  # surfaces errors of nested configs now
    except ConfigError as exc:
        return LoadedConfig(fingerprint, error=str(exc))
    return LoadedConfig(fingerprint, resolver.base, resolver)
