"""`cfglint saved` on real `.keras` archives: built with Keras once, then checked against edited code.

A subprocess (the only one that imports TensorFlow) writes a small project's models to disk: a functional
model holding a nested functional `encoder`, a `TimeDistributed` wrapper and custom layers, and a
registered subclassed model that serializes a custom layer inside its own config, as `.keras` archives and
as `to_json()` text. The same subprocess then loads the archives with each edited version of the code
(rename an argument, add a required argument, drop a class, rename the registered package) and records
what Keras says, so every static answer below is held against the real load. The static runs themselves
import no Keras.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import edited, write_package

from cfglint.cli import main

pytestmark = [
    pytest.mark.keras,
    pytest.mark.skipif(
        importlib.util.find_spec("tensorflow") is None or importlib.util.find_spec("keras") is None,
        reason="needs TensorFlow and Keras 3",
    ),
]

LAYERS = '''\
import keras


@keras.saving.register_keras_serializable(package="demo")
class Scale(keras.layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@keras.saving.register_keras_serializable(package="demo")
class Gate(keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def call(self, x):
        return x * keras.ops.sigmoid(x)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="demo")
class Shift(keras.layers.Layer):
    def __init__(self, offset=1.0, **kwargs):
        super().__init__(**kwargs)
        self.offset = offset

    def call(self, x):
        return x + self.offset

    def get_config(self):
        return {**super().get_config(), "offset": self.offset}


@keras.saving.register_keras_serializable(package="demo")
class Net(keras.Model):
    def __init__(self, width=3, head=None, **kwargs):
        super().__init__(**kwargs)
        self.width = width
        self.head = head if head is not None else Scale(name="head_scale")

    def call(self, x):
        return self.head(x)

    def get_config(self):
        return {**super().get_config(), "width": self.width,
                "head": keras.saving.serialize_keras_object(self.head)}

    @classmethod
    def from_config(cls, config):
        config["head"] = keras.saving.deserialize_keras_object(config["head"])
        return cls(**config)
'''

# Each edit of the layer code: the old text and the new (applied once).
EDITS = {
    "unchanged": [],
    "renamed_argument": [("def __init__(self, factor=2.0, **kwargs):", "def __init__(self, scale=2.0, **kwargs):"),
                         ("self.factor = factor", "self.factor = scale")],
    "required_argument": [("def __init__(self, units, **kwargs):", "def __init__(self, units, bias, **kwargs):")],
    "dropped_class": [(LAYERS[LAYERS.index('@keras.saving.register_keras_serializable(package="demo")\nclass Shift'):
                              LAYERS.index('@keras.saving.register_keras_serializable(package="demo")\nclass Net')],
                       "")],
    "renamed_package": [('@keras.saving.register_keras_serializable(package="demo")\nclass Scale',
                         '@keras.saving.register_keras_serializable(package="demo_v2")\nclass Scale')],
}

BUILD = '''\
import importlib.util, json, os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import keras

out, project, variants = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
sys.path.insert(0, project)
from pkg.layers import Gate, Net, Scale, Shift

inner = keras.Input((3, 4))
encoder = keras.Model(inner, Scale(3.0, name="block_3")(inner), name="encoder")
inputs = keras.Input((3, 4))
x = encoder(inputs)
x = keras.layers.TimeDistributed(Scale(0.5, name="td_scale"), name="td")(x)
x = Gate(4, name="gate")(x)
x = Shift(name="shift")(x)
model = keras.Model(inputs, x, name="model")
model.save(os.path.join(out, "functional.keras"))
with open(os.path.join(out, "functional.json"), "w") as f:
    f.write(model.to_json())
net = Net(name="net")
net(keras.ops.ones((1, 4)))
net.save(os.path.join(out, "subclassed.keras"))

loads = {}
for variant, path in variants.items():
    keras.saving.get_custom_objects().clear()
    spec = importlib.util.spec_from_file_location("pkg.layers", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for archive in ("functional.keras", "subclassed.keras"):
        try:
            keras.saving.load_model(os.path.join(out, archive))
            loads[f"{variant}/{archive}"] = "ok"
        except Exception as exc:
            loads[f"{variant}/{archive}"] = f"{type(exc).__name__}: {exc}"
print(json.dumps(loads))
'''


def _edited(name: str) -> str:
    return edited(LAYERS, EDITS[name])


def _write_project(root: Path, source: str) -> Path:
    return write_package(root, "layers", source)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The saved models (folder) and, per edit and archive, what Keras says when loading it."""
    base = tmp_path_factory.mktemp("saved")
    original = _write_project(base / "original", LAYERS)
    variants = {}
    for name in EDITS:
        variant = base / "variants" / name / "layers.py"
        variant.parent.mkdir(parents=True)
        variant.write_text(_edited(name), encoding="utf-8")
        variants[name] = str(variant)
    out = base / "models"
    out.mkdir()
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "CUDA_VISIBLE_DEVICES": ""}
    run = subprocess.run([sys.executable, "-c", BUILD, str(out), str(original), json.dumps(variants)],
                         capture_output=True, text=True, timeout=600, env=env, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    return out, json.loads(run.stdout.strip().splitlines()[-1])


def _saved(tmp_path: Path, models: Path, edit: str, capsys: pytest.CaptureFixture[str],
           *paths: str) -> tuple[int, list[dict[str, object]], Path]:
    project = _write_project(tmp_path / "project", _edited(edit))
    targets = [str(models / p) for p in paths] or [str(models / "functional.keras"), str(models / "subclassed.keras")]
    capsys.readouterr()
    code = main(["saved", *targets, "--project", str(project), "--output-format", "json"])
    return code, json.loads(capsys.readouterr().out), project


def _line(source: str, text: str) -> int:
    (number,) = [i for i, line in enumerate(source.splitlines(), 1) if text in line]
    return number


def _summary(findings: list[dict[str, object]], models: Path) -> list[tuple[str, str, int, str]]:
    """(code, file name, line, the message with the folder of the models left out) per finding."""
    return sorted((str(f["code"]), Path(str(f["path"])).name, f["location"]["line"],  # type: ignore[index]
                   str(f["message"]).replace(str(models) + os.sep, "")) for f in findings)


def test_archives_hold_what_the_static_reader_expects(built):
    models, loads = built
    assert {p.name for p in models.iterdir()} == {"functional.keras", "functional.json", "subclassed.keras"}
    assert loads["unchanged/functional.keras"] == "ok" and loads["unchanged/subclassed.keras"] == "ok"


def test_unchanged_code_reports_nothing(built, tmp_path, capsys):
    models, _ = built
    code, findings, _ = _saved(tmp_path, models, "unchanged", capsys, "functional.keras", "functional.json",
                               "subclassed.keras")
    assert (code, findings) == (0, [])


def test_renamed_argument_is_cfg501_at_init_for_every_layer_path(built, tmp_path, capsys):
    models, loads = built
    code, findings, project = _saved(tmp_path, models, "renamed_argument", capsys)
    line = _line(_edited("renamed_argument"), "def __init__(self, scale=2.0")
    assert code == 1
    assert {(f["code"], f["location"]["line"], f["location"]["column"]) for f in findings} == {("CFG501", line, 9)}
    messages = sorted(str(f["message"]).replace(str(models) + os.sep, "") for f in findings)
    assert messages == [
        f"{archive} ({path}): saved config key `factor` is not accepted by `Scale.__init__` (its `**kwargs` hand "
        "it to Keras's base `__init__`, which rejects it)"
        for archive, path in (("functional.keras", "model/encoder/block_3"), ("functional.keras", "model/td/td_scale"),
                              ("subclassed.keras", "net/head_scale"))]
    assert all(f["path"] == str(project / "pkg" / "layers.py") for f in findings)
    # Keras agrees: neither archive loads with this code
    for archive in ("functional.keras", "subclassed.keras"):
        assert "Unrecognized keyword arguments passed to Scale: {'factor'" in loads[f"renamed_argument/{archive}"]


def test_added_required_argument_is_cfg502_at_the_parameter(built, tmp_path, capsys):
    models, loads = built
    code, findings, _ = _saved(tmp_path, models, "required_argument", capsys, "functional.keras", "subclassed.keras")
    source = _edited("required_argument")
    assert code == 1
    assert _summary(findings, models) == [
        ("CFG502", "layers.py", _line(source, "def __init__(self, units, bias"),
         "functional.keras (model/gate): required argument `bias` of `Gate.__init__` is not in the saved config")]
    assert findings[0]["location"]["column"] == _edited("required_argument").splitlines()[
        _line(source, "bias, **kwargs") - 1].index("bias") + 1
    assert "missing 1 required positional argument: 'bias'" in loads["required_argument/functional.keras"]
    assert loads["required_argument/subclassed.keras"] == "ok"


def test_dropped_class_is_cfg503_at_the_archive(built, tmp_path, capsys):
    models, loads = built
    code, findings, _ = _saved(tmp_path, models, "dropped_class", capsys, "functional.keras", "functional.json",
                               "subclassed.keras")
    assert code == 1
    assert _summary(findings, models) == [
        ("CFG503", name, 1, f"{name} (model/shift): no class is registered as `demo>Shift` any more, and no class "
                            "`Shift` is in the project")
        for name in ("functional.json", "functional.keras")]
    assert "Could not locate class 'Shift'" in loads["dropped_class/functional.keras"]
    assert loads["dropped_class/subclassed.keras"] == "ok"


def test_renamed_registration_package_is_cfg503_at_the_class(built, tmp_path, capsys):
    models, loads = built
    code, findings, _ = _saved(tmp_path, models, "renamed_package", capsys)
    line = _line(_edited("renamed_package"), "class Scale(")
    assert code == 1
    assert {(f["code"], f["location"]["line"], f["location"]["column"]) for f in findings} == {("CFG503", line, 7)}
    assert sorted(str(f["message"]).split(":")[0].replace(str(models) + os.sep, "") for f in findings) == [
        "functional.keras (model/encoder/block_3)", "functional.keras (model/td/td_scale)",
        "subclassed.keras (net/head_scale)"]
    assert all("registered as `demo_v2>Scale` now, not as the saved `demo>Scale`" in str(f["message"])
               for f in findings)
    for archive in ("functional.keras", "subclassed.keras"):
        assert "Could not locate class 'Scale'" in loads[f"renamed_package/{archive}"]


def test_folder_of_models_and_to_json_agree(built, tmp_path, capsys):
    """A folder is walked for `.keras` and `.json`; `to_json()` text gives the same findings as the archive."""
    models, _ = built
    code, findings, _ = _saved(tmp_path, models, "required_argument", capsys, ".")
    assert code == 1
    assert sorted(Path(str(f["path"])).name for f in findings) == ["layers.py", "layers.py"]
    assert sorted(str(f["message"]).split(" ")[0].replace(str(models) + os.sep, "") for f in findings) == [
        "functional.json", "functional.keras"]


def test_static_run_on_archives_imports_no_keras(built, tmp_path):
    """`cfglint saved` on real archives, in a fresh interpreter: no TensorFlow, Keras, NumPy or libcst."""
    models, _ = built
    project = _write_project(tmp_path / "project", _edited("renamed_argument"))
    probe = textwrap.dedent(f"""
        import sys
        from cfglint.cli import main
        code = main(["saved", {str(models)!r}, "--project", {str(project)!r}, "--output-format", "json"])
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in
                       ("tensorflow", "keras", "numpy", "tf_keras", "jax", "torch", "libcst"))
        print("EXIT", code, "HEAVY", heavy, file=sys.stderr)
    """)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, env=env,
                         check=False)
    assert "EXIT 1 HEAVY []" in run.stderr, run.stderr[-2000:]


# What Keras says when it loads each archive with the edited code: `--dynamic` must say the same.
KERAS_SAYS = {
    "renamed_argument": "Unrecognized keyword arguments passed to Scale: {'factor'",
    "required_argument": "missing 1 required positional argument: 'bias'",
    "dropped_class": "Could not locate class 'Shift'",
    "renamed_package": "Could not locate class 'Scale'",
}


@pytest.mark.parametrize("edit", ["unchanged", *KERAS_SAYS])
def test_dynamic_mode_reports_the_error_keras_raises(built, tmp_path, capsys, edit):
    """`--dynamic` loads each archive with real Keras in a worker: CFG505 at the archive for each one that
    does not load, with Keras's own words, which the building process got from `load_model` itself."""
    models, loads = built
    project = _write_project(tmp_path / "project", _edited(edit))
    archives = [str(models / "functional.keras"), str(models / "subclassed.keras")]
    capsys.readouterr()
    code = main(["saved", *archives, "--project", str(project), "--output-format", "json", "--select", "CFG505",
                 "--dynamic"])
    findings = json.loads(capsys.readouterr().out)
    failing = {Path(str(f["path"])).name: str(f["message"]) for f in findings}
    expected = {name for name in ("functional.keras", "subclassed.keras") if loads[f"{edit}/{name}"] != "ok"}
    assert set(failing) == expected
    assert code == (1 if expected else 0)
    for name, message in failing.items():
        assert all(f["code"] == "CFG505" and f["location"]["line"] == 1 for f in findings)
        assert KERAS_SAYS[edit] in message and KERAS_SAYS[edit] in loads[f"{edit}/{name}"]
        assert message.startswith(str(models / name) + ": Keras could not load it: ")
