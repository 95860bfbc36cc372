"""radon's maintainability index, computed in a worker process.

Not a thread: radon parses the whole file with `ast` and walks it in Python, holding the GIL for tens of
milliseconds at a stretch (about 270 ms of it for an 8,000-line file), and every keystroke that arrives
meanwhile would wait for it - measured at 75-170 ms edit-to-diagnostics latency instead of ~20 ms. One
worker process, started on first use from a forkserver (so neither this multithreaded process is forked nor
`__main__` re-run), takes it off the server's interpreter entirely. Where that is unavailable (Windows, or
the worker cannot start), the computation falls back to a thread.

Small texts stay in a thread anyway: under PROCESS_THRESHOLD bytes radon is done in ~15 ms, less than a
second interpreter costs to start, so most sessions never start one. Starting the process blocks until the
forkserver has forked it (60-200 ms, longer when the forkserver itself starts), so the first submit is made from
a thread: a keystroke that arrives meanwhile is not held up by it.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from sophia_artemis.analysis import maintainability_index
from sophia_artemis.analysis.worker_process import one_worker_pool, stop_pool

log = logging.getLogger(__name__)

PROCESS_THRESHOLD = 20_000  # bytes of text; about 600 lines


class MaintainabilityWorker:
    def __init__(self, use_process: bool = True) -> None:
        self._use_process = use_process and "forkserver" in multiprocessing.get_all_start_methods()
        self._pool: ProcessPoolExecutor | None = None
        self._started = False  # the pool's process has been started (its first submit returned)

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = one_worker_pool()  # quiet stdio; ends with the server however it ends
        return self._pool

    async def compute(self, text: str) -> float | None:
        loop = asyncio.get_running_loop()
        if self._use_process and len(text) >= PROCESS_THRESHOLD:
            for attempt in (1, 2):
                try:
                    pool = self._executor()
                    if not self._started:  # starting the process waits for the forkserver: not on the loop
                        submitted = await asyncio.to_thread(pool.submit, maintainability_index, text)
                        self._started = True
                        return await asyncio.wrap_future(submitted)
                    return await loop.run_in_executor(pool, maintainability_index, text)
                except (BrokenProcessPool, OSError, RuntimeError) as exc:
                    # the worker died (killed, out of memory) or could not start: a fresh one, then threads
                    log.warning(
                        "maintainability worker failed (%s); %s",
                        exc,
                        "restarting it" if attempt == 1 else "using a thread",
                    )
                    self._discard()
            self._use_process = False
        return await asyncio.to_thread(maintainability_index, text)

    def _discard(self) -> None:
        pool, self._pool, self._started = self._pool, None, False
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Stop the worker (on shutdown); a computation still running is abandoned."""
        pool, self._pool, self._started = self._pool, None, False
        if pool is not None:
            stop_pool(pool, "maintainability")
