"""`cfglint saved` on configs tf-keras 2 wrote (`to_json()` and its own `.keras` format), each held
against tf-keras's real load.

One subprocess imports tf-keras: it saves a functional model holding a registered and an unregistered
custom layer, then loads both files with each edited version of the code.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import edited, write_package

from cfglint.cli import main

pytestmark = [
    pytest.mark.tfkeras,
    pytest.mark.skipif(importlib.util.find_spec("tf_keras") is None, reason="needs tf-keras"),
]

LAYERS = '''\
import tf_keras as keras


@keras.utils.register_keras_serializable(package="demo")
class Scale(keras.layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class Plain(keras.layers.Layer):
    def __init__(self, units=1, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def get_config(self):
        return {**super().get_config(), "units": self.units}
'''

EDITS = {
    "unchanged": [],
    "renamed_argument": [("def __init__(self, factor=2.0, **kwargs):", "def __init__(self, scale=2.0, **kwargs):"),
                         ("self.factor = factor", "self.factor = scale")],
    "renamed_package": [('package="demo"', 'package="demo_v2"')],
}

BUILD = '''\
import importlib, json, os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tf_keras as keras

out, projects = sys.argv[1], json.loads(sys.argv[2])
sys.path.insert(0, projects["unchanged"])
from pkg.tlayers import Plain, Scale

inputs = keras.Input((4,))
x = Scale(3.0, name="scale")(inputs)
x = Plain(2, name="plain")(x)
model = keras.Model(inputs, x, name="model")
with open(os.path.join(out, "legacy.json"), "w") as f:
    f.write(model.to_json())
model.save(os.path.join(out, "tfk.keras"))
sys.path.remove(projects["unchanged"])

loads = {}
for variant, root in projects.items():
    keras.utils.get_custom_objects().clear()
    for name in [m for m in sys.modules if m == "pkg" or m.startswith("pkg.")]:
        del sys.modules[name]
    sys.path.insert(0, root)
    module = importlib.import_module("pkg.tlayers")
    custom = {"Plain": module.Plain}  # unregistered: every load passes it
    for name, load in (("legacy.json", lambda: keras.models.model_from_json(
                            open(os.path.join(out, "legacy.json")).read(), custom_objects=custom)),
                       ("tfk.keras", lambda: keras.models.load_model(os.path.join(out, "tfk.keras"),
                                                                     custom_objects=custom))):
        try:
            load()
            loads[f"{variant}/{name}"] = "ok"
        except Exception as exc:
            loads[f"{variant}/{name}"] = f"{type(exc).__name__}: {exc}"
    sys.path.remove(root)
print(json.dumps(loads))
'''


def _edited(name: str) -> str:
    return edited(LAYERS, EDITS[name])


def _write_project(root: Path, source: str) -> Path:
    return write_package(root, "tlayers", source)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    base = tmp_path_factory.mktemp("tfk")
    projects = {name: str(_write_project(base / name, _edited(name))) for name in EDITS}
    out = base / "models"
    out.mkdir()
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    run = subprocess.run([sys.executable, "-c", BUILD, str(out), json.dumps(projects)], capture_output=True,
                         text=True, timeout=600, env=env, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    return out, base, json.loads(run.stdout.strip().splitlines()[-1])


def _saved(built: tuple[Path, Path, dict[str, str]], edit: str,
           capsys: pytest.CaptureFixture[str]) -> dict[str, list[tuple[str, int, str]]]:
    """Per saved file: (code, line, message after the file name) of each finding."""
    out, base, _ = built
    result = {}
    for name in ("legacy.json", "tfk.keras"):
        capsys.readouterr()
        main(["saved", str(out / name), "--project", str(base / edit), "--output-format", "json"])
        result[name] = sorted((f["code"], f["location"]["line"], f["message"].split(" ", 1)[1])
                              for f in json.loads(capsys.readouterr().out))
    return result


def test_the_configs_are_tf_keras_ones(built):
    out, _, loads = built
    legacy = json.loads((out / "legacy.json").read_text())
    assert legacy["keras_version"].startswith("2.")
    assert [(layer["class_name"], layer["registered_name"]) for layer in legacy["config"]["layers"]] == [
        ("InputLayer", None), ("Scale", "demo>Scale"), ("Plain", "Plain")]
    assert loads["unchanged/legacy.json"] == loads["unchanged/tfk.keras"] == "ok"


def test_unchanged_code_reports_nothing(built, capsys):
    assert _saved(built, "unchanged", capsys) == {"legacy.json": [], "tfk.keras": []}


def test_renamed_argument_is_cfg501_in_both_formats(built, capsys):
    line = _edited("renamed_argument").splitlines().index("    def __init__(self, scale=2.0, **kwargs):") + 1
    expected = [("CFG501", line, "(model/scale): saved config key `factor` is not accepted by `Scale.__init__` (its "
                                 "`**kwargs` hand it to Keras's base `__init__`, which rejects it)")]
    assert _saved(built, "renamed_argument", capsys) == {"legacy.json": expected, "tfk.keras": expected}
    loads = built[2]
    assert "Keyword argument not understood" in loads["renamed_argument/legacy.json"]
    assert "Keyword argument not understood" in loads["renamed_argument/tfk.keras"]


def test_renamed_package_is_cfg503_in_both_formats(built, capsys):
    """tf-keras finds a layer by its registered name or `custom_objects` only: the saved module is not imported."""
    line = _edited("renamed_package").splitlines().index("class Scale(keras.layers.Layer):") + 1
    expected = [("CFG503", line, "(model/scale): `Scale` is registered as `demo_v2>Scale` now, not as the saved "
                                 "`demo>Scale`: loading fails unless `custom_objects` maps `demo>Scale` to it")]
    assert _saved(built, "renamed_package", capsys) == {"legacy.json": expected, "tfk.keras": expected}
    loads = built[2]
    # tf-keras's layer deserializer hands back the bare class name, which the model then calls
    assert loads["renamed_package/legacy.json"] == loads["renamed_package/tfk.keras"] == \
        "TypeError: 'str' object is not callable"
