"""The result cache: per-file facts keyed on content, and a snapshot of the last run's findings.

Two levels, both under `.cfglint_cache/` at the project root (with a `CACHEDIR.TAG` and a `.gitignore`):

* per file: its prefilter signature and, once parsed, its facts (or its CFG001 error), keyed on the
  file's stat (mtime, size, inode) and, when the stat changed, on a hash of its bytes; a file whose
  stat is unchanged is never read again;
* per run: the list of files with their stats, the settings fingerprint and the sorted findings. When
  nothing at all changed, those findings are the answer and no source is read or parsed.

Findings are never reused across a change: when any file changed, was added or removed, the rules
run again over the (mostly cached) facts of every file, so a base class edited in another file always
reaches its subclasses. The cache directory is versioned by cfglint's version, so an upgrade starts
cold. Everything is written atomically (temporary file, then rename).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfglint import __version__
from cfglint.facts import ModuleFacts
from cfglint.finding import Finding
from cfglint.prefilter import Signature

CACHE_DIR_NAME = ".cfglint_cache"
CACHEDIR_TAG = ("Signature: 8a477f597d28d172789f06886806bc55\n"
                "# This file is a cache directory tag created by cfglint.\n"
                "# For information about cache directory tags see https://bford.info/cachedir/\n")


def _facts_schema() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The field names of every facts class: cached facts pickled before a field was added would
    lack it, so a change of the schema makes the per-file cache start cold."""
    from dataclasses import fields, is_dataclass

    from cfglint import facts

    return tuple((name, tuple(f.name for f in fields(cls))) for name, cls in sorted(vars(facts).items())
                 if isinstance(cls, type) and is_dataclass(cls) and cls.__module__ == facts.__name__)


FORMAT = (1, _facts_schema())

StatKey = tuple[int, int, int]


def stat_key(st: os.stat_result) -> StatKey:
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


@dataclass
class FileEntry:
    stat: StatKey
    digest: bytes
    module: str  # the dotted name the facts were extracted under
    signature: Signature | None = None  # None: the file could not be decoded
    facts: ModuleFacts | None = None  # set once parsed
    error: tuple[str, int, int] | None = None  # CFG001: message, line, column


@dataclass
class Snapshot:
    key: str  # version, arguments and settings of the run
    files: tuple[tuple[str, StatKey], ...]  # every file read or consulted, with its stat
    findings: list[Finding] = field(default_factory=list)
    files_checked: int = 0


class ResultCache:
    """Loaded lazily, saved once at the end of a run. A disabled cache remembers nothing.

    Snapshots (small: stats and findings) and file entries (large: facts) live in separate files, so
    a warm run over an unchanged tree reads only the first."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self._entries: dict[str, FileEntry] | None = None
        self._snapshots: dict[str, Snapshot] | None = None
        self._used: set[str] = set()
        self._dirty = False

    @property
    def enabled(self) -> bool:
        return self.directory is not None

    def _path(self, name: str) -> Path:
        assert self.directory is not None
        return self.directory / __version__ / name

    def _read(self, name: str) -> dict[str, Any]:
        if self.directory is None:
            return {}
        try:
            with open(self._path(name), "rb") as handle:
                data = pickle.load(handle)
        except Exception:  # noqa: BLE001 - missing, from another format, or damaged: start cold
            return {}
        return data.get("items", {}) if isinstance(data, dict) and data.get("format") == FORMAT else {}

    @property
    def entries(self) -> dict[str, FileEntry]:
        if self._entries is None:
            self._entries = self._read("entries.pickle")
        return self._entries

    @property
    def snapshots(self) -> dict[str, Snapshot]:
        if self._snapshots is None:
            self._snapshots = self._read("snapshots.pickle")
        return self._snapshots

    # ------------------------------------------------------------------ per file
    def by_stat(self, key: str, stat: StatKey) -> FileEntry | None:
        entry = self.entries.get(key)
        if entry is not None and entry.stat == stat:
            self._used.add(key)
            return entry
        return None

    def by_digest(self, key: str, stat: StatKey, content_digest: bytes) -> FileEntry | None:
        """A file touched but not changed (same bytes): the entry, with its new stat."""
        entry = self.entries.get(key)
        if entry is not None and entry.digest == content_digest:
            entry.stat = stat
            self._used.add(key)
            self._dirty = True
            return entry
        return None

    def put(self, key: str, entry: FileEntry) -> None:
        self.entries[key] = entry
        self._used.add(key)
        self._dirty = True

    # ------------------------------------------------------------------ per run
    def snapshot(self, key: str) -> Snapshot | None:
        return self.snapshots.get(key) if self.directory is not None else None

    def save(self, snapshot: Snapshot | None) -> None:
        if self.directory is None:
            return
        try:
            _prepare(self.directory)
            self._path("").mkdir(parents=True, exist_ok=True)
            _distrust_recent(self._entries or {}, self.snapshots if snapshot is None else {snapshot.key: snapshot})
            if self._dirty and self._entries is not None:
                # facts of parsed files are what later runs reuse; entries of files last seen long ago
                # go once there are many (runs over different subtrees of a huge repository)
                entries = self._entries if len(self._entries) < 50_000 else {
                    k: self._entries[k] for k in self._used}
                _write(self._path("entries.pickle"), entries)
            if snapshot is not None:
                snapshots = {k: v for k, v in self.snapshots.items() if k != snapshot.key}
                snapshots[snapshot.key] = snapshot
                _write(self._path("snapshots.pickle"), dict(list(snapshots.items())[-8:]))
        except OSError:
            pass  # a read-only checkout still gets its findings, just no cache


RACY_NS = 2_000_000_000  # a file modified this close to the save may change again within the same tick


def _distrust_recent(entries: dict[str, FileEntry], snapshots: dict[str, Snapshot]) -> None:
    """Like git's racy-index rule: a stat taken within two seconds of now is not proof of identity
    (an edit of the same size in the same clock tick keeps it), so such files are re-hashed next time
    and a snapshot that contains one is not reused."""
    import time

    recent = time.time_ns() - RACY_NS
    for entry in entries.values():
        if entry.stat[0] >= recent:
            entry.stat = (0, 0, 0)
    for key, snapshot in list(snapshots.items()):
        if any(stat is not None and stat[0] >= recent for _, stat in snapshot.files):
            snapshot.files = (("<racy>", None),)


def _write(path: Path, items: dict[str, Any]) -> None:
    """Atomically: a temporary file in the same directory, then a rename."""
    import tempfile  # only when writing: it is a slow import for the one-file path

    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            pickle.dump({"format": FORMAT, "items": items}, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _prepare(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    tag = directory / "CACHEDIR.TAG"
    if not tag.exists():
        tag.write_text(CACHEDIR_TAG, encoding="utf-8")
    ignore = directory / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# Created by cfglint\n*\n", encoding="utf-8")


def run_key(*parts: Any) -> str:
    """A stable key for a run's arguments and settings."""
    return hashlib.blake2b(repr(parts).encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()


def clean(directory: Path) -> bool:
    """Remove a cache directory; True when there was one."""
    if not (directory / "CACHEDIR.TAG").exists():
        return False
    import shutil

    shutil.rmtree(directory, ignore_errors=True)
    return True
