"""Per-file extraction: source bytes in, `ImportRecord`s out. Pure, so a cache can key it by content."""

from __future__ import annotations

import hashlib
import os

import tree_sitter

from .javascript import js_imports
from .languages import dialect_of, parser
from .python import python_imports
from .records import ImportRecord

EXTRACTOR_VERSION = 1
"""Bumped whenever `file_imports` could return something different for the same input."""


def file_imports(path: str | os.PathLike[str], source: bytes) -> list[ImportRecord]:
    """The imports of one file. Only the file name's suffix is used from `path` (it picks the grammar),
    so the result depends on (`dialect_of(path)`, `source`) alone: see `cache_key`.

    `source` is the file's bytes (UTF-8, as `files.read_source` gives them). Syntax errors never raise:
    whatever tree-sitter could parse is reported. Raises ValueError for a file type it does not read.
    """
    dialect = dialect_of(os.fspath(path))
    if dialect is None:
        raise ValueError(f"not a Python, JavaScript or TypeScript file: {path}")
    return tree_imports(parser(dialect).parse(source), source, dialect)


def tree_imports(tree: tree_sitter.Tree, source: bytes, dialect: str) -> list[ImportRecord]:
    """The imports of an already parsed tree (an editor's `Document` tree, say) of `dialect`."""
    if dialect == "python":
        return python_imports(tree, source)
    return js_imports(tree, source, dialect)


def cache_key(path: str | os.PathLike[str], source: bytes | None = None, *, digest: str | None = None) -> str:
    """A key under which `file_imports(path, source)` may be stored and reused (`digest`: the source's
    blake2b-160 hex digest, when the caller has it instead of the source)."""
    if digest is None:
        digest = hashlib.blake2b(source or b"", digest_size=20).hexdigest()
    return f"imports/{EXTRACTOR_VERSION}/{dialect_of(os.fspath(path))}/{digest}"


def extract_many(items: list[tuple[str, bytes]]) -> list[list[ImportRecord]]:
    """`file_imports` for each (path, source); what worker processes run."""
    return [file_imports(path, source) for path, source in items]


__all__ = ["EXTRACTOR_VERSION", "cache_key", "extract_many", "file_imports", "tree_imports"]
