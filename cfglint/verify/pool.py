"""Worker processes for `cfglint verify`, with a time limit per class.

Each of N threads owns one worker process and feeds it jobs from a shared queue. A worker that does
not answer within `timeout` seconds is killed; one that dies (segfault, `os.abort`, `os._exit`) is
noticed by end-of-file. Either way the class gets a CFG908 finding naming the stage it was in, and a
fresh worker takes the next job. Starting a worker (importing TensorFlow) is not counted against the
per-class limit.
"""

from __future__ import annotations

import os
import queue
import selectors
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from cfglint.verify.protocol import Job, Problem, Result, decode, encode, result_from

STARTUP_TIMEOUT = 600.0


class WorkerStartError(Exception):
    """No worker could start (Keras missing, --device gpu without a GPU...): stops the run."""


@dataclass
class WorkerInfo:
    backend: str = ""
    device: str = ""
    keras: str = ""


@dataclass
class _Process:
    proc: subprocess.Popen[str]
    buffer: str = ""
    selector: selectors.BaseSelector = field(default_factory=selectors.DefaultSelector)

    def readline(self, deadline: float) -> str | None:
        """One line from the worker, or None at end-of-file; TimeoutError past the deadline."""
        stdout = self.proc.stdout
        assert stdout is not None
        while "\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            if not self.selector.select(remaining):
                raise TimeoutError
            chunk = os.read(stdout.fileno(), 65536)
            if not chunk:
                return None
            self.buffer += chunk.decode("utf-8", "replace")
        line, _, self.buffer = self.buffer.partition("\n")
        return line

    def kill(self) -> None:
        try:
            self.proc.kill()
        except OSError:
            pass
        self.proc.wait()


class WorkerPool:
    def __init__(self, *, target: str, device: str, jobs: int, timeout: float,
                 env: dict[str, str] | None = None) -> None:
        self.target = target
        self.device = device
        self.jobs = max(1, jobs)
        self.timeout = timeout
        self.env = env
        self.info = WorkerInfo()
        self._start_error: str | None = None
        self._lock = threading.Lock()

    def _spawn(self) -> _Process:
        argv = [sys.executable, "-m", "cfglint.verify.worker", "--target", self.target, "--device", self.device]
        env = dict(os.environ if self.env is None else self.env)
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                text=True, env=env, start_new_session=True)
        worker = _Process(proc)
        assert proc.stdout is not None
        worker.selector.register(proc.stdout, selectors.EVENT_READ)
        try:
            line = worker.readline(time.monotonic() + STARTUP_TIMEOUT)
        except TimeoutError:
            worker.kill()
            raise WorkerStartError("a verify worker did not start within "
                                   f"{STARTUP_TIMEOUT:.0f} s (importing Keras)") from None
        ready = decode(line) if line else {"ok": False, "error": f"exit code {proc.wait()}"}
        if not ready.get("ok"):
            worker.kill()
            raise WorkerStartError(f"a verify worker could not start: {ready.get('error')}")
        with self._lock:
            self.info = WorkerInfo(ready.get("backend", ""), ready.get("device", ""), ready.get("keras", ""))
        return worker

    def run(self, jobs: list[Job], on_result: Callable[[Job, Result], None]) -> None:
        """Check every job; `on_result` is called (from worker threads, one at a time) per job."""
        pending: queue.Queue[Job] = queue.Queue()
        for job in jobs:
            pending.put(job)
        lock = threading.Lock()
        errors: list[BaseException] = []
        poisoned: dict[str, str] = {}  # module → why its import failed (not retried per class)

        def report(job: Job, result: Result) -> None:
            with lock:
                on_result(job, result)

        def loop() -> None:
            worker: _Process | None = None
            try:
                while True:
                    try:
                        job = pending.get_nowait()
                    except queue.Empty:
                        return
                    earlier = poisoned.get(job.module)
                    if earlier is not None:
                        report(job, Result(job.id, "failed", problems=[Problem(
                            "CFG908", "import", f"its module could not be imported: {earlier}")]))
                        continue
                    if worker is None:
                        worker = self._spawn()
                    result, alive = self._one(worker, job)
                    if not alive:
                        worker.kill()
                        worker = None
                    for problem in result.problems:
                        if problem.code == "CFG908" and problem.stage == "import":
                            poisoned.setdefault(job.module, problem.message)
                    report(job, result)
            except BaseException as exc:  # noqa: BLE001 - surfaced to the caller below
                errors.append(exc)
                while True:  # nothing more can run: drain so other threads stop too
                    try:
                        pending.get_nowait()
                    except queue.Empty:
                        break
            finally:
                if worker is not None:
                    _close(worker)

        threads = [threading.Thread(target=loop, daemon=True) for _ in range(min(self.jobs, len(jobs)))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]

    def _one(self, worker: _Process, job: Job) -> tuple[Result, bool]:
        """Send one job; the result and whether the worker can take another."""
        assert worker.proc.stdin is not None
        try:
            worker.proc.stdin.write(encode(job))
            worker.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            return _crashed(job, "start", worker.proc), False
        stage = "start"
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                line = worker.readline(deadline)
            except TimeoutError:
                return Result(job.id, "failed", problems=[Problem(
                    "CFG908", stage, f"no answer within --timeout {self.timeout:g} s while in stage `{stage}` "
                                     "(hang or endless loop); the worker was killed")]), False
            if line is None:
                return _crashed(job, stage, worker.proc), False
            message = decode(line)
            if message.get("kind") == "progress":
                stage = message.get("stage", stage)
                continue
            return result_from(message), True


def _crashed(job: Job, stage: str, proc: subprocess.Popen[str]) -> Result:
    code = proc.wait()
    how = f"killed by signal {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"
    return Result(job.id, "failed", problems=[Problem(
        "CFG908", stage, f"the worker process {how} while in stage `{stage}` (crash, os.abort or os._exit)")])


def _close(worker: _Process) -> None:
    try:
        assert worker.proc.stdin is not None
        worker.proc.stdin.close()
        worker.proc.wait(timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        worker.kill()


class PersistentWorker:
    """One worker kept alive across calls (the pytest plugin: one per pytest or xdist process)."""

    def __init__(self, pool: WorkerPool) -> None:
        self.pool = pool
        self._worker: _Process | None = None

    def check(self, job: Job) -> Result:
        if self._worker is None:
            self._worker = self.pool._spawn()
        result, alive = self.pool._one(self._worker, job)
        if not alive:
            self._worker.kill()
            self._worker = None
        return result

    def close(self) -> None:
        if self._worker is not None:
            _close(self._worker)
            self._worker = None
