"""Per-function figures for JavaScript and TypeScript (JSX and TSX too), from one tree-sitter function subtree.

`compute_metrics(func, component_name)` reads nothing but `func`'s own subtree (and the name it is declared
under, which decides SonarJS' React-component exception), so its result can be cached under a hash of the
two. ERROR/MISSING nodes are walked like any other node. docs/rules.md has the long form of each figure:

* cyclomatic - ESLint 9's `complexity` rule (classic variant, the default), node for node: 1 + `if` +
  ternary + `&&`/`||`/`??` + `&&=`/`||=`/`??=` + `for`/`for in`/`for of`/`while`/`do` + `case x:` (not
  `default:`) + `catch` + default values (parameters and destructuring, ESTree's AssignmentPattern) +
  optional chaining (`?.` member, subscript or call). Nested functions, class field initializers and class
  static blocks are their own code paths in ESLint, so nothing inside them counts.
* cognitive - SonarJS' S3776 (eslint-plugin-sonarjs `cognitive-complexity`). Structural increments (+1 plus
  nesting): `if` (not `else if`), ternary, `switch`, loops, `catch`. +1: `else if`, `else`, each run of like
  logical operators, `break`/`continue` to a label. Nesting rises inside the branches of those and inside
  nested functions. A nested function's figures count toward the enclosing function (one level deeper)
  only when the enclosing function has structural complexity of its own and is not a React component -
  exactly SonarJS' rule, applied to every function as if it were top-level.
* loc - lines from the function's first line (decorators excluded) to its last.
* params - declared parameters (a TypeScript `this` parameter is not one; a destructured one is one).
* depth / deepest - how deeply statement blocks nest, the same way as for Python.
"""

from __future__ import annotations

import tree_sitter

from .model import Metrics

# Bump when any figure's definition changes: cached Metrics are keyed by it.
ANALYZER_VERSION = "1"

FUNCTION_TYPES = frozenset(
    {
        "function_declaration",
        "generator_function_declaration",
        "function_expression",
        "generator_function",
        "arrow_function",
        "method_definition",
    }
)
_LOOPS = frozenset({"for_statement", "for_in_statement", "while_statement", "do_statement"})
_LOGICAL = frozenset({"&&", "||", "??"})
_LOGICAL_ASSIGN = frozenset({"&&=", "||=", "??="})
_OWN_CODE_PATHS = frozenset({"field_definition", "public_field_definition", "class_static_block"})
_DEFAULTED = frozenset({"assignment_pattern", "object_assignment_pattern"})
_TS_PARAMS = frozenset({"required_parameter", "optional_parameter"})
_JSX = frozenset({"jsx_element", "jsx_self_closing_element"})

# stack item: (node, nest, depth, level, cc_on, else_if)
_Item = tuple[tree_sitter.Node, int, int, int, bool, bool]


def compute_metrics(func: tree_sitter.Node, component_name: bytes = b"") -> Metrics:
    """Cyclomatic and cognitive complexity, length, parameter count and block depth of one function.

    `component_name` is the name SonarJS looks at to recognise a React function component (the function's
    own name, or the variable an arrow/function expression initialises); b"" when there is none."""
    roots = [c for c in (func.child_by_field_name(f) for f in ("parameters", "parameter", "body")) if c is not None]
    walk = _Walk()
    walk.run(roots)
    is_component = bool(component_name) and component_name[:1].upper() == component_name[:1] and walk.returns_jsx
    cognitive = walk.own
    if walk.own_structural and not is_component:
        cognitive += walk.nested
    start_row = definition_start(func).start_point.row
    deepest = None
    if walk.deepest is not None:
        point = _first_statement(walk.deepest).start_point
        deepest = (point.row - start_row, point.column)
    return Metrics(
        cyclomatic=walk.cc,
        cognitive=cognitive,
        loc=max(1, func.end_point.row - start_row + 1),
        params=_params(func),
        depth=walk.max_depth,
        deepest=deepest,
    )


def definition_start(func: tree_sitter.Node) -> tree_sitter.Node:
    """The first token of the definition proper: the JavaScript grammar makes a method's decorators its
    children (TypeScript's makes them siblings), and decorators are not part of the definition."""
    for child in func.children:
        if child.type != "decorator" and child.type != "comment":
            return child
    return func


class _Walk:
    """One iterative pre-order pass (no recursion: generated code nests expressions thousands deep)."""

    __slots__ = ("_seen", "cc", "deepest", "max_depth", "nested", "own", "own_structural", "returns_jsx")

    def __init__(self) -> None:
        self.cc = 1
        self.own = 0  # cognitive points of the function's own code
        self.own_structural = False
        self.nested = 0  # cognitive points inside nested functions, nesting counted from this function
        self.max_depth = 0
        self.deepest: tree_sitter.Node | None = None
        self.returns_jsx = False
        self._seen: set[tuple[int, int]] = set()  # logical expressions already counted in a chain

    def _add(self, level: int, points: int, structural: bool) -> None:
        if level:
            self.nested += points
        else:
            self.own += points
            if structural:
                self.own_structural = True

    def run(self, roots: list[tree_sitter.Node]) -> None:
        stack: list[_Item] = [(r, 0, 0, 0, True, False) for r in reversed(roots)]
        pop = stack.pop
        while stack:
            node, nest, depth, level, cc_on, else_if = pop()
            if depth > self.max_depth:
                self.max_depth = depth
                self.deepest = node
            t = node.type
            children: list[_Item] | None = None
            if t == "if_statement":
                self.cc += cc_on
                if else_if:
                    self._add(level, 1, False)
                else:
                    self._add(level, 1 + nest, True)
                children = self._if_children(node, nest, depth, level, cc_on)
            elif t == "else_clause":
                children = []
                for c in node.children:
                    if c.type == "if_statement":
                        children.append((c, nest, depth, level, cc_on, True))
                    elif c.is_named and c.type != "comment":
                        self._add(level, 1, False)
                        children.append((c, nest + 1, depth + 1, level, cc_on, False))
                    else:
                        children.append((c, nest, depth, level, cc_on, False))
            elif t in _LOOPS:
                self.cc += cc_on
                self._add(level, 1 + nest, True)
                children = self._split(node, "body", nest, depth, level, cc_on)
            elif t == "switch_statement":
                self._add(level, 1 + nest, True)
                children = self._split(node, "body", nest, depth, level, cc_on)
            elif t == "switch_case":
                if cc_on and node.child_by_field_name("value") is not None:
                    self.cc += 1
            elif t == "catch_clause":
                self.cc += cc_on
                self._add(level, 1 + nest, True)
                children = self._split(node, "body", nest, depth, level, cc_on)
            elif t == "try_statement" or t == "finally_clause" or t == "with_statement":
                children = self._split(node, "body", nest, depth, level, cc_on, nest_more=False)
            elif t == "ternary_expression":
                self.cc += cc_on
                self._add(level, 1 + nest, True)
                test = node.child_by_field_name("condition")
                children = [
                    (c, nest if test is not None and c.start_byte == test.start_byte and c.type == test.type else nest + 1, depth, level, cc_on, False)
                    for c in node.children
                ]
            elif t == "binary_expression":
                op = node.child_by_field_name("operator")
                if op is not None and op.type in _LOGICAL:
                    self.cc += cc_on
                    key = (node.start_byte, node.end_byte)
                    if key not in self._seen:
                        self._add(level, _logical_runs(node, self._seen), False)
            elif t == "augmented_assignment_expression":
                op = node.child_by_field_name("operator")
                if cc_on and op is not None and op.type in _LOGICAL_ASSIGN:
                    self.cc += 1
            elif t in _DEFAULTED:
                self.cc += cc_on
            elif t in _TS_PARAMS:
                if cc_on and node.child_by_field_name("value") is not None:
                    self.cc += 1
            elif t == "?." or (t == "optional_chain" and node.child_count == 0):
                self.cc += cc_on
            elif t == "break_statement" or t == "continue_statement":
                if node.child_by_field_name("label") is not None:
                    self._add(level, 1, False)
            elif t == "return_statement":
                if level == 0 and not self.returns_jsx:
                    value = _first_named(node)
                    while value is not None and value.type == "parenthesized_expression":
                        value = _first_named(value)
                    self.returns_jsx = value is not None and value.type in _JSX
            elif t in FUNCTION_TYPES:
                children = [(c, nest + 1, depth, level + 1, False, False) for c in node.children]
            elif t in _OWN_CODE_PATHS:
                children = [(c, nest, depth, level, False, False) for c in node.children]
            if children is None:
                for c in reversed(node.children):
                    stack.append((c, nest, depth, level, cc_on, False))
            else:
                stack.extend(reversed(children))

    @staticmethod
    def _split(
        node: tree_sitter.Node, field: str, nest: int, depth: int, level: int, cc_on: bool, nest_more: bool = True
    ) -> list[_Item]:
        """Children of `node`; its `field` child is one block deeper (and one nesting level deeper)."""
        body = node.child_by_field_name(field)
        out: list[_Item] = []
        for c in node.children:
            if body is not None and c.start_byte == body.start_byte and c.type == body.type:
                out.append((c, nest + 1 if nest_more else nest, depth + 1, level, cc_on, False))
            else:
                out.append((c, nest, depth, level, cc_on, False))
        return out

    @staticmethod
    def _if_children(node: tree_sitter.Node, nest: int, depth: int, level: int, cc_on: bool) -> list[_Item]:
        consequence = node.child_by_field_name("consequence")
        out: list[_Item] = []
        for c in node.children:
            if consequence is not None and c.start_byte == consequence.start_byte and c.type == consequence.type:
                out.append((c, nest + 1, depth + 1, level, cc_on, False))
            else:
                out.append((c, nest, depth, level, cc_on, False))
        return out


def _first_named(node: tree_sitter.Node) -> tree_sitter.Node | None:
    """The first named child, or None (tree-sitter 0.26's `named_child` raises IndexError instead)."""
    return node.named_child(0) if node.named_child_count else None


def _logical_operand(node: tree_sitter.Node | None) -> tree_sitter.Node | None:
    """The logical expression an operand is (through parentheses, which ESTree does not keep), or None."""
    while node is not None and node.type == "parenthesized_expression":
        node = _first_named(node)
    if node is None or node.type != "binary_expression":
        return None
    op = node.child_by_field_name("operator")
    return node if op is not None and op.type in _LOGICAL else None


def _logical_runs(root: tree_sitter.Node, seen: set[tuple[int, int]]) -> int:
    """SonarJS: flatten the chain of logical expressions rooted at `root` and count runs of like operators."""
    ops: list[tuple[int, str]] = []
    stack = [root]
    while stack:
        node = stack.pop()
        seen.add((node.start_byte, node.end_byte))
        op = node.child_by_field_name("operator")
        if op is not None:
            ops.append((op.start_byte, op.type))
        for side in ("left", "right"):
            operand = _logical_operand(node.child_by_field_name(side))
            if operand is not None:
                stack.append(operand)
    ops.sort()
    runs = 0
    previous = None
    for _, op_type in ops:
        if op_type != previous:
            runs += 1
            previous = op_type
    return runs


def _params(func: tree_sitter.Node) -> int:
    single = func.child_by_field_name("parameter")  # `x => ...`
    if single is not None:
        return 1
    parameters = func.child_by_field_name("parameters")
    if parameters is None:
        return 0
    count = 0
    for child in parameters.named_children:
        t = child.type
        if t == "comment":
            continue
        if t == "required_parameter":
            pattern = child.child_by_field_name("pattern")
            if pattern is not None and pattern.type == "this":
                continue  # TypeScript's `this: T` declares the receiver's type, it is not an argument
        count += 1
    return count


def _first_statement(block: tree_sitter.Node) -> tree_sitter.Node:
    if block.type == "statement_block":
        for child in block.named_children:
            if child.type != "comment":
                return child
    elif block.type == "switch_body":
        for case in block.named_children:
            for child in case.children_by_field_name("body"):
                if child.type != "comment":
                    return child
    return block
