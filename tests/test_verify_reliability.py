"""`cfglint verify` against hostile user modules: nothing they do reaches the verdict or outlives the run.

* a module that monkeypatches `json.dumps` (to fake a result, or to break encoding) cannot change a
  verdict: the protocol and the checks use a private copy of `json` on private pipes;
* SIGTERM or SIGINT on `cfglint verify` ends the workers and every process user code started in them;
  a normal run leaves no stray process either;
* a worker whose user code forked before crashing is reported as a crash, not as a hang;
* a file that does not parse is CFG908, not "All checks passed".

Each test starts `python -m cfglint verify` in a subprocess (workers import TensorFlow: a few seconds).
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.keras,
    pytest.mark.skipif(
        importlib.util.find_spec("tensorflow") is None or importlib.util.find_spec("keras") is None,
        reason="cfglint verify needs TensorFlow and Keras",
    ),
]

GOOD = """
import keras


class Good(keras.layers.Layer):
    def __init__(self, units=2, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def call(self, x):
        return x

    def get_config(self):
        return {**super().get_config(), "units": self.units}
"""


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.cfglint]\n", encoding="utf-8")
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return tmp_path


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CFGLINT_OUTPUT_FORMAT", "FORCE_COLOR")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    return env


def verify(root: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cfglint", "verify", "--jobs", "1", "--output-format", "json",
                           *args], cwd=root, env=environment(), capture_output=True, text=True,
                          timeout=timeout, check=False)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is as good as gone
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            return handle.read().split(") ", 1)[1][:1] != "Z"
    except OSError:
        return True


def wait_gone(pids: list[int], seconds: float = 15) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = [pid for pid in pids if alive(pid)]
        if not left:
            return []
        time.sleep(0.1)
    return [pid for pid in pids if alive(pid)]


@pytest.mark.parametrize("patch", ["fake-result", "raise"])
def test_json_dumps_monkeypatch_cannot_change_a_verdict(tmp_path: Path, patch: str) -> None:
    fake = json.dumps({"kind": "result", "id": 0, "status": "verified", "problems": []})
    replacement = (f"lambda *args, **kwargs: {fake!r} + chr(10)" if patch == "fake-result"
                   else "lambda *args, **kwargs: (_ for _ in ()).throw(RuntimeError('patched'))")
    root = project(tmp_path, {"hostile.py": f"""
        import json

        import keras

        json.dumps = {replacement}
        json.JSONEncoder.encode = lambda self, o: {fake!r}


        class Broken(keras.layers.Layer):
            def __init__(self, units=2, **kwargs):
                super().__init__(**kwargs)
                self.units = units

            def call(self, x):
                return x

            def get_config(self):
                raise RuntimeError("get_config is broken")
        """})
    run = verify(root, "hostile.py")
    assert run.returncode == 1, (run.stdout, run.stderr[-3000:])
    codes = {f["code"] for f in json.loads(run.stdout)}
    assert "CFG901" in codes, run.stdout
    assert "0 verified, 1 failed" in run.stderr


def _start(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "cfglint", "verify", "--jobs", "1", *args], cwd=root,
                            env=environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


SPAWNER = """
import os
import subprocess
import sys
import time

import keras

child = subprocess.Popen(["sleep", "300"])
with open({marker!r}, "w") as handle:
    handle.write(f"{{os.getpid()}} {{child.pid}}")
time.sleep(300)  # the import hangs: the run is busy with this worker when the signal comes


class Slow(keras.layers.Layer):
    pass
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_interrupted_run_leaves_no_process_behind(tmp_path: Path, signum: int) -> None:
    marker = tmp_path / "pids"
    root = project(tmp_path, {"slow.py": SPAWNER.format(marker=str(marker))})
    run = _start(root, "--timeout", "600", "slow.py")
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() or not marker.read_text(encoding="utf-8").strip():
            assert run.poll() is None, run.communicate()
            assert time.monotonic() < deadline, "the worker never imported the module"
            time.sleep(0.2)
        worker, grandchild = map(int, marker.read_text(encoding="utf-8").split())
        assert alive(worker) and alive(grandchild)
        run.send_signal(signum)
        run.wait(timeout=30)
        assert run.returncode != 0
        assert wait_gone([worker, grandchild]) == [], "a worker or a process it started outlived the run"
    finally:
        if run.poll() is None:
            run.kill()


def test_normal_run_leaves_no_process_behind(tmp_path: Path) -> None:
    marker = tmp_path / "pids"
    root = project(tmp_path, {"spawns.py": GOOD + f"""
import os
import subprocess

_child = subprocess.Popen(["sleep", "300"])
with open({str(marker)!r}, "w") as handle:
    handle.write(f"{{os.getpid()}} {{_child.pid}}")
"""})
    run = verify(root, "spawns.py")
    assert run.returncode == 0, (run.stdout, run.stderr[-3000:])
    worker, grandchild = map(int, marker.read_text(encoding="utf-8").split())
    assert wait_gone([worker, grandchild]) == []


def test_crash_after_a_fork_is_a_crash_not_a_hang(tmp_path: Path) -> None:
    """A child forked by user code keeps the worker's pipe open after the worker dies."""
    root = project(tmp_path, {"forks.py": """
        import os
        import time

        import keras

        if os.fork() == 0:
            time.sleep(120)
            os._exit(0)


        class Aborts(keras.layers.Layer):
            def __init__(self, units=2, **kwargs):
                super().__init__(**kwargs)
                os.abort()
        """})
    start = time.monotonic()
    run = verify(root, "--timeout", "100", "forks.py")
    elapsed = time.monotonic() - start
    assert run.returncode == 1, (run.stdout, run.stderr[-3000:])
    messages = [f["message"] for f in json.loads(run.stdout) if f["code"] == "CFG908"]
    assert messages and "SIGABRT" in messages[0], messages
    assert elapsed < 80, f"the crash was only noticed after {elapsed:.0f} s"


def test_file_that_does_not_parse_is_cfg908(tmp_path: Path) -> None:
    root = project(tmp_path, {"good.py": GOOD, "broken.py": "import keras\n\nclass Broken(keras.layers.Layer:\n"})
    run = verify(root, ".")
    assert run.returncode == 1, (run.stdout, run.stderr[-3000:])
    findings = json.loads(run.stdout)
    assert [(f["path"], f["code"]) for f in findings] == [("broken.py", "CFG908")]
    assert "not verified: the file" in findings[0]["message"]
    assert "1 file not parsed" in run.stderr
