"""Per-function metrics (analysis/python_metrics.py): unit cases per construct, the Cognitive Complexity white
paper's worked examples, agreement with radon's cyclomatic complexity on real stdlib code and on generated
programs, and robustness on broken code."""

from __future__ import annotations

import ast
import sysconfig
import textwrap
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from radon.complexity import cc_visit
from radon.visitors import Class
from sophia_artemis.analysis.document import Document
from sophia_artemis.analysis.model import Metrics
from sophia_artemis.analysis.python_metrics import ANALYZER_VERSION, compute_metrics

# --- helpers -------------------------------------------------------------------------------------------------


def function_nodes(source: str | bytes) -> list:
    """Every function_definition node in source order."""
    tree = Document(source).tree
    out, stack = [], [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "function_definition":
            out.append(node)
        stack.extend(reversed(node.children))
    return out


def metrics(source: str, name: str | None = None) -> Metrics:
    """Metrics of the function called `name` (default: the first function) in dedented `source`."""
    for node in function_nodes(textwrap.dedent(source)):
        if name is None or node.child_by_field_name("name").text.decode() == name:
            return compute_metrics(node)
    raise AssertionError(f"no function {name!r}")


def radon_cc(source: str, name: str | None = None) -> int:
    """radon's cyclomatic complexity of the first function called `name` (any depth)."""
    found = radon_functions(textwrap.dedent(source))
    for (_, fname), value in sorted(found.items()):
        if name is None or fname == name:
            return value
    raise AssertionError(f"radon found no function {name!r}")


def radon_functions(source: str) -> dict[tuple[int, str], int]:
    """(lineno, name) -> complexity for every function radon reports: closures and methods included."""
    out: dict[tuple[int, str], int] = {}

    def collect(blocks) -> None:
        for block in blocks:
            if isinstance(block, Class):
                collect(block.methods)
                collect(block.inner_classes)
            else:
                out[(block.lineno, block.name)] = block.complexity
                collect(block.closures)

    collect(cc_visit(source))
    return out


def ours(source: str | bytes, figure: str = "cyclomatic") -> dict[tuple[int, str], int]:
    return {
        (node.start_point.row + 1, node.child_by_field_name("name").text.decode()): getattr(
            compute_metrics(node), figure
        )
        for node in function_nodes(source)
    }


def assert_cyclomatic(source: str, expected: int, name: str | None = None) -> None:
    assert metrics(source, name).cyclomatic == expected
    assert radon_cc(source, name) == expected  # the expectation itself is radon's figure


def test_version_is_a_string():
    assert isinstance(ANALYZER_VERSION, str) and ANALYZER_VERSION


# --- cyclomatic: one construct at a time (each expectation checked against radon as well) ---------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def f():\n    pass\n", 1),
        ("def f():\n    if a:\n        pass\n", 2),
        ("def f():\n    if a:\n        pass\n    elif b:\n        pass\n    elif c:\n        pass\n", 4),
        ("def f():\n    if a:\n        pass\n    else:\n        pass\n", 2),
        ("def f():\n    if a:\n        pass\n    else:\n        if b:\n            pass\n", 3),
        ("def f():\n    return a if b else c\n", 2),
        ("def f():\n    return a if b else c if d else e\n", 3),
        ("def f():\n    for x in y:\n        pass\n", 2),
        ("def f():\n    for x in y:\n        pass\n    else:\n        pass\n", 3),
        ("async def f():\n    async for x in y:\n        pass\n    else:\n        pass\n", 3),
        ("def f():\n    while a:\n        pass\n    else:\n        pass\n", 3),
        ("def f():\n    try:\n        pass\n    finally:\n        pass\n", 1),
        ("def f():\n    try:\n        pass\n    except A:\n        pass\n    except B:\n        pass\n", 3),
        ("def f():\n    try:\n        pass\n    except A:\n        pass\n    else:\n        pass\n", 3),
        # radon does not know ast.TryStar: handlers and else of an except* try count nothing ...
        ("def f():\n    try:\n        pass\n    except* A:\n        pass\n    else:\n        pass\n", 1),
        # ... but what is inside still counts
        ("def f():\n    try:\n        pass\n    except* A:\n        if a:\n            pass\n", 2),
        ("def f():\n    return a and b\n", 2),
        ("def f():\n    return a and b and c or d\n", 4),  # BoolOp(or, [BoolOp(and, [a, b, c]), d])
        ("def f():\n    return a and (b and c)\n", 3),
        ("def f():\n    return not a\n", 1),
        ("def f():\n    return [x for x in y]\n", 2),
        ("def f():\n    return [x for x in y if a if b for z in x if c]\n", 6),
        ("def f():\n    return {k: v for k, v in y}, {x for x in y}, list(x for x in y)\n", 4),
        ("def f():\n    return [[z for z in x] for x in y]\n", 3),
        ("def f():\n    assert a\n", 2),
        # radon's visit_Assert does not descend: nothing inside an assert counts
        ("def f():\n    assert a and b, [x for x in y if c]\n", 2),
        ("def f():\n    assert (lambda: a if b else c)()\n", 2),
        ("def f():\n    with a as b, c:\n        pass\n", 1),
        ("def f():\n    if (n := len(a)) > 1:\n        pass\n", 2),
        ("def f():\n    g = lambda x: x if x else 0\n", 2),  # a lambda is part of its function
        ("def f():\n    g = lambda x=a or b: x\n", 2),  # lambda defaults too
        ("def f():\n    return f'{a if b else c}'\n", 2),
        ("def f():\n    x: (a if b else c) = 1\n", 2),
        ("def f(a=b if c else d, *, e=f or g) -> (h if i else j):\n    pass\n", 1),  # not the body
        ("@dec(a if b else c)\ndef f():\n    pass\n", 1),
        ("def f():\n    raise E(a or b) from (c or d)\n", 3),
        ("def f():\n    return (yield a or b)\n", 2),
        ("def f():\n    del a[b if c else d]\n", 2),
    ],
)
def test_cyclomatic_constructs(source, expected):
    assert_cyclomatic(source, expected)


@pytest.mark.parametrize(
    ("cases", "expected"),
    [
        (["1", "2", "3"], 4),
        (["1", "2", "_"], 3),  # `case _` is the default: not a decision
        (["1", "y"], 2),  # a bare capture is irrefutable too
        (["1", "(y)"], 2),  # so is a parenthesized one
        (["1", "(_)"], 2),
        (["1", "_ as z"], 3),  # radon only looks one level down: MatchAs(pattern=MatchAs(...))
        (["1", "y,"], 3),  # a sequence pattern
        (["1", "(y,)"], 3),
        (["1", "1 | _"], 3),  # MatchOr has no .pattern
        (["1", "a.b"], 3),  # a value pattern
        (["_"], 1),  # max(0, 1 - 1)
        (["_ if a"], 1),  # the guard is not looked at for irrefutability ...
        (["1 if a and b", "2"], 4),  # ... but boolean operators in it count
        (["y", "_"], 2),  # at most one is subtracted
    ],
)
def test_cyclomatic_match(cases, expected):
    body = "".join(f"        case {case}:\n            pass\n" for case in cases)
    assert_cyclomatic(f"def f():\n    match x:\n{body}", expected)


def test_cyclomatic_nested_definitions_are_separate():
    source = """\
    def outer(a=x if y else z):
        if a:                                  # +1
            pass
        @decorator(p if q else r)              # decorators of a closure: not counted
        def inner(b=s or t):                   # its defaults neither
            if b:
                return [c for c in b if c]
        class Local(Base if u else Other):     # nor a nested class's bases or body
            def method(self):
                return self if v else None
        return lambda: a and b                 # +1: a lambda is not separate
    """
    assert_cyclomatic(source, 3, "outer")
    assert_cyclomatic(source, 4, "inner")
    assert metrics(source, "method").cyclomatic == 2  # radon drops methods of classes inside functions


def test_cyclomatic_async_and_methods():
    source = """\
    class C:
        async def run(self, items):
            async with lock:
                async for item in items:
                    await item if item else None
            return [i async for i in items if i]
    """
    assert_cyclomatic(source, 5, "run")


# --- cognitive: the white paper's worked examples, translated to Python ---------------------------------------


def test_cognitive_sum_of_primes():
    # Java (white paper, 7): labelled `continue OUT` adds +1; Python has no labelled jumps, so a plain
    # `break` stands in for it and adds nothing:
    #   for +1, inner for +2 (nesting 1), if +3 (nesting 2), break +0  -> 6
    source = """\
    def sum_of_primes(maximum):
        total = 0
        for i in range(1, maximum + 1):
            for j in range(2, i):
                if i % j == 0:
                    break
            total += i
        return total
    """
    assert metrics(source).cognitive == 6
    assert metrics(source).cyclomatic == 4


def test_cognitive_get_words_switch():
    # Java switch (white paper, 1): the whole switch/match is one +1 (nesting 0); its cases add nothing.
    source = """\
    def get_words(number):
        match number:
            case 1:
                return "one"
            case 2:
                return "a couple"
            case 3:
                return "a few"
            case _:
                return "lots"
    """
    assert metrics(source).cognitive == 1
    assert metrics(source).cyclomatic == 4  # radon: 4 cases - 1 for `case _`, + 1


def test_cognitive_nesting_example():
    # White paper, myMethod (9):
    #   try +0 (no nesting either); if +1; for +2 (nesting 1); while +3 (nesting 2);
    #   except +1 (nesting 0: try adds none); if +2 (nesting 1)  -> 9
    source = """\
    def my_method():
        try:
            if condition1:
                for i in range(10):
                    while condition2:
                        pass
        except (ExcepType1, ExcepType2) as e:
            if condition2:
                pass
    """
    assert metrics(source).cognitive == 9


def test_cognitive_lambda_nesting():
    # White paper, myMethod2 (2): a lambda adds nesting but no increment; its `if` (here a conditional
    # expression, the only `if` a Python lambda can hold) is +1 plus nesting 1 -> 2
    source = """\
    def my_method2():
        r = lambda: act() if condition1 else None
    """
    assert metrics(source).cognitive == 2


def test_cognitive_boolean_sequences():
    # White paper: `if (a && b && c || d || e && f)` -> if +1, `&& &&` +1, `|| ||` +1, `&&` +1 -> 4
    assert metrics("def f():\n    if a and b and c or d or e and f:\n        pass\n").cognitive == 4
    # `if (a && !(b && c))` -> if +1, `&&` +1, negation breaks the sequence, inner `&&` +1 -> 3
    assert metrics("def f():\n    if a and not (b and c):\n        pass\n").cognitive == 3


def test_cognitive_overridden_symbol_from():
    # White paper, overriddenSymbolFrom (19):
    #   if +1; for +1; if +2 (nesting 1); `and` +1; if +3 (nesting 2); if +4 (nesting 3);
    #   if +5 (nesting 4); elif +1; if +1  -> 19
    source = """\
    def overridden_symbol_from(self, class_type):
        if class_type.is_unknown():
            return UNKNOWN
        unknown_found = False
        symbols = class_type.symbol.members().lookup(self.name)
        for override_symbol in symbols:
            if override_symbol.is_kind(MTH) and not override_symbol.is_static():
                method_symbol = override_symbol
                if self.can_override(method_symbol):
                    overriding = self.check_overriding_parameters(method_symbol, class_type)
                    if overriding is None:
                        if not unknown_found:
                            unknown_found = True
                    elif overriding:
                        return method_symbol
        if unknown_found:
            return UNKNOWN
        return None
    """
    m = metrics(source)
    assert m.cognitive == 19
    assert m.cyclomatic == 10
    assert m.depth == 5
    assert m.params == 1


# --- cognitive: construct by construct (expected values follow sonar-python's own test resource) ------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def f():\n    pass\n", 0),
        # if +1, elif +1, else +1
        ("def f():\n    if a:\n        pass\n    elif b:\n        pass\n    else:\n        pass\n", 3),
        # if +1, else +1, if inside else +2 (nesting 1)
        ("def f():\n    if a:\n        pass\n    else:\n        if b:\n            pass\n", 4),
        # if +1, if +2, if +3
        ("def f():\n    if a:\n        if b:\n            if c:\n                pass\n", 6),
        # if +1, elif +1, if in elif +2
        ("def f():\n    if a:\n        pass\n    elif b:\n        if c:\n            pass\n", 4),
        # while +1, if +2, else +1
        ("def f():\n    while a:\n        if b:\n            pass\n        else:\n            pass\n", 4),
        # for +1, else +1, if in the loop's else +2
        ("def f():\n    for x in y:\n        pass\n    else:\n        if b:\n            pass\n", 4),
        # try +0, except +1, else +1, if in else +2
        (
            "def f():\n    try:\n        pass\n    except E:\n        pass\n    else:\n        if a:\n            pass\n",
            4,
        ),
        # if in try +1 (try does not nest), if in finally +1 (finally does not nest)
        (
            "def f():\n    try:\n        if a:\n            pass\n    finally:\n        if b:\n            pass\n",
            2,
        ),
        # with adds no nesting: if +1
        ("def f():\n    with a:\n        if b:\n            pass\n", 1),
        # break / continue / return are free: if +1, elif +1, while +1, if +2, elif +1
        (
            (
                "def f():\n    if a:\n        return\n    elif b:\n        return 1\n"
                "    while c:\n        if d:\n            break\n        elif e:\n            continue\n"
            ),
            6,
        ),
        # ternary +1; nested ternary +2 (a ternary nests what is inside it), either side
        ("def f():\n    return a if b else c\n", 1),
        ("def f():\n    return a if b else (c if d else e)\n", 3),
        ("def f():\n    return (a if b else c) if d else e\n", 3),
        # a ternary in an if's condition is at the if's own nesting: if +1, ternary +1
        ("def f():\n    if (a if b else c):\n        pass\n", 2),
        # boolean sequences: one per run of like operators, read left to right, parentheses transparent
        ("def f():\n    g(a and b and c and d)\n", 1),
        ("def f():\n    g(a or b or c or d)\n", 1),
        ("def f():\n    g(a and b or c or d)\n", 2),
        ("def f():\n    g(a and b or c and d)\n", 3),
        ("def f():\n    g(a and (b and c))\n", 1),
        ("def f():\n    g(a and (b or c))\n", 2),
        ("def f():\n    g(a and g(b and c))\n", 2),  # a call starts a new expression
        # match +1 (+ nesting); its cases nest: if in a case +2
        (
            "def f():\n    match a:\n        case 1:\n            if b:\n                pass\n        case _:\n            pass\n",
            3,
        ),
        # match nested in a for: for +1, match +2
        ("def f():\n    for x in y:\n        match x:\n            case 1:\n                pass\n", 3),
        # comprehensions are shorthand: nothing; a ternary in one +1
        ("def f():\n    return [x if x else 0 for x in y if x]\n", 1),
        # async forms count like the sync ones: for +1, if +2
        (
            "async def f():\n    async with a:\n        async for x in y:\n            if x:\n                pass\n",
            3,
        ),
    ],
)
def test_cognitive_constructs(source, expected):
    assert metrics(source).cognitive == expected


def test_cognitive_nested_functions():
    source = """\
    def nesting_func():
        if a:                    # +1
            pass
        def nested_func():       # nesting +1, no increment
            if b:                # +2
                pass
    """
    assert metrics(source, "nesting_func").cognitive == 3
    assert metrics(source, "nested_func").cognitive == 1


def test_cognitive_decorator_wrapper_adds_no_nesting():
    # sonar-python: a def whose enclosing function holds nothing else but `return <name>` is a decorator's
    # wrapper and is not nested: if +1 -> 1
    wrapper = """\
    def decorator(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            if a:
                print("before")
            return function(*args, **kwargs)
        return wrapper
    """
    assert metrics(wrapper, "decorator").cognitive == 1
    # Anything else in the outer body (here a ternary in the return) makes it an ordinary nested def:
    # if +2 (nesting 1), ternary +1 -> 3
    not_wrapper = """\
    def decorator(function):
        def wrapper():
            if a:
                print("before")
        return wrapper if a else None
    """
    assert metrics(not_wrapper, "decorator").cognitive == 3


def test_cognitive_nested_class_resets_nesting():
    source = """\
    def function_with_nested_class(a):
        def f(b):
            return 1 if b else 2      # +2 (nesting 1 from the nested def)
        class A:
            def m(self, b):
                return 1 if b else 2  # +1: a class restarts nesting
        return 1 if a else 2          # +1
    """
    assert metrics(source, "function_with_nested_class").cognitive == 4


def test_cognitive_lambda_inside_loop():
    # for +1; the ternary sits in the for body (nesting 1) inside a lambda (nesting 2): +3 -> 4
    source = "def f():\n    for x in y:\n        g = lambda: 1 if x else 2\n"
    assert metrics(source).cognitive == 4


def test_cognitive_recursion():
    # if +1, else +1, direct recursion +1 -> 3
    source = """\
    def factorial(n):
        if n <= 1:
            return 1
        else:
            return n * factorial(n - 1)
    """
    assert metrics(source).cognitive == 3
    method = """\
    class Visitor:
        def visit(self, node):
            for child in node.children:  # +1
                self.visit(child)        # +1 recursion through self
            other.visit(node)            # not recursion
            visit_all(node)              # not recursion
    """
    assert metrics(method, "visit").cognitive == 2
    classmethod_ = "class C:\n    @classmethod\n    def build(cls, n):\n        return cls.build(n - 1)\n"
    assert metrics(classmethod_, "build").cognitive == 1


# --- params ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signature", "expected"),
    [
        ("f()", 0),
        ("f(a)", 1),
        ("f(self)", 0),
        ("f(cls, a)", 1),
        ("f(self: Self, a: int = 1)", 1),
        ("f(a, self)", 2),  # only a leading self/cls is left out
        ("f(a, b=1, *args, **kwargs)", 4),
        ("f(a, /, b, *, c, d=2)", 4),  # the bare `/` and `*` are not parameters
        ("f(self, *args: int, **kwargs: str)", 2),
        ("f(a, b,)", 2),
    ],
)
def test_params(signature, expected):
    assert metrics(f"def {signature}:\n    pass\n").params == expected


# --- depth / deepest ------------------------------------------------------------------------------------------


def test_depth_flat_body():
    m = metrics("def f():\n    a = 1\n    return a\n")
    assert (m.depth, m.deepest) == (0, None)


def test_depth_one_if():
    m = metrics("def f():\n    if a:\n        b()\n")
    assert (m.depth, m.deepest) == (1, (2, 8))


def test_depth_if_in_for_and_first_deepest_wins():
    source = """\
    def f():
        for x in y:
            if x:
                first()
        while z:
            with a:
                second()
    """
    m = metrics(source)
    assert m.depth == 2
    assert m.deepest == (3, 12)  # `first()`, the first statement two levels down


def test_depth_elif_else_share_the_if_level():
    source = "def f():\n    if a:\n        x()\n    elif b:\n        y()\n    else:\n        z()\n"
    assert metrics(source).depth == 1


def test_depth_try_with_match():
    source = """\
    def f():
        try:
            with a:
                match b:
                    case 1:
                        pass
        except E:
            pass
        finally:
            pass
    """
    m = metrics(source)
    assert m.depth == 3  # try/with/match-case, one level each
    assert m.deepest == (5, 20)


def test_depth_nested_def_and_class_are_transparent():
    source = """\
    def f():
        if a:
            def g():
                class C:
                    def m(self):
                        for x in y:
                            pass
    """
    m = metrics(source, "f")
    assert m.depth == 2  # if + for; the def/class/def in between add no level
    assert m.deepest == (6, 24)
    assert metrics(source, "g").depth == 1


def test_depth_same_line_block():
    m = metrics("def f():\n    if a: b()\n")
    assert (m.depth, m.deepest) == (1, (1, 10))


def test_depth_location_is_relative_to_the_function():
    source = (
        "class C:\n\n    def f(self):\n        # comment\n        if a:\n            # why\n            b()\n"
    )
    m = metrics(source)
    assert m.deepest == (4, 12)


# --- loc ------------------------------------------------------------------------------------------------------


def test_loc_one_liner():
    assert metrics("def f(): pass\n").loc == 1


def test_loc_excludes_decorators_and_trailing_comments():
    source = """\
    @decorator
    @other(
        1,
    )
    def f():
        a = 1
        return (
            a
        )
        # a trailing comment is not part of the definition

    # nor this one
    x = 1
    """
    assert metrics(source).loc == 5


def test_loc_multiline_signature_and_nested():
    source = """\
    def f(
        a,
        b,
    ):
        def g():
            if a:
                pass  # comment on the last line
        return g
    """
    assert metrics(source, "f").loc == 8
    assert metrics(source, "g").loc == 3


# --- broken code ----------------------------------------------------------------------------------------------


def test_syntax_errors_give_sensible_figures():
    # tree-sitter recovers with ERROR nodes inside both bodies; they are walked like any other node
    source = """\
    def f(a, b):
        if a
            return 1
        for x in :
            if x and b:
                pass
        y = [
        while (:

    def g(self, c):
        if c: return
        else: )
    """
    f = metrics(source, "f")
    assert f.cyclomatic >= 3  # at least the two ifs and the `and` survive recovery
    assert f.cognitive >= 2
    assert (f.loc, f.params) == (8, 2)
    assert f.depth >= 1
    g = metrics(source, "g")
    assert g.cyclomatic >= 2 and g.params == 1 and g.loc == 3


def test_syntax_error_elsewhere_leaves_a_function_alone():
    source = "def good(a):\n    if a or b:\n        return 1\n\nx = (\ndef bad(:\n    pass\n"
    m = metrics(source, "good")
    assert (m.cyclomatic, m.cognitive, m.loc, m.params, m.depth) == (3, 2, 3, 1, 1)


def test_function_without_body():
    for node in function_nodes("def f(a)"):
        assert compute_metrics(node).cyclomatic == 1


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.sampled_from(
            [
                "def f(a, *, b):\n",
                "async def g(self):\n",
                "    if a",
                " and b",
                " or c",
                ":\n",
                "    else:\n",
                "        ",
                "for x in y",
                "lambda: ",
                " if a else b",
                "match x:\n",
                "    case _:",
                "try:\n",
                "except* E:\n",
                "(",
                ")",
                "[x for x in y if z]",
                "\n",
                "    @dec\n    def inner():\n",
                "class C:\n",
                "assert a, b\n",
                "return f(",
                "'''",
                "elif",
                "while",
                "with a as b:",
                ",",
                "=",
                "*",
                "/",
                "#",
                "\\\n",
                "\t",
                "  ",
                "𝔘",
                "\x00",
            ]
        ),
        max_size=40,
    )
)
def test_never_raises_on_arbitrary_text(parts):
    source = "".join(parts)
    for node in function_nodes(source):
        m = compute_metrics(node)
        assert m.cyclomatic >= 1 and m.loc >= 1


# --- agreement with radon on real code ------------------------------------------------------------------------

STDLIB = Path(sysconfig.get_paths()["stdlib"])
SAMPLE = [
    "argparse.py",
    "ast.py",
    "json/decoder.py",
    "email/_header_value_parser.py",
    "typing.py",
    "asyncio/base_events.py",
    "difflib.py",
    "tarfile.py",
    "inspect.py",
    "dataclasses.py",
    "pydoc.py",
    "test/test_patma.py",  # match statements of every shape
    "test/test_except_star.py",  # except*
]


@pytest.mark.parametrize("relative", SAMPLE)
def test_stdlib_agrees_with_radon_and_ast(relative):
    path = STDLIB / relative
    if not path.is_file():
        pytest.skip(f"{relative} is not installed")
    source = path.read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = radon_functions(source.decode("utf-8"))
    got = ours(source)
    compared = {key: got.get(key) for key in expected}
    assert compared == expected
    assert len(expected) > 5
    # loc is the physical span, i.e. what Python's own ast says (radon's `endline` is only a heuristic)
    lengths = {
        (node.lineno, node.name): node.end_lineno - node.lineno + 1
        for node in ast.walk(ast.parse(source))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
    assert ours(source, "loc") == lengths


# --- agreement with radon on generated programs ---------------------------------------------------------------

NAMES = st.sampled_from(["a", "b", "c", "d"])


def _binary(op: str):
    return lambda x, y: f"({x} {op} {y})"


EXPRS = st.recursive(
    NAMES | st.just("f'{(a if b else c)}{(d or a)!r}'"),
    lambda inner: st.one_of(
        st.builds(lambda x, y, z: f"{x} and {y} or {z}", inner, inner, inner),
        st.builds(_binary("and"), inner, inner),
        st.builds(_binary("or"), inner, inner),
        st.builds(lambda x, y, z: f"({x} if {y} else {z})", inner, inner, inner),
        st.builds(lambda x, y: f"[v for v in {x} if {y}]", inner, inner),
        st.builds(lambda x, y: f"{{v: w for v in {x} for w in {y}}}", inner, inner),
        st.builds(lambda x, y: f"(lambda q={x}: {y})", inner, inner),
        st.builds(lambda x: f"g({x})", inner),
        st.builds(lambda x: f"(w := {x})", inner),
        st.builds(lambda x: f"(not {x})", inner),
    ),
    max_leaves=6,
)

REFUTABLE = st.sampled_from(["1", "1 | 2", "[y, *rest]", "{'k': v}", "P(x=0)", "(1, y)", "None", "m.c", "y,"])
IRREFUTABLE = st.sampled_from(["_", "y", "(y)", "(_)", "_ as z"])


def _indent(lines: list[str]) -> list[str]:
    return ["    " + line for line in lines]


def _block(statements: list[list[str]]) -> list[str]:
    return _indent([line for statement in statements for line in statement])


def _match(subject, cases, last, guard):
    lines = [f"match {subject}:"]
    for pattern, body in cases:
        lines += _indent([f"case {pattern}{guard}:"] + _block([body]))
    if last is not None:
        lines += _indent([f"case {last}:"] + _block([["pass"]]))
    return lines


SIMPLE = st.one_of(
    st.just(["pass"]),
    st.builds(lambda e: [f"x = {e}"], EXPRS),
    st.builds(lambda e: [f"assert {e}"], EXPRS),
    st.builds(lambda e: [f"return {e}"], EXPRS),
    st.builds(lambda e: [f"yield {e}"], EXPRS),
    st.just(["break"]),
)


def _compound(inner):
    block = st.lists(inner, min_size=1, max_size=3)
    return st.one_of(
        st.builds(
            lambda c, b, elifs, orelse: (
                [f"if {c}:"]
                + _block(b)
                + [line for cond, body in elifs for line in [f"elif {cond}:"] + _block(body)]
                + (["else:"] + _block(orelse) if orelse else [])
            ),
            EXPRS,
            block,
            st.lists(st.tuples(EXPRS, block), max_size=2),
            st.one_of(st.none(), block),
        ),
        st.builds(
            lambda kw, e, b, orelse: (
                [f"{kw} {e}:"] + _block(b) + (["else:"] + _block(orelse) if orelse else [])
            ),
            st.sampled_from(["for v in", "while"]),
            EXPRS,
            block,
            st.one_of(st.none(), block),
        ),
        st.builds(
            lambda b, handlers, star, orelse, final: (
                ["try:"]
                + _block(b)
                + [
                    line
                    for exc, body in handlers
                    for line in [f"except{'*' if star else ''} {exc}:"] + _block(body)
                ]
                + (["else:"] + _block(orelse) if orelse and handlers else [])
                + (["finally:"] + _block(final or [["pass"]]) if final or not handlers else [])
            ),
            block,
            st.lists(st.tuples(st.sampled_from(["E", "(E, F) as e", "G"]), block), max_size=3),
            st.booleans(),
            st.one_of(st.none(), block),
            st.one_of(st.none(), block),
        ),
        st.builds(lambda e, b: [f"with {e} as h, k:"] + _block(b), EXPRS, block),
        st.builds(
            _match,
            EXPRS,
            st.lists(st.tuples(REFUTABLE, inner), min_size=1, max_size=3),
            st.one_of(st.none(), IRREFUTABLE),
            st.sampled_from(["", " if a and b"]),
        ),
        st.builds(
            lambda dec, default, b: [f"@deco({dec})", f"def inner(p={default}):"] + _block(b),
            EXPRS,
            EXPRS,
            block,
        ),
        st.builds(
            lambda base, b: [f"class K({base}):", "    def m(self):"] + _indent(_block(b)), EXPRS, block
        ),
    )


STATEMENTS = st.recursive(SIMPLE, _compound, max_leaves=8)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(STATEMENTS, min_size=1, max_size=4), EXPRS)
def test_cyclomatic_equals_radon_on_generated_programs(body, default):
    source = "\n".join([f"def f(p={default}):"] + _block(body)) + "\n"
    expected = radon_functions(source)
    got = ours(source)
    assert {key: got.get(key) for key in expected} == expected, source
