"""Editor latency: from a `didChange` to the published diagnostics of a 2,000-line file of Keras layers.

    python benchmarks/lsp_latency.py [CORPUS_DIR] [--edits N] [--lines N] [--json OUT]

The document is built by concatenating whole layer/model files of a corpus (the Keras-dense corpus of
`benchmarks/run.py` by default, built or reused from its cache) until it has at least 2,000 lines, and
is saved next to the first of them, so its imports resolve in the project as in an editor. A real
`cfglint server` is started over a pipe and driven by pygls's client, as tests/test_server.py does; each
edit inserts a comment line and waits for the diagnostics of that version. The figure is the time from
sending the change to receiving the diagnostics minus the server's debounce delay (the wait for typing
to pause, which is a choice, not work), median over the edits after a first, warm-up one. The same
check is also timed in-process (`Checker.check_source`, what the server's worker thread runs).

Goal: <= 150 ms. Needs pygls (`pip install -e '.[server]'`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import corpus as corpora

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GOAL_S = 0.150
DOCUMENT_NAME = "lsp_bench_document.py"
TIMEOUT = 60.0


def build_document(corpus: Path, layer_files: list[str], lines: int = 2000) -> tuple[Path, str]:
    """Whole layer files concatenated until `lines` lines (`from __future__` lines dropped, as they must
    come first); returns where to save the document (beside the first file) and its text."""
    if not layer_files:
        raise ValueError("no layer files to build the document from")
    parts: list[str] = []
    count = 0
    for relative in layer_files:
        text = (corpus / relative).read_text(encoding="utf-8")
        kept = [line for line in text.splitlines() if not line.startswith("from __future__ import")]
        parts.append("\n".join(kept) + "\n")
        count += len(kept)
        if count >= lines:
            break
    return corpus / Path(layer_files[0]).parent / DOCUMENT_NAME, "\n".join(parts)


def edited(text: str, number: int) -> str:
    """The text with one comment line inserted at a line that moves with each edit."""
    lines = text.split("\n")
    at = (number * 97) % len(lines)
    while 0 < at < len(lines) and lines[at - 1].endswith("\\"):
        at += 1  # a comment line is valid anywhere but after a backslash continuation
    return "\n".join([*lines[:at], f"# edit {number}", *lines[at:]])


def debounce_seconds() -> float:
    """The server's wait after a change before it checks (0 when the server has none)."""
    corpora.use_checkout()
    try:
        from cfglint.server import features
    except ImportError:
        return 0.0
    return float(getattr(features, "DEBOUNCE_SECONDS", 0.0))


async def _over_pipe(path: Path, text: str, edits: int, env: dict[str, str]) -> list[float]:
    """Seconds from each didChange to its published diagnostics (debounce included)."""
    from lsprotocol import types
    from pygls.lsp.client import LanguageClient

    client = LanguageClient("cfglint-bench", "1.0")
    arrived: dict[int, float] = {}
    event = asyncio.Event()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
        if params.version is not None:
            arrived.setdefault(params.version, time.perf_counter())
            event.set()

    async def wait_for(version: int) -> float:
        deadline = time.monotonic() + TIMEOUT
        while version not in arrived:
            event.clear()
            await asyncio.wait_for(event.wait(), max(0.01, deadline - time.monotonic()))
        return arrived[version]

    root = path.parent
    await client.start_io(sys.executable, "-m", "cfglint", "server", cwd=str(root), env=env)
    capabilities = types.ClientCapabilities(text_document=types.TextDocumentClientCapabilities(
        publish_diagnostics=types.PublishDiagnosticsClientCapabilities(version_support=True)))
    await client.initialize_async(types.InitializeParams(
        process_id=os.getpid(), root_uri=root.as_uri(), capabilities=capabilities))
    client.initialized(types.InitializedParams())
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
    await wait_for(1)
    samples = []
    for number in range(edits + 1):  # the first edit warms up: imports, the project index
        version = number + 2
        sent = time.perf_counter()
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=edited(text, number))]))
        received = await wait_for(version)
        if number:
            samples.append(received - sent)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return samples


def in_process(path: Path, text: str, edits: int) -> list[float]:
    """Seconds of `Checker.check_source` on each edited text, a fresh checker each time (as the server)."""
    corpora.use_checkout()
    from cfglint.config import load_settings
    from cfglint.engine import Checker
    from cfglint.rules import ALL_RULES

    settings = load_settings(path.parent, known_codes=ALL_RULES)
    samples = []
    for number in range(edits + 1):
        source = edited(text, number)
        start = time.perf_counter()
        checker = Checker(settings)
        checker.check_source(source, str(path))
        checker.close()
        if number:
            samples.append(time.perf_counter() - start)
    return samples


def measure(path: Path, text: str, edits: int, env: dict[str, str]) -> dict[str, Any]:
    """Both timings for the document saved at `path` (removed afterwards)."""
    path.write_text(text, encoding="utf-8")
    try:
        pipe = asyncio.run(asyncio.wait_for(_over_pipe(path, text, edits, env), TIMEOUT * (edits + 2)))
        check = in_process(path, text, edits)
    finally:
        path.unlink(missing_ok=True)
    debounce = debounce_seconds()
    latencies = [max(0.0, s - debounce) for s in pipe]
    return {"lines": text.count("\n") + 1, "edits": edits, "debounce_s": debounce,
            "latency_s": statistics.median(latencies), "latency_samples_s": latencies,
            "check_s": statistics.median(check), "check_samples_s": check}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="?", type=Path, help="a corpus folder (default: the Keras-dense corpus)")
    parser.add_argument("--edits", type=int, default=9)
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    env = corpora.bench_env()
    with tempfile.TemporaryDirectory(prefix="cfglint-lsp-") as temp:
        folder = args.corpus
        if folder is None:
            folder = Path(temp) / "dense"
            try:
                corpora.build_dense(folder)
            except corpora.CorpusError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
        found = corpora.census(folder, env)
        path, text = build_document(folder, [p for p in found.keras if corpora.is_layer_file(p)], args.lines)
        result = measure(path, text, args.edits, env)
    verdict = "within" if result["latency_s"] <= GOAL_S else "OVER"
    print(f"{result['lines']}-line document, {args.edits} edits: didChange -> diagnostics "
          f"{result['latency_s'] * 1000:.0f} ms median, debounce ({result['debounce_s'] * 1000:.0f} ms) excluded "
          f"({verdict} the {GOAL_S * 1000:.0f} ms goal); the check alone in-process {result['check_s'] * 1000:.0f} ms "
          f"(load average {os.getloadavg()[0]:.2f})")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
