"""The extractor's fast paths change nothing: facts and findings are the same with them off.

`CFGLINT_NO_FAST_PATH=1` turns every fast path of the facts pass off (see `cfglint.extract._syntax.fast_path`).
Each test here computes the same thing in both modes and compares: the findings (code, path, span,
message, severity, subject) on the bundled fixtures and on every rule example, bad and good, with its
extra files and target, and the `ModuleFacts` of every one of those sources.

A larger comparison runs when CFGLINT_FAST_PATH_CORPUS names one or more folders (separated like PATH),
e.g. the Keras-dense corpus of `benchmarks/` or an installed Keras: facts of every `.py` file under them,
and the findings on each folder, must be identical.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from helpers import REPO, run_check, write_project

from cfglint.engine import Report
from cfglint.facts import ModuleFacts
from cfglint.parsing import ParseFailure, parse_module
from cfglint.rules import ALL_RULES
from cfglint.rules.base import Example

SWITCH = "CFGLINT_NO_FAST_PATH"
CORPUS = "CFGLINT_FAST_PATH_CORPUS"
STATIC = {code: rule for code, rule in ALL_RULES.items() if not rule.dynamic}
EXAMPLES = [(f"{code}-{kind}{index}", example) for code, rule in STATIC.items()
            for kind, examples in (("bad", rule.invalid), ("good", rule.valid))
            for index, example in enumerate(examples)]
FIXTURES = REPO / "fixtures"
T = TypeVar("T")

Row = tuple[str, str, tuple[int, int, int, int], str, str, str | None]


def _both(monkeypatch: pytest.MonkeyPatch, compute: Callable[[], T]) -> tuple[T, T]:
    """`compute()` with the fast paths on, then with them off."""
    monkeypatch.delenv(SWITCH, raising=False)
    fast = compute()
    monkeypatch.setenv(SWITCH, "1")
    reference = compute()
    monkeypatch.delenv(SWITCH)
    return fast, reference


def _rows(report: Report) -> list[Row]:
    span = lambda f: (f.span.line, f.span.column, f.span.end_line, f.span.end_column)  # noqa: E731
    return sorted((f.code, f.path, span(f), f.message, str(f.severity), f.subject) for f in report.findings)


def _facts(source: str, path: str, module: str) -> ModuleFacts | tuple[str, int, int]:
    try:
        return parse_module(source, path, module)
    except ParseFailure as failure:
        return failure.message, failure.line, failure.column


def _python_files(root: Path) -> Iterator[Path]:
    return (path for path in sorted(root.rglob("*.py")) if path.is_file())


def test_switch_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from cfglint.extract._syntax import fast_path

    assert _both(monkeypatch, fast_path) == (True, False)


def test_fixture_findings_are_identical(monkeypatch: pytest.MonkeyPatch) -> None:
    fast, reference = _both(monkeypatch, lambda: _rows(run_check(FIXTURES)))
    assert fast, "the fixtures have findings"
    assert fast == reference


def test_fixture_facts_are_identical(monkeypatch: pytest.MonkeyPatch) -> None:
    sources = [(path.read_text(encoding="utf-8"), str(path), path.stem) for path in _python_files(FIXTURES)]
    fast, reference = _both(monkeypatch, lambda: [_facts(*source) for source in sources])
    assert len(fast) == len(sources) > 0
    for source, one, other in zip(sources, fast, reference, strict=True):
        assert one == other, source[1]


@pytest.mark.parametrize(("name", "example"), EXAMPLES, ids=[name for name, _ in EXAMPLES])
def test_rule_example_findings_and_facts_are_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       name: str, example: Example) -> None:
    files = {"example.py": example.code, **dict(example.files)}
    write_project(tmp_path, files)
    check = lambda: _rows(run_check(tmp_path, [str(tmp_path)], select=list(STATIC),  # noqa: E731
                                    target=example.target.value))
    fast, reference = _both(monkeypatch, check)
    assert fast == reference
    for file in files:
        path = tmp_path / file
        source = path.read_text(encoding="utf-8")
        module = ".".join(Path(file).with_suffix("").parts)
        one, other = _both(monkeypatch, lambda: _facts(source, str(path), module))  # noqa: B023
        assert one == other, f"{name}: {file}"


# Sources where a fast path could go wrong: what the module scan must still find inside functions
# (imports, classes, lambdas, registration calls), line breaks it does not count, non-ASCII columns,
# a tuple concatenation, and the reads of helpers that `load_assets` and `__init__` call.
TRICKY = {
    "nested": """\
import keras


def make():
    from keras import layers as L

    @keras.saving.register_keras_serializable()
    class Inner(L.Layer):
        def __init__(self, act=lambda x: x, **kwargs):
            super().__init__(**kwargs)
            self.act = act
            self.d = L.Dense(3, activation=lambda t: t)

        def call(self, x):
            return self.d(x) + (1,) + self.shape

    return Inner


def _keras():
    import tf_keras as k
    return k


K = _keras()
""",
    "lone_cr": "import keras\r\rdef f():\r    import tf_keras\r    class A(keras.layers.Layer):\r"
               "        def __init__(self, units):\r            super().__init__()\r",
    "crlf": "import keras\r\n\r\ndef f():\r\n    from keras import layers\r\n"
            "    class B(layers.Layer):\r\n        pass\r\n",
    "non_ascii": """\
import keras


class Ünïcode(keras.layers.Layer):
    def __init__(self, größe=3, **kwargs):
        super().__init__(**kwargs)
        self.größe = größe  # «größe»

    def call(self, x):
        return x * self.größe + ("é",) + self.shape
""",
    "assets_and_helpers": """\
import keras


class Vocab(keras.layers.Layer):
    def __init__(self, vocabulary=None, fn=None, **kwargs):
        super().__init__(**kwargs)
        self._setup(vocabulary)
        self.set_vocabulary(vocabulary)

    def _setup(self, vocabulary):
        self.layer = keras.layers.Lambda(lambda x: x)

    def set_vocabulary(self, vocabulary):
        self.vocabulary = vocabulary

    def load_assets(self, folder):
        self._restore(folder)

    def _restore(self, folder):
        self.set_vocabulary(open(folder).read())
        self.table = None

    def helper(self):
        return keras.layers.Dense(2, kernel_initializer=lambda s: s)
""",
}


@pytest.mark.parametrize("name", list(TRICKY))
def test_tricky_source_facts_are_identical(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    fast, reference = _both(monkeypatch, lambda: _facts(TRICKY[name], f"{name}.py", name))
    assert isinstance(fast, ModuleFacts) and fast.classes
    assert fast == reference


@pytest.mark.skipif(not os.environ.get(CORPUS), reason=f"set {CORPUS} to folders to compare on")
def test_corpus_facts_and_findings_are_identical(monkeypatch: pytest.MonkeyPatch) -> None:
    folders = [Path(folder) for folder in os.environ.get(CORPUS, "").split(os.pathsep) if folder]
    differ: list[str] = []
    for folder in folders:
        for path in _python_files(folder):
            source = path.read_text(encoding="utf-8", errors="replace")
            module = ".".join(path.relative_to(folder).with_suffix("").parts)
            one, other = _both(monkeypatch, lambda: _facts(source, str(path), module))  # noqa: B023
            if one != other:
                differ.append(str(path))
        fast, reference = _both(monkeypatch, lambda: _rows(run_check(folder)))  # noqa: B023
        assert fast == reference, folder
    assert not differ, differ[:20]
