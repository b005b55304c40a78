"""CFG1: `get_config` covers the constructor, and returns a dict Keras can feed back to it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cfglint.context import ClassContext
from cfglint.facts import InitFacts, Param, SuperInitCall, Value
from cfglint.finding import Severity, Span, Target
from cfglint.keras_names import BASE_CONFIG_KEYS
from cfglint.project import Ancestor
from cfglint.rules.base import NOT_FIXED, FixSpec, Hit, Rule, bad, good


def both(severity: Severity) -> dict[Target, Severity]:
    return {Target.KERAS3: severity, Target.TF_KERAS: severity}


@dataclass(frozen=True)
class Uncovered:
    """A constructor argument no config key gives back, and where it comes from.

    `owner` is the ancestor whose `__init__` declares it; `via_kwargs` is set when it reaches that
    `__init__` only through this class's `**kwargs` (a base class's argument the subclass passes on).
    """

    param: Param
    owner: Ancestor
    via_kwargs: bool = False


def _uncovered_params(ctx: ClassContext) -> Iterable[Uncovered]:
    """Constructor arguments that no config key (or `from_config`) gives back, and for which nothing
    in the code says a reload does not need them."""
    cls = ctx.cls
    if cls.is_dataclass or (cls.init is None and cls.get_config is None):
        return
    if not ctx.has_config_override or ctx.init is None or not ctx.coverage.complete:
        return
    if ctx.get_config is not None and ctx.get_config.abstract:
        return
    for item in _constructor_params(ctx):
        param = item.param
        if param.name in BASE_CONFIG_KEYS or ctx.covers(param) or _not_needed(ctx, item):
            continue
        yield item


def _constructor_params(ctx: ClassContext) -> Iterator[Uncovered]:
    """The named arguments the class accepts: its `__init__`'s, then, while `**kwargs` is handed to the
    next project `__init__` up the chain, that one's (less those the call fixes)."""
    start = next(i for i, a in enumerate(ctx.chain) if a.cls.init is ctx.init)
    seen: set[str] = set()
    via = False
    index = start
    while True:
        ancestor = ctx.chain[index]
        init = ancestor.cls.init
        assert init is not None
        fixed = _fixed_by_own_call(ctx, index, init) if via else set()
        for param in init.named_params:
            if param.name not in seen and param.name not in fixed:
                seen.add(param.name)
                yield Uncovered(param, ancestor, via)
        call = _forwarding_call(init)
        parent = next((i for i in range(index + 1, len(ctx.chain)) if ctx.chain[i].cls.init), None)
        if call is None or parent is None:
            return
        seen |= set(call.keywords)
        index, via = parent, True


def _forwarding_call(init: InitFacts) -> SuperInitCall | None:
    """The `super().__init__(...)` call that hands on the var-keyword (or a dict built from it)."""
    if init.varkw is None:
        return None
    carriers = {init.varkw.name} | init.kwargs_aliases
    return next((c for c in init.super_calls if c.star_names & carriers), None)


def _fixed_by_own_call(ctx: ClassContext, index: int, init: InitFacts) -> set[str]:
    """Arguments of the `__init__` at `index` that the subclass's call below it passes itself."""
    below = next(a.cls.init for a in reversed(ctx.chain[:index]) if a.cls.init is not None)
    call = _forwarding_call(below)
    if call is None:
        return set()
    positional = [p.name for p in init.params if p.kind in ("posonly", "normal")]
    if below.vararg is not None and below.vararg.name in call.star_names:
        return set(call.keywords) | set(positional) | below.kwargs_set  # `*args`: any of them
    return set(call.keywords) | set(positional[:len(call.positional)]) | below.kwargs_set


def _not_needed(ctx: ClassContext, item: Uncovered) -> bool:
    """Evidence in the code that a reload does not need this argument back."""
    init, name = item.owner.cls.init, item.param.name
    assert init is not None
    if item.via_kwargs and not _public_attribute(init, name):
        return True  # a base's option the subclasses never set or read: only a public attribute is evidence
    if any(a.cls.get_config is not None and name in a.cls.get_config.removed for a in ctx.chain):
        return True  # `del config["score_mode"]`: left out on purpose
    if name in init.default_only:
        return True  # any other value raises: the default is the only one a layer can have
    if name in init.weight_values and name not in init.attrs_from_param.values():
        return True  # weight values or a weights file loaded in `__init__`: saved and restored as weights
    if not item.param.required and _restored_by_assets(ctx, item):
        return True  # a vocabulary `load_assets` reads back from the `.keras` file
    if any(q in ctx.coverage.keys for q in init.param_folds.get(name, ())) and not _public_attribute(init, name):
        return True  # folded into another argument the config returns (`batch_shape = (batch_size,) + shape`)
    if _carried_by_sublayer(ctx, init, name):
        return True
    return _fixed_by_every_subclass(ctx, item)


def _restored_by_assets(ctx: ClassContext, item: Uncovered) -> bool:
    """The layer's own `load_assets` (here or in a project base) sets the argument again after a
    `.keras` load: it assigns the attribute `__init__` keeps it in, or calls the `self.<setter>(...)`
    `__init__` hands it to, in the same argument place. (A bare `from_config` still loses it; a
    required argument still fails, since the layer is rebuilt from its config before any asset is
    read.)"""
    attrs = {attr for ancestor in ctx.chain for attr in ancestor.cls.asset_attrs}
    calls = {call for ancestor in ctx.chain for call in ancestor.cls.asset_calls}
    if not attrs and not calls:
        return False
    for init, name in _argument_sites(ctx, item):
        others = {p.name for p in init.params} - {name}
        held = {attr for attr, values in init.self_attrs.items()
                if any(name in v.names and not v.names & others for v in values)}
        if held & attrs or init.self_method_args.get(name, set()) & calls:
            return True
    return False


def _argument_sites(ctx: ClassContext, item: Uncovered) -> Iterator[tuple[InitFacts, str]]:
    """The `__init__`s an argument reaches, with its name in each: the one that declares it, then each
    project base's it is handed to by name or position (`super().__init__(vocabulary=vocabulary)`)."""
    index, name = next(i for i, a in enumerate(ctx.chain) if a is item.owner), item.param.name
    while True:
        init = ctx.chain[index].cls.init
        assert init is not None
        yield init, name
        parent = next((i for i in range(index + 1, len(ctx.chain)) if ctx.chain[i].cls.init), None)
        if parent is None:
            return
        above = ctx.chain[parent].cls.init
        assert above is not None
        positional = [p.name for p in above.params if p.kind in ("posonly", "normal")]
        passed = None
        for call in init.super_calls:
            passed = next((k for k, v in call.keywords.items() if v.kind == "name" and v.text == name), passed)
            passed = next((positional[i] for i, v in enumerate(call.positional)
                           if v.kind == "name" and v.text == name and i < len(positional)), passed)
        if passed is None or above.param(passed) is None:
            return
        index, name = parent, passed


def _public_attribute(init: InitFacts, name: str) -> bool:
    """Whether `__init__` keeps the argument as it is in a public attribute (`self.rate = rate`)."""
    return any(source == name and not attr.startswith("_") for attr, source in init.attrs_from_param.items())


def _carried_by_sublayer(ctx: ClassContext, init: InitFacts, name: str) -> bool:
    """The argument only configures a sub-layer built in `__init__`, and the config returns that
    sub-layer (or its config): the sub-layer's own config carries the value."""
    if name in init.attrs_from_param.values():
        return False
    returned = {attr for key in ctx.coverage_entries for attr in _self_attrs_in(key.value)}
    return any(attr in returned and _used_as_layer(ctx, attr) for attr, values in init.self_attrs.items()
               if any(v.kind in ("call", "other", "ifexp") and name in v.names for v in values))


def _used_as_layer(ctx: ClassContext, attr: str) -> bool:
    """Whether some class in the chain calls `self.attr(...)` or builds it: a sub-layer, not a value."""
    return any(ancestor.cls.attr_uses.get(attr, set()) & {"called", ".build()"} for ancestor in ctx.chain)


def _self_attrs_in(value: Value, depth: int = 0) -> Iterator[str]:
    """The `self.x` attributes an expression reads (`self.x`, `serialize(self.x)`, `self.x.get_config()`)."""
    if depth > 6:
        return
    if value.kind == "self_attr":
        yield value.text
    for sub in (*value.items, *(v for _, v in value.keywords), *((value.receiver,) if value.receiver else ())):
        yield from _self_attrs_in(sub, depth + 1)


def _fixed_by_every_subclass(ctx: ClassContext, item: Uncovered) -> bool:
    """An abstract base's argument (`rank`) that every subclass in the project sets itself in its
    `super().__init__` call (not from an argument of its own): users build the subclasses, which
    never take it from a config."""
    if item.via_kwargs or item.owner is not ctx.chain[0]:
        return False
    subclasses = ctx.index.subclasses(ctx.cls.qualname)
    if not subclasses:
        return False
    for sub in subclasses:
        init = sub.init
        if init is None or not init.super_calls:
            return False
        call = init.super_calls[0]
        params = [p.name for p in item.owner.cls.init.params if p.kind in ("posonly", "normal")]  # type: ignore[union-attr]
        position = params.index(item.param.name) if item.param.name in params else len(params)
        if item.param.name in call.keywords:
            value = call.keywords[item.param.name]
        elif position < len(call.positional):
            value = call.positional[position]
        elif item.param.name in init.kwargs_set and _forwarding_call(init) is call:
            continue
        else:
            return False
        if value.kind == "name" and init.param(value.text) is not None:
            return False  # handed on from the subclass's own argument: not fixed there
    return True


def _missing_hits(ctx: ClassContext, required: bool) -> Iterable[Hit]:
    for item in _uncovered_params(ctx):
        param = item.param
        if param.required != required:
            continue
        if item.via_kwargs:
            span = ctx.cls.init.varkw.span if ctx.cls.init and ctx.cls.init.varkw else _get_config_span(ctx)
            yield Hit(span, f"`{param.name}` (an argument of `{item.owner.cls.name}.__init__`, "
                            f"{_where(item.owner, param.span)}, passed on through `**kwargs`) is missing "
                            f"from `get_config`{_inherited(ctx)}", subject=param.name)
            continue
        own = ctx.cls.init is not None
        span = param.span if own else _get_config_span(ctx)
        yield Hit(span, f"`{param.name}` is an `__init__` argument missing from `get_config`{_inherited(ctx)}",
                  subject=param.name)


def _get_config_span(ctx: ClassContext) -> Span:
    """The class's own `get_config` (where a missing key is reported when `__init__` is inherited), or
    the class line when the override it relies on is a base's."""
    return ctx.cls.get_config.span if ctx.cls.get_config is not None else ctx.cls.span


def _where(ancestor: Ancestor, span: Span) -> str:
    return f"{Path(ancestor.module.path).name}:{span.line}"


def _inherited(ctx: ClassContext) -> str:
    """Names the project base class whose `get_config` drops the key, when it is not this class's own."""
    if ctx.cls.get_config is not None:
        return ""
    owner = next((a for a in ctx.chain if a.cls.get_config is not None), None)
    if owner is None:
        return ""
    return f" (the one inherited from `{owner.cls.name}`, {_where(owner, owner.cls.get_config.span)})"  # type: ignore[union-attr]


class MissingRequiredParam(Rule):
    code = "CFG101"
    name = "missing-required-param"
    summary = "A required `__init__` argument is not a key of the config `get_config` returns."
    what = ("Checks that every required constructor argument of a Layer or Model whose `get_config` is "
            "overridden (in the class, a project base class, or a built-in Keras parent such as `Dense`) "
            "appears as a key of the returned config, unless `from_config` supplies it. The arguments "
            "include those of a project base class's `__init__` that the class passes on through "
            "`**kwargs`, and the keys include those of a dict built in `__init__` and returned by "
            "`get_config` (`self._config_dict`). A class that inherits a base's `get_config` is reported "
            "too, naming that base. Silent when the code shows a reload does not need the argument: "
            "`get_config` removes it on purpose, every other value raises, it only configures a sub-layer "
            "the config returns, it is folded into another argument the config returns, every subclass in "
            "the project passes it to `super().__init__` itself (an abstract base's `rank`), or a base "
            "class's option is not kept in a public attribute. An argument the layer's `load_assets` restores "
            "is still reported here: `load_model` rebuilds the layer from its config before it reads any "
            "asset, so a required one fails first. Built-ins with no `get_config` of their own "
            "(tf-keras `AbstractRNNCell`) leave Keras's automatic config in place, which keeps the "
            "arguments.")
    why = ("Keras rebuilds a layer with `cls(**config)`. Once `get_config` is overridden Keras checks "
           "nothing at save time, so the model saves fine and every reload fails: `from_config`, "
           "`clone_model`, `model_from_json` and `keras.models.load_model` raise `TypeError: ... missing 1 "
           "required positional argument: 'units'`.")
    instead = "Return every constructor argument under its parameter name: `config.update({\"units\": self.units})`."
    fix = FixSpec(
        "safe",
        title="Add the missing argument to the config",
        why=("Adds the argument to the dict `get_config` returns, under its own name, from the attribute "
             "`__init__` stores it in unchanged (`\"units\": self.units`); a class that inherits its config "
             "gets a `get_config` merging `super().get_config()`. Without the key every reload raises, so no "
             "working code depends on its absence. No fix when that attribute cannot be named with confidence: "
             "the argument is transformed or reassigned, the attribute is set elsewhere too, or the value is "
             "evidently an object (a layer, a callable, an array) or used as a tuple; and no `get_config` is "
             "written over Keras's automatic config (a class whose chain defines none, such as one under "
             "tf-keras's `AbstractRNNCell`), which would drop the arguments it records."),
        planner="cfglint.fixes.config_keys:plan_missing_key",
        decider="cfglint.fixes.decide:decide_missing_key",
    )
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
            """, (4, 24),
            fixed="""
            import keras

            class Scale(keras.layers.Layer):
                def __init__(self, units, scale=1.0, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units
                    self.scale = scale

                def get_config(self):
                    config = super().get_config()
                    config.update({"scale": self.scale, "units": self.units})
                    return config
            """),
        bad("""
            from tensorflow.keras import layers

            class Projection(layers.Dense):
                def __init__(self, units, groups, **kwargs):
                    super().__init__(units, **kwargs)
                    self.groups = groups
            """, (4, 31),
            fixed="""
            from tensorflow.keras import layers

            class Projection(layers.Dense):
                def __init__(self, units, groups, **kwargs):
                    super().__init__(units, **kwargs)
                    self.groups = groups

                def get_config(self):
                    config = super().get_config()
                    config.update({"groups": self.groups})
                    return config
            """),
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
            """, (12, 31),
            fixed="""
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

                def get_config(self):
                    config = super().get_config()
                    config.update({"gate": self.gate})
                    return config
            """),
        bad("""
            import keras

            class Stored(keras.layers.Layer):
                def __init__(self, units, scale=1.0, **kwargs):
                    super().__init__(**kwargs)
                    self._config_dict = {"scale": scale}
                    self.units = units
                    self.scale = scale

                def get_config(self):
                    config = super().get_config()
                    config.update(self._config_dict)
                    return config
            """, (4, 24),
            fixed="""
            import keras

            class Stored(keras.layers.Layer):
                def __init__(self, units, scale=1.0, **kwargs):
                    super().__init__(**kwargs)
                    self._config_dict = {"scale": scale}
                    self.units = units
                    self.scale = scale

                def get_config(self):
                    config = super().get_config()
                    config.update(self._config_dict)
                    config["units"] = self.units
                    return config
            """),
        bad("""
            from mypkg.compat import keras

            class Scale(keras.layers.Layer):
                def __init__(self, units, scale=1.0, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units
                    self.scale = scale

                def get_config(self):
                    return {**super().get_config(), "scale": self.scale}
            """, (4, 24), target=Target.TF_KERAS, files=(("mypkg/__init__.py", ""), ("mypkg/compat.py", (
                "import tensorflow as tf\n\n\n"
                "def _get_keras_instance():\n"
                "    version_fn = getattr(tf.keras, 'version', None)\n"
                "    if version_fn and version_fn().startswith('3.'):\n"
                "        import tf_keras as keras_internal\n"
                "    else:\n"
                "        keras_internal = tf.keras\n"
                "    return keras_internal\n\n\n"
                "keras = _get_keras_instance()\n"))),
            fixed="""
            from mypkg.compat import keras

            class Scale(keras.layers.Layer):
                def __init__(self, units, scale=1.0, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units
                    self.scale = scale

                def get_config(self):
                    return {**super().get_config(), "scale": self.scale, "units": self.units}
            """),
        bad("""
            from typing import Generic, TypeVar

            import keras

            T = TypeVar("T")

            class Corruptor(keras.layers.Layer, Generic[T]):
                def __init__(self, units, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units

                def get_config(self):
                    return {**super().get_config(), "units": self.units}

            class Dropout(Corruptor[float]):
                def __init__(self, units, rate, **kwargs):
                    super().__init__(units, **kwargs)
                    self.rate = rate
            """, (16, 31),
            fixed="""
            from typing import Generic, TypeVar

            import keras

            T = TypeVar("T")

            class Corruptor(keras.layers.Layer, Generic[T]):
                def __init__(self, units, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units

                def get_config(self):
                    return {**super().get_config(), "units": self.units}

            class Dropout(Corruptor[float]):
                def __init__(self, units, rate, **kwargs):
                    super().__init__(units, **kwargs)
                    self.rate = rate

                def get_config(self):
                    config = super().get_config()
                    config.update({"rate": self.rate})
                    return config
            """),
        bad("""
            import json
            import os

            import keras

            class WordTokenizer(keras.layers.Layer):
                def __init__(self, vocabulary, **kwargs):
                    super().__init__(**kwargs)
                    self.vocabulary = vocabulary

                def save_assets(self, dir_path):
                    with open(os.path.join(dir_path, "vocabulary.json"), "w") as f:
                        json.dump(self.vocabulary, f)

                def load_assets(self, dir_path):
                    with open(os.path.join(dir_path, "vocabulary.json")) as f:
                        self.vocabulary = json.load(f)

                def get_config(self):
                    return super().get_config()
            """, (7, 24),
            fixed=NOT_FIXED),
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
        good("""
            import tf_keras as keras

            class MinimalCell(keras.layers.AbstractRNNCell):
                def __init__(self, units, scale=1.0, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units
                    self.scale = scale

                @property
                def state_size(self):
                    return self.units

                def build(self, input_shape):
                    self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
                    self.built = True

                def call(self, inputs, states=None):
                    output = keras.backend.dot(inputs, self.kernel) * self.scale
                    return output if states is None else (output, [output])
            """, target=Target.TF_KERAS),
        good("""
            import keras

            class BasePool(keras.layers.Layer):
                def __init__(self, rank, pool_size=2, **kwargs):
                    super().__init__(**kwargs)
                    self.rank = rank
                    self.pool_size = pool_size

                def call(self, inputs):
                    return keras.ops.average_pool(inputs, self.pool_size, padding="same")

                def get_config(self):
                    return {**super().get_config(), "pool_size": self.pool_size}

            class Pool1D(BasePool):
                def __init__(self, pool_size=2, **kwargs):
                    super().__init__(rank=1, pool_size=pool_size, **kwargs)
            """),
    )

    def check_class(self, ctx: ClassContext) -> Iterable[Hit]:
        return _missing_hits(ctx, required=True)


class MissingDefaultedParam(Rule):
    code = "CFG102"
    name = "missing-defaulted-param"
    summary = "An `__init__` argument with a default is not a key of the config `get_config` returns."
    what = ("Checks that every constructor argument with a default value appears in the config of a "
            "class whose `get_config` is overridden (here, in a project base class, or a built-in parent), "
            "on the same terms as CFG101: a base class's arguments passed on through `**kwargs` count, "
            "and an argument handed to a built-in parent through `kwargs` (`kwargs[\"groups\"] = groups`, "
            "even conditionally) comes back in the parent's config. Weight values or a weights file loaded in "
            "`__init__` (handed to `set_weights` or `load_weights`, directly or through a local built from the "
            "argument such as `keras.utils.get_file(origin=weights)`, or to a sub-layer's `initial_weights`) "
            "need no key: the saved model carries the weights. Nor does an argument the layer's own "
            "`load_assets` (in the class or a project base) sets again from the `.keras` file, by assigning "
            "the attribute `__init__` keeps it in or by calling the setter `__init__` hands it to "
            "(`self.set_vocabulary(vocabulary)`): a tokenizer's vocabulary saved as an asset. A bare "
            "`from_config` still loses such a value; only the `.keras` file restores it.")
    why = ("Nothing fails: `from_config`, `clone_model` and `load_model` rebuild the layer with the "
           "*default* instead of the value it was created with, so the reloaded model silently computes "
           "something else (and a later change of the default changes old saved models too).")
    instead = "Return the argument under its own name: `config[\"scale\"] = self.scale`."
    fix = FixSpec(
        "safe",
        title="Add the missing argument to the config",
        why=("Adds the argument to the dict `get_config` returns, from the attribute `__init__` stores it in "
             "unchanged, on the same conditions as CFG101. The only behaviour that changes is what a reload "
             "builds: the layer as it was created instead of one with the default, which is what the config is "
             "for; creating, calling, training and saving the layer are unchanged."),
        planner="cfglint.fixes.config_keys:plan_missing_key",
        decider="cfglint.fixes.decide:decide_missing_key",
    )
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
            """, (4, 31),
            fixed="""
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
        bad("""
            import tf_keras as keras

            class Residual(keras.layers.Dense):
                def __init__(self, units, alpha=0.5, **kwargs):
                    super().__init__(units=units, **kwargs)
                    self.alpha = alpha
            """, (4, 31), target=Target.TF_KERAS,
            fixed="""
            import tf_keras as keras

            class Residual(keras.layers.Dense):
                def __init__(self, units, alpha=0.5, **kwargs):
                    super().__init__(units=units, **kwargs)
                    self.alpha = alpha

                def get_config(self):
                    config = super().get_config()
                    config.update({"alpha": self.alpha})
                    return config
            """),
        bad("""
            import keras

            class Noisy(keras.layers.Layer):
                def __init__(self, rate=0.0, **kwargs):
                    super().__init__(**kwargs)
                    self.rate = rate

            class Block(Noisy):
                def __init__(self, units, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units

                def get_config(self):
                    return {**super().get_config(), "units": self.units}
            """, (9, 33),
            fixed="""
            import keras

            class Noisy(keras.layers.Layer):
                def __init__(self, rate=0.0, **kwargs):
                    super().__init__(**kwargs)
                    self.rate = rate

            class Block(Noisy):
                def __init__(self, units, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units

                def get_config(self):
                    return {**super().get_config(), "units": self.units, "rate": self.rate}
            """),
        bad("""
            import keras

            class Scaled(keras.layers.Layer):
                def __init__(self, units, scale=1.0, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units
                    self.scale = scale

                def get_config(self):
                    return {**super().get_config(), "units": self.units}

            class Shifted(Scaled):
                def __init__(self, units, **kwargs):
                    super().__init__(units, **kwargs)
                    self.shift = 0.5
            """, (4, 31), (13, 33),
            fixed="""
            import keras

            class Scaled(keras.layers.Layer):
                def __init__(self, units, scale=1.0, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units
                    self.scale = scale

                def get_config(self):
                    return {**super().get_config(), "units": self.units, "scale": self.scale}

            class Shifted(Scaled):
                def __init__(self, units, **kwargs):
                    super().__init__(units, **kwargs)
                    self.shift = 0.5

                def get_config(self):
                    config = super().get_config()
                    config.update({"scale": self.scale})
                    return config
            """),
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
        good("""
            import keras

            class Projection(keras.layers.Dense):
                def __init__(self, units, use_bias=True, **kwargs):
                    if not use_bias:
                        kwargs = {**kwargs, "use_bias": use_bias}
                    super().__init__(units, **kwargs)
            """),
        good("""
            import keras

            class Projection(keras.layers.Dense):
                def __init__(self, units, use_bias=True, **kwargs):
                    if not use_bias:
                        kwargs["use_bias"] = use_bias
                    super().__init__(units, **kwargs)
            """),
        good("""
            import keras

            class Linear(keras.layers.Layer):
                def __init__(self, units, causal=False, **kwargs):
                    if causal:
                        raise NotImplementedError("causal masking is not supported")
                    super().__init__(**kwargs)
                    self.units = units

                def build(self, input_shape):
                    self.kernel = self.add_weight(shape=(input_shape[-1], self.units))

                def call(self, inputs):
                    return inputs @ self.kernel

                def get_config(self):
                    return {**super().get_config(), "units": self.units}
            """),
        good("""
            import keras

            class Head(keras.layers.Layer):
                def __init__(self, units=2, activation="relu", dense=None, **kwargs):
                    super().__init__(**kwargs)
                    self.dense = dense or keras.layers.Dense(units, activation=activation)

                def call(self, inputs):
                    return self.dense(inputs)

                def get_config(self):
                    return {**super().get_config(), "dense": keras.saving.serialize_keras_object(self.dense)}

                @classmethod
                def from_config(cls, config):
                    config["dense"] = keras.saving.deserialize_keras_object(config["dense"])
                    return cls(**config)
            """),
        good("""
            import tf_keras as keras

            class MinimalCell(keras.layers.AbstractRNNCell):
                def __init__(self, units, scale=1.0, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units
                    self.scale = scale

                @property
                def state_size(self):
                    return self.units

                def build(self, input_shape):
                    self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
                    self.built = True

                def call(self, inputs, states=None):
                    output = keras.backend.dot(inputs, self.kernel) * self.scale
                    return output if states is None else (output, [output])
            """, target=Target.TF_KERAS),
        good("""
            import keras

            class Table(keras.layers.Layer):
                def __init__(self, units=2, weights=None, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units
                    self.kernel = self.add_weight(shape=(4, units), name="kernel")
                    if weights is not None:
                        self.set_weights(weights)

                def call(self, inputs):
                    return inputs @ self.kernel

                def get_config(self):
                    return {**super().get_config(), "units": self.units}
            """),
        good("""
            import keras

            class Regrid(keras.layers.Layer):
                def __init__(self, rows=None, cols=None, target_shape=(4,), **kwargs):
                    super().__init__(**kwargs)
                    if rows is not None and cols is not None:
                        target_shape = (rows, cols)
                    self.target_shape = tuple(target_shape)

                def call(self, inputs):
                    return keras.ops.reshape(inputs, (-1, *self.target_shape))

                def get_config(self):
                    return {**super().get_config(), "target_shape": self.target_shape}
            """),
        good("""
            import keras

            class Scores(keras.layers.Layer):
                def __init__(self, units, mode="dot", **kwargs):
                    super().__init__(**kwargs)
                    self.units = units
                    self.mode = mode

                def get_config(self):
                    return {**super().get_config(), "units": self.units, "mode": self.mode}

            class AdditiveScores(Scores):
                def __init__(self, units, **kwargs):
                    super().__init__(units, **kwargs)

                def get_config(self):
                    config = super().get_config()
                    del config["mode"]
                    return config
            """),
        good("""
            import json
            import os

            import keras

            class WordTokenizer(keras.layers.Layer):
                def __init__(self, vocabulary=None, **kwargs):
                    super().__init__(**kwargs)
                    self.vocabulary = vocabulary

                def save_assets(self, dir_path):
                    with open(os.path.join(dir_path, "vocabulary.json"), "w") as f:
                        json.dump(self.vocabulary, f)

                def load_assets(self, dir_path):
                    with open(os.path.join(dir_path, "vocabulary.json")) as f:
                        self.vocabulary = json.load(f)

                def get_config(self):
                    return super().get_config()
            """),
        good("""
            import json
            import os

            import keras

            class Tokenizer(keras.layers.Layer):
                def __init__(self, vocabulary=None, lowercase=False, **kwargs):
                    super().__init__(**kwargs)
                    self.lowercase = lowercase
                    self.set_vocabulary(vocabulary)

                def set_vocabulary(self, vocabulary):
                    if isinstance(vocabulary, str):
                        with open(vocabulary) as f:
                            vocabulary = json.load(f)
                    self.vocabulary = vocabulary

                def save_assets(self, dir_path):
                    with open(os.path.join(dir_path, "vocabulary.json"), "w") as f:
                        json.dump(self.vocabulary, f)

                def load_assets(self, dir_path):
                    self.set_vocabulary(os.path.join(dir_path, "vocabulary.json"))

                def get_config(self):
                    return {**super().get_config(), "lowercase": self.lowercase}

            class WordTokenizer(Tokenizer):
                def __init__(self, vocabulary=None, **kwargs):
                    super().__init__(vocabulary=vocabulary, **kwargs)
            """),
        good("""
            import keras

            class Classifier(keras.Model):
                def __init__(self, units=3, weights=None, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units
                    self.dense = keras.layers.Dense(units)
                    self.build((None, 4))
                    if weights is not None:
                        path = weights if weights.endswith(".h5") else keras.utils.get_file(origin=weights)
                        self.load_weights(path)

                def build(self, input_shape):
                    self.dense.build(input_shape)

                def call(self, inputs):
                    return self.dense(inputs)

                def get_config(self):
                    return {**super().get_config(), "units": self.units}
            """),
        good("""
            import keras

            class Prefixed(keras.layers.Layer):
                def __init__(self, units, name_prefix="scaled_", **kwargs):
                    if "name" not in kwargs:
                        kwargs["name"] = f"{name_prefix}{units}"
                    super().__init__(**kwargs)
                    self.units = units

                def get_config(self):
                    return {**super().get_config(), "units": self.units}
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
                yield Hit(entry.span, f"config key `{key}` is not an argument of `__init__`", subject=key)


class GetConfigWithoutSuper(Rule):
    code = "CFG104"
    name = "get-config-without-super"
    summary = "`get_config` neither merges `super().get_config()` nor sets name, trainable and dtype."
    what = ("Checks that an overridden `get_config` starts from `super().get_config()`, which carries the "
            "layer's `name`, `trainable` and `dtype`. Only keys the constructor could take back are "
            "reported: a named parameter, or `**kwargs` handed on to Keras's `Layer.__init__`. A class "
            "without `**kwargs` that fixes `dtype` itself loses nothing it could restore, and merging "
            "`super()` there would break every reload.")
    why = ("Every reload path (`from_config`, `clone_model`, `load_model`) then rebuilds the layer with a "
           "fresh name, `trainable=True` and the default dtype: a frozen layer trains again, a float64 "
           "layer computes in float32. No error is raised. (tf-keras Models are exempt: their "
           "`super().get_config()` is `{}` anyway.)")
    instead = "`config = super().get_config()`, then `config.update({...})` and `return config`."
    fix = FixSpec(
        "unsafe",
        title="Merge `super().get_config()` into the config",
        why=("Starts the returned dict from `super().get_config()`. The config then carries `name`, `trainable` "
             "and `dtype` (and a built-in parent's arguments), and every reload passes them to `__init__`: "
             "what working reloads build changes (a frozen layer reloads frozen), and `__init__` must accept "
             "`**kwargs` (CFG301 reports it when it does not)."),
        planner="cfglint.fixes.super_config:plan",
        decider="cfglint.fixes.decide:decide_merge_super",
    )
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
            """, (8, 9),
            fixed="""
            import keras

            class Plain(keras.layers.Layer):
                def __init__(self, units, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units

                def get_config(self):
                    return {**super().get_config(), "units": self.units}
            """),
        bad("""
            import tensorflow as tf

            class Plain(tf.keras.layers.Layer):
                def __init__(self, units, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units

                def get_config(self):
                    config = {"units": self.units, "name": self.name}
                    return config
            """, (8, 9),
            fixed="""
            import tensorflow as tf

            class Plain(tf.keras.layers.Layer):
                def __init__(self, units, **kwargs):
                    super().__init__(**kwargs)
                    self.units = units

                def get_config(self):
                    config = {**super().get_config(), "units": self.units, "name": self.name}
                    return config
            """),
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
        good("""
            import keras

            class Wide(keras.layers.Layer):
                def __init__(self, units=2, name=None):
                    super().__init__(name=name, dtype="float64")
                    self.units = units

                def get_config(self):
                    return {"units": self.units, "name": self.name}
            """),
        good("""
            import keras

            class Marker(keras.layers.Layer):
                def __init__(self, units=2, name=None, **kwargs):
                    super().__init__(name=name)
                    self.units = units

                def get_config(self):
                    return {"units": self.units, "name": self.name}
            """),
    )

    def check_class(self, ctx: ClassContext) -> Iterable[Hit]:
        gc = ctx.cls.get_config
        if gc is None or gc.merges_super or not gc.complete or gc.abstract or gc.bad_returns:
            return
        if ctx.is_model and not ctx.is_k3:
            return
        missing = sorted(k for k in BASE_CONFIG_KEYS - set(gc.keys) if _reaches_keras(ctx, k))
        if missing:
            lost = ", ".join(f"`{k}`" for k in missing)
            verb = "is" if len(missing) == 1 else "are"
            yield Hit(gc.span, f"`get_config` does not merge `super().get_config()`: {lost} {verb} lost on reload")


def _reaches_keras(ctx: ClassContext, key: str) -> bool:
    """Whether a reload that passed this base key would get it to Keras's `Layer.__init__`: a named
    parameter takes it, or every `__init__` in the chain hands `**kwargs` on. Not when `**kwargs` is
    swallowed, or when an `__init__` without one passes base keys to `super().__init__` itself
    (`dtype="float64"`, `name=name`): it chose which of them it takes, and merging `super()` would
    hand it the others, which every reload would then reject."""
    for ancestor in ctx.chain:
        init = ancestor.cls.init
        if init is None:
            continue
        if init.param(key) is not None:
            return True
        if _forwarding_call(init) is None:
            return init.varkw is None and not any(set(c.keywords) & BASE_CONFIG_KEYS for c in init.super_calls)
    return True


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
