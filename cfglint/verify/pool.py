"""Worker processes for `cfglint verify`, with a time limit per class.

Each of N threads owns one worker process and feeds it jobs from a shared queue. A worker that does
not answer within `timeout` seconds is killed; one that dies (segfault, `os.abort`, `os._exit`) is
noticed by end-of-file or by its exit. Workers are killed with their whole process group when the
run ends, is interrupted (Ctrl-C, SIGTERM) or the interpreter exits, so nothing is left behind. Either
way the class gets a CFG908 finding naming the stage it was in, and a fresh worker takes the next job.
Starting a worker (importing TensorFlow) is not counted against the per-class limit.
The same pool loads saved models (`LoadJob`, for `cfglint saved --dynamic`), with the same isolation.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import queue
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import IO, Any, TypeVar

from cfglint.verify.protocol import Job, LoadJob, Problem, Result, decode, encode, result_from

AnyJob = TypeVar("AnyJob", Job, LoadJob)

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
    """A worker and its two private pipes: jobs go out on `jobs`, answers come back on `results_fd`.

    The worker is the leader of its own process group, so killing the group also ends whatever user
    code started inside it (grandchildren)."""

    proc: subprocess.Popen[bytes]
    jobs: IO[str]
    results_fd: int
    buffer: str = ""
    selector: selectors.BaseSelector = field(default_factory=selectors.DefaultSelector)

    def readline(self, deadline: float) -> str | None:
        """One line from the worker, or None once it is gone; TimeoutError past the deadline.

        End-of-file alone is not enough: a process that user code forked inside the worker may hold
        the pipe open after the worker died, so the worker's own exit is polled as well."""
        while "\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            if not self.selector.select(min(remaining, POLL_INTERVAL)):
                if _exited(self.proc) and not self.selector.select(0):
                    return None
                continue
            chunk = os.read(self.results_fd, 65536)
            if not chunk:
                return None
            self.buffer += chunk.decode("utf-8", "replace")
        line, _, self.buffer = self.buffer.partition("\n")
        return line

    def kill(self, wait: float | None = None) -> None:
        """Kill the worker's process group, reap the worker (waiting at most `wait` seconds), let go of
        its pipes."""
        _kill_group(self.proc)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=wait)
        self.release()

    def release(self) -> None:
        _LIVE.discard(self)
        for close in (self.jobs.close, lambda: os.close(self.results_fd), self.selector.close):
            with contextlib.suppress(OSError):
                close()

    __hash__ = object.__hash__


POLL_INTERVAL = 0.5
_LIVE: set[_Process] = set()  # every worker not yet closed, for the clean-up at exit


def _exited(proc: subprocess.Popen[bytes]) -> bool:
    """Whether the worker has exited, without reaping it: its pid must stay reserved until its group
    has been killed, or the group id could name someone else's processes."""
    if proc.returncode is not None:
        return True
    try:
        return os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT | os.WNOHANG) is not None
    except ChildProcessError:
        return True


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the worker's whole process group (the worker and anything user code started). Never
    after the worker was reaped: its pid, and so the group id, may belong to someone else by then."""
    if proc.returncode is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        with contextlib.suppress(OSError):
            proc.kill()


def kill_all_workers() -> None:
    """End every worker still running (an interrupted run, a SIGTERM, the interpreter exiting)."""
    for worker in list(_LIVE):
        worker.kill(wait=5)


atexit.register(kill_all_workers)


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
        jobs_read, jobs_write = os.pipe()
        results_read, results_write = os.pipe()
        argv = [sys.executable, "-m", "cfglint.verify.worker", "--target", self.target, "--device", self.device,
                "--jobs-fd", str(jobs_read), "--results-fd", str(results_write)]
        env = dict(os.environ if self.env is None else self.env)
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, env=env, start_new_session=True,
                                    pass_fds=(jobs_read, results_write))
        finally:
            os.close(jobs_read)
            os.close(results_write)
        worker = _Process(proc, os.fdopen(jobs_write, "w", encoding="utf-8"), results_read)
        _LIVE.add(worker)
        worker.selector.register(results_read, selectors.EVENT_READ)
        try:
            line = worker.readline(time.monotonic() + STARTUP_TIMEOUT)
        except TimeoutError:
            worker.kill()
            raise WorkerStartError("a verify worker did not start within "
                                   f"{STARTUP_TIMEOUT:.0f} s (importing Keras)") from None
        ready: dict[str, Any] = decode(line) if line else {"ok": False, "error": f"exit code {proc.wait()}"}
        if not ready.get("ok"):
            worker.kill()
            raise WorkerStartError(f"a verify worker could not start: {ready.get('error')}")
        with self._lock:
            self.info = WorkerInfo(ready.get("backend", ""), ready.get("device", ""), ready.get("keras", ""))
        return worker

    def run(self, jobs: Sequence[AnyJob], on_result: Callable[[AnyJob, Result], None]) -> None:
        """Check every job; `on_result` is called (from worker threads, one at a time) per job."""
        pending: queue.Queue[AnyJob] = queue.Queue()
        for job in jobs:
            pending.put(job)
        lock = threading.Lock()
        errors: list[BaseException] = []
        poisoned: dict[str, str] = {}  # module → why its import failed (not retried per class)
        failed_imports: dict[str, Result] = {}  # the same for saved models: module → the load that failed

        def report(job: AnyJob, result: Result) -> None:
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
                    blocked = _failed_import_of(job, failed_imports) if isinstance(job, LoadJob) \
                        else _poisoned(job, poisoned)
                    if blocked is not None:
                        report(job, blocked)
                        continue
                    if worker is None:
                        worker = self._spawn()
                    result, alive = self._one(worker, job)
                    if not alive:
                        worker.kill()
                        worker = None
                    if isinstance(job, LoadJob):
                        _remember_failed_import(result, failed_imports)
                    else:
                        for problem in result.problems:
                            if problem.code == "CFG908" and problem.stage == "import":
                                poisoned.setdefault(job.module, problem.message)
                    report(job, result)
            except BaseException as exc:
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
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                while thread.is_alive():  # with a timeout, so that Ctrl-C and SIGTERM get through
                    thread.join(0.2)
        except BaseException:
            while True:  # no new job may start a worker while the running ones are ended
                try:
                    pending.get_nowait()
                except queue.Empty:
                    break
            kill_all_workers()
            raise
        if errors:
            raise errors[0]

    def _one(self, worker: _Process, job: Job | LoadJob) -> tuple[Result, bool]:
        """Send one job; the result and whether the worker can take another."""
        try:
            worker.jobs.write(encode(job))
            worker.jobs.flush()
        except (BrokenPipeError, OSError, ValueError):
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


def _poisoned(job: Job, poisoned: dict[str, str]) -> Result | None:
    """A CFG908 finding when the class's module could not be imported for an earlier class."""
    earlier = poisoned.get(job.module)
    if earlier is None:
        return None
    return Result(job.id, "failed", problems=[Problem(
        "CFG908", "import", f"its module could not be imported: {earlier}")])


def _failed_import_of(job: LoadJob, failed_imports: dict[str, Result]) -> Result | None:
    """An earlier load's result when one of this load's modules could not be imported then (a hanging
    import would cost every archive the full timeout)."""
    for name, _, _ in job.modules:
        if name in failed_imports:
            earlier = failed_imports[name]
            return replace(earlier, id=job.id, problems=list(earlier.problems))
    return None


def _remember_failed_import(result: Result, failed_imports: dict[str, Result]) -> None:
    for problem in result.problems:
        if problem.stage.startswith("import "):
            failed_imports.setdefault(problem.stage.removeprefix("import "), result)


def _crashed(job: Job | LoadJob, stage: str, proc: subprocess.Popen[bytes]) -> Result:
    deadline = time.monotonic() + 2  # end-of-file comes just before the exit; user code may also
    while not _exited(proc) and time.monotonic() < deadline:  # have closed the pipe in a live worker
        time.sleep(0.02)
    exited = _exited(proc)
    _kill_group(proc)  # grandchildren too, before the worker is reaped
    code = proc.wait()
    if not exited:
        return Result(job.id, "failed", problems=[Problem(
            "CFG908", stage, f"the worker closed its result channel while in stage `{stage}`; it was killed")])
    how = f"killed by signal {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"
    return Result(job.id, "failed", problems=[Problem(
        "CFG908", stage, f"the worker process {how} while in stage `{stage}` (crash, os.abort or os._exit)")])


def _close(worker: _Process) -> None:
    """Let the worker finish (end of its job stream), then end its process group: processes that user
    code started and left running go with it."""
    with contextlib.suppress(OSError):
        worker.jobs.close()
    deadline = time.monotonic() + 10
    while not _exited(worker.proc) and time.monotonic() < deadline:
        time.sleep(0.02)
    worker.kill(wait=5)


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
