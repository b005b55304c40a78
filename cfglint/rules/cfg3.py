"""CFG3: the constructor accepts its own config, and Keras's automatic config can be written."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable

from cfglint.context import ClassContext
from cfglint.facts import Param, Value
from cfglint.finding import Severity, Target
from cfglint.keras_names import BASE_CONFIG_KEYS
from cfglint.keras_values import (
    DECODING_USES,
    NONBASIC_ANNOTATIONS,
    object_default,
)
from cfglint.rules.base import NOT_FIXED, FixSpec, Hit, Rule, bad, good
from cfglint.rules.cfg1 import both


def _lacks_base_keywords(ctx: ClassContext) -> bool:
    """The own `__init__` cannot take `name`/`trainable`/`dtype` (no `**kwargs`, not all named)."""
    init = ctx.cls.init
    if init is None or init.varkw is not None:
        return False
    return not {p.name for p in init.named_params} >= BASE_CONFIG_KEYS


class SuperConfigWithoutKwargs(Rule):
    code = "CFG301"
    name = "super-config-without-kwargs"
    summary = "The config carries `name`/`trainable`/`dtype`, but `__init__` has no `**kwargs` to take them back."
    what = ("Checks that a class whose config certainly carries base keys (`name`, `trainable`, `dtype`: from "
            "`super().get_config()`, a built-in parent's config, or written by a `get_config` in the class "
            "or a project base) has an `__init__` that accepts them. A `get_config` that returns a dict "
            "from elsewhere (`return self.config`) is not assumed to carry them.")
    why = ("`from_config` passes the base keys back to `__init__`: every reload fails with `TypeError: "
           "__init__() got an unexpected keyword argument 'name'` (Keras 3 Models: `Unable to revive "
           "model from config`). tf-keras Models are exempt: their `super().get_config()` is `{}`.")
    instead = "`def __init__(self, units, **kwargs): super().__init__(**kwargs)`."
    fix = FixSpec(
        "safe",
        title="Accept `**kwargs` and forward it to `super().__init__`",
        why=("Adds `**kwargs` to `__init__` and forwards it to the existing `super().__init__(...)` call; every "
             "call that worked before passes nothing through it. No fix when `__init__` calls no "
             "`super().__init__(...)` or that call already spreads another mapping."),
        planner="cfglint.fixes.kwargs:plan_accept",
        decider="cfglint.fixes.decide:decide_accept",
    )
    severity = both(Severity.ERROR)
    invalid = (
        bad("""
            import keras

            class Fixed(keras.layers.Layer):
                def __init__(self, units):
                    super().__init__()
                    self.units = units

                def get_config(self):
                    config = super().get_config()
                    config["units"] = self.units
                    return config
            """, (4, 9),
            fixed="""
            import keras

            class Fixed(keras.layers.Layer):
                def __init__(self, units, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units

                def get_config(self):
                    config = super().get_config()
                    config["units"] = self.units
                    return config
            """),
        bad("""
            from tensorflow.keras import layers

            class Fixed(layers.Dense):
                def __init__(self, units, name=None):
                    super().__init__(units, name=name)
            """, (4, 9),
            fixed="""
            from tensorflow.keras import layers

            class Fixed(layers.Dense):
                def __init__(self, units, name=None, **kwargs):
                    super().__init__(units, name=name, **kwargs)
            """),
        bad("""
            import keras

            class Base(keras.layers.Layer):
                def __init__(self, units=2, name=None, trainable=True, dtype=None):
                    super().__init__(name=name, trainable=trainable, dtype=dtype)
                    self.units = units

                def get_config(self):
                    return {"units": self.units, "name": self.name, "trainable": self.trainable,
                            "dtype": self.dtype}

            class Child(Base):
                def __init__(self, units=2):
                    super().__init__(units)
            """, (13, 9),
            fixed="""
            import keras

            class Base(keras.layers.Layer):
                def __init__(self, units=2, name=None, trainable=True, dtype=None):
                    super().__init__(name=name, trainable=trainable, dtype=dtype)
                    self.units = units

                def get_config(self):
                    return {"units": self.units, "name": self.name, "trainable": self.trainable,
                            "dtype": self.dtype}

            class Child(Base):
                def __init__(self, units=2, **kwargs):
                    super().__init__(units, **kwargs)
            """),
    )
    valid = (
        good("""
            import keras

            class Fixed(keras.layers.Layer):
                def __init__(self, units, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units

                def get_config(self):
                    config = super().get_config()
                    config["units"] = self.units
                    return config
            """),
        good("""
            import tf_keras as keras

            class Net(keras.Model):
                def __init__(self, units=3):
                    super().__init__()
                    self.units = units

                def get_config(self):
                    return {**super().get_config(), "units": self.units}
            """, target=Target.TF_KERAS),
        good("""
            import keras

            class Stored(keras.layers.Layer):
                def __init__(self, units=2):
                    super().__init__()
                    self.units = units
                    self.config = {"units": units}

                def get_config(self):
                    return self.config
            """),
        good("""
            import keras

            class Base(keras.layers.Layer):
                def __init__(self, rate, name=None, dtype=None):
                    super().__init__(name=name, dtype=dtype)
                    self.rate = rate

                def get_config(self):
                    return {"rate": self.rate, "name": self.name, "dtype": self.dtype}

            class Child(Base):
                def __init__(self, rate, axis=-1, name=None, dtype=None):
                    super().__init__(rate, name=name, dtype=dtype)
                    self.axis = axis

                def get_config(self):
                    return {**super().get_config(), "axis": self.axis}
            """),
    )

    def check_class(self, ctx: ClassContext) -> Iterable[Hit]:
        if not _lacks_base_keywords(ctx) or ctx.from_config is not None:
            return
        init = ctx.cls.init
        assert init is not None  # _lacks_base_keywords
        refused = sorted(_returned_base_keys(ctx, 0) - {p.name for p in init.named_params},
                         key=["name", "trainable", "dtype"].index)
        if refused:
            yield Hit(init.span, f"`get_config` returns {_and(refused)}, but `__init__` has no `**kwargs` to "
                                 f"accept {'it' if len(refused) == 1 else 'them'}")


def _returned_base_keys(ctx: ClassContext, start: int) -> set[str]:
    """The base keys (`name`, `trainable`, `dtype`) the config certainly carries, from `start` up the chain.

    A `get_config` adds the ones it writes itself, plus those of the parent's config when it certainly
    merges `super().get_config()`; a config it returns from somewhere unknown (`return self.config`)
    adds nothing. Keras's own configs carry all three (tf-keras Models: none); a class with no
    `get_config` above it uses the automatic config, which CFG302 covers.
    """
    for i in range(start, len(ctx.chain)):
        gc = ctx.chain[i].cls.get_config
        if gc is None:
            continue
        keys = set(gc.keys) & BASE_CONFIG_KEYS - set(gc.conditional)
        if gc.super_known:
            keys |= _returned_base_keys(ctx, i + 1) - gc.removed
        return keys
    if start == 0 and ctx.builtin_parent is None:
        return set()  # the automatic config: CFG302
    if ctx.is_model and not ctx.is_k3:
        return set()  # tf-keras: an overridden Model config gets `{}` from `super()`
    return set(BASE_CONFIG_KEYS)


def _and(names: list[str]) -> str:
    quoted = [f"`{n}`" for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


class AutoconfigWithoutKwargs(Rule):
    code = "CFG302"
    name = "autoconfig-without-kwargs"
    summary = "No `get_config` in the class's hierarchy, and `__init__` has no `**kwargs`."
    what = ("Checks classes that rely on Keras's automatic config (no `get_config` in the class or its "
            "project bases, no built-in parent), including `@dataclass` layers, for a `**kwargs` parameter.")
    why = ("Keras 3 adds `trainable` and `dtype` to the automatic config, so every reload fails with "
           "`TypeError: __init__() got an unexpected keyword argument 'trainable'`. tf-keras drops what "
           "`__init__` does not accept and only loses the layer's `name` (reported as info).")
    instead = "`def __init__(self, units, **kwargs): super().__init__(**kwargs)`."
    fix = FixSpec(
        "safe",
        title="Accept `**kwargs` and forward it to `super().__init__`",
        why=("Adds `**kwargs` to `__init__` and forwards it to the existing `super().__init__(...)` call; every "
             "call that worked before passes nothing through it. No fix for a `@dataclass` layer (it has no "
             "`__init__` to edit) or when `__init__` calls no `super().__init__(...)`."),
        planner="cfglint.fixes.kwargs:plan_accept",
        decider="cfglint.fixes.decide:decide_accept",
    )
    severity = {Target.KERAS3: Severity.ERROR, Target.TF_KERAS: Severity.INFO}
    invalid = (
        bad("""
            import keras

            class Auto(keras.layers.Layer):
                def __init__(self, units):
                    super().__init__()
                    self.units = units
            """, (4, 9),
            fixed="""
            import keras

            class Auto(keras.layers.Layer):
                def __init__(self, units, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units
            """),
        bad("""
            from dataclasses import dataclass
            from tensorflow import keras

            @dataclass(eq=False)
            class Cfg(keras.layers.Layer):
                units: int = 3

                def __post_init__(self):
                    super().__init__()
            """, (5, 7),
            fixed=NOT_FIXED),
        bad("""
            import tf_keras as keras

            class Auto(keras.layers.Layer):
                def __init__(self, units):
                    super().__init__()
                    self.units = units
            """, (4, 9), target=Target.TF_KERAS,
            fixed="""
            import tf_keras as keras

            class Auto(keras.layers.Layer):
                def __init__(self, units, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units
            """),
    )
    valid = (
        good("""
            import keras

            class Auto(keras.layers.Layer):
                def __init__(self, units, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units
            """),
        good("""
            from keras import layers as L

            class Explicit(L.Layer):
                def __init__(self, units):
                    super().__init__()
                    self.units = units

                def get_config(self):
                    return {"units": self.units}
            """),
    )

    def check_class(self, ctx: ClassContext) -> Iterable[Hit]:
        if ctx.has_config_override:
            return
        if ctx.cls.is_dataclass and ctx.cls.init is None:
            yield Hit(ctx.cls.span, "dataclass layer without `**kwargs`: its automatic config cannot be "
                                    "passed back to `__init__`")
        elif _lacks_base_keywords(ctx) and ctx.is_k3:
            yield Hit(ctx.cls.init.span, "`__init__` has no `**kwargs`: Keras's automatic config "  # type: ignore[union-attr]
                                         "(with `trainable` and `dtype`) cannot be passed back to it")
        elif _lacks_base_keywords(ctx):
            yield Hit(ctx.cls.init.span, "`__init__` has no `**kwargs`: tf-keras's automatic config "  # type: ignore[union-attr]
                                         "then drops the layer's `name`, so reloads rename it")


def _constructor_params(ctx: ClassContext) -> list[Param]:
    return ctx.init.named_params if ctx.init is not None else []


class ModelWithoutGetConfig(Rule):
    code = "CFG303"
    name = "model-without-get-config"
    summary = "A `keras.Model` subclass with constructor parameters and no `get_config`."
    what = "Flags `keras.Model` subclasses that take constructor arguments and do not define `get_config`."
    why = ("Keras 3 builds a Model's automatic config from the constructor's *defaults*, not the values "
           "passed (`M(units=7).get_config()` gives `units: 3`): `clone_model` and `.keras` reloads "
           "silently build a different model, or fail with a misleading `Layer 'dense' expected 2 "
           "variables, but received 0 variables during loading`; required parameters raise "
           "`NotImplementedError` at save time.")
    instead = "Define `get_config` returning every constructor argument (and `from_config` for object arguments)."
    fix = FixSpec(
        "unsafe",
        title="Write `get_config` from the constructor's arguments",
        why=("Writes `get_config` returning `super().get_config()` and every constructor argument, when "
             "`__init__` stores each one unchanged on `self` (otherwise no fix). Clones and reloads then build "
             "the model from the values passed instead of the defaults, a change in what running code builds; "
             "review it."),
        planner="cfglint.fixes.config_keys:plan_model_config",
        decider="cfglint.fixes.decide:decide_model_config",
    )
    severity = {Target.KERAS3: Severity.ERROR}
    invalid = (
        bad("""
            import keras

            class Net(keras.Model):
                def __init__(self, units=3, **kwargs):
                    super().__init__(**kwargs)
                    self.dense = keras.layers.Dense(units)

                def call(self, x):
                    return self.dense(x)
            """, (3, 7),
            fixed=NOT_FIXED),
        bad("""
            from keras import Model, layers

            class Tower(Model):
                def __init__(self, depth, width=8, **kwargs):
                    super().__init__(**kwargs)
                    self.blocks = [layers.Dense(width) for _ in range(depth)]
            """, (3, 7),
            fixed=NOT_FIXED),
        bad("""
            import keras

            class Tower(keras.Model):
                def __init__(self, depth=2, width=8, **kwargs):
                    super().__init__(**kwargs)
                    self.depth = depth
                    self.width = width
                    self.blocks = [keras.layers.Dense(width) for _ in range(depth)]

                def call(self, x):
                    for block in self.blocks:
                        x = block(x)
                    return x
            """, (3, 7),
            fixed="""
            import keras

            class Tower(keras.Model):
                def __init__(self, depth=2, width=8, **kwargs):
                    super().__init__(**kwargs)
                    self.depth = depth
                    self.width = width
                    self.blocks = [keras.layers.Dense(width) for _ in range(depth)]

                def call(self, x):
                    for block in self.blocks:
                        x = block(x)
                    return x

                def get_config(self):
                    config = super().get_config()
                    config.update({"depth": self.depth, "width": self.width})
                    return config
            """),
    )
    valid = (
        good("""
            import keras

            class Net(keras.Model):
                def __init__(self, units=3, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units
                    self.dense = keras.layers.Dense(units)

                def get_config(self):
                    return {**super().get_config(), "units": self.units}
            """),
        good("""
            import keras

            class Fixed(keras.Model):
                def __init__(self, **kwargs):
                    super().__init__(**kwargs)
                    self.dense = keras.layers.Dense(4)
            """),
    )

    def check_class(self, ctx: ClassContext) -> Iterable[Hit]:
        if not ctx.is_model or ctx.has_config_override or not _constructor_params(ctx):
            return
        if any(name.split(".")[-1] == "Sequential" for name, _ in ctx.hierarchy.keras_bases):
            return
        names = ", ".join(f"`{p.name}`" for p in _constructor_params(ctx))
        yield Hit(ctx.cls.span, f"Model subclass takes {names} but has no `get_config`; Keras 3 reloads it "
                                "with the defaults")


_NONBASIC_WORD = re.compile(r"\b(" + "|".join(NONBASIC_ANNOTATIONS) + r")\b")


def _alternatives(annotation: str) -> list[str]:
    """The members of a union annotation: `float | Tensor`, `Union[str, Callable]`, `Optional[Layer]`."""
    text = annotation.strip()
    for wrapper in ("typing.Union[", "Union[", "typing.Optional[", "Optional["):
        if text.startswith(wrapper) and text.endswith("]"):
            inner = _split_top(text[len(wrapper):-1], ",")
            return inner + (["None"] if "Optional" in wrapper else [])
    return _split_top(text, "|")


def _split_top(text: str, separator: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in text:
        if char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        if char == separator and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    return [*parts, current.strip()]


def _annotation_evidence(param: Param) -> tuple[str, bool] | None:
    """An annotation naming an object type; strong when no member of the union is a basic value."""
    annotation = param.annotation or ""
    members = [m for m in _alternatives(annotation) if m not in ("None", "NoneType")]
    objects = [m for m in members if _NONBASIC_WORD.search(m)]
    if not objects:
        return None
    default = param.default
    basic_default = default is not None and default.kind == "const" and default.ctype != "NoneType"
    return f"is annotated `{annotation}`", len(objects) == len(members) and not basic_default


def _nonbasic_evidence(ctx: ClassContext, param: Param) -> tuple[str, bool] | None:
    """Why a parameter may receive an object, and whether that is certain (strong) or only possible.

    Strong: the default is an object, the annotation admits only objects, the argument is called or
    built. Weak: it is handed to `activations.get`-style helpers (which take names too) or annotated
    with a union that also admits a basic value (`float | Tensor`).
    """
    by_default = object_default(param)
    if by_default is not None:
        return by_default, True
    uses = ctx.init.param_uses.get(param.name, set()) if ctx.init else set()
    if "called" in uses:
        return "is called", True
    if ".build()" in uses:
        return "is built (`.build()`)", True
    if ctx.init is not None:
        for attr, source in ctx.init.attrs_from_param.items():
            used = ctx.cls.attr_uses.get(attr, set()) & {"called", ".build()", ".built"}
            if source == param.name and used:
                how = "called" if "called" in used else "built"
                return f"is stored as `self.{attr}` and {how}", True
    annotated = _annotation_evidence(param)
    if annotated is not None and annotated[1]:
        return annotated
    for use in sorted(uses & DECODING_USES):
        return f"is passed to `{use}`, which also takes names", False
    return annotated


class AutoconfigNonbasicParam(Rule):
    code = "CFG304"
    name = "autoconfig-nonbasic-param"
    summary = "No `get_config`, and a parameter takes an object (callable, layer, array) Keras cannot record."
    what = ("In a class relying on Keras's automatic config, flags a constructor parameter that receives an "
            "object. A warning when that is certain (defaulted to an object, called, built, or annotated with "
            "object types only); information when it is only possible (handed to `activations.get`-style "
            "helpers, which also take names, or annotated with a union such as `float | Tensor`): callers "
            "that pass `\"relu\"` or `0.5` are fine. The message says which evidence was found.")
    why = ("The automatic config only works when every value passed is `str/int/float/bool/None` (or "
           "lists/dicts of them). Pass a function or a layer and `get_config()` raises `NotImplementedError: "
           "Object X was created by passing non-serializable argument values in __init__()`, so "
           "`model.save`, `to_json` and `clone_model` fail at save time. Keras 3 records defaults too, so a "
           "default that is an object fails even when callers pass nothing.")
    instead = ("Define `get_config` returning the serialized value (`activations.serialize(...)`, "
               "`serialize_keras_object(...)`) and a `from_config` that decodes it.")
    severity = both(Severity.WARNING)
    severity_note = "info when an object is only possible"
    invalid = (
        bad("""
            import keras

            class Gate(keras.layers.Layer):
                def __init__(self, activation=keras.activations.sigmoid, **kwargs):
                    super().__init__(**kwargs)
                    self.activation = keras.activations.get(activation)
            """, (4, 24)),
        bad("""
            from typing import Callable
            from tensorflow import keras

            class Apply(keras.layers.Layer):
                def __init__(self, fn: Callable, **kwargs):
                    super().__init__(**kwargs)
                    self.fn = fn

                def call(self, x):
                    return self.fn(x)
            """, (5, 24)),
        bad("""
            import keras

            class Gate(keras.layers.Layer):
                def __init__(self, activation="sigmoid", **kwargs):
                    super().__init__(**kwargs)
                    self.activation = keras.activations.get(activation)
            """, (4, 24)),
    )
    valid = (
        good("""
            import keras

            class Gate(keras.layers.Layer):
                def __init__(self, units=4, scale=1.0, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units
                    self.scale = scale
            """),
        good("""
            import keras

            class Gate(keras.layers.Layer):
                def __init__(self, activation="sigmoid", **kwargs):
                    super().__init__(**kwargs)
                    self.activation_name = activation
                    self.activation = keras.activations.get(activation)

                def get_config(self):
                    return {**super().get_config(), "activation": self.activation_name}
            """),
    )

    def check_class(self, ctx: ClassContext) -> Iterable[Hit]:
        if ctx.has_config_override or ctx.cls.init is None:
            return
        if ctx.is_model and ctx.is_k3:
            return  # CFG303 already asks for a get_config
        for param in ctx.cls.init.named_params:
            found = _nonbasic_evidence(ctx, param)
            if found is None:
                continue
            evidence, certain = found
            if certain:
                yield Hit(param.span, f"`{param.name}` {evidence}: Keras's automatic config cannot serialize "
                                      "it; define `get_config`")
            else:
                yield Hit(param.span, f"`{param.name}` {evidence}: if a caller passes an object instead, Keras's "
                                      "automatic config cannot serialize it; define `get_config`",
                          severity=Severity.INFO)


class VarargsAutoconfig(Rule):
    code = "CFG305"
    name = "varargs-autoconfig"
    summary = "`*args` or positional-only parameters in a class without `get_config`."
    what = ("Flags positional-only parameters, and `*args` that `__init__` reads, in a class that relies on "
            "the automatic config. `*args` that `__init__` never reads, or only hands to Keras's own "
            "`Layer.__init__`, is not reported: Keras 3's `Layer.__init__` takes keywords only, so no working "
            "call passes positional values through it, and tf-keras's base config carries back what its "
            "`Layer.__init__` takes positionally.")
    why = ("Keras 3 refuses to write the config once a positional value reaches `*args`: `NotImplementedError: "
           "... positional only or variadic positional arguments` at save or clone time (positional-only "
           "parameters: always). tf-keras silently drops the `*args` values, so the reloaded layer differs; "
           "positional-only parameters fail reload with `missing 1 required positional argument`.")
    instead = "Use named parameters (`def __init__(self, units, rate=0.1, **kwargs)`), or define `get_config`."
    severity = both(Severity.ERROR)
    invalid = (
        bad("""
            import keras

            class Star(keras.layers.Layer):
                def __init__(self, *args, **kwargs):
                    super().__init__(**kwargs)
                    self.sizes = args
            """, (4, 25)),
        bad("""
            from tensorflow.keras.layers import Layer

            class PosOnly(Layer):
                def __init__(self, units, /, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units
            """, (4, 24)),
    )
    valid = (
        good("""
            import keras

            class Named(keras.layers.Layer):
                def __init__(self, sizes=(), **kwargs):
                    super().__init__(**kwargs)
                    self.sizes = sizes
            """),
        good("""
            from tensorflow.keras.layers import Layer

            class PosOnly(Layer):
                def __init__(self, units, /, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units

                def get_config(self):
                    return {**super().get_config(), "units": self.units}

                @classmethod
                def from_config(cls, config):
                    units = config.pop("units")
                    return cls(units, **config)
            """),
        good("""
            import keras

            class Forward(keras.layers.Layer):
                def __init__(self, units=3, *args, **kwargs):
                    super().__init__(*args, **kwargs)
                    self.units = units
            """),
        good("""
            import tf_keras as keras

            class Ignored(keras.layers.Layer):
                def __init__(self, units=3, *args, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units
            """, target=Target.TF_KERAS),
    )

    def check_class(self, ctx: ClassContext) -> Iterable[Hit]:
        init = ctx.cls.init
        if ctx.has_config_override or init is None:
            return
        if init.vararg is not None and ctx.is_model and init.vararg.name in _star_forwarded(init):
            return  # `Model.__init__(self, *args, **kwargs)`: functional construction, its own config
        if init.vararg is not None and not _carries_positional_values(ctx):
            return
        if init.vararg is not None:
            yield Hit(init.vararg.span, f"`*{init.vararg.name}` cannot be recorded by Keras's automatic config")
            return
        first = next((p for p in init.params if p.kind == "posonly"), None)
        if first is not None:
            yield Hit(first.span, f"positional-only `{first.name}` cannot be recorded by Keras's automatic config")


def _star_forwarded(init) -> set[str]:  # type: ignore[no-untyped-def]
    return {name for call in init.super_calls for name in call.star_names}


def _carries_positional_values(ctx: ClassContext) -> bool:
    """Whether `*args` can hold values a working call passed: `__init__` reads it, or hands it to a
    project base's `__init__` (whose positional parameters then take them)."""
    init = ctx.cls.init
    assert init is not None and init.vararg is not None
    if init.vararg_reads:
        return True
    forwarded = init.vararg.name in _star_forwarded(init)
    return forwarded and any(ancestor.cls.init is not None for ancestor in ctx.chain[1:])


class KwargsSwallowed(Rule):
    code = "CFG306"
    name = "kwargs-swallowed"
    summary = "`**kwargs` is accepted but never reaches `super().__init__`."
    what = ("Flags a `super().__init__(...)` call that does not forward the var-keyword parameter, when a "
            "caller's `name`/`dtype` or a key of the layer's own config can only land in it. Not reported "
            "when the var-keyword feeds another call (`Conv2D(filters, **conv_kwargs)`: it is meant for a "
            "sub-layer), or when `__init__` takes `name`, `dtype` and every config key by name or pops them "
            "(then the var-keyword only absorbs extra keywords on purpose).")
    why = ("The caller's `name`, `trainable` and `dtype` are silently ignored, and so is every reload's: "
           "a layer created with `dtype=\"float64\"` reloads as float32, and a misspelled config key is "
           "swallowed instead of failing (the reloaded layer then uses a default).")
    instead = "`super().__init__(**kwargs)`."
    fix = FixSpec(
        "unsafe",
        title="Forward `**kwargs` to `super().__init__`",
        why=("Adds `**kwargs` to the `super().__init__(...)` call. Keywords that were silently ignored (`name`, "
             "`dtype`, a misspelled argument) then take effect or raise, which changes what working code does. "
             "No fix when the call already spreads another mapping."),
        planner="cfglint.fixes.kwargs:plan_forward",
        decider="cfglint.fixes.decide:decide_forward",
    )
    severity = both(Severity.WARNING)
    invalid = (
        bad("""
            import keras

            class Swallow(keras.layers.Layer):
                def __init__(self, units, **kwargs):
                    super().__init__()
                    self.units = units
            """, (5, 9),
            fixed="""
            import keras

            class Swallow(keras.layers.Layer):
                def __init__(self, units, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units
            """),
        bad("""
            import tensorflow as tf

            class Swallow(tf.keras.layers.Layer):
                def __init__(self, units, **options):
                    tf.keras.layers.Layer.__init__(self, name="swallow")
                    self.units = units
            """, (5, 9),
            fixed="""
            import tensorflow as tf

            class Swallow(tf.keras.layers.Layer):
                def __init__(self, units, **options):
                    tf.keras.layers.Layer.__init__(self, name="swallow", **options)
                    self.units = units
            """),
    )
    valid = (
        good("""
            import keras

            class Forward(keras.layers.Layer):
                def __init__(self, units, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units
            """),
        good("""
            import tensorflow as tf

            class Selected(tf.keras.layers.Layer):
                def __init__(self, units, **kwargs):
                    base = {k: v for k, v in kwargs.items() if k in ("name", "dtype", "trainable")}
                    super().__init__(**base)
                    self.units = units
            """),
        good("""
            import keras

            class Head(keras.layers.Layer):
                def __init__(self, units, name=None, **dense_kwargs):
                    super().__init__(name=name)
                    self.dense = keras.layers.Dense(units, **dense_kwargs)

                def call(self, x):
                    return self.dense(x)
            """),
        good("""
            import keras

            class Hashed(keras.layers.Layer):
                def __init__(self, bins, name=None, dtype=None, **kwargs):
                    super().__init__(name=name, dtype=dtype)
                    self.bins = bins

                def get_config(self):
                    return {"bins": self.bins, "name": self.name, "dtype": self.dtype}
            """),
    )

    def check_class(self, ctx: ClassContext) -> Iterable[Hit]:
        init = ctx.cls.init
        if init is None or init.varkw is None or not init.super_calls:
            return
        carriers = {init.varkw.name} | init.kwargs_aliases
        if any(call.names & carriers for call in init.super_calls):
            return
        if _feeds_another_call(ctx, carriers):
            return  # `Dense(units, **dense_kwargs)`: the var-keyword is meant for a sub-layer
        lost = _swallowed_keys(ctx)
        if lost:
            yield Hit(init.super_calls[0].span, f"`**{init.varkw.name}` is accepted but not passed to "
                                                f"`super().__init__`: {_and(lost)} can only land in it")


def _feeds_another_call(ctx: ClassContext, carriers: set[str]) -> bool:
    """The var-keyword (or a dict built from it) is spread into a call other than the parent's `__init__`,
    in `__init__` itself or later through the attribute that stores it."""
    init = ctx.cls.init
    assert init is not None
    if init.spread_into_calls & carriers:
        return True
    return any(param in carriers and "**" in ctx.cls.attr_uses.get(attr, set())
               for attr, param in init.attrs_from_param.items())


def _swallowed_keys(ctx: ClassContext) -> list[str]:
    """The base keys `name`/`dtype`, and every key of the layer's own config, that no named parameter
    takes and `__init__` does not pop: a caller or a reload passes them into the var-keyword."""
    init = ctx.cls.init
    assert init is not None
    coverage = ctx.coverage
    keys = {"name", "dtype"} | (coverage.keys - {"activity_regularizer"})
    taken = {p.name for p in init.named_params} | init.kwargs_popped
    order = ["name", "trainable", "dtype"]
    return sorted(keys - taken, key=lambda k: (order.index(k) if k in order else len(order), k))


class VarkwNotNamedKwargs(Rule):
    code = "CFG307"
    name = "varkw-not-named-kwargs"
    summary = "No `get_config`, and the var-keyword parameter is not named `kwargs`."
    what = "Flags a var-keyword parameter named other than `kwargs` in a class using the automatic config."
    why = ("Keras's automatic config keeps `name` only when `__init__` has a `name` parameter or a "
           "var-keyword literally named `kwargs`: with `**kw` every reload (`from_config`, `clone_model`, "
           "`load_model`) renames the layer.")
    instead = "Rename it: `def __init__(self, units, **kwargs)`."
    severity = both(Severity.INFO)
    invalid = (
        bad("""
            import keras

            class Short(keras.layers.Layer):
                def __init__(self, units, **kw):
                    super().__init__(**kw)
                    self.units = units
            """, (4, 33)),
        bad("""
            from tensorflow.keras import layers

            class Opts(layers.Layer):
                def __init__(self, rate=0.1, **options):
                    super().__init__(**options)
                    self.rate = rate
            """, (4, 36)),
    )
    valid = (
        good("""
            import keras

            class Named(keras.layers.Layer):
                def __init__(self, units, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units
            """),
        good("""
            from tensorflow.keras import layers

            class WithName(layers.Layer):
                def __init__(self, rate=0.1, name=None, **kw):
                    super().__init__(name=name, **kw)
                    self.rate = rate
            """),
    )

    def check_class(self, ctx: ClassContext) -> Iterable[Hit]:
        init = ctx.cls.init
        if ctx.has_config_override or init is None or init.varkw is None or init.varkw.name == "kwargs":
            return
        if init.param("name") is not None:
            return
        yield Hit(init.varkw.span, f"`**{init.varkw.name}` is not named `kwargs`: Keras's automatic config "
                                   "drops the layer's `name`")


class FixedParentKwarg(Rule):
    code = "CFG308"
    name = "fixed-parent-kwarg"
    summary = "`super().__init__` fixes a keyword that the parent's config also returns."
    what = ("Flags a keyword fixed in `super().__init__(..., use_bias=False, **kwargs)` when the inherited "
            "config returns that key too and neither `__init__` pops it from `kwargs` nor `get_config` "
            "removes it (`del config[\"k\"]`, `config.pop(\"k\", None)`, also inside an `assert` or an `if` "
            "test). Keywords Keras's base `Layer` takes but no config returns under that key are never passed "
            "twice: `autocast`, `input_shape`, `input_dim` (unless the parent is an `Embedding`), and in "
            "tf-keras also `batch_size`, `dynamic`, `weights`; under project classes on the base `Layer`, "
            "`activity_regularizer` comes back only when Keras 3 has one set (never in tf-keras). When the "
            "parent writes the key only on some paths (`if self.scale is not None:`), it is reported only if "
            "the fixed value certainly passes that guard (`scale=2.0`, not `scale=None`); a guard it cannot "
            "evaluate is not reported. A built-in parent reached through Keras's private modules "
            "(`keras.src...ConvLSTM`, `BaseConv`) is an implementation base whose config need not return what "
            "it takes: not reported either.")
    why = ("`from_config` passes the key back through `**kwargs` while `__init__` also fixes it: every reload "
           "fails with `TypeError: __init__() got multiple values for keyword argument 'use_bias'`.")
    instead = ("`kwargs.pop(\"use_bias\", None)` before `super().__init__`, or `config.pop(\"use_bias\")` in "
               "`get_config`.")
    severity = both(Severity.ERROR)
    invalid = (
        bad("""
            import keras

            class NoBias(keras.layers.Dense):
                def __init__(self, units, **kwargs):
                    super().__init__(units, use_bias=False, **kwargs)
            """, (5, 33)),
        bad("""
            from tensorflow import keras

            class Named(keras.layers.Layer):
                def __init__(self, units, **kwargs):
                    super().__init__(name="named", **kwargs)
                    self.units = units

                def get_config(self):
                    return {**super().get_config(), "units": self.units}
            """, (5, 26)),
        bad("""
            import keras

            class Scaled(keras.layers.Layer):
                def __init__(self, units=2, scale=None, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units
                    self.scale = scale

                def get_config(self):
                    config = {**super().get_config(), "units": self.units}
                    if self.scale is not None:
                        config["scale"] = self.scale
                    return config

            class Doubled(Scaled):
                def __init__(self, units=2, **kwargs):
                    super().__init__(units, scale=2.0, **kwargs)
            """, (17, 33)),
        bad("""
            import keras

            class Penalized(keras.layers.Layer):
                def __init__(self, units=2, **kwargs):
                    super().__init__(activity_regularizer="l2", **kwargs)
                    self.units = units

                def get_config(self):
                    return {**super().get_config(), "units": self.units}
            """, (5, 26)),
    )
    valid = (
        good("""
            import keras

            class NoBias(keras.layers.Dense):
                def __init__(self, units, **kwargs):
                    kwargs.pop("use_bias", None)
                    super().__init__(units, use_bias=False, **kwargs)
            """),
        good("""
            import keras

            class NoBias(keras.layers.Dense):
                def __init__(self, units, **kwargs):
                    super().__init__(units, use_bias=False, **kwargs)

                def get_config(self):
                    config = super().get_config()
                    del config["use_bias"]
                    return config
            """),
        good("""
            import keras

            class Scaled(keras.layers.Layer):
                def __init__(self, units=2, scale=None, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units
                    self.scale = scale

                def get_config(self):
                    config = {**super().get_config(), "units": self.units}
                    if self.scale is not None:
                        config["scale"] = self.scale
                    return config

            class Unscaled(Scaled):
                def __init__(self, units=2, **kwargs):
                    super().__init__(units, scale=None, **kwargs)
            """),
        good("""
            from keras.src.layers.rnn.conv_lstm import ConvLSTM

            class ConvLSTM1DLike(ConvLSTM):
                def __init__(self, filters=2, kernel_size=3, **kwargs):
                    super().__init__(rank=1, filters=filters, kernel_size=kernel_size, **kwargs)
            """),
        good("""
            import gnnkit

            class PoolingConv(gnnkit.layers.ConvolutionBase):
                def __init__(self, *, receiver_tag=0, units=2, **kwargs):
                    super().__init__(receiver_tag=receiver_tag, receiver_feature=None, sender_edge_feature=None,
                                     **kwargs)
                    self._units = units

                def get_config(self):
                    config = super().get_config()
                    assert config.pop("receiver_feature", None) is None
                    if config.pop("sender_edge_feature", None) is not None:
                        raise ValueError("sender_edge_feature must be None")
                    return dict(**config, units=self._units)
            """, files=(
            ("gnnkit/__init__.py", "from gnnkit import layers\n"),
            ("gnnkit/layers/__init__.py", "from gnnkit.layers import convolution_base\n\n"
                                          "ConvolutionBase = convolution_base.ConvolutionBase\n"),
            ("gnnkit/layers/convolution_base.py", textwrap.dedent("""
                import keras


                class ConvolutionBase(keras.layers.Layer):
                    def __init__(self, *, receiver_tag=0, receiver_feature="hidden", sender_edge_feature=None,
                                 **kwargs):
                        super().__init__(**kwargs)
                        self._receiver_tag = receiver_tag
                        self._receiver_feature = receiver_feature
                        self._sender_edge_feature = sender_edge_feature

                    def get_config(self):
                        return dict(receiver_tag=self._receiver_tag, receiver_feature=self._receiver_feature,
                                    sender_edge_feature=self._sender_edge_feature, **super().get_config())
                """).lstrip()),
        )),
        good("""
            import keras

            class FullPrecision(keras.layers.Layer):
                def __init__(self, units=2, **kwargs):
                    super().__init__(autocast=False, activity_regularizer=None, input_shape=(4,), **kwargs)
                    self.units = units

                def get_config(self):
                    return {**super().get_config(), "units": self.units}
            """),
        good("""
            import keras

            class Projection(keras.layers.Dense):
                def __init__(self, units=2, **kwargs):
                    super().__init__(units, autocast=False, **kwargs)
            """),
        good("""
            import tf_keras as keras

            class FullPrecision(keras.layers.Layer):
                def __init__(self, units=2, **kwargs):
                    super().__init__(autocast=False, activity_regularizer="l2", input_shape=(4,), **kwargs)
                    self.units = units

                def get_config(self):
                    return {**super().get_config(), "units": self.units}
            """, target=Target.TF_KERAS),
    )

    def check_class(self, ctx: ClassContext) -> Iterable[Hit]:
        init = ctx.cls.init
        if init is None or init.varkw is None:
            return
        own = {p.name for p in init.named_params}
        removed = ctx.get_config.removed if ctx.get_config is not None else set()
        fc = ctx.from_config
        returned = ctx.coverage.keys
        for call in init.super_calls:
            if init.varkw.name not in call.star_names:
                continue
            for keyword, span in call.keyword_spans.items():
                if keyword in own or keyword in init.kwargs_popped or keyword in removed:
                    continue
                if fc is not None and (fc.opaque or keyword in fc.supplied):
                    continue
                if keyword in returned and _emitted(ctx, keyword, call.keywords[keyword]):
                    yield Hit(span, f"`{keyword}` is fixed here and also returned by the parent's config: "
                                    "reloads pass it twice")


def _emitted(ctx: ClassContext, key: str, fixed: Value) -> bool:
    """Whether the config returns `key` when `__init__` fixes its argument to `fixed`.

    Yes unless the `get_config` that writes it does so only on some paths: then only when the guard
    is `self.<attr> is [not] None` or the truth of `self.<attr>`, `<attr>` holds that argument, and the
    fixed value certainly passes it (`None` never passes `is not None`).
    """
    for ancestor in ctx.chain:
        gc = ancestor.cls.get_config
        if gc is None or key not in gc.keys:
            continue
        if key not in gc.conditional:
            return True
        attr, test = gc.conditional[key]
        if not attr or not _holds_argument(ctx, attr, key):
            return False  # written on some paths only, under a condition we cannot evaluate
        return _passes(test, fixed) is True
    return _keras_returns(ctx, key, fixed)


# Keywords Keras's base `Layer.__init__` takes that no config gives back under that key (measured on Keras
# 3.15 and tf-keras 2.21, for the base `Layer` and for built-ins such as `Dense`, `Conv2D`, `LSTM`,
# `Dropout`): fixing one cannot pass it twice. tf-keras turns `input_shape`/`input_dim` into a
# `batch_input_shape` key, which its `__init__` accepts beside them; `batch_input_shape` itself comes back.
UNRETURNED_BASE_KEYWORDS = {
    Target.KERAS3: frozenset({"autocast", "input_shape", "input_dim"}),
    Target.TF_KERAS: frozenset({"autocast", "input_shape", "input_dim", "batch_size", "dynamic", "weights"}),
}


def _keras_returns(ctx: ClassContext, key: str, fixed: Value) -> bool:
    """Whether Keras's own part of the config (a built-in parent's, or the base `Layer`'s under the
    project classes) returns a key `__init__` fixes in `super().__init__`."""
    builtin = ctx.config_builtin or ""
    if _internal(builtin):
        return False
    name = builtin.rsplit(".", 1)[-1]
    if key in UNRETURNED_BASE_KEYWORDS[ctx.target] and not (key == "input_dim" and name.endswith("Embedding")):
        return False  # (`Embedding` takes `input_dim` as its own argument and returns it)
    if name in ("", "Layer") and key in ("activity_regularizer", "implementation"):
        # the base Layer: Keras 3 returns an activity regularizer only when one is set, tf-keras never
        # (built-ins such as `Conv2D` and `LSTM` return theirs even when it is None)
        return key == "activity_regularizer" and ctx.is_k3 and _passes("not_none", fixed) is True
    return True


INTERNAL_PREFIXES = ("keras.src.", "tf_keras.src.", "tensorflow.python.")


def _internal(dotted: str) -> bool:
    """A Keras class reached through Keras's private modules (`keras.src.layers.rnn.conv_lstm.ConvLSTM`,
    `BaseConv`): an implementation base, with no promise that its config returns what it takes. The
    public layers (`keras.layers.Dense`) do."""
    return dotted.startswith(INTERNAL_PREFIXES) or any(part.startswith("_") for part in dotted.split("."))


def _holds_argument(ctx: ClassContext, attr: str, key: str) -> bool:
    return any(ancestor.cls.init is not None and ancestor.cls.init.attrs_from_param.get(attr) == key
               for ancestor in ctx.chain)


FALSY_CONSTANTS = frozenset({"None", "False", "0", "0.0", "''", '""', "b''"})


def _passes(test: str, value: Value) -> bool | None:
    """Whether a guard on an attribute holding `value` is true (None: cannot tell)."""
    falsy: bool | None
    if value.kind == "const":
        is_none, falsy = value.ctype == "NoneType", value.text in FALSY_CONSTANTS
    elif value.kind in ("call", "lambda", "fstring", "list", "tuple", "set", "dict"):
        is_none = False
        falsy = not value.items if value.kind in ("list", "tuple", "set") else None
    else:
        return None
    if test == "none":
        return is_none
    if test == "not_none":
        return not is_none
    if falsy is None:
        return None
    return not falsy if test == "truthy" else falsy if test == "falsy" else None


RULES = (SuperConfigWithoutKwargs, AutoconfigWithoutKwargs, ModelWithoutGetConfig, AutoconfigNonbasicParam,
         VarargsAutoconfig, KwargsSwallowed, VarkwNotNamedKwargs, FixedParentKwarg)
