"""The `graph` and `impact` commands (server/graph_commands.py) on copies of fixtures/graph_project and
fixtures/deadcode_project, run from the temporary folder holding them (so printed paths start with the
project's folder name)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sophia_artemis.server import cli


@pytest.fixture
def projects(fixture_copy, tmp_path, monkeypatch):
    fixture_copy("graph_project")
    fixture_copy("deadcode_project")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv: str) -> dict:
    code, out, err = run(capsys, *argv, "--format", "json")
    assert code == 0, err
    return json.loads(out)


# --------------------------------------------------------------------------------------------- graph


def test_graph_json_shape_edge_and_cycle(projects, capsys):
    data = run_json(capsys, "graph", "graph_project")
    assert list(data) == ["version", "modules", "edges", "external", "cycles"]
    assert data["version"] == 1
    modules = {m["name"]: m for m in data["modules"]}
    assert modules["shop.core.models"] == {
        "name": "shop.core.models",
        "path": "graph_project/src/shop/core/models.py",  # relative to the current directory
        "language": "python",
    }
    assert all(m["language"] == "python" for m in data["modules"])  # default language: python
    edges = {(e["from"], e["to"]): e for e in data["edges"]}
    assert edges[("shop.core.models", "shop.core.pricing")] == {
        "from": "shop.core.models",
        "to": "shop.core.pricing",
        "lines": [1],
        "kind": "import",
    }
    assert edges[("shop.catalog", "shop.orders")]["kind"] == "type_checking"
    assert ["shop.core.discounts", "shop.core.models", "shop.core.pricing"] in data["cycles"]
    assert all(set(x) == {"from", "to"} for x in data["external"])


def test_graph_paths_relative_to_cwd_from_inside(projects, capsys, monkeypatch):
    monkeypatch.chdir(projects / "graph_project" / "src")
    data = run_json(capsys, "graph", "..")
    paths = {m["name"]: m["path"] for m in data["modules"]}
    assert paths["shop"] == "shop/__init__.py"


def test_graph_dot_and_mermaid_headers(projects, capsys):
    code, out, _ = run(capsys, "graph", "graph_project", "--format", "dot")
    assert code == 0 and out.startswith("digraph imports {")
    assert '"shop.core.models" -> "shop.core.pricing";' in out
    code, out, _ = run(capsys, "graph", "graph_project", "--format", "mermaid")
    assert code == 0 and out.startswith("flowchart LR\n")


def test_graph_language_all_includes_js_modules(projects, capsys):
    data = run_json(capsys, "graph", "graph_project", "--language", "all")
    languages = {m["name"]: m["language"] for m in data["modules"]}
    assert languages["web/src/app"] == "typescript"
    assert languages["web/scripts/build"] == "javascript"
    assert languages["shop.core.models"] == "python"
    assert ["web/src/cycle/a", "web/src/cycle/b", "web/src/cycle/c"] in data["cycles"]
    ts_only = run_json(capsys, "graph", "graph_project", "--language", "typescript")
    assert {m["language"] for m in ts_only["modules"]} == {"typescript"}


def test_graph_defaults_to_all_for_a_js_only_project(projects, capsys):
    data = run_json(capsys, "graph", "graph_project/web")
    assert data["modules"] and {m["language"] for m in data["modules"]} <= {"javascript", "typescript"}


def test_graph_bad_path_and_bad_language(projects, capsys):
    code, out, err = run(capsys, "graph", "missing")
    assert code == 2 and out == "" and err.count("\n") == 1 and "missing" in err
    code, out, err = run(capsys, "graph", "graph_project", "--language", "rust")
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err


# --------------------------------------------------------------------------------------------- impact


def test_impact_symbol_json(projects, capsys):
    data = run_json(capsys, "impact", "deadcode_project", "store.core:compute_total")
    assert list(data) == ["version", "target", "dependents", "callers", "co_changed", "tests"]
    assert data["version"] == 1 and data["target"] == "store.core:compute_total"
    assert data["co_changed"] == []
    assert data["dependents"]["direct"] == ["store", "store.cli", "tests.conftest", "tests.test_core"]
    callers = {(c["path"], c["qualname"]): c for c in data["callers"]}
    main = callers[("deadcode_project/store/cli.py", "main")]
    assert main["range"] == {"start": {"line": 9, "character": 26}, "end": {"line": 9, "character": 39}}
    assert main["confidence"] == "exact"
    assert ("deadcode_project/tests/test_core.py", "test_total") in callers
    assert "deadcode_project/tests/test_core.py" in data["tests"]


def test_impact_symbol_text(projects, capsys):
    code, out, err = run(capsys, "impact", "deadcode_project", "store.core:compute_total")
    assert code == 0, err
    for heading in ("Dependents (", "Callers (", "Tests ("):
        assert heading in out
    assert "deadcode_project/store/cli.py:10:27  in main" in out


def test_impact_file_dependents_and_tests(projects, capsys):
    data = run_json(capsys, "impact", "deadcode_project", "deadcode_project/store/util/helpers.py")
    assert data["target"] == "deadcode_project/store/util/helpers.py"
    assert data["dependents"]["direct"] == ["store.core", "store.plugins", "store.util"]
    assert set(data["dependents"]["transitive"]) >= {"store", "store.cli", "store.core", "tests.test_util"}
    assert data["tests"] == [
        "deadcode_project/tests/conftest.py",
        "deadcode_project/tests/test_core.py",
        "deadcode_project/tests/test_util.py",
    ]
    # call sites in other modules of the file's top-level functions
    assert {(c["path"], c["qualname"], c["calls"]) for c in data["callers"]} >= {
        ("deadcode_project/tests/test_util.py", "test_normalize", "store.util.helpers:normalize")
    }


def test_impact_file_relative_to_path_and_module_name(projects, capsys):
    by_file = run_json(capsys, "impact", "graph_project", "src/shop/core/models.py")
    assert by_file["dependents"]["direct"] == [
        "shop.catalog",
        "shop.core",
        "shop.core.discounts",
        "shop.orders",
    ]
    assert "manage" in by_file["dependents"]["transitive"]
    by_name = run_json(capsys, "impact", "graph_project", "shop.core.models")
    assert by_name["dependents"] == by_file["dependents"]
    ts = run_json(capsys, "impact", "graph_project", "web/src/lib/helpers.ts")
    assert "web/src/lib/index" in ts["dependents"]["direct"]


@pytest.mark.parametrize(
    ("target", "suggestion"),
    [
        ("store.core:compute_totl", "store.core:compute_total"),
        ("store/cor.py", "store/core.py"),
        ("store.cor", "store.core"),
    ],
)
def test_impact_unknown_target(projects, capsys, target, suggestion):
    code, out, err = run(capsys, "impact", "deadcode_project", target)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and target in err and suggestion in err and "Traceback" not in err


def test_impact_subprocess(projects):
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("SOPHIA_ARTEMIS_DEBUG", None)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sophia_artemis",
            "impact",
            "deadcode_project",
            "store.core:Cart",
            "--format",
            "json",
        ],
        cwd=projects,
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["target"] == "store.core:Cart"
    assert "deadcode_project/tests/test_core.py" in data["tests"]
    missing = subprocess.run(
        [sys.executable, "-m", "sophia_artemis", "impact", "deadcode_project", "nothing:here"],
        cwd=projects,
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert missing.returncode == 2 and missing.stdout == ""
    assert missing.stderr.count("\n") == 1 and "nothing:here" in missing.stderr


def test_impact_co_changed_from_git_history(projects, capsys, tmp_path):
    """In a git repository, co_changed ranks the files that changed together with the target's file."""
    repo = tmp_path / "deadcode_project"
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }

    def git(*args: str, when: str = "2026-01-01T00:00:00") -> None:
        subprocess.run(
            ["git", "-C", str(repo), *args],
            check=True,
            capture_output=True,
            env={**env, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when},
        )

    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "start")
    for day in range(2, 5):  # core.py and web.py change together three times; cli.py once with core.py
        for name in ("store/core.py", "store/web.py") + (("store/cli.py",) if day == 2 else ()):
            with (repo / name).open("a", encoding="utf-8") as fh:
                fh.write(f"# change {day}\n")
        git("commit", "-qam", f"change {day}", when=f"2026-01-0{day}T00:00:00")

    data = run_json(capsys, "impact", "deadcode_project", "store.core:compute_total", "--format", "json")
    co = {c["path"]: c for c in data["co_changed"]}
    assert data["co_changed"][0]["path"] == "deadcode_project/store/web.py"  # together in every commit
    assert co["deadcode_project/store/web.py"]["commits"] == 4
    assert co["deadcode_project/store/cli.py"]["commits"] == 2
    assert co["deadcode_project/store/web.py"]["score"] > co["deadcode_project/store/cli.py"]["score"] > 0
    # the module's own test file is ranked up even with one shared commit (history's test-pair bonus)
    assert "deadcode_project/tests/test_core.py" in co
