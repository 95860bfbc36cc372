"""The maintainability worker (server/lsp/mi_worker.py): a real forkserver process for large texts, started from a
thread so that the event loop (the keystrokes) never waits for the fork, and restarted when it dies."""

from __future__ import annotations

import asyncio
import os
import signal
import threading

import pytest

from sophia_artemis.analysis import maintainability_index
from sophia_artemis.server.lsp import mi_worker
from sophia_artemis.server.lsp.mi_worker import PROCESS_THRESHOLD, MaintainabilityWorker

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the worker process needs a forkserver")

BIG = "".join(
    f"def f{i}(x):\n    '''Doc.'''\n    if x > {i}:\n        return x * {i}\n    return -x\n\n\n" for i in range(800)
)


def submits_seen(worker: MaintainabilityWorker) -> list[str]:
    """Record the thread each submit to the worker's pool is made from."""
    seen: list[str] = []
    pool = worker._executor()
    original = pool.submit

    def submit(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(threading.current_thread().name)
        return original(*args, **kwargs)

    pool.submit = submit  # type: ignore[method-assign]
    return seen


def test_a_large_text_is_computed_in_the_worker_process_started_off_the_loop() -> None:
    assert len(BIG) >= PROCESS_THRESHOLD
    worker = MaintainabilityWorker()

    async def run() -> tuple[float | None, float | None, str]:
        seen = submits_seen(worker)
        loop_thread = threading.current_thread().name
        first = await worker.compute(BIG)
        second = await worker.compute(BIG + "\nX = 1\n")
        assert len(seen) == 2
        assert seen[0] != loop_thread  # starting the process (waiting for the forkserver) is not the loop's job
        assert seen[1] == loop_thread  # once it runs, submitting is cheap and stays on the loop
        return first, second, loop_thread

    try:
        first, second, _ = asyncio.run(run())
        assert worker._pool is not None and worker._pool._processes  # a process really did it
        assert first == pytest.approx(maintainability_index(BIG))
        assert second == pytest.approx(maintainability_index(BIG + "\nX = 1\n"))
    finally:
        worker.close()
    assert worker._pool is None and not worker._started


def test_a_killed_worker_is_replaced_and_the_answer_still_comes() -> None:
    worker = MaintainabilityWorker()

    async def run() -> float | None:
        await worker.compute(BIG)
        assert worker._pool is not None
        for process in list(worker._pool._processes.values()):
            os.kill(process.pid, signal.SIGKILL)
            process.join(10)
        return await worker.compute(BIG)

    try:
        assert asyncio.run(run()) == pytest.approx(maintainability_index(BIG))
        assert worker._use_process and worker._started  # a fresh process, not the thread fallback
    finally:
        worker.close()


def test_small_texts_never_start_a_process(monkeypatch: pytest.MonkeyPatch) -> None:
    worker = MaintainabilityWorker()
    small = "def f(x):\n    return x\n"
    assert asyncio.run(worker.compute(small)) == pytest.approx(maintainability_index(small))
    assert worker._pool is None
    monkeypatch.setattr(mi_worker, "PROCESS_THRESHOLD", 10**9)
    assert asyncio.run(worker.compute(BIG)) == pytest.approx(maintainability_index(BIG))
    assert worker._pool is None
