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
cold, and so does any change to cfglint's own code or a switch to another Python (the files hold a digest of
the package's files and the interpreter's version).

The files are JSON read through a strict, type-checked decoder (`cfglint.plaindata`): the cache sits in
the user's tree where anyone can plant a file, and reading it must never run code. Anything that does
not have the expected shape is a miss, never an error. Everything is written atomically (temporary file,
then rename). A file's stat key includes its ctime and inode, which `cp -p`, `rsync -t` or `tar x` cannot
restore, so an edit that keeps size and mtime is still seen.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfglint import __version__
from cfglint.facts import ModuleFacts
from cfglint.finding import Finding
from cfglint.plaindata import PlainDataError, decoder, encode
from cfglint.prefilter import Signature
from cfglint.replay import CACHE_DIR_NAME as CACHE_DIR_NAME  # one name, read before the rest is loaded

CACHEDIR_TAG = ("Signature: 8a477f597d28d172789f06886806bc55\n"
                "# This file is a cache directory tag created by cfglint.\n"
                "# For information about cache directory tags see https://bford.info/cachedir/\n")
FORMAT = 3  # 3: JSON (2: facts record their Keras imports)
ENTRIES_FILE = "entries.json"
SNAPSHOTS_FILE = "snapshots.json"
PLANS_FILE = "fixplans.json"

StatKey = tuple[int, int, int, int, int]  # mtime, ctime (ns), size, inode, device
UNTRUSTED: StatKey = (0, 0, 0, 0, 0)  # matches no real file: the entry is found by content only


def stat_key(st: os.stat_result) -> StatKey:
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino, st.st_dev)


def digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()



Inputs = tuple[str, tuple[tuple[str, "StatKey | None"], ...]]  # a run's key and every file it read, with its stat

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
    files: tuple[tuple[str, StatKey | None], ...]  # every file read or consulted, with its stat
    findings: list[Finding] = field(default_factory=list)
    files_checked: int = 0


class Encoded(str):
    """An entry already written as JSON text (its facts encoded by a worker process that parsed
    them): spliced into the entries file as it is, so the end of a parallel run encodes nothing."""


def facts_json(facts: ModuleFacts | None) -> str | None:
    """The facts as JSON text, to be spliced into their entry by `ResultCache.put`; None when they
    cannot be written (they are then encoded again, and fail the same way, when the cache is saved)."""
    try:
        return json.dumps(encode(facts), separators=(",", ":"), allow_nan=False)
    except (PlainDataError, ValueError, RecursionError):
        return None


def _entry_json(entry: FileEntry, facts: str) -> Encoded:
    """`entry` as `encode` and `json` write it, with `facts` already written."""
    parts = [facts if f.name == "facts" else json.dumps(encode(getattr(entry, f.name)), separators=(",", ":"),
                                                        allow_nan=False)
             for f in dataclasses.fields(FileEntry)]
    return Encoded(f"[{','.join(parts)}]")


_decode_entry: Callable[[Any], FileEntry] = decoder(FileEntry)
_decode_snapshot: Callable[[Any], Snapshot] = decoder(Snapshot)


class ResultCache:
    """Loaded lazily, saved once at the end of a run. A disabled cache remembers nothing.

    Snapshots (small: stats and findings) and file entries (large: facts) live in separate files, so
    a warm run over an unchanged tree reads only the first. File entries are decoded one by one when
    first asked for; a damaged entry is dropped and the file is read again."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self._raw_entries: dict[str, Any] | None = None  # key -> encoded entry, decoded on demand
        self._entries: dict[str, FileEntry] = {}  # decoded or new entries
        self._as_read: dict[str, tuple[Any, tuple[Any, ...]]] = {}  # key -> (encoded form, shape when decoded)
        self._snapshots_raw: dict[str, Any] | None = None  # key -> encoded snapshot: one is decoded, if any
        self._used: set[str] = set()
        self._dirty = False
        self._code: str | None = None

    @property
    def enabled(self) -> bool:
        return self.directory is not None

    def _path(self, name: str) -> Path:
        assert self.directory is not None
        return self.directory / __version__ / name

    @property
    def code_digest(self) -> str:
        """A digest of cfglint's own sources: results of other code are never served."""
        if self._code is None:
            self._code = code_digest()
        return self._code

    def _read(self, name: str) -> dict[str, Any]:
        """The items of one cache file, or {} when it is missing, of another format or code, or damaged."""
        if self.directory is None:
            return {}
        try:
            with open(self._path(name), "rb") as handle:
                data = json.loads(handle.read())
        except (OSError, ValueError, RecursionError, MemoryError):
            return {}
        if (type(data) is not dict or data.get("format") != FORMAT or data.get("code") != self.code_digest
                or type(data.get("items")) is not dict):
            return {}
        items: dict[str, Any] = data["items"]
        return items

    def _raw(self) -> dict[str, Any]:
        if self._raw_entries is None:
            self._raw_entries = self._read(ENTRIES_FILE)
        return self._raw_entries

    def _get(self, key: str) -> FileEntry | None:
        entry = self._entries.get(key)
        if entry is None:
            raw = self._raw().pop(key, None)
            if raw is None:
                return None
            try:
                entry = _decode_entry(raw)
            except (PlainDataError, RecursionError):
                self._dirty = True  # rewritten without it
                return None
            self._entries[key] = entry
            self._as_read[key] = (raw, _shape(entry))
        return entry

    def _raw_snapshots(self) -> dict[str, Any]:
        if self._snapshots_raw is None:
            self._snapshots_raw = self._read(SNAPSHOTS_FILE)
        return self._snapshots_raw

    # ------------------------------------------------------------------ per file
    def by_stat(self, key: str, stat: StatKey) -> FileEntry | None:
        entry = self._get(key)
        if entry is not None and entry.stat == stat and stat != UNTRUSTED:
            self._used.add(key)
            return entry
        return None

    def by_digest(self, key: str, stat: StatKey, content_digest: bytes) -> FileEntry | None:
        """A file touched but not changed (same bytes): the entry, with its new stat."""
        entry = self._get(key)
        if entry is not None and entry.digest == content_digest:
            entry.stat = stat
            self._used.add(key)
            self._dirty = True
            return entry
        return None

    def put(self, key: str, entry: FileEntry, facts: str | None = None) -> None:
        """Keep `entry`; `facts` is its facts (or their absence) already written as JSON (`facts_json`)."""
        self._entries[key] = entry
        self._as_read.pop(key, None)
        if facts is not None and self.directory is not None:
            with contextlib.suppress(PlainDataError, ValueError, RecursionError):
                self._as_read[key] = (_entry_json(entry, facts), _shape(entry))
        self._raw().pop(key, None)
        self._used.add(key)
        self._dirty = True

    def forget(self, key: str) -> None:
        """Drop what is known of a file (it could not be read: nothing about it may be kept)."""
        if self._entries.pop(key, None) is not None or self._raw().pop(key, None) is not None:
            self._dirty = True
        self._used.discard(key)

    # ------------------------------------------------------------------ per run
    def snapshot(self, key: str) -> Snapshot | None:
        """The snapshot of the run `key`: only that one is decoded (a warm run pays for nothing else)."""
        raw = self._raw_snapshots().get(key) if self.directory is not None else None
        if raw is None:
            return None
        try:
            return _decode_snapshot(raw)
        except (PlainDataError, RecursionError):
            return None

    def save(self, snapshot: Snapshot | None) -> None:
        if self.directory is None:
            return
        try:
            _prepare(self.directory)
            self._path("").mkdir(parents=True, exist_ok=True)
            _distrust_recent(self._entries, {} if snapshot is None else {snapshot.key: snapshot})
            # an entry decoded and left as it was keeps its encoded form: a run where one file changed
            # encodes one entry, not every entry of the tree
            items = dict(self._raw())
            changed = self._dirty
            for key, entry in self._entries.items():
                read = self._as_read.get(key)
                if read is not None and read[1] == _shape(entry):
                    items[key] = read[0]
                else:
                    items[key] = encode(entry)
                    changed = True
            if changed:
                # facts of parsed files are what later runs reuse; entries of files last seen long ago
                # go once there are many (runs over different subtrees of a huge repository)
                if len(items) >= 50_000:
                    items = {k: items[k] for k in self._used if k in items}
                self._write(self._path(ENTRIES_FILE), items)
            if snapshot is not None:
                self._write(self._path(SNAPSHOTS_FILE), _recent(self._raw_snapshots(), snapshot.key, encode(snapshot)))
        except (OSError, ValueError, RecursionError):
            pass  # a read-only checkout still gets its findings, just no cache

    def _write(self, path: Path, items: dict[str, Any]) -> None:
        document = {"format": FORMAT, "code": self.code_digest, "items": items}
        if not any(type(value) is Encoded for value in items.values()):
            _write(path, document)
            return
        compact = functools.partial(json.dumps, separators=(",", ":"), allow_nan=False)
        head = compact({"format": FORMAT, "code": self.code_digest})[:-1]  # the same text as `json.dumps`
        body = ",".join(f"{compact(key)}:{value if type(value) is Encoded else compact(value)}"
                        for key, value in items.items())
        _write_text(path, f'{head},"items":{{{body}}}}}')

    # ------------------------------------------------------------------ fix plans
    def plan(self, key: str) -> Any:
        """What the fixes were planned to do for the run `key` (plain JSON data), or None."""
        return self._read(PLANS_FILE).get(key) if self.directory is not None else None

    def save_plan(self, key: str, value: Any) -> None:
        """Keep the plan of the run `key` beside the last few others."""
        if self.directory is None:
            return
        try:
            _prepare(self.directory)
            self._path("").mkdir(parents=True, exist_ok=True)
            self._write(self._path(PLANS_FILE), _recent(self._read(PLANS_FILE), key, value))
        except (OSError, ValueError, RecursionError):
            pass


def _recent(items: dict[str, Any], key: str, value: Any, keep: int = 8) -> dict[str, Any]:
    """`items` with `key` set to `value` as the newest, and only the `keep` newest kept (runs over
    different paths or settings each have their own)."""
    newest = {k: v for k, v in items.items() if k != key}
    newest[key] = value
    return dict(list(newest.items())[-keep:])


def _shape(entry: FileEntry) -> tuple[Any, ...]:
    """What can change in an entry after it was read: its stat (touched, distrusted) and whether it has
    been parsed since. Facts, once there, are never changed in place."""
    return (entry.stat, entry.digest, entry.module, entry.signature is None, entry.facts is None, entry.error)


RACY_NS = 2_000_000_000  # a file modified this close to the save may change again within the same tick


def _distrust_recent(entries: dict[str, FileEntry], snapshots: dict[str, Snapshot]) -> None:
    """Like git's racy-index rule: a stat taken within two seconds of now is not proof of identity
    (an edit of the same size in the same clock tick keeps it), so such files are re-hashed next time
    and a snapshot that contains one is not reused."""
    import time

    recent = time.time_ns() - RACY_NS
    for entry in entries.values():
        if entry.stat[0] >= recent:
            entry.stat = UNTRUSTED
    for _key, snapshot in list(snapshots.items()):
        if any(stat is not None and stat[0] >= recent for _, stat in snapshot.files):
            snapshot.files = (("<racy>", None),)


def _write(path: Path, document: dict[str, Any]) -> None:
    """Atomically: a temporary file in the same directory, then a rename."""
    _write_text(path, json.dumps(document, separators=(",", ":"), allow_nan=False))  # (`dump` would not use C)


def _write_text(path: Path, text: str) -> None:
    import tempfile  # only when writing: it is a slow import for the one-file path

    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


PACKAGE_ROOT = Path(__file__).parent  # the cfglint package whose files the digest covers


def interpreter() -> str:
    """The Python implementation and major.minor version: `ast` and the standard library differ between
    them, so facts and findings from one are not reused by another."""
    return f"{sys.implementation.name}-{sys.version_info[0]}.{sys.version_info[1]}"


def code_digest() -> str:
    """A digest of the code that produced the cached results: every file of the cfglint package and the
    interpreter running it."""
    return _package_digest(PACKAGE_ROOT, interpreter())


@functools.lru_cache(maxsize=4)
def _package_digest(package: Path, python: str) -> str:
    """Every file under `package` (subpackages and data files too; bytecode caches excepted), by relative
    path and content: about 70 small files, read once per process (a millisecond or two)."""
    h = hashlib.blake2b(f"{__version__}\0{python}".encode(), digest_size=16)
    for path in sorted(package.rglob("*")):
        relative = path.relative_to(package)
        skipped = "__pycache__" in relative.parts or CACHE_DIR_NAME in relative.parts
        if skipped or path.suffix in (".pyc", ".pyo") or not path.is_file():
            continue
        try:
            data = path.read_bytes()
        except OSError:
            continue
        name = relative.as_posix().encode("utf-8", "surrogateescape")
        h.update(len(name).to_bytes(4, "big") + name + len(data).to_bytes(8, "big") + data)
    return h.hexdigest()


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
