"""The import graph: per-file import extraction (Python, JavaScript, TypeScript) with tree-sitter,
module resolution (grimp's semantics for Python; relative paths, tsconfig `paths`/`baseUrl` for JS/TS),
and the graph with its queries and outputs (JSON per the contract, DOT, Mermaid).

    graph = build_graph(Path("project"), settings, language="all")
    graph.dependents_of("pkg.models", transitive=True)
    print(json.dumps(graph.to_json()))

Pure like the rest of `analysis`: paths and bytes in, plain dataclasses out.
"""

from .extract import EXTRACTOR_VERSION, cache_key, file_imports, tree_imports
from .graph import (
    Edge,
    ExternalImport,
    ImportGraph,
    ModuleNode,
    build_graph,
    find_cycles,
    python_import_roots,
    strongly_connected_components,
)
from .languages import LANGUAGE_CHOICES, dialect_of, language_of
from .records import KINDS, ImportRecord

__all__ = [
    "EXTRACTOR_VERSION",
    "KINDS",
    "LANGUAGE_CHOICES",
    "Edge",
    "ExternalImport",
    "ImportGraph",
    "ImportRecord",
    "ModuleNode",
    "build_graph",
    "cache_key",
    "dialect_of",
    "file_imports",
    "find_cycles",
    "language_of",
    "python_import_roots",
    "strongly_connected_components",
    "tree_imports",
]
