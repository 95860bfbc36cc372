"""The JavaScript / TypeScript import graph: extraction, tsconfig, resolution, naming, the fixture."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from sophia_artemis.analysis.imports import build_graph, file_imports
from sophia_artemis.analysis.imports.javascript import JsResolver, package_name
from sophia_artemis.analysis.imports.tsconfig import load_compiler_paths, loads_jsonc
from support import write_files

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "graph_project"


make = write_files


def js(source: str, name: str = "m.ts") -> list[tuple]:
    return [(r.module, r.line, r.kind, r.form) for r in file_imports(name, textwrap.dedent(source).encode())]


# --------------------------------------------------------------------------------------------- extraction


def test_typescript_forms():
    assert js(
        """\
        import a from 'a';
        import 'side-effect';
        import type { T } from './types';
        import { type U, V } from './mixed';
        import * as ns from "@scope/pkg/deep";
        export * from './star';
        export * as named from './star-ns';
        export { x } from './x';
        export type { Y } from './y';
        export type * from './all-types';
        import fs = require('fs');
        const r = require('req');
        const t = require(`tpl`);
        const n = require(name);
        const s = require(`./t-${x}`);
        other('not-require');
        obj.require('member');
        async function f() { return import('./dyn'); }
        const g = () => require('./in-arrow');
        class C { m() { return import('./in-method'); } }
        import(`./top-level-dynamic`);
        export const local = 1;
        """
    ) == [
        ("a", 1, "import", "import"),
        ("side-effect", 2, "import", "import"),
        ("./types", 3, "type_checking", "import"),
        ("./mixed", 4, "import", "import"),  # inline `type` specifiers keep the import
        ("@scope/pkg/deep", 5, "import", "import"),
        ("./star", 6, "import", "export"),
        ("./star-ns", 7, "import", "export"),
        ("./x", 8, "import", "export"),
        ("./y", 9, "type_checking", "export"),
        ("./all-types", 10, "type_checking", "export"),
        ("fs", 11, "import", "require"),
        ("req", 12, "import", "require"),
        ("tpl", 13, "import", "require"),
        ("./dyn", 18, "function_local", "dynamic"),
        ("./in-arrow", 19, "function_local", "require"),
        ("./in-method", 20, "function_local", "dynamic"),
        ("./top-level-dynamic", 21, "import", "dynamic"),
    ]


def test_javascript_and_jsx_grammars():
    source = """\
        import React from 'react';
        const x = require('./x');
        export default function App() { return <div>{import('./lazy')}</div>; }
        """
    expected = [("react", 1, "import", "import"), ("./x", 2, "import", "require"), ("./lazy", 3, "function_local", "dynamic")]
    for name in ("a.js", "a.jsx", "a.mjs", "a.cjs", "a.tsx"):
        assert js(source, name) == expected, name


def test_package_names():
    assert package_name("lodash") == "lodash"
    assert package_name("lodash/fp") == "lodash"
    assert package_name("@scope/pkg/deep/file") == "@scope/pkg"
    assert package_name("@scope") == "@scope"
    assert package_name("node:fs/promises") == "node:fs"
    assert package_name("https://deno.land/x/mod.ts") == "https://deno.land"


# --------------------------------------------------------------------------------------------- tsconfig


def test_jsonc_is_read_leniently():
    text = """{
      // a comment
      "url": "http://example.com/*not a comment*/", /* block */
      "list": [1, 2, ],
      "escaped": "quote \\" // still a string",
    }"""
    assert loads_jsonc(text) == {
        "url": "http://example.com/*not a comment*/",
        "list": [1, 2],
        "escaped": 'quote " // still a string',
    }
    with pytest.raises(ValueError):
        loads_jsonc("{ nope }")


def test_extends_baseurl_and_paths(tmp_path):
    make(
        tmp_path,
        {
            "base/tsconfig.json": '{"compilerOptions": {"baseUrl": "../src", "paths": {"~/*": ["*"]}}}',
            "tsconfig.json": '{"extends": "./base/tsconfig", "compilerOptions": {"strict": true}}',
            "child/tsconfig.json": '{"extends": "../tsconfig.json", "compilerOptions": {"paths": {"@/*": ["lib/*"]}}}',
            "loop/tsconfig.json": '{"extends": "./tsconfig.json"}',
            "broken/tsconfig.json": '{"compilerOptions": ',
        },
    )
    top = load_compiler_paths(str(tmp_path / "tsconfig.json"))
    assert top.base_url == str(tmp_path / "src")
    assert top.patterns("~/a/b") == [str(tmp_path / "src" / "a/b")]
    child = load_compiler_paths(str(tmp_path / "child" / "tsconfig.json"))
    # the child's own `paths` replace the base's; they are relative to the inherited baseUrl
    assert child.patterns("@/x") == [str(tmp_path / "src" / "lib/x")]
    assert child.patterns("~/x") == []
    assert load_compiler_paths(str(tmp_path / "loop" / "tsconfig.json")).paths == ()
    assert load_compiler_paths(str(tmp_path / "broken" / "tsconfig.json")).base_url is None


def test_paths_pick_the_longest_prefix_and_exact_keys(tmp_path):
    make(
        tmp_path,
        {
            "tsconfig.json": """{"compilerOptions": {"paths": {
                "*": ["vendor/*"],
                "@app/*": ["src/*"],
                "@app/special/*": ["special/*"],
                "exact": ["src/exact.ts"]
            }}}""",
            "src/a.ts": "",
            "special/b.ts": "",
            "src/exact.ts": "",
            "vendor/lodash.js": "",
            "main.ts": "",
        },
    )
    files = [str(p) for p in tmp_path.rglob("*.[jt]s")]
    resolver = JsResolver(files, str(tmp_path))
    importer = str(tmp_path / "main.ts")
    assert resolver.resolve("@app/a", importer) == (str(tmp_path / "src/a.ts"), True)
    assert resolver.resolve("@app/special/b", importer) == (str(tmp_path / "special/b.ts"), True)
    assert resolver.resolve("exact", importer) == (str(tmp_path / "src/exact.ts"), True)
    assert resolver.resolve("lodash", importer) == (str(tmp_path / "vendor/lodash.js"), True)
    assert resolver.resolve("react", importer) == ("react", False)
    assert resolver.resolve("./missing", importer) is None


def test_probing_order(tmp_path):
    make(
        tmp_path,
        {
            "x.ts": "", "x.js": "", "y.js": "", "dir/index.tsx": "", "types.d.ts": "", "esm.ts": "", "both/index.js": "",
            "both.ts": "",
        },
    )
    files = [str(p) for p in tmp_path.rglob("*") if p.is_file()]
    resolver = JsResolver(files, str(tmp_path))
    importer = str(tmp_path / "main.ts")
    assert resolver.resolve("./x", importer)[0].endswith("x.ts")
    assert resolver.resolve("./x.js", importer)[0].endswith("x.js")  # exists as written
    assert resolver.resolve("./esm.js", importer)[0].endswith("esm.ts")  # TypeScript's ESM spelling
    assert resolver.resolve("./y", importer)[0].endswith("y.js")
    assert resolver.resolve("./dir", importer)[0].endswith("dir/index.tsx")
    assert resolver.resolve("./types", importer)[0].endswith("types.d.ts")
    assert resolver.resolve("./both", importer)[0].endswith("both.ts")  # a file beats a folder's index
    assert resolver.resolve(".", str(tmp_path / "dir" / "a.ts")) == (str(tmp_path / "dir" / "index.tsx"), True)


# --------------------------------------------------------------------------------------------- the fixture

EXPECTED_EDGES = {
    ("web/scripts/build", "web/src/main"): ([2], "import"),  # `../src/main.js` finds main.ts
    ("web/scripts/legacy", "web/scripts/build"): ([1], "import"),  # require of an .mjs
    ("web/src/app", "web/src/lib/helpers"): ([2], "import"),  # baseUrl (from the extended config)
    ("web/src/cycle/a", "web/src/cycle/b"): ([1], "import"),
    ("web/src/cycle/b", "web/src/cycle/c"): ([1], "import"),
    ("web/src/cycle/c", "web/src/cycle/a"): ([1], "import"),  # require() from JS back into TS
    ("web/src/lib/index", "web/src/lib/helpers"): ([1], "import"),
    ("web/src/main", "web/src/app"): ([1], "import"),  # paths "@app/*"
    ("web/src/main", "web/src/config"): ([2], "type_checking"),  # import type
    ("web/src/main", "web/src/dup"): ([8], "import"),  # dup.ts, not dup.js
    ("web/src/main", "web/src/lazy"): ([14], "function_local"),  # await import() in a function
    ("web/src/main", "web/src/lib/helpers"): ([10], "import"),  # export * from
    ("web/src/main", "web/src/lib/index"): ([3], "import"),  # exact paths key "@lib"
    ("web/src/main", "web/src/shapes"): ([11], "type_checking"),  # export type ... from a .d.ts
    ("web/src/main", "web/src/utils/index"): ([4, 9], "import"),  # folder index; paths fallback target
    ("web/src/utils/index", "web/src/lib/helpers"): ([1], "import"),  # `helpers.js` finds helpers.ts
    ("web/src/utils/index", "web/src/utils/format"): ([4], "function_local"),  # require in a function
}

EXPECTED_EXTERNAL = [
    ("web/scripts/build", "fs"),
    ("web/scripts/legacy", "typescript"),
    ("web/src/app", "react"),
    ("web/src/lib/helpers", "lodash"),
    ("web/src/main", "@scope/pkg"),
    ("web/src/main", "node:fs"),
]


@pytest.fixture(scope="module")
def web_graph():
    return build_graph(FIXTURE, language="all")


def _web(graph):
    return {
        (e.source, e.target): (list(e.lines), e.kind) for e in graph.edges if e.source.startswith("web/")
    }


def test_fixture_modules(web_graph):
    web = [(m.name, m.path, m.language) for m in web_graph.modules if m.path.startswith("web/")]
    assert web == [
        ("web/scripts/build", "web/scripts/build.mjs", "javascript"),
        ("web/scripts/legacy", "web/scripts/legacy.cjs", "javascript"),
        ("web/src/app", "web/src/app.tsx", "typescript"),
        ("web/src/config", "web/src/config.ts", "typescript"),
        ("web/src/cycle/a", "web/src/cycle/a.ts", "typescript"),
        ("web/src/cycle/b", "web/src/cycle/b.ts", "typescript"),
        ("web/src/cycle/c", "web/src/cycle/c.js", "javascript"),
        ("web/src/dup", "web/src/dup.ts", "typescript"),
        ("web/src/dup.js", "web/src/dup.js", "javascript"),  # loses the name to dup.ts
        ("web/src/lazy", "web/src/lazy.ts", "typescript"),
        ("web/src/lib/helpers", "web/src/lib/helpers.ts", "typescript"),
        ("web/src/lib/index", "web/src/lib/index.ts", "typescript"),
        ("web/src/main", "web/src/main.ts", "typescript"),
        ("web/src/shapes", "web/src/shapes.d.ts", "typescript"),
        ("web/src/utils/format", "web/src/utils/format.jsx", "javascript"),
        ("web/src/utils/index", "web/src/utils/index.js", "javascript"),
    ]


def test_fixture_edges_external_cycles(web_graph):
    assert _web(web_graph) == EXPECTED_EDGES
    assert [(x.source, x.target) for x in web_graph.external if x.source.startswith("web/")] == EXPECTED_EXTERNAL
    assert ["web/src/cycle/a", "web/src/cycle/b", "web/src/cycle/c"] in web_graph.cycles
    assert web_graph.cycle_of("web/src/cycle/c") == ["web/src/cycle/a", "web/src/cycle/b", "web/src/cycle/c"]
    # Python is there too with language="all"
    assert ("shop", "shop.catalog") in {(e.source, e.target) for e in web_graph.edges}
    assert web_graph.dependents_of("web/src/lib/helpers", transitive=True) == [
        "web/scripts/build", "web/scripts/legacy", "web/src/app", "web/src/lib/index", "web/src/main",
        "web/src/utils/index",
    ]


def test_json_is_the_contract_shape(web_graph):
    data = json.loads(json.dumps(web_graph.to_json()))
    assert data["version"] == 1
    assert {"from": "web/src/main", "to": "web/src/config", "lines": [2], "kind": "type_checking"} in data["edges"]
    assert {"from": "web/src/main", "to": "@scope/pkg"} in data["external"]
    mermaid = web_graph.to_mermaid(external=True)
    assert '["web/src/main"]' in mermaid and '(["@scope/pkg"])' in mermaid


def test_language_selection():
    ts = build_graph(FIXTURE, language="typescript")
    assert {m.language for m in ts.modules} == {"typescript"}
    edges = {(e.source, e.target) for e in ts.edges}
    assert ("web/src/cycle/a", "web/src/cycle/b") in edges
    assert ("web/src/cycle/b", "web/src/cycle/c") not in edges  # c.js is JavaScript: not in this graph
    assert ("web/src/main", "web/src/utils/index") not in edges
    assert all(x.target != "web/src/utils/index" for x in ts.external)  # nor external
    assert ts.cycles == []
    javascript = build_graph(FIXTURE, language="javascript")
    assert {m.language for m in javascript.modules} == {"javascript"}
    assert {(e.source, e.target) for e in javascript.edges} == {
        ("web/scripts/legacy", "web/scripts/build"),
        ("web/src/utils/index", "web/src/utils/format"),
    }
    python_only = build_graph(FIXTURE)
    assert {m.language for m in python_only.modules} == {"python"}


def test_names_never_clash_with_python_modules(tmp_path):
    make(tmp_path, {"tool.py": "import helper\n", "helper.py": "", "tool.js": "require('./other')\n", "other.js": ""})
    g = build_graph(tmp_path, language="all")
    assert [(m.name, m.path) for m in g.modules] == [
        ("helper", "helper.py"), ("other", "other.js"), ("tool", "tool.py"), ("tool.js", "tool.js"),
    ]
    assert {(e.source, e.target) for e in g.edges} == {("tool", "helper"), ("tool.js", "other")}


def test_node_modules_and_gitignore(tmp_path):
    make(
        tmp_path,
        {
            ".gitignore": "out/\n",
            "index.js": "require('./out/bundle'); require('left-pad'); require('./lib');\n",
            "out/bundle.js": "",
            "lib.js": "",
            "node_modules/left-pad/index.js": "",
        },
    )
    g = build_graph(tmp_path, language="javascript")
    assert [m.name for m in g.modules] == ["index", "lib"]
    assert [(e.source, e.target) for e in g.edges] == [("index", "lib")]
    assert [(x.source, x.target) for x in g.external] == [("index", "left-pad")]
