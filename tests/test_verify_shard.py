"""`cfglint verify --shard K/N`: one share of the classes per CI machine.

* the split (`cfglint.verify.shard`) on synthetic classes: disjoint, covering, balanced, the same
  whatever the order of the classes, wherever the project lives and whichever the hash seed;
* the command line without Keras: bad `--shard` values and `CFGLINT_VERIFY_SHARD` are usage errors
  (exit 2) found before TensorFlow is looked for; an empty shard exits 0, starts no worker and says so;
* the pytest plugin still collects the same items in the same order;
* the README's GitHub Actions matrix is valid YAML that runs every shard;
* end to end (``keras``): the two shards of a small project together report exactly what the unsharded
  run reports, each class once, and an example for a class on the other shard is no error.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from importlib.machinery import ModuleSpec
from pathlib import Path
from typing import Any

import pytest
from helpers import REPO
from helpers import write_project as write

from cfglint.cli import main
from cfglint.verify.shard import SHARD_ENV, Shard, parse_shard, select_shard

# ------------------------------------------------------------------------------------------------ the split


@dataclass(frozen=True)
class Fake:
    """A class as the split sees it."""

    module: str
    name: str
    file: str

    @property
    def label(self) -> str:
        return f"{self.module}:{self.name}"


def fakes(root: str, count: int) -> list[Fake]:
    """`count` classes in five modules of a package and a top-level script, under `root`."""
    found = []
    for i in range(count):
        module = f"pkg.mod{i % 5}" if i % 7 else "script"
        file = f"{root}/pkg/mod{i % 5}.py" if i % 7 else f"{root}/script.py"
        found.append(Fake(module, f"Layer{i:03d}", file))
    return found


def split(items: list[Fake], count: int) -> list[list[str]]:
    """The labels of every shard 1..count."""
    return [[item.label for item in select_shard(items, Shard(k, count))] for k in range(1, count + 1)]


@pytest.mark.parametrize("count", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("classes", [0, 1, 3, 25, 64])
def test_shards_are_disjoint_cover_every_class_and_are_balanced(classes: int, count: int) -> None:
    items = fakes("/src/project", classes)
    shards = split(items, count)
    together = Counter(label for shard in shards for label in shard)
    assert together == Counter(item.label for item in items)  # each class on exactly one shard
    sizes = [len(shard) for shard in shards]
    assert max(sizes) - min(sizes) <= 1, sizes


def test_a_shard_keeps_the_order_it_was_given() -> None:
    items = fakes("/src/project", 25)
    for k in (1, 2, 3):
        chosen = select_shard(items, Shard(k, 3))
        assert chosen == [item for item in items if item in chosen]


def test_classes_are_dealt_round_robin_by_module_and_name() -> None:
    items = [Fake("b", "Z", "/p/b.py"), Fake("a", "Y", "/p/a.py"), Fake("a", "X", "/p/a.py"),
             Fake("c", "W", "/p/c.py"), Fake("b", "A", "/p/b.py")]
    # in identity order: a:X, a:Y, b:A, b:Z, c:W (labels sort the same way here)
    assert [sorted(shard) for shard in split(items, 2)] == [["a:X", "b:A", "c:W"], ["a:Y", "b:Z"]]
    assert [sorted(shard) for shard in split(items, 3)] == [["a:X", "b:Z"], ["a:Y", "c:W"], ["b:A"]]


@pytest.mark.parametrize("seed", range(5))
def test_the_order_of_the_classes_does_not_matter(seed: int) -> None:
    items = fakes("/src/project", 40)
    shuffled = items[:]
    random.Random(seed).shuffle(shuffled)
    assert [set(shard) for shard in split(shuffled, 4)] == [set(shard) for shard in split(items, 4)]


def test_where_the_project_lives_does_not_matter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another checkout folder, another machine, or relative paths seen from another working directory."""
    expected = split(fakes("/home/runner/work/app/app", 30), 4)
    assert split(fakes("/builds/x", 30), 4) == expected
    for cwd in (tmp_path, tmp_path / "deeper" / "still"):
        cwd.mkdir(parents=True, exist_ok=True)
        monkeypatch.chdir(cwd)
        assert split(fakes("project", 30), 4) == expected
        assert split(fakes("../../elsewhere/project", 30), 4) == expected


def test_equal_module_and_name_in_two_folders_are_told_apart_by_file() -> None:
    """Two scripts `layers.py` outside any package are both the module `layers`."""
    def items(root: str) -> list[Fake]:
        return [Fake("layers", "Block", f"{root}/b/layers.py"), Fake("layers", "Block", f"{root}/a/layers.py"),
                Fake("layers", "Block", f"{root}/c/layers.py")]

    def files(shards: list[list[Fake]]) -> list[list[str]]:
        return [[item.file.rsplit("/", 3)[-2] for item in shard] for shard in shards]

    for root in ("/one", "/two/three"):
        for order in (items(root), items(root)[::-1]):
            assert files([select_shard(order, Shard(k, 3)) for k in (1, 2, 3)]) == [["a"], ["b"], ["c"]]


SPLIT_SCRIPT = """
import json, sys
from cfglint.engine import Checker
from cfglint.settings_resolver import resolve_settings
from cfglint.verify.runner import find_classes
from cfglint.verify.shard import Shard, select_shard
from pathlib import Path

resolver = resolve_settings(Path(sys.argv[1]), fallback=Path.cwd())
targets, _, _ = find_classes(Checker(resolver.base, resolver=resolver), sys.argv[1:])
print(json.dumps([sorted(f"{t.module}:{t.name}" for t in select_shard(targets, Shard(k, 3))) for k in (1, 2, 3)]))
"""

LAYER = """
    import keras


    class {name}(keras.layers.Layer):
        def call(self, x):
            return x
    """


def _layers(*names: str) -> str:
    return "\n\n".join(LAYER.format(name=name).strip("\n") for name in names) + "\n"


def test_the_split_of_a_real_tree_is_the_same_in_every_process(tmp_path: Path) -> None:
    """Found by the static pass as `verify` finds them: other hash seeds, working directories and
    argument orders give the same shards (no TensorFlow: nothing is imported)."""
    root = write(tmp_path / "proj", {"pkg/__init__.py": "", "pkg/a.py": _layers("Alpha", "Beta", "Gamma"),
                                     "pkg/b.py": _layers("Delta", "Epsilon"), "tools/c.py": _layers("Zeta", "Eta")})
    runs = []
    for seed, cwd, args in (("0", root, ["pkg", "tools"]), ("12345", root.parent, ["proj/tools", "proj/pkg"]),
                            ("987", root / "pkg", [str(root / "tools"), "."])):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(REPO)}
        result = subprocess.run([sys.executable, "-c", SPLIT_SCRIPT, *args], cwd=cwd, env=env, capture_output=True,
                                text=True, timeout=120, check=False)
        assert result.returncode == 0, result.stderr
        runs.append(json.loads(result.stdout))
    assert runs[0] == runs[1] == runs[2]
    assert sorted(label for shard in runs[0] for label in shard) == sorted(
        ["pkg.a:Alpha", "pkg.a:Beta", "pkg.a:Gamma", "pkg.b:Delta", "pkg.b:Epsilon", "c:Zeta", "c:Eta"])
    assert [len(shard) for shard in runs[0]] == [3, 2, 2]


@pytest.mark.parametrize(("text", "expected"), [("1/1", Shard(1, 1)), ("2/4", Shard(2, 4)), (" 4/4 ", Shard(4, 4)),
                                                ("10/12", Shard(10, 12))])
def test_shard_spellings(text: str, expected: Shard) -> None:
    assert parse_shard(text) == expected
    assert str(expected) == text.strip()


BAD_SHARDS = {"0/2": "between 1 and N", "3/2": "between 1 and N", "x": "expected K/N", "1/0": "at least 1",
              "": "expected K/N", "2": "expected K/N", "1/2/3": "expected K/N", "-1/2": "expected K/N",
              "1 / 2": "expected K/N", "\u0661/\u0662": "expected K/N"}


@pytest.mark.parametrize("text", list(BAD_SHARDS))
def test_bad_shard_spellings(text: str) -> None:
    with pytest.raises(ValueError, match=BAD_SHARDS[text]):
        parse_shard(text)


# ------------------------------------------------------------------------------------------------ command line


@pytest.fixture
def tensorflow_lookups(monkeypatch: pytest.MonkeyPatch) -> Callable[[bool], list[str]]:
    """Record which modules `cfglint verify` looks for, saying they are installed (or not): the tests
    of this section run without TensorFlow and, when nothing is verified, never import it."""
    def install(present: bool) -> list[str]:
        asked: list[str] = []
        original = importlib.util.find_spec

        def find_spec(name: str, package: str | None = None) -> ModuleSpec | None:
            if name.split(".")[0] in ("tensorflow", "keras", "tf_keras"):
                asked.append(name)
                return ModuleSpec(name, None) if present else None
            return original(name, package)

        monkeypatch.setattr(importlib.util, "find_spec", find_spec)
        monkeypatch.delenv(SHARD_ENV, raising=False)
        monkeypatch.delenv("CFGLINT_OUTPUT_FORMAT", raising=False)
        return asked

    return install


@pytest.mark.parametrize("text", ["0/2", "3/2", "x", "1/0"])
def test_bad_shard_option_is_a_usage_error(text: str, tensorflow_lookups: Callable[[bool], list[str]],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    asked = tensorflow_lookups(False)
    with pytest.raises(SystemExit) as exit_info:
        main(["verify", "--shard", text, "."])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "cfglint verify: error: argument --shard:" in err and BAD_SHARDS[text] in err, err
    assert "Traceback" not in err
    assert asked == []  # refused before TensorFlow was looked for


def test_bad_shard_in_the_environment_is_a_usage_error(tensorflow_lookups: Callable[[bool], list[str]],
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    asked = tensorflow_lookups(False)
    monkeypatch.setenv(SHARD_ENV, "5/4")
    assert main(["verify", "."]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"cfglint: error: {SHARD_ENV}: '5/4': the shard K must be between 1 and N (4)"
    assert asked == []
    monkeypatch.setenv(SHARD_ENV, "1/2")  # without TensorFlow, a good shard gets as far as saying so
    assert main(["verify", "."]) == 2
    assert "needs tensorflow" in capsys.readouterr().err


@pytest.fixture
def no_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty shard starts no worker process (so it never imports TensorFlow)."""
    class NoPool:
        def __init__(self, **kwargs: Any) -> None:
            raise AssertionError("an empty shard started a worker pool")

    monkeypatch.setattr("cfglint.verify.runner.WorkerPool", NoPool)


@pytest.fixture
def one_class_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """One class (on shard 1 of any split) and a file that does not parse (reported by shard 1 only)."""
    root = write(tmp_path / "proj", {"layers.py": _layers("Only"), "broken.py": "def broken(:\n    pass\n"})
    monkeypatch.chdir(root)
    return root


@pytest.mark.usefixtures("one_class_project", "no_workers")
def test_an_empty_shard_exits_0_and_says_so(tensorflow_lookups: Callable[[bool], list[str]],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    tensorflow_lookups(True)
    assert main(["verify", "--shard", "2/2", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "CFG908" not in out  # the file that does not parse is shard 1's to report
    summary = out.strip().splitlines()[-1]
    assert re.fullmatch(r"cfglint verify: shard 2/2: 0 of 1 class, nothing to verify on this shard in \d+\.\d s",
                        summary), out


@pytest.mark.usefixtures("one_class_project", "no_workers")
def test_an_empty_shard_keeps_machine_formats_valid(tensorflow_lookups: Callable[[bool], list[str]],
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """The shard from the environment; the JSON report alone on standard output, the summary on error."""
    tensorflow_lookups(True)
    monkeypatch.setenv(SHARD_ENV, "3/3")
    assert main(["verify", "--output-format", "json", "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == []
    assert "shard 3/3: 0 of 1 class, nothing to verify on this shard" in captured.err


# ------------------------------------------------------------------------------------------------ pytest plugin


def test_the_pytest_plugin_collects_the_same_items_in_the_same_order(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """pytest-xdist needs every worker to collect the same items in the same order."""
    from cfglint.pytest_plugin import _plan

    root = write(tmp_path / "proj", {"pkg/__init__.py": "", "pkg/a.py": _layers("Beta", "Alpha"),
                                     "b.py": _layers("Gamma"), "c/d.py": _layers("Delta")})
    monkeypatch.chdir(root)
    first = [f"{t.module}:{t.name}" for t in _plan(["pkg", "b.py", "c"]).targets]
    assert first == ["b:Gamma", "d:Delta", "pkg.a:Beta", "pkg.a:Alpha"]  # by file, then line
    assert [f"{t.module}:{t.name}" for t in _plan(["c", "b.py", "pkg"]).targets] == first
    monkeypatch.chdir(tmp_path)
    assert [f"{t.module}:{t.name}" for t in _plan(["proj/c", "proj/pkg", "proj/b.py"]).targets] == first


# ------------------------------------------------------------------------------------------------ README


def readme_workflow() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("### Sharding verify across CI machines"):]
    start = section.index("```yaml\n") + len("```yaml\n")
    return section[start:section.index("```", start)]


def test_readme_workflow_runs_every_shard() -> None:
    workflow = readme_workflow()
    assert "shard: [1, 2, 3, 4]" in workflow
    assert "cfglint verify --shard ${{ matrix.shard }}/4 --output-format github" in workflow


def test_readme_workflow_is_valid_yaml() -> None:
    yaml = pytest.importorskip("yaml")
    workflow = yaml.safe_load(readme_workflow())
    (job,) = workflow["jobs"].values()
    assert job["strategy"]["matrix"]["shard"] == [1, 2, 3, 4]
    assert job["strategy"]["fail-fast"] is False  # every shard reports, even when another fails
    runs = [step["run"] for step in job["steps"] if "run" in step]
    assert "cfglint verify --shard ${{ matrix.shard }}/4 --output-format github" in runs
    assert any(step.get("uses", "").startswith("actions/checkout@") for step in job["steps"])


# ------------------------------------------------------------------------------------------------ end to end

KERAS_PROJECT = {
    "pkg/__init__.py": "",
    "pkg/layers.py": """
        import keras


        class Scale(keras.layers.Layer):
            def __init__(self, factor=2.0, **kwargs):
                super().__init__(**kwargs)
                self.factor = factor

            def call(self, x):
                return x * self.factor

            def get_config(self):
                return {**super().get_config(), "factor": self.factor}


        class Projection(keras.layers.Layer):
            def __init__(self, units=4, **kwargs):
                super().__init__(**kwargs)
                self.units = units

            def build(self, input_shape):
                self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")

            def call(self, x):
                return x @ self.kernel

            def get_config(self):
                return {**super().get_config(), "units": self.units}
        """,
    "pkg/blend.py": """
        import keras


        class Blend(keras.layers.Layer):
            def __init__(self, alpha=0.25, power=2, **kwargs):
                super().__init__(**kwargs)
                self.alpha = alpha
                self.power = power

            def call(self, x):
                return self.alpha * x + x ** self.power

            def get_config(self):
                return {**super().get_config(), "alpha": self.alpha}  # `power` is missing
        """,
    "needy.py": """
        import keras


        class Needy(keras.layers.Layer):
            def __init__(self, table, **kwargs):
                super().__init__(**kwargs)
                self.table = list(table)

            def call(self, x):
                return x * float(len(self.table))

            def get_config(self):
                return {**super().get_config(), "table": self.table}
        """,
    "unparsable.py": "def broken(:\n    pass\n",
    "pyproject.toml": """
        [tool.cfglint.verify.examples."needy:Needy"]
        kwargs = { table = [1, 2, 3] }
        """,
}
# What `cfglint verify .` reports on KERAS_PROJECT without --shard: 4 classes, 3 verified, 1 failed.
UNSHARDED = {("pkg/blend.py", 4, "CFG904", "Blend"), ("unparsable.py", 1, "CFG908", None)}
SHARD_SUMMARY = re.compile(r"cfglint verify: shard (\d)/2: (\d+) of 4 classes: (\d+) verified, (\d+) failed, "
                           r"(\d+) skipped")


@pytest.fixture(scope="module")
def shard_runs(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    """`cfglint verify --shard K/2` for K = 1, 2 (JSON), one worker each: the only runs that import Keras."""
    from test_verify import cfglint

    if importlib.util.find_spec("tensorflow") is None or importlib.util.find_spec("keras") is None:
        pytest.skip("cfglint verify needs TensorFlow and Keras")
    root = write(tmp_path_factory.mktemp("shards"), KERAS_PROJECT)
    return [cfglint("verify", ".", "--shard", f"{k}/2", "--jobs", "1", "--output-format", "json", "--no-progress",
                    cwd=root) for k in (1, 2)]


def _found(run: Any) -> set[tuple[str, int, str, str | None]]:
    return {(f["path"], f["location"]["line"], f["code"], f["class_name"]) for f in run.findings}


@pytest.mark.keras
def test_the_shards_together_report_what_the_unsharded_run_reports(shard_runs: list[Any]) -> None:
    first, second = (_found(run) for run in shard_runs)
    assert first | second == UNSHARDED, [run.describe() for run in shard_runs]
    assert not first & second
    assert [run.returncode for run in shard_runs] == [1, 1]  # each shard fails on its own findings


@pytest.mark.keras
def test_each_shard_verifies_its_share_of_the_classes(shard_runs: list[Any]) -> None:
    """Sorted needy:Needy, pkg.blend:Blend, pkg.layers:Projection, pkg.layers:Scale and dealt in turn:
    shard 1 verifies Needy (with its example) and Projection, shard 2 Blend (which fails) and Scale."""
    counts = []
    for run in shard_runs:
        match = SHARD_SUMMARY.search(run.summary)
        assert match, run.describe()
        counts.append(tuple(map(int, match.groups())))
        assert "error:" not in run.stderr, run.describe()  # the example of a class on the other shard is fine
    assert counts == [(1, 2, 2, 0, 0), (2, 2, 1, 1, 0)]
    assert "1 file not parsed" in shard_runs[0].summary and "not parsed" not in shard_runs[1].summary
