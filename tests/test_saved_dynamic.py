"""`cfglint.saved.dynamic`: saved models loaded for real in verify workers, and the error Keras gives.

The Keras tests save real models once (a subprocess, from a project written to a temporary folder): a
functional model with a nested functional model holding a registered custom layer, a registered
subclassed model, and the functional model's `to_json()`. The layer code is then edited the ways that
break old checkpoints (an argument renamed, a required argument added, a class dropped, its registered
package renamed), and `load_archives` must give back Keras's own error for each, and nothing for the
unchanged code. Modules whose import hangs, crashes or raises, and loads that crash, must end as
outcomes. A tf-keras model is loaded by a tf-keras worker. Each `load_archives` call starts one worker
(importing TensorFlow), so each scenario is one call, made once per test module.

The other tests (no Keras) cover the messages, the protocol and the exception chain.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import write_project

from cfglint.saved.dynamic import LoadOutcome, WorkerStartError, load_archives, outcome_message
from cfglint.verify.pool import WorkerPool
from cfglint.verify.protocol import Job, LoadJob, Problem, Raised, Result, decode, decode_job, encode, result_from
from cfglint.verify.worker import raised_of

HAVE_KERAS = importlib.util.find_spec("tensorflow") is not None and importlib.util.find_spec("keras") is not None

GENEROUS = 300.0  # --timeout where nothing is supposed to hang
SHORT = 6.0  # where something hangs on purpose

HEADER = """\
import os

import keras

"""
SCALE = '''
@keras.saving.register_keras_serializable(package="demo")
class Scale(keras.layers.Layer):
    """Spells out the base layer's arguments instead of taking **kwargs."""

    def __init__(self, factor=2.0, *, name=None, trainable=True, dtype=None):
        super().__init__(name=name, trainable=trainable, dtype=dtype)
        self.factor = factor

    def call(self, x):
        return x * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}

'''
BLOCK = '''
@keras.saving.register_keras_serializable(package="demo")
class Block(keras.Model):
    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.dense = keras.layers.Dense(units)

    def call(self, x):
        return self.dense(x)

    def get_config(self):
        return {**super().get_config(), "units": self.units}

'''
EXPLODER = '''
@keras.saving.register_keras_serializable(package="demo")
class Exploder(keras.layers.Layer):
    """Ends the process when it is rebuilt (used only by a hand-written config)."""

    def __init__(self, **kwargs):
        os._exit(7)
'''
ORIGINAL = HEADER + SCALE + BLOCK + EXPLODER

SAVE = """
import json
import sys

sys.path.insert(0, sys.argv[1])
import keras

from demo.layers import Block, Scale

inner_in = keras.Input((3,))
encoder = keras.Model(inner_in, Scale(3.0, name="scale")(inner_in), name="encoder")
outer_in = keras.Input((3,))
model = keras.Model(outer_in, Block(units=5, name="block")(encoder(outer_in)), name="functional")
model.save("functional.keras")
with open("functional.json", "w") as handle:
    handle.write(model.to_json())
sub = Block(units=2)
sub(keras.ops.zeros((1, 3)))
sub.save("subclassed.keras")
with open("exploder.json", "w") as handle:
    json.dump({"module": "demo.layers", "class_name": "Exploder", "config": {"name": "x"},
               "registered_name": "demo>Exploder"}, handle)
with open("not_keras.json", "w") as handle:
    json.dump({"hello": "world"}, handle)
"""
ARCHIVES = ("functional.keras", "subclassed.keras", "functional.json")


def edited(source: str, *replacements: tuple[str, str]) -> str:
    for old, new in replacements:
        assert old in source, old
        source = source.replace(old, new)
    return source


VARIANTS = {
    "unchanged": ORIGINAL,
    "renamed_argument": edited(
        ORIGINAL, ("factor=2.0, *", "scale=2.0, *"), ("self.factor = factor", "self.factor = scale"),
        ('"factor": self.factor', '"scale": self.factor'), ("units=4", "width=4"),
        ("self.units = units", "self.units = width"), ("Dense(units)", "Dense(width)"),
        ('"units": self.units', '"width": self.units')),
    "required_argument": edited(ORIGINAL, ("(self, factor=2.0", "(self, offset, factor=2.0"),
                                ("(self, units=4", "(self, depth, units=4")),
    "dropped_class": HEADER + BLOCK + EXPLODER,
    "renamed_package": edited(ORIGINAL, ('package="demo"', 'package="renamed"')),
}


class Saved:
    """The saved models, and the outcomes of loading them under each variant of the layer code."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.outcomes: dict[str, list[LoadOutcome]] = {}

    def path(self, name: str) -> str:
        return str(self.folder / name)

    def of(self, variant: str, archive: str) -> LoadOutcome:
        found = [o for o in self.outcomes[variant] if os.path.basename(o.archive) == archive]
        assert len(found) == 1, self.outcomes[variant]
        return found[0]


def project(root: Path, source: str, extra: dict[str, str] | None = None) -> Path:
    return write_project(root, {"demo/__init__.py": "", "demo/layers.py": source, **(extra or {})})


def layers_module(root: Path) -> tuple[str, str, str]:
    return ("demo.layers", str(root), str(root / "demo" / "layers.py"))


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Saved:
    if not HAVE_KERAS:
        pytest.skip("needs TensorFlow and Keras")
    base = tmp_path_factory.mktemp("saved")
    original = project(base / "original", ORIGINAL)
    archives = base / "archives"
    archives.mkdir()
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", SAVE, str(original)], cwd=archives, env=env, capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result = Saved(archives)
    for variant, source in VARIANTS.items():
        root = project(base / variant, source)
        names = [*ARCHIVES, "not_keras.json", "exploder.json"] if variant == "unchanged" else list(ARCHIVES)
        result.outcomes[variant] = load_archives([result.path(n) for n in names], [layers_module(root)],
                                                 target="keras3", timeout=GENEROUS, jobs=1)
    return result


# ------------------------------------------------------------------------------------------------ Keras's errors


@pytest.mark.parametrize("archive", ARCHIVES)
@pytest.mark.keras
@pytest.mark.skipif(not HAVE_KERAS, reason="needs TensorFlow and Keras")
def test_unchanged_code_loads(saved: Saved, archive: str) -> None:
    outcome = saved.of("unchanged", archive)
    assert outcome == LoadOutcome(saved.path(archive), ok=True), outcome
    assert outcome_message(outcome) == "Keras loaded it"


def failed(outcome: LoadOutcome) -> str:
    """The outcome of a load that Keras refused: its message, after the checks every such outcome meets."""
    assert not outcome.ok and outcome.stage == "load" and outcome.failure == "error", outcome
    assert outcome.module == ""
    assert outcome.first_line == outcome.message.strip().splitlines()[0].strip()
    assert outcome.cause in outcome.message  # the innermost error is part of the full text
    return outcome_message(outcome)


@pytest.mark.keras
@pytest.mark.skipif(not HAVE_KERAS, reason="needs TensorFlow and Keras")
def test_renamed_argument(saved: Saved) -> None:
    for archive in ("functional.keras", "functional.json"):
        outcome = saved.of("renamed_argument", archive)
        # the nested model wraps the layer's error in one TypeError per level; the innermost is kept
        assert outcome.error_type == "TypeError"
        assert "could not be deserialized properly" in outcome.first_line
        assert outcome.cause_type == "TypeError"
        assert "unexpected keyword argument 'factor'" in outcome.cause
        assert failed(outcome).startswith("Keras could not load it: TypeError: ")
        assert "Scale.__init__() got an unexpected keyword argument 'factor'" in failed(outcome)
    # the subclassed model hands its unknown argument on to keras.Model, which names it
    outcome = saved.of("renamed_argument", "subclassed.keras")
    assert outcome.cause_type == "ValueError"
    assert failed(outcome) == "Keras could not load it: ValueError: Unrecognized keyword arguments passed to " \
                              "Block: {'units': 2}"


@pytest.mark.keras
@pytest.mark.skipif(not HAVE_KERAS, reason="needs TensorFlow and Keras")
def test_required_argument(saved: Saved) -> None:
    for archive in ("functional.keras", "functional.json"):
        message = failed(saved.of("required_argument", archive))
        assert message.endswith("TypeError: Scale.__init__() missing 1 required positional argument: 'offset'"), \
            message
    message = failed(saved.of("required_argument", "subclassed.keras"))
    assert "missing 1 required positional argument: 'depth'" in message, message


@pytest.mark.keras
@pytest.mark.skipif(not HAVE_KERAS, reason="needs TensorFlow and Keras")
def test_dropped_class(saved: Saved) -> None:
    for archive in ("functional.keras", "functional.json"):
        outcome = saved.of("dropped_class", archive)
        message = failed(outcome)
        assert message.startswith("Keras could not load it: TypeError: Could not locate class 'Scale'."), message
        # the config Keras appends is kept in the outcome, not in the message
        assert "Full object config" in outcome.message and "Full object config" not in message
    assert saved.of("dropped_class", "subclassed.keras").ok  # Block is still there


@pytest.mark.keras
@pytest.mark.skipif(not HAVE_KERAS, reason="needs TensorFlow and Keras")
def test_renamed_package(saved: Saved) -> None:
    for archive, name in (("functional.keras", "Scale"), ("functional.json", "Scale"), ("subclassed.keras", "Block")):
        message = failed(saved.of("renamed_package", archive))
        assert f"Could not locate class '{name}'" in message, message


@pytest.mark.keras
@pytest.mark.skipif(not HAVE_KERAS, reason="needs TensorFlow and Keras")
def test_a_json_file_that_is_no_keras_config(saved: Saved) -> None:
    outcome = saved.of("unchanged", "not_keras.json")
    assert outcome.error_type == "ValueError" and "holds no serialized Keras object" in outcome.message
    assert failed(outcome).startswith("Keras could not load it: ValueError: ")


@pytest.mark.keras
@pytest.mark.skipif(not HAVE_KERAS, reason="needs TensorFlow and Keras")
def test_a_load_that_ends_the_worker(saved: Saved) -> None:
    outcome = saved.of("unchanged", "exploder.json")
    assert (outcome.ok, outcome.stage, outcome.failure, outcome.error_type) == (False, "load", "crash", "")
    assert "exited with code 7" in outcome.message and "`load`" in outcome.message
    assert outcome_message(outcome) == f"Keras could not load it: {outcome.message}"


# ------------------------------------------------------------------------------------------------ imports that fail

STUCK = "import time\n\ntime.sleep(1000)\n"
EXITS = "import os\n\nos._exit(3)\n"
RAISES = "raise RuntimeError('the weights server is down')\n"


class FailingImports:
    def __init__(self) -> None:
        self.outcomes: dict[str, list[LoadOutcome]] = {}
        self.workers: dict[str, int] = {}  # workers started per case


@pytest.fixture(scope="module")
def failing_imports(saved: Saved, tmp_path_factory: pytest.TempPathFactory) -> FailingImports:
    """Two archives per case; the module that fails is imported after the (good) layers module."""
    base = tmp_path_factory.mktemp("failing")
    archives = [saved.path("functional.keras"), saved.path("subclassed.keras")]
    result = FailingImports()
    spawn = WorkerPool._spawn
    started: list[int] = []

    def counting(pool: WorkerPool) -> Any:
        started.append(1)
        return spawn(pool)

    WorkerPool._spawn = counting  # type: ignore[method-assign]
    try:
        for name, source in (("stuck", STUCK), ("exits", EXITS), ("raises", RAISES)):
            root = project(base / name, ORIGINAL, {f"{name}.py": source})
            modules = [layers_module(root), (name, str(root), str(root / f"{name}.py"))]
            timeout = SHORT if name == "stuck" else GENEROUS
            started.clear()
            result.outcomes[name] = load_archives(archives, modules, target="keras3", timeout=timeout, jobs=1)
            result.workers[name] = len(started)
    finally:
        WorkerPool._spawn = spawn  # type: ignore[method-assign]
    return result


def import_failures(failing: FailingImports, module: str, failure: str) -> list[LoadOutcome]:
    outcomes = failing.outcomes[module]
    for outcome in outcomes:
        assert (outcome.ok, outcome.stage, outcome.module, outcome.failure) == (False, "import", module, failure), \
            outcome
    # the second archive is not tried: it would fail (or hang) the same way
    assert outcomes[0].message == outcomes[1].message
    assert failing.workers[module] == 1
    return outcomes


@pytest.mark.keras
@pytest.mark.skipif(not HAVE_KERAS, reason="needs TensorFlow and Keras")
def test_an_import_that_hangs(failing_imports: FailingImports) -> None:
    first, _ = import_failures(failing_imports, "stuck", "timeout")
    assert f"no answer within --timeout {SHORT:g} s while in stage `import stuck`" in first.message
    assert outcome_message(first) == f"Keras could not load it: importing stuck failed: {first.message}"


@pytest.mark.keras
@pytest.mark.skipif(not HAVE_KERAS, reason="needs TensorFlow and Keras")
def test_an_import_that_exits(failing_imports: FailingImports) -> None:
    first, _ = import_failures(failing_imports, "exits", "crash")
    assert "exited with code 3 while in stage `import exits`" in first.message


@pytest.mark.keras
@pytest.mark.skipif(not HAVE_KERAS, reason="needs TensorFlow and Keras")
def test_an_import_that_raises(failing_imports: FailingImports) -> None:
    first, _ = import_failures(failing_imports, "raises", "error")
    assert (first.error_type, first.message) == ("RuntimeError", "the weights server is down")
    assert outcome_message(first) == \
        "Keras could not load it: importing raises raised RuntimeError: the weights server is down"


# ------------------------------------------------------------------------------------------------ tf-keras

HAVE_TF_KERAS = HAVE_KERAS and importlib.util.find_spec("tf_keras") is not None
SHIFT = """\
import tf_keras


@tf_keras.saving.register_keras_serializable(package="tdemo")
class Shift(tf_keras.layers.Layer):
    def __init__(self, amount=1.0, **kwargs):
        super().__init__(**kwargs)
        self.amount = amount

    def call(self, x):
        return x + self.amount

    def get_config(self):
        return {**super().get_config(), "amount": self.amount}
"""
SAVE_TF_KERAS = """
import os
import sys

os.environ["TF_USE_LEGACY_KERAS"] = "1"
sys.path.insert(0, sys.argv[1])
import tf_keras

from demo.layers import Shift

inputs = tf_keras.Input((3,))
model = tf_keras.Model(inputs, Shift(2.0, name="shift")(inputs))
model.save("tfk.keras")
with open("tfk.json", "w") as handle:
    handle.write(model.to_json())
"""


@pytest.mark.keras
@pytest.mark.tfkeras
@pytest.mark.skipif(not HAVE_TF_KERAS, reason="needs TensorFlow and tf-keras")
def test_tf_keras_models_load_with_tf_keras(tmp_path: Path) -> None:
    original = project(tmp_path / "original", SHIFT)
    renamed = project(tmp_path / "renamed", edited(SHIFT, ("amount=1.0", "offset=1.0"),
                                                    ("self.amount = amount", "self.amount = offset")))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", SAVE_TF_KERAS, str(original)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    archives = [str(tmp_path / "tfk.keras"), str(tmp_path / "tfk.json")]
    # both projects in one worker would share the registered name: one call each
    good = load_archives(archives, [layers_module(original)], target="tf-keras", timeout=GENEROUS, jobs=1)
    assert [o.ok for o in good] == [True, True], good
    bad = load_archives(archives, [layers_module(renamed)], target="tf-keras", timeout=GENEROUS, jobs=1)
    for outcome in bad:
        assert (outcome.ok, outcome.stage, outcome.error_type) == (False, "load", "TypeError"), outcome
        assert "Keyword argument not understood" in outcome.cause and "'amount'" in outcome.cause, outcome


# ------------------------------------------------------------------------------------------------ without Keras


def test_no_archives_start_no_worker() -> None:
    assert load_archives([], [("demo.layers", ".", "demo/layers.py")], target="keras3", timeout=1, jobs=2) == []


def test_a_worker_that_cannot_start_stops_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KERAS_BACKEND", "no-such-backend")  # Keras refuses at import, before TensorFlow loads
    with pytest.raises(WorkerStartError, match="could not start"):
        load_archives(["model.keras"], [], target="keras3", timeout=30, jobs=1)


def test_the_modules_import_nothing_heavy() -> None:
    code = ("import sys\nimport cfglint.saved.dynamic, cfglint.saved.history\n"
            "print([m for m in ('tensorflow', 'keras', 'numpy', 'tf_keras', 'libcst') if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_load_jobs_and_their_results_cross_the_pipe() -> None:
    job = LoadJob(3, "/models/a.keras", (("demo.layers", "/src", "/src/demo/layers.py"),))
    assert decode_job(encode(job)) == job
    check = Job(1, "demo.layers", "/src", "/src/demo/layers.py", "Scale", {"args": [1]})
    assert decode_job(encode(check)) == check  # the class jobs of `cfglint verify` are unchanged
    result = Result(3, "failed", problems=[Problem("CFG908", "load", "TypeError: x")],
                    raised=Raised("TypeError", "outer\nx", "ValueError", "x"))
    assert result_from(decode(encode(result))) == result
    assert result_from(decode(encode(Result(1, "verified")))) == Result(1, "verified")


def test_the_innermost_of_keras_wrapped_errors_is_found() -> None:
    def wrapped() -> None:
        try:
            raise ValueError("Unrecognized keyword arguments passed to Scale: {'factor': 3.0}")
        except ValueError as exc:
            try:
                raise TypeError(f"could not be deserialized.\n\nException encountered: {exc}")
            except TypeError as outer:
                raise TypeError(f"<class 'Functional'> could not be deserialized.\n\nException encountered: "
                                f"{outer}") from outer

    with pytest.raises(TypeError) as caught:
        wrapped()
    raised = raised_of(caught.value)
    assert raised.type == "TypeError" and raised.message.startswith("<class 'Functional'>")
    assert (raised.cause_type, raised.cause) == ("ValueError", "Unrecognized keyword arguments passed to Scale: "
                                                               "{'factor': 3.0}")


def test_an_unrelated_error_met_while_handling_is_not_the_cause() -> None:
    with pytest.raises(TypeError) as caught:
        try:
            raise KeyError("registry lookup")
        except KeyError:
            raise TypeError("Could not locate class 'Scale'.") from None
    assert caught.value.__context__ is not None
    assert raised_of(caught.value) == Raised("TypeError", "Could not locate class 'Scale'.", "TypeError",
                                             "Could not locate class 'Scale'.")


def test_messages() -> None:
    long = "Could not locate class 'Scale'. Make sure custom classes are registered. Full object config: {'a': 1}"
    outcome = LoadOutcome("m.keras", False, "load", "", "error", "TypeError", "outer\n" + long, "outer",
                          "TypeError", long)
    assert outcome_message(outcome) == \
        "Keras could not load it: TypeError: Could not locate class 'Scale'. Make sure custom classes are registered."
    huge = LoadOutcome("m.keras", False, "load", "", "error", "ValueError", "x" * 5000, "x", "ValueError",
                       "x" * 5000)
    assert outcome_message(huge).endswith(" [...]") and len(outcome_message(huge)) < 500
    multiline = LoadOutcome("m.keras", False, "load", "", "error", "ValueError", "a\n\n  b", "a", "ValueError",
                            "a\n\n  b")
    assert outcome_message(multiline) == "Keras could not load it: ValueError: a b"
