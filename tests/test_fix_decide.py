"""`[*]` without libcst: the `ast`-only deciders (`cfglint.fixes.decide`) must mark exactly the findings
that planning with libcst fixes, on every rule example, variants of their layout, and the fixtures."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import write_project

from cfglint.config import RuleSelection, load_settings
from cfglint.engine import Checker
from cfglint.finding import Finding
from cfglint.fixes.files import fix_until_stable
from cfglint.fixes.plan import decidable
from cfglint.fixes.safety import Recheck
from cfglint.fixes.site import Unsure
from cfglint.reporters import identity
from cfglint.rules import ALL_RULES, DEFAULT_CODES, fix_spec, fixable_codes
from cfglint.rules.base import Example

ROOT = Path(__file__).resolve().parent.parent
DECIDED = sorted(code for code in fixable_codes(unsafe=True) if fix_spec(code).decider is not None)  # type: ignore[union-attr]
EXAMPLES = [(code, index, example) for code in DECIDED for index, example in enumerate(ALL_RULES[code].invalid)]

# Layouts the deciders must either mirror or be unsure about (never disagree with libcst).
CONFIG_VARIANTS = {
    "dict": "return {\"units\": self.units}",
    "dict-trailing-comma": "return {\n            \"units\": self.units,  # units\n        }",
    "dict-parenthesized": "return {\"units\": (self.units)}",
    "empty-dict": "return {}",
    "dict-call": "return dict(units=self.units)",
    "dict-call-empty": "return dict()",
    "update-dict": ("config = super().get_config()\n        config.update({\"units\": self.units})\n"
                    "        return config"),
    "update-kwargs": "config = super().get_config()\n        config.update(units=self.units)\n        return config",
    "subscript": "config = super().get_config()\n        config[\"units\"] = self.units\n        return config",
    "semicolons": "config = super().get_config(); config[\"units\"] = self.units\n        return config",
    "concatenated": "config = {\"un\" \"its\": self.units}\n        return config",
    "mentions": "config = {\"units\": self.units, \"scale\": 1}\n        return config",
    "two-returns": "if self.units:\n            return {}\n        return {\"units\": self.units}",
    "in-block": "if True:\n            return {\"units\": self.units}",
    "rebound": "config = {}\n        config = {\"units\": self.units}\n        return config",
}
INIT_VARIANTS = {
    "plain": "def __init__(self, units):\n        super().__init__()",
    "trailing-comma": "def __init__(\n        self,\n        units,  # the width\n    ):\n        super().__init__()",
    "default": "def __init__(self, units=(1)):\n        super().__init__(name=None)",
    "keyword-only": "def __init__(self, *args, units=1):\n        super().__init__()",
    "slash": "def __init__(self, units, /):\n        super().__init__()",
    "explicit-base": "def __init__(self, units):\n        keras.layers.Layer.__init__(self)",
    "old-super": "def __init__(self, units):\n        super(Scaled, self).__init__(\n            name=None,\n        )",
    "two-calls": ("def __init__(self, units):\n        super().__init__()\n        if units:\n"
                  "            super().__init__()"),
    "attribute": "def __init__(self, units):\n        super().__init__()\n        self.kwargs = {}",
    "f-string": "def __init__(self, units):\n        super().__init__(name=f\"{kwargs}\")",
    "comment": "def __init__(self, units):\n        super().__init__()  # no kwargs",
    "spread": "def __init__(self, units):\n        opts = {}\n        super().__init__(**opts)",
    "no-call": "def __init__(self, units):\n        pass",
    "forward": "def __init__(self, units, **kw):\n        super().__init__()",
    "forward-spread": "def __init__(self, units, **kw):\n        super().__init__(**dict(kw))",
}
INIT_LAYER = """\
import keras


class Scaled(keras.layers.Layer):
    {init}
        self.units = units

    def get_config(self):
        config = super().get_config()
        config["units"] = self.units
        return config
"""
SERIALIZE_VARIANTS = {
    "dict": "return {\"activation\": self.activation}",
    "parenthesized": "return {\"activation\": (self.activation)}",
    "subscript": ("config = super().get_config()\n        config[\"activation\"] = self.activation\n"
                  "        return config"),
    "update": "config = super().get_config()\n        config.update(activation=self.activation)\n        return config",
    "setdefault": "config = {}\n        config.setdefault(\"activation\", self.activation)\n        return config",
    "twice": ("config = {\"activation\": self.activation}\n        config[\"activation\"] = self.activation\n"
              "        return config"),
    "serialized": "return {\"activation\": keras.activations.serialize(self.activation)}",
}
MERGE_VARIANTS = {
    "dict": "return {\"units\": self.units}",
    "empty": "return ({})",
    "variable": "config = {\"units\": self.units}\n        return config",
    "two-returns": "if self.units:\n            return {}\n        return {\"units\": self.units}",
    "same-variable": ("config = {\"units\": self.units}\n        if self.units:\n            return config\n"
                      "        return config"),
    "rebound": "config = {}\n        config = {\"units\": self.units}\n        return config",
    "dict-call": "return dict(units=self.units)",
    "dict-call-empty": "return dict ()",
    "dict-call-spread": "return dict(**{\"units\": self.units})",
    "semicolons": "config = {\"units\": self.units}; return config",
    "comprehension": "return {k: getattr(self, k) for k in [\"units\"]}",
}
MERGE_LAYER = """\
import keras


class Scaled(keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def get_config(self):
        {body}
"""
SERIALIZE_LAYER = """\
import keras


class Act(keras.layers.Layer):
    def __init__(self, activation="relu", **kwargs):
        super().__init__(**kwargs)
        self.activation = keras.activations.get(activation)

    def get_config(self):
        {body}
"""
LAYER = """\
import keras


class Scaled(keras.layers.Layer):
    def __init__(self, units, scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.scale = scale

    def get_config(self):
        {body}
"""


def recheck_for(root: Path, example: Example | None = None, source: str = "") -> tuple[Recheck, str, str]:
    write_project(root, {**dict(example.files if example else ()), "pyproject.toml": ""})
    source = example.code if example else source
    path = root / "example.py"
    path.write_text(source, encoding="utf-8")
    settings = load_settings(root, known_codes=ALL_RULES)
    selection = RuleSelection.from_settings(settings, all_codes=ALL_RULES, default_codes=DEFAULT_CODES)
    target = example.target.value if example else None
    return Recheck(lambda: Checker(settings, selection, target)), str(path), source


def marked(source: str, path: str, findings: list[Finding], recheck: Recheck, *, unsafe: bool,
           decide: bool) -> tuple[frozenset[tuple[object, ...]], bool]:
    """What `[*]` marks (the findings fixing resolves), and whether that was decided (not unsure)."""
    try:
        stable = fix_until_stable(source, path, findings, recheck, unsafe=unsafe, decide=decide)
    except Unsure:
        return frozenset(), False
    if stable.blocked is not None or stable.source == source:
        return frozenset(), True
    return frozenset(identity(f) for f in stable.reported), True


def agree(source: str, path: str, recheck: Recheck) -> list[bool]:
    """For safe and unsafe fixes: whether the deciders decided; fails when they disagree with libcst."""
    findings = recheck(source, path)
    decided = []
    for unsafe in (False, True):
        if not decidable(findings, unsafe):
            continue
        real, _ = marked(source, path, findings, recheck, unsafe=unsafe, decide=False)
        quick, sure = marked(source, path, findings, recheck, unsafe=unsafe, decide=True)
        if sure:
            assert quick == real, f"unsafe={unsafe}: decided {sorted(quick)}, libcst fixes {sorted(real)}"
        decided.append(sure)
    return decided


def test_the_deciders_cover_the_common_fixes() -> None:
    assert {"CFG101", "CFG102", "CFG104", "CFG201", "CFG301", "CFG302", "CFG303", "CFG306", "CFG401"} <= set(DECIDED)


@pytest.mark.parametrize(("code", "index", "example"), EXAMPLES, ids=[f"{c}-bad{i}" for c, i, _ in EXAMPLES])
def test_deciders_mark_what_libcst_fixes_on_every_example(tmp_path: Path, code: str, index: int,
                                                          example: Example) -> None:
    agree(*_swap(recheck_for(tmp_path, example)))


def _swap(triple: tuple[Recheck, str, str]) -> tuple[str, str, Recheck]:
    recheck, path, source = triple
    return source, path, recheck


@pytest.mark.parametrize("variant", sorted(CONFIG_VARIANTS))
def test_deciders_mark_what_libcst_fixes_on_config_layouts(tmp_path: Path, variant: str) -> None:
    source = LAYER.replace("{body}", CONFIG_VARIANTS[variant])
    agree(*_swap(recheck_for(tmp_path, source=source)))


@pytest.mark.parametrize("variant", sorted(INIT_VARIANTS))
def test_deciders_mark_what_libcst_fixes_on_init_layouts(tmp_path: Path, variant: str) -> None:
    source = INIT_LAYER.replace("{init}", INIT_VARIANTS[variant])
    agree(*_swap(recheck_for(tmp_path, source=source)))


@pytest.mark.parametrize("variant", sorted(SERIALIZE_VARIANTS))
def test_deciders_mark_what_libcst_fixes_on_serialize_layouts(tmp_path: Path, variant: str) -> None:
    source = SERIALIZE_LAYER.replace("{body}", SERIALIZE_VARIANTS[variant])
    agree(*_swap(recheck_for(tmp_path, source=source)))


@pytest.mark.parametrize("variant", sorted(MERGE_VARIANTS))
def test_deciders_mark_what_libcst_fixes_on_merge_layouts(tmp_path: Path, variant: str) -> None:
    source = MERGE_LAYER.replace("{body}", MERGE_VARIANTS[variant])
    agree(*_swap(recheck_for(tmp_path, source=source)))


def test_deciders_decide_most_examples(tmp_path: Path) -> None:
    """Unsure is the exception: most examples are decided without libcst."""
    decided = [sure for n, (_, _, example) in enumerate(EXAMPLES)
               for sure in agree(*_swap(recheck_for(tmp_path / str(n), example)))]
    assert decided and sum(decided) >= 0.8 * len(decided)


def test_deciders_mark_what_libcst_fixes_on_the_fixtures() -> None:
    settings = load_settings(ROOT / "fixtures", known_codes=ALL_RULES)
    selection = RuleSelection.from_settings(settings, all_codes=ALL_RULES, default_codes=DEFAULT_CODES)
    recheck = Recheck(lambda: Checker(settings, selection))
    for path in sorted((ROOT / "fixtures").rglob("*.py")):
        agree(path.read_text(encoding="utf-8"), str(path), recheck)


def test_one_file_check_with_a_fixable_finding_does_not_import_libcst() -> None:
    code = textwrap.dedent(f"""
        import sys
        from cfglint.cli import main
        main(["check", "--no-cache", {str(ROOT / "fixtures" / "zoo" / "blocks.py")!r}])
        print("libcst" in sys.modules, file=sys.stderr)
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=ROOT)
    assert " [*] " in result.stdout
    assert result.stderr.strip().splitlines()[-1] == "False"


def test_an_unsure_file_is_planned_with_libcst_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A decider unsure about one file sends that file (only) to libcst: the other files stay decided
    and the marks are what libcst gives for all of them."""
    from cfglint.fixes import files

    recheck, _, _ = recheck_for(tmp_path, source="")
    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text(TOWER_LIKE, encoding="utf-8")
    findings = [f for name in ("a.py", "b.py") for f in recheck(TOWER_LIKE, str(tmp_path / name))]
    assert {f.code for f in findings} >= {"CFG301"}
    real = files.fix_until_stable
    decided: list[tuple[str, bool]] = []

    def unsure_about_a(source: str, path: str, *args: object, decide: bool = False, **kwargs: object) -> object:
        decided.append((Path(path).name, decide))
        if decide and path.endswith("a.py"):
            raise Unsure("a layout the decider cannot mirror")
        return real(source, path, *args, decide=decide, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(files, "fix_until_stable", unsure_about_a)
    quick = files.fix_files(findings, recheck, write=False, decide=True)
    slow = files.fix_files(findings, recheck, write=False, decide=False)
    assert [identity(f) for f in quick.reported] == [identity(f) for f in slow.reported] != []
    assert ("a.py", False) in decided[:3] and ("b.py", True) in decided[:3]


TOWER_LIKE = """\
import keras


class Named(keras.layers.Layer):
    def __init__(self, units):
        super().__init__()
        self.units = units

    def get_config(self):
        return {**super().get_config(), "units": self.units}
"""
