"""Shared readings of `Value`s: what an attribute holds and whether a config value is encoded."""

from __future__ import annotations

from cfglint.context import ClassContext
from cfglint.facts import Value
from cfglint.keras_names import classify_base
from cfglint.keras_values import LAYER_ANNOTATIONS, LAYER_METHODS, builds_layer


def attr_values(ctx: ClassContext, value: Value) -> list[Value]:
    """What `__init__` assigned to `self.x` when `value` is `self.x` (else the value itself)."""
    if value.kind == "self_attr" and ctx.init is not None:
        return ctx.init.self_attrs.get(value.text, [])
    return [value]


def source_param(ctx: ClassContext, value: Value) -> str | None:
    """The `__init__` parameter a config value returns unchanged (`self.units` set from `units`)."""
    if value.kind == "self_attr" and ctx.init is not None:
        return ctx.init.attrs_from_param.get(value.text)
    return None


def layer_params(ctx: ClassContext) -> set[str]:
    """Constructor parameters that evidently receive a Keras layer."""
    init = ctx.init
    if init is None:
        return set()
    found: set[str] = set()
    for param in init.named_params:
        annotation = param.annotation or ""
        if annotation.replace(" ", "").startswith(("type[", "Type[", "typing.Type[")):
            continue  # a layer class, not a layer (CFG208)
        if any(word in annotation for word in LAYER_ANNOTATIONS) \
                or (param.default is not None and builds_layer(param.default)) \
                or any(_layer_evidence(ctx, use) for use in init.param_uses.get(param.name, ())):
            found.add(param.name)
    for attr, source in init.attrs_from_param.items():
        uses = ctx.cls.attr_uses.get(attr, set())
        if uses & set(LAYER_METHODS):
            found.add(source)
    return found


def _is_layer_class(ctx: ClassContext, dotted: str) -> bool:
    """A Keras layer class, built-in or of the project (named like a class: not `keras_hub...adjust_channels`)."""
    if not dotted.split(".")[-1][:1].isupper():
        return False
    if classify_base(dotted) is not None:
        return True
    found = ctx.index.lookup_class(dotted)
    return found is not None and ctx.index.hierarchy(*found).is_keras


def _layer_evidence(ctx: ClassContext, use: str) -> bool:
    """A use in `__init__` that shows a parameter holds a layer: `inner.build(...)`, a fallback layer
    (`inner or Dense(3)`), or `isinstance(inner, Layer)` with only layer classes."""
    if use == ".build()":
        return True
    kind, _, names = use.partition(":")
    if kind == "fallback":
        return _is_layer_class(ctx, names)
    if kind == "isinstance":
        return all(_is_layer_class(ctx, name) for name in names.split("|"))
    return False

