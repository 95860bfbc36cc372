"""The maintainability index equals radon's: its raw counts, Halstead volume and cyclomatic total, computed faster."""

from __future__ import annotations

import ast
import random
import sysconfig
import warnings
from pathlib import Path

import pytest
from radon.metrics import h_visit_ast, mi_visit
from radon.raw import analyze as radon_analyze
from radon.visitors import ComplexityVisitor
from sophia_artemis.analysis.halstead import halstead_volume_and_complexity
from sophia_artemis.analysis.maintainability import _mi, maintainability_index
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


def _stdlib_modules() -> list[Path]:
    """Every module of the standard library proper (no tests, no site-packages), as sorted paths."""
    skip = {"site-packages", "test", "tests", "idle_test", "lib2to3"}
    return sorted(p for p in STDLIB.rglob("*.py") if not skip.intersection(p.relative_to(STDLIB).parts))


def _parsed(path: Path) -> tuple[str, ast.Module] | None:
    try:
        source = path.read_text(encoding="utf-8")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences in old modules
            return source, ast.parse(source)
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return None


def test_halstead_and_cyclomatic_equal_radon_on_stdlib_modules():
    # the one-pass walk against radon's two visitors on a seeded third of the stdlib's ~700 modules (a few
    # seconds; all of them, and 2,800 files of pip, IPython, pytest and django's tests, matched when written)
    modules = _stdlib_modules()
    checked = 0
    for path in random.Random(5).sample(modules, len(modules) // 3):
        parsed = _parsed(path)
        if parsed is None:
            continue
        tree = parsed[1]
        try:
            expected = (h_visit_ast(tree).total.volume, ComplexityVisitor.from_ast(tree).total_complexity)
        except RecursionError:  # radon's visitors recurse; skip what radon itself cannot do
            continue
        assert halstead_volume_and_complexity(tree) == expected, path
        checked += 1
    assert checked > 150


def test_unrounded_mi_equals_radon_on_a_stdlib_sample():
    # radon's own mi_visit is slow (its line counter is quadratic), so a seeded sample of smaller modules
    paths = [p for p in _stdlib_modules() if p.stat().st_size < 25_000]
    checked = 0
    for path in random.Random(11).sample(paths, min(60, len(paths))):
        parsed = _parsed(path)
        if parsed is None:
            continue
        source = parsed[0]
        try:
            expected = mi_visit(source, True)
        except (SyntaxError, RecursionError):
            continue
        assert abs(_mi(source) - expected) <= 1e-9, path
        checked += 1
    assert checked > 40


# Lines the raw counter reads without tokenizing, and their neighbours that must still be tokenized.
RAW_CASES = {
    "plain": "x = 1\ny = f(x)  # a comment\n\n# alone\nif x: y = 2\nelse:\n    pass\n",
    "colons": "d = {'a': 1}\ns = x[1:]\nf = lambda: 0\nif (n := 10) > 5:\n    pass\nwhile (n := n - 1):  # c\n    pass\n",
    "semicolons": "x = 1; y = 2\nif x: a; b\nz = 3;\nw = 'a;b'\n",
    "strings": '\'doc\'\nu"doc"\nrb\'x\'\n"a" "b"\n"a"  # c\nx = \'it\'\'s\'\ny = "#no comment"  # it\'s\nf"{x:>10}"\n',
    "docstrings": 'def f():\n    """One line."""\n    """Two\n\n    lines."""\n    """Then""" + x\n'
    '    r"""raw\n    """\n    """bad\n    ends"""\n    """Esc\\"""\n    """\n    x = """x""" + """y"""\n',
    "brackets": "x = (\n    1,  # one\n\n    # between\n    2,\n)\ny = [a for a in (\n  b)]\nz = {\n 'k': v,\n}\ncall(a)(\n b)\n",
    "continuations": "x = 1 + \\\n    2\ns = 'a\\\nb'\nt = (1 if a\n     else 2)\n",
    "odd": "a != b\nx = ~y @ z ** 2 // 3\nname\u00e9 = 1\nx = '\u00e9:'\n\x0c\nclass A: pass\n",
}


@pytest.mark.parametrize("name", sorted(RAW_CASES))
def test_raw_counts_equal_radon_on_edge_cases(name):
    source = RAW_CASES[name]
    assert analyze(source) == radon_analyze(source)
