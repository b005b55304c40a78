"""A safe fix never turns a class that works into one that does not.

Static part (fast, no Keras): every example of every rule, fixed with the safe fixes (validated, as
`cfglint check --fix` does), gains no finding, still parses, and a second fix changes nothing; a safe
fix that would create a finding is held back (and applied with `--unsafe-fixes`); no `get_config` is
written over Keras's automatic config.

Keras part (marked `keras`; tf-keras examples in one child process, marked `tfkeras`): every bad and
good example of every fixable rule is round-tripped through real Keras as written, after the safe fixes
and after all fixes (`--unsafe-fixes`). The class the example is about (the last one it defines) is
built with non-default arguments (and `name`/`trainable`/`dtype` when it takes them), called on a
(2, 4) input (an RNN cell: built, and saved inside an `RNN` of its dtype; `SETUP` adds arguments that
reach the class through `**kwargs` and other input shapes, per example), then

* ``from_config``: ``type(layer).from_config(layer.get_config())``,
* ``config_json``: the same through ``json.dumps``/``json.loads`` of the config,
* ``deserialize``: ``serialize_keras_object`` -> JSON -> ``deserialize_keras_object``,
* ``save_load``: a model around it saved as ``.keras`` and loaded,

and each revived layer must equal the original (constructor arguments held as attributes, name,
trainable, dtype, config, outputs after copying the weights). The assertions: an example that
round-trips before still round-trips after its safe fixes; a bad example round-trips after exactly the
fixes listed in ``FIXED_BY``.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import itertools
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
from helpers import FIXED_NAME, write_project

from cfglint.cli import main
from cfglint.config import RuleSelection, load_settings
from cfglint.engine import Checker
from cfglint.finding import Target
from cfglint.fixes import check_one, fix_source
from cfglint.fixes.files import fix_until_stable
from cfglint.fixes.safety import AUTOMATIC_CONFIG_BUILTINS, Recheck, finding_key, new_findings
from cfglint.rules import ALL_RULES, DEFAULT_CODES, fixable_codes
from cfglint.rules.base import Example

ALL_EXAMPLES = [(code, kind, index, example)
                for code, rule in ALL_RULES.items()
                for kind, examples in (("bad", rule.invalid), ("good", rule.valid))
                for index, example in enumerate(examples)]
FIXABLE_EXAMPLES = [item for item in ALL_EXAMPLES if item[0] in fixable_codes(unsafe=True)]

NAMED = FIXED_NAME

# tf-keras's `AbstractRNNCell` defines no `get_config`: the cell round-trips through the automatic
# config, which records `units` and `scale` as passed. A `get_config` written for the reported `units`
# alone (`scale` is converted, so it has no fix) would switch that off and lose `scale`.
CELL = """\
import tf_keras as keras


class Cell(keras.layers.AbstractRNNCell):
    def __init__(self, units, scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.scale = float(scale)

    @property
    def state_size(self):
        return self.units

    def call(self, inputs, states):
        return inputs * self.scale, states
"""
# What the CFG101 fix wrote there before it knew about the automatic config.
CELL_WITH_WRITTEN_CONFIG = CELL + """
    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units})
        return config
"""

# Keras 3's `ELU` has no `get_config` of its own either.
ELU = """\
import keras


class Shifted(keras.layers.ELU):
    def __init__(self, shift, alpha=1.0, **kwargs):
        super().__init__(alpha=alpha, **kwargs)
        self.shift = shift

    def call(self, inputs):
        return super().call(inputs) + self.shift
"""


# ------------------------------------------------------------------------------------------- helpers
def project_for(root: Path, example: Example | None = None, source: str | None = None
                ) -> tuple[Recheck, str, str]:
    """A throwaway project holding the example: its `Recheck`, the file's path and source."""
    source = source if source is not None else example.code  # type: ignore[union-attr]
    write_project(root, {**dict(example.files if example else ()), "pyproject.toml": ""})
    (root / "example.py").write_text(source, encoding="utf-8")
    settings = load_settings(root, known_codes=ALL_RULES)
    selection = RuleSelection.from_settings(settings, all_codes=ALL_RULES, default_codes=DEFAULT_CODES)
    target = example.target.value if example else None
    return Recheck(lambda: Checker(settings, selection, target)), str(root / "example.py"), source


def fixed_variants(root: Path, example: Example) -> dict[str, str]:
    """The example as written, after the safe fixes, and after every fix, as `--fix` writes them."""
    recheck, path, source = project_for(root, example)
    before = recheck(source, path)
    safe = fix_until_stable(source, path, before, recheck).source
    unsafe = fix_until_stable(source, path, before, recheck, unsafe=True).source
    return {"original": source, "safe": safe, "unsafe": unsafe}


# ------------------------------------------------------------------------------------- static tests
@pytest.mark.parametrize(("code", "kind", "index", "example"), ALL_EXAMPLES,
                         ids=[f"{c}-{k}{i}" for c, k, i, _ in ALL_EXAMPLES])
def test_safe_fixes_create_no_finding_and_settle(tmp_path: Path, code: str, kind: str, index: int,
                                                 example: Example) -> None:
    recheck, path, source = project_for(tmp_path, example)
    before = recheck(source, path)
    stable = fix_until_stable(source, path, before, recheck)
    if any(f.code == "CFG001" for f in before):  # a file that does not parse is left as it is
        assert stable.source == source and fix_source(source, before).source == source
        return
    ast.parse(stable.source)
    assert new_findings(before, recheck(stable.source, path)) == []
    assert [finding_key(f) for f in stable.remaining] == [finding_key(f) for f in recheck(stable.source, path)]
    again = fix_until_stable(stable.source, path, stable.remaining, recheck)
    assert again.source == stable.source and again.applied == 0
    # the planners alone (no validation) already keep to this on every example
    alone = fix_source(source, before)
    ast.parse(alone.source)
    assert new_findings(before, recheck(alone.source, path)) == []


def test_a_safe_fix_that_creates_a_finding_is_held_back(tmp_path: Path) -> None:
    recheck, path, source = project_for(tmp_path, source=NAMED)
    before = recheck(source, path)
    assert [f.code for f in before] == ["CFG301"]
    outcome = fix_source(source, before, check=recheck)
    assert outcome.source == source and outcome.applied == []
    (finding, reason), = outcome.held_back
    assert finding is before[0] and "CFG308" in reason and "--unsafe-fixes" in reason
    assert outcome.skipped == outcome.held_back
    # without validation the fix applies (and creates CFG308); with --unsafe-fixes it applies too
    assert [f.code for f in recheck(fix_source(source, before).source, path)] == ["CFG308"]
    assert fix_source(source, before, unsafe=True, check=recheck).applied == before
    # an editor is offered it as unsafe
    fixed, safe, why = check_one(source, before[0], recheck, before)  # type: ignore[misc]
    assert fixed != source and not safe and "CFG308" in why


def test_validation_checks_once_when_the_fixes_pass_and_per_fix_when_they_do_not(tmp_path: Path) -> None:
    two = NAMED + "\n\n" + NAMED.split("\n\n\n", 1)[1].replace("Named", "Plain").replace('name="named"', "")
    recheck, path, source = project_for(tmp_path, source=two)
    calls: list[str] = []

    def counting(text: str, where: str) -> list:
        calls.append(text)
        return recheck(text, where)

    before = recheck(source, path)
    assert sorted((f.code, f.class_name) for f in before) == [("CFG301", "Named"), ("CFG301", "Plain")]
    outcome = fix_source(source, before, check=counting)
    assert [f.class_name for f in outcome.applied] == ["Plain"]
    assert [f.class_name for f, _ in outcome.held_back] == ["Named"]
    assert len(calls) == 3  # the combined result, then each fix on its own
    assert outcome.rechecked is not None and new_findings(before, outcome.rechecked) == []
    calls.clear()
    plain_only = [f for f in before if f.class_name == "Plain"]
    assert fix_source(source, plain_only, check=counting, baseline=before).applied == plain_only
    assert len(calls) == 1


@pytest.mark.parametrize(("source", "target", "reason"), [
    (CELL, "tf-keras", "`AbstractRNNCell` defines no `get_config` in tf-keras"),
    (ELU, "keras3", "`ELU` defines no `get_config` in Keras 3"),
])
def test_no_get_config_is_written_over_the_automatic_config(tmp_path: Path, source: str, target: str,
                                                            reason: str) -> None:
    example = Example(source, target=Target(target))
    recheck, path, _ = project_for(tmp_path, example)
    found = [f for f in recheck(source, path) if f.code in ("CFG101", "CFG102")]
    for finding in found:  # reported today or not, the fix must refuse
        for check in (recheck, None):
            outcome = fix_source(source, [finding], unsafe=True, check=check)
            assert outcome.applied == [] and outcome.source == source
        assert any(reason in why for _, why in fix_source(source, found, check=recheck).skipped) or not found


def test_a_base_in_another_file_is_read_before_a_get_config_is_written(tmp_path: Path) -> None:
    base_with_config = """\
        import keras

        class Base(keras.layers.Layer):
            def __init__(self, units, **kwargs):
                super().__init__(**kwargs)
                self.units = units

            def get_config(self):
                return {**super().get_config(), "units": self.units}
        """
    child = """\
from base import Base


class Child(Base):
    def __init__(self, units, gate=0.5, **kwargs):
        super().__init__(units, **kwargs)
        self.gate = gate
"""
    example = Example(child, files=(("base.py", base_with_config),))
    recheck, path, source = project_for(tmp_path, example)
    found = [f for f in recheck(source, path) if f.code == "CFG102"]
    assert len(found) == 1
    # the project (through the Recheck) shows the base's explicit get_config: the fix is written
    assert fix_source(source, found, check=recheck).applied == found
    # the file alone does not show it: no guess
    skipped = fix_source(source, found).skipped
    assert skipped and "cannot be read" in skipped[0][1]


def test_fix_and_diff_say_which_safe_fixes_are_held_back(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    (tmp_path / "named.py").write_text(NAMED, encoding="utf-8")
    assert main(["check", "named.py", "--diff", "--no-cache"]) == 0
    out, err = capsys.readouterr()
    assert out == "" and "No fixes available." in err
    assert "named.py:5:9: CFG301 not fixed: held back as unsafe: it would create CFG308" in err
    assert main(["check", "named.py", "--fix", "--no-cache"]) == 1
    out, err = capsys.readouterr()
    assert (tmp_path / "named.py").read_text(encoding="utf-8") == NAMED
    assert "CFG301 not fixed: held back as unsafe" in err and "Fixed 0 findings (1 remaining)." in out
    assert main(["check", "named.py", "--fix", "--unsafe-fixes", "--no-cache"]) == 1
    assert "**kwargs" in (tmp_path / "named.py").read_text(encoding="utf-8")
    assert "CFG308" in capsys.readouterr().out


# --------------------------------------------------------------------------------- the Keras harness
ARGUMENTS: dict[str, Any] = {
    "units": 3, "scale": 2.5, "groups": 2, "gate": 0.25, "alpha": 0.9, "activation": "tanh",
    "kernel_initializer": "lecun_normal", "depth": 2, "width": 5, "shift": 0.5,
}
BASE = {"name": "custom_name", "trainable": False, "dtype": "float64"}
CHECKS = ("from_config", "config_json", "deserialize", "save_load")
_ids = itertools.count()


def load_source(source: str, workdir: Path):  # type: ignore[no-untyped-def]
    name = f"cfglint_fix_roundtrip_{os.getpid()}_{next(_ids)}"
    path = workdir / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[name] = module  # dataclasses look their module up while the class is created
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def arguments(cls: type, base: tuple[str, ...] = tuple(BASE)) -> dict[str, Any]:
    """Non-default constructor arguments by name, plus the `base` keywords when it takes them."""
    params = inspect.signature(cls.__init__).parameters
    kwargs = {name: _not_default(ARGUMENTS[name], params[name].default) for name in params if name in ARGUMENTS}
    for name, param in params.items():
        if name != "self" and name not in kwargs and param.default is inspect.Parameter.empty \
                and param.kind in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY):
            kwargs[name] = 3
    takes_all = any(p.kind is p.VAR_KEYWORD for p in params.values())
    kwargs.update({key: BASE[key] for key in base if takes_all or key in params})
    return kwargs


def _not_default(value: Any, default: Any) -> Any:
    if value != default or isinstance(value, str):
        return value
    return value + 4 if isinstance(value, int) else value + 1.5


def plain(value: Any) -> Any:
    """A comparable form: containers as lists/dicts, arrays as lists, Keras objects by their config."""
    import numpy as np

    if isinstance(value, dict) or (hasattr(value, "items") and hasattr(value, "keys")):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) or type(value).__name__ in ("TrackedList", "ListWrapper"):
        return [plain(v) for v in value]
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    if hasattr(value, "get_config") and not isinstance(value, type):
        try:
            return type(value).__name__, plain(value.get_config())
        except Exception:
            return value
    if callable(value) and hasattr(value, "__name__"):
        return "function", value.__name__
    return value


def differences(keras, orig, revived, kwargs: dict[str, Any], x, called: bool) -> list[str]:  # type: ignore[no-untyped-def]
    import numpy as np

    if type(revived) is not type(orig):
        return [f"revived a {type(revived).__name__}"]
    found = []
    for key in BASE:
        want = kwargs.get(key, getattr(orig, key))
        got = getattr(revived, key)
        if key == "dtype":
            want, got = str(want), str(got)
        if plain(want) != plain(got):
            found.append(f"{key}: wanted {want!r}, revived {got!r}")
    for key in kwargs:
        if key not in BASE and hasattr(orig, key) and plain(getattr(orig, key)) != plain(getattr(revived, key, None)):
            found.append(f"attribute {key}: {plain(getattr(orig, key))!r} -> {plain(getattr(revived, key, None))!r}")
    config0, config1 = plain(orig.get_config()), plain(revived.get_config())
    for key in sorted((set(config0) | set(config1)) - {"name"}):
        if config0.get(key) != config1.get(key):
            found.append(f"config {key!r}: {config0.get(key)!r} -> {config1.get(key)!r}")
    if called and not found:
        out0 = orig(x)
        revived(x)
        if [w.shape for w in orig.get_weights()] != [w.shape for w in revived.get_weights()]:
            found.append("weight shapes differ")
        else:
            revived.set_weights(orig.get_weights())
            if not np.allclose(np.asarray(out0), np.asarray(revived(x)), atol=1e-6):
                found.append("outputs differ")
    return found


def roundtrip(keras, job: dict[str, Any], workdir: Path) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Build the example's class and run every check: {"built": bool, check: [problems]}.

    `job` holds the `source` and, from `SETUP`, extra constructor `arguments`, the `base` keywords to
    pass and the input `shape`.
    """
    import numpy as np

    shape = tuple(job.get("shape", (2, 4)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module = load_source(job["source"], workdir)
        try:
            x = np.random.RandomState(0).rand(*shape).astype("float32")
            return _roundtrip(keras, module, workdir, x, job)
        finally:
            sys.modules.pop(module.__name__, None)


def _roundtrip(keras, module, workdir: Path, x, job: dict[str, Any]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    classes = {name: value for name, value in vars(module).items() if isinstance(value, type)
               and issubclass(value, keras.layers.Layer) and value.__module__ == module.__name__}
    cls = list(classes.values())[-1]
    base_call = keras.Model.call if issubclass(cls, keras.Model) else keras.layers.Layer.call
    cell = hasattr(cls, "state_size")  # an RNN cell is called with states, inside `RNN`
    if not cell and getattr(cls, "call", base_call) is base_call:
        cls.call = lambda self, inputs: inputs  # a model needs a call; it does not touch the config
    kwargs = {**arguments(cls, tuple(job.get("base", BASE))), **job.get("arguments", {})}
    try:
        layer = cls(**kwargs)
    except Exception as exc:
        return {"built": False, "error": f"{type(exc).__name__}: {exc}"}
    called = not cell
    if called:
        layer(x)
    else:
        layer.build(x.shape)
    result: dict[str, Any] = {"built": True}
    for check in CHECKS:
        try:
            revived = _revive(keras, check, layer, classes, workdir, x, called)
            result[check] = differences(keras, layer, revived, kwargs, x, called)
        except Exception as exc:
            result[check] = [f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"]
    return result


def _revive(keras, check: str, layer, classes: dict[str, type], workdir: Path, x, called: bool):  # type: ignore[no-untyped-def]
    cls = type(layer)
    if check == "from_config":
        with keras.saving.custom_object_scope(classes):
            return cls.from_config(layer.get_config())
    if check == "config_json":
        with keras.saving.custom_object_scope(classes):
            return cls.from_config(json.loads(json.dumps(layer.get_config())))
    if check == "deserialize":
        text = json.dumps(keras.saving.serialize_keras_object(layer))
        return keras.saving.deserialize_keras_object(json.loads(text), custom_objects=classes)
    path = str(workdir / f"model_{next(_ids)}.keras")
    if isinstance(layer, keras.Model):
        layer.save(path)
        return keras.models.load_model(path, custom_objects=classes)
    if hasattr(cls, "state_size"):
        inputs = keras.Input(shape=x.shape)
        # the wrapper computes in the cell's dtype, as a user would build it (a float32 `RNN` around a
        # float64 cell fails in tf-keras: its loop state changes dtype after one step)
        keras.Model(inputs, keras.layers.RNN(layer, dtype=layer.dtype)(inputs)).save(path)
        return keras.models.load_model(path, custom_objects=classes).layers[-1].cell
    inputs = keras.Input(shape=x.shape[1:])
    keras.Model(inputs, layer(inputs)).save(path)
    return keras.models.load_model(path, custom_objects=classes).layers[-1]


def passes(result: dict[str, Any]) -> bool:
    return bool(result.get("built")) and all(result[check] == [] for check in CHECKS)


def run_jobs(keras, jobs: dict[str, dict[str, Any]], workdir: str) -> dict[str, dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Round-trip each job (see `roundtrip`); a setup error is reported, never stops the others."""
    import traceback

    results = {}
    for job_id, job in jobs.items():
        try:
            results[job_id] = roundtrip(keras, job, Path(workdir))
        except Exception:
            results[job_id] = {"built": False, "error": traceback.format_exc(limit=3)}
    return results


def builtins_without_get_config(keras) -> list[str]:  # type: ignore[no-untyped-def]
    """The public built-in layers whose chain up to `Layer` defines no `get_config`."""
    base = keras.layers.Layer
    found = []
    for name in dir(keras.layers):
        obj = getattr(keras.layers, name)
        if isinstance(obj, type) and issubclass(obj, base) and obj is not base:
            chain = obj.__mro__[:obj.__mro__.index(base)] if base in obj.__mro__ else obj.__mro__
            if not any("get_config" in vars(c) for c in chain):
                found.append(name)
    return sorted(found)


# ------------------------------------------------------------------------------ which fix does what
# Bad examples and the variants after which they round-trip ("safe": the safe fixes, "unsafe": every
# fix). A bad example listed with an empty set has no fix that makes it work (no fix at all, or one
# whose round trip still fails for another reason, said here).
FIXED_BY: dict[tuple[str, int], set[str]] = {
    ("CFG101", 0): {"safe", "unsafe"}, ("CFG101", 1): {"safe", "unsafe"}, ("CFG101", 2): {"safe", "unsafe"},
    ("CFG101", 3): {"safe", "unsafe"}, ("CFG101", 5): {"safe", "unsafe"},
    ("CFG101", 6): set(),  # no fix: `load_assets` binds `self.vocabulary` too, so no attribute is certain
    ("CFG102", 0): {"safe", "unsafe"}, ("CFG102", 1): {"safe", "unsafe"}, ("CFG102", 2): {"safe", "unsafe"},
    ("CFG102", 3): {"safe", "unsafe"},
    ("CFG104", 0): {"unsafe"}, ("CFG104", 1): {"unsafe"},  # the merge is unsafe: name/trainable/dtype
    ("CFG201", 0): {"safe", "unsafe"}, ("CFG201", 1): {"safe", "unsafe"},
    ("CFG301", 0): {"safe", "unsafe"}, ("CFG301", 1): {"safe", "unsafe"}, ("CFG301", 2): {"safe", "unsafe"},
    ("CFG302", 0): {"safe", "unsafe"}, ("CFG302", 1): set(), ("CFG302", 2): {"safe", "unsafe"},
    ("CFG303", 0): set(), ("CFG303", 1): set(),  # no fix: the arguments only reach sub-layers
    ("CFG303", 2): {"unsafe"},  # every argument stored as is: the written `get_config` returns them
    ("CFG306", 0): {"unsafe"}, ("CFG306", 1): set(),
    ("CFG401", 0): {"safe", "unsafe"}, ("CFG401", 1): set(), ("CFG401", 2): set(),
}


# Good examples (the rule has nothing to say) that do not round-trip every argument, on purpose.
GOOD_BUT_NOT_ROUND_TRIPPING = {
    ("CFG101", 2): "`from_config` supplies `units=8` itself",
    ("CFG302", 1): "`get_config` returns no `name`: a reload gets a new one",
    ("CFG104", 1): "tf-keras: an overriding `Model.get_config` gets no name/trainable/dtype from `super()`",
    ("CFG301", 1): "tf-keras: an overriding `Model.get_config` gets no name/trainable/dtype from `super()`",
    ("CFG301", 2): "`get_config` returns no `name`: a reload gets a new one",
}

# What the harness cannot guess from a signature, per example: arguments that reach the class only
# through `**kwargs` (for a parent that takes them); the base keywords (`name`/`trainable`/`dtype`) a
# class with `**kwargs` takes for itself, when its `**kwargs` are for something else (a sub-layer, or
# nothing: then a keyword passed there never reaches the layer, before or after a reload); inputs of
# another shape.
SETUP: dict[tuple[str, str, int], dict[str, Any]] = {
    ("CFG104", "good", 3): {"base": ("name",)},  # `**kwargs` is accepted and ignored
    ("CFG306", "good", 2): {"base": ("name",)},  # `**dense_kwargs` go to the inner `Dense`
    ("CFG306", "good", 3): {"base": ("name", "dtype")},  # `**kwargs` is accepted and ignored
    ("CFG101", "good", 5): {"arguments": {"pool_size": 3}, "shape": (2, 4, 3)},  # a 1D pooling layer
    ("CFG102", "bad", 2): {"arguments": {"rate": 0.3}},  # `rate` is `Noisy`'s, passed through `Block`
    ("CFG102", "bad", 3): {"arguments": {"scale": 2.5}},  # `scale` is `Scaled`'s, passed through `Shifted`
}


def _jobs(root: Path, target: Target) -> dict[str, dict[str, Any]]:
    jobs: dict[str, dict[str, Any]] = {}
    for code, kind, index, example in FIXABLE_EXAMPLES:
        if example.target is not target or example.files:
            continue
        folder = root / f"{code}-{kind}{index}"
        folder.mkdir()
        for variant, text in fixed_variants(folder, example).items():
            jobs[f"{code}-{kind}{index}-{variant}"] = {"source": text, **SETUP.get((code, kind, index), {})}
    return jobs


def _example_ids(target: Target) -> list:
    marks = [pytest.mark.keras] + ([pytest.mark.tfkeras] if target is Target.TF_KERAS else [])
    return [pytest.param(code, kind, index, id=f"{code}-{kind}{index}", marks=marks)
            for code, kind, index, example in FIXABLE_EXAMPLES
            if example.target is target and not example.files]


@pytest.fixture(scope="module")
def keras3_results(tmp_path_factory) -> dict[str, dict[str, Any]]:
    if importlib.util.find_spec("keras") is None or importlib.util.find_spec("tensorflow") is None:
        pytest.skip("needs TensorFlow and Keras 3")
    if os.environ.get("TF_USE_LEGACY_KERAS", "").lower() in ("1", "true", "yes"):
        pytest.skip("TF_USE_LEGACY_KERAS is set: Keras 3 cases need a plain environment")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras

    root = tmp_path_factory.mktemp("fix_roundtrip_k3")
    jobs = _jobs(root, Target.KERAS3)
    jobs["ELU-original"] = {"source": ELU}
    results = _dedupe_run(keras, jobs, root)
    results["builtins"] = {"no_get_config": builtins_without_get_config(keras)}
    return results


def _dedupe_run(keras, jobs: dict[str, dict[str, Any]], root: Path) -> dict[str, dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Each distinct job once (a variant without a fix is the original)."""
    unique = {json.dumps(job, sort_keys=True): job_id for job_id, job in jobs.items()}
    done = run_jobs(keras, {job_id: jobs[job_id] for job_id in unique.values()}, str(root))
    return {job_id: done[unique[json.dumps(job, sort_keys=True)]] for job_id, job in jobs.items()}


_WORKER = """
import importlib.util, json, os, sys
os.environ["TF_USE_LEGACY_KERAS"] = "1"
sys.path.insert(0, os.path.dirname(sys.argv[1]))  # the tests' helpers
spec = importlib.util.spec_from_file_location("cfglint_fix_roundtrip_worker", sys.argv[1])
harness = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = harness
spec.loader.exec_module(harness)
import tf_keras
with open(sys.argv[2], encoding="utf-8") as handle:
    jobs = json.load(handle)
results = harness.run_jobs(tf_keras, jobs, sys.argv[3])
results["builtins"] = {"no_get_config": harness.builtins_without_get_config(tf_keras)}
print("CFGLINT-RESULT " + json.dumps(results))
"""


@pytest.fixture(scope="module")
def tfkeras_results(tmp_path_factory) -> dict[str, dict[str, Any]]:
    """Every tf-keras round trip in one child process (tf-keras must not share a process with Keras 3)."""
    if importlib.util.find_spec("tf_keras") is None or importlib.util.find_spec("tensorflow") is None:
        pytest.skip("needs tf-keras")
    root = tmp_path_factory.mktemp("fix_roundtrip_tfk")
    jobs = _jobs(root, Target.TF_KERAS)
    jobs["CELL-original"] = {"source": CELL}
    jobs["CELL-written"] = {"source": CELL_WITH_WRITTEN_CONFIG}
    jobs_file = root / "jobs.json"
    jobs_file.write_text(json.dumps(jobs), encoding="utf-8")
    env = {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow"}
    proc = subprocess.run([sys.executable, "-c", _WORKER, __file__, str(jobs_file), str(root)],
                          capture_output=True, text=True, env=env, timeout=600, check=False)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("CFGLINT-RESULT ")]
    assert proc.returncode == 0 and lines, f"tf-keras worker failed ({proc.returncode}):\n{proc.stderr[-3000:]}"
    return json.loads(lines[-1].removeprefix("CFGLINT-RESULT "))


def _results(request, target: Target) -> dict[str, dict[str, Any]]:
    return request.getfixturevalue("tfkeras_results" if target is Target.TF_KERAS else "keras3_results")


def _assert_example(results: dict[str, dict[str, Any]], code: str, kind: str, index: int) -> None:
    name = f"{code}-{kind}{index}"
    outcome = {variant: results[f"{name}-{variant}"] for variant in ("original", "safe", "unsafe")}
    for variant, result in outcome.items():
        assert "Traceback" not in str(result.get("error", "")), f"{name} {variant}: {result['error']}"
    if passes(outcome["original"]):
        assert passes(outcome["safe"]), f"{name}: a safe fix broke a class that round-tripped: {outcome['safe']}"
    if kind == "good":
        works = (code, index) not in GOOD_BUT_NOT_ROUND_TRIPPING
        assert passes(outcome["original"]) == works, f"{name}: {outcome['original']}"
        return
    assert not passes(outcome["original"]), f"{name}: the bad example round-trips as written"
    working = {variant for variant in ("safe", "unsafe") if passes(outcome[variant])}
    assert working == FIXED_BY[(code, index)], f"{name}: round-trips after {working or 'no fix'}: {outcome}"


@pytest.mark.parametrize(("code", "kind", "index"), _example_ids(Target.KERAS3))
def test_keras3_fixed_examples_round_trip(code: str, kind: str, index: int, request) -> None:
    _assert_example(_results(request, Target.KERAS3), code, kind, index)


@pytest.mark.parametrize(("code", "kind", "index"), _example_ids(Target.TF_KERAS))
def test_tfkeras_fixed_examples_round_trip(code: str, kind: str, index: int, request) -> None:
    _assert_example(_results(request, Target.TF_KERAS), code, kind, index)


def test_every_fixable_bad_example_says_which_fixes_make_it_work() -> None:
    bad = {(code, index) for code, kind, index, example in FIXABLE_EXAMPLES if kind == "bad" and not example.files}
    assert bad <= set(FIXED_BY), sorted(bad - set(FIXED_BY))


def test_the_per_example_tables_name_examples_that_exist() -> None:
    examples = {(code, kind, index) for code, kind, index, example in FIXABLE_EXAMPLES if not example.files}
    assert set(SETUP) <= examples, sorted(set(SETUP) - examples)
    assert {(code, "good", index) for code, index in GOOD_BUT_NOT_ROUND_TRIPPING} <= examples
    assert {(code, "bad", index) for code, index in FIXED_BY} <= examples


@pytest.mark.keras
def test_keras3_elu_subclass_round_trips_through_the_automatic_config(keras3_results) -> None:
    assert passes(keras3_results["ELU-original"]), keras3_results["ELU-original"]


@pytest.mark.keras
@pytest.mark.tfkeras
def test_tfkeras_cell_round_trips_and_the_get_config_once_written_breaks_it(tfkeras_results) -> None:
    assert passes(tfkeras_results["CELL-original"]), tfkeras_results["CELL-original"]
    written = tfkeras_results["CELL-written"]
    assert not passes(written)
    assert "attribute scale: 2.5 -> 1.0" in written["from_config"], written


@pytest.mark.keras
def test_keras3_builtins_without_get_config_match_the_table(keras3_results) -> None:
    assert keras3_results["builtins"]["no_get_config"] == sorted(AUTOMATIC_CONFIG_BUILTINS[Target.KERAS3])


@pytest.mark.keras
@pytest.mark.tfkeras
def test_tfkeras_builtins_without_get_config_match_the_table(tfkeras_results) -> None:
    assert tfkeras_results["builtins"]["no_get_config"] == sorted(AUTOMATIC_CONFIG_BUILTINS[Target.TF_KERAS])
