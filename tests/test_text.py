"""LSP positions (UTF-16) <-> bytes <-> tree-sitter points, including non-ASCII and every line ending."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sophia_artemis.analysis.document import Document
from sophia_artemis.analysis.model import Position, Range
from sophia_artemis.analysis.text import LineIndex, encode, utf16_len


def test_ascii_round_trip():
    idx = LineIndex(b"ab\ncd\n")
    assert idx.line_count == 3
    assert idx.offset(Position(1, 1)) == 4
    assert idx.position(4) == Position(1, 1)
    assert idx.point(4) == (1, 1)


def test_utf16_columns_count_surrogate_pairs_twice():
    text = "a😀b = 'é'\n"
    idx = LineIndex(encode(text))
    # 'a' (1 unit) + '😀' (2 units) -> 'b' starts at UTF-16 column 3, byte 5
    assert idx.offset(Position(0, 3)) == 5
    assert idx.position(5) == Position(0, 3)
    e_byte = encode(text).index("é".encode())
    assert idx.position(e_byte) == Position(0, 8)


def test_positions_past_the_end_are_clamped():
    idx = LineIndex(b"abc\nde")
    assert idx.offset(Position(0, 99)) == 3  # end of line 0, before its newline
    assert idx.offset(Position(99, 0)) == 6  # end of document
    assert idx.position(1000) == Position(1, 2)


def test_crlf_and_lone_cr_are_line_breaks_for_lsp_but_not_for_tree_sitter():
    source = b"a\r\nb\rc\n"
    idx = LineIndex(source)
    assert idx.starts == [0, 3, 5, 7]
    assert idx.position(5) == Position(2, 0)  # 'c' is on LSP line 2
    assert idx.point(5) == (1, 2)  # but on tree-sitter row 1 (after \n only)
    assert idx.offset_of_point(1, 2) == 5
    assert idx.line_text(0) == "a"


def test_lone_surrogate_keeps_alignment():
    text = "x = '\udcff'\ny = 1\n"
    source = encode(text)
    assert utf16_len(text.split("\n")[0]) == 7
    idx = LineIndex(source)
    assert idx.position(len(source) - 1) == Position(1, 5)


def test_incremental_edit_on_non_ascii_line():
    doc = Document("s = 'é😀'\nt = 1\n")
    # replace the emoji (UTF-16 columns 6..8) with 'ok'
    doc.apply_change(Range.of(0, 6, 0, 8), "ok")
    assert doc.text == "s = 'éok'\nt = 1\n"
    assert not doc.tree.root_node.has_error


@given(st.text(alphabet=st.sampled_from(list("ab é😀\n\r\t:")), max_size=60))
def test_every_offset_round_trips(text):
    source = encode(text)
    idx = LineIndex(source)
    decoded_boundaries = {0}
    pos = 0
    for ch in text:
        pos += len(ch.encode())
        decoded_boundaries.add(pos)
    for offset in decoded_boundaries:
        p = idx.position(offset)
        if offset < len(source) and source[offset - 1 : offset + 1] == b"\r\n":
            continue  # between \r and \n is not an LSP position
        assert idx.offset(p) == offset, (text, offset, p)
