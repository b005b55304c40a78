"""Class discovery on real code: which classes are Keras Layers/Models, however they are spelled.

CFG302 (a Layer without `get_config` and without `**kwargs`) and CFG303 (a Model with constructor
parameters and no `get_config`) fire on the simplest classes, so they serve as probes of "is this
class seen as a Keras Layer / Model". CFG101/CFG102 probe which `get_config` a class is judged by.
"""

from __future__ import annotations

import signal
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from helpers import run_check, write_project

PYPROJECT = '[project]\nname = "demo"\n'

# A base layer whose get_config covers its only argument.
BASE = """
import keras


class MyBase(keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def get_config(self):
        config = super().get_config()
        config["units"] = self.units
        return config
"""

# A subclass (no 'keras' anywhere in its text) adding an argument the inherited get_config misses.
# Line 5 is `def __init__`; `extra` starts at column 31.
LEAF = """
{imports}


class Leaf({base}):
    def __init__(self, units, extra=2, **kwargs):
        super().__init__(units, **kwargs)
        self.extra = extra
"""
LEAF_HIT = [("pkg/leaf.py", 5, "CFG102")]

# A layer whose __init__ has no **kwargs: CFG302 fires on its `def __init__` line.
AUTO_LAYER = """
{imports}


class Probe({base}):
    def __init__(self, units):
        super().__init__()
        self.units = units
"""

# A model with a parameter and no get_config: CFG303 fires on its `class` line.
AUTO_MODEL = """
{imports}


class Net({base}):
    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)
        self.units = units
"""

# A subclass of a built-in layer adding `groups`, which no get_config returns.
BUILTIN_SUB = """
{imports}


class Grouped({base}):
    def __init__(self, {first}, groups, **kwargs):
        super().__init__({first}, **kwargs)
        self.groups = groups
"""


def check(root: Path, files: dict[str, str], paths: list[str] | None = None, *,
          select: list[str], target: str | None = None) -> list[tuple[str, int, str]]:
    """Write a project, check it (the whole root, or `paths` relative to it) and list the findings."""
    write_project(root, {"pyproject.toml": PYPROJECT, **files})
    report = run_check(root, [str(root / p) for p in paths] if paths else None, select=select, target=target)
    base = root.resolve()
    return sorted((Path(f.path).resolve().relative_to(base).as_posix(), f.line, f.code)
                  for f in report.findings)


def line_of(source: str, text: str) -> int:
    """The 1-based line of the first line of `source` (as written to disk) that contains `text`."""
    lines = textwrap.dedent(source).lstrip("\n").splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail instead of hanging (cycles of imports or bases must terminate)."""
    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"did not finish within {seconds}s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# ---------------------------------------------------------------------------------------------
# Spellings of keras.layers.Layer / keras.Model in one file
# ---------------------------------------------------------------------------------------------

LAYER_SPELLINGS = {
    "keras.layers.Layer": ("import keras", "keras.layers.Layer"),
    "keras.Layer": ("import keras", "keras.Layer"),
    "import keras as K": ("import keras as K", "K.layers.Layer"),
    "import keras.layers": ("import keras.layers", "keras.layers.Layer"),
    "from keras import Layer": ("from keras import Layer", "Layer"),
    "tf.keras": ("import tensorflow as tf", "tf.keras.layers.Layer"),
    "tf.keras.Layer": ("import tensorflow as tf", "tf.keras.Layer"),
    "tensorflow.keras": ("import tensorflow", "tensorflow.keras.layers.Layer"),
    "import tensorflow.keras as K": ("import tensorflow.keras as K", "K.layers.Layer"),
    "from tensorflow import keras": ("from tensorflow import keras", "keras.layers.Layer"),
    "from tensorflow.keras import layers": ("from tensorflow.keras import layers", "layers.Layer"),
    "from tensorflow.keras.layers import Layer": ("from tensorflow.keras.layers import Layer", "Layer"),
    "tf_keras": ("import tf_keras", "tf_keras.layers.Layer"),
    "import tf_keras as keras": ("import tf_keras as keras", "keras.layers.Layer"),
    "from keras import layers as L": ("from keras import layers as L", "L.Layer"),
    "from keras.layers import Layer as KL": ("from keras.layers import Layer as KL", "KL"),
    "module alias of tf.keras.layers": ("import tensorflow as tf\nlayers = tf.keras.layers", "layers.Layer"),
    "module alias of the class": ("import keras\nLayer = keras.layers.Layer", "Layer"),
    "star import from keras.layers": ("from keras.layers import *", "Layer"),
    "star import from tensorflow.keras.layers": ("from tensorflow.keras.layers import *", "Layer"),
    "star import from keras": ("from keras import *", "layers.Layer"),
    "import inside try/except": (
        "try:\n    import tf_keras as keras\nexcept ImportError:\n    from tensorflow import keras",
        "keras.layers.Layer"),
    "parenthesised multi-line import": ("from keras.layers import (\n    Dense,\n    Layer,\n)", "Layer"),
}


@pytest.mark.parametrize("imports, base", list(LAYER_SPELLINGS.values()), ids=list(LAYER_SPELLINGS))
def test_layer_spellings_are_keras_layers(tmp_path: Path, imports: str, base: str) -> None:
    source = AUTO_LAYER.format(imports=imports, base=base)
    line = line_of(source, "def __init__")
    assert check(tmp_path, {"m.py": source}, select=["CFG302"]) == [("m.py", line, "CFG302")]


MODEL_SPELLINGS = {
    "keras.Model": ("import keras", "keras.Model"),
    "keras.models.Model": ("import keras", "keras.models.Model"),
    "from keras import Model": ("from keras import Model", "Model"),
    "tf.keras.Model": ("import tensorflow as tf", "tf.keras.Model"),
    "tf.keras.models.Model": ("import tensorflow as tf", "tf.keras.models.Model"),
    "from tensorflow import keras": ("from tensorflow import keras", "keras.Model"),
    "from tensorflow.keras.models import Model": ("from tensorflow.keras.models import Model", "Model"),
    "tensorflow.keras.Model": ("import tensorflow", "tensorflow.keras.Model"),
    "star import from keras.models": ("from keras.models import *", "Model"),
    "module alias": ("import tensorflow as tf\nModel = tf.keras.Model", "Model"),
}


@pytest.mark.parametrize("imports, base", list(MODEL_SPELLINGS.values()), ids=list(MODEL_SPELLINGS))
def test_model_spellings_are_keras_models(tmp_path: Path, imports: str, base: str) -> None:
    source = AUTO_MODEL.format(imports=imports, base=base)
    line = line_of(source, "class Net")
    assert check(tmp_path, {"m.py": source}, select=["CFG303"]) == [("m.py", line, "CFG303")]


def test_a_layer_is_not_a_model_and_a_model_is_judged_as_one(tmp_path: Path) -> None:
    layer = AUTO_MODEL.format(imports="import keras", base="keras.layers.Layer").replace("Net", "Lay")
    model = AUTO_MODEL.format(imports="import keras", base="keras.Model")
    result = check(tmp_path, {"layer.py": layer, "model.py": model}, select=["CFG303"])
    assert result == [("model.py", line_of(model, "class Net"), "CFG303")]


NOT_KERAS = {
    "Layer from an unrelated library": ("from mylib import Layer", "Layer"),
    "Layer from an unrelated library, keras imported too": ("import keras\nfrom mylib import Layer", "Layer"),
    "layers.Layer of an unrelated library": ("from mylib import layers", "layers.Layer"),
    "Model from an unrelated library": ("from mylib import Model", "Model"),
    "Model from an unrelated library, keras imported too": ("import keras\nfrom orm.base import Model", "Model"),
    "torch module": ("import torch.nn as nn", "nn.Module"),
    "local class named Layer": ("class Layer:\n    pass", "Layer"),
    "local class named Layer, keras imported too": ("import keras\n\n\nclass Layer:\n    pass", "Layer"),
    "local class named Layer shadows a star import": ("from keras.layers import *\n\n\nclass Layer:\n    pass",
                                                       "Layer"),
    "plain object": ("import keras", "object"),
}


@pytest.mark.parametrize("imports, base", list(NOT_KERAS.values()), ids=list(NOT_KERAS))
def test_classes_merely_named_like_keras_are_not_keras(tmp_path: Path, imports: str, base: str) -> None:
    layer = AUTO_LAYER.format(imports=imports, base=base)
    model = AUTO_MODEL.format(imports=imports, base=base)
    assert check(tmp_path, {"a.py": layer, "b.py": model}, select=["CFG302", "CFG303"]) == []


def test_local_class_named_layer_does_not_hide_a_real_keras_base(tmp_path: Path) -> None:
    source = AUTO_LAYER.format(imports="import keras\n\n\nclass Layer:\n    pass", base="keras.layers.Layer")
    assert check(tmp_path, {"m.py": source}, select=["CFG302"]) == [
        ("m.py", line_of(source, "def __init__"), "CFG302")]


def test_local_subclass_of_keras_layer_named_layer_is_keras(tmp_path: Path) -> None:
    source = AUTO_LAYER.format(imports="import keras\n\n\nclass Layer(keras.layers.Layer):\n    pass",
                               base="Layer")
    assert check(tmp_path, {"m.py": source}, select=["CFG302"]) == [
        ("m.py", line_of(source, "def __init__"), "CFG302")]


# ---------------------------------------------------------------------------------------------
# Subclasses of built-in layers
# ---------------------------------------------------------------------------------------------

BUILTIN_SPELLINGS = {
    "keras.layers.Dense": ("import keras", "keras.layers.Dense", "units"),
    "tf.keras.layers.Dense": ("import tensorflow as tf", "tf.keras.layers.Dense", "units"),
    "from keras.layers import Dense": ("from keras.layers import Dense", "Dense", "units"),
    "from keras.layers import Dense as KD": ("from keras.layers import Dense as KD", "KD", "units"),
    "import keras.layers as kl": ("import keras.layers as kl", "kl.Dense", "units"),
    "L.Conv2D": ("from keras import layers as L", "L.Conv2D", "filters"),
    "tf_keras.layers.Dense": ("import tf_keras", "tf_keras.layers.Dense", "units"),
    "keras.layers.LSTM": ("import keras", "keras.layers.LSTM", "units"),
    "module alias Dense = tf.keras.layers.Dense": ("import tensorflow as tf\nDense = tf.keras.layers.Dense",
                                                   "Dense", "units"),
    "module alias KL = tf.keras.layers": ("import tensorflow as tf\nKL = tf.keras.layers", "KL.Dense", "units"),
}


@pytest.mark.parametrize("imports, base, first", list(BUILTIN_SPELLINGS.values()), ids=list(BUILTIN_SPELLINGS))
def test_subclass_of_builtin_layer_must_cover_added_arguments(tmp_path: Path, imports: str, base: str,
                                                              first: str) -> None:
    source = BUILTIN_SUB.format(imports=imports, base=base, first=first)
    line = line_of(source, "def __init__")
    assert check(tmp_path, {"m.py": source}, select=["CFG101", "CFG102"]) == [("m.py", line, "CFG101")]


def test_subclass_of_builtin_layer_forwarding_everything_is_fine(tmp_path: Path) -> None:
    source = """
        import keras


        class Wide(keras.layers.Dense):
            def __init__(self, units, **kwargs):
                super().__init__(units, **kwargs)
        """
    assert check(tmp_path, {"m.py": source}, select=["CFG101", "CFG102", "CFG302"]) == []


def test_star_import_of_builtin_layer_in_an_explicit_file(tmp_path: Path) -> None:
    source = BUILTIN_SUB.format(imports="from keras.layers import *", base="Dense", first="units")
    assert check(tmp_path, {"m.py": source}, ["m.py"], select=["CFG101"]) == [
        ("m.py", line_of(source, "def __init__"), "CFG101")]


@pytest.mark.parametrize("module", ["keras.layers", "tensorflow.keras.layers"])
def test_star_import_of_builtin_layer_in_a_directory(tmp_path: Path, module: str) -> None:
    source = BUILTIN_SUB.format(imports=f"from {module} import *", base="Dense", first="units")
    assert check(tmp_path, {"m.py": source}, select=["CFG101"]) == [
        ("m.py", line_of(source, "def __init__"), "CFG101")]


@pytest.mark.parametrize("imports", [
    "from tensorflow import keras as K\nKL = K.layers",
    "import tensorflow as tf\nK = tf.keras\nKL = K.layers",
])
def test_alias_of_an_alias_in_a_directory(tmp_path: Path, imports: str) -> None:
    source = BUILTIN_SUB.format(imports=imports, base="KL.Dense", first="units")
    assert check(tmp_path, {"m.py": source}, select=["CFG101"]) == [
        ("m.py", line_of(source, "def __init__"), "CFG101")]


def test_project_subclass_of_builtin_layer_across_files(tmp_path: Path) -> None:
    files = {
        "pkg/__init__.py": "",
        "pkg/dense.py": "import keras\n\n\nclass MyDense(keras.layers.Dense):\n    pass\n",
        "pkg/leaf.py": BUILTIN_SUB.format(imports="from .dense import MyDense", base="MyDense", first="units"),
    }
    assert check(tmp_path, files, select=["CFG101", "CFG102"]) == [("pkg/leaf.py", 5, "CFG101")]


# ---------------------------------------------------------------------------------------------
# Bases defined in other files of the project
# ---------------------------------------------------------------------------------------------

CROSS_FILE = {
    "relative import": ("from .base import MyBase", "MyBase"),
    "relative import with alias": ("from .base import MyBase as B", "B"),
    "absolute import of the project package": ("from pkg.base import MyBase", "MyBase"),
    "import of the module": ("import pkg.base", "pkg.base.MyBase"),
    "import of the module with alias": ("import pkg.base as base_module", "base_module.MyBase"),
    "relative import of the module": ("from . import base", "base.MyBase"),
}


@pytest.mark.parametrize("imports, base", list(CROSS_FILE.values()), ids=list(CROSS_FILE))
@pytest.mark.parametrize("single_file", [False, True], ids=["directory", "single-file"])
def test_base_in_another_file(tmp_path: Path, imports: str, base: str, single_file: bool) -> None:
    files = {"pkg/__init__.py": "", "pkg/base.py": BASE, "pkg/leaf.py": LEAF.format(imports=imports, base=base)}
    paths = ["pkg/leaf.py"] if single_file else None
    assert check(tmp_path, files, paths, select=["CFG101", "CFG102"]) == LEAF_HIT


def test_inherited_finding_points_at_the_parameter(tmp_path: Path) -> None:
    files = {"pkg/__init__.py": "", "pkg/base.py": BASE,
             "pkg/leaf.py": LEAF.format(imports="from .base import MyBase", base="MyBase")}
    write_project(tmp_path, {"pyproject.toml": PYPROJECT, **files})
    report = run_check(tmp_path, select=["CFG102"])
    assert [(f.line, f.column, f.code) for f in report.findings] == [(5, 31, "CFG102")]


@pytest.mark.parametrize("single_file", [False, True], ids=["directory", "single-file"])
def test_parent_relative_import(tmp_path: Path, single_file: bool) -> None:
    files = {
        "pkg/__init__.py": "",
        "pkg/core/__init__.py": "",
        "pkg/core/base.py": BASE,
        "pkg/models/__init__.py": "",
        "pkg/models/leaf.py": LEAF.format(imports="from ..core.base import MyBase", base="MyBase"),
    }
    paths = ["pkg/models/leaf.py"] if single_file else None
    assert check(tmp_path, files, paths, select=["CFG101", "CFG102"]) == [("pkg/models/leaf.py", 5, "CFG102")]


REEXPORTS = {
    "from package": ({"pkg/__init__.py": "from .base import MyBase\n"}, "from pkg import MyBase", "MyBase"),
    "relative from package": ({"pkg/__init__.py": "from .base import MyBase\n"}, "from . import MyBase",
                              "MyBase"),
    "attribute of package": ({"pkg/__init__.py": "from .base import MyBase\n"}, "import pkg", "pkg.MyBase"),
    "through two __init__ files": ({"pkg/__init__.py": "from .core import MyBase\n",
                                    "pkg/core/__init__.py": "from .base import MyBase\n",
                                    "pkg/core/base.py": BASE}, "from pkg import MyBase", "MyBase"),
    "absolute re-export": ({"pkg/__init__.py": "from pkg.base import MyBase\n"}, "from pkg import MyBase",
                           "MyBase"),
}


@pytest.mark.parametrize("extra, imports, base", list(REEXPORTS.values()), ids=list(REEXPORTS))
@pytest.mark.parametrize("single_file", [False, True], ids=["directory", "single-file"])
def test_reexport_through_package_init(tmp_path: Path, extra: dict[str, str], imports: str, base: str,
                                       single_file: bool) -> None:
    files = {"pkg/__init__.py": "", "pkg/base.py": BASE, **extra,
             "pkg/leaf.py": LEAF.format(imports=imports, base=base)}
    paths = ["pkg/leaf.py"] if single_file else None
    assert check(tmp_path, files, paths, select=["CFG101", "CFG102"]) == LEAF_HIT


def test_reexport_under_an_alias_in_an_explicit_file(tmp_path: Path) -> None:
    files = {"pkg/__init__.py": "from .base import MyBase as Base\n", "pkg/base.py": BASE,
             "pkg/leaf.py": LEAF.format(imports="from pkg import Base", base="Base")}
    assert check(tmp_path, files, ["pkg/leaf.py"], select=["CFG101", "CFG102"]) == LEAF_HIT


@pytest.mark.parametrize("init, imports, base", [
    ("", "from pkg.base import MyBase as B", "B"),
    ("from .base import MyBase as Base\n", "from pkg import Base", "Base"),
    ("", "from pkg import base\nBase = base.MyBase", "Base"),
], ids=["absolute import with alias", "re-export under alias", "module-level alias of a project class"])
def test_aliased_project_base_in_a_directory(tmp_path: Path, init: str, imports: str, base: str) -> None:
    files = {"pkg/__init__.py": init, "pkg/base.py": BASE, "pkg/leaf.py": LEAF.format(imports=imports, base=base)}
    expected = [("pkg/leaf.py", line_of(LEAF.format(imports=imports, base=base), "def __init__"), "CFG102")]
    assert check(tmp_path, files, select=["CFG101", "CFG102"]) == expected


@pytest.mark.parametrize("init, imports", [
    ("from .base import *\n", "from pkg import MyBase"),
    ("from .base import *\n", "from . import MyBase"),
    ("", "from .base import *"),
], ids=["star re-export, absolute", "star re-export, relative", "star import in the module"])
@pytest.mark.parametrize("single_file", [False, True], ids=["directory", "single-file"])
def test_star_imports_of_project_modules(tmp_path: Path, init: str, imports: str, single_file: bool) -> None:
    files = {"pkg/__init__.py": init, "pkg/base.py": BASE,
             "pkg/leaf.py": LEAF.format(imports=imports, base="MyBase")}
    paths = ["pkg/leaf.py"] if single_file else None
    assert check(tmp_path, files, paths, select=["CFG101", "CFG102"]) == LEAF_HIT


MID = """
from pkg.a import MyBase


class Mid(MyBase):
    pass
"""
CHAIN = {"pkg/__init__.py": "", "pkg/a.py": BASE, "pkg/b.py": MID,
         "pkg/c.py": LEAF.format(imports="from pkg.b import Mid", base="Mid")}


@pytest.mark.parametrize("single_file", [False, True], ids=["directory", "single-file"])
def test_three_files_deep(tmp_path: Path, single_file: bool) -> None:
    # pkg/b.py and pkg/c.py mention neither keras nor Layer: only the fed-back class names find them
    paths = ["pkg/c.py"] if single_file else None
    assert check(tmp_path, CHAIN, paths, select=["CFG101", "CFG102"]) == [("pkg/c.py", 5, "CFG102")]


def test_three_files_deep_discovered_in_reverse_file_order(tmp_path: Path) -> None:
    files = {"pkg/__init__.py": "", "pkg/z.py": BASE,
             "pkg/m.py": MID.replace("pkg.a", "pkg.z"),
             "pkg/a.py": LEAF.format(imports="from pkg.m import Mid", base="Mid")}
    assert check(tmp_path, files, select=["CFG101", "CFG102"]) == [("pkg/a.py", 5, "CFG102")]


def test_middle_class_of_a_chain_is_seen_as_keras(tmp_path: Path) -> None:
    files = dict(CHAIN)
    files["pkg/b.py"] = MID.replace("    pass", "    def __init__(self, units):\n        super().__init__(units)")
    # Mid's __init__ drops **kwargs while MyBase's config merges super(): CFG301 on Mid
    assert check(tmp_path, files, select=["CFG301"]) == [("pkg/b.py", 5, "CFG301")]


def test_no_keras_text_file_found_through_known_class_name(tmp_path: Path) -> None:
    leaf = LEAF.format(imports="from pkg.base import MyBase", base="MyBase")
    assert "keras" not in leaf.lower() and "Layer" not in leaf
    files = {"pkg/__init__.py": "", "pkg/base.py": BASE, "pkg/leaf.py": leaf}
    assert check(tmp_path, files, select=["CFG101", "CFG102"]) == LEAF_HIT


def test_directory_whose_base_lives_outside_it(tmp_path: Path) -> None:
    files = {
        "pkg/__init__.py": "",
        "pkg/core/__init__.py": "",
        "pkg/core/base.py": BASE,
        "pkg/models/__init__.py": "",
        "pkg/models/leaf.py": LEAF.format(imports="from pkg.core.base import MyBase", base="MyBase"),
    }
    assert check(tmp_path, files, ["pkg/models"], select=["CFG101", "CFG102"]) == [
        ("pkg/models/leaf.py", 5, "CFG102")]


def test_directory_whose_base_lives_outside_it_relative_import(tmp_path: Path) -> None:
    files = {
        "pkg/__init__.py": "",
        "pkg/core/__init__.py": "",
        "pkg/core/base.py": BASE,
        "pkg/models/__init__.py": "",
        "pkg/models/leaf.py": LEAF.format(imports="from ..core.base import MyBase", base="MyBase"),
    }
    assert check(tmp_path, files, ["pkg/models"], select=["CFG101", "CFG102"]) == [
        ("pkg/models/leaf.py", 5, "CFG102")]


@pytest.mark.parametrize("single_file", [False, True], ids=["directory", "single-file"])
def test_src_layout(tmp_path: Path, single_file: bool) -> None:
    files = {"src/pkg/__init__.py": "", "src/pkg/base.py": BASE, "src/pkg/mid.py": MID.replace("pkg.a", "pkg.base"),
             "src/pkg/leaf.py": LEAF.format(imports="from pkg.mid import Mid", base="Mid")}
    paths = ["src/pkg/leaf.py"] if single_file else None
    assert check(tmp_path, files, paths, select=["CFG101", "CFG102"]) == [("src/pkg/leaf.py", 5, "CFG102")]


@pytest.mark.parametrize("single_file", [False, True], ids=["directory", "single-file"])
def test_flat_scripts_next_to_each_other(tmp_path: Path, single_file: bool) -> None:
    files = {"base.py": BASE, "train.py": LEAF.format(imports="from base import MyBase", base="MyBase")}
    paths = ["train.py"] if single_file else None
    assert check(tmp_path, files, paths, select=["CFG101", "CFG102"]) == [("train.py", 5, "CFG102")]


@pytest.mark.parametrize("single_file", [False, True], ids=["directory", "single-file"])
def test_namespace_package(tmp_path: Path, single_file: bool) -> None:
    files = {"nets/base.py": BASE, "train.py": LEAF.format(imports="from nets.base import MyBase", base="MyBase")}
    paths = ["train.py"] if single_file else None
    assert check(tmp_path, files, paths, select=["CFG101", "CFG102"]) == [("train.py", 5, "CFG102")]


NO_CONFIG_BASE = """
import keras


class MyBase(keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
"""
NO_KWARGS_SUB = """
from {module} import MyBase


class Block(MyBase):
    def __init__(self, units, extra):
        super().__init__(units)
        self.extra = extra
"""


@pytest.mark.parametrize("module", ["base", "nets_layers"])
def test_project_module_with_an_ordinary_name(tmp_path: Path, module: str) -> None:
    files = {f"{module}.py": NO_CONFIG_BASE, "block.py": NO_KWARGS_SUB.format(module=module)}
    assert check(tmp_path, files, select=["CFG302"]) == [("block.py", 5, "CFG302")]


@pytest.mark.parametrize("files", [
    {"layers.py": NO_CONFIG_BASE, "block.py": NO_KWARGS_SUB.format(module="layers")},
    {"layers/__init__.py": "", "layers/base.py": NO_CONFIG_BASE,
     "block.py": NO_KWARGS_SUB.format(module="layers.base")},
], ids=["layers.py", "layers/base.py"])
def test_project_module_named_layers(tmp_path: Path, files: dict[str, str]) -> None:
    assert check(tmp_path, files, select=["CFG302"]) == [("block.py", 5, "CFG302")]


@pytest.mark.parametrize("module, name", [("models", "Model"), ("layers", "Layer")])
def test_unrelated_project_class_in_module_named_like_keras(tmp_path: Path, module: str, name: str) -> None:
    files = {
        f"{module}.py": f"class {name}:\n    def __init__(self, name):\n        self.name = name\n",
        "user.py": f"from {module} import {name}\n\n\nclass User({name}):\n"
                   "    def __init__(self, name, age):\n        super().__init__(name)\n",
    }
    assert check(tmp_path, files, select=["CFG302", "CFG303"]) == []


# ---------------------------------------------------------------------------------------------
# Inherited get_config
# ---------------------------------------------------------------------------------------------

INHERITING_RULES = ["CFG101", "CFG102", "CFG103", "CFG104", "CFG301", "CFG302", "CFG303"]


@pytest.mark.parametrize("body", [
    "    pass\n",
    "    def __init__(self, units, **kwargs):\n        super().__init__(units, **kwargs)\n",
    "    def call(self, x):\n        return x\n",
], ids=["empty", "same arguments", "only call"])
def test_subclass_covered_by_inherited_get_config_is_fine(tmp_path: Path, body: str) -> None:
    files = {"pkg/__init__.py": "", "pkg/base.py": BASE,
             "pkg/leaf.py": "from .base import MyBase\n\n\nclass Leaf(MyBase):\n" + body}
    assert check(tmp_path, files, select=INHERITING_RULES) == []


def test_subclass_adding_required_argument_gets_cfg101(tmp_path: Path) -> None:
    leaf = """
        from .base import MyBase


        class Leaf(MyBase):
            def __init__(self, units, extra, **kwargs):
                super().__init__(units, **kwargs)
                self.extra = extra
        """
    files = {"pkg/__init__.py": "", "pkg/base.py": BASE, "pkg/leaf.py": leaf}
    write_project(tmp_path, {"pyproject.toml": PYPROJECT, **files})
    report = run_check(tmp_path, select=["CFG101", "CFG102"])
    assert [(Path(f.path).name, f.line, f.column, f.code) for f in report.findings] == [
        ("leaf.py", 5, 31, "CFG101")]


def test_inherited_get_config_in_the_same_file(tmp_path: Path) -> None:
    source = BASE + """

class Leaf(MyBase):
    def __init__(self, units, extra=2, **kwargs):
        super().__init__(units, **kwargs)
        self.extra = extra


class Fine(MyBase):
    pass
"""
    assert check(tmp_path, {"m.py": source}, select=["CFG101", "CFG102"]) == [
        ("m.py", line_of(source, "extra=2"), "CFG102")]


# ---------------------------------------------------------------------------------------------
# target = auto
# ---------------------------------------------------------------------------------------------

BUILD = """
{imports}


class Twice({base}):
    def build(self, input_shape):
        self.w = self.add_weight(name="w", shape=(input_shape[-1], 2), regularizer="l2")
"""


@pytest.mark.parametrize("imports, base, tf_keras", [
    ("import tf_keras as keras", "keras.layers.Layer", True),
    ("import tf_keras", "tf_keras.layers.Layer", True),
    ("from tf_keras import layers", "layers.Layer", True),
    ("from tf_keras.layers import Layer", "Layer", True),
    ("import keras", "keras.layers.Layer", False),
    ("import tensorflow as tf", "tf.keras.layers.Layer", False),
    ("from tensorflow import keras", "keras.layers.Layer", False),
])
def test_auto_target_per_file(tmp_path: Path, imports: str, base: str, tf_keras: bool) -> None:
    source = BUILD.format(imports=imports, base=base)
    expected = [("m.py", line_of(source, "def build"), "CFG403")] if tf_keras else []
    assert check(tmp_path, {"m.py": source}, select=["CFG403"], target="auto") == expected


def test_auto_target_mixed_project(tmp_path: Path) -> None:
    files = {"k2.py": BUILD.format(imports="import tf_keras as keras", base="keras.layers.Layer"),
             "k3.py": BUILD.format(imports="import keras", base="keras.layers.Layer")}
    assert check(tmp_path, files, select=["CFG403"], target="auto") == [("k2.py", 5, "CFG403")]
    assert check(tmp_path, files, select=["CFG403"]) == [("k2.py", 5, "CFG403")]  # auto is the default
    assert check(tmp_path, files, select=["CFG403"], target="tf-keras") == [
        ("k2.py", 5, "CFG403"), ("k3.py", 5, "CFG403")]
    assert check(tmp_path, files, select=["CFG403"], target="keras3") == []


# ---------------------------------------------------------------------------------------------
# Cycles terminate
# ---------------------------------------------------------------------------------------------

CYCLE_A = """
from .b import B


class A(B):
    def __init__(self, x):
        super().__init__()
"""
CYCLE_B = """
from .a import A


class B(A):
    def __init__(self, x):
        super().__init__()
"""


@pytest.mark.parametrize("paths", [None, ["pkg/a.py"], ["pkg/b.py"]], ids=["directory", "a.py", "b.py"])
def test_cycle_of_bases_across_files(tmp_path: Path, paths: list[str] | None) -> None:
    files = {"pkg/__init__.py": "", "pkg/a.py": CYCLE_A, "pkg/b.py": CYCLE_B}
    with deadline(10):
        assert check(tmp_path, files, paths, select=["CFG302"]) == []


def test_cycle_of_bases_with_a_keras_base(tmp_path: Path) -> None:
    a = "import keras" + CYCLE_A.replace("class A(B)", "class A(B, keras.layers.Layer)")
    files = {"pkg/__init__.py": "", "pkg/a.py": a, "pkg/b.py": CYCLE_B}
    with deadline(10):
        assert check(tmp_path, files, select=["CFG302"]) == [("pkg/a.py", 6, "CFG302"), ("pkg/b.py", 5, "CFG302")]


@pytest.mark.parametrize("source", [
    "import keras\n\n\nclass A(A):\n    def __init__(self, x):\n        pass\n",
    ("import keras\n\n\nclass A(B):\n    def __init__(self, x):\n        pass\n\n\n"
     "class B(A):\n    def __init__(self, x):\n        pass\n"),
], ids=["class is its own base", "two classes in one file"])
def test_cycle_of_bases_in_one_file(tmp_path: Path, source: str) -> None:
    with deadline(10):
        assert check(tmp_path, {"m.py": source}, select=["CFG302"]) == []


def test_cycle_of_imports_between_keras_modules(tmp_path: Path) -> None:
    files = {
        "pkg/__init__.py": "from .a import A\nfrom .b import B\n",
        "pkg/a.py": "import keras\nfrom .b import B\n\n\nclass A(keras.layers.Layer):\n"
                    "    def __init__(self, x):\n        super().__init__()\n",
        "pkg/b.py": "from .a import A\n\n\nclass B(A):\n    def __init__(self, y):\n        super().__init__(y)\n",
    }
    with deadline(10):
        assert check(tmp_path, files, select=["CFG302"]) == [("pkg/a.py", 6, "CFG302"), ("pkg/b.py", 5, "CFG302")]
        assert check(tmp_path, files, ["pkg/b.py"], select=["CFG302"]) == [("pkg/b.py", 5, "CFG302")]


@pytest.mark.parametrize("files", [
    {"pkg/__init__.py": "from .a import X\n", "pkg/a.py": "from pkg import X\n"},
    {"pkg/__init__.py": "from . import X\n"},
    {"pkg/__init__.py": "from pkg.a import X\n", "pkg/a.py": "from pkg.b import X\n",
     "pkg/b.py": "from pkg.a import X\n"},
], ids=["package and module", "package imports itself", "three modules"])
def test_cycle_of_re_exports(tmp_path: Path, files: dict[str, str]) -> None:
    user = ("import keras\nfrom pkg import X\n\n\nclass C(X, keras.layers.Layer):\n"
            "    def __init__(self, y):\n        pass\n")
    with deadline(10):
        assert check(tmp_path, {**files, "user.py": user}, select=["CFG302"]) == [("user.py", 6, "CFG302")]
        assert check(tmp_path, {**files, "user.py": user}, ["user.py"], select=["CFG302"]) == [
            ("user.py", 6, "CFG302")]


# ---------------------------------------------------------------------------------------------
# Classes not at module level
# ---------------------------------------------------------------------------------------------

def test_keras_class_defined_inside_a_function(tmp_path: Path) -> None:
    source = """
        import keras


        def make_layer():
            class Local(keras.layers.Layer):
                def __init__(self, units):
                    super().__init__()

            return Local
        """
    assert check(tmp_path, {"m.py": source}, select=["CFG302"]) == [("m.py", 6, "CFG302")]


def test_keras_class_inside_a_function_that_imports_keras(tmp_path: Path) -> None:
    source = """
        def make_layer():
            from tensorflow import keras

            class Local(keras.layers.Layer):
                def __init__(self, units):
                    super().__init__()

            return Local
        """
    assert check(tmp_path, {"m.py": source}, select=["CFG302"]) == [("m.py", 5, "CFG302")]


def test_same_named_classes_in_two_functions_are_both_checked(tmp_path: Path) -> None:
    source = """
        import keras


        def make_a():
            class Block(keras.layers.Layer):
                def __init__(self, x):
                    super().__init__()
            return Block


        def make_b():
            class Block(keras.layers.Layer):
                def __init__(self, y):
                    super().__init__()
            return Block
        """
    assert check(tmp_path, {"m.py": source}, select=["CFG302"]) == [("m.py", 6, "CFG302"), ("m.py", 13, "CFG302")]


def test_local_subclass_of_a_project_base(tmp_path: Path) -> None:
    source = """
        from .base import MyBase


        def make_leaf():
            class Leaf(MyBase):
                def __init__(self, units, extra=2, **kwargs):
                    super().__init__(units, **kwargs)

            return Leaf
        """
    files = {"pkg/__init__.py": "", "pkg/base.py": BASE, "pkg/leaf.py": source}
    assert check(tmp_path, files, select=["CFG101", "CFG102"]) == [("pkg/leaf.py", 6, "CFG102")]


def test_keras_class_nested_in_a_class(tmp_path: Path) -> None:
    source = """
        import keras


        class Blocks:
            class Inner(keras.layers.Layer):
                def __init__(self, units):
                    super().__init__()
        """
    assert check(tmp_path, {"m.py": source}, select=["CFG302"]) == [("m.py", 6, "CFG302")]


def test_directory_walk_finds_base_in_a_folder_without_init(tmp_path: Path) -> None:
    """`from lib.base import MyBase` where `lib/` has no `__init__.py` (a namespace package)."""
    leaf = LEAF.format(imports="from lib.base import MyBase", base="MyBase")
    files = {"lib/base.py": BASE, "app/leaf.py": leaf}
    assert check(tmp_path, files, ["app"], select=["CFG101", "CFG102"]) == [("app/leaf.py", 5, "CFG102")]


# ---------------------------------------------------------------------------------------------
# Keras re-exported by a project module (`from keras import *`, `import keras` in a compat module)
# ---------------------------------------------------------------------------------------------

REEXPORTED_KERAS = {
    "star import of a star re-export": ("from keras import *\n", "from mypkg.compat import *", "Layer"),
    "submodule of a star re-export": ("from keras import *\n", "from mypkg.compat import layers", "layers.Layer"),
    "class through the module": ("from keras import *\n", "from mypkg import compat", "compat.Layer"),
    "module alias": ("from keras import *\n", "import mypkg.compat as C", "C.layers.Layer"),
    "keras imported from the module": ("import keras\n", "from mypkg.compat import keras", "keras.layers.Layer"),
    "tf.keras through the module": ("from tensorflow import keras\n", "from mypkg import compat",
                                    "compat.keras.layers.Layer"),
    "alias of tf.keras": ("import tensorflow as tf\nkeras = tf.keras\n", "from mypkg.compat import keras",
                          "keras.layers.Layer"),
    "conditional import": ("try:\n    import tf_keras as keras\nexcept ImportError:\n    import keras\n",
                           "from mypkg import compat", "compat.keras.Layer"),
    "two modules deep": ("from mypkg.inner import *\n", "from mypkg.compat import *", "Layer"),
}


@pytest.mark.parametrize("compat, imports, base", list(REEXPORTED_KERAS.values()), ids=list(REEXPORTED_KERAS))
@pytest.mark.parametrize("single_file", [False, True], ids=["directory", "single-file"])
def test_keras_reexported_by_a_project_module(tmp_path: Path, compat: str, imports: str, base: str,
                                              single_file: bool) -> None:
    source = AUTO_LAYER.format(imports=imports, base=base)
    files = {"mypkg/__init__.py": "", "mypkg/compat.py": compat, "mypkg/inner.py": "from keras import *\n",
             "mypkg/user.py": source}
    paths = ["mypkg/user.py"] if single_file else None
    assert check(tmp_path, files, paths, select=["CFG302"]) == [("mypkg/user.py", line_of(source, "def __init__"),
                                                                 "CFG302")]


@pytest.mark.parametrize("compat, imports, base", [
    ("from keras.layers import *\n", "from mypkg.compat import Dense", "Dense"),
    ("from keras.layers import Dense\n", "from mypkg.compat import Dense", "Dense"),
    ("from keras import *\n", "from mypkg import compat", "compat.layers.Dense"),
    ("from tensorflow import keras\n", "from mypkg.compat import keras as K", "K.layers.Dense"),
], ids=["star re-export", "named re-export", "attribute of the module", "tf.keras under an alias"])
@pytest.mark.parametrize("single_file", [False, True], ids=["directory", "single-file"])
def test_builtin_layer_reexported_by_a_project_module(tmp_path: Path, compat: str, imports: str, base: str,
                                                      single_file: bool) -> None:
    source = BUILTIN_SUB.format(imports=imports, base=base, first="units")
    files = {"mypkg/__init__.py": "", "mypkg/compat.py": compat, "mypkg/user.py": source}
    paths = ["mypkg/user.py"] if single_file else None
    assert check(tmp_path, files, paths, select=["CFG101"]) == [("mypkg/user.py", line_of(source, "def __init__"),
                                                                "CFG101")]


@pytest.mark.parametrize("compat, imports, base", [
    ("from mylib import *\n", "from mypkg.compat import *", "Layer"),
    ("from mylib import Layer\n", "from mypkg.compat import Layer", "Layer"),
    ("import mylib as keras\n", "from mypkg.compat import keras", "keras.Base"),
    ("from keras import *\n", "from mypkg.compat import *", "object"),
], ids=["star re-export of another library", "named re-export of another library",
        "another library named keras", "a plain class next to the star import"])
def test_project_module_reexporting_something_else(tmp_path: Path, compat: str, imports: str, base: str) -> None:
    source = AUTO_LAYER.format(imports=imports, base=base)
    files = {"mypkg/__init__.py": "", "mypkg/compat.py": compat, "mypkg/user.py": source}
    assert check(tmp_path, files, select=["CFG302"]) == []


# ---------------------------------------------------------------------------------------------
# Keras bound by calling a project function (`keras = _get_keras_instance()`)
# ---------------------------------------------------------------------------------------------

KERAS_FUNCTIONS = {
    "either of two Keras": """
        import os
        import tensorflow as tf


        def _get_keras_instance():
            os.environ["TF_USE_LEGACY_KERAS"] = "1"
            version_fn = getattr(tf.keras, "version", None)
            if version_fn and version_fn().startswith("3."):
                import tf_keras as keras_internal
            else:
                keras_internal = tf.keras
            return keras_internal


        keras = _get_keras_instance()
        """,
    "returns tf.keras": "import tensorflow as tf\n\n\ndef get_keras():\n    return tf.keras\n\n\nkeras = get_keras()\n",
    "conditional expression": "import tensorflow as tf\nimport tf_keras\n\n"
                              "keras = tf_keras if tf.__version__ >= '2.16' else tf.keras\n",
    "one return per branch": """
        def get_keras(legacy=False):
            if legacy:
                import tf_keras
                return tf_keras
            import keras as k
            return k


        keras = get_keras()
        """,
}


@pytest.mark.parametrize("compat", list(KERAS_FUNCTIONS.values()), ids=list(KERAS_FUNCTIONS))
@pytest.mark.parametrize("imports, base", [
    ("from mypkg.compat import keras", "keras.layers.Layer"),
    ("from mypkg import compat", "compat.keras.layers.Layer"),
], ids=["name imported", "attribute of the module"])
@pytest.mark.parametrize("single_file", [False, True], ids=["directory", "single-file"])
def test_keras_returned_by_a_project_function(tmp_path: Path, compat: str, imports: str, base: str,
                                              single_file: bool) -> None:
    source = AUTO_LAYER.format(imports=imports, base=base)
    files = {"mypkg/__init__.py": "", "mypkg/compat.py": compat, "mypkg/user.py": source}
    paths = ["mypkg/user.py"] if single_file else None
    assert check(tmp_path, files, paths, select=["CFG302"]) == [("mypkg/user.py", line_of(source, "def __init__"),
                                                                 "CFG302")]


def test_builtin_layer_through_keras_returned_by_a_function(tmp_path: Path) -> None:
    """`Wrapper = keras.layers.Wrapper` in the user's module, `keras` from the function: a built-in."""
    source = BUILTIN_SUB.format(imports="from mypkg.compat import keras\nDense = keras.layers.Dense",
                                base="Dense", first="units")
    files = {"mypkg/__init__.py": "", "mypkg/compat.py": KERAS_FUNCTIONS["either of two Keras"],
             "mypkg/user.py": source}
    assert check(tmp_path, files, select=["CFG101"], target="tf-keras") == [
        ("mypkg/user.py", line_of(source, "def __init__"), "CFG101")]


@pytest.mark.parametrize("compat", [
    # one way out returns something else
    "import keras as K\nimport mylib\n\n\ndef get(flag=True):\n    if flag:\n        return K\n    return mylib\n\n\n"
    "keras = get()\n",
    # may fall off the end (returns None)
    "import keras as K\n\n\ndef get(flag=True):\n    if flag:\n        return K\n\n\nkeras = get()\n",
    # the local is also bound by something unknown
    "import keras as K\n\n\ndef get():\n    k = K\n    for k in load():\n        pass\n    return k\n\n\n"
    "keras = get()\n",
    # returns a call, a class or a parameter
    "import keras as K\n\n\ndef get():\n    return K.layers.Dense(3)\n\n\nkeras = get()\n",
    "import keras as K\n\n\ndef get():\n    return K.layers.Layer\n\n\nkeras = get()\n",
    "def get(keras=None):\n    return keras\n\n\nkeras = get()\n",
    # a generator, and a function of another library named like Keras
    "import keras as K\n\n\ndef get():\n    yield K\n    return K\n\n\nkeras = get()\n",
    "import mylib as keras_lib\n\n\ndef get():\n    return keras_lib\n\n\nkeras = get()\n",
    # called with arguments: what a function makes of them is unknown
    "import keras as K\n\n\ndef get(x):\n    return x\n\n\nkeras = get(K)\n",
    # a conditional expression with another module on one side
    "import keras as K\nimport mylib\n\nkeras = K if K.__version__ > '3' else mylib\n",
], ids=["another module on one path", "falls off the end", "local rebound by a loop", "returns a layer",
        "returns a class", "returns its parameter", "generator", "another library", "called with arguments",
        "conditional expression with another module"])
def test_function_not_known_to_return_keras(tmp_path: Path, compat: str) -> None:
    source = AUTO_LAYER.format(imports="from mypkg import compat", base="compat.keras.layers.Layer")
    files = {"mypkg/__init__.py": "", "mypkg/compat.py": compat, "mypkg/user.py": source}
    assert check(tmp_path, files, select=["CFG302"]) == []


# ---------------------------------------------------------------------------------------------
# Subscripted generic bases (`class X(Corruptor[float])`)
# ---------------------------------------------------------------------------------------------

GENERIC_BASE = """
from typing import Generic, TypeVar

import keras

T = TypeVar("T")


class Corruptor(keras.layers.Layer, Generic[T]):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def get_config(self):
        return {**super().get_config(), "units": self.units}
"""


@pytest.mark.parametrize("base", ["Corruptor[float]", "base.Corruptor[float]", "Corruptor[int, str]"])
@pytest.mark.parametrize("single_file", [False, True], ids=["directory", "single-file"])
def test_subscripted_generic_base(tmp_path: Path, base: str, single_file: bool) -> None:
    imports = "from pkg import base" if base.startswith("base.") else "from pkg.base import Corruptor"
    leaf = LEAF.format(imports=imports, base=base)
    files = {"pkg/__init__.py": "", "pkg/base.py": GENERIC_BASE, "pkg/leaf.py": leaf}
    paths = ["pkg/leaf.py"] if single_file else None
    assert check(tmp_path, files, paths, select=["CFG101", "CFG102"]) == LEAF_HIT


@pytest.mark.parametrize("base", ["Generic[T]", "list[int]", "dict[str, keras.layers.Layer]"])
def test_subscripted_non_keras_base(tmp_path: Path, base: str) -> None:
    source = AUTO_LAYER.format(imports="from typing import Generic, TypeVar\nimport keras\nT = TypeVar('T')",
                               base=base)
    assert check(tmp_path, {"pkg/__init__.py": "", "pkg/probe.py": source}, select=["CFG302"]) == []


# ---------------------------------------------------------------------------------------------
# A Keras extension package (keras_cv, keras_hub) checked as the project itself
# ---------------------------------------------------------------------------------------------

EXTENSION_BACKEND = """
from keras_cv.backend import config

if not config.keras_3():
    import keras_cv.backend.keras2 as keras
else:
    import keras
"""


@pytest.mark.parametrize("single_file", [False, True], ids=["directory", "single-file"])
def test_extension_package_reexporting_keras_in_its_own_source(tmp_path: Path, single_file: bool) -> None:
    """`keras_cv.backend.keras.layers.Layer` inside keras_cv is Keras's Layer (automatic config: CFG302
    applies), not one of keras_cv's built-in layers with their own `get_config`."""
    source = AUTO_LAYER.format(imports="from keras_cv.backend import keras", base="keras.layers.Layer")
    files = {"keras_cv/__init__.py": "", "keras_cv/backend/__init__.py": EXTENSION_BACKEND,
             "keras_cv/backend/config.py": "def keras_3():\n    return True\n",
             "keras_cv/backend/keras2.py": "from tensorflow.keras import *  # noqa: F403\n",
             "keras_cv/layers/__init__.py": "", "keras_cv/layers/probe.py": source}
    paths = ["keras_cv/layers/probe.py"] if single_file else None
    assert check(tmp_path, files, paths, select=["CFG302"]) == [
        ("keras_cv/layers/probe.py", line_of(source, "def __init__"), "CFG302")]


def test_extension_layer_outside_the_project_stays_builtin(tmp_path: Path) -> None:
    """A user's subclass of `keras_cv.layers.X` (keras_cv installed, not part of the project) is judged
    as a subclass of a built-in layer: its own added argument is what must be in the config."""
    source = BUILTIN_SUB.format(imports="import keras_cv", base="keras_cv.layers.SqueezeAndExcite2D",
                                first="filters")
    assert check(tmp_path, {"app/__init__.py": "", "app/user.py": source}, select=["CFG101", "CFG302"]) == [
        ("app/user.py", line_of(source, "def __init__"), "CFG101")]
