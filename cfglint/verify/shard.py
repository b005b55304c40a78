"""`cfglint verify --shard K/N`: the classes one of N CI machines verifies.

Every machine of a CI matrix computes the split on its own, so it must come out the same everywhere:
it depends only on what each class is (its module and name, plus its file relative to the folder the
files share when two classes would otherwise be equal), never on absolute paths, the working
directory, the order of the arguments or of a directory listing, `--jobs`, or Python's salted `hash()`.

Classes are sorted by that identity and dealt round-robin, so shard sizes differ by at most one and the
machines finish together. (A hash of the identity would keep a class on its shard when others are
added, but on the tens of classes a project has it leaves some shards with twice the work of others.)
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Protocol, TypeVar

SHARD_ENV = "CFGLINT_VERIFY_SHARD"  # the same as `--shard`, for a CI matrix that sets the environment
_SPELLING = re.compile(r"([0-9]+)/([0-9]+)")


@dataclass(frozen=True)
class Shard:
    """Shard `index` (1-based) of `count`."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """`K/N` with 1 <= K <= N; ValueError with a message a user can act on otherwise."""
    match = _SPELLING.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"expected K/N (run shard K of N, 1 <= K <= N, e.g. 2/4), not {text!r}")
    index, count = int(match[1]), int(match[2])
    if count < 1:
        raise ValueError(f"{text!r}: the number of shards N must be at least 1")
    if not 1 <= index <= count:
        raise ValueError(f"{text!r}: the shard K must be between 1 and N ({count})")
    return Shard(index, count)


class Identified(Protocol):
    """What the split reads of a class: its dotted module, its (qualified) name and its file."""

    @property
    def module(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def file(self) -> str: ...


C = TypeVar("C", bound=Identified)


def identities(items: Sequence[Identified]) -> list[tuple[str, str, str]]:
    """(module, name, file relative to the deepest folder holding every file, `/`-separated) per item:
    the same tuple wherever the project is checked out and whatever directory cfglint runs in."""
    files = [os.path.abspath(item.file) for item in items]
    try:
        base = os.path.commonpath(files) if files else ""
    except ValueError:  # files on different drives (Windows): nothing is shared
        base = ""
    return [(item.module, item.name, PurePath(os.path.relpath(file, base) if base else file).as_posix())
            for item, file in zip(items, files, strict=True)]


def select_shard(items: Sequence[C], shard: Shard) -> list[C]:
    """The items of `shard`, in their given order: all items sorted by identity, dealt round-robin."""
    keys = identities(items)
    order = sorted(range(len(items)), key=keys.__getitem__)
    chosen = set(order[shard.index - 1::shard.count])
    return [item for position, item in enumerate(items) if position in chosen]
