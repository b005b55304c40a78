"""The `[*]` marks of each file, kept from one run to the next while what they depend on is unchanged.

A run's whole plan is cached under its inputs (`cfglint.fixes.plan`), so an unchanged tree plans
nothing. Once any file changes, that key is new, and without this memo every file with a fixable
finding would be planned again (fixed in memory and checked again) for the sake of one edit. A file's
marks depend only on its own text and module name, its findings, the files its checks looked up to
resolve names (base classes, re-exports, modules looked for and absent) and the configuration; the memo records
them with each file's marks, and a later run reuses the marks of every file whose findings are the
same and whose recorded files all have the stat this run read them with.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from cfglint.cache import stat_key
from cfglint.finding import Finding
from cfglint.project import module_name
from cfglint.reporters import Identity, identity

if TYPE_CHECKING:
    from cfglint.cache import ResultCache, StatKey
    from cfglint.fixes.files import FileResult


class MarksMemo:
    """The recorded marks of the last run with the same configuration, checked against the stats this
    run read its files with (`read_stats`, None for a file looked for and absent)."""

    def __init__(self, cache: ResultCache, settings_key: str, unsafe: bool,
                 read_stats: Mapping[str, StatKey | None]) -> None:
        import time

        from cfglint.cache import RACY_NS, run_key

        self.cache = cache
        self.key = run_key("fix-marks-by-file", settings_key, unsafe)
        self.stats: dict[str, Any] = {path: None if stat is None else list(stat) for path, stat in read_stats.items()}
        # as the result cache's rule: a stat from the clock tick of an edit proves nothing, so a file
        # modified within two seconds is never recorded as read (its marks are planned next time too)
        self.recent = time.time_ns() - RACY_NS
        stored = cache.plan(self.key)
        self.table: dict[str, Any] = stored if isinstance(stored, dict) else {}
        self.changed = False

    def marks(self, path: str, findings: Sequence[Finding]) -> frozenset[Identity] | None:
        """The marks recorded for the file, if its findings and everything its planning read are as
        they were; else None (the file is planned again)."""
        entry = self.table.get(os.path.abspath(path))
        try:
            if entry is None or entry["findings"] != [list(identity(f)) for f in findings] \
                    or entry["module"] != module_name(path)[0]:
                return None
            if any(self._stat(dep) != stat for dep, stat in entry["reads"]):
                return None
            return frozenset(tuple(item) for item in entry["marked"])
        except (TypeError, KeyError, ValueError):
            return None

    def record(self, result: FileResult, findings: Sequence[Finding]) -> None:
        """Keep a planned file's marks, unless it read something this run's snapshot does not vouch for."""
        if result.looked_up is None:
            return
        key = os.path.abspath(result.path)
        reads = sorted({key, *result.looked_up})
        if any((stat := self._stat(dep)) is not None and stat[0] >= self.recent for dep in reads):
            return
        marked = [list(identity(f)) for f in result.reported] if result.changed else []
        self.table[key] = {"findings": [list(identity(f)) for f in findings], "marked": marked,
                           "module": module_name(result.path)[0], "reads": [[dep, self._stat(dep)] for dep in reads]}
        self.changed = True

    def _stat(self, path: str) -> list[int] | None:
        """The stat this run read `path` with; for a file only the planning looked for (a module
        candidate of a re-export chain, mostly absent), its stat now."""
        if path not in self.stats:
            try:
                self.stats[path] = list(stat_key(os.stat(path)))
            except OSError:
                self.stats[path] = None
        stat: list[int] | None = self.stats[path]
        return stat

    def forget_missing(self, paths: Iterable[str]) -> None:
        """Drop the files no longer planned (no fixable finding any more, or gone)."""
        keep = {os.path.abspath(path) for path in paths}
        for key in [k for k in self.table if k not in keep]:
            del self.table[key]
            self.changed = True

    def save(self) -> None:
        """Keep the table as the newest plan (also when unchanged: the plan file keeps only the newest few)."""
        if self.table or self.changed:
            self.cache.save_plan(self.key, self.table)
