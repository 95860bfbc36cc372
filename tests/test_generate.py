"""Generation, called directly on strings and paths: docstring style and skeletons, test layout and tests."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest
from sophia_artemis.analysis.generate_docstring import (
    GOOGLE,
    NUMPY,
    REST,
    add_docstring,
    detect_style,
    docstrings_of,
)
from sophia_artemis.analysis.generate_tests import (
    BESIDE,
    FLAT,
    MIRROR,
    TestLayout,
    add_tests,
    detect_layout,
    module_name_of,
    plan_tests,
    where_tests_go,
)


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def line_of(source: str, needle: str) -> int:
    return next(i for i, line in enumerate(source.splitlines()) if needle in line)


# ---------------------------------------------------------------------------------------- style detection

GOOGLE_DOC = "Add.\n\nArgs:\n    a: first.\n\nReturns:\n    The sum.\n"
NUMPY_DOC = "Add.\n\nParameters\n----------\na : int\n    first.\n\nReturns\n-------\nint\n"
REST_DOC = "Add.\n\n:param a: first.\n:returns: the sum.\n"


@pytest.mark.parametrize(
    ("docstrings", "style"),
    [
        ([GOOGLE_DOC, GOOGLE_DOC, NUMPY_DOC], GOOGLE),
        ([NUMPY_DOC, NUMPY_DOC, REST_DOC], NUMPY),
        ([REST_DOC, "Plain summary only."], REST),
        (["Plain.", "Nothing that tells."], None),
        ([], None),
    ],
)
def test_detect_style_by_majority(docstrings, style):
    assert detect_style(docstrings) == style


def test_docstrings_of_reads_module_class_and_function_docstrings():
    source = f'"""Module."""\nclass A:\n    """{NUMPY_DOC}"""\n    def f(self):\n        """F."""\n'
    found = docstrings_of(source)
    assert found[0] == "Module." and "F." in found and detect_style(found) == NUMPY
    assert docstrings_of("def broken(:\n") == []


# ---------------------------------------------------------------------------------------- docstrings

FUNCTION = dedent("""
    def price(kind: str, amount, *args, member: bool = False, **options) -> int:
        # pricing rules below
        if not kind:
            raise ValueError("no kind")
        if amount < 0:
            raise errors.Negative
        try:
            pass
        except KeyError as err:
            raise err
        return amount
""")


def test_google_skeleton():
    new = add_docstring(FUNCTION, 0, GOOGLE)
    assert new is not None
    assert new.startswith(
        dedent('''
        def price(kind: str, amount, *args, member: bool = False, **options) -> int:
            """_summary_

            Args:
                kind (str): _description_
                amount: _description_
                *args: _description_
                member (bool): _description_
                **options: _description_

            Returns:
                int: _description_

            Raises:
                ValueError: _description_
                errors.Negative: _description_
            """
            # pricing rules below
        ''')
    )
    assert new.endswith(FUNCTION.split("\n", 1)[1])  # the rest untouched
    ast.parse(new)


def test_numpy_skeleton():
    new = add_docstring(FUNCTION, 0, NUMPY)
    assert new is not None
    doc = ast.get_docstring(ast.parse(new).body[0])
    assert doc == dedent("""
        _summary_

        Parameters
        ----------
        kind : str
            _description_
        amount
            _description_
        *args
            _description_
        member : bool
            _description_
        **options
            _description_

        Returns
        -------
        int
            _description_

        Raises
        ------
        ValueError
            _description_
        errors.Negative
            _description_
        """).rstrip("\n")


def test_rest_skeleton():
    new = add_docstring(FUNCTION, 0, REST)
    assert new is not None
    doc = ast.get_docstring(ast.parse(new).body[0])
    assert doc is not None
    assert doc.splitlines() == [
        "_summary_",
        "",
        ":param kind: _description_",
        ":type kind: str",
        ":param amount: _description_",
        ":param args: _description_",
        ":param member: _description_",
        ":type member: bool",
        ":param options: _description_",
        ":return: _description_",
        ":rtype: int",
        ":raises ValueError: _description_",
        ":raises errors.Negative: _description_",
    ]


def test_method_skips_self_and_follows_the_file_quotes_and_indentation():
    source = dedent("""
        class Cart:
          '''A cart.'''

          def add(self, item, *, quantity):
            self.items.append(item)

          @classmethod
          def empty(cls):
            return cls()

          @staticmethod
          def tax(rate):
            return rate * 2
    """)
    new = add_docstring(source, line_of(source, "def add"), GOOGLE)
    assert new is not None
    assert "  def add(self, item, *, quantity):\n    '''_summary_\n\n    Args:\n" in new
    assert "        item: _description_\n        quantity: _description_\n    '''\n    self.items" in new
    assert "Returns" not in new  # returns nothing
    empty = add_docstring(source, line_of(source, "def empty"), GOOGLE)
    assert empty is not None and "    '''_summary_\n\n    Returns:\n        _description_\n    '''\n" in empty
    tax = add_docstring(source, line_of(source, "def tax"), GOOGLE)
    assert (
        tax is not None and "        rate: _description_\n" in tax
    )  # a static method keeps its first parameter


def test_async_one_liner_and_decorated_and_existing_docstring():
    source = "import functools\n\n@functools.cache\nasync def fetch(url): return await get(url)  # cached\n"
    for line in (2, 3):  # the decorator line and the def line both count as the header
        new = add_docstring(source, line, GOOGLE)
        assert new == (
            "import functools\n\n@functools.cache\nasync def fetch(url):\n"
            '    """_summary_\n\n    Args:\n        url: _description_\n\n    Returns:\n        _description_\n    """\n'
            "    return await get(url)  # cached\n"
        )
    assert add_docstring(source, 0, GOOGLE) is None  # not on a function
    assert add_docstring('def f():\n    """Has one."""\n', 0, GOOGLE) is None
    assert add_docstring("def f(:\n", 0, GOOGLE) is None


def test_nothing_to_document_gives_a_one_line_docstring_and_crlf_is_kept():
    new = add_docstring("def run():\r\n    print('hi')\r\n", 0, NUMPY)
    assert new == 'def run():\r\n    """_summary_"""\r\n    print(\'hi\')\r\n'


def test_multiline_signature_and_generator():
    source = "def walk(\n    root,\n    depth=1,\n):  # all of it\n    yield root\n"
    new = add_docstring(source, 1, NUMPY)
    assert new is not None
    assert new.startswith('def walk(\n    root,\n    depth=1,\n):  # all of it\n    """_summary_\n')
    assert "    Yields\n    ------\n    _type_\n" in new and "Returns" not in new


# ---------------------------------------------------------------------------------------- test layout


def make(root: Path, *relative: str) -> list[Path]:
    paths = []
    for rel in relative:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("", encoding="utf-8")
        paths.append(path)
    return paths


def test_layout_defaults_to_flat_tests_folder(tmp_path):
    files = make(tmp_path, "pkg/__init__.py", "pkg/mod.py")
    assert detect_layout(tmp_path, files) == TestLayout(FLAT, "tests")


def test_src_layout_mirrored_tests(tmp_path):
    files = make(
        tmp_path,
        "src/shop/__init__.py",
        "src/shop/billing/__init__.py",
        "src/shop/billing/invoice.py",
        "src/shop/billing/tax.py",
        "tests/conftest.py",
        "tests/shop/billing/test_invoice.py",
    )
    layout = detect_layout(tmp_path, files)
    assert layout == TestLayout(MIRROR, "tests")
    tax = tmp_path / "src/shop/billing/tax.py"
    module = module_name_of(tmp_path, tax)
    assert module == "shop.billing.tax"
    assert where_tests_go(tmp_path, tax, module, layout) == tmp_path / "tests/shop/billing/test_tax.py"


def test_mirror_without_the_top_package_and_flat_src(tmp_path):
    files = make(
        tmp_path,
        "src/shop/__init__.py",
        "src/shop/billing/__init__.py",
        "src/shop/billing/tax.py",
        "tests/billing/test_invoice.py",
    )
    layout = detect_layout(tmp_path, files)
    assert layout == TestLayout(MIRROR, "tests", strip_top=True)
    tax = tmp_path / "src/shop/billing/tax.py"
    assert where_tests_go(tmp_path, tax, "shop.billing.tax", layout) == tmp_path / "tests/billing/test_tax.py"
    flat = detect_layout(tmp_path, [*files, *make(tmp_path, "tests/test_a.py", "tests/test_b.py")])
    assert flat == TestLayout(FLAT, "tests")
    assert where_tests_go(tmp_path, tax, "shop.billing.tax", flat) == tmp_path / "tests/test_tax.py"


def test_beside_layout_and_grouped_tests_folder(tmp_path):
    files = make(tmp_path, "app/__init__.py", "app/core.py", "app/test_core.py", "app/util.py")
    layout = detect_layout(tmp_path, files)
    assert layout == TestLayout(BESIDE)
    util = tmp_path / "app/util.py"
    assert where_tests_go(tmp_path, util, "app.util", layout) == tmp_path / "app/test_util.py"
    grouped = make(tmp_path / "g", "lib/x.py", "test/unit/test_x.py", "test/unit/test_y.py")
    assert detect_layout(tmp_path / "g", grouped) == TestLayout(FLAT, "test/unit")


# ---------------------------------------------------------------------------------------- tests


def test_plan_for_a_plain_function():
    source = "def total(items, /, rate, *, rounding, extra=0, **kw):\n    return sum(items) * rate\n"
    plan = plan_tests(source, 0, "shop.billing.tax")
    assert plan is not None
    assert plan.imports == ["from shop.billing.tax import total"]
    assert plan.tests == [
        (
            "def test_total():\n"
            "    # TODO: real arguments\n"
            "    result = total(..., rate=..., rounding=...)\n"
            "    assert result == ...  # TODO: the expected result"
        )
    ]


def test_plan_one_test_per_top_level_branch():
    source = dedent("""
        def ship(order, express):
            if not order.items:
                raise ValueError("empty")
            if express and order.weight > 10:
                cost = 30
            elif express:
                cost = 20
            else:
                cost = 5
            for item in order.items:
                if item.fragile:
                    cost += 1
            return cost
    """)
    plan = plan_tests(source, 0, "shop.shipping")
    assert plan is not None
    names = [t.split("(")[0].removeprefix("def ") for t in plan.tests]
    assert names == [
        "test_ship_when_not_order_items",
        "test_ship_when_express_and_order_weight_gt_10",
        "test_ship_when_express",
        "test_ship_otherwise",
    ]
    assert "# TODO: arguments where not order.items\n" in plan.tests[0]
    single = plan_tests(
        "def sign(x):\n    if x < 0:\n        return -1\n    else:\n        return 1\n", 0, "m"
    )
    assert single is not None
    assert [t.split("(")[0] for t in single.tests] == [
        "def test_sign_when_x_lt_0",
        "def test_sign_when_not_x_lt_0",
    ]


def test_plan_for_methods_and_async():
    source = dedent("""
        class ShoppingCart:
            def __init__(self, owner, currency="EUR"):
                self.owner = owner

            def add(self, item):
                self.items.append(item)

            @staticmethod
            def parse(text):
                return text.split()

            async def checkout(self, *, card):
                return await pay(card)

        def outer():
            def inner():
                return 1
            return inner
    """)
    add = plan_tests(source, line_of(source, "def add"), "shop.cart")
    assert add is not None and add.subject == "ShoppingCart.add"
    assert add.imports == ["from shop.cart import ShoppingCart"]
    assert "    result = ShoppingCart(owner=...).add(item=...)\n" in add.tests[0]
    assert add.tests[0].startswith("def test_shopping_cart_add():")
    assert "assert result is None  # TODO: check what it did" in add.tests[0]
    parse = plan_tests(source, line_of(source, "def parse"), "shop.cart")
    assert parse is not None and "result = ShoppingCart.parse(text=...)\n" in parse.tests[0]
    checkout = plan_tests(source, line_of(source, "def checkout"), "shop.cart")
    assert checkout is not None
    assert checkout.imports == ["import asyncio", "from shop.cart import ShoppingCart"]
    assert "result = asyncio.run(ShoppingCart(owner=...).checkout(card=...))\n" in checkout.tests[0]
    assert plan_tests(source, line_of(source, "def inner"), "shop.cart") is None  # not importable


def test_add_tests_to_a_new_and_an_existing_file():
    plan = plan_tests("def total(x):\n    return x\n", 0, "shop.tax")
    assert plan is not None
    new = add_tests(None, plan)
    assert new == (
        "from shop.tax import total\n\n\n"
        "def test_total():\n    # TODO: real arguments\n    result = total(x=...)\n"
        "    assert result == ...  # TODO: the expected result\n"
    )
    existing = (
        '"""Tax tests."""\n\nimport pytest\n\nfrom shop.tax import rate\n\n\ndef test_total():\n    pass\n'
    )
    updated = add_tests(existing, plan)
    ast.parse(updated)
    assert updated.startswith(
        '"""Tax tests."""\n\nimport pytest\n\nfrom shop.tax import rate\nfrom shop.tax import total\n\n\n'
    )
    assert "\n\n\ndef test_total_2():\n" in updated  # the existing test keeps its name
    assert add_tests(updated, plan).count("from shop.tax import total") == 1  # imported once
