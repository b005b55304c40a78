"""pytest plugin: `pytest --cfglint-verify PATH` adds one test item per Keras class found under PATH.

Each item runs `cfglint verify`'s round trip for its class in a worker process kept for the whole
pytest process, so under pytest-xdist (`-n 2`) every xdist worker imports TensorFlow once and the
classes are spread across them. Collection is static (no user code runs) and deterministic, as
xdist requires. The plugin costs nothing when the option is not given.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from _pytest._code.code import TerminalRepr  # what pytest's own `Item.repr_failure` is declared to return

    from cfglint.settings_resolver import SettingsResolver
    from cfglint.verify.pool import PersistentWorker
    from cfglint.verify.runner import ClassTarget


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cfglint")
    group.addoption("--cfglint-verify", action="append", default=[], metavar="PATH",
                    help="verify every Keras Layer/Model class under PATH (runs its code)")
    group.addoption("--cfglint-verify-timeout", type=float, default=120.0, metavar="SECONDS",
                    help="time limit per class (default: 120)")
    group.addoption("--cfglint-verify-device", choices=("auto", "cpu", "gpu"), default="auto")


class VerifyFailure(Exception):
    """A class that failed one or more round-trip stages."""


class ClassItem(pytest.Item):
    def __init__(self, *, target: ClassTarget, example: dict[str, Any] | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target = target
        self.example = example
        self.add_marker(pytest.mark.cfglint_verify)

    def runtest(self) -> None:
        from cfglint.finding_filter import is_reported
        from cfglint.verify.protocol import Job

        worker = _worker(self.config, self.target.target.value)
        t = self.target
        result = worker.check(Job(0, t.module, t.root, t.file, t.name, self.example))
        if result.status == "skipped":
            pytest.skip(result.reason)
        selection = self.config.stash[_PLAN].resolver.for_path(t.path).selection
        problems = [p for p in result.problems  # as `cfglint verify` reports them: `noqa` and selection apply
                    if is_reported(p.code, t.path, t.line, selection=selection, noqa=t.noqa)]
        if problems:
            raise VerifyFailure("\n".join(f"{p.code} {p.stage}: {p.message}" for p in problems))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str | TerminalRepr:
        if isinstance(excinfo.value, VerifyFailure):
            return f"{self.target.path}:{self.target.line}: {self.target.name}\n{excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        return Path(self.target.path), self.target.line - 1, f"cfglint-verify {self.target.module}:{self.target.name}"


class VerifyCollector(pytest.Collector):
    """Finds the classes statically, with the same pass `cfglint check` uses."""

    def __init__(self, *, paths: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.paths = paths

    def collect(self) -> list[pytest.Item]:
        plan = self.config.stash.get(_PLAN, None) or _plan(self.paths)
        return [ClassItem.from_parent(self, name=f"{t.module}:{t.name}", target=t,
                                      example=plan.examples.get(f"{t.module}:{t.name}")) for t in plan.targets]


@dataclass(frozen=True)
class Plan:
    """The classes to verify, the examples that go with them, and the settings of their files."""

    targets: list[ClassTarget]
    examples: dict[str, Any]
    resolver: SettingsResolver


_PLAN = pytest.StashKey[Plan]()


def _plan(paths: list[str]) -> Plan:
    """Find the classes with the settings `cfglint verify PATHS` would use; a path that does not exist,
    a configuration mistake or an example naming no class is a usage error (pytest exits 4), as for
    any other bad command-line argument."""
    from cfglint.config import ConfigError
    from cfglint.engine import Checker
    from cfglint.settings_resolver import resolve_settings
    from cfglint.verify.runner import check_example_keys, find_classes, resolve_arguments, search_roots

    try:
        first = Path(paths[0])
        resolver = resolve_settings(first if first.is_dir() else first.parent, fallback=Path.cwd())
        settings = resolver.base
        checker = Checker(settings, resolver=resolver)
        examples = dict(settings.verify.get("examples", {}))
        roots = search_roots(checker)
        found, errors = resolve_arguments(paths, roots)
        if errors:
            raise pytest.UsageError(f"--cfglint-verify: {'; '.join(errors)}")
        targets, _, _ = find_classes(checker, found)
        check_example_keys(examples, targets, roots, settings.config_path)
    except ConfigError as exc:
        raise pytest.UsageError(f"--cfglint-verify: {exc}") from None
    return Plan(targets, examples, resolver)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "cfglint_verify: a class checked by `cfglint verify`")
    paths = config.getoption("cfglint_verify", None)
    if paths:  # checked before any test runs (and, under xdist, before workers start)
        config.stash[_PLAN] = _plan(list(paths))


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    paths = config.getoption("cfglint_verify")
    if paths:
        collector = VerifyCollector.from_parent(session, name="cfglint-verify", nodeid="cfglint-verify",
                                                paths=list(paths))
        # through the collect-report hooks, so the terminal reporter counts the items
        report = collector.ihook.pytest_make_collect_report(collector=collector)
        config.hook.pytest_collectreport(report=report)
        items.extend(report.result or [])


_WORKERS: dict[str, PersistentWorker] = {}


def _worker(config: pytest.Config, target: str) -> PersistentWorker:
    from cfglint.verify.pool import PersistentWorker, WorkerPool

    if target not in _WORKERS:
        pool = WorkerPool(target=target, device=config.getoption("cfglint_verify_device"), jobs=1,
                          timeout=config.getoption("cfglint_verify_timeout"))
        _WORKERS[target] = PersistentWorker(pool)
    return _WORKERS[target]


def pytest_unconfigure(config: pytest.Config) -> None:
    for worker in _WORKERS.values():
        worker.close()
    _WORKERS.clear()
