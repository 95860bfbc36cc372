"""SA301 (import cycle) and SA302 (architecture violation) through `check`, and the `architecture` settings.

The fixture `fixtures/architecture_project` is a src-layout package `shop` with three layers (web > services
> data), one upward import (`services/pricing.py` imports `shop.web`), one forbidden import (`data/store.py`
imports `requests`), a three-module cycle (`data/a -> b -> c -> a`) and an `.importlinter` independence
contract that `plugins/alpha.py` breaks.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sophia_artemis.analysis.architecture import (
    ArchitectureSettings,
    Contract,
    contract_from_options,
    cycle_path,
    parse_architecture,
    project_architecture,
    read_import_linter,
)
from sophia_artemis.analysis.config import build_settings, project_settings
from sophia_artemis.analysis.imports import build_graph
from sophia_artemis.server import cli

CYCLE = ["shop.data.a", "shop.data.b", "shop.data.c"]


@pytest.fixture
def project(fixture_copy, monkeypatch):
    root = fixture_copy("architecture_project")
    monkeypatch.chdir(root)
    return root


def check(capsys, *argv: str) -> tuple[int, dict, str]:
    code = cli.main(["check", *argv, "--format", "json"])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def arch(doc: dict) -> list[dict]:
    return [f for f in doc["findings"] if f["rule"] in ("SA301", "SA302")]


def line_range(line: int, end: int) -> dict:
    return {"start": {"line": line, "character": 0}, "end": {"line": line, "character": end}}


def test_cycles_and_violations_are_reported_once_on_the_right_lines(project, capsys):
    code, doc, err = check(capsys, ".")
    assert code == 1
    assert "warning" not in err
    assert arch(doc) == [
        {
            "path": "src/shop/data/c.py",
            "rule": "SA301",
            "severity": "warning",
            "message": "Import cycle of 3 modules (shop.data.a, shop.data.b, shop.data.c): "
            "this import closes shop.data.a -> shop.data.b -> shop.data.c -> shop.data.a",
            "range": line_range(2, 23),
            "data": {"cycle": CYCLE, "size": 3},
        },
        {
            "path": "src/shop/data/store.py",
            "rule": "SA302",
            "severity": "warning",
            "message": "shop.data.store imports requests: 'shop.data' must not import 'requests' "
            "(contract 'architecture.forbidden[0]')",
            "range": line_range(4, 15),
            "data": {"contract": "architecture.forbidden[0]", "importer": "shop.data.store", "imported": "requests"},
        },
        {
            "path": "src/shop/plugins/alpha.py",
            "rule": "SA302",
            "severity": "warning",
            "message": "shop.plugins.alpha imports shop.plugins.beta: independent modules 'shop.plugins.alpha' "
            "and 'shop.plugins.beta' must not import each other (contract 'Plugins are independent')",
            "range": line_range(2, 29),
            "data": {
                "contract": "Plugins are independent",
                "importer": "shop.plugins.alpha",
                "imported": "shop.plugins.beta",
            },
        },
        {
            "path": "src/shop/services/pricing.py",
            "rule": "SA302",
            "severity": "warning",
            "message": "shop.services.pricing imports shop.web.views: lower layer 'shop.services' must not import "
            "higher layer 'shop.web' (contract 'architecture.layers')",
            "range": line_range(2, 26),
            "data": {
                "contract": "architecture.layers",
                "importer": "shop.services.pricing",
                "imported": "shop.web.views",
            },
        },
    ]


def test_the_cycle_finding_carries_the_other_edges_as_related_information(project, capsys):
    assert cli.main(["check", "src/shop/data/c.py", "--format", "sarif"]) == 1
    results = json.loads(capsys.readouterr().out)["runs"][0]["results"]
    (cycle,) = [r for r in results if r["ruleId"] == "SA301"]
    related = [
        (
            loc["physicalLocation"]["artifactLocation"]["uri"],
            loc["physicalLocation"]["region"]["startLine"],
            loc["message"]["text"],
        )
        for loc in cycle["relatedLocations"]
    ]
    assert related == [
        ("src/shop/data/a.py", 3, "shop.data.a imports shop.data.b"),
        ("src/shop/data/b.py", 1, "shop.data.b imports shop.data.c"),
    ]


def test_only_the_files_being_checked_get_architecture_findings(project, capsys):
    code, doc, _ = check(capsys, "src/shop/services")
    assert code == 1
    assert [(f["path"], f["rule"]) for f in arch(doc)] == [("src/shop/services/pricing.py", "SA302")]


def test_the_cycle_edge_rule_is_deterministic(project):
    settings, _ = project_settings(project)
    graph = build_graph(project, settings, language="python")
    assert graph.cycles == [CYCLE]
    assert cycle_path(graph, CYCLE) == CYCLE  # from the smallest module, shortest way back


def test_suppression_comments_silence_the_line(project, capsys):
    c = project / "src/shop/data/c.py"
    c.write_text(c.read_text().replace("from shop.data import a", "from shop.data import a  # sophia: ignore[SA301]"))
    store = project / "src/shop/data/store.py"
    store.write_text(store.read_text().replace("import requests", "import requests  # sophia: ignore -- vetted"))
    _, doc, _ = check(capsys, ".")
    assert [(f["path"], f["rule"]) for f in arch(doc)] == [
        ("src/shop/plugins/alpha.py", "SA302"),
        ("src/shop/services/pricing.py", "SA302"),
    ]


def test_select_and_ignore_turn_the_rules_off(project, capsys):
    _, doc, _ = check(capsys, ".", "--ignore", "SA3")
    assert arch(doc) == []
    _, doc, _ = check(capsys, ".", "--select", "SA301")
    assert [f["rule"] for f in arch(doc)] == ["SA301"]


def test_import_linter_contracts_can_be_turned_off(project, capsys):
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "import_linter = false\n")
    _, doc, err = check(capsys, ".")
    assert "warning" not in err
    assert "Plugins are independent" not in json.dumps(doc)
    assert len(arch(doc)) == 3


def test_a_clean_project_gets_no_architecture_findings(tmp_path, monkeypatch, capsys):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.sophia-artemis.architecture]\nlayers = ["app.web", "app.data"]\n'
        'forbidden = [{ source = "app.data", forbidden = ["requests"] }]\n'
    )
    (tmp_path / "app" / "web").mkdir(parents=True)
    (tmp_path / "app" / "data").mkdir()
    for name in ("app/__init__.py", "app/web/__init__.py", "app/data/__init__.py"):
        (tmp_path / name).write_text("")
    (tmp_path / "app/data/store.py").write_text("import json\n")
    (tmp_path / "app/web/views.py").write_text("import requests\n\nfrom app.data import store\n")
    monkeypatch.chdir(tmp_path)
    code, doc, err = check(capsys, ".")
    assert (code, doc["findings"], err) == (0, [], "")


def test_architecture_settings_validation_names_the_key():
    _, problems = build_settings(
        [
            (
                "pyproject.toml",
                {
                    "architecture": {
                        "layers": "not-a list!",
                        "forbidden": [{"source": "a"}, {"source": "a", "forbidden": ["b"]}],
                        "independence": [["only-one"]],
                        "import_linter": "yes",
                        "colour": 1,
                    }
                },
            )
        ]
    )
    joined = "\n".join(problems)
    for key in (
        "architecture.layers",
        "architecture.forbidden[0]",
        "architecture.independence[0]",
        "architecture.import_linter",
        "architecture.colour",
    ):
        assert f"'{key}'" in joined, key
    assert all("ignored" in p for p in problems)
    assert len(problems) == 5

    settings, problems = build_settings([("editor", {"architecture": 3})])
    assert problems == ["editor: setting 'architecture' must be a table, got 3; ignored"]
    assert settings.architecture == ArchitectureSettings()


def test_valid_architecture_settings_become_contracts():
    settings, problems = build_settings(
        [("editor", {"architecture": {"layers": ["a.web", "a.x | a.y", "a.data"], "importLinter": False}})]
    )
    assert problems == []
    (layers,) = settings.architecture.contracts
    assert layers.type == "layers" and [layer.modules for layer in layers.layers] == [
        ("a.web",),
        ("a.x", "a.y"),
        ("a.data",),
    ]
    assert settings.architecture.import_linter is False


def test_import_linter_files_and_options(tmp_path):
    (tmp_path / "setup.cfg").write_text(
        "[importlinter]\nroot_package = app\n\n"
        "[importlinter:contract:one]\nname = Layered\ntype = layers\ncontainers = app\n"
        "layers =\n    web\n    (api) : cli\n    data\nignore_imports =\n    app.data.* -> app.web.**\n\n"
        "[importlinter:contract:two]\nname = Custom\ntype = acme.Custom\n"
    )
    contracts, problems = read_import_linter(tmp_path)
    assert [c.name for c in contracts] == ["Layered"]
    assert contracts[0].containers == ("app",)
    assert [(layer.modules, layer.independent) for layer in contracts[0].layers] == [
        (("web",), True),
        (("api", "cli"), False),
        (("data",), True),
    ]
    assert contracts[0].ignore_imports == (("app.data.*", "app.web.**"),)
    assert len(problems) == 1 and "'Custom'" in problems[0] and "not checked" in problems[0]


def test_import_linter_in_pyproject_ignore_imports_and_containers(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.importlinter]\nroot_package = "app"\n[[tool.importlinter.contracts]]\nname = "L"\ntype = "layers"\n'
        'containers = ["app"]\nlayers = ["web", "api | cli", "data"]\nignore_imports = ["app.data.legacy -> app.web.**"]\n'
    )
    files = {
        "app/__init__.py": "",
        "app/web/__init__.py": "",
        "app/web/views.py": "",
        "app/api.py": "from app import cli\n",
        "app/cli.py": "",
        "app/data/__init__.py": "",
        "app/data/legacy.py": "from app.web import views\n",
        "app/data/store.py": "from app.web import views\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    settings, _ = project_settings(tmp_path)
    found = project_architecture(build_graph(tmp_path, settings), tmp_path, settings).findings
    summary = sorted((Path(path).relative_to(tmp_path).as_posix(), f.data["imported"]) for path, fs in found.items()
                     for f in fs)
    assert summary == [("app/api.py", "app.cli"), ("app/data/store.py", "app.web.views")]


def test_contract_options_are_checked():
    contract, problem = contract_from_options("F", {"type": "forbidden", "source_modules": ["a"]})
    assert contract is None and "missing 'forbidden_modules'" in problem
    contract, problem = contract_from_options("I", {"type": "independence", "modules": "a\nb"})
    assert problem is None and contract == Contract("I", "independence", modules=("a", "b"))
    _, problems = parse_architecture("x", {"forbidden": {"source": "a", "forbidden": "b"}})
    assert problems == []


def test_a_nested_project_is_checked_with_its_own_architecture_settings(fixture_copy, monkeypatch, capsys):
    root = fixture_copy("architecture_project")
    monkeypatch.chdir(root.parent)
    _, doc, _ = check(capsys, root.name)
    assert sorted((f["path"], f["rule"]) for f in arch(doc)) == [
        ("architecture_project/src/shop/data/c.py", "SA301"),
        ("architecture_project/src/shop/data/store.py", "SA302"),
        ("architecture_project/src/shop/plugins/alpha.py", "SA302"),
        ("architecture_project/src/shop/services/pricing.py", "SA302"),
    ]


def test_a_long_cycle_is_shortened_in_the_message(tmp_path, monkeypatch, capsys):
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "ring").mkdir()
    (tmp_path / "ring/__init__.py").write_text("")
    for i in range(7):
        (tmp_path / f"ring/m{i}.py").write_text(f"x = 1\nfrom ring import m{(i + 1) % 7}\n")
    monkeypatch.chdir(tmp_path)
    _, doc, _ = check(capsys, ".")
    (finding,) = arch(doc)
    assert finding["path"] == "ring/m6.py" and finding["range"] == line_range(1, 19)
    assert finding["message"].startswith(
        "Import cycle of 7 modules (ring.m0, ring.m1, ring.m2, ring.m3, ring.m4 and 2 more): this import closes "
        "ring.m0 -> ring.m1 -> "
    )
    assert finding["data"] == {"cycle": [f"ring.m{i}" for i in range(7)], "size": 7}
