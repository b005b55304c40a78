"""Which Keras a project runs, read statically from its dependency metadata.

`tf.keras` is Keras 2 up to TensorFlow 2.15 and Keras 3 from TensorFlow 2.16 on, unless
`TF_USE_LEGACY_KERAS` makes it the `tf_keras` package again; `import keras` is Keras 2 when the
installed `keras` is 2.x (which TensorFlow < 2.16 brings along). The source alone cannot tell, so
`--target auto` also reads what the project declares: `pyproject.toml` (`[project]` dependencies and
optional dependencies, `[tool.poetry.*dependencies]`), `setup.cfg` and `setup.py` `install_requires`
and `extras_require` (literal lists only, read with `ast`), `requirements*.txt`, and settings of
`TF_USE_LEGACY_KERAS` in configuration files (`.env`, `tox.ini`, `pytest.ini`, `setup.cfg`,
`pyproject.toml`), in `conftest.py` and in the packages' `__init__.py`; for a package installed in
`site-packages`, the `Requires-Dist` of its distribution's `METADATA`. Nothing is imported or run.

The look-up walks up from a file's directory to the project root (the first directory holding
`pyproject.toml`, `setup.py`, `setup.cfg` or `.git`), once per directory; files are read only when a
decision needs them, so a run whose result is cached reads only their stats.
"""

from __future__ import annotations

import ast
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Any

from cfglint.finding import Target

TF_KERAS3 = (2, 16)  # the first TensorFlow whose `tf.keras` is Keras 3
TENSORFLOW_NAMES = frozenset({"tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tensorflow-macos",
                              "tensorflow-intel", "tensorflow-aarch64", "tensorflow-rocm", "intel-tensorflow"})
KERAS_NAMES = frozenset({"keras"})
TF_KERAS_NAMES = frozenset({"tf-keras", "tf-keras-nightly"})
ROOT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".git")
SITE_DIRS = ("site-packages", "dist-packages")  # an installed package speaks through its dist-info
ENV_FILES = ("tox.ini", "pytest.ini", ".env", "conftest.py")
LEGACY_SETTING = re.compile(
    rb"""TF_USE_LEGACY_KERAS['"]?\s*(?:\]\s*=|[=:,])\s*['"]?\s*(1|true|yes|on)\b""", re.IGNORECASE)
_INTERESTING = (b"tensorflow", b"keras", b"tf_keras", b"tf-keras", b"TF_USE_LEGACY_KERAS")
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*)$")
_CLAUSE = re.compile(r"^(===|==|!=|~=|>=|<=|>|<)\s*v?(\d+(?:\.\d+)*)(\.\*)?")

Version = tuple[int, ...]
Bound = tuple[Version, bool]  # (version, inclusive)


@dataclass(frozen=True)
class Evidence:
    """Where a fact about the project was read: file, line, and the text found there."""

    path: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text}"


@dataclass(frozen=True)
class Requirement:
    name: str  # normalized (PEP 503): "tf-keras"
    specifier: str  # ">=2.10,<2.16", "" when there is none
    evidence: Evidence


@dataclass(frozen=True)
class Decision:
    """The Keras a file is checked for, and why (shown by `--show-settings`)."""

    target: Target
    source: str  # "command line", "configuration", "file imports", "project metadata", "default"
    reason: str
    evidence: tuple[Evidence, ...] = ()


@dataclass
class ProjectFacts:
    """What one project's metadata says about Keras."""

    requirements: list[Requirement] = field(default_factory=list)
    legacy_env: Evidence | None = None

    def versions(self, names: frozenset[str]) -> list[Requirement]:
        return [r for r in self.requirements if r.name in names]

    def verdict(self, names: frozenset[str], pivot: Version) -> tuple[str | None, Requirement | None]:
        """"below"/"above" `pivot` when every versioned requirement of these packages agrees, else None."""
        found: dict[str, Requirement] = {}
        for requirement in self.versions(names):
            side = side_of(requirement.specifier, pivot)
            if side is not None:
                found.setdefault(side, requirement)
        if len(found) == 1:
            side, requirement = next(iter(found.items()))
            return side, requirement
        return None, None


# ---------------------------------------------------------------------------------------------- decision
def decide(flavour: str | None, flavour_line: int, project: ProjectFacts) -> Decision:
    """The target of a file from how it imports Keras (`flavour`: "tf_keras", "keras" or None for
    `tf.keras` or no direct import) and what its project declares."""
    if flavour == "tf_keras":
        return Decision(Target.TF_KERAS, "file imports", f"the file imports tf_keras (line {flavour_line})")
    keras_side, keras_req = project.verdict(KERAS_NAMES, (3,))
    tf_side, tf_req = project.verdict(TENSORFLOW_NAMES, TF_KERAS3)
    if flavour == "keras":
        where = f"the file imports keras (line {flavour_line})"
        if keras_side == "below" and keras_req is not None:  # a side always comes with its requirement
            return Decision(Target.TF_KERAS, "file imports", f"{where} and the project requires keras<3",
                            (keras_req.evidence,))
        if tf_side == "below" and keras_side is None and tf_req is not None:
            return Decision(Target.TF_KERAS, "file imports",
                            f"{where} and the project requires TensorFlow < 2.16, which installs Keras 2 as keras",
                            (tf_req.evidence,))
        evidence = (keras_req.evidence,) if keras_req is not None else ()
        return Decision(Target.KERAS3, "file imports", where, evidence)
    return _decide_tf_keras(project, keras_side, keras_req, tf_side, tf_req)


def _decide_tf_keras(project: ProjectFacts, keras_side: str | None, keras_req: Requirement | None,
                     tf_side: str | None, tf_req: Requirement | None) -> Decision:
    """`tf.keras` (or no Keras import at all): Keras 2 unless the project says it runs Keras 3."""
    source = "project metadata"
    if project.legacy_env is not None:
        return Decision(Target.TF_KERAS, source, "TF_USE_LEGACY_KERAS is set: tf.keras is tf_keras",
                        (project.legacy_env,))
    if keras_side == "below" and keras_req is not None:
        return Decision(Target.TF_KERAS, source, "the project requires keras<3", (keras_req.evidence,))
    if tf_side == "below" and tf_req is not None:
        return Decision(Target.TF_KERAS, source, "the project requires TensorFlow < 2.16, whose tf.keras is Keras 2",
                        (tf_req.evidence,))
    tf_keras = project.versions(TF_KERAS_NAMES)
    if tf_keras and keras_side != "above":
        return Decision(Target.TF_KERAS, source, "the project depends on tf-keras", (tf_keras[0].evidence,))
    if keras_side == "above" and keras_req is not None:
        return Decision(Target.KERAS3, source, "the project requires keras>=3", (keras_req.evidence,))
    if tf_side == "above" and tf_req is not None:
        return Decision(Target.KERAS3, source,
                        "the project requires TensorFlow >= 2.16 (without tf-keras), whose tf.keras is Keras 3",
                        (tf_req.evidence,))
    return Decision(Target.KERAS3, "default", "no import or project metadata says otherwise")


# ---------------------------------------------------------------------------------------------- versions
def side_of(specifier: str, pivot: Version) -> str | None:
    """"below" when every version `specifier` allows is < `pivot`, "above" when every one is >= it,
    None when it allows both or cannot be read. Only release numbers count (2.16.0rc1 is 2.16.0)."""
    bounds = _bounds(specifier)
    if bounds is None:
        return None
    lower, upper = bounds
    if upper is not None:
        version, inclusive = upper
        if _cmp(version, pivot) < 0 or (_cmp(version, pivot) == 0 and not inclusive):
            return "below"
    if lower is not None and _cmp(lower[0], pivot) >= 0:
        return "above"
    return None


def _bounds(specifier: str) -> tuple[Bound | None, Bound | None] | None:
    """The lowest and highest version a PEP 440 specifier allows (None: unbounded), or None when a
    clause is not understood."""
    lower: Bound | None = None
    upper: Bound | None = None
    for clause in specifier.split(","):
        clause = clause.strip()
        if not clause:
            continue
        match = _CLAUSE.match(clause)
        if match is None:
            return None
        op, text, wildcard = match.groups()
        version = tuple(int(part) for part in text.split("."))
        new_lower: Bound | None = None
        new_upper: Bound | None = None
        if op in ("==", "===") and wildcard:
            new_lower, new_upper = (version, True), (_next(version, len(version)), False)
        elif op in ("==", "==="):
            new_lower = new_upper = (version, True)
        elif op == "~=":
            if len(version) < 2:
                return None
            new_lower, new_upper = (version, True), (_next(version, len(version) - 1), False)
        elif op in (">=", ">"):
            new_lower = (version, op == ">=")
        elif op in ("<=", "<"):
            new_upper = (version, op == "<=")
        if new_lower is not None and (lower is None or _cmp(new_lower[0], lower[0]) > 0):
            lower = new_lower
        if new_upper is not None and (upper is None or _cmp(new_upper[0], upper[0]) < 0):
            upper = new_upper
    return lower, upper


def _next(version: Version, length: int) -> Version:
    """The first version after every one starting with `version[:length]`: (2, 15) → (2, 16)."""
    prefix = version[:length]
    return (*prefix[:-1], prefix[-1] + 1)


def _cmp(a: Version, b: Version) -> int:
    width = max(len(a), len(b))
    a, b = a + (0,) * (width - len(a)), b + (0,) * (width - len(b))
    return (a > b) - (a < b)


def poetry_specifier(constraint: str) -> str | None:
    """A Poetry constraint as a PEP 440 specifier (`^2.15` → `>=2.15,<3`), None if not understood."""
    constraint = constraint.strip()
    if constraint in ("", "*"):
        return ""
    if "||" in constraint or "|" in constraint:
        return None
    parts = []
    for clause in re.split(r"[,\s]+(?=[<>=!~^\d])", constraint):
        clause = clause.strip().rstrip(",")
        match = re.match(r"^([\^~])(\d+(?:\.\d+)*)$", clause)
        if match:
            kind, text = match.groups()
            version = tuple(int(p) for p in text.split("."))
            if kind == "^":
                significant = next((i for i, part in enumerate(version) if part), len(version) - 1)
                upper = _next(version, significant + 1)
            else:
                upper = _next(version, 2 if len(version) > 1 else 1)
            parts += [f">={text}", "<" + ".".join(map(str, upper))]
        elif re.match(r"^\d", clause):
            parts.append(f"=={clause}")
        else:
            parts.append(clause)
    return ",".join(parts)


def parse_requirement(text: str) -> tuple[str, str] | None:
    """(normalized name, specifier) of a PEP 508 requirement; markers and URLs carry no version."""
    text = text.split(";", 1)[0].strip()
    match = _REQUIREMENT.match(text)
    if match is None:
        return None
    name, rest = match.groups()
    rest = rest.strip()
    if rest.startswith("@"):
        rest = ""
    rest = rest.strip("() ")
    return normalize(name), rest


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# ---------------------------------------------------------------------------------------------- files
class ProjectMetadata:
    """Finds and reads the metadata of the project holding each directory, each directory and file
    once per run."""

    def __init__(self) -> None:
        self._files_by_dir: dict[str, tuple[str, ...]] = {}
        self._facts_by_dir: dict[str, ProjectFacts] = {}
        self._read: dict[str, tuple[list[Requirement], Evidence | None]] = {}
        self._distributions: dict[str, dict[str, str]] = {}  # site-packages → top-level name → METADATA

    def files(self, directory: str) -> tuple[str, ...]:
        """The metadata files that speak for `directory`, nearest first (stat-ed for the cache key)."""
        directory = os.path.abspath(directory)
        found = self._files_by_dir.get(directory)
        if found is not None:
            return found
        try:
            entries = set(os.listdir(directory))
        except OSError:
            entries = set()
        own = sorted(name for name in entries if name.startswith("requirements") and name.endswith(".txt"))
        own += [name for name in ("pyproject.toml", "setup.cfg", "setup.py", *ENV_FILES, "__init__.py")
                if name in entries]
        mine = tuple(os.path.join(directory, name) for name in own)
        parent = os.path.dirname(directory)
        if os.path.basename(directory) in SITE_DIRS:
            found = ()  # never above an installation directory
        elif os.path.basename(parent) in SITE_DIRS:  # an installed package: its distribution's metadata
            metadata = self._distribution(parent, os.path.basename(directory))
            found = mine + ((metadata,) if metadata else ())
        elif any(marker in entries for marker in ROOT_MARKERS) or parent == directory:
            found = mine
        else:
            found = mine + self.files(parent)
        self._files_by_dir[directory] = found
        return found

    def listed_directories(self) -> list[str]:
        """The folders whose listings `files` read (site-packages folders included): a file added to
        one of them may change a decision."""
        return [*self._files_by_dir, *self._distributions]

    def _distribution(self, site: str, package: str) -> str | None:
        """The `METADATA` of the installed distribution that provides the top-level `package`."""
        table = self._distributions.get(site)
        if table is None:
            table = self._distributions[site] = _top_level_table(site)
        return table.get(package)

    def facts(self, directory: str) -> ProjectFacts:
        """Everything the metadata files of `directory`'s project say."""
        directory = os.path.abspath(directory)
        facts = self._facts_by_dir.get(directory)
        if facts is None:
            facts = ProjectFacts()
            for path in self.files(directory):
                requirements, legacy = self._read_file(path)
                facts.requirements.extend(requirements)
                if facts.legacy_env is None:
                    facts.legacy_env = legacy
            self._facts_by_dir[directory] = facts
        return facts

    def _read_file(self, path: str) -> tuple[list[Requirement], Evidence | None]:
        cached = self._read.get(path)
        if cached is None:
            cached = read_metadata_file(path)
            self._read[path] = cached
        return cached


def _top_level_table(site: str) -> dict[str, str]:
    """Top-level package name → `METADATA` path for the `*.dist-info` directories of `site`, from
    `top_level.txt`, else the first components of `RECORD`, else the distribution's own name."""
    table: dict[str, str] = {}
    try:
        names = sorted(name for name in os.listdir(site) if name.endswith(".dist-info"))
    except OSError:
        return table
    for name in names:
        info = os.path.join(site, name)
        metadata = os.path.join(info, "METADATA")
        tops = _lines(os.path.join(info, "top_level.txt"))
        if not tops:
            tops = {line.split(",", 1)[0].split("/", 1)[0] for line in _lines(os.path.join(info, "RECORD"))
                    if "/" in line.split(",", 1)[0]}
            tops = {top for top in tops if not top.endswith((".dist-info", ".data")) and top != ".."}
        tops = tops or {name.split("-", 1)[0]}
        for top in tops:
            table.setdefault(top, metadata)
    return table


def _lines(path: str) -> set[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return {line.strip() for line in handle if line.strip()}
    except OSError:
        return set()


def read_metadata_file(path: str) -> tuple[list[Requirement], Evidence | None]:
    """The Keras-related requirements and `TF_USE_LEGACY_KERAS` setting in one file. A file that cannot
    be read or parsed says nothing (it is the project's business, not a lint error)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return [], None
    if not any(word in data for word in _INTERESTING):
        return [], None
    text = data.decode("utf-8", "replace")
    name = os.path.basename(path)
    legacy = legacy_setting(data, path)
    if name in ("__init__.py", "conftest.py") or name in ENV_FILES:
        return [], legacy
    try:
        if name == "pyproject.toml":
            lines = _from_pyproject(text)
        elif name == "setup.cfg":
            lines = _from_setup_cfg(text)
        elif name == "setup.py":
            lines = _from_setup_py(text)
        elif name == "METADATA":
            lines = _from_core_metadata(text)
        else:
            lines = _from_requirements_txt(text)
    except (ValueError, SyntaxError, RecursionError, MemoryError):
        lines = []
    requirements = []
    for line, requirement in lines:
        parsed = parse_requirement(requirement)
        if parsed is not None and parsed[0] in TENSORFLOW_NAMES | KERAS_NAMES | TF_KERAS_NAMES:
            requirements.append(Requirement(parsed[0], parsed[1], Evidence(path, line, requirement.strip())))
    return requirements, legacy


def legacy_setting(data: bytes, path: str) -> Evidence | None:
    """Where `TF_USE_LEGACY_KERAS` is set to a true value (`os.environ[...] = "1"`, `KEY=1`, `"KEY": "1"`)."""
    match = LEGACY_SETTING.search(data)
    if match is None:
        return None
    line = data.count(b"\n", 0, match.start()) + 1
    start = data.rfind(b"\n", 0, match.start()) + 1
    end = data.find(b"\n", match.end())
    return Evidence(path, line, data[start:end if end != -1 else len(data)].decode("utf-8", "replace").strip())


def _line_of(text: str, needle: str, start: int = 0) -> int:
    index = text.find(needle, start)
    return text.count("\n", 0, index) + 1 if index != -1 else 1


def _from_pyproject(text: str) -> list[tuple[int, str]]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(str(exc)) from None
    found: list[str] = []
    project = document.get("project")
    if isinstance(project, dict):
        found += _strings(project.get("dependencies"))
        optional = project.get("optional-dependencies")
        if isinstance(optional, dict):
            for values in optional.values():
                found += _strings(values)
    result = [(_line_of(text, f'"{req}"') if f'"{req}"' in text else _line_of(text, req), req) for req in found]
    poetry = document.get("tool", {}).get("poetry") if isinstance(document.get("tool"), dict) else None
    if isinstance(poetry, dict):
        tables = [poetry.get("dependencies"), poetry.get("dev-dependencies")]
        groups = poetry.get("group")
        if isinstance(groups, dict):
            tables += [group.get("dependencies") for group in groups.values() if isinstance(group, dict)]
        for table in tables:
            if isinstance(table, dict):
                result += _poetry_table(text, table)
    return result


def _poetry_table(text: str, table: dict[str, Any]) -> list[tuple[int, str]]:
    result = []
    for name, value in table.items():
        constraints = value if isinstance(value, list) else [value]
        for constraint in constraints:
            if isinstance(constraint, dict):
                constraint = constraint.get("version", "")
            if not isinstance(constraint, str):
                continue
            specifier = poetry_specifier(constraint)
            if specifier is None:
                continue
            line = re.search(rf"(?m)^\s*['\"]?{re.escape(name)}['\"]?\s*=", text)
            number = text.count("\n", 0, line.start()) + 1 if line else 1
            result.append((number, f"{name}{specifier}"))
    return result


def _strings(value: object) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _from_setup_cfg(text: str) -> list[tuple[int, str]]:
    """`install_requires` in `[options]` and every key of `[options.extras_require]`, with their
    continuation lines (configparser would lose the line numbers)."""
    result: list[tuple[int, str]] = []
    section = ""
    collecting = False
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            section, collecting = stripped[1:-1].strip(), False
            continue
        if not stripped or stripped.startswith(("#", ";")):
            continue
        if raw[:1] in (" ", "\t") and collecting:
            result.append((number, stripped))
            continue
        key, sep, value = raw.partition("=")
        if not sep:
            collecting = False
            continue
        key = key.strip()
        collecting = (section == "options" and key == "install_requires") or section == "options.extras_require"
        if collecting and value.strip():
            result.append((number, value.strip()))
    return [(number, line) for number, line in result if not line.startswith(("-", "file:", "attr:"))]


def _from_setup_py(text: str) -> list[tuple[int, str]]:
    """Literal strings in `install_requires=`/`extras_require=`/`requires=` of any call, following a
    module-level name bound to a literal list once."""
    tree = ast.parse(text)
    literals: dict[str, ast.expr] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            literals[stmt.targets[0].id] = stmt.value
    result: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        for keyword in node.keywords:
            if keyword.arg in ("install_requires", "extras_require", "requires"):
                result += _literal_strings(keyword.value, literals, depth=0)
    return result


def _literal_strings(node: ast.expr, literals: dict[str, ast.expr], depth: int) -> list[tuple[int, str]]:
    if isinstance(node, ast.Name) and depth < 2 and node.id in literals:
        return _literal_strings(literals[node.id], literals, depth + 1)
    if isinstance(node, (ast.List, ast.Tuple)):
        return [(item.lineno, item.value) for item in node.elts
                if isinstance(item, ast.Constant) and isinstance(item.value, str)]
    if isinstance(node, ast.Dict):
        return [found for value in node.values for found in _literal_strings(value, literals, depth)]
    return []


def _from_core_metadata(text: str) -> list[tuple[int, str]]:
    """`Requires-Dist:` headers of an installed distribution's `METADATA` (the headers end at the first
    blank line; the description follows)."""
    result = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            break
        if line.startswith("Requires-Dist:"):
            result.append((number, line.partition(":")[2].strip()))
    return result


def _from_requirements_txt(text: str) -> list[tuple[int, str]]:
    result = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = re.split(r"\s#", raw, maxsplit=1)[0].strip().rstrip("\\").strip()
        if line and not line.startswith(("#", "-")):
            result.append((number, line))
    return result
