"""`.gitignore` matching for discovery (`--respect-gitignore`, on by default as in ruff).

As in ruff, the ignore files count only inside a Git work tree (a `.git` folder or file at or above the
walked folder): the `.gitignore` of every folder from the work tree's root down, and `.git/info/exclude`.
Git's rules: blank lines and `#` comments are skipped, `!` re-includes, a trailing `/` matches folders
only, a pattern with a `/` before its end is anchored to the folder of its file, otherwise it matches a
name at any depth; `*` and `?` stop at `/`, `**` spans folders. The last matching pattern wins, and a
deeper `.gitignore` comes after a shallower one, which comes after `info/exclude`. An ignored folder is
not walked, so nothing under it can be re-included (as in Git).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    regex: re.Pattern[str]
    negate: bool
    directory_only: bool


@dataclass(frozen=True)
class IgnoreFile:
    """The rules of one ignore file and the folder its patterns are relative to."""

    base: str  # an absolute folder, as discovery spells it
    rules: tuple[Rule, ...]


def parse_line(line: str) -> Rule | None:
    """One `.gitignore` line as a rule; None for blank lines and comments."""
    line = line.rstrip("\r\n")
    if not line or line.startswith("#"):
        return None
    line = _strip_trailing_spaces(line)
    negate = line.startswith("!")
    if negate:
        line = line[1:]
    directory_only = line.endswith("/") and not line.endswith("\\/")
    line = line.rstrip("/") if directory_only else line
    if not line:
        return None
    anchored = "/" in line
    line = line.lstrip("/")
    body = translate(line)
    prefix = "" if anchored else "(?:.*/)?"
    return Rule(re.compile(prefix + body, re.DOTALL), negate, directory_only)


def _strip_trailing_spaces(line: str) -> str:
    """Trailing spaces are dropped unless escaped with a backslash."""
    stripped = line.rstrip(" ")
    if stripped.endswith("\\") and len(stripped) < len(line):
        return stripped[:-1] + " "
    return stripped


def translate(pattern: str) -> str:
    """A `.gitignore` glob as a regular expression over `/`-separated relative paths (for fullmatch)."""
    out: list[str] = []
    index, size = 0, len(pattern)
    while index < size:
        char = pattern[index]
        if char == "*":
            if pattern.startswith("**", index) and (index == 0 or pattern[index - 1] == "/"):
                after = index + 2
                if after == size:  # `a/**`: everything inside
                    out.append(".*")
                    index = after
                    continue
                if pattern[after] == "/":  # `**/b`, `a/**/b`: zero or more folders
                    out.append("(?:.*/)?")
                    index = after + 1
                    continue
            while index < size and pattern[index] == "*":
                index += 1
            out.append("[^/]*")
            continue
        if char == "?":
            out.append("[^/]")
        elif char == "[":
            end = _class_end(pattern, index)
            if end < 0:
                out.append(re.escape(char))
            else:
                inner = pattern[index + 1:end]
                if inner[:1] in ("!", "^"):
                    inner = "^" + inner[1:]
                out.append("[" + inner.replace("\\", "\\\\") + "]")
                index = end + 1
                continue
        elif char == "\\" and index + 1 < size:
            index += 1
            out.append(re.escape(pattern[index]))
        else:
            out.append(re.escape(char))
        index += 1
    return "".join(out)


def _class_end(pattern: str, start: int) -> int:
    """The index of the `]` closing the class that opens at `start`, or -1 (then `[` is literal)."""
    index = start + 1
    if index < len(pattern) and pattern[index] in "!^":
        index += 1
    if index < len(pattern) and pattern[index] == "]":
        index += 1
    end = pattern.find("]", index)
    return -1 if end < 0 or "/" in pattern[start:end] else end


def read_ignore_file(path: str, base: str) -> IgnoreFile | None:
    """The rules of the ignore file at `path` (patterns relative to `base`); None if absent or empty."""
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    rules = tuple(rule for rule in map(parse_line, lines) if rule is not None)
    return IgnoreFile(base, rules) if rules else None


def work_tree_root(directory: str) -> str | None:
    """The folder holding `.git` at or above `directory`, or None outside a Git work tree."""
    current = os.path.abspath(directory)
    while True:
        if os.path.lexists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def ignore_files_above(directory: str) -> tuple[IgnoreFile, ...] | None:
    """The ignore files that apply to `directory` itself (its `.gitignore` excluded: the walk reads it),
    lowest priority first; None outside a Git work tree."""
    directory = os.path.abspath(directory)
    root = work_tree_root(directory)
    if root is None:
        return None
    found: list[IgnoreFile] = []
    git = os.path.join(root, ".git")
    if os.path.isdir(git):
        exclude = read_ignore_file(os.path.join(git, "info", "exclude"), root)
        if exclude is not None:
            found.append(exclude)
    folders = []
    current = directory
    while current != root:
        current = os.path.dirname(current)
        folders.append(current)
    for folder in reversed(folders):
        ignore = read_ignore_file(os.path.join(folder, ".gitignore"), folder)
        if ignore is not None:
            found.append(ignore)
    return tuple(found)


def is_ignored(files: tuple[IgnoreFile, ...], path: str, is_dir: bool) -> bool:
    """Whether the ignore files (lowest priority first) ignore the absolute `path`; the last match wins."""
    ignored = False
    for ignore in files:
        prefix = ignore.base.rstrip(os.sep) + os.sep
        if not path.startswith(prefix):
            continue
        rel = path[len(prefix):].replace(os.sep, "/")
        for rule in ignore.rules:
            if (is_dir or not rule.directory_only) and rule.regex.fullmatch(rel):
                ignored = not rule.negate
    return ignored
