"""`--fix`/`--diff` on hostile shapes: cost linear in the findings, no crash on deep nesting.

libcst's native parser overflows the C stack (the process dies) on chains of several thousand operands,
so such files are refused before libcst sees them; and a file with hundreds of findings must not pay
for a regeneration of its whole text per finding.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import libcst
import pytest

from cfglint.cli import main

LAYER = """\
class L{i}(keras.layers.Layer):
    def __init__(self, a, b=1, c=2, d=3, e=4, **kwargs):
        super().__init__(**kwargs)
        self.a = a
        self.b = b
        self.c = c
        self.d = d
        self.e = e

    def get_config(self):
        config = super().get_config()
        return config

"""


def many_findings(classes: int) -> str:
    """`classes` layers with five missing config keys each (CFG101 + 4 × CFG102)."""
    return "import keras\n\n\n" + "\n".join(LAYER.format(i=i) for i in range(classes))


def test_fixing_regenerates_the_text_once_per_pass(tmp_path: Path, monkeypatch, capsys) -> None:
    """200 findings: the module's text is generated a handful of times, not once per fix."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.cfglint]\n", encoding="utf-8")
    (tmp_path / "many.py").write_text(many_findings(40), encoding="utf-8")
    calls = {"code": 0}
    original = libcst.Module.code

    def counting(self):  # type: ignore[no-untyped-def]
        calls["code"] += 1
        return original.fget(self)  # type: ignore[attr-defined]

    monkeypatch.setattr(libcst.Module, "code", property(counting))
    code = main(["check", "--no-cache", "--fix", "many.py"])
    out, err = capsys.readouterr()
    assert "Fixed 200 findings (0 remaining)." in out + err
    assert code == 0
    assert calls["code"] <= 4, calls


# (a `+` chain that long is already beyond `ast.parse`, so it is a CFG001 with nothing to fix)
@pytest.mark.parametrize("operator", [" and ", " or "])
def test_deep_chain_is_refused_not_a_crash(tmp_path: Path, operator: str) -> None:
    source = many_findings(1) + "x = " + operator.join(["a"] * 8000) + "\n"
    (tmp_path / "deep.py").write_text(source, encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text("[tool.cfglint]\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("CFGLINT_OUTPUT_FORMAT", "FORCE_COLOR")}
    for mode in ("--diff", "--fix"):
        done = subprocess.run([sys.executable, "-m", "cfglint", "check", "--no-cache", mode, "deep.py"],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode in (0, 1), (done.returncode, done.stderr[-2000:])
        assert "Traceback" not in done.stderr
        assert "nested too deeply to rewrite safely" in done.stderr
    assert (tmp_path / "deep.py").read_text(encoding="utf-8") == source


def test_deep_chain_code_action_is_refused(tmp_path: Path) -> None:
    """The editor's quick fix goes through the same guard (the language server would die otherwise)."""
    from cfglint.finding import Finding, Severity, Span
    from cfglint.fixes import fix_one

    source = many_findings(1) + "x = " + " and ".join(["a"] * 8000) + "\n"
    finding = Finding("deep.py", Span(6, 24, 6, 25), "CFG101", "missing-required-param",
                      "`a` is an `__init__` argument missing from `get_config`", Severity.ERROR, "L0")
    assert fix_one(source, finding) is None


def test_huge_literal_is_not_handed_to_libcst(tmp_path: Path) -> None:
    """One long list literal (libcst needs ~2.5 KB per node: this one would take over 1 GB) is refused
    with a reason; the run stays well under 1 GiB."""
    import resource

    source = many_findings(1) + "x = [" + "1," * 300_000 + "]\n"
    (tmp_path / "table.py").write_text(source, encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text("[tool.cfglint]\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("CFGLINT_OUTPUT_FORMAT", "FORCE_COLOR")}
    done = subprocess.run([sys.executable, "-m", "cfglint", "check", "--no-cache", "--diff", "--unsafe-fixes",
                           "table.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode in (0, 1) and "Traceback" not in done.stderr
    assert "too large to rewrite safely" in done.stderr
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss < 1024 * 1024  # KiB on Linux
