"""Workspace symbols: definitions and references of every Python file (tree-sitter, cacheable per
file), name resolution over the import graph's modules, callers for change impact, and SA303 unused
code.

    index = WorkspaceIndex.build(Path("project"))
    index.callers_of("pkg.mod:Class.method")      # [Caller(path, range, qualname, confidence)]
    index.tests_for("pkg.mod:Class.method")       # ["tests/test_mod.py"]
    find_unused(index, whitelist=["pkg.plugins:*"])  # [UnusedSymbol(path, qualname, kind, range, confidence, reason)]

`file_symbols(module_name, path, source)` is pure: its result (plain picklable dataclasses) may be
cached under `cache_key(module_name, path, source)`; `WorkspaceIndex.build(..., cache=mapping)` does.
"""

from .deadcode import DEFAULT_MIN_CONFIDENCE, UnusedSymbol, decorator_registers, find_unused
from .extract import SYMBOLS_VERSION, cache_key, file_symbols, is_test_path, tree_symbols
from .index import TargetError, WorkspaceIndex, module_names, read_entry_points
from .model import (
    CONFIDENCES,
    Assignment,
    Call,
    Caller,
    Definition,
    FileSymbols,
    ImportBinding,
    Span,
    span_range,
)

__all__ = [
    "CONFIDENCES",
    "DEFAULT_MIN_CONFIDENCE",
    "SYMBOLS_VERSION",
    "Assignment",
    "Call",
    "Caller",
    "Definition",
    "FileSymbols",
    "ImportBinding",
    "Span",
    "TargetError",
    "UnusedSymbol",
    "WorkspaceIndex",
    "cache_key",
    "decorator_registers",
    "file_symbols",
    "find_unused",
    "is_test_path",
    "module_names",
    "read_entry_points",
    "span_range",
    "tree_symbols",
]
