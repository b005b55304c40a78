"""Replay of an unchanged `cfglint check`: the previous report, printed again without re-checking.

A repeated check of a tree where nothing changed is the commonest run there is (a pre-commit hook on
an untouched tree, CI re-runs, an editor's "lint on save" of another file). The result cache already
makes it cheap, but the run still pays for its imports, settings, discovery and snapshot decoding.
Here a run that was eligible leaves a *record*: what it was asked (arguments, working directory, the
environment variables cfglint reads, whether its output streams are terminals, the interpreter and
cfglint's own files) and everything it read, each with its `stat`:

* the files it checked or consulted (base classes in other files, modules looked for and absent);
* the configuration and dependency metadata files it used;
* the folders whose listings it read (a file added, removed or renamed changes the folder's stat);
* above those, the names it probed (`pyproject.toml`, `.git`, `.gitignore`, `__init__.py`, ...).

The next run with the same request first looks for a record; when every input still has its recorded
stat, it prints the recorded output and exits with the recorded code, importing nothing else of cfglint.
Any difference, or any input modified within two seconds of the recording run's start (a stat taken
in the same clock tick as an edit proves nothing, as git's racy-index rule says), and the run is done
in full. Runs that write files, read standard input or fail with errors are never recorded; neither
are runs with `--no-cache`, which also skip the look-up.

This module imports only the standard library, and little of it: it runs before everything else.
"""

from __future__ import annotations

import json
import os
import sys
import time

from cfglint import __version__

TYPE_CHECKING = False  # `typing` is not imported at run time: this module's imports are the fast path's
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Any, TextIO

CACHE_DIR_NAME = ".cfglint_cache"  # the cache's folder (`cfglint.cache` takes the name from here)
RECORDS_FOLDER = "replay"  # one file per distinct request, named by a checksum of it
FORMAT = 2
KEEP = 8  # records kept per cache folder (one per distinct command line), the most recent
RACY_NS = 2_000_000_000
ENVIRONMENT = ("NO_COLOR", "FORCE_COLOR", "TERM", "COLUMNS", "LANG", "LC_ALL", "LC_CTYPE",
               "PYTHONIOENCODING", "PYTHONUTF8")  # besides every CFGLINT_* variable
# names whose presence (and content) decides the configuration, the Git ignore rules, package names
PROBED = ("pyproject.toml", ".gitignore", ".git", "__init__.py", os.path.join(".git", "info", "exclude"))
CONTENT_READ = ("pyproject.toml", ".gitignore")  # read in the folders that are listed, too

StatKey = tuple[int, int, int, int, int]


def stat_key(path: str) -> StatKey | None:
    """(mtime, ctime, size, inode, device), or None when there is nothing at `path`."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino, st.st_dev)


def request(argv: Sequence[str]) -> dict[str, Any]:
    """What decides a run's output besides the files it reads (as it reads back from JSON)."""
    env = {name: value for name, value in os.environ.items() if name.startswith("CFGLINT_") or name in ENVIRONMENT}
    return {"argv": list(argv), "cwd": os.getcwd(), "env": env,
            "tty": [_isatty(sys.stdout), _isatty(sys.stderr)],
            "python": sys.version, "executable": sys.executable, "cfglint": __version__}


# Options under which a run is never recorded: it writes files, reads standard input, runs until
# interrupted, or prints something other than a report (the run itself also refuses to offer a record).
NEVER_RECORDED = frozenset({"--no-cache", "--fix", "--diff", "--add-noqa", "--watch", "--stdin-filename", "-",
                            "--show-settings", "--show-files", "--output-file", "-o", "--fix-only"})


def may_record(argv: Sequence[str]) -> bool:
    """Whether this command line may be recorded (then its output is kept while it runs)."""
    return argv[:1] == ["check"] and not any(arg.partition("=")[0] in NEVER_RECORDED for arg in argv[1:])


def replay(argv: Sequence[str]) -> int | None:
    """Print the recorded output of this very run and return its exit code; None when there is no
    record of it or anything it read has changed (then the run is done in full)."""
    if not may_record(argv):
        return None
    if os.environ.get("CFGLINT_NO_CACHE", "").lower() not in ("", "0", "false", "no"):
        return None
    try:
        asked = request(argv)
        name = record_name(asked)
        for folder in _record_folders(argv):
            record = _read(os.path.join(folder, name))
            if record is not None and record.get("request") == asked and _unchanged(record["inputs"]):
                return _print(record)
    except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError):
        return None
    return None


def record_name(asked: dict[str, Any]) -> str:
    """The file name of a request's record: a run reads only its own record, never the others'."""
    import zlib

    return f"{zlib.crc32(json.dumps(asked, sort_keys=True).encode('utf-8', 'surrogateescape')):08x}.json"


def _record_folders(argv: Sequence[str]) -> Iterable[str]:
    """The record folders a run may have written to: `--cache-dir`'s, else those of the cache folders
    of the working directory and its parents (the project root, where the cache lives, is one of them)."""
    for index, arg in enumerate(argv):
        if arg == "--cache-dir" and index + 1 < len(argv):
            yield os.path.join(argv[index + 1], __version__, RECORDS_FOLDER)
            return
        if arg.startswith("--cache-dir="):
            yield os.path.join(arg.partition("=")[2], __version__, RECORDS_FOLDER)
            return
    directory = os.getcwd()
    while True:
        yield os.path.join(directory, CACHE_DIR_NAME, __version__, RECORDS_FOLDER)
        parent = os.path.dirname(directory)
        if parent == directory:
            return
        directory = parent


def _read(path: str) -> dict[str, Any] | None:
    """The record in `path`; None when there is none (or it is not one)."""
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except FileNotFoundError:
        return None
    if type(document) is not dict or document.get("format") != FORMAT:
        return None
    return document


def _unchanged(inputs: list[list[Any]]) -> bool:
    """Every input, grouped by folder as `[folder, [[name, stat or null], ...]]`, has its recorded stat."""
    join, stat = os.path.join, os.stat
    for folder, entries in inputs:
        for name, expected in entries:
            try:
                st = stat(join(folder, name) if name else folder)
            except OSError:
                if expected is not None:
                    return False
                continue
            if expected is None or expected != [st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino, st.st_dev]:
                return False
    return True


def _print(record: dict[str, Any]) -> int:
    streams = {1: sys.stdout, 2: sys.stderr}
    if hasattr(sys.stdout, "reconfigure"):  # as the run did: names that are not UTF-8 never crash it
        sys.stdout.reconfigure(errors="backslashreplace")
    try:
        for fd, text in record["output"]:
            streams[fd].write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 2
    code: int = record["code"]
    return code


def _isatty(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (ValueError, OSError):
        return False


class _Tee:
    """A text stream that writes through to `stream` and remembers what was written, in order."""

    def __init__(self, stream: TextIO, fd: int, log: list[list[Any]]) -> None:
        self._stream, self._fd, self._log = stream, fd, log

    def write(self, text: str) -> int:
        self._log.append([self._fd, text])
        return self._stream.write(text)

    def __getattr__(self, name: str) -> Any:  # isatty, flush, fileno, encoding, reconfigure, ...
        return getattr(self._stream, name)


class Recorder:
    """Watches one run: what it printed, and (when the run says it may be replayed) what it read."""

    def __init__(self, argv: Sequence[str]) -> None:
        self.started = time.time_ns()
        self.request = request(argv)
        self.output: list[list[Any]] = []
        self.offer: tuple[str, list[list[Any]]] | None = None
        self._saved = (sys.stdout, sys.stderr)
        sys.stdout = _Tee(sys.stdout, 1, self.output)
        sys.stderr = _Tee(sys.stderr, 2, self.output)

    def stop(self) -> None:
        sys.stdout, sys.stderr = self._saved

    def save(self, code: int) -> None:
        """Write the record if the run offered one, exited 0 or 1, and read nothing changed (ctime)
        too close to its start."""
        if self.offer is None or code not in (0, 1):
            return
        directory, inputs = self.offer
        # the modules the whole run imported from elsewhere (libcst, when `[*]` needed it, is imported
        # after the offer): an upgrade may change a mark
        third_party: dict[str, list[list[Any]]] = {}
        for file in _third_party_files():
            folder, name = os.path.split(file)
            third_party.setdefault(folder, []).append([name, _listed_stat(file)])
        inputs = [*inputs, *([folder, entries] for folder, entries in third_party.items())]
        recent = self.started - RACY_NS
        if any(stat is not None and stat[1] >= recent for _, entries in inputs for _, stat in entries):
            return
        folder = os.path.join(directory, __version__, RECORDS_FOLDER)
        document = {"format": FORMAT, "request": self.request, "inputs": inputs, "output": self.output, "code": code}
        try:
            text = json.dumps(document, separators=(",", ":"))
            _write_atomically(os.path.join(folder, record_name(self.request)), text)
            _keep_newest(folder)
        except (OSError, ValueError):
            pass  # a read-only checkout simply gets no record


ACTIVE: Recorder | None = None  # the recorder of this process's run, when the command line made one


def offer(cache_directory: str, files: Iterable[tuple[str, StatKey | None]], listed: Iterable[str],
          probed: Iterable[str]) -> None:
    """Called by a run that may be replayed: the files it read (with the stats it saw), the folders it
    listed, and the folders above them where it looked for configuration or Git files."""
    if ACTIVE is None:
        return
    grouped: dict[str, list[list[Any]]] = {}
    for path, stat in files:
        folder, name = os.path.split(path)
        grouped.setdefault(folder, []).append([name, None if stat is None else list(stat)])
    listed = set(listed)
    for folder in sorted(listed):  # its listing vouches for which names exist; their content is read
        entries = grouped.setdefault(folder, [])
        entries.append(["", _listed_stat(folder)])
        entries.extend([name, found] for name in CONTENT_READ if (found := _listed_stat(os.path.join(folder, name))))
    for folder in sorted(set(probed) - listed):
        grouped.setdefault(folder, []).extend([name, _listed_stat(os.path.join(folder, name))] for name in PROBED)
    package = os.path.dirname(os.path.abspath(__file__))
    for folder, subfolders, names in os.walk(package):
        subfolders[:] = [name for name in subfolders if name != "__pycache__"]
        grouped.setdefault(folder, []).extend(
            [name, _listed_stat(os.path.join(folder, name))] for name in ["", *sorted(names)]
            if not name.endswith((".pyc", ".pyo")))
    ACTIVE.offer = (cache_directory, [[folder, entries] for folder, entries in grouped.items()])


def _third_party_files() -> list[str]:
    """The files of the modules this run imported from outside the standard library and cfglint."""
    stdlib = os.path.dirname(os.__file__)
    package = os.path.dirname(os.path.abspath(__file__)) + os.sep
    found = []
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if not isinstance(path, str):
            continue
        path = os.path.abspath(path)
        if path.startswith(package) or (path.startswith(stdlib + os.sep) and "-packages" not in path):
            continue
        found.append(path)
    return sorted(set(found))


def _listed_stat(path: str) -> list[int] | None:
    stat = stat_key(path)
    return None if stat is None else list(stat)


def _keep_newest(folder: str) -> None:
    """Only the `KEEP` most recently written records (runs over other paths or options each have one)."""
    with os.scandir(folder) as entries:
        records = sorted((entry for entry in entries if entry.name.endswith(".json")),
                         key=lambda entry: entry.stat().st_mtime_ns, reverse=True)
    for stale in records[KEEP:]:
        try:  # noqa: SIM105 (`contextlib` is not imported on the fast path)
            os.unlink(stale.path)
        except FileNotFoundError:
            pass


def _write_atomically(path: str, text: str) -> None:
    import tempfile

    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".replay-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise
