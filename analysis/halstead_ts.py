"""radon's Halstead counts and total cyclomatic complexity of a module, read off its tree-sitter tree.

The same figures as halstead.py (radon 6.0.1's `HalsteadVisitor` and `ComplexityVisitor.from_ast(tree)
.total_complexity`, see there for radon's rules), without `ast.parse`: the file is already parsed with
tree-sitter, and one query (run in C) finds the few node kinds radon counts; Python only reads those.

How tree-sitter's nodes map onto radon's `ast` nodes
  * binary_operator -> BinOp, unary_operator -> UnaryOp (`-1` is one: `ast` does not fold it either),
    not_operator -> UnaryOp(Not), augmented_assignment -> AugAssign, comparison_operator -> one Compare
    (a chain is one node in both; `not in` and `is not` are one operator token in both).
  * boolean_operator -> BoolOp: `ast` flattens `a and b and c` into one BoolOp of three values where
    tree-sitter nests two nodes; an unparenthesised left operand with the same operator is merged into its
    parent (one operator, one more operand). Each node still adds 1 to the cyclomatic count (values - 1).
  * operands lose their parentheses (as in `ast`); an identifier is a Name (its id NFKC-normalised, as
    Python does), an attribute an Attribute (its last name), integer/float/string/concatenated_string/
    true/false/none/ellipsis a Constant with the literal's value (so 1, 1.0 and True are one operand);
    an f-string is a JoinedStr, and anything else an object of its own: a fresh object each.
  * scopes: a function's decorators, parameters and return annotation are read by neither visitor; its
    body is a new Halstead context (its name). A class's decorators and bases are read by Halstead only.
    An assert adds 1 and hides its expressions from the cyclomatic count. Cyclomatic counting modes are
    halstead.py's: module code, top-level classes, top-level functions and methods of top-level classes.
  * if/elif/conditional_expression +1; for/while +1 (+1 with else); try: except clauses (+1 with else),
    nothing for `except*`; comprehension for/if clauses +1 each (a case's guard is an if_clause too: not counted); match: cases minus one bare capture/`_`.

What is not mapped raises `Unmapped` (the caller then takes the `ast` path): an ERROR or MISSING node, and
what tree-sitter accepts but Python 3 rejects or reads differently (Python 2 print/exec/`<>`/`10L`, leading
zeros, PEP 695 type parameters and `type` statements, f-strings whose expressions hold backslashes, comments,
a lambda or their own quote, unknown `!` conversions, truncated \\x/\\u/\\N escapes, non-ASCII or mixed
bytes literals, mixed `except`/`except*`), and match patterns holding a negative or complex number (`ast`
has operators there, tree-sitter plain patterns).
"""

from __future__ import annotations

import ast
import math
import re
import unicodedata
import warnings
from functools import cache

import tree_sitter

from . import shared_query

_EXTRAS = frozenset({"comment", "line_continuation"})  # named nodes that may sit anywhere


class Unmapped(Exception):
    """The tree holds something this module cannot map exactly onto radon's `ast` reading."""


_BINARY_OPS = {
    "+": "Add", "-": "Sub", "*": "Mult", "@": "MatMult", "/": "Div", "%": "Mod", "//": "FloorDiv",
    "**": "Pow", "<<": "LShift", ">>": "RShift", "&": "BitAnd", "|": "BitOr", "^": "BitXor",
}  # fmt: skip
_AUG_OPS = {op + "=": name for op, name in _BINARY_OPS.items()}
_UNARY_OPS = {"-": "USub", "+": "UAdd", "~": "Invert"}
_BOOL_OPS = {"and": "And", "or": "Or"}
_COMPARE_OPS = {
    "<": "Lt", "<=": "LtE", ">": "Gt", ">=": "GtE", "==": "Eq", "!=": "NotEq",
    "in": "In", "not in": "NotIn", "is": "Is", "is not": "IsNot",
}  # fmt: skip

_QUERY = """
(function_definition) @fn
(class_definition) @cls
(assert_statement) @assert
(binary_operator) @bin
(unary_operator) @un
(not_operator) @not
(boolean_operator) @bool
(augmented_assignment) @aug
(comparison_operator) @cmp
(union_type) @union
[(if_statement) (elif_clause) (conditional_expression) (for_in_clause)] @cc
(list_comprehension (if_clause) @cc)
(set_comprehension (if_clause) @cc)
(dictionary_comprehension (if_clause) @cc)
(generator_expression (if_clause) @cc)
[(for_statement) (while_statement)] @loop
(try_statement) @try
(match_statement) @match
[(print_statement) (exec_statement) (type_alias_statement) (complex_pattern) "<>"] @bad
(function_definition type_parameters: (_) @bad)
(class_definition type_parameters: (_) @bad)
((integer) @bad (#match? @bad "^0[0-9_]*[1-9]|[lL]$"))
((type_conversion) @bad (#not-match? @bad "^![rsa]$"))
(interpolation) @interp
(string_content "\\\\" @backslash)
((escape_sequence) @named (#match? @named "^.N"))
((string (string_start) @bytes) (#match? @bytes "[bB]"))
"""

# region kinds, and the order of captures that start at the same byte (regions first)
_FN, _CLS, _ASSERT = 0, 1, 2
# cyclomatic counting mode of the code at a position (halstead.py's)
_OFF, _MODULE, _CLASS_BODY, _FUNCTION_BODY = 0, 1, 2, 3


@cache
def _query() -> tuple[tree_sitter.Query, dict[str, int]]:
    from .document import language

    names = ["fn", "cls", "assert", "bin", "un", "not", "bool", "aug", "cmp", "cc", "loop", "try", "match", "union"]
    return tree_sitter.Query(language("python"), _QUERY), {name: i for i, name in enumerate(names)}


def counts(tree: tree_sitter.Tree) -> tuple[int, int, int, int, int]:
    """(h1, h2, N1, N2, total cyclomatic complexity) as radon counts them on `ast.parse` of the same text.
    Raises Unmapped when the tree cannot be read exactly so (see the module's docstring)."""
    root = tree.root_node
    if root.has_error:
        raise Unmapped("syntax error (ERROR or MISSING node)")
    query, order = _query()
    captures = shared_query.captures(tree, "halstead")
    if captures is None:
        captures = tree_sitter.QueryCursor(query).captures(root)
    _validate(captures)

    events: list[tuple[int, int, int, tree_sitter.Node]] = []
    for name, nodes in captures.items():
        kind = order.get(name)
        if kind is None:
            continue
        if kind <= _CLS:
            for node in nodes:
                parent = node.parent
                start = parent.start_byte if parent is not None and parent.type == "decorated_definition" else node.start_byte
                events.append((start, kind, node))
        else:
            events.extend((node.start_byte, kind, node) for node in nodes)
    events.sort(key=lambda e: (e[0], e[1]))

    operators_seen: set[str] = set()
    operands_seen: set[tuple[object, object]] = set()
    add = operands_seen.add
    n_operators = n_operands = 0
    cc = 1

    # frames of enclosing regions: (end byte, body start byte, header state, body state);
    # a state is (Halstead context, cyclomatic mode, Halstead on)
    module_state = (None, _MODULE, True)
    stack: list[tuple[int, int, tuple, tuple]] = []
    for start, kind, node in events:
        while stack and start >= stack[-1][0]:
            stack.pop()
        if stack:
            frame = stack[-1]
            context, mode, halstead = frame[2] if start < frame[1] else frame[3]
        else:
            context, mode, halstead = module_state
        if kind == _FN:
            if mode == _CLASS_BODY:
                cc += 1
            body = node.child_by_field_name("body")
            inner = _FUNCTION_BODY if mode == _MODULE or mode == _CLASS_BODY else _OFF
            stack.append(
                (node.end_byte, body.start_byte, (context, _OFF, False), (_name(node), inner, halstead))
            )
        elif kind == _CLS:
            body = node.child_by_field_name("body")
            inner = _CLASS_BODY if mode == _MODULE else _OFF
            stack.append((node.end_byte, body.start_byte, (context, _OFF, halstead), (context, inner, halstead)))
        elif kind == _ASSERT:
            if mode != _OFF:
                cc += 1
            end = node.end_byte
            stack.append((end, end, (context, _OFF, halstead), (context, _OFF, halstead)))
        elif kind == 3 or kind == 7:  # bin, aug: an operator between two operands
            if halstead:
                ops = _BINARY_OPS if kind == 3 else _AUG_OPS
                operators_seen.add(ops[node.child_by_field_name("operator").type])
                n_operators += 1
                n_operands += 2
                add((context, _key(node.child_by_field_name("left"))))
                add((context, _key(node.child_by_field_name("right"))))
        elif kind == 4 or kind == 5:  # un, not: an operator and its operand
            if halstead:
                operators_seen.add(_UNARY_OPS[node.child_by_field_name("operator").type] if kind == 4 else "Not")
                n_operators += 1
                n_operands += 1
                add((context, _key(node.child_by_field_name("argument"))))
        elif kind == 6:  # bool
            if mode != _OFF:
                cc += 1
            if halstead:
                op = node.child_by_field_name("operator").type
                parent = node.parent
                if (
                    parent.type == "boolean_operator"
                    and parent.start_byte == node.start_byte
                    and parent.child_by_field_name("operator").type == op
                ):
                    continue  # the left operand of the same operator: one BoolOp with its parent
                operators_seen.add(_BOOL_OPS[op])
                n_operators += 1
                values = [node.child_by_field_name("right")]
                left = node.child_by_field_name("left")
                while left.type == "boolean_operator" and left.child_by_field_name("operator").type == op:
                    values.append(left.child_by_field_name("right"))
                    left = left.child_by_field_name("left")
                values.append(left)
                n_operands += len(values)
                for value in values:
                    add((context, _key(value)))
        elif kind == 8:  # cmp
            if halstead:
                for child in node.children:
                    if child.is_named:
                        if child.type not in _EXTRAS:
                            n_operands += 1
                            add((context, _key(child)))
                    else:
                        operators_seen.add(_COMPARE_OPS[child.type])
                        n_operators += 1
        elif kind == 13:  # union_type: `A[x] | B` in an annotation, a BinOp(BitOr) to `ast`
            if halstead:
                sides = [c for c in node.named_children if c.type not in _EXTRAS]
                operators_seen.add("BitOr")
                n_operators += 1
                n_operands += 2
                for side in sides:
                    add((context, _key(side)))
        elif mode != _OFF:
            if kind == 9:  # if, elif, conditional expression, comprehension clauses
                cc += 1
            elif kind == 10:  # loop
                cc += 2 if node.child_by_field_name("alternative") is not None else 1
            elif kind == 11:  # try
                cc += _try_complexity(node)
            else:  # match
                cc += _match_complexity(node)
        elif kind == 11:
            _try_complexity(node)  # still refuses a mix of except and except*
        elif kind == 12:
            _match_complexity(node)  # still refuses patterns it cannot map
    return len(operators_seen), len(operands_seen), n_operators, n_operands, cc


def volume_and_complexity(tree: tree_sitter.Tree) -> tuple[float, int]:
    """(radon's `h_visit_ast(tree).total.volume`, its total cyclomatic complexity), as halstead.py's
    `halstead_volume_and_complexity(ast.parse(text))`. Raises Unmapped."""
    h1, h2, n1, n2, complexity = counts(tree)
    n = n1 + n2
    h = h1 + h2
    volume = n * math.log(h, 2) if h != 0 else 0  # noqa: FURB163 - radon's very expression
    return volume, complexity


def _name(node: tree_sitter.Node) -> str:
    return _identifier(node.child_by_field_name("name").text)


def _identifier(text: bytes) -> str:
    if text.isascii():
        return text.decode()
    return unicodedata.normalize("NFKC", text.decode())


_SIMPLE_STRING = re.compile(rb"[uU]?(?:'[^'\\\r\n]*'|\"[^\"\\\r\n]*\")")
_PREFIX = re.compile(rb"[A-Za-z]*")


def _key(node: tree_sitter.Node) -> object:
    """What radon keys the operand on: a Name's id, an Attribute's attr, a Constant's value, else the node
    itself (a fresh object: every other operand is distinct)."""
    t = node.type
    while t == "parenthesized_expression" or t == "type":
        inner = [c for c in node.named_children if c.type not in _EXTRAS]
        if len(inner) != 1:
            return object()
        node = inner[0]
        t = node.type
    if t == "identifier":
        return _identifier(node.text)
    if t == "attribute":
        return _identifier(node.child_by_field_name("attribute").text)
    if t == "member_type":  # `A[x].b` in an annotation: an Attribute
        return _identifier(node.named_children[-1].text)
    if t == "integer" or t == "float":
        return _number(node.text)
    if t == "string":
        text = node.text
        if _SIMPLE_STRING.fullmatch(text):
            return text[text.index(text[-1:]) + 1 : -1].decode()
        prefix = _PREFIX.match(text).group()
        if b"f" in prefix or b"F" in prefix:
            return object()  # JoinedStr
        return _literal(text)
    if t == "concatenated_string":
        for part in node.named_children:
            if part.type == "string":
                prefix = _PREFIX.match(part.text).group()
                if b"f" in prefix or b"F" in prefix:
                    return object()
        return _literal(b"(" + node.text + b")")
    if t == "true":
        return True
    if t == "false":
        return False
    if t == "none":
        return None
    if t == "ellipsis":
        return ...
    return object()


def _number(text: bytes) -> object:
    try:
        if text[-1:] in b"jJ":
            return complex(text.decode())
        if b"." in text or ((b"e" in text or b"E" in text) and not text[:2].lower() == b"0x"):
            return float(text)
        return int(text, 0)
    except ValueError:
        raise Unmapped(f"number literal {text!r}") from None


@cache
def _literal(text: bytes) -> object:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = ast.literal_eval(text.decode())
    except (SyntaxError, ValueError, UnicodeDecodeError, MemoryError, RecursionError):
        raise Unmapped("string literal") from None
    if not isinstance(value, (str, bytes)):
        raise Unmapped("string literal")
    return value


def _validate(captures: dict[str, list[tree_sitter.Node]]) -> None:
    bad = captures.get("bad")
    if bad:
        raise Unmapped(f"{bad[0].type} (not Python 3.{_minor()} `ast`, or not mapped)")
    for node in captures.get("interp", ()):
        # Python < 3.12: no backslash, comment or own quote inside the braces; refuse a lambda too
        text = node.text
        string = node.parent
        quote = string.child(0).text[-1:] if string is not None and string.type == "string" else b""
        if b"\\" in text or b"#" in text or (quote and quote in text) or b"lambda" in text:
            raise Unmapped("f-string expression")
    backslashes = captures.get("backslash")
    if backslashes:
        source = None
        for node in backslashes:
            # an invalid escape: harmless (a warning) unless it is a truncated \x, \u, \U or \N
            content = node.parent
            if source is None:
                source = _root_text(node)
            if source[node.end_byte : node.end_byte + 1] in (b"x", b"u", b"U", b"N"):
                string = content.parent
                prefix = _PREFIX.match(string.text).group() if string is not None else b""
                if b"r" not in prefix and b"R" not in prefix:
                    raise Unmapped("invalid escape sequence")
    for node in captures.get("named", ()):
        name = node.text[3:-1].decode("utf-8", "replace")
        try:
            unicodedata.lookup(name)
        except KeyError:
            raise Unmapped("unknown \\N{} name") from None
    for start in captures.get("bytes", ()):
        string = start.parent
        if not string.text.isascii():
            raise Unmapped("non-ASCII bytes literal")
        parent = string.parent
        if parent is not None and parent.type == "concatenated_string":
            for part in parent.named_children:
                if part.type == "string" and b"b" not in _PREFIX.match(part.text).group().lower():
                    raise Unmapped("bytes and str concatenated")


def _root_text(node: tree_sitter.Node) -> bytes:
    while node.parent is not None:
        node = node.parent
    return node.text


def _minor() -> int:
    import sys

    return sys.version_info[1]


def _try_complexity(node: tree_sitter.Node) -> int:
    handlers = star = 0
    orelse = 0
    for child in node.named_children:
        t = child.type
        if t == "except_clause" or t == "except_group_clause":
            handlers += 1
            if t == "except_group_clause" or any(c.type == "*" for c in child.children[:2]):
                star += 1
        elif t == "else_clause":
            orelse = 1
    if star:
        if star != handlers:
            raise Unmapped("except and except* in one try")
        return 0  # TryStar: radon counts nothing
    return handlers + orelse


def _match_complexity(node: tree_sitter.Node) -> int:
    body = node.child_by_field_name("body")
    cases = 0
    catch_all = False
    for clause in body.named_children if body is not None else ():
        if clause.type != "case_clause":
            continue
        cases += 1
        patterns = [c for c in clause.named_children if c.type == "case_pattern"]
        for pattern in patterns:
            _check_pattern(pattern)
        if len(patterns) == 1 and not any(c.type == "," for c in clause.children) and _bare(patterns[0]):
            catch_all = True
    return max(0, cases - catch_all)


def _check_pattern(node: tree_sitter.Node) -> None:
    """`ast` reads a negative or complex number in a pattern as UnaryOp/BinOp, which radon counts."""
    for child in node.children:
        if child.type in ("-", "+", "complex_pattern"):
            raise Unmapped("negative or complex number in a match pattern")
        if child.child_count:
            _check_pattern(child)


def _bare(pattern: tree_sitter.Node) -> bool:
    """A case pattern `ast` reads as MatchAs without a sub-pattern: `_`, a bare name, either in parens."""
    children = [c for c in pattern.children if c.type not in _EXTRAS]
    if len(children) != 1:
        return False
    only = children[0]
    if only.type == "_":
        return True
    if only.type == "dotted_name":
        return only.named_child_count == 1
    if only.type == "tuple_pattern":
        inner = [c for c in only.children if c.type not in _EXTRAS]
        return len(inner) == 3 and inner[1].type == "case_pattern" and _bare(inner[1])
    return False
