"""Which tree-sitter grammar reads which file, and cached parsers and queries for them.

`analysis.document.language` knows only Python; the JavaScript and TypeScript grammars are loaded here
(the packages `tree-sitter-javascript` and `tree-sitter-typescript`), each on first use. A file's
*dialect* is the grammar that parses it: "python", "javascript", "typescript" or "tsx". Its *language*
(what the graph reports) is "python", "javascript" or "typescript".
"""

from __future__ import annotations

import importlib
import threading
from functools import cache
from typing import Any

import tree_sitter

PYTHON_SUFFIXES = (".py", ".pyi")
JAVASCRIPT_SUFFIXES = (".js", ".jsx", ".mjs", ".cjs")
TYPESCRIPT_SUFFIXES = (".ts", ".tsx", ".mts", ".cts")  # `.d.ts` ends with `.ts`
JS_FAMILY_SUFFIXES = JAVASCRIPT_SUFFIXES + TYPESCRIPT_SUFFIXES
ALL_SUFFIXES = PYTHON_SUFFIXES + JS_FAMILY_SUFFIXES

LANGUAGE_CHOICES = ("python", "javascript", "typescript", "all")


def dialect_of(name: str) -> str | None:
    """The grammar for a file name, or None when it is not a file the import graph reads."""
    if name.endswith(PYTHON_SUFFIXES):
        return "python"
    if name.endswith(".tsx"):
        return "tsx"
    if name.endswith((".ts", ".mts", ".cts")):
        return "typescript"
    if name.endswith(JAVASCRIPT_SUFFIXES):
        # JSX is part of the JavaScript grammar, so `.js` files holding JSX parse too.
        return "javascript"
    return None


def language_of(name: str) -> str | None:
    """The graph's `language` for a file name: python, javascript or typescript."""
    dialect = dialect_of(name)
    if dialect == "tsx":
        return "typescript"
    return dialect


@cache
def grammar(dialect: str) -> tree_sitter.Language:
    if dialect == "python":
        from ..document import language

        return language("python")
    if dialect == "javascript":
        tree_sitter_javascript = _grammar_package("tree_sitter_javascript", "tree-sitter-javascript")
        return tree_sitter.Language(tree_sitter_javascript.language())
    if dialect in ("typescript", "tsx"):
        tree_sitter_typescript = _grammar_package("tree_sitter_typescript", "tree-sitter-typescript")
        raw = tree_sitter_typescript.language_tsx() if dialect == "tsx" else tree_sitter_typescript.language_typescript()
        return tree_sitter.Language(raw)
    raise ValueError(f"unsupported dialect: {dialect}")


def _grammar_package(module: str, distribution: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(f"reading this language needs the package {distribution} ({exc})") from exc


_local = threading.local()


def parser(dialect: str) -> tree_sitter.Parser:
    """A parser for `dialect`, one per thread (a tree-sitter parser must not be shared between threads)."""
    parsers = getattr(_local, "parsers", None)
    if parsers is None:
        parsers = _local.parsers = {}
    found = parsers.get(dialect)
    if found is None:
        found = parsers[dialect] = tree_sitter.Parser(grammar(dialect))
    return found


@cache
def query(dialect: str, source: str) -> tree_sitter.Query:
    """A compiled query (immutable, so shared; each use takes its own `QueryCursor`)."""
    return tree_sitter.Query(grammar(dialect), source)
