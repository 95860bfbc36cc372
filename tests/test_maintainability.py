"""The maintainability index equals radon's, with radon's quadratic line counter replaced by a linear one."""

from __future__ import annotations

import random
import sysconfig
from pathlib import Path

import pytest
from radon.metrics import mi_visit
from radon.raw import analyze as radon_analyze
from sophia_artemis.analysis.maintainability import maintainability_index
from sophia_artemis.analysis.radon_raw import analyze

STDLIB = Path(sysconfig.get_paths()["stdlib"])


def _sample(n: int = 60) -> list[Path]:
    files = sorted(p for p in STDLIB.glob("*.py") if p.stat().st_size < 150_000)
    return random.Random(7).sample(files, min(n, len(files)))


@pytest.mark.parametrize("path", _sample(), ids=lambda p: p.name)
def test_raw_counts_and_mi_equal_radon_on_real_modules(path):
    source = path.read_text(encoding="utf-8")
    assert analyze(source) == radon_analyze(source)
    assert maintainability_index(source) == round(mi_visit(source, True), 2)


def test_long_statement_counts_like_radon():
    # radon's own counter re-tokenizes a multi-line statement once per line (quadratic: a 300 KB generated
    # file took it 20 minutes); ours finds the statement's end in one pass and must count the same
    source = "TABLE = {\n" + "".join(f"    'key{i}': ({i}, '''v'''),\n" for i in range(300)) + "}\n"
    assert analyze(source) == radon_analyze(source)
    big = "TABLE = {\n" + "".join(f"    'key{i}': ({i}, '''v'''),\n" for i in range(20000)) + "}\n"
    assert analyze(big).loc == 20002


def test_unparsable_text_has_no_index():
    assert maintainability_index("def broken(:\n") is None
