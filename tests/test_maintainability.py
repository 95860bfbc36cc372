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


# --- the tree-sitter path (halstead_ts.py): radon's counts off the tree the file is parsed into anyway ---

from radon.visitors import HalsteadVisitor  # noqa: E402
from sophia_artemis.analysis import halstead_ts  # noqa: E402
from sophia_artemis.analysis.document import Document  # noqa: E402
from sophia_artemis.analysis.maintainability import _from_tree  # noqa: E402


def _radon_counts(tree: ast.Module) -> tuple[int, int, int, int, int]:
    halstead = HalsteadVisitor.from_ast(tree)
    return (
        len(halstead.operators_seen),
        len(halstead.operands_seen),
        halstead.operators,
        halstead.operands,
        ComplexityVisitor.from_ast(tree).total_complexity,
    )


def _compare_tree_sitter(paths: list[Path]) -> tuple[int, dict[str, int]]:
    """(files equal to radon, {fallback reason: files}); fails on the first file that differs."""
    import sys

    checked = 0
    fallbacks: dict[str, int] = {}
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))  # radon's visitors recurse
    try:
        for path in paths:
            parsed = _parsed(path)
            if parsed is None:
                continue
            source, tree = parsed
            ts_tree = Document(source.encode("utf-8")).tree
            try:
                got = halstead_ts.counts(ts_tree)
            except halstead_ts.Unmapped as e:
                fallbacks[str(e)] = fallbacks.get(str(e), 0) + 1
                continue
            assert got == _radon_counts(tree), path
            expected = (h_visit_ast(tree).total.volume, ComplexityVisitor.from_ast(tree).total_complexity)
            assert _from_tree(source, ts_tree) == expected, path  # MI's very inputs, to the last bit
            checked += 1
    finally:
        sys.setrecursionlimit(limit)
    return checked, fallbacks


def test_tree_sitter_counts_equal_radon_on_every_stdlib_module():
    checked, fallbacks = _compare_tree_sitter(_stdlib_modules())
    assert checked > 600
    # what the stdlib holds that the tree cannot give exactly: a Python 2 `print` in a string-built test
    # module and the like; each is computed from `ast` instead
    assert sum(fallbacks.values()) < 10, fallbacks


CORPUS = Path("/tmp/corpus")


@pytest.mark.skipif(not CORPUS.is_dir(), reason="no /tmp/corpus (django, flask, requests)")
def test_tree_sitter_counts_equal_radon_on_the_corpus():
    checked, fallbacks = _compare_tree_sitter(sorted(p for p in CORPUS.rglob("*.py") if p.is_file()))
    assert checked > 2500, (checked, fallbacks)


TS_CASES = {
    "concat": 'x = ("a" "b") + "ab"\ny = "a" \\\n  "b" + (  # c\n  "ab")\n',
    "fstrings": 'x = f"a" + f"a" + f"{x!r:>{w}}" + ("a" f"b")\n',
    "constants": "x = True + 1 + 1.0 + 1j - 0x1 - 1_0 * 1e1 / 10 + None + ... + b'A' + 'A' + '\\x41'\n",
    "escapes": "x = '\\d' + r'\\d' + '''a\nb''' + 'a\\nb' + u'a'\n",
    "unary": "x = -1 + +y - ~z\ny = not a\nz = not -x ** 2\n",
    "compare": "a = x not in y is not z < 3 == (w)\nb = (x < y) < z\nc = not x in y\n",
    "boolops": "a = x and y and z\nb = (x and y) and z\nc = x or y and z or w\nd = x and (y and z)\ne = x and y or z and w\n",
    "ifexp": "a = x if y else z\nb = [i for i in y if i if not i]\nc = {k: v for k, v in d if k}\n",
    "walrus": "if (n := len(a)) > 10:\n    print(n + 1)\n",
    "decorators": "@dec(1 + 2)\ndef f(x=-1, *a: int | None, **k) -> a | b:\n    return x + 1\n@dec(-1)\nclass C(B + D, metaclass=M or N):\n    x: int | None = -1\n",
    "lambda": "f = lambda q=-1, *a, **k: q + 1 if q else -q\n",
    "nested": (
        "def f(a):\n    def g(b):\n        class D:\n            def h(self):\n                return b + 1 if b else 2\n"
        "        return a + b and b\n    return g(a) - 1\nclass C:\n    class E:\n        def m(self):\n"
        "            return self.x or 1\n    def m(self, x=1 + 2):\n        return x * 2 if x else [i for i in x]\n"
        "    @property\n    async def n(self):\n        async for i in self:\n            await i + 1\n"
        "        else:\n            pass\n"
    ),
    "statements": (
        "x += 1\ny @= z\nassert a and b, c or d\nwhile x:\n    x -= 1\nelse:\n    pass\nfor i in y:\n    pass\n"
        "try:\n    pass\nexcept A:\n    pass\nexcept B:\n    pass\nelse:\n    pass\nfinally:\n    pass\n"
        "try:\n    pass\nexcept* A:\n    x and y\n"
    ),
    "calls": "print(*a, **k)\nx = a[1:-1, ::2] - a.b.c + f(x)[-1]\ndel a[i + 1]\nglobal g\n",
    "annotations": "x: a.B[int] | c.D | None = 1\ny: list[int | str] | None\nz: A[int].b | C = 1\n",
    "match": (
        "match p:\n    case 1 | 2 if x and y:\n        pass\n    case Point(x=0) if x > 1:\n        pass\n"
        "    case [a, *rest]:\n        pass\n    case {'k': v}:\n        pass\n    case (y):\n        pass\n"
        "match q:\n    case (a, b):\n        pass\n    case a.b:\n        pass\n    case _:\n        pass\n"
        "def f():\n    match q:\n        case x:\n            pass\n"
    ),
    "identifiers": "\ufb01 = 1\nx = \ufb01 + fi + obj.\ufb01\n",
    "continuations": "x = a < \\\n  b\ny = (\\\n  a) + 1 and \\\n  c\n",
    "crlf": 'x = """a\r\nb""" + "a\\nb"\r\ny = 1 + 2\r\n',
}


@pytest.mark.parametrize("name", sorted(TS_CASES))
def test_tree_sitter_counts_equal_radon_on_edge_cases(name):
    source = TS_CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # '\d'
        expected = _radon_counts(ast.parse(source))
        radon_mi = round(mi_visit(source, True), 2)
    tree = Document(source.encode("utf-8")).tree
    assert halstead_ts.counts(tree) == expected
    assert maintainability_index(source, tree=tree) == radon_mi


# what tree-sitter reads without an error but Python 3.11's `ast` rejects, or reads with operators tree-sitter
# does not show: the tree path refuses it, and the `ast` path then says what radon says
UNMAPPED_CASES = {
    "print_statement": 'print "x"\n',
    "exec_statement": 'exec "x = 1"\n',
    "diamond": "x = 1 <> 2\n",
    "long": "x = 10L\n",
    "leading_zero": "x = 0777\n",
    "type_alias": "type X = int\n",
    "generic_def": "def f[T](x: T) -> T:\n    return x\n",
    "generic_class": "class C[T]:\n    pass\n",
    "nested_quotes": 'x = f"{y["a"]}"\n',
    "fstring_backslash": "x = f\"{'\\n'.join(y)}\"\n",
    "fstring_conversion": 'x = f"{y!z}"\n',
    "truncated_escape": 'x = "\\x1"\n',
    "unknown_name": 'x = "\\N{NO SUCH NAME}"\n',
    "non_ascii_bytes": 'x = b"\u00e9"\n',
    "bytes_and_str": 'x = b"a" "b"\n',
    "except_mix": "try:\n    pass\nexcept A:\n    pass\nexcept* B:\n    pass\n",
    "negative_pattern": "match x:\n    case -1:\n        pass\n    case _:\n        pass\n",
    "complex_pattern": "match x:\n    case 1 + 2j:\n        pass\n",
    "syntax_error": "def broken(:\n    pass\n",
}


@pytest.mark.parametrize("name", sorted(UNMAPPED_CASES))
def test_tree_sitter_refuses_what_it_cannot_map(name):
    source = UNMAPPED_CASES[name]
    tree = Document(source.encode("utf-8")).tree
    with pytest.raises(halstead_ts.Unmapped):
        halstead_ts.counts(tree)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = round(mi_visit(source, True), 2)
    except SyntaxError:
        expected = None
    assert maintainability_index(source, tree=tree) == expected


def test_a_given_tree_is_used_and_gives_the_same_index():
    source = "def f(x):\n    return x + 1 if x else -x\n"
    doc = Document(source.encode("utf-8"))
    assert _from_tree(source, doc.tree) == halstead_volume_and_complexity(ast.parse(source))
    assert maintainability_index(source, tree=doc.tree) == maintainability_index(source)
    assert maintainability_index(source, tree=doc.tree) == round(mi_visit(source, True), 2)


def test_a_file_python_rejects_but_tree_sitter_reads_has_no_index_without_a_tree():
    # tree-sitter reads a misindented line without an ERROR node; only CPython says the file is not
    # Python, so without a tree the index stays radon's answer: none
    source = "def f():\n    x = 1\n        y = 2\n"
    assert not Document(source.encode("utf-8")).tree.root_node.has_error
    assert maintainability_index(source) is None
