"""Mangled layer sources never crash cfglint, never hang it, and `--fix` output always re-parses.

A seeded generator (no extra dependency) takes valid layer sources (every rule example and the bundled
fixtures) and mangles them: truncation at token boundaries, byte flips and insertions, coding cookies
and byte order marks, deep nesting, lines dropped, duplicated or re-indented. Cases are checked in
batches, one `cfglint` process per batch, and a failing batch is split to name the input:

* `check --output-format json`: exit code 0, 1 or 2, no traceback, output that parses as JSON;
* `check --fix` on a copy: exit code 0/1/2, no traceback, every rewritten file compiles, and a second
  `--fix` changes nothing (idempotent);
* each batch within its time limit (30 s per input at most).

`CFGLINT_FUZZ=N` sets the number of cases (default 240, a few seconds); `CFGLINT_FUZZ=10000` is the long
campaign, `CFGLINT_FUZZ_SEED` another seed. The campaign prints its figures at the end (`-s`).
"""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import subprocess
import sys
import time
import tokenize
from pathlib import Path

from cfglint.rules import ALL_RULES

REPO = Path(__file__).resolve().parent.parent
CASES = int(os.environ.get("CFGLINT_FUZZ", "240"))
SEED = int(os.environ.get("CFGLINT_FUZZ_SEED", "20261203"))
BATCH = 120
PER_INPUT_LIMIT = 30.0


def seeds() -> list[bytes]:
    sources = [example.code for rule in ALL_RULES.values() for example in (*rule.invalid, *rule.valid)]
    sources += [path.read_text(encoding="utf-8") for path in sorted((REPO / "fixtures").rglob("*.py"))]
    return [source.encode("utf-8") for source in sources if source.strip()]


def _token_ends(data: bytes) -> list[int]:
    """Byte offsets where a token ends (truncating there keeps tokens whole)."""
    text = data.decode("utf-8", "replace")
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line.encode("utf-8")))
    ends = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            row, column = token.end
            if row - 1 < len(lines):
                ends.append(starts[row - 1] + len(lines[row - 1][:column].encode("utf-8")))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return ends or [len(data)]


COOKIES = [b"latin-1", b"utf-8", b"ascii", b"undefined", b"punycode", b"idna", b"utf-16", b"rot13", b"cp1252",
           b"no-such-codec"]


def mangle(data: bytes, rng: random.Random) -> bytes:
    """One to three mutations of one source."""
    for _ in range(rng.randint(1, 3)):
        kind = rng.choice(("truncate", "flip", "insert", "cookie", "bom", "nest", "chain", "lines", "indent",
                           "utf16", "nul", "crlf"))
        if kind == "truncate":
            data = data[:rng.choice(_token_ends(data))]
        elif kind == "flip" and data:
            at = rng.randrange(len(data))
            data = data[:at] + bytes([rng.randrange(256)]) + data[at + 1:]
        elif kind == "insert":
            at = rng.randrange(len(data) + 1)
            junk = rng.choice([b"(", b")", b"[", b"]", b":", b"\\", b"'", b'"""', b"lambda", b"**", b"\t",
                               b"\xff\xfe", b"\xe9", b"def", b"class", b"\r", b"#"])
            data = data[:at] + junk + data[at:]
        elif kind == "cookie":
            data = b"# -*- coding: " + rng.choice(COOKIES) + b" -*-\n" + data
        elif kind == "bom":
            data = b"\xef\xbb\xbf" + data
        elif kind == "nest":
            depth = rng.choice((50, 99, 150, 300, 1000, 5000))
            data += b"\nx = " + b"[" * depth + b"]" * depth + b"\n"
        elif kind == "chain":
            count = rng.choice((100, 1000, 3000, 8000))
            operator = rng.choice((b" and ", b" or ", b" + ", b", "))
            data += b"\ny = " + operator.join([b"a"] * count) + b"\n"
        elif kind == "lines":
            lines = data.splitlines(keepends=True)
            if lines:
                at = rng.randrange(len(lines))
                action = rng.choice(("drop", "dup", "swap"))
                if action == "drop":
                    del lines[at]
                elif action == "dup":
                    lines.insert(at, lines[at])
                else:
                    other = rng.randrange(len(lines))
                    lines[at], lines[other] = lines[other], lines[at]
                data = b"".join(lines)
        elif kind == "indent":
            lines = data.splitlines(keepends=True)
            if lines:
                at = rng.randrange(len(lines))
                lines[at] = rng.choice((b" ", b"\t", b"    ", b"")) + lines[at].lstrip(b" ")
                data = b"".join(lines)
        elif kind == "utf16":
            data = data.decode("utf-8", "replace").encode("utf-16")
        elif kind == "nul":
            at = rng.randrange(len(data) + 1)
            data = data[:at] + b"\0" + data[at:]
        elif kind == "crlf":
            data = data.replace(b"\n", rng.choice((b"\r\n", b"\r")))
    return data


def generate(count: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    pool = seeds()
    return [mangle(rng.choice(pool), rng) for _ in range(count)]


def _run(args: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CFGLINT_OUTPUT_FORMAT", "FORCE_COLOR", "CFGLINT_DEBUG")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "cfglint", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, errors="replace", timeout=timeout, check=False)


def problems_of(folder: Path, names: list[str]) -> list[str]:
    """Everything wrong with cfglint on these files (an empty list when all is well)."""
    found: list[str] = []
    limit = PER_INPUT_LIMIT + 0.05 * len(names) * PER_INPUT_LIMIT
    try:
        run = _run(["check", "--no-cache", "--output-format", "json", *names], folder, limit)
    except subprocess.TimeoutExpired:
        return [f"check did not finish within {limit:.0f} s"]
    if run.returncode not in (0, 1, 2) or "Traceback" in run.stderr or "internal error" in run.stderr:
        found.append(f"check: exit {run.returncode}: {run.stderr[-800:]}")
    elif run.returncode != 2:
        try:
            json.loads(run.stdout)
        except ValueError:
            found.append(f"check: output is not JSON: {run.stdout[:300]!r}")
    before = {name: (folder / name).read_bytes() for name in names}
    for attempt in ("first", "second"):
        try:
            run = _run(["check", "--no-cache", "--fix", "--unsafe-fixes", *names], folder, limit)
        except subprocess.TimeoutExpired:
            return [*found, f"--fix ({attempt}) did not finish within {limit:.0f} s"]
        if run.returncode not in (0, 1, 2) or "Traceback" in run.stderr or "internal error" in run.stderr:
            found.append(f"--fix ({attempt}): exit {run.returncode}: {run.stderr[-800:]}")
        after = {name: (folder / name).read_bytes() for name in names}
        for name in names:
            if after[name] != before[name]:
                if attempt == "second":
                    found.append(f"{name}: a second --fix changed it again")
                try:
                    compile(after[name], name, "exec", dont_inherit=True)
                except (SyntaxError, ValueError) as exc:
                    found.append(f"{name}: the fixed file does not compile: {exc}")
        before = after
    return found


def _culprits(folder: Path, names: list[str]) -> list[str]:
    """Split a failing batch until each problem is pinned on one input."""
    if len(names) == 1:
        return [f"{names[0]}: {problem}" for problem in problems_of(folder, names)]
    middle = len(names) // 2
    found = []
    for half in (names[:middle], names[middle:]):
        if problems_of(folder, half):
            found.extend(_culprits(folder, half))
    return found


def test_mangled_sources(tmp_path: Path) -> None:
    started = time.monotonic()
    cases = generate(CASES, SEED)
    failures: list[str] = []
    slowest = 0.0
    for first in range(0, len(cases), BATCH):
        folder = tmp_path / f"batch{first // BATCH}"
        folder.mkdir()
        (folder / "pyproject.toml").write_text("[tool.cfglint]\nmax-file-size = \"256KB\"\n", encoding="utf-8")
        names = []
        for index, data in enumerate(cases[first:first + BATCH], start=first):
            name = f"case{index:05d}.py"
            (folder / name).write_bytes(data)
            names.append(name)
        pristine = tmp_path / f"pristine{first // BATCH}"
        shutil.copytree(folder, pristine)
        batch_start = time.monotonic()
        if problems_of(folder, names):
            shutil.rmtree(folder)
            shutil.copytree(pristine, folder)
            failures.extend(_culprits(folder, names))
        slowest = max(slowest, time.monotonic() - batch_start)
        shutil.rmtree(pristine)
    elapsed = time.monotonic() - started
    print(f"\nfuzz: {len(cases)} inputs (seed {SEED}), {len(failures)} failures, "
          f"slowest batch of {BATCH}: {slowest:.1f} s, total {elapsed:.0f} s")
    for failure in failures:
        print("fuzz failure:", failure.splitlines()[0] if failure else failure)
    assert not failures, "\n".join(failures[:20])


def test_generator_is_deterministic_and_varied() -> None:
    first, again = generate(60, 7), generate(60, 7)
    assert first == again
    assert len(set(first)) > 50
