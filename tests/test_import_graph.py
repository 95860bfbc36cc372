"""The Python import graph: extraction, grimp-compatible resolution, the graph, its queries and outputs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sophia_artemis.analysis.config import Settings
from sophia_artemis.analysis.imports import (
    ImportRecord,
    build_graph,
    cache_key,
    file_imports,
    find_cycles,
    python_import_roots,
    strongly_connected_components,
)
from sophia_artemis.analysis.imports import graph as graph_module
from support import write_files

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "graph_project"


make = write_files


def py(source: str) -> list[tuple]:
    return [
        (r.module, r.level, r.names, r.line, r.kind)
        for r in file_imports("m.py", textwrap.dedent(source).encode())
    ]


def edges_of(graph) -> dict[tuple[str, str], tuple[list[int], str]]:
    return {(e.source, e.target): (list(e.lines), e.kind) for e in graph.edges}


# --------------------------------------------------------------------------------------------- extraction


def test_statement_forms():
    assert py(
        """\
        import a.b as c, d
        from . import x as y, z
        from ..m.n import (p,
            q)
        from .mod import *
        from a . b import c  # spaced dots
        from __future__ import annotations
        """
    ) == [
        ("a.b", 0, (), 1, "import"),
        ("d", 0, (), 1, "import"),
        ("", 1, ("x", "z"), 2, "import"),
        ("m.n", 2, ("p", "q"), 3, "import"),
        ("mod", 1, ("*",), 5, "import"),
        ("a.b", 0, ("c",), 6, "import"),
        ("__future__", 0, ("annotations",), 7, "import"),
    ]


def test_kinds():
    assert [(m, k) for m, _, _, _, k in py(
        """\
        import typing
        from typing import TYPE_CHECKING
        try:
            import fast
        except ImportError:
            import slow
        if TYPE_CHECKING:
            import tc1
            if True:
                import tc_nested
            def in_tc():
                import tc_in_def
        elif other:
            import elif_branch
        else:
            import else_branch
        if typing.TYPE_CHECKING:
            import tc2
        if (TYPE_CHECKING):
            import tc3
        if not TYPE_CHECKING:
            import runtime
        class K:
            import class_body
            def method(self):
                import in_method
                def inner():
                    import in_inner
                if TYPE_CHECKING:
                    import tc_in_method
        @decorator
        async def coroutine():
            import in_async
        """
    )] == [
        ("typing", "import"),
        ("typing", "import"),
        ("fast", "import"),
        ("slow", "import"),
        ("tc1", "type_checking"),
        ("tc_nested", "type_checking"),
        ("tc_in_def", "type_checking"),
        ("elif_branch", "import"),
        ("else_branch", "import"),
        ("tc2", "type_checking"),
        ("tc3", "type_checking"),
        ("runtime", "import"),
        ("class_body", "import"),
        ("in_method", "function_local"),
        ("in_inner", "function_local"),
        ("tc_in_method", "type_checking"),
        ("in_async", "function_local"),
    ]


def test_broken_source_still_gives_what_parses():
    found = py(
        """\
        import good
        def broken(:
            pass
        from also import fine
        """
    )
    assert ("good", 0, (), 1, "import") in found
    assert any(m == "also" and n == ("fine",) for m, _, n, _, _ in found)


def test_file_imports_is_pure_and_keyed_by_content():
    source = b"import a\n"
    assert file_imports("x/y.py", source) == file_imports("other.py", source) == [ImportRecord("a", 1)]
    assert cache_key("x/y.py", source) == cache_key("other.pyi", source)
    assert cache_key("x/y.py", source) != cache_key("x/y.py", b"import b\n")
    assert cache_key("a.ts", source) != cache_key("a.tsx", source)  # the grammar is part of the key
    with pytest.raises(ValueError):
        file_imports("notes.txt", source)


# --------------------------------------------------------------------------------------------- the fixture

EXPECTED_EDGES = {
    ("manage", "shop.catalog"): ([4], "import"),
    ("plugins.payments", "plugins.util"): ([1], "import"),
    ("plugins.payments.stripe", "plugins"): ([1], "import"),  # a namespace package is a module
    ("plugins.payments.stripe", "plugins.payments"): ([2, 3], "import"),
    ("plugins.payments.stripe", "shop.orders"): ([4], "import"),
    ("shop", "shop.catalog"): ([2], "import"),  # `from . import catalog`: the submodule
    ("shop", "shop.version"): ([3], "import"),  # `from .version import VERSION`: the module
    ("shop.catalog", "shop.core.models"): ([8], "import"),
    ("shop.catalog", "shop.core.pricing"): ([7], "import"),
    ("shop.catalog", "shop.orders"): ([11], "type_checking"),
    ("shop.catalog", "shop.reports"): ([20], "function_local"),
    ("shop.catalog", "shop.reports.csv"): ([29], "function_local"),  # in a method; `import a.b.c`
    ("shop.core", "shop.core.models"): ([1], "import"),
    ("shop.core.discounts", "shop.core.models"): ([1], "import"),
    ("shop.core.models", "shop.core.pricing"): ([1], "import"),
    ("shop.core.pricing", "shop.core.discounts"): ([1], "import"),
    ("shop.core.pricing", "shop.version"): ([2], "import"),  # `from ..version import`
    ("shop.orders", "shop.catalog"): ([3], "import"),
    ("shop.orders", "shop.core.models"): ([4], "import"),  # multi-line parenthesised from-import
    ("shop.orders", "shop.version"): ([11], "import"),  # the `else:` of `if typing.TYPE_CHECKING:` runs
    ("shop.reports.csv", "shop.reports"): ([4], "import"),  # `from . import FORMATS`: a name -> package
}

EXPECTED_EXTERNAL = [
    ("manage", "sys"),
    ("plugins.payments.stripe", "stripe"),  # absolute `import stripe` in stripe.py: not itself
    ("plugins.util", "os"),
    ("shop.catalog", "__future__"),
    ("shop.catalog", "json"),
    ("shop.catalog", "os"),
    ("shop.catalog", "typing"),
    ("shop.catalog", "ujson"),  # in try/except ImportError
    ("shop.orders", "requests"),
    ("shop.orders", "typing"),
    ("shop.reports.csv", "csv"),
    ("shop.reports.csv", "io"),
]

EXPECTED_MODULES = [
    ("manage", "src/manage.py"),
    ("plugins", "src/plugins"),
    ("plugins.payments", "src/plugins/payments/__init__.py"),
    ("plugins.payments.stripe", "src/plugins/payments/stripe.py"),
    ("plugins.util", "src/plugins/util.py"),
    ("shop", "src/shop/__init__.py"),
    ("shop.catalog", "src/shop/catalog.py"),
    ("shop.core", "src/shop/core/__init__.py"),
    ("shop.core.discounts", "src/shop/core/discounts.py"),
    ("shop.core.models", "src/shop/core/models.py"),
    ("shop.core.pricing", "src/shop/core/pricing.py"),
    ("shop.orders", "src/shop/orders.py"),
    ("shop.reports", "src/shop/reports/__init__.py"),
    ("shop.reports.csv", "src/shop/reports/csv.py"),
    ("shop.version", "src/shop/version.py"),
]

EXPECTED_CYCLES = [
    ["shop.catalog", "shop.orders"],  # only through the TYPE_CHECKING import: cycles count every kind
    ["shop.core.discounts", "shop.core.models", "shop.core.pricing"],
]


@pytest.fixture(scope="module")
def fixture_graph():
    return build_graph(FIXTURE)


def test_fixture_modules(fixture_graph):
    assert [(m.name, m.path) for m in fixture_graph.modules] == EXPECTED_MODULES
    assert {m.language for m in fixture_graph.modules} == {"python"}
    # `shop/legacy/` has no __init__.py inside a regular package: left out, as grimp does
    assert fixture_graph.module_for_path("src/shop/legacy/old.py") is None


def test_fixture_edges(fixture_graph):
    assert edges_of(fixture_graph) == EXPECTED_EDGES
    assert [(e.source, e.target) for e in fixture_graph.edges] == sorted(EXPECTED_EDGES)


def test_fixture_external_and_cycles(fixture_graph):
    assert [(x.source, x.target) for x in fixture_graph.external] == EXPECTED_EXTERNAL
    assert fixture_graph.cycles == EXPECTED_CYCLES


def test_json_shape(fixture_graph):
    data = json.loads(json.dumps(fixture_graph.to_json()))
    assert list(data) == ["version", "modules", "edges", "external", "cycles"]
    assert data["version"] == 1
    assert all(set(m) == {"name", "path", "language"} for m in data["modules"])
    assert all(set(e) == {"from", "to", "lines", "kind"} for e in data["edges"])
    assert all(set(x) == {"from", "to"} for x in data["external"])
    assert {"from": "shop.catalog", "to": "shop.orders", "lines": [11], "kind": "type_checking"} in data["edges"]
    assert data["cycles"] == EXPECTED_CYCLES
    assert {m["name"] for m in data["modules"]} >= {e["from"] for e in data["edges"]} | {e["to"] for e in data["edges"]}


def test_queries(fixture_graph):
    g = fixture_graph
    assert g.dependents_of("shop.core.models") == ["shop.catalog", "shop.core", "shop.core.discounts", "shop.orders"]
    assert g.dependents_of("shop.version", transitive=True) == [
        "manage", "plugins.payments.stripe", "shop", "shop.catalog", "shop.core", "shop.core.discounts",
        "shop.core.models", "shop.core.pricing", "shop.orders",
    ]
    assert g.dependencies_of("shop.orders") == ["shop.catalog", "shop.core.models", "shop.version"]
    assert "shop.orders" not in g.dependencies_of("shop.orders", transitive=True)  # itself excluded
    assert g.cycle_of("shop.core.pricing") == ["shop.core.discounts", "shop.core.models", "shop.core.pricing"]
    assert g.cycle_of("shop.version") is None
    assert g.dependents_of("no.such.module") == [] and g.cycle_of("no.such.module") is None
    assert g.module_for_path("src/shop/orders.py") == "shop.orders"
    assert g.edge("shop.orders", "shop.version").lines == (11,)


def test_grimp_parity(fixture_graph):
    """grimp (import-linter's engine) on the same packages: the same internal edges and cycle groups."""
    pytest.importorskip("grimp")
    script = textwrap.dedent(
        """
        import json, sys
        sys.path.insert(0, sys.argv[1])
        import grimp
        graph = grimp.build_graph("shop", "plugins", include_external_packages=True, cache_dir=None)
        edges = []
        for importer in graph.modules:
            for imported in graph.find_modules_directly_imported_by(importer):
                if not graph.is_module_squashed(importer):
                    edges.append([importer, imported, graph.is_module_squashed(imported)])
        print(json.dumps(edges))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(FIXTURE / "src")], capture_output=True, text=True, check=True, cwd=FIXTURE
    )
    grimp_edges = json.loads(out.stdout)
    grimp_internal = {(a, b) for a, b, squashed in grimp_edges if not squashed and a != b}
    grimp_external = {(a, b) for a, b, squashed in grimp_edges if squashed}
    ours = {(e.source, e.target) for e in fixture_graph.edges if e.source != "manage"}  # grimp takes packages only
    assert ours == grimp_internal
    assert {(x.source, x.target) for x in fixture_graph.external if x.source != "manage"} == grimp_external
    assert find_cycles(grimp_internal) == fixture_graph.cycles


# --------------------------------------------------------------------------------------------- outputs


def test_dot_output(fixture_graph):
    dot = fixture_graph.to_dot()
    lines = dot.strip().splitlines()
    assert lines[0] == "digraph imports {" and lines[-1] == "}"
    quoted = r'"(?:[^"\\]|\\.)*"'
    statement = re.compile(rf"^  (?:{quoted}(?: -> {quoted})?(?: \[.*\])?|rankdir=LR|node \[.*\]);$")
    for line in lines[1:-1]:
        assert statement.match(line), line
    assert '"shop.catalog" -> "shop.orders" [style=dotted];' in dot
    assert '"shop.catalog" -> "shop.reports" [style=dashed];' in dot
    assert dot.count(" -> ") == len(fixture_graph.edges)
    with_external = fixture_graph.to_dot(external=True)
    assert '"shop.catalog" -> "ext:ujson" [color=gray];' in with_external


def test_mermaid_output(fixture_graph):
    text = fixture_graph.to_mermaid(external=True)
    lines = text.strip().splitlines()
    assert lines[0] == "flowchart LR"
    node = re.compile(r'^  [mx]\d+(?:\["[^"]*"\]|\(\["[^"]*"\]\))$')
    edge = re.compile(r"^  m\d+ (?:-->|-->\|function_local\||-\.->\|type_checking\||-\.->) [mx]\d+$")
    klass = re.compile(r"^  (?:classDef cycle .+|class [mx\d,]+ cycle)$")
    for line in lines[1:]:
        assert node.match(line) or edge.match(line) or klass.match(line), line
    ids = dict(re.findall(r'^  (m\d+)\["([^"]*)"\]$', text, re.MULTILINE))
    assert set(ids.values()) == {m.name for m in fixture_graph.modules}
    by_name = {v: k for k, v in ids.items()}
    assert f"  {by_name['shop.catalog']} -.->|type_checking| {by_name['shop.orders']}" in lines


def test_outputs_escape_awkward_names(tmp_path):
    g = graph_module.ImportGraph(
        modules=[graph_module.ModuleNode('we"ird\\name', "a", "python"), graph_module.ModuleNode("@s/p#x", "b", "javascript")],
        edges=[graph_module.Edge('we"ird\\name', "@s/p#x", (1,), "import")],
    )
    assert '"we\\"ird\\\\name" -> "@s/p#x";' in g.to_dot()
    mermaid = g.to_mermaid()
    assert 'm0["we#quot;ird\\name"]' in mermaid and 'm1["@s/p#35;x"]' in mermaid
    assert "m0 --> m1" in mermaid


# --------------------------------------------------------------------------------------------- resolution rules


def test_grimp_rules_on_edge_cases(tmp_path):
    make(
        tmp_path / "src",
        {
            "p/__init__.py": "from . import attr_name\nfrom .sub import thing\n",
            "p/sub/__init__.py": "",
            "p/sub/thing.py": """\
                import p.sub.a.b.c
                from p.nothere import y
                from ... import too_far
                import p.sub.thing.x
                from .. import a
                """,
            "p/a.py": "",
            "p/a.pyi": "",  # the .py wins
            "p/stub_only.pyi": "import p.a\n",
            "p/some.module.py": "import p.a\n",  # extra dots: not a module
            "p/not-ident/m.py": "import p.a\n",  # folder name not an identifier
            "p/orphan/m.py": "import p.a\n",  # no __init__.py inside a regular package
            "ns/deep/m.py": "from ns.deep import gone\nimport ns.missing.x.y\n",
        },
    )
    g = build_graph(tmp_path)
    names = [m.name for m in g.modules]
    assert names == ["ns", "ns.deep", "ns.deep.m", "p", "p.a", "p.stub_only", "p.sub", "p.sub.thing"]
    assert g.module("p.a").path == "src/p/a.py"
    assert edges_of(g) == {
        ("ns.deep.m", "ns"): ([2], "import"),  # two unknown components: grimp points at the top package
        ("ns.deep.m", "ns.deep"): ([1], "import"),
        ("p", "p.sub.thing"): ([2], "import"),  # `from . import attr_name` is p -> p: no self edge
        ("p.stub_only", "p.a"): ([1], "import"),
        ("p.sub.thing", "p"): ([1, 2], "import"),
        ("p.sub.thing", "p.a"): ([5], "import"),
    }
    assert g.cycles == [["p", "p.sub.thing"]]
    assert g.external == []  # `from ... import too_far` climbs above `p`: dropped


def test_import_roots(tmp_path):
    make(tmp_path, {"a/__init__.py": "import b\n", "lib/b.py": "import a\n", "src_like/x.py": ""})
    assert python_import_roots(tmp_path) == [tmp_path]
    g = build_graph(tmp_path)
    assert {m.name for m in g.modules} == {"a", "lib", "lib.b", "src_like", "src_like.x"}
    assert [(x.source, x.target) for x in g.external] == [("a", "b")]
    assert [(e.source, e.target) for e in g.edges] == [("lib.b", "a")]
    g = build_graph(tmp_path, import_roots=[".", "lib"])
    assert ("a", "b") in {(e.source, e.target) for e in g.edges}  # `b` found in the second root
    assert g.module("b").path == "lib/b.py"
    (tmp_path / "src").mkdir()
    make(tmp_path, {"src/only.py": "import a\n"})
    assert python_import_roots(tmp_path) == [tmp_path / "src"]
    g = build_graph(tmp_path)
    assert [m.name for m in g.modules] == ["only"]
    assert [(x.source, x.target) for x in g.external] == [("only", "a")]


def test_packages_filter_and_language_check(tmp_path):
    make(tmp_path, {"a/__init__.py": "import b\nimport a.x\n", "a/x.py": "", "b/__init__.py": "import a\n"})
    g = build_graph(tmp_path, packages=["a"])
    assert [m.name for m in g.modules] == ["a", "a.x"]
    assert [(x.source, x.target) for x in g.external] == [("a", "b")]
    with pytest.raises(ValueError):
        build_graph(tmp_path, language="cobol")


def test_respects_gitignore_and_exclude(tmp_path):
    make(
        tmp_path,
        {
            ".gitignore": "generated/\n",
            "pkg/__init__.py": "from . import kept\n",
            "pkg/kept.py": "",
            "pkg/generated/__init__.py": "import pkg\n",
            "pkg/vendor/__init__.py": "import pkg\n",
            "pkg/node_modules/x.py": "",
        },
    )
    g = build_graph(tmp_path, Settings(exclude=("pkg/vendor",)))
    assert [m.name for m in g.modules] == ["pkg", "pkg.kept"]


def test_unreadable_files_are_skipped(tmp_path):
    make(tmp_path, {"pkg/__init__.py": "", "pkg/ok.py": "import pkg\n"})
    (tmp_path / "pkg" / "binary.py").write_bytes(b"\x00\x01")
    seen = []
    g = build_graph(tmp_path, on_skip=lambda p, r: seen.append(Path(p).name))
    assert seen == ["binary.py"]
    assert g.skipped and g.skipped[0][0] == "pkg/binary.py"
    assert ("pkg.ok", "pkg") in {(e.source, e.target) for e in g.edges}


def test_cache_is_used(tmp_path, monkeypatch):
    make(tmp_path, {"pkg/__init__.py": "from . import a\n", "pkg/a.py": "import os\n"})
    cache: dict = {}
    first = build_graph(tmp_path, cache=cache)
    assert len(cache) == 2

    def fail(items):
        raise AssertionError(f"parsed again: {items}")

    monkeypatch.setattr(graph_module, "extract_many", fail)
    assert build_graph(tmp_path, cache=cache).to_json() == first.to_json()


def test_strongest_kind_wins(tmp_path):
    make(
        tmp_path,
        {
            "p/__init__.py": "",
            "p/t.py": "",
            "p/a.py": """\
                from typing import TYPE_CHECKING
                if TYPE_CHECKING:
                    import p.t
                def f():
                    import p.t
                """,
            "p/b.py": "if TYPE_CHECKING:\n    from p import t\nfrom p import t\n",
        },
    )
    e = edges_of(build_graph(tmp_path))
    assert e[("p.a", "p.t")] == ([3, 5], "function_local")
    assert e[("p.b", "p.t")] == ([2, 3], "import")


# --------------------------------------------------------------------------------------------- cycles


def test_tarjan_has_no_recursion_limit():
    n = 50_000
    chain = [(f"m{i}", f"m{i + 1}") for i in range(n)] + [(f"m{n}", "m0")]
    cycles = find_cycles(chain)
    assert len(cycles) == 1 and len(cycles[0]) == n + 1


def _scc_brute_force(nodes: set[int], edges: set[tuple[int, int]]) -> list[list[int]]:
    reach = {n: {n} for n in nodes}
    changed = True
    while changed:
        changed = False
        for a, b in edges:
            new = reach[b] - reach[a]
            if new:
                reach[a] |= new
                changed = True
    groups = {frozenset(m for m in nodes if m in reach[n] and n in reach[m]) for n in nodes}
    return sorted(sorted(g) for g in groups)


@hsettings(max_examples=60, deadline=None)
@given(st.sets(st.tuples(st.integers(0, 9), st.integers(0, 9)), max_size=40))
def test_tarjan_matches_brute_force(edges):
    nodes = {n for e in edges for n in e}
    adjacency: dict[int, set[int]] = {}
    for a, b in edges:
        adjacency.setdefault(a, set()).add(b)
    ours = sorted(strongly_connected_components(adjacency))
    assert ours == _scc_brute_force(nodes, set(edges))
    named = {(f"n{a}", f"n{b}") for a, b in edges}
    assert find_cycles(named) == sorted(
        sorted(f"n{x}" for x in g) for g in _scc_brute_force(nodes, {(a, b) for a, b in edges if a != b}) if len(g) > 1
    )


def test_a_graph_from_the_discovered_files_equals_the_walked_one(fixture_copy):
    from sophia_artemis.analysis.config import Settings
    from sophia_artemis.analysis.files import discover
    from sophia_artemis.analysis.imports import build_graph

    root = fixture_copy("graph_project")
    files = list(discover([root], Settings(), root))
    walked = build_graph(root, Settings(), language="all")
    given = build_graph(root, Settings(), language="all", discovered=files)
    assert given.to_json() == walked.to_json()
