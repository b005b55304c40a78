"""The result cache and parallel workers: where the cache lives, that a warm run reads and parses
nothing, that every change invalidates what it should (the cached answer always equals the uncached
one), that `--jobs` never changes the output, and that a damaged or unwritable cache never breaks a run.

Most tests call `cfglint.cli.main` in-process; the ones where module names depend on `__init__.py`
files appearing run `python -m cfglint` in a fresh process (package look-ups are memoised per process).
"""

from __future__ import annotations

import builtins
import io
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from helpers import THREE_FINDINGS, caches_in_repository

import cfglint.cache
import cfglint.engine
from cfglint.cache import CACHE_DIR_NAME, ENTRIES_FILE, SNAPSHOTS_FILE, FileEntry
from cfglint.cli import main
from cfglint.plaindata import decoder

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
VERSION = cfglint.cache.__version__

BUGGY = THREE_FINDINGS

CLEAN = """\
import keras


class Scale(keras.layers.Layer):
    def __init__(self, units, rate=0.5, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.rate = rate

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units, "rate": self.rate})
        return config
"""

BASE = """\
import keras


class MyBase(keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units})
        return config
"""
BASE_WITH_RATE = BASE.replace('{"units": self.units}', '{"units": self.units, "rate": self.rate}')

LEAF = """\
from {module} import MyBase


class Leaf(MyBase):
    def __init__(self, units, rate=0.1, **kwargs):
        super().__init__(units, **kwargs)
        self.rate = rate
"""

NOT_KERAS = """\
def helper(x):
    return x + 1
"""


# ---------------------------------------------------------------------------------------------- helpers
@pytest.fixture(autouse=True)
def _cache_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CFGLINT_NO_CACHE", raising=False)
    monkeypatch.delenv("CFGLINT_OUTPUT_FORMAT", raising=False)


def make_project(root: Path, files: dict[str, str], config: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text("[tool.cfglint]\n" + config, encoding="utf-8")
    for name, text in files.items():
        write(root / name, text)
    return root


def write(path: Path, text: str) -> None:
    """Write a file dated ten seconds ago, as files in a checkout are older than the run: the cache
    does not trust a stat taken within two seconds of its save (the racy-timestamp rule)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    past = time.time_ns() - 10_000_000_000
    os.utime(path, ns=(past, past))


class Cli:
    """`cfglint` in-process from the project root: exit code and standard output."""

    def __init__(self, root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
        self.root, self.capsys = root, capsys
        monkeypatch.chdir(root)

    def __call__(self, *args: str) -> tuple[int, str]:
        self.capsys.readouterr()
        code = main(list(args))
        captured = self.capsys.readouterr()
        assert "internal error" not in captured.err, captured.err
        return code, captured.out

    def check(self, *args: str) -> tuple[int, str]:
        return self("check", "--jobs", "1", *args)

    def same_as_uncached(self, *args: str) -> str:
        """Check with the cache, then without it: both answers must be identical."""
        cached = self.check(*args)
        uncached = self.check("--no-cache", *args)
        assert cached == uncached
        return cached[1]


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths `parse_module` is called on from now on (in this process: use `--jobs 1`) by the
    analysis; planning the fixes of fixable findings (for `[*]`) checks their text again, which its
    own cache covers (`test_warm_run_reads_and_parses_nothing`), and is not counted here."""
    calls: list[str] = []
    original = cfglint.engine.parse_module

    def counting(source: str, path: str, module: str):  # type: ignore[no-untyped-def]
        if not _planning_fixes():
            calls.append(os.path.basename(path))
        return original(source, path, module)

    monkeypatch.setattr(cfglint.engine, "parse_module", counting)
    return calls


def _planning_fixes() -> bool:
    frame = sys._getframe(2)
    while frame is not None:
        if Path(frame.f_code.co_filename).parent.name == "fixes":
            return True
        frame = frame.f_back
    return False


def codes(output: str) -> list[tuple[str, str]]:
    """(file name, code) of each finding line of the text output."""
    found = []
    for line in output.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].startswith("CFG") and line.count(":") >= 3:
            found.append((os.path.basename(parts[0].split(":")[0]), parts[1]))
    return found


def run_process(root: Path, *args: str) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CFGLINT_NO_CACHE", "CFGLINT_OUTPUT_FORMAT")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, "-m", "cfglint", *args], check=False, cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)
    assert "internal error" not in done.stderr, done.stderr
    return done.returncode, done.stdout


def entries(root: Path) -> dict[str, FileEntry]:
    with open(root / CACHE_DIR_NAME / VERSION / ENTRIES_FILE, "rb") as handle:
        return {key: decoder(FileEntry)(raw) for key, raw in json.load(handle)["items"].items()}


# ---------------------------------------------------------------------------------------------- 1. layout
def test_cache_layout_at_project_root(tmp_path, capsys, monkeypatch):
    root = make_project(tmp_path / "proj", {"pkg/layer.py": BUGGY})
    cli = Cli(root / "pkg", capsys, monkeypatch)  # run from a subfolder: the cache still goes to the root
    code, out = cli.check("layer.py")
    assert code == 1 and len(codes(out)) == 3
    cache = root / CACHE_DIR_NAME
    assert cache.is_dir()
    assert not (root / "pkg" / CACHE_DIR_NAME).exists()
    tag = (cache / "CACHEDIR.TAG").read_text(encoding="utf-8")
    assert tag.startswith("Signature: 8a477f597d28d172789f06886806bc55")
    ignored = [line.strip() for line in (cache / ".gitignore").read_text(encoding="utf-8").splitlines()]
    assert "*" in ignored
    assert (cache / VERSION).is_dir()  # versioned: an upgrade starts cold


def test_cache_is_ignored_by_git(tmp_path, capsys, monkeypatch):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = make_project(tmp_path / "proj", {"layer.py": BUGGY})
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    Cli(root, capsys, monkeypatch).check(".")
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=root,
                            capture_output=True, text=True, check=True).stdout
    assert CACHE_DIR_NAME not in status
    assert "layer.py" in status


def test_no_cache_creates_nothing(tmp_path, capsys, monkeypatch):
    root = make_project(tmp_path / "proj", {"layer.py": BUGGY})
    cli = Cli(root, capsys, monkeypatch)
    before = sorted(p.name for p in root.iterdir())
    code, out = cli.check("--no-cache", ".")
    assert code == 1 and len(codes(out)) == 3
    assert sorted(p.name for p in root.iterdir()) == before


def test_environment_variable_disables_the_cache(tmp_path, capsys, monkeypatch):
    root = make_project(tmp_path / "proj", {"layer.py": BUGGY})
    cli = Cli(root, capsys, monkeypatch)
    monkeypatch.setenv("CFGLINT_NO_CACHE", "1")
    code, out = cli.check(".")
    assert code == 1 and len(codes(out)) == 3
    assert not (root / CACHE_DIR_NAME).exists()


def test_cache_dir_option(tmp_path, capsys, monkeypatch):
    root = make_project(tmp_path / "proj", {"layer.py": BUGGY})
    cli = Cli(root, capsys, monkeypatch)
    elsewhere = tmp_path / "elsewhere" / "cache"
    first = cli.check("--cache-dir", str(elsewhere), ".")
    assert (elsewhere / "CACHEDIR.TAG").is_file() and (elsewhere / ".gitignore").is_file()
    assert (elsewhere / VERSION / SNAPSHOTS_FILE).is_file()
    assert not (root / CACHE_DIR_NAME).exists()
    cli.check("--cache-dir", "relative-cache", ".")  # relative to the working directory
    assert (root / "relative-cache" / "CACHEDIR.TAG").is_file()
    assert cli.check("--cache-dir", str(elsewhere), ".") == first


def test_clean(tmp_path, capsys, monkeypatch):
    root = make_project(tmp_path / "proj", {"pkg/layer.py": BUGGY})
    cli = Cli(root, capsys, monkeypatch)
    cli.check(".")
    cache = root / CACHE_DIR_NAME
    assert cache.is_dir()
    code, out = cli("clean")
    assert code == 0
    assert "Removed" in out and CACHE_DIR_NAME in out
    assert not cache.exists()
    code, out = cli("clean")
    assert code == 0
    assert "No cfglint cache" in out
    # a path inside the project finds the cache at its root
    cli.check(".")
    code, out = cli("clean", "pkg")
    assert "Removed" in out and not cache.exists()


def test_clean_cache_dir_option(tmp_path, capsys, monkeypatch):
    root = make_project(tmp_path / "proj", {"layer.py": BUGGY})
    cli = Cli(root, capsys, monkeypatch)
    elsewhere = tmp_path / "elsewhere"
    cli.check("--cache-dir", str(elsewhere), ".")
    code, out = cli("clean", "--cache-dir", str(elsewhere))
    assert code == 0 and "Removed" in out and not elsewhere.exists()
    code, out = cli("clean", "--cache-dir", str(elsewhere))
    assert code == 0 and "No cfglint cache" in out


def test_clean_never_removes_a_folder_that_is_not_a_cache(tmp_path, capsys, monkeypatch):
    root = make_project(tmp_path / "proj", {"layer.py": BUGGY})
    cli = Cli(root, capsys, monkeypatch)
    code, out = cli("clean", "--cache-dir", str(root))
    assert code == 0 and "No cfglint cache" in out
    assert (root / "layer.py").is_file()


# ---------------------------------------------------------------------------------------------- 2. warm run
def test_warm_run_reads_and_parses_nothing(tmp_path, capsys, monkeypatch):
    root = make_project(tmp_path / "proj", {
        "pkg/layer.py": BUGGY, "pkg/clean.py": CLEAN, "pkg/util.py": NOT_KERAS,
        "base.py": BASE, "leaf.py": LEAF.format(module="base"),
    })
    cli = Cli(root, capsys, monkeypatch)
    cold = cli.check(".")
    assert cold[0] == 1 and ("leaf.py", "CFG102") in codes(cold[1])
    cold_json = cli.check("--output-format", "json", ".")

    touched: list[str] = []

    def forbidden(name: str):  # type: ignore[no-untyped-def]
        def call(*args, **kwargs):  # type: ignore[no-untyped-def]
            touched.append(name)
            raise AssertionError(f"{name} called on a warm run")
        return call

    for name in ("parse_module", "parse_file", "read_entry", "_read_bytes"):
        monkeypatch.setattr(cfglint.engine, name, forbidden(name))
    real_open = builtins.open

    def watched_open(file, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(file).endswith((".py", ".pyi")):
            touched.append(f"open {file}")
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", watched_open)
    monkeypatch.setattr(io, "open", watched_open)  # what pathlib reads through

    assert cli.check(".") == cold
    assert cli.check("--output-format", "json", ".") == cold_json
    assert touched == []


def test_warm_run_single_file_with_base_elsewhere(tmp_path, capsys, monkeypatch, parses):
    root = make_project(tmp_path / "proj", {"base.py": BASE, "leaf.py": LEAF.format(module="base")})
    cli = Cli(root, capsys, monkeypatch)
    cold = cli.check("leaf.py")
    assert codes(cold[1]) == [("leaf.py", "CFG102")]
    assert sorted(parses) == ["base.py", "leaf.py"]
    parses.clear()
    assert cli.check("leaf.py") == cold
    assert parses == []


# ---------------------------------------------------------------------------------------------- 3. invalidation
def test_content_change(tmp_path, capsys, monkeypatch, parses):
    root = make_project(tmp_path / "proj", {"layer.py": BUGGY, "other.py": BUGGY.replace("Scale", "Other")})
    cli = Cli(root, capsys, monkeypatch)
    out = cli.same_as_uncached(".")
    assert sorted(codes(out)) == sorted([("layer.py", c) for c in ("CFG101", "CFG102", "CFG103")]
                                        + [("other.py", c) for c in ("CFG101", "CFG102", "CFG103")])
    cli.check(".")  # the cache is warm
    parses.clear()

    write(root / "layer.py", CLEAN)  # fix the bugs
    code, out = cli.check(".")
    assert parses == ["layer.py"]  # only the changed file is parsed again
    assert [f for f, _ in codes(out)] == ["other.py"] * 3
    assert (code, out) == cli.check("--no-cache", ".")

    cli.check(".")
    write(root / "layer.py", CLEAN.replace(', "rate": self.rate', ""))  # introduce one
    out = cli.same_as_uncached(".")
    assert ("layer.py", "CFG102") in codes(out) and ("layer.py", "CFG101") not in codes(out)

    write(root / "layer.py", BUGGY)  # back to the original bytes (a cached digest): still right
    out = cli.same_as_uncached(".")
    assert len(codes(out)) == 6


def test_content_change_single_file(tmp_path, capsys, monkeypatch):
    root = make_project(tmp_path / "proj", {"layer.py": BUGGY})
    cli = Cli(root, capsys, monkeypatch)
    assert len(codes(cli.same_as_uncached("layer.py"))) == 3
    write(root / "layer.py", CLEAN)
    assert codes(cli.same_as_uncached("layer.py")) == []
    write(root / "layer.py", BUGGY)
    assert len(codes(cli.same_as_uncached("layer.py"))) == 3


def test_touch_without_change_does_not_parse(tmp_path, capsys, monkeypatch, parses):
    root = make_project(tmp_path / "proj", {"layer.py": BUGGY, "clean.py": CLEAN.replace("Scale", "Fine")})
    cli = Cli(root, capsys, monkeypatch)
    cold = cli.check(".")
    assert len(codes(cold[1])) == 3
    parses.clear()
    path = root / "layer.py"
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    assert cli.check(".") == cold
    assert parses == []
    assert cli.check("--no-cache", ".") == cold
    parses.clear()
    assert cli.check(".") == cold  # the new stat was remembered: warm again
    assert parses == []


def test_configuration_change(tmp_path, capsys, monkeypatch):
    root = make_project(tmp_path / "proj", {"layer.py": BUGGY})
    cli = Cli(root, capsys, monkeypatch)
    assert {c for _, c in codes(cli.same_as_uncached("."))} == {"CFG101", "CFG102", "CFG103"}
    (root / "pyproject.toml").write_text('[tool.cfglint]\nignore = ["CFG101"]\n', encoding="utf-8")
    assert {c for _, c in codes(cli.same_as_uncached("."))} == {"CFG102", "CFG103"}
    (root / "pyproject.toml").write_text(
        '[tool.cfglint]\n\n[tool.cfglint.per-file-ignores]\n"layer.py" = ["CFG103"]\n', encoding="utf-8")
    assert {c for _, c in codes(cli.same_as_uncached("."))} == {"CFG101", "CFG102"}
    (root / "pyproject.toml").write_text("[tool.cfglint]\n", encoding="utf-8")
    assert {c for _, c in codes(cli.same_as_uncached("."))} == {"CFG101", "CFG102", "CFG103"}


def test_nested_configuration_added(tmp_path, capsys, monkeypatch):
    root = make_project(tmp_path / "proj", {"sub/layer.py": BUGGY})
    cli = Cli(root, capsys, monkeypatch)
    assert len(codes(cli.same_as_uncached("."))) == 3
    (root / "sub" / "pyproject.toml").write_text('[tool.cfglint]\nignore = ["CFG102"]\n', encoding="utf-8")
    assert {c for _, c in codes(cli.same_as_uncached("."))} == {"CFG101", "CFG103"}


def test_command_line_selection_change(tmp_path, capsys, monkeypatch):
    root = make_project(tmp_path / "proj", {"layer.py": BUGGY})
    cli = Cli(root, capsys, monkeypatch)
    assert {c for _, c in codes(cli.same_as_uncached("--select", "CFG101", "."))} == {"CFG101"}
    assert {c for _, c in codes(cli.same_as_uncached("--select", "CFG102", "."))} == {"CFG102"}
    assert {c for _, c in codes(cli.same_as_uncached("--ignore", "CFG102", "."))} == {"CFG101", "CFG103"}
    assert {c for _, c in codes(cli.same_as_uncached("."))} == {"CFG101", "CFG102", "CFG103"}
    assert {c for _, c in codes(cli.same_as_uncached("--select", "CFG101", "."))} == {"CFG101"}


def test_version_change_starts_cold(tmp_path, capsys, monkeypatch, parses):
    root = make_project(tmp_path / "proj", {"layer.py": BUGGY})
    cli = Cli(root, capsys, monkeypatch)
    first = cli.check(".")
    assert (root / CACHE_DIR_NAME / VERSION / ENTRIES_FILE).is_file()
    parses.clear()
    assert cli.check(".") == first and parses == []
    monkeypatch.setattr(cfglint, "__version__", "999.0.0")
    monkeypatch.setattr(cfglint.cache, "__version__", "999.0.0")
    monkeypatch.setattr(cfglint.engine, "__version__", "999.0.0")
    assert cli.check(".") == first
    assert parses == ["layer.py"]  # nothing reused from the older version's cache
    assert (root / CACHE_DIR_NAME / "999.0.0" / ENTRIES_FILE).is_file()


@pytest.mark.parametrize("single", [False, True], ids=["tree", "leaf-only"])
def test_base_class_changed_in_another_file(tmp_path, capsys, monkeypatch, single):
    root = make_project(tmp_path / "proj", {"base.py": BASE, "leaf.py": LEAF.format(module="base")})
    cli = Cli(root, capsys, monkeypatch)
    paths = ["leaf.py"] if single else ["."]

    def leaf_codes() -> list[str]:
        return [c for f, c in codes(cli.same_as_uncached(*paths)) if f == "leaf.py"]

    assert leaf_codes() == ["CFG102"]
    cli.check(*paths)
    write(root / "base.py", BASE_WITH_RATE)  # the base now saves `rate`
    assert leaf_codes() == []
    cli.check(*paths)
    write(root / "base.py", BASE)  # and the reverse
    assert leaf_codes() == ["CFG102"]
    cli.check(*paths)
    (root / "base.py").unlink()  # the base is gone: Leaf is no longer known to be a layer
    assert leaf_codes() == []


def test_base_class_changed_in_a_package(tmp_path, capsys, monkeypatch):
    root = make_project(tmp_path / "proj", {
        "pkg/__init__.py": "", "pkg/base.py": BASE, "pkg/sub/__init__.py": "",
        "pkg/sub/leaf.py": LEAF.format(module="..base"),
    })
    cli = Cli(root, capsys, monkeypatch)
    for paths in (["."], ["pkg/sub"], ["pkg/sub/leaf.py"]):
        write(root / "pkg/base.py", BASE)
        assert ("leaf.py", "CFG102") in codes(cli.same_as_uncached(*paths))
        write(root / "pkg/base.py", BASE_WITH_RATE)
        assert ("leaf.py", "CFG102") not in codes(cli.same_as_uncached(*paths))


@pytest.mark.parametrize("paths", [["leaf.py"], ["app"]], ids=["leaf-only", "other-folder"])
def test_base_module_created_after_the_run(tmp_path, capsys, monkeypatch, paths):
    leaf = "leaf.py" if paths == ["leaf.py"] else "app/leaf.py"
    module = "base" if paths == ["leaf.py"] else "lib.base"
    files = {leaf: LEAF.format(module=module)}
    if module == "lib.base":
        files["lib/__init__.py"] = ""
    root = make_project(tmp_path / "proj", files)
    cli = Cli(root, capsys, monkeypatch)
    assert codes(cli.same_as_uncached(*paths)) == []  # MyBase cannot be resolved: not a Keras class
    cli.check(*paths)
    write(root / (module.replace(".", "/") + ".py"), BASE)
    assert codes(cli.check("--no-cache", *paths)[1]) == [("leaf.py", "CFG102")]
    assert codes(cli.same_as_uncached(*paths)) == [("leaf.py", "CFG102")]


def test_file_deleted(tmp_path, capsys, monkeypatch):
    root = make_project(tmp_path / "proj", {"layer.py": BUGGY, "other.py": BUGGY.replace("Scale", "Other")})
    cli = Cli(root, capsys, monkeypatch)
    assert {f for f, _ in codes(cli.same_as_uncached("."))} == {"layer.py", "other.py"}
    cli.check(".")
    (root / "layer.py").unlink()
    out = cli.same_as_uncached(".")
    assert {f for f, _ in codes(out)} == {"other.py"}
    assert "1 file" in out


def test_file_renamed(tmp_path, capsys, monkeypatch, parses):
    root = make_project(tmp_path / "proj", {"layer.py": BUGGY, "other.py": CLEAN.replace("Scale", "Other")})
    cli = Cli(root, capsys, monkeypatch)
    assert {f for f, _ in codes(cli.same_as_uncached("."))} == {"layer.py"}
    cli.check(".")
    (root / "layer.py").rename(root / "renamed.py")
    out = cli.same_as_uncached(".")
    assert [f for f, _ in codes(out)] == ["renamed.py"] * 3
    assert "layer.py" not in out
    # into another folder too (a new module name)
    (root / "sub").mkdir()
    (root / "renamed.py").rename(root / "sub" / "moved.py")
    out = cli.same_as_uncached(".")
    assert [f for f, _ in codes(out)] == ["moved.py"] * 3
    assert "sub/moved.py" in out.replace(os.sep, "/")


def test_file_added(tmp_path, capsys, monkeypatch):
    root = make_project(tmp_path / "proj", {"layer.py": BUGGY})
    cli = Cli(root, capsys, monkeypatch)
    assert len(codes(cli.same_as_uncached("."))) == 3
    cli.check(".")
    write(root / "sub" / "added.py", BUGGY.replace("Scale", "Added"))
    out = cli.same_as_uncached(".")
    assert sorted({f for f, _ in codes(out)}) == ["added.py", "layer.py"]
    assert len(codes(out)) == 6
    # a new subclass of a layer defined in a file that did not change
    write(root / "leaf.py", LEAF.format(module="layer").replace("MyBase", "Scale"))
    out = cli.same_as_uncached(".")
    assert ("leaf.py", "CFG102") in codes(out)


# ---------------------------------------------------------------------------------------------- 3 (i) packages
def _package_project(tmp_path: Path) -> Path:
    # lib/pkg/leaf.py imports `pkg.base`: resolvable only once lib/pkg is a package rooted at lib/
    return make_project(tmp_path / "proj", {"lib/pkg/base.py": BASE, "lib/pkg/leaf.py": LEAF.format(module="pkg.base")})


def test_package_status_change_reanalyses_the_file(tmp_path):
    root = _package_project(tmp_path)
    first = run_process(root, "check", "--jobs", "1", "lib")
    assert first == run_process(root, "check", "--jobs", "1", "--no-cache", "lib")
    assert codes(first[1]) == []
    assert {e.module for e in entries(root).values()} == {"base", "leaf"}
    (root / "lib" / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    second = run_process(root, "check", "--jobs", "1", "lib")
    assert second == run_process(root, "check", "--jobs", "1", "--no-cache", "lib")
    assert codes(second[1]) == [("leaf.py", "CFG102")]
    modules = {os.path.basename(k): e.module for k, e in entries(root).items()}
    assert modules["leaf.py"] == "pkg.leaf" and modules["base.py"] == "pkg.base"
    (root / "lib" / "pkg" / "__init__.py").unlink()  # and back
    third = run_process(root, "check", "--jobs", "1", "lib")
    assert third == first


def test_package_status_change_single_file(tmp_path):
    root = _package_project(tmp_path)
    leaf = os.path.join("lib", "pkg", "leaf.py")
    assert codes(run_process(root, "check", "--jobs", "1", leaf)[1]) == []
    (root / "lib" / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    uncached = run_process(root, "check", "--jobs", "1", "--no-cache", leaf)
    assert codes(uncached[1]) == [("leaf.py", "CFG102")]
    assert run_process(root, "check", "--jobs", "1", leaf) == uncached


# ---------------------------------------------------------------------------------------------- 4. --jobs
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_jobs_identical_on_fixtures(capsys, monkeypatch, fmt):
    cli = Cli(REPO, capsys, monkeypatch)
    one = cli("check", "--no-cache", "--jobs", "1", "--output-format", fmt, "fixtures")
    two = cli("check", "--no-cache", "--jobs", "2", "--output-format", fmt, "fixtures")
    assert one[0] == 1 and one[1]
    assert one == two


@pytest.fixture
def big_tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    root.mkdir()
    shutil.copy(FIXTURES / "pyproject.toml", root / "pyproject.toml")
    for i in range(7):
        shutil.copytree(FIXTURES / "zoo", root / f"zoo{i}", ignore=shutil.ignore_patterns("__pycache__"))
    assert len(list(root.rglob("*.py"))) >= 64
    return root


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_jobs_identical_on_a_larger_tree(big_tree, capsys, monkeypatch, pool_starts, fmt):
    cli = Cli(big_tree, capsys, monkeypatch)
    one = cli("check", "--no-cache", "--jobs", "1", "--output-format", fmt, ".")
    assert pool_starts == []
    two = cli("check", "--no-cache", "--jobs", "2", "--output-format", fmt, ".")
    assert pool_starts and set(pool_starts) == {2}  # the worker processes really ran
    assert one[0] == 1 and one[1]
    assert one == two
    # with the cache: a cold parallel run, then a warm one, give the same bytes again
    assert cli("check", "--jobs", "2", "--output-format", fmt, ".") == one
    assert cli("check", "--jobs", "1", "--output-format", fmt, ".") == one


def test_jobs_identical_in_fresh_processes(big_tree):
    one = run_process(big_tree, "check", "--no-cache", "--jobs", "1", ".")
    two = run_process(big_tree, "check", "--no-cache", "--jobs", "2", ".")
    assert one[0] == 1 and one == two


# ---------------------------------------------------------------------------------------------- 5. damage
GARBAGE = {
    "text": b"this is not JSON",
    "empty": b"",
    "zeros": b"\x00" * 64,
    "not-utf8": b"\xff\xfe{",
    "deep": b"[" * 100_000,
    # well-formed JSON of the wrong shape: a miss, never a crash
    "wrong-items": b'{"format": 3, "items": [1, 2]}',
    "list": b"[1, 2, 3]",
}


@pytest.mark.parametrize("name", list(GARBAGE))
@pytest.mark.parametrize("which", [ENTRIES_FILE, SNAPSHOTS_FILE, "both"])
def test_corrupt_cache_is_ignored_and_rewritten(tmp_path, capsys, monkeypatch, name, which):
    root = make_project(tmp_path / "proj", {"layer.py": BUGGY, "base.py": BASE, "leaf.py": LEAF.format(module="base")})
    cli = Cli(root, capsys, monkeypatch)
    uncached = cli.check("--no-cache", ".")
    assert cli.check(".") == uncached
    folder = root / CACHE_DIR_NAME / VERSION
    damaged = [ENTRIES_FILE, SNAPSHOTS_FILE] if which == "both" else [which]
    for file in damaged:
        (folder / file).write_bytes(GARBAGE[name])
    capsys.readouterr()
    code = main(["check", "--jobs", "1", "."])
    captured = capsys.readouterr()
    assert "internal error" not in captured.err
    assert (code, captured.out) == uncached
    # an unchanged tree with a readable snapshot never opens the entries; after a change, both are
    # written again and readable
    write(root / "layer.py", CLEAN)
    assert cli.check(".") == cli.check("--no-cache", ".")
    for file in damaged:
        with open(folder / file, "rb") as handle:
            assert json.load(handle)["items"]
    assert cli.check(".") == cli.check("--no-cache", ".")


def test_truncated_cache_is_ignored(tmp_path, capsys, monkeypatch):
    root = make_project(tmp_path / "proj", {"layer.py": BUGGY})
    cli = Cli(root, capsys, monkeypatch)
    uncached = cli.check("--no-cache", ".")
    cli.check(".")
    for file in (root / CACHE_DIR_NAME / VERSION).glob("*.json"):
        data = file.read_bytes()
        file.write_bytes(data[: len(data) // 2])
    assert cli.check(".") == uncached
    assert cli.check(".") == uncached


def test_cache_from_another_format_is_ignored(tmp_path, capsys, monkeypatch):
    root = make_project(tmp_path / "proj", {"layer.py": BUGGY})
    cli = Cli(root, capsys, monkeypatch)
    uncached = cli.check("--no-cache", ".")
    folder = root / CACHE_DIR_NAME / VERSION
    folder.mkdir(parents=True)
    for file in (ENTRIES_FILE, SNAPSHOTS_FILE):
        (folder / file).write_text(json.dumps({"format": -1, "items": {"x": "y"}}), encoding="utf-8")
    assert cli.check(".") == uncached
    assert cli.check(".") == uncached


def _chmod_enforced(path: Path) -> bool:
    probe = path / ".probe"
    try:
        probe.write_text("x", encoding="utf-8")
    except OSError:
        return True
    probe.unlink()
    return False


@pytest.mark.parametrize("where", ["project", "cache", "version"])
def test_read_only_cache_does_not_fail_the_run(tmp_path, capsys, monkeypatch, where):
    root = make_project(tmp_path / "proj", {"layer.py": BUGGY})
    cli = Cli(root, capsys, monkeypatch)
    uncached = cli.check("--no-cache", ".")
    if where != "project":
        cli.check(".")
    target = {"project": root, "cache": root / CACHE_DIR_NAME,
              "version": root / CACHE_DIR_NAME / VERSION}[where]
    if where != "project":
        write(root / "layer.py", CLEAN)  # something must be written back
        uncached = cli.check("--no-cache", ".")
    os.chmod(target, 0o555)
    try:
        if not _chmod_enforced(target):
            pytest.skip("permissions are not enforced (running as root)")
        assert cli.check(".") == uncached
        assert cli.check(".") == uncached
    finally:
        os.chmod(target, 0o755)


def test_cache_dir_that_is_a_file_does_not_fail_the_run(tmp_path, capsys, monkeypatch):
    root = make_project(tmp_path / "proj", {"layer.py": BUGGY})
    cli = Cli(root, capsys, monkeypatch)
    (root / "not-a-dir").write_text("", encoding="utf-8")
    uncached = cli.check("--no-cache", ".")
    assert cli.check("--cache-dir", "not-a-dir", ".") == uncached
    assert cli.check("--cache-dir", "not-a-dir/below", ".") == uncached
    assert (root / "not-a-dir").read_text(encoding="utf-8") == ""


@pytest.mark.parametrize("existing", [False, True], ids=["no-cache-yet", "cache-exists"])
def test_unwritable_cache_simulated(tmp_path, capsys, monkeypatch, existing):
    """The same as the read-only test, but also as root: every write into the cache is refused."""
    import tempfile

    root = make_project(tmp_path / "proj", {"layer.py": BUGGY})
    cli = Cli(root, capsys, monkeypatch)
    if existing:
        cli.check(".")
        write(root / "layer.py", CLEAN)
    uncached = cli.check("--no-cache", ".")
    cache = root / CACHE_DIR_NAME
    real_mkdir, real_write_text = Path.mkdir, Path.write_text

    def refuse(path: Path) -> None:
        if cache == path or cache in path.parents:
            raise PermissionError(13, "Permission denied", str(path))

    def mkdir(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not self.is_dir():
            refuse(self)
        return real_mkdir(self, *args, **kwargs)

    def write_text(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        refuse(self)
        return real_write_text(self, *args, **kwargs)

    def mkstemp(*args, dir=None, **kwargs):  # type: ignore[no-untyped-def]
        raise PermissionError(13, "Permission denied", str(dir))

    monkeypatch.setattr(Path, "mkdir", mkdir)
    monkeypatch.setattr(Path, "write_text", write_text)
    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    assert cli.check(".") == uncached
    assert cli.check(".") == uncached
    assert cache.exists() == existing


# ---------------------------------------------------------------------------------------------- 6. safety
class _Planted:
    """A pickle payload that would leave a marker file behind if anything unpickled it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (open, (str(self.marker), "w"))


def test_planted_pickle_never_runs(tmp_path, capsys, monkeypatch):
    """A cache directory from a shared CI cache or a tarball may hold anything: reading it runs no code."""
    import pickle

    root = make_project(tmp_path / "proj", {"layer.py": BUGGY})
    cli = Cli(root, capsys, monkeypatch)
    uncached = cli.check("--no-cache", ".")
    folder = root / CACHE_DIR_NAME / VERSION
    folder.mkdir(parents=True)
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"format": 1, "items": _Planted(marker)})
    for name in ("snapshots.pickle", "entries.pickle", SNAPSHOTS_FILE, ENTRIES_FILE):
        (folder / name).write_bytes(payload)
    assert cli.check(".") == uncached
    assert cli.check(".") == uncached
    assert not marker.exists()


def test_static_path_has_no_unpickling_code():
    """Neither pickle nor marshal is used to read anything on the static path."""
    for path in (REPO / "cfglint").rglob("*.py"):
        if "verify" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        assert "import pickle" not in text and "import marshal" not in text, path


def test_entry_of_the_wrong_shape_is_a_miss(tmp_path, capsys, monkeypatch, parses):
    root = make_project(tmp_path / "proj", {"layer.py": BUGGY})
    cli = Cli(root, capsys, monkeypatch)
    first = cli.check(".")
    path = root / CACHE_DIR_NAME / VERSION / ENTRIES_FILE
    document = json.loads(path.read_text(encoding="utf-8"))
    for _key, raw in document["items"].items():
        raw[3] = {"bases": "not a signature"}  # the right file, the right key, a wrong value inside
    path.write_text(json.dumps(document), encoding="utf-8")
    write(root / "layer.py", BUGGY + "\n")  # a change, so the entries are consulted
    parses.clear()
    assert cli.check(".") == first
    assert parses == ["layer.py"]


def test_cache_of_other_cfglint_code_is_not_used(tmp_path, capsys, monkeypatch, parses):
    root = make_project(tmp_path / "proj", {"layer.py": BUGGY})
    cli = Cli(root, capsys, monkeypatch)
    first = cli.check(".")
    parses.clear()
    assert cli.check(".") == first and parses == []
    monkeypatch.setattr(cfglint.cache, "code_digest", lambda: "a-changed-rule")
    assert cli.check(".") == first
    assert parses == ["layer.py"]  # a rule changed: nothing is served from the old code's cache


@pytest.fixture
def package_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the cfglint package that the cache digests instead of the real one."""
    copy = tmp_path / "package" / "cfglint"
    shutil.copytree(cfglint.cache.PACKAGE_ROOT, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(cfglint.cache, "PACKAGE_ROOT", copy)
    cfglint.cache._package_digest.cache_clear()
    yield copy
    cfglint.cache._package_digest.cache_clear()


def test_any_file_of_the_package_changes_the_code_digest(package_copy):
    files = sorted(p for p in package_copy.rglob("*") if p.is_file())
    assert {p.name for p in files} >= {"cache.py", "py.typed", "__init__.py"}
    assert any(len(p.relative_to(package_copy).parts) > 1 for p in files)  # subpackages are there too
    baseline = cfglint.cache.code_digest()
    seen = {baseline}
    for path in files:
        original = path.read_bytes()
        path.write_bytes(original + b"\n")
        cfglint.cache._package_digest.cache_clear()
        changed = cfglint.cache.code_digest()
        path.write_bytes(original)
        assert changed not in seen, path.relative_to(package_copy)
        seen.add(changed)
    cfglint.cache._package_digest.cache_clear()
    assert cfglint.cache.code_digest() == baseline
    (package_copy / "rules" / "extra.json").write_text("{}", encoding="utf-8")  # a new data file
    cfglint.cache._package_digest.cache_clear()
    assert cfglint.cache.code_digest() != baseline
    (package_copy / "rules" / "extra.json").unlink()
    (package_copy / "__pycache__").mkdir()
    (package_copy / "__pycache__" / "cache.cpython-311.pyc").write_bytes(b"bytecode")  # not source
    cfglint.cache._package_digest.cache_clear()
    assert cfglint.cache.code_digest() == baseline


def test_another_python_changes_the_code_digest(package_copy, monkeypatch):
    assert cfglint.cache.interpreter() == f"{sys.implementation.name}-{sys.version_info[0]}.{sys.version_info[1]}"
    digests = set()
    for python in ("cpython-3.10", "cpython-3.11", "pypy-3.10"):
        monkeypatch.setattr(cfglint.cache, "interpreter", lambda python=python: python)
        digests.add(cfglint.cache.code_digest())
    assert len(digests) == 3


def test_a_changed_package_file_or_python_invalidates_the_cache(tmp_path, capsys, monkeypatch, parses,
                                                                package_copy):
    root = make_project(tmp_path / "proj", {"layer.py": BUGGY})
    cli = Cli(root, capsys, monkeypatch)
    first = cli.check(".")
    parses.clear()
    assert cli.check(".") == first and parses == []
    rule_file = package_copy / "rules" / "cfg1.py"  # a file of a subpackage
    rule_file.write_text(rule_file.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    cfglint.cache._package_digest.cache_clear()
    assert cli.check(".") == first
    assert parses == ["layer.py"]
    parses.clear()
    assert cli.check(".") == first and parses == []  # warm again under the new code
    monkeypatch.setattr(cfglint.cache, "interpreter", lambda: "cpython-2.7")
    assert cli.check(".") == first
    assert parses == ["layer.py"]


def test_the_repository_guard_sees_a_cache_appear_or_change(tmp_path, capsys, monkeypatch):
    """What tests/conftest.py relies on to fail a run that leaves a cache in the repository."""
    root = make_project(tmp_path / "repo", {"pkg/layer.py": BUGGY})
    (root / ".git").mkdir()
    (root / ".git" / CACHE_DIR_NAME).mkdir()  # folders like .git are not searched
    assert caches_in_repository(root) == {}
    cli = Cli(root / "pkg", capsys, monkeypatch)
    cli.check(".")
    before = caches_in_repository(root)
    assert list(before) == [root / CACHE_DIR_NAME]
    time.sleep(0.01)
    write(root / "pkg" / "layer.py", BUGGY + "\n")
    cli.check(".")  # the cache is rewritten: its newest time moves
    assert caches_in_repository(root)[root / CACHE_DIR_NAME] > before[root / CACHE_DIR_NAME]


def test_edit_keeping_size_and_mtime_is_seen(tmp_path, capsys, monkeypatch):
    """`cp -p`, `rsync -t` and `tar x` restore the modification time; the inode or ctime still change."""
    root = make_project(tmp_path / "proj", {"layer.py": BUGGY})
    cli = Cli(root, capsys, monkeypatch)
    assert len(codes(cli.check(".")[1])) == 3
    layer = root / "layer.py"
    before = layer.stat()
    same_size = BUGGY.replace('{"extra": 1}', '{"units": 1}')
    assert len(same_size) == len(BUGGY)
    replacement = tmp_path / "copy.py"
    replacement.write_text(same_size, encoding="utf-8")
    os.utime(replacement, ns=(before.st_atime_ns, before.st_mtime_ns))
    shutil.copy2(replacement, layer)  # like `cp -p`: same size, same mtime, new content
    assert (layer.stat().st_size, layer.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert cli.check(".") == cli.check("--no-cache", ".")
    assert [c for _, c in codes(cli.check(".")[1])] == ["CFG102"]


def test_config_edit_keeping_size_and_mtime_is_seen(tmp_path, capsys, monkeypatch):
    root = make_project(tmp_path / "proj", {"layer.py": BUGGY}, 'select = ["CFG101"]\n')
    cli = Cli(root, capsys, monkeypatch)
    assert [c for _, c in codes(cli.check(".")[1])] == ["CFG101"]
    config = root / "pyproject.toml"
    before = config.stat()
    config.write_text(config.read_text(encoding="utf-8").replace("CFG101", "CFG102"), encoding="utf-8")
    os.utime(config, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert [c for _, c in codes(cli.check(".")[1])] == ["CFG102"]


def test_content_changed_between_reads_is_not_cached(tmp_path, capsys, monkeypatch):
    """The prefilter read and the parse read see different bytes (an editor saving mid-run): the facts
    are cached under the bytes they came from, so the next run answers for the file as it is."""
    root = make_project(tmp_path / "proj", {"layer.py": BUGGY})
    cli = Cli(root, capsys, monkeypatch)
    original = cfglint.engine._read_bytes
    calls = {"n": 0}

    def second_read_sees_an_edit(path: str, *rest):  # type: ignore[no-untyped-def]
        data, stat = original(path, *rest)
        calls["n"] += 1
        return (CLEAN.encode() if calls["n"] == 2 else data), stat

    monkeypatch.setattr(cfglint.engine, "_read_bytes", second_read_sees_an_edit)
    cli.check(".")
    assert calls["n"] == 2
    monkeypatch.setattr(cfglint.engine, "_read_bytes", original)
    assert cli.check(".") == cli.check("--no-cache", ".")
    assert len(codes(cli.check(".")[1])) == 3


def test_read_error_is_never_cached(tmp_path, capsys, monkeypatch):
    """A file briefly unreadable (deleted and restored, a permission flip) is read again next time."""
    root = make_project(tmp_path / "proj", {"layer.py": BUGGY})
    cli = Cli(root, capsys, monkeypatch)
    original = cfglint.engine._read_bytes
    calls = {"n": 0}

    def second_read_fails(path: str, *rest):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise PermissionError(13, "Permission denied")
        return original(path, *rest)

    monkeypatch.setattr(cfglint.engine, "_read_bytes", second_read_fails)
    _code, out = cli.check(".")
    assert [c for _, c in codes(out)] == ["CFG001"]
    monkeypatch.setattr(cfglint.engine, "_read_bytes", original)
    assert [c for _, c in codes(cli.check(".")[1])] == ["CFG101", "CFG102", "CFG103"]


def test_file_vanishing_mid_run_is_a_warning(tmp_path, capsys, monkeypatch):
    root = make_project(tmp_path / "proj", {"layer.py": BUGGY, "other.py": BUGGY.replace("Scale", "Other")})
    monkeypatch.chdir(root)
    original = cfglint.engine._read_bytes

    def vanish(path: str, *rest):  # type: ignore[no-untyped-def]
        if path.endswith("layer.py") and os.path.exists(path):
            os.unlink(path)
        return original(path, *rest)

    monkeypatch.setattr(cfglint.engine, "_read_bytes", vanish)
    capsys.readouterr()
    code = main(["check", "--jobs", "1", "--no-cache", "."])
    captured = capsys.readouterr()
    assert "layer.py" in captured.err and "no longer exists" in captured.err
    assert "CFG001" not in captured.out
    assert code == 1 and [c for _, c in codes(captured.out)] == ["CFG101", "CFG102", "CFG103"]
