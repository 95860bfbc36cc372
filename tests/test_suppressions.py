"""Line suppression edits (server/lsp/suppressions.py): the comment syntax follows the document's language."""

from __future__ import annotations

from sophia_artemis.analysis import Document, analyze
from sophia_artemis.analysis.config import Settings
from sophia_artemis.server.lsp.suppressions import line_suppression

COMPLEX_TS = "export function f(a: number): number {\n" + "".join(
    f"  if (a === {i}) {{ return {i}; }}\n" for i in range(12)
) + "  return 0;\n}\n"


def _edit(doc, rule):
    result = analyze(doc, Settings())
    finding = next(f for f in result.findings if f.rule == rule)
    return line_suppression(doc, result, finding), result


def test_typescript_gets_a_slash_slash_comment_that_silences_the_finding():
    doc = Document(COMPLEX_TS, "typescript")
    (rng, text), _ = _edit(doc, "SA101")
    assert text == "  // sophia: ignore[SA101]"
    line = doc.index.line_text(rng.start.line)
    fixed = COMPLEX_TS.splitlines()
    fixed[rng.start.line] = line + text
    after = analyze(Document("\n".join(fixed) + "\n", "typescript"), Settings())
    assert "SA101" not in {f.rule for f in after.findings}


def test_python_keeps_the_hash_comment():
    source = "def f(a):\n" + "".join(f"    if a == {i}:\n        return {i}\n" for i in range(12)) + "    return 0\n"
    (_, text), _ = _edit(Document(source), "SA101")
    assert text == "  # sophia: ignore[SA101]"
