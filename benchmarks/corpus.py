"""The benchmark corpora: the Keras-dense one (pinned wheels) and the old TensorFlow-stack one.

* `dense`: the wheels pinned in `benchmarks/dense-corpus.toml` (keras, keras-hub, keras-cv), downloaded
  once into a cache folder (`~/.cache/cfglint-bench`), checked against their sha256, and their `.py`
  files unpacked under `<name>-<version>/`. Most of its files are Keras layers and models.
* `stack`: the Python source of the installed `keras`, `tensorflow` and `tf_keras` packages, where most
  files define no Keras class (the prefilter skips them).

Also: the files of a corpus that define a Keras class (asked of cfglint's engine, not guessed with a
regex), used to pick the one-file and pre-commit batch samples and to report the prefilter's yield.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import tomllib
from ecosystem import download_archive

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PINS = HERE / "dense-corpus.toml"
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "cfglint-bench"
STACK_PACKAGES = ("keras", "tensorflow", "tf_keras")


def bench_env() -> dict[str, str]:
    """The environment of every measured process: this checkout's cfglint first on the path, and `.pyc`
    files written and used as users have them (some environments turn them off)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "CFGLINT_OUTPUT_FORMAT")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return env


def use_checkout() -> None:
    """Import this checkout's cfglint in the benchmark's own process too (in-process timings)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


class CorpusError(Exception):
    """The corpus cannot be built (no network, a wrong hash, nothing installed); the message says why."""


@dataclass(frozen=True)
class Wheel:
    name: str
    version: str
    sha256: str

    @property
    def pin(self) -> str:
        return f"{self.name}=={self.version}"


def load_pins(path: Path = PINS) -> list[Wheel]:
    return [Wheel(**entry) for entry in tomllib.loads(path.read_text(encoding="utf-8"))["wheel"]]


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_wheel(wheel: Wheel, cache: Path) -> Path:
    """The pinned wheel from the cache, downloaded first if needed; refused unless its hash matches."""
    try:
        archive = download_archive(wheel.name, wheel.version, cache, wheel_only=True)
    except RuntimeError as exc:
        raise CorpusError(f"could not download {wheel.pin} (no network or no package index?). Put the wheel "
                          f"in {cache} by hand, or run with --corpus stack.\n{exc}") from exc
    found = sha256(archive)
    if found != wheel.sha256:
        raise CorpusError(f"{archive} has sha256 {found}, not the pinned {wheel.sha256}: delete it to download "
                          "again, or update benchmarks/dense-corpus.toml deliberately")
    return archive


def unpack_python(archive: Path, target: Path) -> int:
    """Extract the `.py` members of a wheel under `target/<name>-<version>/`; returns how many."""
    folder = target / "-".join(archive.name.split("-")[:2])
    count = 0
    with zipfile.ZipFile(archive) as wheel:
        for member in wheel.infolist():
            relative = Path(member.filename)
            if member.is_dir() or relative.suffix != ".py" or relative.is_absolute() or ".." in relative.parts:
                continue
            destination = folder / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(wheel.read(member))
            count += 1
    return count


def build_dense(target: Path, cache: Path = DEFAULT_CACHE, pins: list[Wheel] | None = None) -> list[str]:
    """Unpack the pinned wheels' Python files into `target`; returns the pins used."""
    used = []
    for wheel in pins if pins is not None else load_pins():
        unpack_python(fetch_wheel(wheel, cache), target)
        used.append(wheel.pin)
    mark_project_root(target)
    return used


def mark_project_root(target: Path) -> None:
    """A `pyproject.toml` naming no dependency and configuring no tool, as every repository has a root
    marker: without one, project look-ups (dependency metadata for `--target auto`, configuration) go
    on up into the temporary folder the corpus lives in, which other programs change all the time."""
    (target / "pyproject.toml").write_text('[project]\nname = "benchmark-corpus"\nversion = "0"\n', encoding="utf-8")


def package_dir(name: str) -> Path | None:
    """Where an installed package lives, found without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def build_stack(target: Path) -> list[str]:
    """Copy the installed keras, tensorflow and tf_keras sources into `target`; returns the packages found."""
    copied = []
    for name in STACK_PACKAGES:
        source = package_dir(name)
        if source is None:
            continue
        for path in source.rglob("*.py"):
            destination = target / name / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
        copied.append(name)
    mark_project_root(target)
    if not copied:
        raise CorpusError("no keras/tensorflow source installed for the stack corpus: pip install -e '.[verify]' "
                          "first, or run with --corpus dense")
    return copied


# Run in a fresh process, in the corpus folder, with the cfglint under test: which files pass the
# prefilter (the engine parses them) and which of those define a Keras class (the engine's own index).
CENSUS = r"""
import json, sys
from pathlib import Path
from cfglint.config import load_settings
from cfglint.engine import Checker
from cfglint.rules import ALL_RULES
checker = Checker(load_settings(Path.cwd(), known_codes=ALL_RULES))
_, modules = checker.parse_paths(["."])
keras = [facts.path for facts in modules if any(True for _ in checker.index.keras_classes(facts))]
json.dump({"parsed": sorted(facts.path for facts in modules), "keras": sorted(keras)}, sys.stdout)
"""


@dataclass(frozen=True)
class Census:
    files: list[str]  # every `.py` file, relative to the corpus
    parsed: list[str]  # those the prefilter passes (the engine parses them)
    keras: list[str]  # those of `parsed` that define a Keras class


def census(corpus: Path, env: dict[str, str]) -> Census:
    result = subprocess.run([sys.executable, "-c", CENSUS], cwd=corpus, env=env, capture_output=True, text=True,
                            check=False)
    if result.returncode != 0:
        raise CorpusError(f"cfglint could not parse the corpus:\n{result.stderr[-2000:]}")
    found = json.loads(result.stdout)
    files = sorted(p.relative_to(corpus).as_posix() for p in corpus.rglob("*.py"))
    return Census(files, [_relative(p) for p in found["parsed"]], [_relative(p) for p in found["keras"]])


def _relative(path: str) -> str:
    return Path(os.path.normpath(path)).as_posix()


def is_layer_file(path: str) -> bool:
    """A layer or model module (not a test): what a pre-commit run typically sees."""
    parts = set(Path(path).parts[:-1])
    name = Path(path).name
    return bool(parts & {"layers", "models"}) and not name.endswith("_test.py") and not name.startswith("test_")


def layer_sample(keras_files: list[str], count: int) -> list[str]:
    """`count` layer/model files defining a Keras class, spread evenly over the sorted list."""
    layers = [p for p in keras_files if is_layer_file(p)] or keras_files
    if len(layers) <= count:
        return layers
    step = len(layers) / count
    return [layers[int(i * step)] for i in range(count)]


def typical_layer_file(keras_files: list[str], preferred: tuple[str, ...]) -> str:
    """The one-file sample: the first preferred path present, else the middle of the layer sample."""
    for path in preferred:
        if path in keras_files:
            return path
    sample = layer_sample(keras_files, 21)
    if not sample:
        raise CorpusError("the corpus has no file defining a Keras class")
    return sample[len(sample) // 2]
