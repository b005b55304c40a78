"""The prefilter follows project modules that re-export Keras, and stays cheap everywhere else.

`mypkg/compat.py: from keras.layers import *` lets `from mypkg.compat import Dense; class L(Dense)` define a
Keras layer though no Keras word appears in its base list. A module among the checked files is normally not
an interesting import source (its classes reach the prefilter by name instead), so the modules that import
Keras from outside the checked files are counted as re-exporters; inside Keras's own source nothing is.
"""

from __future__ import annotations

import pytest

from cfglint.prefilter import keras_reexporters, signature, worth_parsing

USER = "from mypkg.compat import Dense\n\n\nclass Wide(Dense):\n    pass\n"


@pytest.mark.parametrize("text, sources", [
    ("from keras import *\n", {"keras"}),
    ("from keras.layers import Dense, Layer\n", {"keras.layers"}),
    ("from tensorflow import keras\n", {"tensorflow.keras"}),
    ("import tensorflow as tf\nkeras = tf.keras\n", {"tf.keras"}),
    ("try:\n    import tf_keras as keras\nexcept ImportError:\n    import keras\n", {"tf_keras", "keras"}),
    ("from tensorflow.python.util.tf_export import keras_export\n", set()),
    ("import numpy as np\n", set()),
], ids=["star", "names", "tensorflow.keras", "alias", "conditional", "a function named keras_export", "no keras"])
def test_keras_sources_of_a_module_without_classes(text: str, sources: set[str]) -> None:
    assert set(signature(text).keras_sources) == sources


def test_modules_with_classes_are_not_scanned_twice() -> None:
    sig = signature("from keras import *\n\n\nclass A(Layer):\n    pass\n")
    assert sig.keras_sources == frozenset()  # its imports are in `sig.imports` already
    assert keras_reexporters([("mypkg.compat", sig)], walked={"mypkg.compat"}) == {"mypkg.compat"}


def test_a_walked_module_reexporting_keras_makes_its_names_interesting() -> None:
    walked = {"mypkg", "mypkg.compat", "mypkg.user"}
    compat = signature("from keras.layers import *\n")
    reexporters = keras_reexporters([("mypkg.compat", compat)], walked)
    assert reexporters == {"mypkg.compat"}
    user = signature(USER)
    assert not worth_parsing(user, project_modules={"mypkg"}, walked=walked)
    assert worth_parsing(user, project_modules={"mypkg"}, walked=walked, reexporters=reexporters)
    through_package = signature("from mypkg import compat\n\n\nclass Wide(compat.Dense):\n    pass\n")
    assert worth_parsing(through_package, project_modules={"mypkg"}, walked=walked, reexporters=reexporters)


def test_files_that_cannot_hold_a_keras_class_are_still_skipped() -> None:
    walked = {"mypkg", "mypkg.compat", "mypkg.other", "mypkg.user"}
    reexporters = keras_reexporters([("mypkg.compat", signature("from keras import *\n"))], walked)
    no_class = signature("from mypkg.compat import Dense\n\nDENSE = Dense\n")
    other_module = signature("from mypkg.other import Helper\n\n\nclass Wide(Helper):\n    pass\n")
    plain = signature("import json\n\n\nclass Record(object):\n    pass\n")
    for sig in (no_class, other_module, plain):
        assert not worth_parsing(sig, project_modules={"mypkg"}, walked=walked, reexporters=reexporters)


def test_inside_keras_own_source_no_module_is_a_reexporter() -> None:
    walked = {"keras", "keras.src", "keras.src.layers", "keras.api.layers"}
    api = signature("from keras.src.layers import Dense\nfrom keras.src.layers import Layer\n")
    assert keras_reexporters([("keras.api.layers", api)], walked) == set()
