"""List every serialized object in a saved config, with the layer path that names it in messages.

Keras writes each object it serializes as a dict with `class_name` and `config` (Keras 3 adds
`module` and `registered_name`; tf-keras's `to_json` writes a registered class as "Package>Name" in
`class_name`). Models list their layers in `config.layers`, wrappers hold theirs under `layer`,
`forward_layer`, `backward_layer`, and any config value may itself be such a dict, also inside lists and
dicts: all of them are walked, and so is a model's `compile_config` (a custom loss or metric must load
too). The path joins the `name`s from the top (`model/encoder/block_3`); an
object without a name (an initializer) is named by the config key that holds it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cfglint.saved.reader import is_serialized_object

KERAS_TENSOR = "__keras_tensor__"  # a symbolic input in `inbound_nodes`, not an object to load


@dataclass(frozen=True)
class SavedObject:
    """One serialized object: what Keras will look up at load time, and what it passes to the class."""

    class_name: str  # the class's own name ("Scale", also for tf-keras's "demo>Scale")
    registered_name: str | None  # "demo>Scale" for a registered class; a bare name or None otherwise
    module: str | None  # the module it was saved from (Keras 3 and tf-keras `.keras`); None when unknown
    has_module: bool  # the dict carries a `module` key (Keras 3 style serialization)
    config: dict[str, Any]
    layer_path: str


def walk(root: dict[str, Any]) -> Iterator[SavedObject]:
    """Every serialized object under `root`, parents before children, in the order they are saved."""
    if is_serialized_object(root):
        yield from _objects(root, "", "model")
    else:  # a bare `get_config()`: the model's own config, without its class
        name = root.get("name")
        yield from _inside(root, name if isinstance(name, str) and name else "model")


def _objects(value: dict[str, Any], parent: str, key: str) -> Iterator[SavedObject]:
    stack: list[tuple[dict[str, Any], str, str]] = [(value, parent, key)]
    while stack:
        current, parent, key = stack.pop()
        saved = _saved_object(current, parent, key)
        if saved is not None:
            yield saved
        path = saved.layer_path if saved else parent
        children = list(_children(current["config"], path))
        compiled = current.get("compile_config")
        if isinstance(compiled, dict):  # optimizer, losses and metrics: `load_model` rebuilds them too
            children.extend(_children(compiled, f"{path}/compile" if path else "compile"))
        stack.extend(reversed(children))


def _inside(config: dict[str, Any], path: str) -> Iterator[SavedObject]:
    for child, parent, key in _children(config, path):
        yield from _objects(child, parent, key)


def _children(config: dict[str, Any], path: str) -> Iterator[tuple[dict[str, Any], str, str]]:
    """The serialized objects directly inside a config, with the key that holds each."""
    pending: deque[tuple[Any, str]] = deque((value, key) for key, value in config.items())
    while pending:
        value, key = pending.popleft()
        if is_serialized_object(value):
            yield value, path, key
        elif isinstance(value, dict):
            pending.extendleft(reversed([(item, str(sub)) for sub, item in value.items()]))
        elif isinstance(value, list):
            pending.extendleft(reversed([(item, key) for item in value]))


def _saved_object(value: dict[str, Any], parent: str, key: str) -> SavedObject | None:
    class_name: str = value["class_name"]
    if class_name == KERAS_TENSOR:
        return None
    config: dict[str, Any] = value["config"]
    name = config.get("name") if isinstance(config.get("name"), str) else value.get("name")
    label = name if isinstance(name, str) and name else key
    path = f"{parent}/{label}" if parent else label
    registered = value.get("registered_name")
    module = value.get("module")
    if ">" in class_name and "registered_name" not in value:  # tf-keras `to_json`: "Package>Name"
        registered, class_name = class_name, class_name.rpartition(">")[2]
    return SavedObject(class_name, registered if isinstance(registered, str) else None,
                       module if isinstance(module, str) else None, "module" in value, config, path)
