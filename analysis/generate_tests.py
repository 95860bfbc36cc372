"""pytest test skeletons for one function, in the project's test layout.

Pure: paths and source text in, paths and source text out (the caller lists the project's files and reads
them). Three layouts, detected from the test files a project already has (`tests/test_<module>.py` when it has
none):

    flat    tests/test_<module>.py
    mirror  tests/<package path>/test_<module>.py   (with or without the top-level package folder)
    beside  <package path>/test_<module>.py, next to the module

Module names are the import graph's (`symbols.index.module_names`: `src/` layout and `import_roots`
respected), so the generated `from pkg.mod import name` is what the project itself would write.

Tests start one per branch-free path, modestly: a function whose body has `if` statements at its top level
gets one test per branch of them (`test_<name>_when_<condition>`), any other function one `test_<name>`. Each
calls the function with `...` placeholder arguments and ends on an assertion marked `# TODO`.
"""

from __future__ import annotations

import ast
import os
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .generate_docstring import FunctionFacts, FunctionNode, Parameter, facts_of, parse_function
from .imports.graph import python_import_roots
from .symbols.index import module_names

FLAT, MIRROR, BESIDE = "flat", "mirror", "beside"
_TEST_FILE = re.compile(r"^(test_.+|.+_test)\.py$")
_TEST_FOLDERS = ("tests", "test")


@dataclass(frozen=True)
class TestLayout:
    kind: str = FLAT
    folder: str = "tests"  # relative to the project root, "/"-separated (flat and mirror)
    strip_top: bool = (
        False  # mirror without the top-level package folder (tests/sub/test_mod.py for pkg.sub.mod)
    )

    __test__ = False  # not a pytest test class


def _rel(path: Path, root: Path) -> PurePosixPath | None:
    try:
        return PurePosixPath(Path(os.path.relpath(path, root)).as_posix())
    except ValueError:
        return None


def detect_layout(root: Path, files: Sequence[Path], import_roots: Sequence[str] | None = None) -> TestLayout:
    """The layout most of the project's test files (among `files`) follow."""
    roots = python_import_roots(root, import_roots)
    source_files = [
        p
        for p in files
        if not _TEST_FILE.match(p.name)
        and not any(part in _TEST_FOLDERS for part in (_rel(p, root) or PurePosixPath(p.name)).parts[:-1])
    ]
    packages: set[PurePosixPath] = set()  # package folders relative to their import root
    for path in source_files:
        for import_root in roots:
            rel = _rel(path.parent, import_root)
            if rel is not None and not str(rel).startswith(".."):
                packages.add(rel)
    module_stems = {(p.parent, p.stem) for p in source_files}
    votes: Counter[TestLayout] = Counter()
    for path in files:
        if not _TEST_FILE.match(path.name):
            continue
        rel = _rel(path, root)
        if rel is None or str(rel).startswith(".."):
            continue
        folder_index = next((i for i, part in enumerate(rel.parts[:-1]) if part in _TEST_FOLDERS), None)
        if folder_index is not None:
            folder = PurePosixPath(*rel.parts[: folder_index + 1])
            inner = (
                PurePosixPath(*rel.parts[folder_index + 1 : -1])
                if len(rel.parts) > folder_index + 2
                else None
            )
            if inner is None:
                votes[TestLayout(FLAT, str(folder))] += 1
            elif inner in packages:
                votes[TestLayout(MIRROR, str(folder))] += 1
            elif any(PurePosixPath(p.parts[0], *inner.parts) in packages for p in packages if p.parts):
                votes[TestLayout(MIRROR, str(folder), strip_top=True)] += 1
            else:  # tests/unit/test_x.py: grouped by kind, not by package
                votes[TestLayout(FLAT, str(folder / inner))] += 1
            continue
        stem = path.stem[5:] if path.stem.startswith("test_") else path.stem[:-5]
        if (path.parent, stem) in module_stems:
            votes[TestLayout(BESIDE)] += 1
    if not votes:
        return TestLayout()
    return max(votes, key=lambda layout: (votes[layout], layout.kind == FLAT))


def module_name_of(root: Path, path: Path, import_roots: Sequence[str] | None = None) -> str:
    """The dotted module name the project's import graph gives `path`."""
    return module_names(root, [path], import_roots)[path]


def where_tests_go(root: Path, path: Path, module: str, layout: TestLayout) -> Path:
    """Where the tests of the module at `path` (named `module`) go in `layout`."""
    parts = module.split(".")
    leaf = parts[-1]
    if layout.kind == BESIDE:
        return path.parent / f"test_{leaf}.py"
    folder = root / layout.folder
    if layout.kind == MIRROR:
        package = parts[:-1]
        if path.name == "__init__.py":  # a package's own tests sit in its folder
            package = parts
        if layout.strip_top:
            package = package[1:]
        folder = folder.joinpath(*package)
    return folder / f"test_{leaf}.py"


# ---------------------------------------------------------------------------------------- the tests


@dataclass(frozen=True)
class TestPlan:
    """What to add to a test file: the imports it needs and the test functions."""

    imports: list[str]  # whole lines: "from pkg.mod import func", "import asyncio"
    tests: list[str]  # each a whole function, without surrounding blank lines
    subject: str  # what is tested, for titles: "price" or "Cart.add"

    __test__ = False


def target_at(source: str, line: int) -> FunctionFacts | None:
    """The function (or method of a module-level class) whose header holds 0-based `line`, if a test can
    import it."""
    parsed = parse_function(source, line)
    return None if parsed is None or parsed[2].nested else parsed[2]


_OPERATORS = {
    ast.Eq: "is",
    ast.NotEq: "is_not",
    ast.Lt: "lt",
    ast.LtE: "le",
    ast.Gt: "gt",
    ast.GtE: "ge",
    ast.Is: "is",
    ast.IsNot: "is_not",
    ast.In: "in",
    ast.NotIn: "not_in",
}


def condition_name(expr: ast.expr, negate: bool = False) -> str:
    """A condition as a test-name fragment: `kind == "book"` -> `kind_is_book`, `not x` -> `not_x`."""
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Not):
        return condition_name(expr.operand, not negate)
    if negate:
        return "not_" + condition_name(expr)
    if isinstance(expr, ast.BoolOp):
        joiner = "_and_" if isinstance(expr.op, ast.And) else "_or_"
        return joiner.join(condition_name(v) for v in expr.values)
    if isinstance(expr, ast.Compare):
        words = [condition_name(expr.left)]
        for op, right in zip(expr.ops, expr.comparators):
            words += [_OPERATORS.get(type(op), "vs"), condition_name(right)]
        return "_".join(words)
    if (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Name)
        and expr.func.id == "isinstance"
        and len(expr.args) == 2
    ):
        return f"{condition_name(expr.args[0])}_is_{condition_name(expr.args[1])}"
    text = ast.unparse(expr)
    if isinstance(expr, ast.Constant) and expr.value is None:
        text = "none"
    return re.sub(r"\W+", "_", text).strip("_").lower() or "value"


def _slug(name: str, limit: int = 40) -> str:
    name = re.sub(r"_+", "_", name).strip("_")
    if len(name) <= limit:
        return name
    cut = name[:limit]
    return cut[: cut.rfind("_")] if "_" in cut else cut


def branches_of(node: FunctionNode) -> list[tuple[str, str]]:
    """(test-name suffix, condition text) for each branch of the top-level `if` statements of the function."""
    found: list[tuple[str, str]] = []
    for statement in node.body:
        if not isinstance(statement, ast.If):
            continue
        current: ast.stmt = statement
        conditions: list[ast.expr] = []
        while True:
            assert isinstance(current, ast.If)
            conditions.append(current.test)
            found.append((_slug("when_" + condition_name(current.test)), ast.unparse(current.test)))
            orelse = current.orelse
            if len(orelse) == 1 and isinstance(orelse[0], ast.If):
                current = orelse[0]
                continue
            if orelse:
                if len(conditions) == 1:
                    suffix = _slug("when_" + condition_name(conditions[0], negate=True))
                    found.append((suffix, f"not ({ast.unparse(conditions[0])})"))
                else:
                    found.append(("otherwise", "none of: " + "; ".join(ast.unparse(c) for c in conditions)))
            break
    return found


def _call_arguments(params: Sequence[Parameter]) -> str:
    """Placeholders for the parameters a call must pass: positional-only by position, the rest by name."""
    out = []
    for p in params:
        if not p.required:
            continue
        out.append("..." if p.kind == "positional_only" else f"{p.name}=...")
    return ", ".join(out)


def _init_parameters(tree: ast.Module, class_name: str) -> list[Parameter]:
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == "__init__":
                    return facts_of(tree, item).parameters
    return []


def plan_tests(source: str, line: int, module: str) -> TestPlan | None:
    """The tests to write for the function whose header holds 0-based `line` in `source` (module `module`)."""
    parsed = parse_function(source, line)
    if parsed is None:
        return None
    tree, node, facts = parsed
    if facts.nested:
        return None
    imports = []
    if facts.class_name is not None:
        imports.append(f"from {module} import {facts.class_name}")
        subject = f"{facts.class_name}.{facts.name}"
        if facts.kind == "method":
            owner = f"{facts.class_name}({_call_arguments(_init_parameters(tree, facts.class_name))})"
            call = f"{owner}.{facts.name}"
        else:
            call = subject
    else:
        imports.append(f"from {module} import {facts.name}")
        subject = call = facts.name
    call = f"{call}({_call_arguments(facts.parameters)})"
    if facts.is_async:
        imports.insert(0, "import asyncio")
        call = f"asyncio.run({call})"
    base = "test_" + (f"{_snake(facts.class_name)}_{facts.name}" if facts.class_name else facts.name).strip(
        "_"
    )
    base = re.sub(r"_+", "_", base)
    if facts.returns_value or facts.yields:
        result = "list(" + call + ")" if facts.yields and not facts.is_async else call
        call, check = f"result = {result}", "assert result == ...  # TODO: the expected result"
    else:
        call, check = f"result = {call}", "assert result is None  # TODO: check what it did"
    tests = []
    branches = branches_of(node)
    if branches:
        for suffix, condition in branches:
            tests.append(
                f"def {base}_{suffix}():\n    # TODO: arguments where {condition}\n    {call}\n    {check}"
            )
    else:
        tests.append(f"def {base}():\n    # TODO: real arguments\n    {call}\n    {check}")
    return TestPlan(imports, tests, subject)


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


# ---------------------------------------------------------------------------------------- the file


def _defined_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
    return names


def _has_import(tree: ast.Module, line: str) -> bool:
    """Whether the module imports what `line` (one `import x` or `from m import x`) does, unaliased."""
    wanted = ast.parse(line).body[0]
    assert isinstance(wanted, (ast.Import, ast.ImportFrom))
    name = wanted.names[0].name
    for node in tree.body:
        if type(node) is not type(wanted):
            continue
        if (
            isinstance(node, ast.ImportFrom)
            and isinstance(wanted, ast.ImportFrom)
            and (node.module != wanted.module or node.level)
        ):
            continue
        if any(a.name == name and a.asname is None for a in node.names):  # type: ignore[union-attr]
            return True
    return False


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    n = 2
    while f"{name}_{n}" in taken:
        n += 1
    return f"{name}_{n}"


def add_tests(existing: str | None, plan: TestPlan) -> str:
    """The test file's text with `plan` added: a new file when `existing` is None (or empty); otherwise its
    missing imports after its last top-level import and the tests at its end (a name it already has gets a
    numeric suffix). An existing file that does not parse gets the tests appended and nothing else."""
    if not existing or not existing.strip():
        return "\n".join(plan.imports) + "\n\n\n" + "\n\n\n".join(plan.tests) + "\n"
    newline = "\r\n" if "\r\n" in existing else "\n"
    try:
        tree: ast.Module | None = ast.parse(existing)
    except (SyntaxError, ValueError):
        tree = None
    taken = _defined_names(tree) if tree is not None else set()
    tests = []
    for test in plan.tests:
        name = test[4 : test.index("(")]
        unique = _unique(name, taken)
        taken.add(unique)
        tests.append(test.replace(f"def {name}(", f"def {unique}(", 1))
    text = existing
    if tree is not None:
        missing = [line for line in plan.imports if not _has_import(tree, line)]
        if missing:
            lines = text.splitlines(keepends=True)
            imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
            leading = 0  # after the module docstring, if any
            body = tree.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                leading = body[0].end_lineno or 0
            after = max([leading, *((n.end_lineno or n.lineno) for n in imports)])
            block = newline.join(missing) + newline
            if not imports and leading:
                block = newline + block
            if after == 0 and not imports:
                block += newline
            if after > 0 and lines[after - 1 : after] and not lines[after - 1].endswith(("\n", "\r")):
                block = newline + block
            text = "".join(lines[:after]) + block + "".join(lines[after:])
    text = text.rstrip() + newline * 3 + (newline * 3).join(t.replace("\n", newline) for t in tests) + newline
    return text
