"""What every worker process started by the server runs first (`ProcessPoolExecutor(initializer=...)`).

A worker is forked from multiprocessing's forkserver, so it is not the server's child and inherits the
server's standard streams from the forkserver. Two things follow, and this module handles both:
  * the server's stdout is the LSP stream: a worker must never write to it, and must not hold it open (a
    client that waits for the end of that stream after `exit` would wait for the worker too), so fds 0 and 1
    point at /dev/null in the worker;
  * a pool's worker only stops when its pool tells it to; a server that ends with os._exit, or is killed,
    never does. So the worker watches the server's pid and exits within WATCH_INTERVAL of its end.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

WATCH_INTERVAL = 0.5  # seconds


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process took the pid: ours is gone
        return False
    return True


def _watch(pid: int) -> None:
    while _alive(pid):
        time.sleep(WATCH_INTERVAL)
    os._exit(0)


def detach(server_pid: int, then: Callable[..., Any] | None = None, *args: Any) -> None:
    """A worker's initializer: stdin and stdout on /dev/null, exit when `server_pid` ends, then `then(*args)`."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        os.dup2(devnull, fd)
    os.close(devnull)
    threading.Thread(target=_watch, args=(server_pid,), name="sophia-watch-server", daemon=True).start()
    if then is not None:
        then(*args)


def one_worker_pool() -> Any:
    """A pool of one server worker forked from the forkserver (never from the multithreaded server itself),
    detached as above; it starts its process on the first submit."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(
        max_workers=1, mp_context=multiprocessing.get_context("forkserver"), initializer=detach,
        initargs=(os.getpid(),),
    )


def stop_pool(pool: Any, name: str) -> None:
    """Stop a one-off pool of server workers now: a computation still running is abandoned (its process is
    terminated, not waited for), then the pool is joined and collected, so no process or named semaphore is left
    for multiprocessing's resource tracker (the server ends with os._exit, which runs no finalizer)."""
    import gc
    import logging

    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    try:
        pool.shutdown(wait=True)
    except Exception:  # a terminated worker may leave the pool "broken"; it is going anyway
        logging.getLogger(__name__).debug("%s worker shutdown", name, exc_info=True)
    del pool, processes
    gc.collect()
