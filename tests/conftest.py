"""Fixtures every test module shares. (Shared source snippets are constants in `helpers.py`.)

The repository's tests must leave its tree as they found it. `cfglint check` keeps a result cache in
`.cfglint_cache/` at the project root it finds, so a test that checks `fixtures/` (or any other folder of
the repository) with the cache on would leave one behind: such a test passes `--no-cache` or a
`--cache-dir` under its `tmp_path`. The session fixture below fails the run when a cache folder appears
in the repository, or an existing one is written to, while the tests run.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers import REPO, caches_in_repository


@pytest.fixture(scope="session", autouse=True)
def _no_cache_written_into_the_repository() -> Iterator[None]:
    before = caches_in_repository()
    yield
    after = caches_in_repository()
    written = sorted(str(path.relative_to(REPO)) for path, mtime in after.items() if before.get(path) != mtime)
    assert not written, (f"tests wrote a result cache into the repository: {written}; run cfglint with "
                         "--no-cache or a --cache-dir under tmp_path")


@pytest.fixture
def pool_starts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many worker pools were started (their sizes)."""
    import concurrent.futures

    started: list[int] = []
    original = concurrent.futures.ProcessPoolExecutor

    class Spy(original):  # type: ignore[misc, valid-type]
        def __init__(self, max_workers=None, *args, **kwargs):  # type: ignore[no-untyped-def]
            started.append(max_workers)
            super().__init__(max_workers, *args, **kwargs)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", Spy)
    return started
