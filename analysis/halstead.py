"""radon's Halstead volume and total cyclomatic complexity of a module, in one pass over its `ast`.

radon computes the two figures the maintainability index needs with two recursive `ast.NodeVisitor`s
(`HalsteadVisitor`, `ComplexityVisitor`), which dispatch every node through `getattr` and spawn a visitor
per statement of every function body: about 1 s of the 3.5 s radon spent on django's 883 files. Here one
iterative walk reads each node once and counts both, with radon 6.0.1's rules, node for node:

Halstead (`HalsteadVisitor`)
  * operators: the `op` of BinOp, UnaryOp, BoolOp, AugAssign, and each of a Compare's `ops`; distinct
    by class name, over the whole module.
  * operands: BinOp left/right, UnaryOp operand, BoolOp values, AugAssign target/value, Compare left and
    comparators. Distinct by (name of the innermost enclosing function, key), the key being a Name's
    `id`, an Attribute's `attr`, a Constant's `value` (so 1, 1.0 and True are one operand, as in radon),
    and for any other node the node itself (each occurrence distinct).
  * a function contributes only its body: its decorators, defaults, annotations are not read. A class
    is read whole.

Cyclomatic (`ComplexityVisitor.from_ast(tree).total_complexity`)
  * 1 + If/IfExp + loops (+1 with an `else`) + Try handlers (+1 with an `else`; TryStar counts nothing) +
    BoolOp values - 1 + comprehension (1 + its ifs) + Assert (whose expressions are not read) + Match cases
    (minus one if a case is a bare `MatchAs`).
  * counted in module-level code, in top-level classes' bodies, and in the bodies of top-level functions
    and of those classes' methods (each method adds 1 more). Nothing is counted inside a function nested
    in a function, a class nested in a class or function, decorators, defaults, annotations or bases.
"""

from __future__ import annotations

import ast
import math
from operator import attrgetter

# what a node does in the walk
_BINOP, _UNARY, _BOOL, _AUG, _COMPARE = 1, 2, 3, 4, 5
_IF, _LOOP, _TRY, _COMPREHENSION, _MATCH = 6, 7, 8, 9, 10
_ASSERT, _DEF, _CLASS, _LEAF = 11, 12, 13, 14

_KIND: dict[type, int] = {
    ast.BinOp: _BINOP,
    ast.UnaryOp: _UNARY,
    ast.BoolOp: _BOOL,
    ast.AugAssign: _AUG,
    ast.Compare: _COMPARE,
    ast.If: _IF,
    ast.IfExp: _IF,
    ast.For: _LOOP,
    ast.AsyncFor: _LOOP,
    ast.While: _LOOP,
    ast.Try: _TRY,
    ast.comprehension: _COMPREHENSION,
    ast.Match: _MATCH,
    ast.Assert: _ASSERT,
    ast.FunctionDef: _DEF,
    ast.AsyncFunctionDef: _DEF,
    ast.ClassDef: _CLASS,
    # nothing below these to count: not walked into
    ast.Name: _LEAF,
    ast.Constant: _LEAF,
    ast.Import: _LEAF,
    ast.ImportFrom: _LEAF,
    ast.Global: _LEAF,
    ast.Nonlocal: _LEAF,
    ast.Pass: _LEAF,
    ast.Break: _LEAF,
    ast.Continue: _LEAF,
    ast.alias: _LEAF,
}

# Fields that never hold a node worth walking (identifiers, flags, expression contexts, operators - an
# operator is read by its owner). Only an optimisation: a non-node value reached anyway is skipped.
_NOT_NODES = frozenset(
    {
        "ctx", "op", "ops", "id", "attr", "arg", "name", "names", "module", "level", "asname",
        "kind", "type_comment", "type_ignores", "is_async", "conversion", "simple", "tag", "kwd_attrs",
        "rest",
    }
)  # fmt: skip

# cyclomatic counting mode of the code being walked
_OFF, _MODULE, _CLASS_BODY, _FUNCTION_BODY = 0, 1, 2, 3

_getters: dict[type, attrgetter | None] = {}


def _getter(t: type) -> attrgetter | None:
    """Reads the walkable fields of a node class at once (one C call per node)."""
    fields = ()
    if isinstance(t, type) and issubclass(t, ast.AST):
        fields = tuple(f for f in t._fields if f not in _NOT_NODES)
    getter = None
    if len(fields) == 1:
        single = attrgetter(fields[0])
        getter = lambda node: (single(node),)  # one shape (a tuple) for every class
    elif fields:
        getter = attrgetter(*fields)
    _getters[t] = getter
    return getter


class _Counts:
    __slots__ = ("complexity", "operands", "operands_seen", "operators", "operators_seen")

    def __init__(self) -> None:
        self.operators = 0
        self.operands = 0
        self.operators_seen: set[type] = set()
        self.operands_seen: set[tuple[object, object]] = set()
        self.complexity = 1


def halstead_volume_and_complexity(tree: ast.AST) -> tuple[float, int]:
    """(radon's `h_visit_ast(tree).total.volume`, `ComplexityVisitor.from_ast(tree).total_complexity`)."""
    counts = _Counts()
    if isinstance(tree, ast.Module):
        _walk(tree.body, None, _MODULE, counts)
    else:
        _walk([tree], None, _MODULE, counts)
    h1 = len(counts.operators_seen)
    h2 = len(counts.operands_seen)
    n = counts.operators + counts.operands
    h = h1 + h2
    # radon's very expression: log2 can differ from log(h, 2) in the last bit
    volume = n * math.log(h, 2) if h != 0 else 0  # noqa: FURB163
    return volume, counts.complexity


def _walk(roots: list, context: str | None, mode: int, counts: _Counts) -> None:
    """Walk `roots` and everything below them that shares `context` (function name) and `mode`."""
    kinds = _KIND
    getters = _getters
    Name, Attribute, Constant = ast.Name, ast.Attribute, ast.Constant
    ops_seen = counts.operators_seen
    seen = counts.operands_seen
    add = seen.add
    operators = operands = 0
    cc = 0
    counting = mode != _OFF

    stack = list(roots)
    pop = stack.pop
    push = stack.append
    extend = stack.extend
    while stack:
        node = pop()
        t = type(node)
        k = kinds.get(t)
        if k is not None:
            if k == _LEAF:
                continue
            if k <= _COMPARE:
                if k == _BINOP:
                    operands_of = (node.left, node.right)
                    ops_seen.add(type(node.op))
                    operators += 1
                elif k == _COMPARE:
                    operands_of = (node.left, *node.comparators)
                    for op in node.ops:
                        ops_seen.add(type(op))
                    operators += len(node.ops)
                elif k == _BOOL:
                    operands_of = node.values
                    ops_seen.add(type(node.op))
                    operators += 1
                    if counting:
                        cc += len(operands_of) - 1
                elif k == _UNARY:
                    operands_of = (node.operand,)
                    ops_seen.add(type(node.op))
                    operators += 1
                else:  # _AUG
                    operands_of = (node.target, node.value)
                    ops_seen.add(type(node.op))
                    operators += 1
                operands += len(operands_of)
                for operand in operands_of:
                    ot = type(operand)
                    if ot is Name:
                        add((context, operand.id))
                    elif ot is Attribute:
                        add((context, operand.attr))
                    elif ot is Constant:
                        add((context, operand.value))
                    else:
                        add((context, operand))
            elif k == _DEF:
                # radon reads only the body, as a new context; its cyclomatic counts a function's body when
                # the function is top-level or a method of a top-level class (+1 for a method)
                if mode == _CLASS_BODY:
                    cc += 1
                inner = _FUNCTION_BODY if mode == _MODULE or mode == _CLASS_BODY else _OFF
                _walk(node.body, node.name, inner, counts)
                continue
            elif k == _CLASS:
                # radon's Halstead reads the rest of a class (its cyclomatic does not); type_params: 3.12+
                header = [
                    *node.decorator_list,
                    *node.bases,
                    *node.keywords,
                    *getattr(node, "type_params", ()),
                ]
                if header:
                    _walk(header, context, _OFF, counts)
                _walk(node.body, context, _CLASS_BODY if mode == _MODULE else _OFF, counts)
                continue
            elif counting:
                if k == _IF:
                    cc += 1
                elif k == _LOOP:
                    cc += 2 if node.orelse else 1
                elif k == _TRY:
                    cc += len(node.handlers) + (1 if node.orelse else 0)
                elif k == _COMPREHENSION:
                    cc += len(node.ifs) + 1
                elif k == _MATCH:
                    cases = node.cases
                    catch_all = any(getattr(case.pattern, "pattern", False) is None for case in cases)
                    cc += max(0, len(cases) - catch_all)
                elif k == _ASSERT:
                    cc += 1
                    _walk([node.test] if node.msg is None else [node.test, node.msg], context, _OFF, counts)
                    continue
        getter = getters[t] if t in getters else _getter(t)
        if getter is None:
            continue
        for value in getter(node):
            if value.__class__ is list:
                extend(value)
            elif value is not None:
                push(value)

    counts.operators += operators
    counts.operands += operands
    counts.complexity += cc
