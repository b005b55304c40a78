"""Configuration from `[tool.cfglint]` in the nearest pyproject.toml, and rule selection.

Both follow ruff, so users can carry their habits over: kebab-case keys, `exclude` replacing the default
excludes, CLI `--select` replacing the configured selection, and the most specific selector winning.
Everything at this edge is strict, as in ruff: a mistake is a `ConfigError`, never a silent default.
TOML is parsed only when a pyproject.toml mentions cfglint, to keep one-file runs fast.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cfglint.finding import FLAVOURS, Target

ALL = "ALL"
TARGETS = (Target.AUTO.value, *(flavour.value for flavour in FLAVOURS))  # as users write them
VALID_KEYS = (
    "exclude", "extend-exclude", "extend-select", "ignore", "max-file-size", "per-file-ignores", "select",
    "target", "verify",
)
# Larger files are not read (a CFG001 finding says so): generated or hostile inputs cost time and memory
# out of all proportion, and no hand-written layer comes near it.
DEFAULT_MAX_FILE_SIZE = 1024 * 1024  # a 2 MB list literal alone costs `ast.parse` 1 GB and 7 s
# ruff's default `exclude`; setting `exclude` replaces it, `extend-exclude` adds to it.
DEFAULT_EXCLUDE = (
    ".bzr", ".cfglint_cache", ".direnv", ".eggs", ".git", ".git-rewrite", ".hg", ".ipynb_checkpoints",
    ".mypy_cache", ".nox", ".pants.d", ".pyenv", ".pytest_cache", ".pytype", ".ruff_cache", ".svn",
    ".tox", ".venv", ".vscode", "__pycache__", "__pypackages__", "_build", "buck-out", "build", "dist",
    "node_modules", "site-packages", "venv",
)
_GLOB_CHARS = frozenset("*?[{")


class ConfigError(Exception):
    """A configuration or command-line mistake; the message says where it is and what is valid."""


def _empty_mapping() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True)
class Settings:
    """The validated `[tool.cfglint]` table.

    `select` is None when not configured (the rules' defaults apply), which differs from `select = []`.
    `verify` is excluded from the hash: it is passed through raw and does not affect static results.
    """

    root: Path
    config_path: Path | None = None
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    target: Target = Target.AUTO
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    verify: Mapping[str, Any] = field(default_factory=_empty_mapping, hash=False)


def load_settings(start: Path, *, known_codes: Collection[str], config_file: Path | None = None) -> Settings:
    """Settings for the project containing `start` (or from `config_file`, which must have the table)."""
    if config_file is not None:
        path = Path(config_file).resolve()
        table = _cfglint_table(path, must_exist=True)
        if table is None:
            raise ConfigError(f"{path}: no [tool.cfglint] table")
        return _build_settings(path.parent, path, table, known_codes)
    root, found, table = _find_config(Path(start))
    return _build_settings(root, found, table, known_codes)


def _find_config(start: Path) -> tuple[Path, Path | None, dict[str, Any]]:
    """The nearest pyproject.toml with [tool.cfglint], else the nearest one's directory (as ruff)."""
    directory = start.resolve()
    if not os.path.isdir(directory):  # (os.path: a permission error is "no", not an exception)
        directory = directory.parent
    nearest = None
    for candidate_dir in (directory, *directory.parents):
        candidate = candidate_dir / "pyproject.toml"
        if not os.path.isfile(candidate):
            continue
        nearest = nearest or candidate_dir
        table = _cfglint_table(candidate, must_exist=False)
        if table is not None:
            return candidate_dir, candidate, table
    return nearest or directory, None, {}


def _cfglint_table(path: Path, *, must_exist: bool) -> dict[str, Any] | None:
    """The [tool.cfglint] table of a TOML file, or None; files not mentioning cfglint are not parsed."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        if must_exist:
            raise ConfigError(f"{path}: configuration file not found") from None
        return None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc.strerror or exc}") from None
    if b"cfglint" not in data:
        return None
    document = _parse_toml(path, data)
    tool = document.get("tool")
    table = tool.get("cfglint") if isinstance(tool, dict) else None
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"{path}: `tool.cfglint` must be a table, not {_describe(table)}")
    return table


def _parse_toml(path: Path, data: bytes) -> dict[str, Any]:
    """Parse TOML, importing the parser only now (it is the costliest import on the one-file path)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # Python 3.10
        import tomli as tomllib
    try:
        parsed: dict[str, Any] = tomllib.loads(data.decode("utf-8"))
        return parsed
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not valid UTF-8 (byte offset {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def _build_settings(
    root: Path, path: Path | None, table: Mapping[str, Any], known: Collection[str]
) -> Settings:
    """Validate every key of the table; the first problem found is the error."""
    unknown = sorted(set(table) - set(VALID_KEYS))
    if unknown:
        key = unknown[0]
        raise ConfigError(
            f"{path}: unknown key `{key}` in [tool.cfglint]{_did_you_mean(key, VALID_KEYS)}; "
            f"valid keys: {', '.join(VALID_KEYS)}"
        )
    values: dict[str, Any] = {}
    for key, value in table.items():
        values[key.replace("-", "_")] = _KEY_PARSERS[key](path, key, value, known)
    return Settings(root=root, config_path=path, **values)


def _key_error(path: Path | None, key: str, problem: str) -> ConfigError:
    return ConfigError(f"{path}: `{key}` in [tool.cfglint] {problem}")


def _strings(path: Path | None, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _key_error(path, key, f"must be a list of strings, not {_describe(value)}")
    return tuple(value)


def _parse_codes(path: Path | None, key: str, value: Any, known: Collection[str]) -> tuple[str, ...]:
    return validate_codes(_strings(path, key, value), known, where=f"{path}: `{key}` in [tool.cfglint]")


def _parse_globs(path: Path | None, key: str, value: Any, known: Collection[str]) -> tuple[str, ...]:
    return _strings(path, key, value)


def _parse_per_file_ignores(
    path: Path | None, key: str, value: Any, known: Collection[str]
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, dict):
        raise _key_error(path, key, f"must be a table of glob = [codes], not {_describe(value)}")
    return tuple((pattern, _parse_codes(path, f'{key}."{pattern}"', codes, known))
                 for pattern, codes in value.items())


def _parse_target(path: Path | None, key: str, value: Any, known: Collection[str]) -> Target:
    if not isinstance(value, str) or value not in TARGETS:
        shown = repr(value) if isinstance(value, str) else _describe(value)
        raise _key_error(path, key, f"must be one of {', '.join(TARGETS)}, not {shown}")
    return Target(value)


VERIFY_KEYS = ("examples",)


def _parse_verify(path: Path | None, key: str, value: Any, known: Collection[str]) -> Mapping[str, Any]:
    """`[tool.cfglint.verify]`, checked as strictly as the rest; kept raw (the workers take it as is).
    Whether each example's class exists is checked by `verify`, which knows the classes."""
    if not isinstance(value, dict):
        raise _key_error(path, key, f"must be a table, not {_describe(value)}")
    unknown = sorted(set(value) - set(VERIFY_KEYS))
    if unknown:
        raise ConfigError(f"{path}: unknown key `{unknown[0]}` in [tool.cfglint.verify]"
                          f"{_did_you_mean(unknown[0], VERIFY_KEYS)}; valid keys: {', '.join(VERIFY_KEYS)}")
    if "examples" in value:
        from cfglint.verify.examples import parse_user_examples  # light: no Keras, no NumPy

        try:
            parse_user_examples(value["examples"])
        except ValueError as exc:
            raise ConfigError(f"{path}: {exc}") from None
    return MappingProxyType(value)


_SIZE_UNITS = {"": 1, "B": 1, "KB": 1024, "KIB": 1024, "MB": 1024 ** 2, "MIB": 1024 ** 2}


def _parse_size(path: Path | None, key: str, value: Any, known: Collection[str]) -> int:
    """Bytes, as an integer or a string such as "8MB" or "512 KB"."""
    if isinstance(value, int) and not isinstance(value, bool):
        size = value
    elif isinstance(value, str):
        import re

        match = re.fullmatch(r"\s*(\d+)\s*([A-Za-z]*)\s*", value)
        unit = match.group(2).upper() if match else ""
        if not match or unit not in _SIZE_UNITS:
            raise _key_error(path, key, f"must be a number of bytes or a size such as \"8MB\", not {value!r}")
        size = int(match.group(1)) * _SIZE_UNITS[unit]
    else:
        raise _key_error(path, key, f"must be a number of bytes or a size such as \"8MB\", not {_describe(value)}")
    if size < 1:
        raise _key_error(path, key, "must be at least 1 byte")
    return size


_KEY_PARSERS = {
    "max-file-size": _parse_size,
    "select": _parse_codes,
    "ignore": _parse_codes,
    "extend-select": _parse_codes,
    "per-file-ignores": _parse_per_file_ignores,
    "exclude": _parse_globs,
    "extend-exclude": _parse_globs,
    "target": _parse_target,
    "verify": _parse_verify,
}


def _describe(value: Any) -> str:
    """A TOML-flavoured name for a value's type, for error messages."""
    if isinstance(value, list):
        wrong = next((item for item in value if not isinstance(item, str)), None)
        return f"a list containing {_describe(wrong)}" if wrong is not None else "a list"
    names = {bool: "a boolean", int: "an integer", float: "a float", str: "a string", dict: "a table"}
    return names.get(type(value), f"a {type(value).__name__}")


def _did_you_mean(value: str, choices: Collection[str]) -> str:
    """A ` (did you mean ...?)` hint; difflib is imported only on this error path."""
    for guess in (value.replace("_", "-"), value.upper()):
        if guess != value and guess in choices:
            return f" (did you mean `{guess}`?)"
    import difflib

    close = difflib.get_close_matches(value, list(choices), n=1)
    return f" (did you mean `{close[0]}`?)" if close else ""


def validate_codes(
    codes: Iterable[str], known_codes: Collection[str], *, where: str = "rule selection"
) -> tuple[str, ...]:
    """Return `codes` if each is "ALL" or a prefix of a known code; otherwise a ConfigError naming `where`."""
    checked = tuple(codes)
    for code in checked:
        if code != ALL and not (code and any(known.startswith(code) for known in known_codes)):
            raise ConfigError(
                f"{where}: unknown rule code or prefix `{code}`{_did_you_mean(code, known_codes)}; "
                f"valid codes: {ALL}, {', '.join(sorted(known_codes))}"
            )
    return checked


def _specificity(selector: str) -> int:
    return 0 if selector == ALL else len(selector)


def _selects(selector: str, code: str) -> bool:
    return selector == ALL or code.startswith(selector)


def _decide(code: str, chosen: Sequence[str], ignored: Sequence[str]) -> bool | None:
    """The most specific matching selector decides; on a tie, ignore wins (ruff). None: no opinion."""
    ranks = [(_specificity(selector), 0) for selector in chosen if _selects(selector, code)]
    ranks += [(_specificity(selector), 1) for selector in ignored if _selects(selector, code)]
    return max(ranks)[1] == 0 if ranks else None


def _apply_layer(
    enabled: set[str], all_codes: Sequence[str], select: Sequence[str] | None,
    extend_select: Sequence[str], ignore: Sequence[str],
) -> set[str]:
    """One source of selection (config or CLI): `select` replaces what came before, the rest adjust it."""
    result = set() if select is not None else set(enabled)
    chosen = (*(select or ()), *extend_select)
    for code in all_codes:
        decision = _decide(code, chosen, ignore)
        if decision is True:
            result.add(code)
        elif decision is False:
            result.discard(code)
    return result


def _cli_codes(values: Sequence[str] | None, option: str, known: Collection[str]) -> tuple[str, ...] | None:
    """CLI codes, accepting comma-separated lists (`--select CFG1,CFG2`), validated like configuration."""
    if values is None:
        return None
    codes = [code.strip() for value in values for code in value.split(",") if code.strip()]
    return validate_codes(codes, known, where=option)


class RuleSelection:
    """Which rules run: globally (`enabled`) and for one file after per-file-ignores (`enabled_for`)."""

    def __init__(self, codes: frozenset[str], root: Path,
                 per_file_ignores: Sequence[tuple[PathMatcher, tuple[str, ...]]] = ()) -> None:
        self.codes = codes
        self._root = root
        self._per_file_ignores = tuple(per_file_ignores)
        self._ignored_by_path: dict[str, tuple[str, ...]] = {}

    @classmethod
    def from_settings(
        cls, settings: Settings, *, all_codes: Collection[str], default_codes: Collection[str],
        cli_select: Sequence[str] | None = None, cli_ignore: Sequence[str] | None = None,
        cli_extend_select: Sequence[str] | None = None,
    ) -> RuleSelection:
        """Defaults, then the configuration, then the command line, each layered as ruff does."""
        codes = tuple(all_codes)
        enabled = set(default_codes) & set(codes)
        enabled = _apply_layer(enabled, codes, settings.select, settings.extend_select, settings.ignore)
        enabled = _apply_layer(
            enabled, codes, _cli_codes(cli_select, "--select", codes),
            _cli_codes(cli_extend_select, "--extend-select", codes) or (),
            _cli_codes(cli_ignore, "--ignore", codes) or (),
        )
        per_file = [(PathMatcher([pattern]), selectors) for pattern, selectors in settings.per_file_ignores]
        return cls(frozenset(enabled), settings.root, per_file)

    def enabled(self, code: str) -> bool:
        """Whether the rule runs at all (before per-file-ignores and `noqa`)."""
        return code in self.codes

    def enabled_for(self, code: str, path: Path) -> bool:
        """`enabled`, minus the per-file-ignores whose glob matches `path` (relative to the root)."""
        if code not in self.codes:
            return False
        return not any(_selects(selector, code) for selector in self._ignored_for(path))

    def _ignored_for(self, path: Path) -> tuple[str, ...]:
        if not self._per_file_ignores:
            return ()
        key = os.fspath(path)
        ignored = self._ignored_by_path.get(key)
        if ignored is None:
            rel = relative_to_root(key, self._root)
            ignored = tuple(selector for matcher, selectors in self._per_file_ignores
                            if matcher.match_path(rel) for selector in selectors)
            self._ignored_by_path[key] = ignored
        return ignored


def relative_to_root(path: str | os.PathLike[str], root: Path) -> str:
    """`path` relative to `root` in POSIX form ("" for the root); absolute if it lies outside.

    The root is resolved, so a path spelled through a symlink is resolved too before giving up.
    """
    absolute = os.path.abspath(path)
    rel = _inside(absolute, root)
    if rel is None:
        rel = _inside(os.path.realpath(absolute), root)
    return absolute.replace(os.sep, "/") if rel is None else rel


def _inside(absolute: str, root: Path) -> str | None:
    try:
        rel = os.path.relpath(absolute, root)
    except ValueError:  # another drive on Windows
        return None
    if rel == os.pardir or rel.startswith(os.pardir + os.sep):
        return None
    return "" if rel == os.curdir else rel.replace(os.sep, "/")


class PathMatcher:
    """A set of exclude-style globs, checked one path component at a time during a walk.

    A pattern without "/" matches any single name (`build`, `*_pb2.py`); one with "/" matches the path
    relative to the root (`src/gen/*`, `**/tests/*.py`). `**` spans directories, `*` and `?` do not,
    `[...]` and `{a,b}` work as in shells. A match on a directory covers everything below it.
    """

    def __init__(self, patterns: Iterable[str]) -> None:
        names: set[str] = set()
        name_globs: list[str] = []
        path_globs: list[str] = []
        for raw in patterns:
            pattern = raw.strip().removeprefix("./").rstrip("/")
            if "/" in pattern:
                path_globs.append(_translate(pattern))
            elif _GLOB_CHARS.isdisjoint(pattern):
                names.add(pattern)
            else:
                name_globs.append(_translate(pattern))
        names.discard("")
        self._names = frozenset(names)
        self._name_re = re.compile("|".join(name_globs)) if name_globs else None
        self._path_re = re.compile("|".join(path_globs)) if path_globs else None

    def match(self, name: str, rel: str) -> bool:
        """Whether one entry (its name and its root-relative path) is matched."""
        return (name in self._names
                or (self._name_re is not None and self._name_re.fullmatch(name) is not None)
                or (self._path_re is not None and self._path_re.fullmatch(rel) is not None))

    def match_path(self, rel: str) -> bool:
        """Whether a root-relative path or any directory above it is matched."""
        parts = rel.split("/")
        return any(self.match(part, "/".join(parts[: index + 1])) for index, part in enumerate(parts) if part)


def _translate(pattern: str) -> str:
    """A glob as a regular expression (without anchors; callers use fullmatch)."""
    out: list[str] = []
    index = 0
    while index < len(pattern):
        piece, index = _translate_token(pattern, index)
        out.append(piece)
    return "".join(out)


def _translate_token(pattern: str, index: int) -> tuple[str, int]:
    """The regular expression for the glob token at `index`, and the index after it.

    An unclosed `[` or `{`, or an invalid set, is literal: no pattern is an invalid regular expression.
    """
    char = pattern[index]
    if pattern.startswith("**/", index):
        return "(?:.*/)?", index + 3
    if pattern.startswith("**", index):
        return ".*", index + 2
    if char == "*":
        return "[^/]*", index + 1
    if char == "?":
        return "[^/]", index + 1
    if char == "[":
        first = index + 2 if pattern.startswith("[!", index) else index + 1
        end = pattern.find("]", first + 1)  # a "]" right after "[" or "[!" belongs to the set
        char_class = _char_class(pattern[index + 1:end]) if end != -1 else None
        if char_class is not None:
            return char_class, end + 1
    if char == "{":
        end = pattern.find("}", index)
        if end != -1:
            alternatives = pattern[index + 1:end].split(",")
            return "(?:" + "|".join(_translate(alternative) for alternative in alternatives) + ")", end + 1
    return re.escape(char), index + 1


def _char_class(body: str) -> str | None:
    """`[...]` as a regular expression (`!` negates, `a-z` is a range), or None if it is not valid."""
    negate = body.startswith("!")
    members = body[1:] if negate else body
    parts = []
    for index, char in enumerate(members):
        between = 0 < index < len(members) - 1 and "-" not in (members[index - 1], members[index + 1])
        parts.append("-" if char == "-" and between else re.escape(char))
    regex = "[" + ("^" if negate else "") + "".join(parts) + "]"
    try:
        re.compile(regex)
    except re.error:  # an empty set or a reversed range such as `z-a`
        return None
    return regex
