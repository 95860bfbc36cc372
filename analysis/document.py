"""A source document kept parsed with tree-sitter and re-parsed incrementally on each edit."""

from __future__ import annotations

from functools import cache

import tree_sitter

from .model import Position, Range
from .text import LineIndex, encode

DIALECTS = ("python", "javascript", "typescript", "tsx")
# editors' languageId -> the grammar that reads it
_LANGUAGE_IDS = {
    "python": "python",
    "javascript": "javascript",
    "javascriptreact": "javascript",
    "typescript": "typescript",
    "typescriptreact": "tsx",
}


@cache
def language(name: str) -> tree_sitter.Language:
    """The tree-sitter grammar of a dialect: python, javascript (JSX included), typescript or tsx."""
    if name == "python":
        import tree_sitter_python

        return tree_sitter.Language(tree_sitter_python.language())
    if name in DIALECTS:
        from .imports.languages import grammar  # the import graph's loader: one place knows the packages

        return grammar(name)
    raise ValueError(f"unsupported language: {name}")


def language_of_dialect(dialect: str) -> str:
    """What a dialect is reported as (`files[].language`): TSX is TypeScript."""
    return "typescript" if dialect == "tsx" else dialect


def dialect_for(name: str, language_id: str = "") -> str | None:
    """The grammar for a file name or an editor languageId (the id wins when it is one we read).

    `.ts`/`.mts`/`.cts` are TypeScript without JSX (`<T>x` is a cast there), `.tsx` TypeScript with it;
    every JavaScript suffix reads with JSX, as Babel and esbuild do for `.js`."""
    by_id = _LANGUAGE_IDS.get(language_id)
    if by_id is not None:
        if by_id == "typescript" and name.lower().endswith(".tsx"):
            return "tsx"
        return by_id
    lower = name.lower()
    if lower.endswith((".py", ".pyi", ".pyw")):
        return "python"
    if lower.endswith(".tsx"):
        return "tsx"
    if lower.endswith((".ts", ".mts", ".cts")):
        return "typescript"
    if lower.endswith((".js", ".jsx", ".mjs", ".cjs")):
        return "javascript"
    return None


def _parser(lang: str) -> tree_sitter.Parser:
    return tree_sitter.Parser(language(lang))


class TextBuffer:
    """Text as UTF-8 bytes with its line index, edited with LSP content changes (a range in UTF-16
    positions, or None for the whole text). Used as is for text that is not parsed."""

    def __init__(self, text: str | bytes, version: int = 0) -> None:
        self.version = version
        self.source = text if isinstance(text, bytes) else encode(text)
        self.index = LineIndex(self.source)

    @property
    def text(self) -> str:
        return self.source.decode("utf-8", "replace")

    def apply_change(self, range_: Range | None, new_text: str, version: int | None = None) -> None:
        new_bytes = encode(new_text)
        if range_ is None:
            self._replace_all(new_bytes)
        else:
            old_index = self.index
            start = old_index.offset(range_.start)
            old_end = max(start, old_index.offset(range_.end))
            source = self.source[:start] + new_bytes + self.source[old_end:]
            self.source = source
            self.index = LineIndex.edited(old_index, start, old_end, new_bytes, source)
            self._edited(old_index, start, old_end, start + len(new_bytes))
        if version is not None:
            self.version = version

    def _replace_all(self, new_bytes: bytes) -> None:
        self.source = new_bytes
        self.index = LineIndex(new_bytes)

    def _edited(self, old_index: LineIndex, start: int, old_end: int, new_end: int) -> None:
        """Hook for subclasses: [start, old_end) of the old text is now [start, new_end)."""

    def position_of(self, offset: int) -> Position:
        return self.index.position(offset)


class Document(TextBuffer):
    """A TextBuffer kept parsed with tree-sitter: each edit is applied to the old tree, so tree-sitter
    reuses every unchanged subtree when it re-parses.

    `language_name` is a dialect (python, javascript, typescript, tsx); `dialect` keeps it and `language`
    says what the file is (tsx is "typescript")."""

    def __init__(self, text: str | bytes, language_name: str = "python", version: int = 0) -> None:
        super().__init__(text, version)
        self.dialect = language_name
        self.language = language_of_dialect(language_name)
        self._parser = _parser(language_name)
        self.tree = self._parser.parse(self.source)

    def _replace_all(self, new_bytes: bytes) -> None:
        super()._replace_all(new_bytes)
        self.tree = self._parser.parse(self.source)

    def _edited(self, old_index: LineIndex, start: int, old_end: int, new_end: int) -> None:
        self.tree.edit(
            start_byte=start,
            old_end_byte=old_end,
            new_end_byte=new_end,
            start_point=old_index.point(start),
            old_end_point=old_index.point(old_end),
            new_end_point=self.index.point(new_end),
        )
        self.tree = self._parser.parse(self.source, self.tree)

    def range_of(self, node: tree_sitter.Node) -> Range:
        return self.index.node_range(node)
