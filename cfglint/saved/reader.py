"""Read saved model configs from `.keras` archives, JSON files and folders of them.

Only the standard library is used (`zipfile`, `json`): reading a config never imports TensorFlow or
Keras. A `.keras` file that is not a readable archive, or a JSON file named on the command line that
does not parse, is *unreadable* (finding CFG500, as a Python file that does not parse is CFG001); a JSON
file that parses but holds no Keras config is skipped with a note, since a folder of saved configs
may well hold other JSON.
"""

from __future__ import annotations

import contextlib
import json
import os
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Any

from cfglint.finding import Target

MAX_CONFIG_BYTES = 64 * 1024 * 1024  # a config larger than this is refused (a zip bomb, a mistake)
SKIPPED_FOLDERS = frozenset({"__pycache__", "node_modules"})


@dataclass(frozen=True)
class SavedConfig:
    """One saved model config: where it came from, its top object, and the Keras that wrote it."""

    path: str
    root: dict[str, Any]
    flavour: Target  # the Keras that wrote it (and so reads it back)
    keras_version: str | None = None


@dataclass(frozen=True)
class Unreadable:
    """A file that claims to hold a saved config but cannot be read (CFG500)."""

    path: str
    message: str
    line: int = 1
    column: int = 1


@dataclass
class Reading:
    configs: list[SavedConfig] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # files skipped: not a Keras config
    errors: list[str] = field(default_factory=list)  # paths that do not exist (exit 2)


class _Refused(Exception):
    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.line, self.column = line, column


def read_paths(paths: list[str]) -> Reading:
    """Every saved config under `paths` (files, or folders walked for `*.keras` and `*.json`)."""
    reading = Reading()
    seen: set[str] = set()  # a file reached twice (named, and in a folder named too) is read once

    def read(file: str, named: bool) -> None:
        real = os.path.realpath(file)
        if real not in seen:
            seen.add(real)
            _read_one(file, reading, named=named)

    for path in paths:
        if os.path.isdir(path):
            for file in _walk(path):
                read(file, False)
        elif os.path.exists(path):
            read(path, True)
        else:
            reading.errors.append(f"{path}: no such file or directory")
    return reading


def _walk(folder: str) -> list[str]:
    found: list[str] = []
    for current, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_FOLDERS)
        found.extend(os.path.join(current, name) for name in sorted(files)
                     if name.endswith((".keras", ".json")) and not name.startswith("."))
    return found


def _read_one(path: str, reading: Reading, *, named: bool) -> None:
    try:
        if path.endswith(".keras") or (named and zipfile.is_zipfile(path)):
            config = _from_archive(path)
        else:
            config = _from_json(path, named=named)
    except _Refused as refused:
        reading.unreadable.append(Unreadable(path, str(refused), refused.line, refused.column))
        return
    except _NotAConfig as skipped:
        reading.notes.append(f"{path}: skipped: {skipped}")
        return
    reading.configs.append(config)


class _NotAConfig(Exception):
    """Parsed, but not a saved Keras config."""


def _from_archive(path: str) -> SavedConfig:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "config.json" not in names:
                raise _Refused("not a Keras archive: it holds no `config.json`")
            text = _member(archive, "config.json")
            metadata = _member(archive, "metadata.json") if "metadata.json" in names else None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, RuntimeError, ValueError,
            zlib.error) as exc:  # damaged, truncated, encrypted or oddly compressed
        raise _Refused(f"not a readable `.keras` archive (a zip file): {exc}") from None
    except OSError as exc:
        raise _Refused(f"cannot read the archive: {exc.strerror or exc}") from None
    root = _parse_json(text, "`config.json` in the archive")
    version = None
    if metadata is not None:
        with contextlib.suppress(ValueError, RecursionError):  # the version is only a hint
            meta = json.loads(metadata)
            version = meta.get("keras_version") if isinstance(meta, dict) else None
    if not is_keras_config(root):
        raise _Refused("`config.json` in the archive is not a saved Keras model config")
    return SavedConfig(path, root, flavour_of(root, version if isinstance(version, str) else None),
                       version if isinstance(version, str) else None)


def _member(archive: zipfile.ZipFile, name: str) -> str:
    info = archive.getinfo(name)
    if info.file_size > MAX_CONFIG_BYTES:
        raise _Refused(f"`{name}` in the archive is larger than {MAX_CONFIG_BYTES:,} bytes")
    try:
        return archive.read(name).decode("utf-8")
    except UnicodeDecodeError:
        raise _Refused(f"`{name}` in the archive is not UTF-8 text") from None


def _from_json(path: str, *, named: bool) -> SavedConfig:
    try:
        if os.path.getsize(path) > MAX_CONFIG_BYTES:
            raise _Refused(f"larger than {MAX_CONFIG_BYTES:,} bytes")
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        if named:
            raise _Refused("not UTF-8 text") from None
        raise _NotAConfig("not UTF-8 text") from None
    except OSError as exc:
        raise _Refused(f"cannot read the file: {exc.strerror or exc}") from None
    try:
        root = _parse_json(text, "the file")
    except _Refused:
        if named:
            raise
        raise _NotAConfig("not valid JSON") from None
    if not is_keras_config(root):
        raise _NotAConfig("not a saved Keras model config")
    version = root.get("keras_version")
    return SavedConfig(path, root, flavour_of(root, version if isinstance(version, str) else None),
                       version if isinstance(version, str) else None)


def _parse_json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _Refused(f"{what} is not valid JSON: {exc.msg}", exc.lineno, exc.colno) from None
    except RecursionError:
        raise _Refused(f"{what} is nested too deeply to read") from None


def is_serialized_object(value: Any) -> bool:
    """A dict Keras wrote for an object: a `class_name` and a `config` dict."""
    return isinstance(value, dict) and isinstance(value.get("class_name"), str) \
        and isinstance(value.get("config"), dict)


def is_keras_config(root: Any) -> bool:
    """A serialized model (or layer), or the bare `get_config()` of a model (its `layers` list)."""
    if is_serialized_object(root):
        return True
    layers = root.get("layers") if isinstance(root, dict) else None
    return isinstance(layers, list) and any(is_serialized_object(layer) for layer in layers)


def flavour_of(root: dict[str, Any], keras_version: str | None) -> Target:
    """The Keras that wrote a config: its recorded version, else the shape of its objects (Keras 3
    writes `module` and `registered_name` beside `class_name`; tf-keras's `to_json` does not)."""
    if keras_version:
        major = keras_version.split(".", 1)[0]
        if major.isdigit():
            return Target.KERAS3 if int(major) >= 3 else Target.TF_KERAS
    stack: list[Any] = [root]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if "class_name" in value and ("registered_name" in value or "module" in value):
                return Target.KERAS3
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return Target.TF_KERAS
