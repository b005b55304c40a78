"""Which files to check: the paths given, with directories walked for `*.py` and `*.pyi`.

Directories are walked with `os.scandir`, whose entries already know whether they are directories and
their inode, so a tree costs a few system calls per directory and none per plain file. Files are
identified by (device, inode), which deduplicates paths reached twice (via symlinks, or named twice)
without resolving every path, and directories likewise, so a symlink loop is noticed instead of followed
forever.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cfglint.config import PathMatcher, Settings, relative_to_root
from cfglint.gitignore import IgnoreFile, ignore_files_above, is_ignored, read_ignore_file

PYTHON_SUFFIXES = (".py", ".pyi")

_Identity = tuple[int, int]  # (st_dev, st_ino)
_Ignores = tuple[IgnoreFile, ...] | None  # the ignore files over a folder; None: not in a Git work tree


@dataclass
class Discovery:
    """The files to check (sorted, as the user spelled them), unusable given paths, and warnings.
    `directories` are the folders whose listings were read: a later run that finds them unchanged
    (and their files) would discover the same files."""

    files: list[Path] = field(default_factory=list)
    directories: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def is_excluded(path: str, settings: Settings) -> bool:
    """Whether `exclude`/`extend-exclude` cover a path (for a file named on stdin, with --force-exclude)."""
    matcher = PathMatcher((*settings.exclude, *settings.extend_exclude))
    return matcher.match_path(relative_to_root(path, settings.root))


def discover(paths: Sequence[str], settings: Settings, *, force_exclude: bool = False,
             respect_gitignore: bool = True) -> Discovery:
    """Files under `paths`. Named files are always kept unless `force_exclude` (pre-commit passes names).
    With `respect_gitignore`, what Git ignores is not walked into (named files are still checked)."""
    walker = _Walker(settings, force_exclude, respect_gitignore)
    for given in paths:
        walker.add(given)
    return walker.result()


class _Walker:
    """One discovery run: the exclusion matcher and the identities of everything seen so far."""

    def __init__(self, settings: Settings, force_exclude: bool, respect_gitignore: bool = True) -> None:
        self.root = settings.root
        self.force_exclude = force_exclude
        self.respect_gitignore = respect_gitignore
        self.excluded = PathMatcher((*settings.exclude, *settings.extend_exclude))
        self.files: list[str] = []
        self.seen_files: set[_Identity] = set()
        self.seen_dirs: set[_Identity] = set()
        self.outcome = Discovery()
        self.tree = ""  # the real path of the folder being walked
        self.project = os.path.realpath(settings.root)

    def result(self) -> Discovery:
        # sorted as `Path`s sort (by parts), with one key per file rather than a Python `__lt__` per comparison
        self.outcome.files = sorted((Path(name) for name in self.files), key=_parts)
        return self.outcome

    def add(self, given: str) -> None:
        """One path from the command line: a file to keep or a directory to walk."""
        try:
            info = os.stat(given)
        except FileNotFoundError:
            reason = "broken symbolic link" if os.path.islink(given) else "no such file or directory"
            self.outcome.errors.append((given, reason))
            return
        except OSError as exc:
            self.outcome.errors.append((given, _os_reason(exc)))
            return
        rel = relative_to_root(given, self.root)
        if self.force_exclude and self.excluded.match_path(rel):
            return
        identity = (info.st_dev, info.st_ino)
        if stat.S_ISDIR(info.st_mode):
            if identity not in self.seen_dirs:
                self.seen_dirs.add(identity)
                self._walk(given, rel, identity)
        elif not stat.S_ISREG(info.st_mode):  # a FIFO would block the read, a device never end it
            self.outcome.errors.append((given, "not a regular file"))
        else:
            self._keep(given, identity)

    def _keep(self, path: str, identity: _Identity) -> None:
        if identity not in self.seen_files:
            self.seen_files.add(identity)
            self.files.append(path)

    def _walk(self, top: str, top_rel: str, top_identity: _Identity) -> None:
        """Depth-first, in name order so that the first spelling of a twice-reachable file is stable.

        `active` holds the directories being walked (the current one and its ancestors): meeting one of
        them again through a symlink is a loop. A `None` path on the stack marks leaving a directory.
        """
        self.tree = os.path.realpath(top)
        ignores = ignore_files_above(top) if self.respect_gitignore else None
        stack: list[tuple[str | None, str, _Identity, _Ignores]] = [(top, top_rel, top_identity, ignores)]
        active: set[_Identity] = set()
        while stack:
            path, rel, identity, ignores = stack.pop()
            if path is None:
                active.discard(identity)
                continue
            active.add(identity)
            self.outcome.directories.append(path)
            stack.append((None, rel, identity, None))
            subdirectories = self._scan(path, rel, identity[0], active, ignores)
            stack.extend(reversed(subdirectories))

    def _scan(
        self, path: str, rel: str, device: int, active: set[_Identity], ignores: _Ignores = None
    ) -> list[tuple[str, str, _Identity, _Ignores]]:
        """Keep the Python files of one directory; return its subdirectories still to walk."""
        try:
            with os.scandir(path) as iterator:
                entries = sorted(iterator, key=lambda entry: entry.name)
        except OSError as exc:
            self.outcome.warnings.append(f"{path}: cannot read directory ({_os_reason(exc)}); skipped")
            return []
        if ignores is not None and any(entry.name == ".gitignore" for entry in entries):
            here = read_ignore_file(os.path.join(path, ".gitignore"), os.path.abspath(path))
            ignores = ignores if here is None else (*ignores, here)
        subdirectories = []
        for entry in entries:
            name = entry.name
            child_rel = f"{rel}/{name}" if rel else name
            try:
                if entry.is_dir():
                    if not self.excluded.match(name, child_rel) and not _git_ignores(ignores, entry, True):
                        child = self._subdirectory(entry, child_rel, active)
                        if child is not None:
                            subdirectories.append((*child, ignores))
                elif (name.endswith(PYTHON_SUFFIXES) and entry.is_file()
                      and not self.excluded.match(name, child_rel) and not _git_ignores(ignores, entry, False)):
                    self._keep(entry.path, _file_identity(entry, device))
            except OSError as exc:  # e.g. a symlink pointing to itself
                self.outcome.warnings.append(f"{entry.path}: {_os_reason(exc)}; skipped")
        return subdirectories

    def _subdirectory(
        self, entry: os.DirEntry[str], rel: str, active: set[_Identity]
    ) -> tuple[str, str, _Identity] | None:
        """The walk item for a subdirectory, or None if it was walked already or leads back up (a loop)."""
        if entry.is_symlink():
            real = os.path.realpath(entry.path)
            if not (is_inside(real, self.tree) or is_inside(real, self.project)):
                return None  # a link out of the tree (to `/`, a parent, another checkout) is not followed
        info = entry.stat()
        identity = (info.st_dev, info.st_ino)
        if identity in active:
            target = os.path.realpath(entry.path)
            self.outcome.warnings.append(f"{entry.path}: symbolic link loop to {target}; not followed")
            return None
        if identity in self.seen_dirs:
            return None
        self.seen_dirs.add(identity)
        return entry.path, rel, identity


def _parts(path: Path) -> tuple[str, ...]:
    """The sort key of `Path` comparisons: its parts, case-folded where the file system folds case."""
    return path.parts if os.name != "nt" else tuple(part.lower() for part in path.parts)


def _git_ignores(ignores: _Ignores, entry: os.DirEntry[str], is_dir: bool) -> bool:
    if not ignores:
        return False
    return is_ignored(ignores, os.path.abspath(entry.path), is_dir)


def is_inside(path: str, tree: str) -> bool:
    """Whether the (real) `path` is `tree` or lies below it."""
    return path == tree or path.startswith(tree.rstrip(os.sep) + os.sep)


def _file_identity(entry: os.DirEntry[str], device: int) -> _Identity:
    """(device, inode) without a system call for plain files; symlinks are followed to their target."""
    if entry.is_symlink():
        info = entry.stat()
        return info.st_dev, info.st_ino
    return device, entry.inode()


def _os_reason(exc: OSError) -> str:
    """The system's reason in lower case, to read like the other messages ("permission denied")."""
    text = exc.strerror or str(exc)
    return text[:1].lower() + text[1:]
