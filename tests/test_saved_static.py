"""`cfglint saved` on hand-written configs: the reader, the walker, how classes are found, the command
line's errors and exit codes, every output format, and that nothing heavy is imported. No Keras needed
(tests/test_saved.py checks real archives)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import types
import zipfile
from pathlib import Path

import pytest
from helpers import write_project

import cfglint.saved
from cfglint.cli import main
from cfglint.finding import Target
from cfglint.parsing import parse_module
from cfglint.reporters import FORMATS
from cfglint.saved.reader import flavour_of, is_keras_config
from cfglint.saved.walker import walk

LAYERS = """
    import keras


    @keras.saving.register_keras_serializable(package="demo")
    class Scale(keras.layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}


    class Strict(keras.layers.Layer):
        def __init__(self, units):
            super().__init__()
            self.units = units

        def get_config(self):
            return {"units": self.units}


    class Loose(keras.layers.Layer):
        def __init__(self, units=1, **options):
            super().__init__()
            self.units = units
            self.options = options


    class Child(Scale):
        pass


    class Pooled(keras.layers.Layer):
        def __init__(self, size, **kwargs):
            super().__init__(**kwargs)
            self.size = size


    keras.saving.register_keras_serializable("pool", name="P")(Pooled)
    """


def obj(class_name: str, config: dict[str, object], registered: str | None = None, module: str | None = "pkg.layers",
        **outer: object) -> dict[str, object]:
    """One object as Keras 3 serializes it."""
    return {"module": module, "class_name": class_name, "config": config,
            "registered_name": registered if registered is not None else class_name, **outer}


def base(name: str, **config: object) -> dict[str, object]:
    return {"name": name, "trainable": True, "dtype": "float32", **config}


def functional(name: str, *layers: dict[str, object]) -> dict[str, object]:
    return obj("Functional", {"name": name, "trainable": True, "layers": list(layers),
                              "input_layers": [], "output_layers": []},
               "Functional", "keras.src.models.functional")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = write_project(tmp_path / "project", {"pkg/__init__.py": "", "pkg/layers.py": LAYERS})
    return root


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["saved", *args])
    out, err = capsys.readouterr()
    return code, out, err


def saved_json(tmp_path: Path, document: object, name: str = "model.json") -> str:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1), encoding="utf-8")
    return str(path)


def keras_archive(tmp_path: Path, document: object, name: str = "model.keras", version: str = "3.15.1") -> str:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("metadata.json", json.dumps({"keras_version": version}))
        archive.writestr("config.json", json.dumps(document))
        archive.writestr("model.weights.h5", b"\x89HDF\r\n")
    return str(path)


def findings(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict[str, object]]]:
    code, out, _ = run(capsys, *args, "--output-format", "json")
    return code, json.loads(out)


def brief(items: list[dict[str, object]]) -> list[tuple[str, int, str]]:
    """(code, line, message after the file name) per finding."""
    return sorted((str(f["code"]), f["location"]["line"], str(f["message"]).split(" ", 1)[1])  # type: ignore[index]
                  for f in items)


# ------------------------------------------------------------------------------ registration facts
def test_registration_names_follow_keras_defaults():
    facts = parse_module(textwrap.dedent(LAYERS), "layers.py", "pkg.layers")
    names = {c.name: c.registered_as for c in facts.classes}
    assert names == {"Scale": "demo>Scale", "Strict": None, "Loose": None, "Child": None, "Pooled": "pool>P"}
    source = textwrap.dedent("""
        import keras
        from keras.saving import register_keras_serializable as reg
        PACKAGE = "x"

        @reg()
        class A(keras.layers.Layer): pass

        @reg(name="Renamed")
        class B(keras.layers.Layer): pass

        @reg("p", None)
        class C(keras.layers.Layer): pass

        @reg(PACKAGE)
        class D(keras.layers.Layer): pass
        """)
    found = {c.name: (c.registered, c.registered_as) for c in parse_module(source, "m.py", "m").classes}
    assert found == {"A": (True, "Custom>A"), "B": (True, "Custom>Renamed"), "C": (True, "p>C"), "D": (True, None)}


# ------------------------------------------------------------------------------ walker
def test_walker_visits_nested_models_wrappers_and_values_with_layer_paths():
    lstm = obj("LSTM", base("forward_lstm", units=2), None, "keras.layers")
    document = functional(
        "model",
        obj("InputLayer", {"name": "input_layer", "batch_shape": [None, 4]}, None, "keras.layers",
            inbound_nodes=[{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [None, 4]}}]}]),
        functional("encoder", obj("Scale", base("block_3", factor=3.0), "demo>Scale")),
        obj("Bidirectional", base("bi", layer=lstm, backward_layer=obj("Scale", base("back"), "demo>Scale")),
            None, "keras.layers"),
        obj("Stack", base("stack", blocks=[obj("Scale", base("one"), "demo>Scale")],
                          table={"inner": obj("Pooled", {"size": 2}, "pool>P")})),
    )
    paths = [(o.class_name, o.layer_path) for o in walk(document)]
    assert paths == [
        ("Functional", "model"), ("InputLayer", "model/input_layer"), ("Functional", "model/encoder"),
        ("Scale", "model/encoder/block_3"), ("Bidirectional", "model/bi"), ("LSTM", "model/bi/forward_lstm"),
        ("Scale", "model/bi/back"), ("Stack", "model/stack"), ("Scale", "model/stack/one"),
        ("Pooled", "model/stack/inner"),
    ]


def test_walker_reads_sequential_get_config_dumps_and_tf_keras_names():
    sequential = {"module": "keras", "class_name": "Sequential", "registered_name": None,
                  "config": {"name": "seq", "layers": [obj("Scale", base("sc"), "demo>Scale")]}}
    assert [o.layer_path for o in walk(sequential)] == ["seq", "seq/sc"]
    bare = {"name": "net", "layers": [obj("Scale", base("sc"), "demo>Scale")]}  # json.dumps(model.get_config())
    assert [(o.class_name, o.layer_path) for o in walk(bare)] == [("Scale", "net/sc")]
    tf_keras = {"class_name": "Functional", "keras_version": "2.21.0", "backend": "tensorflow", "config": {
        "name": "m", "layers": [{"class_name": "demo>Scale", "name": "s", "config": base("s"), "inbound_nodes": []}]}}
    scale = list(walk(tf_keras))[1]
    assert (scale.class_name, scale.registered_name, scale.module, scale.has_module) == \
        ("Scale", "demo>Scale", None, False)


def test_walker_reads_the_compile_config_too():
    model = obj("Net", base("net"), "demo>Net", compile_config={
        "optimizer": obj("Adam", {"learning_rate": 0.001}, None, "keras.optimizers"),
        "loss": obj("FocalLoss", {"gamma": 2.0}, "demo>FocalLoss"), "metrics": ["accuracy"]})
    assert [(o.class_name, o.layer_path) for o in walk(model)] == [
        ("Net", "net"), ("Adam", "net/compile/optimizer"), ("FocalLoss", "net/compile/loss")]


def test_which_keras_wrote_a_config():
    assert flavour_of({"class_name": "X", "config": {}}, "2.21.0") is Target.TF_KERAS
    assert flavour_of({"class_name": "X", "config": {}}, "3.15.1") is Target.KERAS3
    assert flavour_of({"class_name": "X", "config": {}, "registered_name": None}, None) is Target.KERAS3
    assert flavour_of({"class_name": "X", "config": {"layers": [{"class_name": "Y", "config": {}}]}},
                      None) is Target.TF_KERAS
    assert is_keras_config({"name": "m", "layers": [{"class_name": "Dense", "config": {}}]})
    assert not is_keras_config({"name": "m", "layers": []})
    assert not is_keras_config([{"class_name": "Dense", "config": {}}])


# ------------------------------------------------------------------------------ resolution and rules
def test_unchanged_classes_report_nothing(project, tmp_path, capsys):
    model = functional("model", obj("Scale", base("s", factor=1.0), "demo>Scale"),
                       obj("Pooled", base("p", size=3), "pool>P"), obj("Loose", {"units": 2, "anything": 1}),
                       obj("Dense", base("d", units=3), None, "keras.layers"),
                       obj("TextBlock", base("t"), None, "keras_hub.layers"),
                       obj("Other", base("o"), "Other", "otherlib.layers"))
    assert findings(capsys, saved_json(tmp_path, model), "--project", str(project)) == (0, [])


def test_each_incompatibility_is_reported_with_its_layer_path(project, tmp_path, capsys):
    model = functional("model",
                       obj("Scale", base("s", scale=2.0), "demo>Scale"),
                       obj("Strict", {"units": 3, "name": "strict"}),
                       obj("Pooled", base("p"), "pool>P"),
                       obj("Gone", base("g"), "demo>Gone"),
                       obj("Child", base("c", factor=1.0), "demo>Child"),
                       obj("Vanished", base("v"), "Vanished"))
    code, items = findings(capsys, saved_json(tmp_path, model), "--project", str(project))
    assert code == 1
    assert brief(items) == [
        ("CFG501", 6, "(model/s): saved config key `scale` is not accepted by `Scale.__init__` (its `**kwargs` hand "
                      "it to Keras's base `__init__`, which rejects it)"),
        ("CFG501", 15, "(model/strict): saved config key `name` is not accepted by `Strict.__init__` (it has no "
                       "such parameter and no `**kwargs`)"),
        ("CFG502", 35, "(model/p): required argument `size` of `Pooled.__init__` is not in the saved config"),
        ("CFG503", 1, "(model/g): no class is registered as `demo>Gone` any more, and no class `Gone` is in the "
                      "project"),
        ("CFG503", 1, "(model/v): class `pkg.layers.Vanished` is not in the project any more"),
        ("CFG503", 30, "(model/c): `Child` is no longer registered (saved as `demo>Child`): it loads only with "
                       "`custom_objects={'demo>Child': Child}`"),
    ]
    located = sorted((str(f["code"]), Path(str(f["path"])).name, str(f["message"]).split(" ")[1]) for f in items)
    assert located == [("CFG501", "layers.py", "(model/s):"), ("CFG501", "layers.py", "(model/strict):"),
                       ("CFG502", "layers.py", "(model/p):"), ("CFG503", "layers.py", "(model/c):"),
                       ("CFG503", "model.json", "(model/g):"), ("CFG503", "model.json", "(model/v):")]


def test_from_config_that_renames_or_rewrites_keys_is_trusted(tmp_path, capsys):
    root = write_project(tmp_path / "p", {"mod.py": """
        import keras

        class Renamed(keras.layers.Layer):
            def __init__(self, factor=2.0, **kwargs):
                super().__init__(**kwargs)
                self.factor = factor

            @classmethod
            def from_config(cls, config):
                config["factor"] = config.pop("scale", 2.0)
                return cls(**config)

        class Opaque(keras.layers.Layer):
            def __init__(self, units, **kwargs):
                super().__init__(**kwargs)
                self.units = units

            @classmethod
            def from_config(cls, config):
                return cls(**{k.lower(): v for k, v in config.items()})
        """})
    model = functional("m", obj("Renamed", base("r", scale=3.0), module="mod"),
                       obj("Opaque", base("o", UNITS=3), module="mod"))
    assert findings(capsys, saved_json(tmp_path, model), "--project", str(root)) == (0, [])


def test_tf_keras_configs_name_registered_classes_either_way(tmp_path, capsys):
    root = write_project(tmp_path / "p", {"mod.py": """
        import tf_keras as keras

        @keras.utils.register_keras_serializable(package="v2")
        class Scale(keras.layers.Layer):
            def __init__(self, factor=2.0, **kwargs):
                super().__init__(**kwargs)
                self.factor = factor
        """})
    legacy = {"class_name": "Functional", "keras_version": "2.21.0", "backend": "tensorflow", "config": {
        "name": "m", "layers": [
            {"class_name": "v1>Scale", "name": "s", "config": base("s", factor=1.0, dynamic=False),
             "inbound_nodes": []},
            {"class_name": "Dense", "name": "d", "config": base("d", units=1), "inbound_nodes": []}]}}
    code, items = findings(capsys, saved_json(tmp_path, legacy), "--project", str(root))
    assert (code, brief(items)) == (1, [
        ("CFG503", 4, "(m/s): `Scale` is registered as `v2>Scale` now, not as the saved `v1>Scale`: loading fails "
                      "unless `custom_objects` maps `v1>Scale` to it")])
    # tf-keras 2.13 and later write `module` and `registered_name` as Keras 3 does
    archive = keras_archive(tmp_path, obj("Scale", base("s", factor=1.0, dynamic=False), "v1>Scale", "mod"),
                            version="2.21.0")
    code, items = findings(capsys, archive, "--project", str(root))
    assert (code, [(f["code"], f["location"]["line"]) for f in items]) == (1, [("CFG503", 4)])
    renamed = keras_archive(tmp_path, obj("Scale", base("s", factor=1.0, dynamic=False), "v2>Scale", "mod"),
                            "ok.keras", version="2.21.0")
    assert findings(capsys, renamed, "--project", str(root)) == (0, [])


def test_target_option_overrides_the_saving_keras(project, tmp_path, capsys):
    """`dynamic` is a base keyword of tf-keras's `Layer`, not of Keras 3's."""
    path = saved_json(tmp_path, obj("Scale", base("s", dynamic=False), "demo>Scale"))
    assert findings(capsys, path, "--project", str(project), "--target", "tf-keras") == (0, [])
    code, items = findings(capsys, path, "--project", str(project))
    assert code == 1 and [f["code"] for f in items] == ["CFG501"] and "`dynamic`" in str(items[0]["message"])


# ------------------------------------------------------------------------------ inputs and errors
def test_folder_walk_skips_non_keras_json_with_a_note(project, tmp_path, capsys):
    models = tmp_path / "models"
    saved_json(models, obj("Scale", base("s", scale=1.0), "demo>Scale"), "a.json")
    saved_json(models, {"name": "package", "version": "1.0"}, "package.json")
    (models / "broken.json").write_text("{ not json", encoding="utf-8")
    keras_archive(models / "sub", functional("m", obj("Scale", base("s2", factor=1.0), "demo>Scale")))
    code, out, err = run(capsys, str(models), "--project", str(project), "-v")
    assert code == 1
    assert "CFG501" in out and "Found 1 finding" in out and "(2 checked)" in out
    assert "package.json: skipped: not a saved Keras model config" in err
    assert "broken.json: skipped: not valid JSON" in err
    code, out, err = run(capsys, str(models), str(models / "a.json"), "--project", str(project))
    assert err == "" and "(2 checked)" in out  # the notes are for -v; a file reached twice is read once


def test_unreadable_inputs_are_cfg500_and_a_missing_path_exits_2(project, tmp_path, capsys):
    corrupt = tmp_path / "corrupt.keras"
    corrupt.write_bytes(b"PK\x03\x04 this is not really a zip")
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"class_name": "Scale",\n "config": }', encoding="utf-8")
    empty = tmp_path / "empty.keras"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("metadata.json", "{}")
    code, items = findings(capsys, str(corrupt), str(bad_json), str(empty), "--project", str(project))
    assert code == 1
    assert sorted((Path(str(f["path"])).name, f["code"], f["location"]["line"], f["location"]["column"])
                  for f in items) == [("bad.json", "CFG500", 2, 12), ("corrupt.keras", "CFG500", 1, 1),
                                      ("empty.keras", "CFG500", 1, 1)]
    messages = {Path(str(f["path"])).name: f["message"] for f in items}
    assert str(messages["corrupt.keras"]).startswith("not a readable `.keras` archive")
    assert messages["empty.keras"] == "not a Keras archive: it holds no `config.json`"
    assert str(messages["bad.json"]).startswith("the file is not valid JSON")

    code, out, err = run(capsys, str(tmp_path / "nowhere.keras"), "--project", str(project))
    assert code == 2 and "nowhere.keras: no such file or directory" in err and "All checks passed" not in out
    code, out, err = run(capsys, str(bad_json), "--project", str(tmp_path / "no-project"))
    assert code == 2 and "--project must be a directory" in err


def _fake_loader(monkeypatch: pytest.MonkeyPatch, calls: list[object], fail: Exception | None = None) -> None:
    """`cfglint.saved.dynamic` without a worker: an archive loads when its name says "good"."""
    class Outcome:
        def __init__(self, archive: str, ok: bool) -> None:
            self.archive, self.ok = archive, ok

    def load_archives(archives, modules, **options):
        calls.append((archives, modules, options))
        if fail is not None:
            raise fail
        return [Outcome(archive, "good" in archive) for archive in archives]

    fake = types.ModuleType("cfglint.saved.dynamic")
    fake.load_archives = load_archives
    fake.outcome_message = lambda outcome: "Keras could not load it: TypeError: boom"
    monkeypatch.setitem(sys.modules, "cfglint.saved.dynamic", fake)
    monkeypatch.setattr(cfglint.saved, "dynamic", fake, raising=False)


def test_dynamic_without_a_worker_is_a_usage_error(project, tmp_path, capsys, monkeypatch):
    """No TensorFlow (or a worker that cannot start): exit 2 with the reason, no traceback."""
    from cfglint.verify.pool import WorkerStartError

    _fake_loader(monkeypatch, [], WorkerStartError("`cfglint verify` needs tensorflow: pip install 'cfglint[verify]'"))
    path = saved_json(tmp_path, obj("Scale", base("s"), "demo>Scale"))
    code, _, err = run(capsys, path, "--project", str(project), "--dynamic")
    assert code == 2 and "needs tensorflow" in err and "Traceback" not in err
    code, _, err = run(capsys, path, "--project", str(project), "--dynamic", "--timeout", "0")
    assert code == 2 and "--timeout must be positive" in err


def test_dynamic_loads_each_archive_through_the_loader(project, tmp_path, capsys, monkeypatch):
    """`--dynamic` hands each archive and the project's class modules to `load_archives`; a load that
    fails is finding CFG505 at the saved file, with Keras's words, in every format and selectable."""
    calls: list[object] = []
    _fake_loader(monkeypatch, calls)
    good = saved_json(tmp_path, obj("Scale", base("s"), "demo>Scale"), "good.json")
    bad = saved_json(tmp_path, obj("Scale", base("s"), "demo>Scale"), "bad.json")
    code, out, _ = run(capsys, good, "--project", str(project), "--dynamic")
    assert code == 0 and "All checks passed" in out
    code, out, _ = run(capsys, bad, "--project", str(project), "--dynamic")
    assert code == 1 and f"{bad}:1:1: CFG505 {bad}: Keras could not load it: TypeError: boom" in out
    archives, modules, options = calls[-1]
    assert archives == [bad] and options["target"] == "keras3" and options["timeout"] == 120.0
    assert [(name, Path(file).name) for name, _, file in modules] == [("pkg.layers", "layers.py")]
    code, out, _ = run(capsys, bad, "--project", str(project), "--dynamic", "--output-format", "json")
    assert [(f["code"], f["path"], f["location"]["line"]) for f in json.loads(out)] == [("CFG505", bad, 1)]
    code, out, _ = run(capsys, bad, "--project", str(project), "--dynamic", "--ignore", "CFG505")
    assert code == 0 and "All checks passed" in out


def test_a_non_keras_json_named_alone_exits_clean_with_a_warning(project, tmp_path, capsys):
    code, out, err = run(capsys, saved_json(tmp_path, {"a": 1}), "--project", str(project))
    assert code == 0 and "skipped: not a saved Keras model config" in err and "All checks passed" in out


def test_selection_noqa_and_exit_zero(tmp_path, capsys):
    root = write_project(tmp_path / "p", {"mod.py": """
        import keras

        class Strict(keras.layers.Layer):
            def __init__(self, units, depth):
                super().__init__()
        """})
    path = saved_json(tmp_path, obj("Strict", {"units": 1, "extra": 2}, module="mod"))
    code, items = findings(capsys, path, "--project", str(root))
    assert (code, [(f["code"], f["location"]["line"]) for f in items]) == (1, [("CFG501", 4), ("CFG502", 4)])
    code, items = findings(capsys, path, "--project", str(root), "--select", "CFG502")
    assert (code, [f["code"] for f in items]) == (1, ["CFG502"])
    assert findings(capsys, path, "--project", str(root), "--ignore", "CFG5") == (0, [])
    code, items = findings(capsys, path, "--project", str(root), "--exit-zero")
    assert code == 0 and len(items) == 2
    source = (root / "mod.py").read_text(encoding="utf-8")
    (root / "mod.py").write_text(source.replace("depth):", "depth):  # noqa: CFG502"), encoding="utf-8")
    code, items = findings(capsys, path, "--project", str(root))
    assert (code, [f["code"] for f in items]) == (1, ["CFG501"])
    (root / "mod.py").write_text(source.replace("depth):", "depth):  # noqa"), encoding="utf-8")
    assert findings(capsys, path, "--project", str(root)) == (0, [])


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_output_format(project, tmp_path, capsys, fmt):
    path = saved_json(tmp_path, obj("Scale", base("s", scale=1.0), "demo>Scale"))
    code, out, err = run(capsys, path, "--project", str(project), "--output-format", fmt)
    assert code == 1 and err == ""
    assert "CFG501" in out
    if fmt in ("json", "sarif", "gitlab"):
        json.loads(out)


def test_rule_command_explains_the_saved_rules(capsys):
    assert main(["rule", "CFG503"]) == 0
    text = capsys.readouterr().out
    assert "# CFG503 (saved-class-not-found)" in text and "Saved config `model.json`:" in text


# ------------------------------------------------------------------------------ no heavy imports
PROBE = r"""
import contextlib, io, json, sys
WATCHED = ("tensorflow", "keras", "numpy", "tf_keras", "jax", "torch", "libcst")
looked_up = set()

class Recorder:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in WATCHED:
            looked_up.add(name)
        return None

sys.meta_path.insert(0, Recorder())
import cfglint.saved
from cfglint.cli import main
from cfglint.reporters import FORMATS
codes = []
for fmt in FORMATS:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        codes.append(main(["saved", sys.argv[1], "--project", sys.argv[2], "--output-format", fmt]))
loaded = sorted(m for m in sys.modules if m.split(".")[0] in WATCHED)
print(json.dumps({"codes": codes, "loaded": loaded, "looked_up": sorted(looked_up)}))
"""


def test_static_saved_imports_no_heavy_package(project, tmp_path):
    archive = keras_archive(tmp_path, functional("m", obj("Scale", base("s", scale=1.0), "demo>Scale")))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    result = subprocess.run([sys.executable, "-c", PROBE, archive, str(project)], capture_output=True, text=True,
                            env=env, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["codes"] == [1] * len(FORMATS)
    assert data["loaded"] == [] and data["looked_up"] == []


def test_an_empty_folder_and_an_unparsable_project_file_are_warned_about(project, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    code, out, err = run(capsys, str(tmp_path / "empty"), "--project", str(project))
    assert code == 0 and "no saved model config found in" in err
    (project / "pkg" / "broken.py").write_text("import keras\n\nclass Broken(keras.layers.Layer)\n", encoding="utf-8")
    path = saved_json(tmp_path, obj("Broken", base("b"), "demo>Broken", "pkg.broken"))
    code, out, err = run(capsys, path, "--project", str(project))
    assert code == 1 and "broken.py:3:" in err and "its classes are unknown to this run" in err
    assert "CFG503" in out


def test_two_classes_of_the_saved_name_are_not_guessed_between(tmp_path, capsys):
    root = write_project(tmp_path / "p", {
        "a.py": "import keras\n\nclass Block(keras.layers.Layer):\n    def __init__(self, units):\n"
                "        super().__init__()\n",
        "b.py": "import keras\n\nclass Block(keras.layers.Layer):\n    def __init__(self, depth):\n"
                "        super().__init__()\n",
    })
    saved_from_main = obj("Block", base("blk"), "Block", None)  # saved from a script: no module
    assert findings(capsys, saved_json(tmp_path, saved_from_main), "--project", str(root)) == (0, [])
    in_module = obj("Block", {"units": 2}, "Block", "a")
    code, items = findings(capsys, saved_json(tmp_path, in_module), "--project", str(root))
    assert (code, items) == (0, [])


def test_keys_handed_on_to_a_project_base_are_judged_by_its_init(tmp_path, capsys):
    root = write_project(tmp_path / "p", {"base.py": """
        import keras

        class Base(keras.layers.Layer):
            def __init__(self, units=1, name=None):
                super().__init__(name=name)
                self.units = units
        """, "child.py": """
        from base import Base

        class Child(Base):
            def __init__(self, depth=1, **kwargs):
                super().__init__(**kwargs)
                self.depth = depth

        class Own(Base):
            pass
        """})
    model = functional("m", obj("Child", {"name": "c", "units": 2, "depth": 3, "trainable": True}, module="child"),
                       obj("Own", {"name": "o", "units": 2, "dtype": "float32"}, module="child"))
    code, items = findings(capsys, saved_json(tmp_path, model), "--project", str(root))
    assert (code, sorted((Path(str(f["path"])).name, f["location"]["line"], str(f["message"]).split(": ", 1)[1])
                         for f in items)) == (1, [
        ("child.py", 4, "saved config key `trainable` is not accepted by `Child.__init__` (its `**kwargs` hand it "
                        "to `Base.__init__`, which has no such parameter)"),
        ("child.py", 8, "saved config key `dtype` is not accepted by `Own.__init__` (it has no such parameter and "
                        "no `**kwargs`)"),
    ])


def test_the_project_configuration_selects_and_ignores_per_file(project, tmp_path, capsys):
    path = saved_json(tmp_path, functional("m", obj("Scale", base("s", scale=1.0), "demo>Scale"),
                                           obj("Pooled", base("p"), "pool>P")))
    (project / "pyproject.toml").write_text('[tool.cfglint.per-file-ignores]\n"pkg/*" = ["CFG501"]\n',
                                            encoding="utf-8")
    code, items = findings(capsys, path, "--project", str(project))
    assert (code, [f["code"] for f in items]) == (1, ["CFG502"])
    (project / "pyproject.toml").write_text('[tool.cfglint]\nignore = ["CFG502"]\n', encoding="utf-8")
    code, items = findings(capsys, path, "--project", str(project))
    assert (code, [f["code"] for f in items]) == (1, ["CFG501"])
    (project / "pyproject.toml").write_text('[tool.cfglint]\nignore = ["CFG9"]\nbogus = 1\n', encoding="utf-8")
    code, _, err = run(capsys, path, "--project", str(project))
    assert code == 2 and "bogus" in err


def _damaged(data: bytes, how: str) -> bytes:
    if how == "truncated":
        return data[:len(data) // 2]
    damaged = bytearray(data)
    if how == "bad checksum":
        start = data.index(b"config.json") + len("config.json") + 5
        damaged[start:start + 20] = bytes(20)
    else:  # marked encrypted, in the local and the central header
        damaged[6] |= 1
        damaged[data.rfind(b"PK\x01\x02") + 8] |= 1
    return bytes(damaged)


@pytest.mark.parametrize("how", ["truncated", "bad checksum", "encrypted"])
def test_damaged_archives_are_cfg500_never_a_traceback(project, tmp_path, capsys, how):
    good = tmp_path / "good.keras"
    with zipfile.ZipFile(good, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", json.dumps(obj("Scale", base("s", pad="x" * 2000), "demo>Scale")))
    damaged = tmp_path / "damaged.keras"
    damaged.write_bytes(_damaged(good.read_bytes(), how))
    code, items = findings(capsys, str(damaged), "--project", str(project))
    assert code == 1 and [(f["code"], str(f["message"]).split(":")[0]) for f in items] == [
        ("CFG500", "not a readable `.keras` archive (a zip file)")]


def test_an_oversized_config_is_refused(project, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("cfglint.saved.reader.MAX_CONFIG_BYTES", 1024)
    archive = keras_archive(tmp_path, obj("Scale", base("s", pad="x" * 4096), "demo>Scale"))
    code, items = findings(capsys, archive, "--project", str(project))
    assert (code, [f["message"] for f in items]) == (1, ["`config.json` in the archive is larger than 1,024 bytes"])
