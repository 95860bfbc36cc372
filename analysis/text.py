"""Positions: LSP (line, UTF-16 character) <-> UTF-8 byte offsets <-> tree-sitter points.

LSP counts lines on `\\n`, `\\r\\n` and `\\r`; tree-sitter counts rows on `\\n` only and columns in bytes.
Everything here goes through byte offsets so the two never have to agree.
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate

from .model import Position, Range


def encode(text: str) -> bytes:
    """UTF-8 bytes of `text`; a lone surrogate (possible in a JSON string) becomes `?`, one UTF-16 unit
    like the surrogate, so positions stay aligned."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace")


def utf16_len(s: str) -> int:
    if s.isascii():
        return len(s)
    return len(s.encode("utf-16-le", "surrogatepass")) // 2


def _utf16_prefix_to_chars(s: str, units: int) -> int:
    """Number of str characters covering the first `units` UTF-16 units of `s` (clamped)."""
    if s.isascii():
        return min(units, len(s))
    count = 0
    for i, ch in enumerate(s):
        if count >= units:
            return i
        count += 2 if ord(ch) > 0xFFFF else 1
    return len(s)


def _line_starts(source: bytes) -> list[int]:
    """Byte offsets where each LSP line starts."""
    if b"\r" not in source:
        return [0, *accumulate(len(part) + 1 for part in source.split(b"\n")[:-1])]
    starts = [0]
    i, n = 0, len(source)
    while i < n:
        c = source[i]
        if c == 10:  # \n
            starts.append(i + 1)
        elif c == 13:  # \r or \r\n
            if i + 1 < n and source[i + 1] == 10:
                i += 1
            starts.append(i + 1)
        i += 1
    return starts


class LineIndex:
    """Maps between byte offsets and LSP positions for one immutable version of a text."""

    __slots__ = ("source", "starts", "_nl_starts")

    def __init__(self, source: bytes) -> None:
        self.source = source
        self.starts = _line_starts(source)
        # tree-sitter rows count only \n; identical to LSP lines unless a lone \r occurs
        self._nl_starts = self.starts if b"\r" not in source else None

    @classmethod
    def edited(cls, old: LineIndex, start: int, old_end: int, inserted: bytes, source: bytes) -> LineIndex:
        """The index of `source` = old source with [start, old_end) replaced by `inserted`, reusing the
        old line table (O(lines) list shifting instead of a rescan). Falls back to a rescan around `\r`."""
        if b"\r" in source or b"\r" in old.source:
            return cls(source)
        delta = len(inserted) - (old_end - start)
        starts = old.starts
        keep = bisect_right(starts, start)
        tail = bisect_right(starts, old_end)
        new = starts[:keep]
        pos = inserted.find(b"\n")
        while pos != -1:
            new.append(start + pos + 1)
            pos = inserted.find(b"\n", pos + 1)
        new.extend([s + delta for s in starts[tail:]] if delta else starts[tail:])
        index = cls.__new__(cls)
        index.source = source
        index.starts = new
        index._nl_starts = new
        return index

    @property
    def line_count(self) -> int:
        return len(self.starts)

    def line_bytes(self, line: int) -> bytes:
        """The line's bytes without its terminator."""
        if line < 0 or line >= len(self.starts):
            return b""
        start = self.starts[line]
        end = self.starts[line + 1] if line + 1 < len(self.starts) else len(self.source)
        chunk = self.source[start:end]
        return chunk.rstrip(b"\r\n") if chunk.endswith((b"\n", b"\r")) else chunk

    def line_text(self, line: int) -> str:
        return self.line_bytes(line).decode("utf-8", "replace")

    def offset(self, pos: Position) -> int:
        """Byte offset of an LSP position, clamped to the document as LSP requires (past end-of-line
        means end of line; past the last line means end of document)."""
        line = pos.line
        if line < 0:
            return 0
        if line >= len(self.starts):
            return len(self.source)
        start = self.starts[line]
        raw = self.line_bytes(line)
        if pos.character <= 0:
            return start
        if raw.isascii():
            return start + min(pos.character, len(raw))
        text = raw.decode("utf-8", "replace")
        chars = _utf16_prefix_to_chars(text, pos.character)
        return start + len(encode(text[:chars]))

    def position(self, offset: int) -> Position:
        """LSP position of a byte offset (clamped)."""
        offset = max(0, min(offset, len(self.source)))
        line = bisect_right(self.starts, offset) - 1
        start = self.starts[line]
        prefix = self.source[start:offset]
        if prefix.isascii():
            return Position(line, len(prefix))
        text = prefix.decode("utf-8", "replace")
        return Position(line, utf16_len(text))

    def range(self, start_byte: int, end_byte: int) -> Range:
        return Range(self.position(start_byte), self.position(end_byte))

    def node_position(self, offset: int, point: tuple[int, int]) -> Position:
        """Position of a tree-sitter node boundary from its byte offset and point: no search needed when
        rows are LSP lines and the line's prefix is ASCII (the common case)."""
        row, column = point
        if self._nl_starts is self.starts and self.source[offset - column : offset].isascii():
            return Position(row, column)
        return self.position(offset)

    def node_range(self, node) -> Range:
        return Range(
            self.node_position(node.start_byte, node.start_point), self.node_position(node.end_byte, node.end_point)
        )

    def _rows(self) -> list[int]:
        if self._nl_starts is None:
            self._nl_starts = [0, *accumulate(len(p) + 1 for p in self.source.split(b"\n")[:-1])]
        return self._nl_starts

    def point(self, offset: int) -> tuple[int, int]:
        """tree-sitter point (row, byte column) of a byte offset."""
        rows = self._rows()
        row = bisect_right(rows, offset) - 1
        return (row, offset - rows[row])

    def offset_of_point(self, row: int, column: int) -> int:
        """Byte offset of a tree-sitter point (clamped)."""
        rows = self._rows()
        if row >= len(rows):
            return len(self.source)
        return min(rows[max(row, 0)] + column, len(self.source))
