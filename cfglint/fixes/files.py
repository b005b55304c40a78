"""Fixing files on disk for `cfglint check --fix` and `--diff`: fix until stable, write atomically.

A file is rewritten only when its fixed text compiles, through a temporary file in the same directory
with the original's permission bits, by compare-and-swap (`write_atomically`): a file changed meanwhile
(an editor saving, a formatter running) is left alone, as is a read-only one, a symbolic link, a file
outside the project, and one another cfglint run is fixing. Each problem becomes one line for the user;
nothing here raises for a single bad file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat as stat_module
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cfglint import fixes
from cfglint.discovery import is_inside
from cfglint.finding import Finding
from cfglint.fixes.safety import Check as Check  # (source, path) -> findings; also for callers
from cfglint.parsing import collector_off, recent_trees, release_texts, tree_if_parsed
from cfglint.source import SourceError, decode_source, read_error

MAX_PASSES = 4


@dataclass
class Stable:
    """The text after fixing until nothing more applies, how many findings were fixed, what remains."""

    source: str
    applied: int
    remaining: list[Finding]
    held_back: list[tuple[Finding, str]] = field(default_factory=list)  # safe fixes validation left out
    blocked: str | None = None  # why the source could not be rewritten at all
    reported: list[Finding] = field(default_factory=list)  # the given findings that the fixing resolved


def fix_until_stable(source: str, path: str, findings: Sequence[Finding], check: Check, *,
                     unsafe: bool = False, passes: int = MAX_PASSES, decide: bool = False) -> Stable:
    """Fix, check the result again, fix what the first fixes revealed, up to `passes` times, so that a
    second `--fix` finds nothing left to do. `check` also validates the safe fixes of each pass
    (`cfglint.fixes.fix_source`): the ones held back are collected, not applied.

    `reported` lists the given findings that some pass fixed (a later pass fixes one the first left
    out as the same rule, class and subject): the findings a report marks `[*]`. With `decide`, only
    `reported` is meant (`cfglint.fixes.decide`: the text is equivalent, not what `--fix` writes)."""
    from cfglint.fixes.safety import Key, finding_key

    current, applied, remaining = source, 0, list(findings)
    held_back: list[tuple[Finding, str]] = []
    unresolved: dict[Key, list[Finding]] = {}
    for finding in findings:
        unresolved.setdefault(finding_key(finding), []).append(finding)
    reported: list[Finding] = []
    codes = fixes.fixable_codes(unsafe)
    for _ in range(passes):
        if not any(f.code in codes for f in remaining):
            break
        outcome = fixes.fix_source(current, remaining, unsafe=unsafe, check=check, decide=decide)
        held_back.extend(outcome.held_back)
        if outcome.blocked is not None and not applied:
            return Stable(current, 0, remaining, held_back, outcome.blocked)
        if not outcome.applied or outcome.source == current:
            break
        current, applied = outcome.source, applied + len(outcome.applied)
        for fixed in outcome.applied:
            same = unresolved.get(finding_key(fixed))
            if same:
                reported.append(same.pop(same.index(fixed) if fixed in same else 0))
        remaining = outcome.rechecked if outcome.rechecked is not None else check(current, path)
    return Stable(current, applied, remaining, held_back, reported=reported)


@dataclass
class FileResult:
    path: str
    applied: int = 0
    original: str = ""
    fixed: str = ""
    problem: str | None = None  # why the file was not (or would not be) written
    held_back: list[tuple[Finding, str]] = field(default_factory=list)  # safe fixes validation left out
    reported: list[Finding] = field(default_factory=list)  # the file's findings the fixing resolves
    # the other files its checks looked up (cache keys), when the checker can tell (`Recheck.tracing`)
    looked_up: frozenset[str] | None = None

    @property
    def changed(self) -> bool:
        return self.problem is None and self.fixed != self.original


@dataclass
class _Read:
    data: bytes
    stat: os.stat_result
    text: str


@dataclass
class FixRun:
    files: list[FileResult] = field(default_factory=list)

    @property
    def applied(self) -> int:
        return sum(f.applied for f in self.files if f.problem is None)

    @property
    def reported(self) -> list[Finding]:
        """The reported findings that the changed files resolve: what `[*]` marks, what `--diff` counts."""
        return [finding for f in self.files if f.changed for finding in f.reported]

    @property
    def problems(self) -> list[FileResult]:
        return [f for f in self.files if f.problem is not None]


def fix_files(findings: Iterable[Finding], check: Check, *, unsafe: bool = False, write: bool = True,
              roots: Sequence[str] | None = None, decide: bool = False, jobs: int = 1) -> FixRun:
    """Fix every file that has a fixable finding; write them when `write` (else only compute, for
    `--diff` and `[*]`, in `jobs` processes when there are enough files). Files that resolve outside
    every one of `roots` (the paths named) are never written."""
    # each text is checked, then analysed: parsed once; the collector stays off (`collector_off`): the
    # checkers that validate fixes are discarded (`Checker.discard`), so reference counting frees them
    with recent_trees(), collector_off():
        return _fix_files(findings, check, unsafe=unsafe, write=write, roots=roots, decide=decide, jobs=jobs)


def _fix_files(findings: Iterable[Finding], check: Check, *, unsafe: bool, write: bool,
               roots: Sequence[str] | None, decide: bool, jobs: int) -> FixRun:
    codes = fixes.fixable_codes(unsafe)
    by_path: dict[str, list[Finding]] = {}
    for finding in findings:
        by_path.setdefault(finding.path, []).append(finding)
    work = [(path, found) for path, found in sorted(by_path.items()) if any(f.code in codes for f in found)]
    run = FixRun()
    if not write and jobs > 1 and len(work) >= 2 * jobs:
        run.files.extend(_plan_in_processes(work, check, unsafe, decide, jobs))
        return run
    for path, _ in work:
        result, read = _plan_file(path, check, unsafe, decide)
        run.files.append(result)
        if write and read is not None and result.problem is None and result.changed:
            result.problem = write_atomically(path, read, result.fixed, roots=roots)
            _forget(check, path)  # the next files' checks must read it as written
    return run


def _plan_file(path: str, check: Check, unsafe: bool, decide: bool) -> tuple[FileResult, _Read | None]:
    """One file fixed in memory: what `--fix` would write (`fixed`), or why it would not."""
    tracing = getattr(check, "tracing", None)
    try:
        if tracing is None:
            return _fix_in_memory(path, check, unsafe, decide)
        with tracing() as looked_up:
            result, read = _fix_in_memory(path, check, unsafe, decide)
        result.looked_up = frozenset(looked_up)
        return result, read
    finally:
        release_texts()


def _fix_in_memory(path: str, check: Check, unsafe: bool, decide: bool) -> tuple[FileResult, _Read | None]:
    from cfglint.fixes.site import Unsure

    result = FileResult(path)
    try:
        read = _read(path)
    except SourceError as exc:
        result.problem = exc.reason
        return result, None
    # the findings again, from the text just read: positions from an earlier read could be stale
    found = check(read.text, path)
    try:
        stable = fix_until_stable(read.text, path, found, check, unsafe=unsafe, decide=decide)
    except Unsure:  # a decider cannot mirror its planner here: libcst plans this file (only this one)
        if not decide:
            raise
        stable = fix_until_stable(read.text, path, found, check, unsafe=unsafe)
    result.original, result.fixed, result.applied = read.text, stable.source, stable.applied
    result.held_back, result.reported = stable.held_back, stable.reported
    if stable.blocked is not None:
        result.problem = f"{stable.blocked}; not fixed"
    elif result.changed:
        try:  # from the tree its check just parsed, when kept: the compiler's own checks, not a third parse
            compile(tree_if_parsed(stable.source) or stable.source, path, "exec", dont_inherit=True)
        except (SyntaxError, ValueError):
            result.problem = "the fixed source does not compile; not written"
    return result, read


# What the planning processes work with: set in the parent just before they are forked, so that the
# checker factory (a closure, which cannot be pickled) reaches them as it is.
_PLANNING: tuple[Check, bool, bool] | None = None


def _plan_in_processes(work: list[tuple[str, list[Finding]]], check: Check, unsafe: bool, decide: bool,
                       jobs: int) -> list[FileResult]:
    """`_plan_file` for every file, in forked processes, the files with the most findings first (one of
    them can take most of the time). Without `fork` (Windows, macOS spawn) they run here, in order."""
    import multiprocessing

    global _PLANNING
    if "fork" not in multiprocessing.get_all_start_methods():
        return [_plan_file(path, check, unsafe, decide)[0] for path, _ in work]
    from concurrent.futures import ProcessPoolExecutor

    order = sorted(range(len(work)), key=lambda i: -len(work[i][1]))
    prepare = getattr(check, "prepare", None)  # what the checks share is made once, not in each process
    if prepare is not None:
        prepare()
    _PLANNING = (check, unsafe, decide)
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            done = list(pool.map(_plan_one, [work[i][0] for i in order], chunksize=1))
    finally:
        _PLANNING = None
    by_position = dict(zip(order, done, strict=True))
    return [by_position[i] for i in range(len(work))]


def _plan_one(path: str) -> FileResult:
    assert _PLANNING is not None, "planning processes are forked after _PLANNING is set"
    check, unsafe, decide = _PLANNING
    return _plan_file(path, check, unsafe, decide)[0]


def _forget(check: Check, path: str) -> None:
    """A checker that lends other files' facts (`Recheck`) must read a file again once it is written."""
    forget = getattr(check, "forget", None)
    if forget is not None:
        forget(path)


def _read(path: str) -> _Read:
    try:
        status = os.stat(path)
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise SourceError(path, read_error(exc)) from None
    return _Read(data, status, decode_source(data, path))


def encode_like(original: bytes, text: str) -> bytes:
    """`text` in the encoding of the original bytes (a UTF-8 byte order mark or a coding cookie kept)."""
    bom = b"\xef\xbb\xbf"
    if original.startswith(bom):
        return bom + text.encode("utf-8")
    encoding = "utf-8"
    if b"coding" in b"\n".join(original.splitlines()[:2]):
        import io
        import tokenize

        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(original).readline)
        except SyntaxError:
            encoding = "utf-8"
        if encoding == "utf-8-sig":
            encoding = "utf-8"
    return text.encode(encoding)


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def changed_on_disk(path: str, read: _Read) -> bool:
    """Whether the file differs from what was read: its identity, time and size, or its bytes."""
    try:
        return _differs(os.stat(path), path, read)
    except OSError:
        return True


def _differs(now: os.stat_result, path: str, read: _Read) -> bool:
    then = read.stat
    if (now.st_mtime_ns, now.st_size, now.st_ino, now.st_dev) != (
            then.st_mtime_ns, then.st_size, then.st_ino, then.st_dev):
        return True
    with open(path, "rb") as handle:
        return _digest(handle.read()) != _digest(read.data)


CHANGED = "changed on disk while cfglint ran; not fixed"


def write_atomically(path: str, read: _Read, text: str, *, roots: Sequence[str] | None = None) -> str | None:
    """Replace the file by `text` by compare-and-swap; None when written, else why it was left alone.

    Never through a symbolic link that leads out of the `roots` it was found under; a hard-linked file
    is rewritten in place so its other names see the fix. Otherwise the old file is first renamed
    aside, compared with what was read, and only then is the new one linked in under the name, which
    fails rather than clobber a file created meanwhile; a write that reached the old file during the
    swap puts it back. A lock file next to it keeps two cfglint runs from fixing the same file at once."""
    try:
        data = encode_like(read.data, text)
    except (UnicodeError, LookupError, ValueError):  # `idna`, `punycode`... fail with a bare UnicodeError
        return "the fixed text cannot be encoded like the file; not written"
    target = os.path.realpath(path)
    if roots is not None and not any(is_inside(target, _tree(root)) for root in roots):
        return "is a symbolic link to a file outside the paths being checked; not fixed"
    mode = stat_module.S_IMODE(read.stat.st_mode)
    if not mode & 0o222 or not os.access(target, os.W_OK):
        return "is read-only; not fixed"
    directory, name = os.path.split(target)
    lock = os.path.join(directory, f".{name}.cfglint-lock")
    try:
        os.close(os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        return "is being fixed by another cfglint run (a lock file is next to it); not fixed"
    except OSError as exc:
        return f"cannot write next to it ({exc.strerror or exc}); not fixed"
    try:
        if changed_on_disk(target, read):
            return CHANGED
        if read.stat.st_nlink > 1:
            return _write_in_place(target, read, data)
        return _swap(target, directory, name, read, data, mode)
    except OSError as exc:
        if isinstance(exc, PermissionError):
            return "cannot be written: permission denied; not fixed"
        return f"cannot be written ({exc.strerror or exc}); not fixed"
    finally:
        _remove(lock)


def _tree(root: str) -> str:
    """The real folder a named path stands for: itself for a folder, a file's folder."""
    return os.path.realpath(root if os.path.isdir(root) else os.path.dirname(root) or ".")


def _swap(target: str, directory: str, name: str, read: _Read, data: bytes, mode: int) -> str | None:
    import tempfile  # only when writing: `[*]` and `--diff` never need it

    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".cfglint-tmp", dir=directory or ".")
    except OSError as exc:
        return f"cannot write next to it ({exc.strerror or exc}); not fixed"
    aside = temporary[: -len(".cfglint-tmp")] + ".cfglint-old"
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        if hasattr(os, "chown") and (read.stat.st_uid, read.stat.st_gid) != _owner(temporary):
            with contextlib.suppress(OSError):
                os.chown(temporary, read.stat.st_uid, read.stat.st_gid)
        os.rename(target, aside)  # from here on a writer that opens the name finds no file or a new one
        if _differs(os.stat(aside), aside, read):
            return _put_back(aside, target) or CHANGED
        if not _link_or_rename(temporary, target):  # a file was created under the name meanwhile
            return _put_back(aside, target) or CHANGED
        if _differs(os.stat(aside), aside, read):  # written through a descriptor opened before the swap
            os.replace(aside, target)
            return CHANGED
        _remove(aside)
        return None
    except BaseException:
        if os.path.lexists(aside) and not os.path.lexists(target):
            os.rename(aside, target)
        raise
    finally:
        _remove(temporary)


def _link_or_rename(source: str, target: str) -> bool:
    """Give `source` the name `target` unless that name exists now; False when it does."""
    try:
        os.link(source, target)
        return True
    except FileExistsError:
        return False
    except OSError:  # a file system without hard links: a rename, whose window is a few instructions
        if os.path.lexists(target):
            return False
        os.rename(source, target)
        return True


def _put_back(aside: str, target: str) -> str | None:
    """Restore the original under its name; if a new file took the name meanwhile, keep both."""
    if _link_or_rename(aside, target):
        _remove(aside)
        return None
    return f"{CHANGED}; the version it replaced is kept as {os.path.basename(aside)}"


def _write_in_place(target: str, read: _Read, data: bytes) -> str | None:
    """A file with other hard links: rewrite its bytes through one descriptor, comparing right before."""
    with open(target, "r+b") as handle:
        if _digest(handle.read()) != _digest(read.data):
            return CHANGED
        handle.seek(0)
        handle.write(data)
        handle.truncate()
        handle.flush()
        os.fsync(handle.fileno())
    return None


def _owner(path: str) -> tuple[int, int]:
    status = os.stat(path)
    return status.st_uid, status.st_gid


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def unified_diff(path: str, old: str, new: str) -> str:
    """A unified diff of one file (`patch -p0` applies it)."""
    lines = []
    import difflib

    for line in difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                     fromfile=path, tofile=path):
        if not line.endswith(("\n", "\r")):
            line += "\n\\ No newline at end of file\n"
        lines.append(line)
    return "".join(lines)
