"""The static path never imports TensorFlow, Keras, NumPy, tf_keras (or JAX/PyTorch), nor libcst.

`cfglint check` must start in a fraction of a second on a machine without TensorFlow (the pre-commit budget), and
libcst is only for rewriting (fixes). A fresh interpreter runs `cfglint.cli.main` over a small project whose
layers use every import style, in every output format, plus `cfglint rule`, then reports which of those
packages were loaded or even looked up. They are all installed in the test environment, so an accidental
import would succeed silently anywhere else: this test is what notices it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

HEAVY = ("tensorflow", "keras", "numpy", "tf_keras", "jax", "torch")

GET_CONFIG_WITHOUT_UNITS = """
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def get_config(self):
        return super().get_config()
"""

# One file per import style; each has a bug, so an analysed file always shows up in the findings.
PROJECT = {
    "pyproject.toml": """
        [tool.cfglint]
        extend-select = ["CFG404"]
        [tool.cfglint.per-file-ignores]
        "pkg/legacy/*" = ["CFG404"]
    """,
    "pkg/__init__.py": "",
    "pkg/plain.py": "import keras\n\n\nclass Plain(keras.layers.Layer):" + GET_CONFIG_WITHOUT_UNITS,
    "pkg/alias.py": "import keras as K\n\n\nclass Net(K.Model):\n    def __init__(self, units, **kwargs):\n"
                    "        super().__init__(**kwargs)\n        self.units = units\n",
    "pkg/from_keras.py": "from keras import layers\n\n\nclass FromKeras(layers.Layer):" + GET_CONFIG_WITHOUT_UNITS,
    "pkg/from_layers.py": "from keras.layers import Layer\n\n\nclass FromLayers(Layer):" + GET_CONFIG_WITHOUT_UNITS,
    "pkg/dotted.py": "import keras.layers\n\n\nclass Dotted(keras.layers.Layer):" + GET_CONFIG_WITHOUT_UNITS,
    "pkg/tf_attr.py": "import tensorflow as tf\n\n\nclass TfAttr(tf.keras.layers.Layer):" + GET_CONFIG_WITHOUT_UNITS,
    "pkg/tf_from.py": "from tensorflow import keras\n\n\nclass TfFrom(keras.layers.Layer):" + GET_CONFIG_WITHOUT_UNITS,
    "pkg/tf_layers_as.py": "from tensorflow.keras import layers as L\n\n\nclass TfLayersAs(L.Layer):"
                           + GET_CONFIG_WITHOUT_UNITS,
    "pkg/dense.py": """
        from tensorflow.keras.layers import Dense


        class Wide(Dense):
            def __init__(self, units, scale=2.0, **kwargs):
                super().__init__(units, **kwargs)
                self.scale = scale
    """,
    "pkg/legacy/__init__.py": "",
    "pkg/legacy/tfk.py": """
        import tf_keras


        class OldBuild(tf_keras.layers.Layer):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)

            def build(self, input_shape):
                self.w = self.add_weight(shape=(1,), regularizer="l2")
    """,
    "pkg/legacy/tfk_from.py": "from tf_keras import layers\n\n\nclass OldFrom(layers.Layer):"
                              + GET_CONFIG_WITHOUT_UNITS,
    "pkg/arrays.py": """
        import keras
        import numpy as np


        @keras.saving.register_keras_serializable(package="pkg")
        class Table(keras.layers.Layer):
            def __init__(self, values=None, **kwargs):
                super().__init__(**kwargs)
                self.values = np.asarray(values)

            def get_config(self):
                return {**super().get_config(), "values": np.zeros(3)}
    """,
    "pkg/base.py": "import keras\n\n\nclass MyBase(keras.layers.Layer):" + GET_CONFIG_WITHOUT_UNITS,
    "pkg/child_relative.py": """
        from .base import MyBase


        class ChildRelative(MyBase):
            def __init__(self, units, depth, **kwargs):
                super().__init__(units, **kwargs)
                self.depth = depth
    """,
    "pkg/child_absolute.py": """
        from pkg.base import MyBase as Base


        class ChildAbsolute(Base):
            def __init__(self, units, width=3, **kwargs):
                super().__init__(units, **kwargs)
                self.width = width
    """,
    "pkg/factory.py": """
        def make():
            import tensorflow as tf

            class Local(tf.keras.layers.Layer):
                def __init__(self, units):
                    super().__init__()
                    self.units = units

            return Local
    """,
    "pkg/not_keras.py": "import json\n\n\nclass Plain(object):\n    pass\n",
    "pkg/broken.py": "import keras\n\n\nclass Broken(keras.layers.Layer)\n    pass\n",
}

# Files that must have findings, proving that each import style was actually analysed.
ANALYSED = sorted(
    name for name in PROJECT
    if name.endswith(".py") and name not in ("pkg/__init__.py", "pkg/legacy/__init__.py", "pkg/not_keras.py")
)

SCRIPT = r"""
import contextlib, io, json, sys

WATCHED = set(sys.argv[2].split(","))
project = sys.argv[1]
looked_up = set()


class Recorder:
    # a meta path finder that only records: an import guarded by `try/except ImportError` shows up too
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in WATCHED:
            looked_up.add(name)
        return None


def loaded():
    return sorted(m for m in sys.modules if m.split(".")[0] in WATCHED)


before = loaded()
sys.meta_path.insert(0, Recorder())

from cfglint.cli import main
from cfglint.reporters import FORMATS

NOT_FIXABLE = "CFG001,CFG203,CFG403,CFG404"
runs = []


def run(args, stdin=None):
    if stdin is not None:
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin.encode()))
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(args)
    runs.append({"args": args, "code": code, "stdout": out.getvalue(), "loaded": loaded()})


# first the runs in which no finding has a rule with a fix: these must not load libcst (later runs
# plan the fixes of their fixable findings, which may load it for good in this process)
for fmt in FORMATS:
    run(["check", project, "--select", NOT_FIXABLE, "--output-format", fmt])
run(["check", project, "--statistics"])
run(["check", project, "--statistics", "--output-format", "json"])
without_fixes = len(runs)
looked_up_without_fixes = sorted(looked_up)
for fmt in FORMATS:
    run(["check", project, "--output-format", fmt])
run(["check", project, "--target", "tf-keras"])
run(["check", project, "--select", "CFG2,CFG3", "--output-format", "json"])
run(["check", project, "--verbose", "--no-cache"])
with open(project + "/pkg/plain.py", encoding="utf-8") as file:
    run(["check", "--stdin-filename", project + "/pkg/plain.py"], stdin=file.read())
checks = len(runs)
run(["check", project, "--show-settings"])
run(["rule", "--all"])
run(["rule", "--all", "--output-format", "json"])
run(["rule", "CFG203"])

print(json.dumps({"before": before, "after": loaded(), "looked_up": sorted(looked_up), "runs": runs,
                  "checks": checks, "without_fixes": without_fixes,
                  "looked_up_without_fixes": looked_up_without_fixes}))
"""


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("project")
    for name, text in PROJECT.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("CFGLINT_OUTPUT_FORMAT", "FORCE_COLOR")}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(root), ",".join((*HEAVY, "libcst"))],
        capture_output=True, text=True, cwd=root, env=env, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    data["root"] = root
    return data


def test_the_runs_did_real_work(report: dict) -> None:
    checks, rules = report["runs"][:report["checks"]], report["runs"][report["checks"]:]
    assert [run["code"] for run in checks] == [1] * len(checks)
    assert [run["code"] for run in rules] == [0] * len(rules)
    json_run = next(run for run in checks if run["args"][-1] == "json" and "--statistics" not in run["args"]
                    and "--select" not in run["args"])
    root = Path(report["root"])
    with_findings = {Path(f["path"]).relative_to(root).as_posix() for f in json.loads(json_run["stdout"])}
    assert with_findings == set(ANALYSED)
    codes = {f["code"] for f in json.loads(json_run["stdout"])}
    assert {"CFG001", "CFG101", "CFG102", "CFG203", "CFG303", "CFG403", "CFG404"} <= codes
    stdin_run = checks[-1]
    assert "plain.py" in stdin_run["stdout"] and "CFG101" in stdin_run["stdout"]


def test_no_heavy_framework_is_imported(report: dict) -> None:
    heavy_after = [m for m in report["after"] if m.split(".")[0] in HEAVY]
    heavy_before = [m for m in report["before"] if m.split(".")[0] in HEAVY]
    assert heavy_after == heavy_before == []
    for run in report["runs"]:
        assert [m for m in run["loaded"] if m.split(".")[0] in HEAVY] == [], run["args"]


def test_no_heavy_framework_is_even_looked_up(report: dict) -> None:
    """Catches `try: import numpy except ImportError` too, which would pass on a machine without it."""
    assert [m for m in report["looked_up"] if m.split(".")[0] in HEAVY] == []


def test_libcst_is_not_imported_by_check_without_a_fixable_finding(report: dict) -> None:
    """Planning fixes (for `[*]` and the `fix` of json/sarif) needs libcst, but only a run with a
    finding whose rule has a fix plans anything."""
    quiet = report["runs"][:report["without_fixes"]]
    assert len(quiet) > 2 and all(run["code"] == 1 for run in quiet)
    for run in quiet:
        assert [m for m in run["loaded"] if m.split(".")[0] == "libcst"] == [], run["args"]
    assert [m for m in report["looked_up_without_fixes"] if m.split(".")[0] == "libcst"] == []
