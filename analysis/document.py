"""A source document kept parsed with tree-sitter and re-parsed incrementally on each edit."""

from __future__ import annotations

from functools import lru_cache

import tree_sitter

from .model import Position, Range
from .text import LineIndex, encode


@lru_cache(maxsize=None)
def language(name: str) -> tree_sitter.Language:
    if name == "python":
        import tree_sitter_python

        return tree_sitter.Language(tree_sitter_python.language())
    raise ValueError(f"unsupported language: {name}")


def _parser(lang: str) -> tree_sitter.Parser:
    return tree_sitter.Parser(language(lang))


class Document:
    """Text as UTF-8 bytes plus its tree-sitter tree.

    `apply_change` takes LSP content changes (a range in UTF-16 positions, or None for the whole text),
    edits the old tree so tree-sitter can reuse every unchanged subtree, and re-parses.
    """

    def __init__(self, text: str | bytes, language_name: str = "python", version: int = 0) -> None:
        self.language = language_name
        self.version = version
        self._parser = _parser(language_name)
        self.source = text if isinstance(text, bytes) else encode(text)
        self.index = LineIndex(self.source)
        self.tree = self._parser.parse(self.source)

    @property
    def text(self) -> str:
        return self.source.decode("utf-8", "replace")

    def apply_change(self, range_: Range | None, new_text: str, version: int | None = None) -> None:
        new_bytes = encode(new_text)
        if range_ is None:
            self.source = new_bytes
            self.index = LineIndex(self.source)
            self.tree = self._parser.parse(self.source)
        else:
            self._apply_incremental(range_, new_bytes)
        if version is not None:
            self.version = version

    def _apply_incremental(self, range_: Range, new_bytes: bytes) -> None:
        old_index = self.index
        start = old_index.offset(range_.start)
        old_end = max(start, old_index.offset(range_.end))
        source = self.source[:start] + new_bytes + self.source[old_end:]
        new_end = start + len(new_bytes)
        new_index = LineIndex.edited(old_index, start, old_end, new_bytes, source)
        self.tree.edit(
            start_byte=start,
            old_end_byte=old_end,
            new_end_byte=new_end,
            start_point=old_index.point(start),
            old_end_point=old_index.point(old_end),
            new_end_point=new_index.point(new_end),
        )
        self.source = source
        self.index = new_index
        self.tree = self._parser.parse(source, self.tree)

    def range_of(self, node: tree_sitter.Node) -> Range:
        return self.index.node_range(node)

    def position_of(self, offset: int) -> Position:
        return self.index.position(offset)
