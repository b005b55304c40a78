"""Inputs built to break a linter: deep class hierarchies, file names that fake output or drive the
terminal, parser stack overflows, and an editor client sending what no well-behaved client sends."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import MISSING_UNITS

from cfglint.cli import main
from cfglint.display import printable

BUGGY = MISSING_UNITS


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("FORCE_COLOR", "CFGLINT_OUTPUT_FORMAT", "CFGLINT_NO_CACHE"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "pyproject.toml").write_text("[tool.cfglint]\n", encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("levels", [40, 300])
def test_deep_project_hierarchy_is_recognised(project: Path, capsys, levels: int) -> None:
    """A class many levels below `keras.layers.Layer` (once cut off at 32), across two files."""
    first = ["import keras\n\n\nclass C0(keras.layers.Layer):\n    pass\n"]
    first += [f"\n\nclass C{i}(C{i - 1}):\n    pass\n" for i in range(1, levels // 2)]
    (project / "base.py").write_text("".join(first), encoding="utf-8")
    second = [f"from base import C{levels // 2 - 1}\n"]
    second += [f"\n\nclass C{i}(C{i - 1}):\n    pass\n" for i in range(levels // 2, levels)]
    second.append(f"\n\nclass Leaf(C{levels - 1}):\n    def __init__(self, units):\n        super().__init__()\n")
    (project / "leaf.py").write_text("".join(second), encoding="utf-8")
    code = main(["check", "--no-cache", "leaf.py"])
    out = capsys.readouterr().out
    assert code == 1 and " CFG302 " in out, out


def test_printable_escapes_controls_only() -> None:
    assert printable("layers/dense.py") == "layers/dense.py"
    assert printable("caf\u00e9.py") == "caf\u00e9.py"
    assert printable("a.py\nfake.py:1:1: CFG101 x") == "a.py\\x0afake.py:1:1: CFG101 x"
    assert printable("\x1b[31mred.py") == "\\x1b[31mred.py"
    assert printable("evil\u202egnp.py") == "evil\\u202egnp.py"


def test_file_names_cannot_fake_findings_or_drive_the_terminal(project: Path, capsys) -> None:
    names = ["a.py\nfake.py:1:1: CFG101 forged.py", "\x1b[2J\x1b[31mred.py"]
    for name in names:
        (project / name).write_text(BUGGY, encoding="utf-8")
    (project / "gone\x1b]0;title\x07.py").symlink_to(project / "missing.py")
    code = main(["check", "--no-cache", "."])
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert not any(line.startswith("fake.py") for line in lines), lines
    assert "\x1b" not in captured.out and "\x1b" not in captured.err and "\x07" not in captured.err
    assert sum(" CFG101 " in line for line in lines) == 2
    assert code == 1


def test_parser_stack_overflow_is_named_for_what_it_is(project: Path, capsys) -> None:
    (project / "deep.py").write_text("import keras\nx = " + "-" * 100_000 + "1\n", encoding="utf-8")
    main(["check", "--no-cache", "deep.py"])
    out = capsys.readouterr().out
    assert "CFG001 cannot be parsed: the code is nested too deeply for Python's parser" in out
    assert "out of memory" not in out


# ------------------------------------------------------------------------------- the language server
class RawClient:
    """JSON-RPC over the server's stdio, with no client library in between to tidy up requests."""

    def __init__(self, cwd: Path) -> None:
        env = {k: v for k, v in os.environ.items() if k != "CFGLINT_OUTPUT_FORMAT"}
        self.proc = subprocess.Popen([sys.executable, "-m", "cfglint", "server"], cwd=cwd, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.buffer = b""

    def send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def answer(self, message_id: int, timeout: float = 30) -> dict:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while b"\r\n\r\n" in self.buffer:
                head, rest = self.buffer.split(b"\r\n\r\n", 1)
                length = int(next(line for line in head.split(b"\r\n")
                                  if line.lower().startswith(b"content-length")).split(b":")[1])
                if len(rest) < length:
                    break
                message, self.buffer = json.loads(rest[:length]), rest[length:]
                if message.get("id") == message_id and "method" not in message:
                    return message
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                self.buffer += chunk
        raise AssertionError(f"no answer to request {message_id}")

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def client(project: Path):
    pytest.importorskip("pygls")
    raw = RawClient(project)
    raw.send({"id": 1, "method": "initialize", "params": {"capabilities": {}, "processId": None,
                                                          "rootUri": project.as_uri()}})
    raw.answer(1)
    raw.send({"method": "initialized", "params": {}})
    yield raw
    raw.close()


def test_every_request_is_answered(client: RawClient) -> None:
    client.send({"id": 2, "method": "cfglint/noSuchMethod", "params": {}})
    assert client.answer(2)["error"]["code"] == -32601
    client.send({"id": 3, "method": "textDocument/codeAction", "params": {}})
    assert client.answer(3)["error"]["code"] == -32602
    client.send({"id": 4, "method": "textDocument/codeAction"})
    assert "error" in client.answer(4)
    client.send({"id": 5, "method": "shutdown"})
    assert "error" not in client.answer(5)  # and the server is still alive to say so


def test_nul_in_a_document_uri_is_not_a_parse_error(client: RawClient, project: Path) -> None:
    uri = project.as_uri() + "/a%00b.py"
    client.send({"method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": uri, "languageId": "python", "version": 1, "text": BUGGY}}})
    client.send({"id": 2, "method": "textDocument/diagnostic", "params": {"textDocument": {"uri": uri}}})
    codes = [item["code"] for item in client.answer(2)["result"]["items"]]
    assert codes == ["CFG101"], codes
