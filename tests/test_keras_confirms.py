"""Each rule's bad example really breaks in Keras; its good example really does not.

The rules make claims about Keras ("every reload fails with ...", "the reloaded layer silently uses the
default"). These tests check those claims against the rules' own documentation, so the docs and the
evidence cannot drift apart:

* a case names a rule and one of its bad examples; the source comes straight from
  ``ALL_RULES[code].invalid[index]`` (never copied here) and is imported as a throwaway module;
* the example's class (the last one the snippet defines) is constructed with the case's arguments,
  non-default ones where a default exists, and built on a tiny input: called on it when the class has a
  ``call``, else ``build(shape)``;
* the case performs the Keras call that the rule's ``why`` text names (table below), then
* a failing rule must raise the documented exception type with a distinctive part of its message;
  a silent rule must complete, and the revived object must differ from the original, or from what the
  caller asked for, in the named way (a constructor argument held as an attribute, a config value,
  name/trainable/dtype, weight shapes, or outputs after copying the weights);
* the same call on the case's good example (``rule.valid[good]``, usually the first) must complete with
  no difference at all, which shows the check discriminates.

Keras 3 cases run in this process; keras is imported lazily by a module fixture. Examples that target
tf-keras run together in one child process (``TF_USE_LEGACY_KERAS=1``, ``import tf_keras``; the two
must not share a process): it loads this file as a module, runs the same harness with ``tf_keras`` and
prints one JSON object with every case's outcome.

Calls (``Case.call``):

=================  ===================================================================================
``from_config``    ``type(layer).from_config(layer.get_config())`` (what ``clone_model`` does per layer)
``deserialize``    ``serialize_keras_object`` -> ``json.dumps``/``json.loads`` -> ``deserialize_keras_object``
``save_load``      ``model.save("m.keras")`` -> ``keras.models.load_model`` (a layer is wrapped in a
                   functional model first)
``clone``          ``keras.models.clone_model`` (a layer is wrapped in a functional model first)
``model_config``   ``keras.Model.from_config(model.get_config())``
``h5``             legacy ``model.save("m.h5")`` -> ``keras.models.load_model``
``json_dumps``     ``json.dumps(layer.get_config())``
``build``          ``layer.build(shape)`` on a layer constructed around sub-layers that are already built,
                   as every reload delivers them
=================  ===================================================================================

Loaders always get the example's classes as ``custom_objects``, so registration never hides a config
bug. A revived layer is used afterwards (called on the input, weights copied, outputs compared); an
exception there counts as the call failing. When a call needs a functional model and the example's
class has no ``call`` of its own, the harness gives the throwaway class an identity ``call`` (it does not
touch the config). Pass ``-m "not keras"`` to skip this file, ``-m "not tfkeras"`` to skip the child
process.

Cases. ``good`` is the index into ``rule.valid`` run through the same call (``-``: not meaningful, the
other cases of the rule cover it); ``xfail`` marks a claim Keras does not bear out (strict, so a fixed
example shows up). "base" = ``name="custom_name", trainable=False, dtype="float64"``; every input is
``(2, 4)`` except CFG206 bad 1, ``(2, 2, 3)``.

====== === ============================== ============ ==================================================== ====
rule   bad constructor arguments          call         expected (exception: message part; or what differs)  good
====== === ============================== ============ ==================================================== ====
CFG101 0   units=3, scale=2.0             from_config  TypeError: missing 1 required ... 'units'            0
CFG101 1   units=3, groups=2              save_load    TypeError: missing 1 required ... 'groups'           1
CFG101 2   units=3, gate=0.5              deserialize  TypeError: missing 1 required ... 'gate'             -
CFG102 0   units=3, scale=2.0             from_config  attribute scale 2.0 -> 1.0 (the default)             0
CFG102 1   units=3, alpha=0.9 (tf-keras)  save_load    attribute alpha 0.9 -> 0.5 (the default)             1
CFG101 3   units=3, scale=2.0             from_config  TypeError: missing 1 required ... 'units'            0
CFG101 4   units=3, scale=2.0 (tf-keras)  from_config  TypeError: missing 1 required ... 'units'            -
CFG101 5   units=3, rate=0.5              from_config  TypeError: missing 1 required ... 'rate'             -
CFG102 2   units=3, rate=0.5              from_config  attribute rate 0.5 -> 0.0 (a base's argument)        -
CFG102 3   units=3, scale=2.0             deserialize  attribute scale 2.0 -> 1.0 (inherited config)        -
CFG103 0   units=5                        from_config  TypeError: Unrecognized keyword ... {'n_units': 5}   1
CFG103 1   units=5                        deserialize  TypeError: Unrecognized ... {'output_dim': 10}       0
CFG104 0   units=3, base                  from_config  name, trainable and dtype not as requested           0
CFG104 1   units=3, base                  save_load    trainable and dtype not as requested                 0
CFG105 0   units=3                        save_load    TypeError: get_config() ... It returned: None        0
CFG105 1   units=3                        clone        TypeError: argument after ** must be a mapping       0
CFG105 2   (none)                         save_load    TypeError: 'dict' object is not callable             -
CFG106 0   units=3                        from_config  TypeError: Unrecognized ... 'built': True            0
CFG106 1   (none)                         save_load    TypeError: Cannot serialize object ... Tracker       -
CFG107 0   two instances in one model     save_load    ValueError: The name "Named" is used 2 times         0
CFG107 1   two instances in one model     model_config ValueError: The name "named" is used 2 times         1
CFG201 0   activation="tanh"              json_dumps   TypeError: type function is not JSON serializable    0
CFG201 1   kernel_initializer=            json_dumps   TypeError: type LecunNormal is not JSON ...          1
           "lecun_normal"
CFG201 1   the same                       h5           ValueError: Unknown config_item: 'LecunNormal'       1
CFG202 0   inner=Dense(3)                 save_load    TypeError: 'TrackedDict' object is not callable      0
CFG202 0   inner=Dense(3)                 from_config  revived layer shares 2 weight variables              0
CFG202 1   layer=Dense(3)                 deserialize  AttributeError: 'TrackedDict' ... 'built'            0
CFG203 0   values=[1.0, 2.0, 3.0]         deserialize  TypeError: float() ... not 'dict' (``__numpy__``)    0
CFG203 1   values=[1.0, 2.0, 3.0]         json_dumps   TypeError: type EagerTensor is not JSON ...          1
CFG204 0   factor=0.25                    json_dumps   TypeError: type float32 is not JSON serializable     0
CFG204 1   n=3                            json_dumps   TypeError: type int64 is not JSON serializable       -
CFG205 0   units=3                        from_config  attribute and config units 6 -> 12                  0
CFG205 1   pool=3                         deserialize  config pool [3, 3] -> [[3, 3], [3, 3]]               1
CFG206 0   shape=(2, 2)                   save_load    TypeError: can only concatenate tuple ... TrackedList 0
CFG206 1   reps=(1, 3)                    deserialize  TypeError: can only concatenate tuple ... TrackedList 1
CFG207 0   (the module builds the model)  save_load    TypeError: Could not interpret activation ...        0
CFG207 1   (a model around ``head``)      save_load    ValueError: deserialization of a `Lambda` layer      -
CFG207 2   (the module builds the model)  save_load    fails: the config carries the lambda                 -
CFG301 0   units=3                        from_config  TypeError: unexpected keyword argument 'name'        0
CFG301 1   units=3, name="fixed_dense"    save_load    TypeError: unexpected ... 'trainable'                -
CFG302 0   units=3                        from_config  TypeError: unexpected ... 'trainable'                0
CFG302 1   units=5 (``@dataclass``)       clone        TypeError: unexpected ... 'trainable'                0
CFG302 2   units=3 (tf-keras)             from_config  name 'auto' -> 'auto_1'                              -
CFG303 0   units=7                        clone        weight shapes (4, 7), (7,) -> (4, 3), (3,)           0
CFG303 1   depth=2, width=5 (not built)   save_load    NotImplementedError: ... non-serializable ...        1
CFG303 2   depth=3, width=5               clone        weight shapes: three (4, 5) blocks -> two (4, 8)     -
CFG304 0   activation=activations.tanh    save_load    NotImplementedError: ... non-serializable ...        0
CFG304 1   fn=Dense(3)                    clone        NotImplementedError: ... non-serializable ...        -
CFG305 0   positional 3, 2                clone        NotImplementedError: ... variadic positional ...     0
CFG305 1   positional 5                   save_load    NotImplementedError: ... positional only ...         1
CFG306 0   units=3, base                  from_config  dtype and trainable not as requested                 0
CFG306 1   units=3, dtype="float64"       save_load    dtype not as requested                               1
CFG307 0   units=3, name="short_custom"   from_config  name not as requested                                0
CFG307 1   rate=0.3, name="opts_custom"   save_load    name not as requested                                1
CFG308 0   units=3                        save_load    TypeError: multiple values ... 'use_bias'            0
CFG308 1   units=3                        from_config  TypeError: multiple values ... 'name'                -
CFG401 0   (none)                         deserialize  TypeError: from_config() missing ... 'config'        0
CFG401 1   units=4                        from_config  attribute units is the whole config dict             -
CFG401 2   (none)                         deserialize  AttributeError: 'NoneType' ... 'built'               0
CFG402 0   inner=<reloaded Dense(3)>      build        ValueError: You cannot add new elements of state     0
CFG402 1   first, second=<reloaded ...>   build        ValueError: You cannot add new elements of state     -
CFG403 0   (none; tf-keras)               deserialize  regularization losses 1 -> 2 (build ran twice)       0
CFG403 1   units=3, kernel_regularizer=   save_load    regularization losses 1 -> 2 (build ran twice)       1
           "l2" (tf-keras)
====== === ============================== ============ ==================================================== ====

Good examples without a bad counterpart (``GOOD_CASES``): patterns a rule stays silent on, each shown to
come back identical through a Keras call with non-default arguments. They are CFG102's good examples 3 to 10:
an argument forwarded to a built-in parent through ``kwargs`` only when it differs from the default (3, 4: both
spellings); an argument whose other values raise (5); arguments that only configure a sub-layer the config
returns (6); a tf-keras cell below ``AbstractRNNCell``, which has no ``get_config`` of its own (7); initial
weight values given to ``set_weights``, restored with the saved weights (8); arguments folded into another one
the config returns (9); a base's argument the subclass's ``get_config`` deletes on purpose (10; run with the
subclass's own arguments). Also CFG101's good example 5 (an abstract base's ``rank``, set by every subclass in its
``super().__init__`` call; input ``(2, 4, 3)``), and CFG104's good examples 2 (no ``**kwargs`` and a fixed
``dtype``) and 3 (``**kwargs`` not handed on), where the keys ``super().get_config()`` adds could not be
passed back.

CFG402's bad examples have no ``get_config`` and take a layer argument, so Keras cannot save them at all
(``NotImplementedError`` from the automatic config); the build failure CFG402 describes is shown by
handing the class the already-built sub-layer a reload would hand it. CFG403's second ``build`` orphans
the first weight but keeps its regularizer, so ``layer.losses`` counts it twice.

Re-exported Keras, class objects and fallback sub-layers. CFG203 bad 2 imports Keras through a module of
its own little project (``mypkg/compat.py: from keras import *``); the example's extra files are written
beside it and put on ``sys.path`` while it is imported.

====== === ============================== ============ ==================================================== ====
rule   bad constructor arguments          call         expected (exception: message part; or what differs)  good
====== === ============================== ============ ==================================================== ====
CFG202 2   inner=Dense(4)                 save_load    TypeError: 'TrackedDict' object is not callable      2
CFG202 3   gate=Dense(4) (tf-keras)       deserialize  TypeError: `gate` must be a layer                    -
CFG203 2   values=[1.0, 2.0, 3.0]         deserialize  TypeError: float() ... not 'dict' (``__numpy__``)    -
CFG208 0   units=3                        save_load    TypeError: Dense.get_config() missing ... 'self'     0
CFG208 0   units=3                        json_dumps   TypeError: type type is not JSON serializable        1
CFG208 1   layer_cls=Dense (tf-keras)     save_load    TypeError: Dense.get_config() missing ... 'self'     -
====== === ============================== ============ ==================================================== ====

Good examples with no bad twin, run through a call that must leave no difference (non-default arguments):
CFG207 good 2 (a ``Lambda`` built in a helper method ``__init__`` calls; ``scale=3.0``, ``save_load``), and
CFG202 good 3 (sub-layers created in ``__init__`` of a layer without ``build``; ``units=5``,
``save_load_weights``: a ``.keras`` save and load, whose revived layer must compute the same outputs
*before* any weights are copied, so the archive really restored the sub-layers' weights), and CFG208 good
2 (a class argument stored as its name; ``block_cls="Dense"``, ``save_load``).
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
import json
import os
import subprocess
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from cfglint.finding import Target
from cfglint.rules import ALL_RULES
from cfglint.rules.base import Example

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

if importlib.util.find_spec("keras") is None or importlib.util.find_spec("tensorflow") is None:
    pytest.skip("needs TensorFlow and Keras 3", allow_module_level=True)

pytestmark = pytest.mark.keras

Kwargs = dict[str, Any] | Callable[[Any], dict[str, Any]]


# --------------------------------------------------------------------------------------- the cases


@dataclass(frozen=True)
class Case:
    """One bad example, how to exercise it, and what Keras must do."""

    code: str
    bad: int  # index into rule.invalid
    call: str  # key of CALLS
    kwargs: Kwargs = field(default_factory=dict)  # a dict, or keras -> dict for Keras objects
    args: tuple = ()  # positional constructor arguments
    shape: tuple[int, ...] = (2, 4)  # input shape, batch first
    raises: tuple[str, ...] = ()  # (exception type, distinctive message parts...)
    differs: tuple[str, ...] = ()  # fragments that must each appear in some difference found
    good: int | None = 0  # index into rule.valid run through the same call; None = not meaningful
    good_kwargs: Kwargs | None = None  # arguments for the good example when its signature differs
    good_args: tuple | None = None
    make: str = "instance"  # key of MAKERS: what the call starts from
    xfail: str = ""  # the rule's claim that Keras does not bear out (the test stays strict)

    def __post_init__(self) -> None:
        assert bool(self.raises) != bool(self.differs), f"{self.id}: exactly one of raises/differs"

    @property
    def id(self) -> str:
        return f"{self.code}-bad{self.bad}-{self.call}"

    def example(self, kind: str) -> Example:
        rule = ALL_RULES[self.code]
        return rule.invalid[self.bad] if kind == "bad" else rule.valid[self.good]


def _dense3(keras):
    return {"inner": keras.layers.Dense(3)}


def _reloaded_dense(keras):
    """A built Dense(3) after a JSON round trip: what load_model hands a parent layer's constructor."""
    dense = keras.layers.Dense(3)
    dense.build((None, 4))
    text = json.dumps(keras.saving.serialize_keras_object(dense))
    return keras.saving.deserialize_keras_object(json.loads(text))


BASE = {"name": "custom_name", "trainable": False, "dtype": "float64"}

CASES: list[Case] = [
    # CFG1: get_config covers the constructor
    Case("CFG101", 0, "from_config", {"units": 3, "scale": 2.0},
         raises=("TypeError", "missing 1 required positional argument: 'units'")),
    Case("CFG101", 1, "save_load", {"units": 3, "groups": 2},
         raises=("TypeError", "missing 1 required positional argument: 'groups'"), good=1),
    Case("CFG101", 2, "deserialize", {"units": 3, "gate": 0.5},
         raises=("TypeError", "missing 1 required positional argument: 'gate'"), good=None),
    Case("CFG102", 0, "from_config", {"units": 3, "scale": 2.0},
         differs=("attribute scale: original 2.0, revived 1.0",)),
    Case("CFG102", 1, "save_load", {"units": 3, "alpha": 0.9}, differs=("attribute alpha: original 0.9, revived 0.5",),
         good=1),
    # (the self._config_dict idiom; a base class's argument passed on through **kwargs)
    Case("CFG101", 3, "from_config", {"units": 3, "scale": 2.0},
         raises=("TypeError", "missing 1 required positional argument: 'units'")),
    # (Keras bound by a project function that returns tf_keras; a subscripted generic base)
    Case("CFG101", 4, "from_config", {"units": 3, "scale": 2.0},
         raises=("TypeError", "missing 1 required positional argument: 'units'"), good=None),
    Case("CFG101", 5, "from_config", {"units": 3, "rate": 0.5},
         raises=("TypeError", "missing 1 required positional argument: 'rate'"), good=None),
    Case("CFG102", 2, "from_config", {"units": 3, "rate": 0.5},
         differs=("attribute rate: original 0.5, revived 0.0",), good=None),
    Case("CFG102", 3, "deserialize", {"units": 3, "scale": 2.0},
         differs=("attribute scale: original 2.0, revived 1.0",), good=None),
    Case("CFG103", 0, "from_config", {"units": 5},
         raises=("TypeError", "Unrecognized keyword arguments passed to Renamed: {'n_units': 5}"), good=1),
    Case("CFG103", 1, "deserialize", {"units": 5},
         raises=("TypeError", "Unrecognized keyword arguments passed to Extra: {'output_dim': 10}")),
    Case("CFG104", 0, "from_config", {"units": 3, **BASE},
         differs=("name: requested 'custom_name'", "trainable: requested False", "dtype: requested 'float64'")),
    Case("CFG104", 1, "save_load", {"units": 3, **BASE},
         differs=("trainable: requested False", "dtype: requested 'float64'")),
    Case("CFG105", 0, "save_load", {"units": 3},
         raises=("TypeError", "The `get_config()` method of <NoReturn", "should return a dict. It returned: None")),
    Case("CFG105", 1, "clone", {"units": 3}, raises=("TypeError", "argument after ** must be a mapping, not list")),
    Case("CFG105", 2, "save_load", raises=("TypeError", "'dict' object is not callable"), good=None),
    Case("CFG106", 0, "from_config", {"units": 3},
         raises=("TypeError", "Unrecognized keyword arguments passed to Dump: {", "'built': True")),
    Case("CFG106", 1, "save_load",
         raises=("TypeError", "Cannot serialize object <keras.src.utils.tracking.Tracker"), good=None),
    Case("CFG107", 0, "save_load", make="two_in_a_model",
         raises=("ValueError", 'The name "Named" is used 2 times in the model')),
    Case("CFG107", 1, "model_config", make="two_in_a_model",
         raises=("ValueError", 'The name "named" is used 2 times in the model'), good=1),
    # CFG2: values are serializable and round-trip
    Case("CFG201", 0, "json_dumps", {"activation": "tanh"},
         raises=("TypeError", "Object of type function is not JSON serializable")),
    Case("CFG201", 1, "json_dumps", {"kernel_initializer": "lecun_normal"},
         raises=("TypeError", "Object of type LecunNormal is not JSON serializable"), good=1),
    Case("CFG201", 1, "h5", {"kernel_initializer": "lecun_normal"},
         raises=("ValueError", "Unknown config_item: 'LecunNormal'"), good=1),
    Case("CFG202", 0, "save_load", _dense3, raises=("TypeError", "'TrackedDict' object is not callable")),
    Case("CFG202", 0, "from_config", _dense3, differs=("shares 2 weight variable(s)",)),
    Case("CFG202", 1, "deserialize", lambda keras: {"layer": keras.layers.Dense(3)},
         raises=("AttributeError", "'TrackedDict' object has no attribute 'built'"), good_kwargs=_dense3),
    Case("CFG203", 0, "deserialize", {"values": [1.0, 2.0, 3.0]},
         raises=("TypeError", "'values': {'class_name': '__numpy__'",
                 "float() argument must be a string or a real number, not 'dict'")),
    Case("CFG203", 1, "json_dumps", {"values": [1.0, 2.0, 3.0]},
         raises=("TypeError", "Object of type EagerTensor is not JSON serializable"), good=1),
    Case("CFG204", 0, "json_dumps", {"factor": 0.25},
         raises=("TypeError", "Object of type float32 is not JSON serializable")),
    Case("CFG204", 1, "json_dumps", {"n": 3}, raises=("TypeError", "Object of type int64 is not JSON serializable"),
         good=None),
    Case("CFG205", 0, "from_config", {"units": 3},
         differs=("attribute units: original 6, revived 12", "config 'units': original 6, revived 12")),
    Case("CFG205", 1, "deserialize", {"pool": 3}, differs=("config 'pool': original [3, 3], revived [[3, 3], [3, 3]]",),
         good=1),
    Case("CFG206", 0, "save_load", {"shape": (2, 2)},
         raises=("TypeError", 'can only concatenate tuple (not "TrackedList") to tuple')),
    Case("CFG206", 1, "deserialize", {"reps": (1, 3)}, shape=(2, 2, 3),
         raises=("TypeError", 'can only concatenate tuple (not "TrackedList") to tuple'), good=1),
    Case("CFG207", 0, "save_load", make="module_model",
         raises=("TypeError", "could not be deserialized properly", "Error when deserializing class 'Dense'",
                 "Could not interpret activation function identifier: {'value'")),
    Case("CFG207", 1, "save_load", make="module_model",
         raises=("ValueError", "Requested the deserialization of a `Lambda` layer whose `function` is a Python lambda"),
         good=None),
    Case("CFG207", 2, "save_load", make="module_model",
         raises=("ValueError", "Requested the deserialization of a Python lambda"), good=None),
    # CFG3: constructor and automatic config
    Case("CFG301", 0, "from_config", {"units": 3}, raises=("TypeError", "unexpected keyword argument 'name'")),
    Case("CFG301", 1, "save_load", {"units": 3, "name": "fixed_dense"},
         raises=("TypeError", "unexpected keyword argument 'trainable'"), good=None),
    Case("CFG302", 0, "from_config", {"units": 3}, raises=("TypeError", "unexpected keyword argument 'trainable'")),
    Case("CFG302", 1, "clone", {"units": 5}, raises=("TypeError", "unexpected keyword argument 'trainable'")),
    Case("CFG302", 2, "from_config", {"units": 3}, differs=("name: original 'auto', revived 'auto_1'",), good=None),
    Case("CFG303", 0, "clone", {"units": 7},
         differs=("weight shapes: original [(4, 7), (7,)], revived [(4, 3), (3,)]",)),
    Case("CFG303", 1, "save_load", {"depth": 2, "width": 5}, make="unbuilt_instance",
         raises=("NotImplementedError", "Object Tower was created by passing non-serializable argument values"),
         good=1, good_kwargs={}),
    Case("CFG303", 2, "clone", {"depth": 3, "width": 5},
         differs=("weight shapes: original [(4, 5), (5,), (5, 5)",), good=None),
    Case("CFG304", 0, "save_load", lambda keras: {"activation": keras.activations.tanh},
         raises=("NotImplementedError", "Object Gate was created by passing non-serializable argument values"),
         good_kwargs={"units": 5, "scale": 2.0}),
    Case("CFG304", 1, "clone", lambda keras: {"fn": keras.layers.Dense(3)},
         raises=("NotImplementedError", "Object Apply was created by passing non-serializable argument values"),
         good=None),
    Case("CFG305", 0, "clone", args=(3, 2),
         raises=("NotImplementedError", "positional only or variadic positional arguments"),
         good_args=(), good_kwargs={"sizes": (3, 2)}),
    Case("CFG305", 1, "save_load", args=(5,),
         raises=("NotImplementedError", "positional only or variadic positional arguments"), good=1),
    Case("CFG306", 0, "from_config", {"units": 3, **BASE},
         differs=("dtype: requested 'float64', revived 'float32'", "trainable: requested False, revived True")),
    Case("CFG306", 1, "save_load", {"units": 3, "dtype": "float64"},
         differs=("dtype: requested 'float64', revived 'float32'",), good=1),
    Case("CFG307", 0, "from_config", {"units": 3, "name": "short_custom"},
         differs=("name: requested 'short_custom', revived 'short",)),
    Case("CFG307", 1, "save_load", {"rate": 0.3, "name": "opts_custom"},
         differs=("name: requested 'opts_custom', revived 'opts",), good=1),
    Case("CFG308", 0, "save_load", {"units": 3},
         raises=("TypeError", "got multiple values for keyword argument 'use_bias'")),
    Case("CFG308", 1, "from_config", {"units": 3},
         raises=("TypeError", "got multiple values for keyword argument 'name'"), good=None),
    # CFG4: from_config, build, registration
    Case("CFG401", 0, "deserialize",
         raises=("TypeError", "from_config() missing 1 required positional argument: 'config'")),
    Case("CFG401", 1, "from_config", {"units": 4}, differs=("attribute units: original 4, revived {",), good=None),
    Case("CFG401", 2, "deserialize", raises=("AttributeError", "'NoneType' object has no attribute 'built'")),
    Case("CFG402", 0, "build", lambda keras: {"inner": _reloaded_dense(keras)}, make="unbuilt_instance",
         raises=("ValueError", "You cannot add new elements of state (variables or sub-layers)",
                 "to a layer that is already built")),
    Case("CFG402", 1, "build", lambda keras: {"first": _reloaded_dense(keras), "second": _reloaded_dense(keras)},
         make="unbuilt_instance", raises=("ValueError", "You cannot add new elements of state"), good=None),
    Case("CFG403", 0, "deserialize", differs=("regularization losses: original 1, revived 2",)),
    Case("CFG403", 1, "save_load", {"units": 3, "kernel_regularizer": "l2"},
         differs=("regularization losses: original 1, revived 2",), good=1, good_kwargs={}),
]

# ---- begin: re-exported Keras, class objects in the config, fallback sub-layers (second docstring table)
CASES += [
    Case("CFG202", 2, "save_load", lambda keras: {"inner": keras.layers.Dense(4)},
         raises=("TypeError", "'TrackedDict' object is not callable"), good=2),
    Case("CFG202", 3, "deserialize", lambda keras: {"gate": keras.layers.Dense(4)},
         raises=("TypeError", "`gate` must be a layer"), good=None),
    Case("CFG203", 2, "deserialize", {"values": [1.0, 2.0, 3.0]},
         raises=("TypeError", "'values': {'class_name': '__numpy__'",
                 "float() argument must be a string or a real number, not 'dict'"), good=None),
    Case("CFG208", 0, "save_load", {"units": 3},
         raises=("TypeError", "Dense.get_config() missing 1 required positional argument: 'self'"),
         good_kwargs={"units": 3, "block_cls": "Wide"}),
    Case("CFG208", 0, "json_dumps", {"units": 3}, raises=("TypeError", "Object of type type is not JSON serializable"),
         good=1, good_kwargs={"units": 3, "block": "Dense"}),
    Case("CFG208", 1, "save_load", lambda keras: {"layer_cls": keras.layers.Dense, "units": 3},
         raises=("TypeError", "Dense.get_config() missing 1 required positional argument: 'self'"), good=None),
]
# ---- end: re-exported Keras, class objects in the config, fallback sub-layers

CONFIRMED_RULES = sorted({case.code for case in CASES})


# ------------------------------------------------------- good examples of patterns a rule stays silent on
# Each runs a rule's good example through a Keras call with non-default arguments; it must come back
# identical. These are the patterns where a finding would be a false alarm.


@dataclass(frozen=True)
class GoodCase(Case):
    """A good example with no bad counterpart: `good` indexes `rule.valid`, `bad` is unused."""

    def __post_init__(self) -> None:
        assert self.good is not None and not self.raises and not self.differs, self.id

    @property
    def id(self) -> str:
        return f"{self.code}-good{self.good}-{self.call}"


def _np():
    import numpy

    return numpy


GOOD_CASES: list[GoodCase] = [
    # CFG102: an argument handed to a built-in parent through `kwargs` only when it is not the default
    GoodCase("CFG102", -1, "save_load", {"units": 3, "use_bias": False}, good=3),
    GoodCase("CFG102", -1, "from_config", {"units": 3, "use_bias": False}, good=4),
    # CFG102: an argument whose only legal value is its default (any other raises)
    GoodCase("CFG102", -1, "save_load", {"units": 3}, good=5),
    # CFG102: arguments that only configure a sub-layer the config returns
    GoodCase("CFG102", -1, "save_load", {"units": 3, "activation": "tanh"}, good=6),
    # CFG101/CFG102: tf-keras's automatic config below a built-in with no `get_config` of its own
    GoodCase("CFG102", -1, "deserialize", {"units": 3, "scale": 2.0}, good=7),
    # CFG102: initial weight values given to `set_weights`: a saved model restores them as weights
    GoodCase("CFG102", -1, "save_load", lambda keras: {"units": 3, "weights": [_np().full((4, 3), 0.5, "float32")]},
             good=8),
    # CFG101: an abstract base's `rank`, set by every subclass itself (the subclass is what is saved)
    GoodCase("CFG101", -1, "from_config", {"pool_size": 3}, shape=(2, 4, 3), good=5),
    # CFG102: arguments folded into another one the config returns
    GoodCase("CFG102", -1, "save_load", {"rows": 2, "cols": 2}, good=9),
    # CFG102: a base's argument the subclass's `get_config` deletes on purpose
    GoodCase("CFG102", -1, "from_config", {"units": 3}, good=10),
    # CFG104: no `**kwargs` and a fixed dtype: the keys `super()` would add could not be passed back
    GoodCase("CFG104", -1, "from_config", {"units": 3, "name": "wide_custom"}, good=2),
    # CFG104: `**kwargs` swallowed (not handed to `super().__init__`): `trainable` and `dtype` could not come back
    GoodCase("CFG104", -1, "from_config", {"units": 3, "name": "marker_custom"}, good=3),
]


# --------------------------------------------------------------------------------------- the harness


class Probe:
    """A bad or good example, imported and turned into the object the Keras call starts from."""

    _ids = itertools.count()

    def __init__(self, keras, case: Case, kind: str, workdir: Path):
        import numpy as np

        self.keras, self.case, self.kind, self.workdir = keras, case, kind, workdir
        self.is_k3 = keras.__version__.startswith("3.")
        self.module = load_example(case.example(kind), workdir)
        self.classes = {
            name: value for name, value in vars(self.module).items()
            if isinstance(value, type) and issubclass(value, keras.layers.Layer)
            and value.__module__ == self.module.__name__
        }
        self.x = np.random.RandomState(0).rand(*case.shape).astype("float32")
        kwargs, self.args = case.kwargs, case.args
        if kind == "good":
            kwargs = kwargs if case.good_kwargs is None else case.good_kwargs
            self.args = self.args if case.good_args is None else case.good_args
        self.kwargs = kwargs(keras) if callable(kwargs) else dict(kwargs)
        self.subject = MAKERS[case.make](self)

    @property
    def cls(self):
        assert self.classes, "the example defines no Keras class"
        return list(self.classes.values())[-1]  # the last class a snippet defines is the one it is about

    def prepare_class(self):
        """The example class, with an identity `call` if a model must be built around a call-less class."""
        cls = self.cls
        needs_model = CALLS[self.case.call].needs_model
        if needs_model and not issubclass(cls, self.keras.Model) and not self.has_own_call(cls):
            cls.call = _identity_call
        return cls

    def has_own_call(self, cls) -> bool:
        base = self.keras.Model if issubclass(cls, self.keras.Model) else self.keras.layers.Layer
        if base is self.keras.layers.Layer and not self.is_k3:
            return True  # tf-keras's Layer.call returns its input
        return cls.call is not base.call

    def use(self, layer):
        """Call a layer (or build it if it has no call), as a model would."""
        if self.has_own_call(type(layer)):
            return layer(self.x)
        if not layer.built:
            layer.build(self.x.shape)
        return None

    def wrap(self, layer):
        """A functional model around a layer (a model stays as it is)."""
        if isinstance(layer, self.keras.Model):
            return layer
        inputs = self.keras.Input(shape=self.x.shape[1:])
        return self.keras.Model(inputs, layer(inputs))

    def unwrap(self, model):
        return model if isinstance(self.subject, self.keras.Model) else model.layers[-1]

    def path(self, suffix: str) -> str:
        return str(self.workdir / f"{self.case.code}_{self.kind}_{next(self._ids)}{suffix}")


def _identity_call(self, inputs):
    return inputs


def load_example(example: Example, workdir: Path) -> ModuleType:
    """Import an example's source as a fresh module with a unique name (its extra files, if any, are
    importable meanwhile, freshly: a package of the same name from an earlier example is forgotten)."""
    name = f"cfglint_keras_example_{os.getpid()}_{next(Probe._ids)}"
    path = workdir / f"{name}.py"
    path.write_text(example.code, encoding="utf-8")
    extra = _write_extra_files(example, workdir / f"{name}_files")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is created
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    finally:
        if extra is not None:
            sys.path.remove(extra)
    return module


def _write_extra_files(example: Example, root: Path) -> str | None:
    """Write an example's other modules (`mypkg/compat.py`) under `root` and put it first on sys.path."""
    if not example.files:
        return None
    for relative, source in example.files:
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source, encoding="utf-8")
    tops = {relative.split("/")[0].removesuffix(".py") for relative, _ in example.files}
    for loaded in [m for m in sys.modules if m.split(".")[0] in tops]:
        del sys.modules[loaded]
    sys.path.insert(0, str(root))
    return str(root)


# What a call starts from.


def make_instance(p: Probe):
    layer = p.prepare_class()(*p.args, **p.kwargs)
    p.use(layer)
    return layer


def make_unbuilt_instance(p: Probe):
    return p.prepare_class()(*p.args, **p.kwargs)


def make_two_in_a_model(p: Probe):
    cls = p.prepare_class()
    inputs = p.keras.Input(shape=p.x.shape[1:])
    return p.keras.Model(inputs, cls()(cls()(inputs)))


def make_module_model(p: Probe):
    """Model-building code: the module's `model`, or a model from its `inputs`/`outputs` or `head`."""
    module = p.module
    if hasattr(module, "model"):
        return module.model
    if hasattr(module, "outputs"):
        return p.keras.Model(module.inputs, module.outputs)
    inputs = p.keras.Input(shape=p.x.shape[1:])
    return p.keras.Model(inputs, module.head(inputs))


MAKERS: dict[str, Callable[[Probe], Any]] = {
    "instance": make_instance,
    "unbuilt_instance": make_unbuilt_instance,
    "two_in_a_model": make_two_in_a_model,
    "module_model": make_module_model,
}


# The Keras calls. Each returns the revived object (compared with the original) or None.


@dataclass(frozen=True)
class KerasCall:
    run: Callable[[Probe], Any]
    needs_model: bool = False


def call_from_config(p: Probe):
    with p.keras.saving.custom_object_scope(p.classes):
        return type(p.subject).from_config(p.subject.get_config())


def call_deserialize(p: Probe):
    text = json.dumps(p.keras.saving.serialize_keras_object(p.subject))
    return p.keras.saving.deserialize_keras_object(json.loads(text), custom_objects=p.classes)


def call_save_load(p: Probe, suffix: str = ".keras"):
    path = p.path(suffix)
    p.wrap(p.subject).save(path)
    return p.unwrap(p.keras.models.load_model(path, custom_objects=p.classes))


def call_clone(p: Probe):
    with p.keras.saving.custom_object_scope(p.classes):
        return p.unwrap(p.keras.models.clone_model(p.wrap(p.subject)))


def call_model_config(p: Probe):
    model = p.wrap(p.subject)
    return p.unwrap(p.keras.Model.from_config(model.get_config(), custom_objects=p.classes))


def call_json_dumps(p: Probe):
    json.dumps(p.subject.get_config())


def call_build(p: Probe):
    p.subject.build(p.x.shape)


CALLS: dict[str, KerasCall] = {
    "from_config": KerasCall(call_from_config),
    "deserialize": KerasCall(call_deserialize),
    "save_load": KerasCall(call_save_load, needs_model=True),
    "h5": KerasCall(lambda p: call_save_load(p, ".h5"), needs_model=True),
    "clone": KerasCall(call_clone, needs_model=True),
    "model_config": KerasCall(call_model_config, needs_model=True),
    "json_dumps": KerasCall(call_json_dumps),
    "build": KerasCall(call_build),
}


# Comparing the revived object with the original and with what the caller asked for.

_MISSING = object()
BASE_KEYS = ("name", "trainable", "dtype")


def plain(value):
    """A comparable form: containers as lists/dicts, arrays and numpy scalars as Python values."""
    import numpy as np

    if isinstance(value, dict) or (hasattr(value, "items") and hasattr(value, "keys")):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) or type(value).__name__ in ("TrackedList", "ListWrapper"):
        return [plain(v) for v in value]
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    if hasattr(value, "numpy") and hasattr(value, "shape"):
        return np.asarray(value).tolist()
    if hasattr(value, "get_config") and not isinstance(value, type):  # Keras objects compare by config
        try:
            return (type(value).__name__, plain(value.get_config()))
        except Exception:
            return value
    return value


def same(a, b) -> bool:
    if a is b:
        return True
    try:
        return bool(plain(a) == plain(b))
    except Exception:
        return False


def _short(value) -> str:
    text = " ".join(repr(plain(value)).split())
    return text if len(text) <= 120 else text[:117] + "..."


def differences(p: Probe, orig, revived) -> list[str]:
    """Every way `revived` differs from `orig` (and from the arguments the caller passed)."""
    import numpy as np

    keras = p.keras
    if not isinstance(revived, keras.layers.Layer):
        return [f"the loader returned {revived!r}, not a layer"]
    found = []
    for key in BASE_KEYS:
        have, got = getattr(orig, key), getattr(revived, key)
        if key in p.kwargs and not same(p.kwargs[key], got):
            found.append(f"{key}: requested {p.kwargs[key]!r}, revived {got!r}")
        elif not same(have, got):
            found.append(f"{key}: original {have!r}, revived {got!r}")
    for key in p.kwargs:
        if key in BASE_KEYS or not hasattr(orig, key):
            continue
        have, got = getattr(orig, key), getattr(revived, key, _MISSING)
        if not same(have, got):
            found.append(f"attribute {key}: original {_short(have)}, revived {_short(got)}")
    config0, config1 = orig.get_config(), revived.get_config()
    for key in sorted((set(config0) | set(config1)) - {"name"}):
        have, got = config0.get(key, _MISSING), config1.get(key, _MISSING)
        if not same(have, got):
            found.append(f"config {key!r}: original {_short(have)}, revived {_short(got)}")
    # Use both as a model would, then compare weights and outputs.
    variables_before_use = {id(v) for v in revived.weights}
    outputs0 = p.use(orig)
    p.use(revived)
    if variables_before_use - {id(v) for v in revived.weights}:
        found.append("weights re-created on first use: build ran again after the reload")
    losses0, losses1 = len(orig.losses), len(revived.losses)
    if losses0 != losses1:
        found.append(f"regularization losses: original {losses0}, revived {losses1}")
    shared = {id(v) for v in orig.weights} & {id(v) for v in revived.weights}
    if shared:
        found.append(f"revived object shares {len(shared)} weight variable(s) with the original")
    shapes0 = [tuple(w.shape) for w in orig.get_weights()]
    shapes1 = [tuple(w.shape) for w in revived.get_weights()]
    if shapes0 != shapes1:
        found.append(f"weight shapes: original {shapes0}, revived {shapes1}")
    elif outputs0 is not None:
        revived.set_weights(orig.get_weights())
        a, b = np.asarray(outputs0), np.asarray(revived(p.x))
        if a.shape != b.shape or not np.allclose(a, b, atol=1e-6):
            found.append("outputs differ after copying the weights")
    return found


def run_case(keras, case: Case, kind: str, workdir: Path) -> dict:
    """Build the example (errors here propagate), perform the call, report what happened."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        probe = Probe(keras, case, kind, workdir)
        try:
            revived = CALLS[case.call].run(probe)
            diffs = [] if revived is None else differences(probe, probe.subject, revived)
        except Exception as exc:
            return {"raised": f"{type(exc).__name__}: {' '.join(str(exc).split())}", "diffs": []}
        finally:
            sys.modules.pop(probe.module.__name__, None)
    return {"raised": None, "diffs": diffs}


def run_in_worker(keras, job_ids: list[str], workdir: str) -> dict[str, dict]:
    """Entry point of the tf-keras child process: run each job, never let one stop the others."""
    import traceback

    results = {}
    for job_id in job_ids:
        case, kind = JOBS[job_id]
        try:
            results[job_id] = run_case(keras, case, kind, Path(workdir))
        except Exception:
            results[job_id] = {"setup_error": traceback.format_exc(limit=4)}
    return results


def check(case: Case, kind: str, outcome: dict) -> None:
    assert "setup_error" not in outcome, outcome["setup_error"]
    raised, diffs = outcome["raised"], outcome["diffs"]
    if kind == "good":
        assert raised is None and diffs == [], f"the good example does not pass: {outcome}"
    elif case.raises:
        exc_type, *texts = case.raises
        assert raised is not None, f"expected {exc_type}, nothing was raised (differences: {diffs})"
        assert raised.startswith(exc_type + ":"), f"expected {exc_type}: {raised}"
        for text in texts:
            assert text in raised, f"expected {text!r} in: {raised}"
    else:
        assert raised is None, f"expected a silent difference, got {raised}"
        for fragment in case.differs:
            assert any(fragment in d for d in diffs), f"no difference mentions {fragment!r}: {diffs}"


# --------------------------------------------------------------------------------------- the tests


def _target(case: Case, kind: str) -> Target:
    return case.example(kind).target


JOBS: dict[str, tuple[Case, str]] = {}
for _case in CASES:
    JOBS[f"{_case.id}-bad"] = (_case, "bad")
    if _case.good is not None:
        JOBS[f"{_case.id}-good{_case.good}"] = (_case, "good")
for _good_case in GOOD_CASES:
    JOBS[_good_case.id] = (_good_case, "good")


# ---- begin: good examples with no bad twin, round-tripped with non-default arguments (end of docstring)


def call_save_load_weights(p: Probe):
    """`.keras` save and load; the revived layer must compute what the original did with the weights the
    archive restored (the comparison that follows copies weights, so it could not see a lost weight)."""
    import numpy as np

    revived = call_save_load(p)
    before, after = np.asarray(p.use(p.subject)), np.asarray(p.use(revived))
    if before.shape != after.shape or not np.allclose(before, after, atol=1e-6):
        raise AssertionError("the reloaded layer computes something else before any weights are copied")
    return revived


CALLS["save_load_weights"] = KerasCall(call_save_load_weights, needs_model=True)


def round_trip(code: str, good: int, call: str, kwargs: Kwargs) -> Case:
    """A job for a good example alone (the placeholder bad side is never run)."""
    return Case(code, 0, call, good=good, good_kwargs=kwargs, differs=("(not run)",))


ROUND_TRIPS = [
    round_trip("CFG207", 2, "save_load", {"scale": 3.0}),
    round_trip("CFG202", 3, "save_load_weights", {"units": 5}),
    round_trip("CFG208", 2, "save_load", {"units": 3, "block_cls": "Dense"}),
]
for _case in ROUND_TRIPS:
    JOBS[f"{_case.code}-good{_case.good}-{_case.call}-roundtrip"] = (_case, "good")
# ---- end: good examples with no bad twin


def _params(kind: str) -> list:
    params = []
    for job_id, (case, job_kind) in JOBS.items():
        if job_kind != kind:
            continue
        marks = [pytest.mark.tfkeras] if _target(case, kind) is Target.TF_KERAS else []
        if kind == "bad" and case.xfail:
            marks.append(pytest.mark.xfail(raises=AssertionError, strict=True, reason=case.xfail))
        params.append(pytest.param(job_id, id=job_id, marks=marks))
    return params


@pytest.fixture(scope="module")
def keras3():
    """Keras 3, imported once for the module (never together with tf-keras)."""
    if os.environ.get("TF_USE_LEGACY_KERAS", "").lower() in ("1", "true", "yes"):
        pytest.skip("TF_USE_LEGACY_KERAS is set: Keras 3 cases need a plain environment")
    keras = pytest.importorskip("keras")
    if not keras.__version__.startswith("3."):
        pytest.skip(f"needs Keras 3, found {keras.__version__}")
    return keras


_WORKER = """
import importlib.util, json, os, sys
os.environ["TF_USE_LEGACY_KERAS"] = "1"
spec = importlib.util.spec_from_file_location("cfglint_keras_confirms_worker", sys.argv[1])
harness = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = harness
spec.loader.exec_module(harness)
import tf_keras
results = harness.run_in_worker(tf_keras, json.loads(sys.argv[2]), sys.argv[3])
print("CFGLINT-RESULT " + json.dumps(results))
"""


@pytest.fixture(scope="module")
def tfkeras_results(tmp_path_factory) -> dict[str, dict]:
    """Run every tf-keras job in one child process (tf-keras must not share a process with Keras 3)."""
    if importlib.util.find_spec("tf_keras") is None:
        pytest.skip("needs tf-keras")
    jobs = [job_id for job_id, (case, kind) in JOBS.items() if _target(case, kind) is Target.TF_KERAS]
    workdir = tmp_path_factory.mktemp("tfkeras")
    env = {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow"}
    proc = subprocess.run(
        [sys.executable, "-c", _WORKER, __file__, json.dumps(jobs), str(workdir)],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("CFGLINT-RESULT ")]
    assert proc.returncode == 0 and lines, f"tf-keras worker failed ({proc.returncode}):\n{proc.stderr[-3000:]}"
    return json.loads(lines[-1].removeprefix("CFGLINT-RESULT "))


def _outcome(job_id: str, request, tmp_path) -> tuple[Case, str, dict]:
    case, kind = JOBS[job_id]
    if _target(case, kind) is Target.TF_KERAS:
        return case, kind, request.getfixturevalue("tfkeras_results")[job_id]
    return case, kind, run_case(request.getfixturevalue("keras3"), case, kind, tmp_path)


@pytest.mark.parametrize("job_id", _params("bad"))
def test_bad_example_breaks_in_keras(job_id, request, tmp_path):
    case, kind, outcome = _outcome(job_id, request, tmp_path)
    check(case, kind, outcome)


@pytest.mark.parametrize("job_id", _params("good"))
def test_good_example_survives_the_same_call(job_id, request, tmp_path):
    case, kind, outcome = _outcome(job_id, request, tmp_path)
    check(case, kind, outcome)


def test_every_requested_rule_has_a_case():
    required = {f"CFG{n}" for n in (101, 102, 103, 104, 105, 106, 107, 201, 202, 203, 205, 207,
                                     301, 302, 303, 304, 305, 306, 307, 308, 401, 402)}
    assert required <= set(CONFIRMED_RULES)
    for case in CASES:
        assert case.code in ALL_RULES and 0 <= case.bad < len(ALL_RULES[case.code].invalid), case.id
        assert case.good is None or 0 <= case.good < len(ALL_RULES[case.code].valid), case.id


def test_docstring_table_lists_the_cases():
    """The table in this module's docstring names the same cases, calls and good examples as CASES."""
    rows = []
    for line in __doc__.splitlines():
        words = line.split()
        if len(words) >= 4 and words[0].startswith("CFG") and words[1].isdigit():
            call = next(w for w in words[2:] if w in CALLS)
            rows.append((words[0], int(words[1]), call, words[-1]))
    expected = [(c.code, c.bad, c.call, "-" if c.good is None else str(c.good)) for c in CASES]
    assert rows == expected


# ------------------------------------------- built-in layers that CFG101/CFG102/CFG104 still report
# Keras's own layers are expected to be clean; the few findings CFG1 keeps on them are real omissions of
# Keras's `get_config`. Each is shown here: the argument (or base key) does not survive
# `from_config(get_config())`. If Keras fixes one, its line here fails and the finding should go too.

KERAS3_BUILTIN_LOSSES = [
    # (expression building the layer, attribute read on it and on the revived copy)
    ("L.CategoryEncoding(num_tokens=4, output_mode='multi_hot', sparse=True)", "sparse"),
    ("L.MaxNumBoundingBoxes(max_number=3, fill_value=-2)", "fill_value"),
    ("L.RandomGrayscale(seed=3)", "seed"),
    ("L.GRU(3, use_cudnn=False)", "use_cudnn"),
    ("L.LSTM(3, use_cudnn=False)", "use_cudnn"),
    ("L.SimpleRNN(3, dropout=0.1, seed=3)", "cell.seed"),
    ("L.MultiHeadAttention(2, 4, flash_attention=True)", "_flash_attention"),
    ("L.GroupQueryAttention(4, 2, 2, flash_attention=True)", "_flash_attention"),
    ("keras.utils.FeatureSpace(features={'a': 'float'}, name='fs_custom')", "name"),
]

TFKERAS_BUILTIN_LOSSES = [
    ("L.Embedding(10, 3, sparse=True)", "sparse"),
    ("L.BatchNormalization(fused=False)", "fused"),
    ("L.BatchNormalization(synchronized=True)", "synchronized"),
    ("L.BatchNormalization(adjustment=lambda shape: (1.0, 0.0))", "adjustment"),
    ("L.AlphaDropout(0.1, noise_shape=(1, 4))", "noise_shape"),
    ("L.SpatialDropout2D(0.1, data_format='channels_first')", "data_format"),
    # not exported, and cannot be rebuilt from their own config at all (`rank`, `cells` are missing)
    ("module('tf_keras.src.layers.rnn.base_conv_lstm').ConvLSTMCell(rank=1, filters=2, kernel_size=3)", "filters"),
    ("module('tf_keras.src.layers.rnn.legacy_cells').MultiRNNCell("
     "[module('tf_keras.src.layers.rnn.legacy_cells').BasicRNNCell(2)])", "name"),
]


def _attribute(obj, dotted: str):
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def builtin_losses(keras, cases: list[tuple[str, str]]) -> list[str]:
    """The cases whose attribute comes back different from a config round trip (all should)."""
    lost = []
    names = {"keras": keras, "L": keras.layers, "module": importlib.import_module}
    for expression, attr in cases:
        layer = eval(expression, names)
        try:
            revived = type(layer).from_config(layer.get_config())
        except TypeError:  # a required argument is missing from the config
            lost.append(expression)
            continue
        if not same(_attribute(layer, attr), _attribute(revived, attr)):
            lost.append(expression)
    return lost


def test_keras3_builtin_layers_lose_these_arguments(keras3):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lost = builtin_losses(keras3, KERAS3_BUILTIN_LOSSES)
    assert lost == [expression for expression, _ in KERAS3_BUILTIN_LOSSES]


def test_keras3_conv_lstm_cell_cannot_be_rebuilt_from_its_config(keras3):
    from keras.src.layers.rnn.conv_lstm import ConvLSTMCell

    cell = ConvLSTMCell(rank=1, filters=2, kernel_size=3)
    with pytest.raises(TypeError, match="rank"):
        ConvLSTMCell.from_config(cell.get_config())


_BUILTIN_WORKER = """
import json, os, sys, warnings
os.environ["TF_USE_LEGACY_KERAS"] = "1"
warnings.simplefilter("ignore")
import importlib.util
spec = importlib.util.spec_from_file_location("cfglint_keras_confirms_builtins", sys.argv[1])
harness = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = harness
spec.loader.exec_module(harness)
import tf_keras
print("CFGLINT-RESULT " + json.dumps(harness.builtin_losses(tf_keras, harness.TFKERAS_BUILTIN_LOSSES)))
"""


# ===================================================================== CFG3xx / CFG403: evidence cases
# Patterns seen on released packages and on Keras's own layers. Each silenced pattern is a good example
# that round-trips here with non-default arguments; each newly reported one is a bad example that fails.
# They run through the same harness (tf-keras ones in the same child process) but are listed apart from
# CASES: `expect` is "clean" (the call completes with no difference) or "case" (the Case's own
# raises/differs). `tolerate` names differences a clean run may show that belong to another rule.


@dataclass(frozen=True)
class EvidenceRun:
    case: Case
    kind: str  # "bad" or "good": which example of the rule is imported
    expect: str  # "clean" or "case"
    tolerate: tuple[str, ...] = ()
    why: str = ""

    @property
    def id(self) -> str:
        index = self.case.bad if self.kind == "bad" else self.case.good
        return f"evidence-{self.case.code}-{self.kind}{index}-{self.case.call}-{self.expect}"


def _clean(code: str, good: int, call: str, kwargs: Kwargs = None, **more) -> Case:
    """A Case that only serves to run `rule.valid[good]` (its bad side is never run)."""
    return Case(code, 0, call, good=good, good_kwargs=kwargs or {}, differs=("(not run)",), **more)


EVIDENCE: list[EvidenceRun] = [
    # CFG301: a config returned from elsewhere (`return self.config`) is not a merge of the base keys.
    # Only the layer's name is lost on reload: CFG104's finding, not a failure.
    EvidenceRun(_clean("CFG301", 2, "from_config", {"units": 5}), "good", "clean", tolerate=("name:",)),
    # CFG301: base keys written literally by a project base and accepted by name in the subclass
    EvidenceRun(_clean("CFG301", 3, "save_load", {"rate": 0.25, "axis": 1, "name": "child_custom",
                                                  "dtype": "float64"}), "good", "clean"),
    # CFG301 (new): a project base writes name/trainable/dtype without super(); the subclass has no **kwargs
    EvidenceRun(Case("CFG301", 2, "from_config", {"units": 3},
                     raises=("TypeError", "unexpected keyword argument 'name'")), "bad", "case"),
    # CFG304: Keras 3 records defaults too: a function default fails even when nothing is passed
    EvidenceRun(Case("CFG304", 0, "save_load", {"name": "gate_default"},
                     raises=("NotImplementedError", "non-serializable argument values")), "bad", "case"),
    # CFG304: `activations.get(activation)` with a name round-trips (so only info) ...
    EvidenceRun(Case("CFG304", 2, "save_load", {"activation": "tanh", "name": "gate_custom"},
                     differs=("(not run)",)), "bad", "clean"),
    # ... and an object passed to it fails at save time: what the info finding warns about
    EvidenceRun(Case("CFG304", 2, "save_load", lambda keras: {"activation": keras.activations.tanh},
                     raises=("NotImplementedError", "non-serializable argument values")), "bad", "case"),
    # CFG305: `*args` handed only to Keras's own Layer.__init__ (Keras 3), or never read (tf-keras)
    EvidenceRun(_clean("CFG305", 2, "save_load", {"units": 5, "name": "fwd_custom", "trainable": False,
                                                  "dtype": "float64"}), "good", "clean"),
    EvidenceRun(_clean("CFG305", 3, "save_load", {"units": 5, "name": "ign_custom", "dtype": "float64"}),
                "good", "clean"),
    # CFG306: the var-keyword is meant for a sub-layer (automatic config feeds it back to the Dense)
    EvidenceRun(_clean("CFG306", 2, "save_load", {"units": 3, "name": "head_custom", "use_bias": False}),
                "good", "clean"),
    # CFG306: name, dtype and every config key are named parameters: nothing a reload passes is swallowed
    EvidenceRun(_clean("CFG306", 3, "save_load", {"bins": 4, "name": "hashed_custom", "dtype": "float64"}),
                "good", "clean"),
    # CFG308: the parent writes `scale` only when it is not None; the subclass fixes it to None ...
    EvidenceRun(_clean("CFG308", 2, "save_load", {"units": 5, "name": "unscaled_custom"}), "good", "clean"),
    # ... and fixed to 2.0 the key comes back and is passed twice
    EvidenceRun(Case("CFG308", 2, "from_config", {"units": 3},
                     raises=("TypeError", "got multiple values for keyword argument 'scale'")), "bad", "case"),
    # CFG308: an internal Keras base (not exported) need not return what it takes: ConvLSTM and `rank`
    EvidenceRun(_clean("CFG308", 3, "save_load", {"filters": 4, "kernel_size": 2, "padding": "same",
                                                  "name": "convlstm_custom"}, shape=(2, 3, 5, 4)),
                "good", "clean"),
    # CFG403: a build without regularized weights may run twice after a reload: nothing differs
    EvidenceRun(_clean("CFG403", 2, "save_load", {"units": 3}), "good", "clean"),
]

for _run in EVIDENCE:
    JOBS[_run.id] = (_run.case, _run.kind)  # after the parametrized tests above: only the tests below run them
EVIDENCE_RUNS = {run.id: run for run in EVIDENCE}


@pytest.mark.parametrize("run_id", [
    pytest.param(run.id, id=run.id, marks=[pytest.mark.tfkeras] if _target(run.case, run.kind) is Target.TF_KERAS
                 else []) for run in EVIDENCE])
def test_evidence_pattern_in_keras(run_id, request, tmp_path):
    run = EVIDENCE_RUNS[run_id]
    _, _, outcome = _outcome(run_id, request, tmp_path)
    if run.expect == "case":
        check(run.case, "bad", outcome)
        return
    assert "setup_error" not in outcome, outcome["setup_error"]
    assert outcome["raised"] is None, f"the call failed: {outcome['raised']}"
    diffs = [d for d in outcome["diffs"] if not d.startswith(run.tolerate or ("\0",))]
    assert diffs == [], f"the round trip differs: {outcome['diffs']}"


_MULTI_RNN_CELL = """
import os, sys
os.environ["TF_USE_LEGACY_KERAS"] = "1"
from tf_keras.src.layers.rnn import legacy_cells
cell = legacy_cells.MultiRNNCell([legacy_cells.BasicRNNCell(3), legacy_cells.BasicRNNCell(3)])
try:
    legacy_cells.MultiRNNCell.from_config(cell.get_config())
except TypeError as exc:
    print("CFGLINT-RESULT", " ".join(str(exc).split()))
"""


@pytest.mark.tfkeras
def test_tfkeras_builtin_layers_lose_these_arguments():
    if importlib.util.find_spec("tf_keras") is None:
        pytest.skip("needs tf-keras")
    env = {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow"}
    proc = subprocess.run([sys.executable, "-c", _BUILTIN_WORKER, __file__], capture_output=True, text=True,
                          env=env, timeout=300, check=False)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("CFGLINT-RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    assert json.loads(lines[-1].removeprefix("CFGLINT-RESULT ")) == [e for e, _ in TFKERAS_BUILTIN_LOSSES]


@pytest.mark.tfkeras
def test_multi_rnn_cell_is_a_real_tf_keras_bug():
    """The one CFG301 finding left on Keras's own layers: tf-keras's legacy `MultiRNNCell` returns
    `super().get_config()` (name, trainable, dtype) from an `__init__(cells, state_is_tuple)` without
    `**kwargs`, so its config cannot be passed back to it."""
    if importlib.util.find_spec("tf_keras") is None:
        pytest.skip("needs tf-keras")
    env = {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, "-c", _MULTI_RNN_CELL], capture_output=True, text=True, env=env,
                          timeout=300, check=False)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("CFGLINT-RESULT")]
    assert lines, proc.stderr[-2000:]
    assert "MultiRNNCell.__init__() got an unexpected keyword argument 'name'" in lines[-1]


# ===================================== assets, weight files, removed parent keys, base-Layer keywords
# False alarms from released packages (tokenizers whose vocabulary is a `.keras` asset, pretrained
# weight files loaded in `__init__`, a parent key removed inside `assert`/`if`, base-Layer keywords no
# config returns), each a good example run here with non-default arguments; and the counter-cases the
# rules still report, each a bad example that fails.


def make_pretrained(p: Probe):
    """The example model built twice: the second gets the first's saved weights file as its `weights`
    argument and must compute what the first does (the argument took effect)."""
    import numpy as np

    cls = p.prepare_class()
    first = cls(*p.args, **p.kwargs)
    path = p.path(".weights.h5")
    first.save_weights(path)
    second = cls(*p.args, **p.kwargs, weights=path)
    if not np.allclose(np.asarray(first(p.x)), np.asarray(second(p.x)), atol=1e-6):
        raise AssertionError("the `weights` file was not loaded")
    return second


MAKERS["pretrained"] = make_pretrained

VOCABULARY = ["the", "quick", "fox"]

ASSET_RUNS: list[EvidenceRun] = [
    # CFG102: `load_assets` assigns the attribute holding the vocabulary: a `.keras` reload restores it ...
    EvidenceRun(_clean("CFG102", 11, "save_load", {"vocabulary": VOCABULARY}), "good", "clean"),
    # ... a bare `from_config` does not (the asset is only read from a `.keras` file)
    EvidenceRun(Case("CFG102", 0, "from_config", {"vocabulary": VOCABULARY}, good=11,
                     differs=("attribute vocabulary: original ['the', 'quick', 'fox'], revived None",)),
                "good", "case"),
    # CFG102: the setter `__init__` hands it to (through a subclass) is what `load_assets` calls
    EvidenceRun(_clean("CFG102", 12, "save_load", {"vocabulary": VOCABULARY, "lowercase": True}), "good", "clean"),
    # CFG101: a required vocabulary still fails: the layer is rebuilt from its config before assets load
    EvidenceRun(Case("CFG101", 6, "save_load", {"vocabulary": VOCABULARY},
                     raises=("TypeError", "missing 1 required positional argument: 'vocabulary'")), "bad", "case"),
    # CFG102: an argument that only makes the default `name` (`kwargs["name"] = prefix + ...`): the config
    # keeps the name itself, so the reload gets the same name with any prefix
    EvidenceRun(_clean("CFG102", 14, "save_load", {"units": 3, "name_prefix": "custom_"}), "good", "clean"),
    EvidenceRun(_clean("CFG102", 14, "from_config", {"units": 3, "name_prefix": "custom_"}), "good", "clean"),
    # CFG102: a weights file loaded in `__init__`: the `.keras` file carries the weights themselves
    EvidenceRun(_clean("CFG102", 13, "save_load_weights", {"units": 5, "name": "clf_custom"}, make="pretrained"),
                "good", "clean"),
    # CFG308: the parent's keys are popped inside `assert`/`if` (base re-exported by a package, keyword-only)
    EvidenceRun(_clean("CFG308", 4, "save_load", {"receiver_tag": 1, "units": 3, "name": "pool_custom"}),
                "good", "clean"),
    EvidenceRun(_clean("CFG308", 4, "from_config", {"receiver_tag": 1, "units": 3}), "good", "clean"),
    # CFG308: base-Layer keywords no config returns (Keras 3, a `Dense` parent, tf-keras)
    EvidenceRun(_clean("CFG308", 5, "save_load", {"units": 3, "name": "fp_custom", "trainable": False}),
                "good", "clean"),
    EvidenceRun(_clean("CFG308", 6, "save_load", {"units": 3, "use_bias": False, "name": "proj_custom"}),
                "good", "clean"),
    EvidenceRun(_clean("CFG308", 7, "save_load", {"units": 3, "name": "fp_custom", "trainable": False}),
                "good", "clean"),
    # CFG308: an activity regularizer that is set comes back in Keras 3's base config: passed twice
    EvidenceRun(Case("CFG308", 3, "from_config", {"units": 3},
                     raises=("TypeError", "got multiple values for keyword argument 'activity_regularizer'")),
                "bad", "case"),
]

for _run in ASSET_RUNS:
    assert _run.id not in JOBS, _run.id
    JOBS[_run.id] = (_run.case, _run.kind)
ASSET_RUN_IDS = {run.id: run for run in ASSET_RUNS}


@pytest.mark.parametrize("run_id", [
    pytest.param(run.id, id=run.id, marks=[pytest.mark.tfkeras] if _target(run.case, run.kind) is Target.TF_KERAS
                 else []) for run in ASSET_RUNS])
def test_asset_weight_and_base_keyword_patterns_in_keras(run_id, request, tmp_path):
    run = ASSET_RUN_IDS[run_id]
    _, _, outcome = _outcome(run_id, request, tmp_path)
    if run.expect == "case":
        check(run.case, "bad", outcome)
        return
    assert "setup_error" not in outcome, outcome["setup_error"]
    assert outcome["raised"] is None, f"the call failed: {outcome['raised']}"
    assert outcome["diffs"] == [], f"the round trip differs: {outcome['diffs']}"
# ===================================== end: assets, weight files, removed parent keys, base-Layer keywords
