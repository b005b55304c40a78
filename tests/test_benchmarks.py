"""The pure parts of `benchmarks/run.py`: the corpus builder (on a tiny fake wheel, no network), the
samples it picks, the editor document, and the table. The timings themselves are never run here."""

from __future__ import annotations

import ast
import hashlib
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("tomllib")  # the benchmarks read their pins with the standard library (3.11+)

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import corpus  # noqa: E402
import lsp_latency  # noqa: E402
import run as bench  # noqa: E402

LAYER = "import keras\n\n\nclass Scale(keras.layers.Layer):\n    def __init__(self, **kwargs):\n" \
        "        super().__init__(**kwargs)\n"


def fake_wheel(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "fake_pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr("fake_pkg/__init__.py", "")
        wheel.writestr("fake_pkg/layers/scale.py", LAYER)
        wheel.writestr("fake_pkg/data.txt", "not python")
        wheel.writestr("fake_pkg-1.0.dist-info/METADATA", "Name: fake-pkg\n")
    return path


def test_dense_corpus_from_a_cached_wheel(tmp_path: Path) -> None:
    wheel = fake_wheel(tmp_path / "cache")
    pins = [corpus.Wheel("fake-pkg", "1.0", hashlib.sha256(wheel.read_bytes()).hexdigest())]
    used = corpus.build_dense(tmp_path / "corpus", tmp_path / "cache", pins)
    assert used == ["fake-pkg==1.0"]
    files = sorted(p.relative_to(tmp_path / "corpus").as_posix() for p in (tmp_path / "corpus").rglob("*"))
    assert files == ["fake_pkg-1.0", "fake_pkg-1.0/fake_pkg", "fake_pkg-1.0/fake_pkg/__init__.py",
                     "fake_pkg-1.0/fake_pkg/layers", "fake_pkg-1.0/fake_pkg/layers/scale.py", "pyproject.toml"]
    marker = (tmp_path / "corpus" / "pyproject.toml").read_text(encoding="utf-8")
    assert "dependencies" not in marker  # a root marker only


def test_a_wheel_with_another_hash_is_refused(tmp_path: Path) -> None:
    fake_wheel(tmp_path / "cache")
    with pytest.raises(corpus.CorpusError, match="not the pinned"):
        corpus.build_dense(tmp_path / "corpus", tmp_path / "cache", [corpus.Wheel("fake-pkg", "1.0", "0" * 64)])


def test_the_pins_are_complete() -> None:
    pins = corpus.load_pins()
    assert {w.pin for w in pins} == {"keras==3.15.1", "keras-hub==0.32.0", "keras-cv==0.9.0"}
    assert all(len(w.sha256) == 64 for w in pins)


def test_samples_are_layer_files_spread_over_the_corpus() -> None:
    files = [f"pkg/layers/l{i:02}.py" for i in range(40)] + ["pkg/utils.py", "pkg/layers/l_test.py"]
    sample = corpus.layer_sample(files, 20)
    assert len(sample) == 20 == len(set(sample))
    assert sample[0] == "pkg/layers/l00.py" and sample[-1] == "pkg/layers/l38.py"
    assert corpus.typical_layer_file(files, ("pkg/layers/l07.py",)) == "pkg/layers/l07.py"
    assert corpus.typical_layer_file(files, ("absent.py",)) in files


def test_the_editor_document_stays_valid_python(tmp_path: Path) -> None:
    for index in range(3):
        (tmp_path / "layers").mkdir(exist_ok=True)
        (tmp_path / "layers" / f"l{index}.py").write_text("from __future__ import annotations\n" + LAYER * 20
                                                          + "x = 1 + \\\n    2\n")
    path, text = lsp_latency.build_document(tmp_path, [f"layers/l{i}.py" for i in range(3)], lines=200)
    assert path == tmp_path / "layers" / lsp_latency.DOCUMENT_NAME
    assert text.count("\n") >= 200
    for number in range(50):
        ast.parse(lsp_latency.edited(text, number))


def measured(name: str, files: int, identical: bool = True) -> bench.Measured:
    def pair(cfglint_s: float, ruff_s: float) -> dict[str, Any]:
        return {"cfglint_s": [cfglint_s], "ruff_s": [ruff_s], "cfglint_median_s": cfglint_s,
                "ruff_median_s": ruff_s, "ratio_median": cfglint_s / ruff_s, "peak_rss_mib": 100.0}

    pairs = {"cold, --jobs 1": pair(2.0, 0.5), "cold, --jobs 2 (all cores)": pair(0.9, 0.5),
             "warm": pair(0.2, 0.5), "warm, one file touched": pair(0.6, 0.5),
             "one file": pair(0.12, 0.01), "batch of 20 files": pair(0.6, 0.02)}
    return bench.Measured(
        corpus=name, label=bench.TITLES[name], files=files, parsed=files // 2, keras=files // 4, one_file="a.py",
        batch=[f"b{i}.py" for i in range(20)], jobs=2, pairs=pairs, ruff_warm_s=0.1, jobs_ratio=0.45,
        jobs_ratios=[0.45], outputs_identical=identical, floors_s={"read": 0.01, "prefilter": 0.1, "parse": 1.0},
        lsp={"lines": 2010, "latency_s": 0.2, "check_s": 0.15})


def test_the_table_has_every_row_with_its_goal_for_both_corpora() -> None:
    table = bench.format_table([measured("dense", 2061), measured("stack", 3337, identical=False)])
    lines = table.splitlines()
    assert lines[0] == "| measurement | goal | Keras-dense (2,061 files) | TensorFlow stack (3,337 files) |"
    assert all(line.count("|") == 5 for line in lines)
    rows = {line.split(" | ")[0].lstrip("| "): line for line in lines[2:]}
    assert "<= 2x ruff cold" in rows["cfglint cold, all cores (`--jobs 2`)"]
    assert "0.900 s (1.80x ruff) met" in rows["cfglint cold, all cores (`--jobs 2`)"]
    assert "0.45x met | 0.45x met (outputs DIFFER)" in rows["`--jobs 2` / `--jobs 1`, cold"]
    assert "0.600 s (30.00x ruff on them) **not met**" in rows["batch of 20 layer/model files, fresh process"]
    lsp = rows["LSP: didChange to diagnostics, 2,000-line file"]
    assert "200 ms (check alone 150 ms; 2,010 lines) **not met**" in lsp
    assert "1,030 of 2,061 (50%)" in rows["files the prefilter passes"]
    assert "1.000 s (1,668 files)" in rows["floor: `ast.parse` of the files parsed (one core)"]
    assert "1.20x ruff" in rows["cfglint warm, one file touched (facts reused, rules run)"]
    assert len(rows) == 16


def test_a_missing_ruff_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(bench.BenchError, match="--ruff PATH"):
        bench.find_ruff(str(tmp_path / "no-ruff"))


def test_a_built_corpus_is_dated_in_the_past(tmp_path: Path) -> None:
    """The warm rows measure a tree older than the runs, as users' checkouts are."""
    import time

    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "layer.py").write_text("x = 1\n", encoding="utf-8")
    bench.age_files(tmp_path)
    assert time.time() - (tmp_path / "pkg" / "layer.py").stat().st_mtime > 3000
