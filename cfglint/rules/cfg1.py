"""CFG1: `get_config` covers the constructor, and returns a dict Keras can feed back to it."""

from __future__ import annotations

from typing import Iterable

from cfglint.context import ClassContext
from cfglint.facts import Param
from cfglint.finding import Severity, Target
from cfglint.keras_names import BASE_CONFIG_KEYS
from cfglint.rules.base import Hit, Rule, bad, good


def both(severity: Severity) -> dict[Target, Severity]:
    return {Target.KERAS3: severity, Target.TF_KERAS: severity}


def _uncovered_params(ctx: ClassContext) -> Iterable[tuple[Param, bool]]:
    """Constructor parameters that no config key (or `from_config`) gives back, with `own` = the
    parameter is in this class's own `__init__` (else it is inherited and reported on `get_config`)."""
    cls = ctx.cls
    if cls.is_dataclass or (cls.init is None and cls.get_config is None):
        return
    if not ctx.has_config_override or ctx.init is None or not ctx.coverage.complete:
        return
    if ctx.get_config is not None and ctx.get_config.abstract:
        return
    for param in ctx.init.named_params:
        if param.name in BASE_CONFIG_KEYS or ctx.covers(param):
            continue
        yield param, cls.init is not None


def _missing_hits(ctx: ClassContext, required: bool) -> Iterable[Hit]:
    for param, own in _uncovered_params(ctx):
        if param.required != required:
            continue
        span = param.span if own else ctx.cls.get_config.span  # type: ignore[union-attr]
        yield Hit(span, f"`{param.name}` is an `__init__` argument missing from `get_config`")


class MissingRequiredParam(Rule):
    code = "CFG101"
    name = "missing-required-param"
    summary = "A required `__init__` argument is not a key of the config `get_config` returns."
    what = ("Checks that every required constructor argument of a Layer or Model whose `get_config` is "
            "overridden (in the class, a project base class, or a built-in Keras parent such as `Dense`) "
            "appears as a key of the returned config, unless `from_config` supplies it.")
    why = ("Keras rebuilds a layer with `cls(**config)`. Once `get_config` is overridden Keras checks "
           "nothing at save time, so the model saves fine and every reload fails: `from_config`, "
           "`clone_model`, `model_from_json` and `keras.models.load_model` raise `TypeError: ... missing 1 "
           "required positional argument: 'units'`.")
    instead = "Return every constructor argument under its parameter name: `config.update({\"units\": self.units})`."
    fix_safety = ("Safe fix: adds the argument to the dict `get_config` returns, under its own name, from the "
                  "attribute `__init__` stores it in unchanged (`\"units\": self.units`); a class that inherits "
                  "its config gets a `get_config` merging `super().get_config()`. Without the key every reload "
                  "raises, so no working code depends on its absence. No fix when that attribute cannot be named "
                  "with confidence: the argument is transformed or reassigned, the attribute is set elsewhere too, "
                  "or the value is evidently an object (a layer, a callable, an array) or used as a tuple; and no "
                  "`get_config` is written over Keras's automatic config (a class whose chain defines none, such "
                  "as one under tf-keras's `AbstractRNNCell`), which would drop the arguments it records.")
    severity = both(Severity.ERROR)
    invalid = (
        bad("""
            import keras

            class Scale(keras.layers.Layer):
                def __init__(self, units, scale=1.0, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units
                    self.scale = scale

                def get_config(self):
                    config = super().get_config()
                    config.update({"scale": self.scale})
                    return config
            """, (4, 24)),
        bad("""
            from tensorflow.keras import layers

            class Projection(layers.Dense):
                def __init__(self, units, groups, **kwargs):
                    super().__init__(units, **kwargs)
                    self.groups = groups
            """, (4, 31)),
        bad("""
            from keras import layers as L

            class Base(L.Layer):
                def __init__(self, units, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units

                def get_config(self):
                    return {**super().get_config(), "units": self.units}

            class Gated(Base):
                def __init__(self, units, gate, **kwargs):
                    super().__init__(units, **kwargs)
                    self.gate = gate
            """, (12, 31)),
    )
    valid = (
        good("""
            import keras

            class Scale(keras.layers.Layer):
                def __init__(self, units, scale=1.0, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units
                    self.scale = scale

                def get_config(self):
                    config = super().get_config()
                    config.update({"units": self.units, "scale": self.scale})
                    return config
            """),
        good("""
            import tensorflow as tf

            class Projection(tf.keras.layers.Dense):
                def __init__(self, units, groups, **kwargs):
                    super().__init__(units, **kwargs)
                    self.groups = groups

                def get_config(self):
                    config = super().get_config()
                    config["groups"] = self.groups
                    return config
            """),
        good("""
            import keras

            class Supplied(keras.layers.Layer):
                def __init__(self, units, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units

                def get_config(self):
                    return super().get_config()

                @classmethod
                def from_config(cls, config):
                    return cls(units=8, **config)
            """),
        good("""
            import keras

            class Dynamic(keras.layers.Layer):
                def __init__(self, units, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units

                def get_config(self):
                    config = super().get_config()
                    for key in ("units",):
                        config[key] = getattr(self, key)
                    return config
            """),
    )

    def check_class(self, ctx: ClassContext) -> Iterable[Hit]:
        return _missing_hits(ctx, required=True)


class MissingDefaultedParam(Rule):
    code = "CFG102"
    name = "missing-defaulted-param"
    summary = "An `__init__` argument with a default is not a key of the config `get_config` returns."
    what = ("Checks that every constructor argument with a default value appears in the config of a "
            "class whose `get_config` is overridden (here, in a project base class, or a built-in parent).")
    why = ("Nothing fails: `from_config`, `clone_model` and `load_model` rebuild the layer with the "
           "*default* instead of the value it was created with, so the reloaded model silently computes "
           "something else (and a later change of the default changes old saved models too).")
    instead = "Return the argument under its own name: `config[\"scale\"] = self.scale`."
    fix_safety = ("Safe fix: adds the argument to the dict `get_config` returns, from the attribute `__init__` "
                  "stores it in unchanged, on the same conditions as CFG101. The only behaviour that changes is "
                  "what a reload builds: the layer as it was created instead of one with the default, which is "
                  "what the config is for; creating, calling, training and saving the layer are unchanged.")
    severity = both(Severity.WARNING)
    invalid = (
        bad("""
            import keras

            class Scale(keras.layers.Layer):
                def __init__(self, units, scale=1.0, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units
                    self.scale = scale

                def get_config(self):
                    config = super().get_config()
                    config.update({"units": self.units})
                    return config
            """, (4, 31)),
        bad("""
            import tf_keras as keras

            class Residual(keras.layers.Dense):
                def __init__(self, units, alpha=0.5, **kwargs):
                    super().__init__(units=units, **kwargs)
                    self.alpha = alpha
            """, (4, 31), target=Target.TF_KERAS),
    )
    valid = (
        good("""
            import keras

            class Scale(keras.layers.Layer):
                def __init__(self, units, scale=1.0, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units
                    self.scale = scale

                def get_config(self):
                    return {**super().get_config(), "units": self.units, "scale": self.scale}
            """),
        good("""
            import tf_keras as keras

            class Residual(keras.layers.Dense):
                def __init__(self, units, alpha=0.5, **kwargs):
                    super().__init__(units=units, **kwargs)
                    self.alpha = alpha

                def get_config(self):
                    return dict(super().get_config(), alpha=self.alpha)
            """, target=Target.TF_KERAS),
        good("""
            from keras import layers

            class Auto(layers.Layer):
                def __init__(self, units, scale=1.0, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units
                    self.scale = scale
            """),
    )

    def check_class(self, ctx: ClassContext) -> Iterable[Hit]:
        return _missing_hits(ctx, required=False)


class UnknownConfigKey(Rule):
    code = "CFG103"
    name = "unknown-config-key"
    summary = "A config key is not an `__init__` argument, and no `from_config` translates it."
    what = ("Checks that each key `get_config` adds is accepted by the constructor: an `__init__` "
            "parameter, a key `__init__` pops from `**kwargs`, or a keyword Keras's base layer accepts "
            "(`name`, `trainable`, `dtype`, ...). Silent when `from_config` is overridden.")
    why = ("`from_config` calls `cls(**config)`. Keras 3 raises `ValueError: Unrecognized keyword arguments "
           "passed to X: {'n_units': 5}` (wrapped in `TypeError: Error when deserializing class 'X'`), "
           "tf-keras `TypeError: ('Keyword argument not understood:', 'n_units')`; a renamed key also "
           "leaves the real argument missing.")
    instead = ("Name each key after the parameter it feeds, or pop the extra key in `__init__` "
               "(`kwargs.pop(\"output_dim\", None)`), or translate it in a `from_config` classmethod.")
    severity = both(Severity.ERROR)
    invalid = (
        bad("""
            import keras

            class Renamed(keras.layers.Layer):
                def __init__(self, units, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units

                def get_config(self):
                    config = super().get_config()
                    config.update({"n_units": self.units, "units": self.units})
                    return config
            """, (10, 24)),
        bad("""
            from tensorflow.keras.layers import Layer

            class Extra(Layer):
                def __init__(self, units, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units

                def get_config(self):
                    config = super().get_config()
                    config["units"] = self.units
                    config["output_dim"] = self.units * 2
                    return config
            """, (11, 16)),
    )
    valid = (
        good("""
            from tensorflow.keras.layers import Layer

            class Extra(Layer):
                def __init__(self, units, **kwargs):
                    kwargs.pop("output_dim", None)
                    super().__init__(**kwargs)
                    self.units = units

                def get_config(self):
                    config = super().get_config()
                    config["units"] = self.units
                    config["output_dim"] = self.units * 2
                    return config
            """),
        good("""
            import keras

            class Renamed(keras.layers.Layer):
                def __init__(self, units, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units

                def get_config(self):
                    return {**super().get_config(), "n_units": self.units}

                @classmethod
                def from_config(cls, config):
                    config["units"] = config.pop("n_units")
                    return cls(**config)
            """),
    )

    def check_class(self, ctx: ClassContext) -> Iterable[Hit]:
        if ctx.cls.get_config is None or ctx.from_config is not None:
            return
        accepted = ctx.accepted_keywords()
        if accepted is None:
            return
        for key, entry in ctx.own_keys.items():
            if key not in accepted:
                yield Hit(entry.span, f"config key `{key}` is not an argument of `__init__`")


class GetConfigWithoutSuper(Rule):
    code = "CFG104"
    name = "get-config-without-super"
    summary = "`get_config` neither merges `super().get_config()` nor sets name, trainable and dtype."
    what = ("Checks that an overridden `get_config` starts from `super().get_config()`, which carries the "
            "layer's `name`, `trainable` and `dtype`.")
    why = ("Every reload path (`from_config`, `clone_model`, `load_model`) then rebuilds the layer with a "
           "fresh name, `trainable=True` and the default dtype: a frozen layer trains again, a float64 "
           "layer computes in float32. No error is raised. (tf-keras Models are exempt: their "
           "`super().get_config()` is `{}` anyway.)")
    instead = "`config = super().get_config()`, then `config.update({...})` and `return config`."
    fix_safety = ("Unsafe fix (`--unsafe-fixes`): starts the returned dict from `super().get_config()`. The "
                  "config then carries `name`, `trainable` and `dtype` (and a built-in parent's arguments), and "
                  "every reload passes them to `__init__`: what working reloads build changes (a frozen layer "
                  "reloads frozen), and `__init__` must accept `**kwargs` (CFG301 reports it when it does not).")
    severity = both(Severity.WARNING)
    invalid = (
        bad("""
            import keras

            class Plain(keras.layers.Layer):
                def __init__(self, units, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units

                def get_config(self):
                    return {"units": self.units}
            """, (8, 9)),
        bad("""
            import tensorflow as tf

            class Plain(tf.keras.layers.Layer):
                def __init__(self, units, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units

                def get_config(self):
                    config = {"units": self.units, "name": self.name}
                    return config
            """, (8, 9)),
    )
    valid = (
        good("""
            import keras

            class Plain(keras.layers.Layer):
                def __init__(self, units, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units

                def get_config(self):
                    base = super().get_config()
                    return dict(list(base.items()) + list({"units": self.units}.items()))
            """),
        good("""
            import tf_keras as keras

            class Net(keras.Model):
                def __init__(self, units=3, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units

                def get_config(self):
                    return {"units": self.units}
            """, target=Target.TF_KERAS),
    )

    def check_class(self, ctx: ClassContext) -> Iterable[Hit]:
        gc = ctx.cls.get_config
        if gc is None or gc.merges_super or not gc.complete or gc.abstract or gc.bad_returns:
            return
        if ctx.is_model and not ctx.is_k3:
            return
        missing = sorted(BASE_CONFIG_KEYS - set(gc.keys))
        if missing:
            lost = ", ".join(f"`{k}`" for k in missing)
            verb = "is" if len(missing) == 1 else "are"
            yield Hit(gc.span, f"`get_config` does not merge `super().get_config()`: {lost} {verb} lost on reload")


class GetConfigNotDict(Rule):
    code = "CFG105"
    name = "get-config-not-dict"
    summary = "A path of `get_config` returns nothing or a non-dict, or it is a property/staticmethod."
    what = ("Checks that every path through `get_config` returns a dict, and that `get_config` is a plain "
            "method.")
    why = ("`model.save`, `to_json` and `Model.from_config` raise `TypeError: The get_config() method of "
           "<X> should return a dict. It returned: None`; `clone_model` fails with `argument of type "
           "'NoneType' is not iterable`; a property fails with `'dict' object is not callable`.")
    instead = "A plain method that ends with `return config` on every path."
    severity = both(Severity.ERROR)
    invalid = (
        bad("""
            import keras

            class NoReturn(keras.layers.Layer):
                def __init__(self, units, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units

                def get_config(self):
                    config = super().get_config()
                    config.update({"units": self.units})
            """, (8, 9)),
        bad("""
            from tensorflow import keras

            class ListConfig(keras.layers.Layer):
                def __init__(self, units, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units

                def get_config(self):
                    return [("units", self.units)]
            """, (9, 9)),
        bad("""
            from keras import layers

            class Prop(layers.Layer):
                @property
                def get_config(self):
                    return {"units": 1}
            """, (5, 9)),
    )
    valid = (
        good("""
            import keras

            class Branches(keras.layers.Layer):
                def __init__(self, units, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units

                def get_config(self):
                    config = super().get_config()
                    if self.units > 1:
                        config["units"] = self.units
                        return config
                    else:
                        return {**config, "units": 1}
            """),
        good("""
            from tensorflow import keras

            class Abstract(keras.layers.Layer):
                def get_config(self):
                    raise NotImplementedError
            """),
    )

    def check_class(self, ctx: ClassContext) -> Iterable[Hit]:
        gc = ctx.cls.get_config
        if gc is None:
            return
        kinds = {d.split(".")[-1] for d in gc.decorators}
        for kind in ("property", "staticmethod", "cached_property"):
            if kind in kinds:
                yield Hit(gc.span, f"`get_config` is a {kind}; Keras calls it as a plain method")
                return
        for span, what in gc.bad_returns:
            yield Hit(span, f"`get_config` returns {what}, not a dict")
        if gc.falls_off_end:
            yield Hit(gc.span, "`get_config` can end without returning the config (returns `None`)")


class ConfigFromVars(Rule):
    code = "CFG106"
    name = "config-from-vars"
    summary = "The config is built from `vars(self)` or `self.__dict__`."
    what = "Flags `vars(self)` and `self.__dict__` inside `get_config`."
    why = ("A layer's `__dict__` holds Keras's own state (`built`, `_tracker`, weights...). Reloading "
           "fails with `Unrecognized keyword arguments passed to X: {'built': True, ...}` (tf-keras: "
           "`Keyword argument not understood: 'built'`), and saving may fail with `Cannot serialize "
           "object <Tracker>`.")
    instead = "List the constructor arguments explicitly: `config.update({\"units\": self.units})`."
    severity = both(Severity.ERROR)
    invalid = (
        bad("""
            import keras

            class Dump(keras.layers.Layer):
                def __init__(self, units, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units

                def get_config(self):
                    config = super().get_config()
                    config.update({k: v for k, v in vars(self).items() if not k.startswith("_")})
                    return config
            """, (10, 41)),
        bad("""
            import tensorflow as tf

            class Dump(tf.keras.layers.Layer):
                def get_config(self):
                    return dict(self.__dict__)
            """, (5, 21)),
    )
    valid = (
        good("""
            import keras

            class Listed(keras.layers.Layer):
                def __init__(self, units, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units

                def get_config(self):
                    return {**super().get_config(), "units": self.units}
            """),
        good("""
            import tensorflow as tf

            class Other(tf.keras.layers.Layer):
                def summary(self):
                    return vars(self)
            """),
    )

    def check_class(self, ctx: ClassContext) -> Iterable[Hit]:
        gc = ctx.cls.get_config
        for span in gc.vars_self if gc else ():
            yield Hit(span, "config built from the layer's `__dict__`; list the constructor arguments instead")


class HardcodedLayerName(Rule):
    code = "CFG107"
    name = "hardcoded-layer-name"
    summary = "The config's `name` is a constant or the class name."
    what = "Flags a `\"name\"` key set to a string literal or to `__class__.__name__` in `get_config`."
    why = ("Every instance then reloads under the same name: `load_model`, `Model.from_config` and "
           "`clone_model` fail with `The name \"X\" is used 2 times in the model` as soon as a model holds "
           "two of them.")
    instead = "Leave `name` to `super().get_config()`, which returns the instance's own name."
    severity = both(Severity.WARNING)
    invalid = (
        bad("""
            import keras

            class Named(keras.layers.Layer):
                def get_config(self):
                    config = super().get_config()
                    config["name"] = self.__class__.__name__
                    return config
            """, (6, 16)),
        bad("""
            from tensorflow import keras

            class Named(keras.layers.Layer):
                def get_config(self):
                    return {**super().get_config(), "name": "named"}
            """, (5, 41)),
    )
    valid = (
        good("""
            import keras

            class Named(keras.layers.Layer):
                def get_config(self):
                    config = super().get_config()
                    config["name"] = self.name
                    return config
            """),
        good("""
            from tensorflow import keras

            class Named(keras.layers.Layer):
                def get_config(self):
                    return super().get_config()
            """),
    )

    def check_class(self, ctx: ClassContext) -> Iterable[Hit]:
        entry = ctx.own_keys.get("name")
        if entry is None:
            return
        value = entry.value
        if (value.kind == "const" and value.ctype == "str") or value.text.endswith("__name__"):
            yield Hit(entry.span, "config key `name` is fixed; every instance would reload with the same name")


RULES = (MissingRequiredParam, MissingDefaultedParam, UnknownConfigKey, GetConfigWithoutSuper,
         GetConfigNotDict, ConfigFromVars, HardcodedLayerName)
