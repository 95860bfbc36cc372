"""Worker processes of the server (analysis/worker_process.py `detach`): their stdout is not the server's LSP
stream, and they end when the server ends, however it ends (os._exit, a kill) - a real forkserver pool."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.connection import wait

import pytest

from sophia_artemis.analysis.worker_process import detach

pytestmark = pytest.mark.skipif(
    "forkserver" not in multiprocessing.get_all_start_methods(), reason="needs the forkserver start method"
)


def streams() -> tuple[str, str]:
    return os.readlink("/proc/self/fd/0"), os.readlink("/proc/self/fd/1")


def test_a_worker_keeps_off_stdio_and_ends_with_its_server() -> None:
    server = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    pool = ProcessPoolExecutor(
        max_workers=1, mp_context=multiprocessing.get_context("forkserver"), initializer=detach, initargs=(server.pid,)
    )
    try:
        assert pool.submit(streams).result(timeout=60) == (os.devnull, os.devnull)
        (worker,) = pool._processes.values()  # type: ignore[attr-defined]
        assert worker.is_alive()
        server.stdin.close()  # the "server" ends; nobody shuts the pool down
        server.wait(30)
        assert wait([worker.sentinel], timeout=30), "the worker outlived its server"
        assert not worker.is_alive()
    finally:
        server.kill()
        pool.shutdown(wait=False, cancel_futures=True)


def test_the_initializer_still_runs_after_detaching() -> None:
    pool = ProcessPoolExecutor(
        max_workers=1,
        mp_context=multiprocessing.get_context("forkserver"),
        initializer=detach,
        initargs=(os.getpid(), os.putenv, "SOPHIA_TEST_INIT", "ran"),
    )
    with pool:
        assert pool.submit(os.getenv, "SOPHIA_TEST_INIT").result(timeout=60) is None  # putenv leaves os.environ
        assert pool.submit(subprocess.check_output, ["sh", "-c", "echo $SOPHIA_TEST_INIT"], text=True).result(
            timeout=60
        ) == "ran\n"
