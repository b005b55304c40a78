"""CFG3: the constructor accepts its own config, and Keras's automatic config can be written."""

from __future__ import annotations

from typing import Iterable

from cfglint.context import ClassContext
from cfglint.facts import Param
from cfglint.finding import Severity, Target
from cfglint.keras_names import BASE_CONFIG_KEYS
from cfglint.rules._values import builds_layer, is_array
from cfglint.rules.base import Hit, Rule, bad, good
from cfglint.rules.cfg1 import both


def _lacks_base_keywords(ctx: ClassContext) -> bool:
    """The own `__init__` cannot take `name`/`trainable`/`dtype` (no `**kwargs`, not all named)."""
    init = ctx.cls.init
    if init is None or init.varkw is not None:
        return False
    return not BASE_CONFIG_KEYS <= {p.name for p in init.named_params}


class SuperConfigWithoutKwargs(Rule):
    code = "CFG301"
    name = "super-config-without-kwargs"
    summary = "`get_config` merges `super().get_config()`, but `__init__` has no `**kwargs` to take it back."
    what = ("Checks that a class whose config carries the base keys (`name`, `trainable`, `dtype`, from "
            "`super().get_config()` or a built-in parent's config) has an `__init__` that accepts them.")
    why = ("`from_config` passes the base keys back to `__init__`: every reload fails with `TypeError: "
           "__init__() got an unexpected keyword argument 'name'` (Keras 3 Models: `Unable to revive "
           "model from config`). tf-keras Models are exempt: their `super().get_config()` is `{}`.")
    instead = "`def __init__(self, units, **kwargs): super().__init__(**kwargs)`."
    fix_safety = ("Safe fix: adds `**kwargs` to `__init__` and forwards it to the existing "
                  "`super().__init__(...)` call; every call that worked before passes nothing through it. No "
                  "fix when `__init__` calls no `super().__init__(...)` or that call already spreads another "
                  "mapping.")
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
            """, (4, 9)),
        bad("""
            from tensorflow.keras import layers

            class Fixed(layers.Dense):
                def __init__(self, units, name=None):
                    super().__init__(units, name=name)
            """, (4, 9)),
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
    )

    def check_class(self, ctx: ClassContext) -> Iterable[Hit]:
        if not _lacks_base_keywords(ctx) or ctx.from_config is not None:
            return
        if ctx.is_model and not ctx.is_k3:
            return
        gc = ctx.get_config
        merges = gc.merges_super if gc is not None else ctx.builtin_parent is not None
        if merges:
            yield Hit(ctx.cls.init.span, "`get_config` returns `name`, `trainable` and `dtype`, but "  # type: ignore[union-attr]
                                         "`__init__` has no `**kwargs` to accept them")


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
    fix_safety = ("Safe fix: adds `**kwargs` to `__init__` and forwards it to the existing "
                  "`super().__init__(...)` call; every call that worked before passes nothing through it. No "
                  "fix for a `@dataclass` layer (it has no `__init__` to edit) or when `__init__` calls no "
                  "`super().__init__(...)`.")
    severity = {Target.KERAS3: Severity.ERROR, Target.TF_KERAS: Severity.INFO}
    invalid = (
        bad("""
            import keras

            class Auto(keras.layers.Layer):
                def __init__(self, units):
                    super().__init__()
                    self.units = units
            """, (4, 9)),
        bad("""
            from dataclasses import dataclass
            from tensorflow import keras

            @dataclass(eq=False)
            class Cfg(keras.layers.Layer):
                units: int = 3

                def __post_init__(self):
                    super().__init__()
            """, (5, 7)),
        bad("""
            import tf_keras as keras

            class Auto(keras.layers.Layer):
                def __init__(self, units):
                    super().__init__()
                    self.units = units
            """, (4, 9), target=Target.TF_KERAS),
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
    fix_safety = ("Unsafe fix (`--unsafe-fixes`): writes `get_config` returning `super().get_config()` and every "
                  "constructor argument, when `__init__` stores each one unchanged on `self` (otherwise no fix). "
                  "Clones and reloads then build the model from the values passed instead of the defaults, a "
                  "change in what running code builds; review it.")
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
            """, (3, 7)),
        bad("""
            from keras import Model, layers

            class Tower(Model):
                def __init__(self, depth, width=8, **kwargs):
                    super().__init__(**kwargs)
                    self.blocks = [layers.Dense(width) for _ in range(depth)]
            """, (3, 7)),
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


NONBASIC_ANNOTATIONS = ("Callable", "Layer", "Model", "ndarray", "Tensor", "Initializer", "Regularizer",
                        "Constraint", "Variable", "Array", "function", "Sequential")
NONBASIC_USES = {"called", ".build()", "activations.get", "initializers.get", "regularizers.get",
                 "constraints.get", "saving.deserialize_keras_object", "layers.deserialize"}


def _nonbasic_evidence(ctx: ClassContext, param: Param) -> str | None:
    annotation = param.annotation or ""
    if any(word in annotation for word in NONBASIC_ANNOTATIONS):
        return f"annotated `{annotation}`"
    default = param.default
    if default is not None:
        if default.kind == "lambda":
            return "defaults to a lambda"
        if default.kind == "dotted" and default.text.split(".")[-1][:1].islower() and "." in default.text:
            return f"defaults to the function `{default.text}`"
        if builds_layer(default) or is_array(default):
            return "defaults to an object"
    uses = ctx.init.param_uses.get(param.name, set()) if ctx.init else set()
    for use in sorted(uses & NONBASIC_USES):
        return "is called" if use == "called" else f"is passed to `{use}`" if "." in use and "(" not in use \
            else f"is used with `{use}`"
    if ctx.init is not None:
        for attr, source in ctx.init.attrs_from_param.items():
            used = ctx.cls.attr_uses.get(attr, set()) & {"called", ".build()", ".built"}
            if source == param.name and used:
                how = "called" if "called" in used else "built"
                return f"is stored as `self.{attr}` and {how}"
    return None


class AutoconfigNonbasicParam(Rule):
    code = "CFG304"
    name = "autoconfig-nonbasic-param"
    summary = "No `get_config`, and a parameter evidently takes a non-basic value (callable, layer, array)."
    what = ("In a class relying on Keras's automatic config, flags a constructor parameter that evidently "
            "receives an object: annotated as a callable/layer/array, defaulted to one, called, built, or "
            "handed to `activations.get`-style helpers.")
    why = ("The automatic config only works when every value passed is `str/int/float/bool/None` (or "
           "lists/dicts of them). Pass a function or a layer and `get_config()` raises `NotImplementedError: "
           "Object X was created by passing non-serializable argument values in __init__()`, so "
           "`model.save`, `to_json` and `clone_model` fail at save time.")
    instead = ("Define `get_config` returning the serialized value (`activations.serialize(...)`, "
               "`serialize_keras_object(...)`) and a `from_config` that decodes it.")
    severity = both(Severity.WARNING)
    invalid = (
        bad("""
            import keras

            class Gate(keras.layers.Layer):
                def __init__(self, activation="sigmoid", **kwargs):
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
            evidence = _nonbasic_evidence(ctx, param)
            if evidence:
                yield Hit(param.span, f"`{param.name}` {evidence}: Keras's automatic config cannot "
                                      "serialize it; define `get_config`")


class VarargsAutoconfig(Rule):
    code = "CFG305"
    name = "varargs-autoconfig"
    summary = "`*args` or positional-only parameters in a class without `get_config`."
    what = "Flags `*args` and positional-only parameters in a class that relies on the automatic config."
    why = ("Keras 3 refuses to write the config: `NotImplementedError: ... positional only or variadic "
           "positional arguments` at save or clone time. tf-keras silently drops the `*args` values, so the "
           "reloaded layer differs; positional-only parameters fail reload with `missing 1 required "
           "positional argument`.")
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
    )

    def check_class(self, ctx: ClassContext) -> Iterable[Hit]:
        init = ctx.cls.init
        if ctx.has_config_override or init is None:
            return
        if init.vararg is not None and ctx.is_model and init.vararg.name in _star_forwarded(init):
            return  # `Model.__init__(self, *args, **kwargs)`: functional construction, its own config
        if init.vararg is not None:
            yield Hit(init.vararg.span, f"`*{init.vararg.name}` cannot be recorded by Keras's automatic config")
            return
        first = next((p for p in init.params if p.kind == "posonly"), None)
        if first is not None:
            yield Hit(first.span, f"positional-only `{first.name}` cannot be recorded by Keras's automatic config")


def _star_forwarded(init) -> set[str]:  # type: ignore[no-untyped-def]
    return {name for call in init.super_calls for name in call.star_names}


class KwargsSwallowed(Rule):
    code = "CFG306"
    name = "kwargs-swallowed"
    summary = "`**kwargs` is accepted but never reaches `super().__init__`."
    what = "Flags a `super().__init__(...)` call that does not forward the var-keyword parameter."
    why = ("The caller's `name`, `trainable` and `dtype` are silently ignored, and so is every reload's: "
           "a layer created with `dtype=\"float64\"` reloads as float32, and a misspelled config key is "
           "swallowed instead of failing (the reloaded layer then uses a default).")
    instead = "`super().__init__(**kwargs)`."
    fix_safety = ("Unsafe fix (`--unsafe-fixes`): adds `**kwargs` to the `super().__init__(...)` call. Keywords "
                  "that were silently ignored (`name`, `dtype`, a misspelled argument) then take effect or raise, "
                  "which changes what working code does. No fix when the call already spreads another mapping.")
    severity = both(Severity.WARNING)
    invalid = (
        bad("""
            import keras

            class Swallow(keras.layers.Layer):
                def __init__(self, units, **kwargs):
                    super().__init__()
                    self.units = units
            """, (5, 9)),
        bad("""
            import tensorflow as tf

            class Swallow(tf.keras.layers.Layer):
                def __init__(self, units, **options):
                    tf.keras.layers.Layer.__init__(self, name="swallow")
                    self.units = units
            """, (5, 9)),
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
    )

    def check_class(self, ctx: ClassContext) -> Iterable[Hit]:
        init = ctx.cls.init
        if init is None or init.varkw is None or not init.super_calls:
            return
        carriers = {init.varkw.name} | init.kwargs_aliases
        if not any(call.names & carriers for call in init.super_calls):
            yield Hit(init.super_calls[0].span,
                      f"`**{init.varkw.name}` is accepted but not passed to `super().__init__`")


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
            "removes it.")
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
    )

    def check_class(self, ctx: ClassContext) -> Iterable[Hit]:
        init = ctx.cls.init
        if init is None or init.varkw is None:
            return
        own = {p.name for p in init.named_params}
        removed = ctx.get_config.removed if ctx.get_config is not None else set()
        fc = ctx.from_config
        if (ctx.builtin_parent or "").split(".")[-1].startswith("Base"):
            return  # Keras's internal abstract bases (BaseConv...) do not return all their arguments
        returned = ctx.coverage.keys
        for call in init.super_calls:
            if init.varkw.name not in call.star_names:
                continue
            for keyword, span in call.keyword_spans.items():
                if keyword in own or keyword in init.kwargs_popped or keyword in removed:
                    continue
                if fc is not None and (fc.opaque or keyword in fc.supplied):
                    continue
                if keyword in returned:
                    yield Hit(span, f"`{keyword}` is fixed here and also returned by the parent's config: "
                                    "reloads pass it twice")


RULES = (SuperConfigWithoutKwargs, AutoconfigWithoutKwargs, ModelWithoutGetConfig, AutoconfigNonbasicParam,
         VarargsAutoconfig, KwargsSwallowed, VarkwNotNamedKwargs, FixedParentKwarg)
