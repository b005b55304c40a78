"""The round trip a layer must survive, stage by stage (runs inside a worker, Keras imported).

Each stage that fails gives one `Problem` with its CFG9xx code and the exception, and the stages that
depend on it are not run. The order is the one a reload goes through: construct and build, `get_config`,
plain-JSON serialization, deserialization and `from_config`, config equality, every passed argument
reflected in the config (with every argument at a non-default value), outputs and weights after
copying them, no shared variables, and a `.keras` save and load of a model holding the layer.
"""

from __future__ import annotations

import inspect
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cfglint.verify import examples as ex
from cfglint.verify.private_json import json  # a user's patch of `json` must not change a verdict
from cfglint.verify.protocol import Problem

RTOL, ATOL = 1e-5, 1e-6


class Skip(Exception):
    """The class cannot be checked (abstract, or no way to construct it); not a failure."""


@dataclass
class Outcome:
    problems: list[Problem] = field(default_factory=list)
    skipped: str = ""

    def fail(self, code: str, stage: str, exc_or_text: BaseException | str) -> None:
        """Record a failed stage; a second failure under the same code joins the first finding
        (one finding per defect: `from_config` and `deserialize_keras_object` usually fail alike)."""
        text = exc_or_text if isinstance(exc_or_text, str) else describe(exc_or_text)
        for i, problem in enumerate(self.problems):
            if problem.code == code:
                if stage not in problem.stage.split(", ") and _cause(text) != _cause(problem.message):
                    self.problems[i] = Problem(code, f"{problem.stage}, {stage}", f"{problem.message}; {text}")
                elif stage not in problem.stage.split(", "):
                    self.problems[i] = Problem(code, f"{problem.stage}, {stage}", problem.message)
                return
        self.problems.append(Problem(code, stage, text))

    def failed(self, code: str) -> bool:
        return any(p.code == code for p in self.problems)


ANSI = re.compile(r"\x1b\[[0-9;]*m")
ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")  # object addresses make output differ run to run


def clean(text: str) -> str:
    return ADDRESS.sub("", ANSI.sub("", text))


def _cause(text: str) -> str:
    """The innermost error of a Keras message ("... Exception encountered: <cause>")."""
    return text.rsplit("Exception encountered:", 1)[-1].strip()


def describe(exc: BaseException, limit: int = 400) -> str:
    text = clean(" ".join(str(exc).split()))
    if len(text) > limit:
        cause = text.rfind("Exception encountered:")
        text = text[: limit // 2] + " [...] " + text[cause:cause + limit // 2] if cause > limit // 2 \
            else text[:limit] + " [...]"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def normalise(value: Any) -> Any:
    """A config value as JSON gives it back (tuples become lists; objects become their repr)."""
    return json.loads(json.dumps(value, default=repr))


class LayerCheck:
    """Checks one Layer or Model class. `keras` is the Keras module in use (keras or tf_keras)."""

    def __init__(self, keras: Any, cls: type, example: ex.UserExample | None, workdir: str) -> None:
        self.keras = keras
        self.cls: Any = cls  # a Keras class: `from_config` and the rest are not known statically
        self.example = example
        self.workdir = workdir
        self.outcome = Outcome()
        self.is_model = issubclass(cls, keras.Model)
        self._inputs: Any = None

    # ------------------------------------------------------------------ driver
    def run(self) -> Outcome:
        try:
            layer, construction, inputs = self.construct()
        except Skip as why:
            self.outcome.skipped = str(why)
            return self.outcome
        self._inputs = inputs
        config = self.stage_get_config(layer)
        if config is None:
            return self.outcome
        self.stage_arguments_reflected(construction)
        if inputs is None:  # abstract (`call` raises NotImplementedError): the config stages only
            revived = self.stage_from_config(layer, config)
            if revived is not None:
                self.stage_config_drift(layer, revived)
            if not self.outcome.problems:
                self.outcome.skipped = "abstract: `call` raises NotImplementedError (its config round-trips)"
            return self.outcome
        if self.is_model:
            self.model_round_trips(layer, inputs)
            return self.outcome
        revived = self.stage_from_config(layer, config)
        if revived is not None:
            self.stage_config_drift(layer, revived)
            self.stage_equivalent(layer, revived, inputs)
        if not self.outcome.failed("CFG903") and not self.outcome.failed("CFG902"):
            self.stage_save_load(construction, inputs, layer)  # would fail again for the same reason
        return self.outcome

    # ------------------------------------------------------------------ construct and build
    def construct(self) -> tuple[Any, ex.Construction, Any]:
        """An instance called on the first input that works (inputs None: `call` is abstract)."""
        try:
            construction = ex.constructor_kwargs(self.cls, self.example, keras=self.keras)
        except ValueError as exc:  # an example value that cannot be revived
            self.outcome.fail("CFG900", "construct", exc)
            raise Skip("its example cannot be used") from None
        if construction.missing:
            missing = ", ".join(construction.missing)
            self.outcome.fail("CFG900", "construct", f"no value known for required argument(s) {missing}; "
                              "add an example in [tool.cfglint.verify.examples]")
            raise Skip(f"needs an example for {missing}")
        try:
            layer = self.cls(*construction.args, **construction.kwargs)
        except Exception as exc:
            call = f"{self.cls.__name__}(**{construction.kwargs!r})"
            self.outcome.fail("CFG900", "construct", f"{call} raised {describe(exc)}")
            raise Skip("could not be constructed") from None
        errors = []
        for shape, dtype in ex.input_candidates(self.cls, layer, self.example):
            inputs = ex.make_input(self.keras, shape, dtype)
            try:
                self.call(layer, inputs)
                return layer, construction, inputs
            except NotImplementedError:
                return layer, construction, None  # abstract: no forward pass to compare
            except Exception as exc:
                errors.append(f"{shape} {dtype}: {describe(exc, 160)}")
                # a failed call may leave it half-built: start again from a fresh instance
                layer = self.cls(*construction.args, **construction.new_kwargs())
        self.outcome.fail("CFG900", "build", "could not be called on any input tried; add `input_shape` to its "
                          "example. Tried " + "; ".join(errors))
        raise Skip("no input shape worked")

    def call(self, layer: Any, inputs: Any) -> Any:
        try:
            accepts_training = "training" in inspect.signature(layer.call).parameters
        except (TypeError, ValueError):
            accepts_training = False
        return layer(inputs, training=False) if accepts_training else layer(inputs)

    # ------------------------------------------------------------------ config stages
    def stage_get_config(self, layer: Any) -> dict[str, Any] | None:
        try:
            config = layer.get_config()
        except Exception as exc:
            self.outcome.fail("CFG901", "get_config", exc)
            return None
        if not isinstance(config, dict):
            self.outcome.fail("CFG901", "get_config", f"returned {type(config).__name__}, not a dict")
            return None
        try:
            serialized = self.keras.saving.serialize_keras_object(layer)
            json.dumps(serialized)
        except Exception as exc:
            self.outcome.fail("CFG902", "serialize", exc)
        return config

    def stage_from_config(self, layer: Any, config: dict[str, Any]) -> Any | None:
        """`deserialize_keras_object` of the JSON text, then `cls.from_config(get_config())`."""
        custom = {self.cls.__name__: self.cls}
        try:
            text = json.dumps(self.keras.saving.serialize_keras_object(layer))
        except Exception:
            text = None
        if text is not None:
            try:
                revived = self.keras.saving.deserialize_keras_object(json.loads(text), custom_objects=custom)
                self.rebuild(layer, revived)
            except Exception as exc:
                self.outcome.fail("CFG903", "deserialize_keras_object", exc)
        try:
            revived = self.cls.from_config(layer.get_config())
            self.rebuild(layer, revived)
            return revived
        except Exception as exc:
            self.outcome.fail("CFG903", "from_config", exc)
            return None

    def rebuild(self, original: Any, revived: Any) -> None:
        """Call a revived layer on the input the original was built with (errors surface here)."""
        inputs = self._inputs
        if inputs is not None and not getattr(revived, "built", False):
            self.call(revived, inputs)

    def stage_config_drift(self, layer: Any, revived: Any) -> None:
        try:
            before, after = normalise(layer.get_config()), normalise(revived.get_config())
        except Exception as exc:
            self.outcome.fail("CFG904", "config after from_config", exc)
            return
        changed = sorted(k for k in set(before) | set(after) if k != "name" and before.get(k) != after.get(k))
        if changed:
            parts = [f"`{k}`: {before.get(k)!r} -> {after.get(k)!r}" for k in changed[:4]]
            self.outcome.fail("CFG904", "config after from_config",
                              "the revived layer's config differs: " + ", ".join(parts))
        for attr in ("name", "trainable"):
            if getattr(layer, attr, None) != getattr(revived, attr, None):
                self.outcome.fail("CFG904", "config after from_config",
                                  f"`{attr}` is {getattr(layer, attr)!r} but {getattr(revived, attr)!r} "
                                  "after from_config")
        if _dtype_name(layer) != _dtype_name(revived):
            self.outcome.fail("CFG904", "config after from_config",
                              f"dtype is {_dtype_name(layer)} but {_dtype_name(revived)} after from_config")

    def stage_arguments_reflected(self, construction: ex.Construction) -> None:
        """Build a second instance with every argument at a non-default value: each must be in its config."""
        changed = ex.nondefault_kwargs(self.cls, construction, keras=self.keras)
        if not changed:
            return
        configs = self._configs_with(construction, changed)
        for key, value in changed.items():
            config = configs.get(key)
            if config is None:
                continue
            if key in construction.kwargs and construction.kwargs[key] == value:
                continue
            if key not in config:
                self.outcome.fail("CFG904", "arguments in config",
                                  f"argument `{key}={value!r}` is not in the config: a reload uses the default")
            elif _plain(value) and normalise(config[key]) != normalise(value) \
                    and not _same_serialized(config[key], value):
                self.outcome.fail("CFG904", "arguments in config",
                                  f"argument `{key}={value!r}` appears in the config as {clean(repr(config[key]))}")

    def _configs_with(self, construction: ex.Construction, changed: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """The config of an instance built with the changed arguments, per argument: all at once, or
        (when the layer refuses that combination) one argument at a time."""
        def config_for(kwargs: dict[str, Any]) -> dict[str, Any] | None:
            try:
                config: dict[str, Any] = self.cls(*construction.args, **kwargs).get_config()
                return config
            except Exception:
                return None

        together = config_for(changed)
        if together is not None:
            return {key: together for key in changed}
        configs = {}
        for key, value in changed.items():
            alone = config_for({**construction.new_kwargs(), key: value})
            if alone is not None:
                configs[key] = alone
        return configs

    # ------------------------------------------------------------------ behaviour
    def stage_equivalent(self, layer: Any, revived: Any, inputs: Any) -> None:
        import numpy as np

        try:
            if not revived.built:
                self.call(revived, inputs)
        except Exception as exc:
            self.outcome.fail("CFG905", "build revived", exc)
            return
        shapes = [tuple(w.shape) for w in layer.get_weights()]
        revived_shapes = [tuple(w.shape) for w in revived.get_weights()]
        if shapes != revived_shapes:
            self.outcome.fail("CFG905", "weights",
                              f"weight shapes differ: {shapes} vs {revived_shapes} after from_config")
            return
        shared = _shared_variables(layer, revived)
        if shared:
            self.outcome.fail("CFG906", "shared state",
                              f"the revived layer shares {shared} variable(s) with the original")
        try:
            revived.set_weights(layer.get_weights())
            expected = _numpy(self.call(layer, inputs))
            got = _numpy(self.call(revived, inputs))
        except Exception as exc:
            self.outcome.fail("CFG905", "forward", exc)
            return
        if not _allclose(expected, got):
            self.outcome.fail("CFG905", "forward", "outputs differ after copying the weights into the revived layer")
        try:
            losses = [float(np.sum(_numpy(x))) for x in layer.losses]
            revived_losses = [float(np.sum(_numpy(x))) for x in revived.losses]
        except Exception:
            return
        if len(losses) != len(revived_losses) or not np.allclose(losses, revived_losses, rtol=RTOL, atol=ATOL):
            self.outcome.fail("CFG905", "losses", f"losses differ: {losses} vs {revived_losses}")

    def stage_save_load(self, construction: ex.Construction, inputs: Any, original: Any) -> None:
        """A `.keras` save and load of a functional model holding a fresh instance of the layer."""
        keras = self.keras
        try:
            layer = self.cls(*construction.args, **construction.new_kwargs())
            tensor = keras.Input(shape=inputs.shape[1:], dtype=str(inputs.dtype))
            model = keras.Model(tensor, layer(tensor))
            expected = _numpy(model(inputs, training=False))
        except Exception:
            return
        path = os.path.join(self.workdir, f"{self.cls.__name__}.keras")
        try:
            model.save(path)
            loaded = keras.models.load_model(path, custom_objects={self.cls.__name__: self.cls})
            got = _numpy(loaded(inputs, training=False))
        except Exception as exc:
            self.outcome.fail("CFG907", ".keras save/load", exc)
            return
        finally:
            if os.path.exists(path):
                os.remove(path)
        if not _allclose(expected, got):
            self.outcome.fail("CFG907", ".keras save/load", "the reloaded model computes different outputs")

    def model_round_trips(self, model: Any, inputs: Any) -> None:
        """For Model subclasses: `from_config`, `clone_model` and `.keras` save/load, outputs compared."""
        keras = self.keras
        expected = _numpy(self.call(model, inputs))
        custom = {self.cls.__name__: self.cls}
        trips: tuple[tuple[str, str, Callable[[], Any]], ...] = (
            ("CFG903", "from_config", lambda: self.cls.from_config(model.get_config())),
            ("CFG903", "clone_model", lambda: keras.models.clone_model(model)),
        )
        for code, stage, make in trips:
            try:
                other = make()
                self.call(other, inputs)
                other.set_weights(model.get_weights())
                got = _numpy(self.call(other, inputs))
            except Exception as exc:
                self.outcome.fail(code, stage, exc)
                continue
            if not _allclose(expected, got):
                self.outcome.fail("CFG905", stage, f"outputs differ after {stage} and copying the weights")
        path = os.path.join(self.workdir, f"{self.cls.__name__}.keras")
        try:
            model.save(path)
            loaded = keras.models.load_model(path, custom_objects=custom)
            got = _numpy(self.call(loaded, inputs))
        except Exception as exc:
            self.outcome.fail("CFG907", ".keras save/load", exc)
            return
        finally:
            if os.path.exists(path):
                os.remove(path)
        if not _allclose(expected, got):
            self.outcome.fail("CFG907", ".keras save/load", "the reloaded model computes different outputs")


def _dtype_name(layer: Any) -> str:
    policy = getattr(layer, "dtype_policy", None)
    return str(getattr(policy, "name", None) or getattr(layer, "dtype", None))


def _plain(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool, type(None), list, tuple, dict))


def _same_serialized(stored: Any, value: Any) -> bool:
    """`"relu"` passed, `{"class_name": "relu", ...}` or `"relu"` stored: the same thing."""
    if isinstance(stored, dict) and isinstance(value, str):
        names = (stored.get("config"), stored.get("class_name"), stored.get("registered_name"))
        return any(isinstance(n, str) and _squash(n) == _squash(value) for n in names)
    return False


def _squash(name: str) -> str:
    """`he_normal` and `HeNormal` name the same initializer."""
    return name.replace("_", "").lower()


def _numpy(value: Any) -> Any:
    import numpy as np

    if isinstance(value, (list, tuple)):
        return [_numpy(v) for v in value]
    if isinstance(value, dict):
        return {k: _numpy(v) for k, v in value.items()}
    return np.asarray(value)


def _allclose(a: Any, b: Any) -> bool:
    import numpy as np

    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_allclose(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_allclose(a[k], b[k]) for k in a)
    try:
        return a.shape == b.shape and bool(np.allclose(a, b, rtol=RTOL, atol=ATOL, equal_nan=True))
    except (TypeError, ValueError, AttributeError):
        return False


def _shared_variables(a: Any, b: Any) -> int:
    ids = {id(v) for v in a.weights}
    return sum(1 for v in b.weights if id(v) in ids)


def run_check(keras: Any, cls: type, example: ex.UserExample | None) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="cfglint-verify-") as workdir:
        return LayerCheck(keras, cls, example, workdir).run()
