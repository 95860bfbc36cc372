"""analysis.chunks: what semantic memory indexes, and the words it indexes it by."""

from __future__ import annotations

from sophia_artemis.analysis.chunks import (
    TEXT_LIMIT,
    chunk_file,
    clean_docstring,
    embedding_text,
    lexical_text,
    markdown_chunks,
    module_name,
    python_chunks,
    split_identifier,
    tokens,
)

SOURCE = '''"""Accounts."""

import os


def get_user_by_id(user_id: int) -> dict:
    """Fetch one user by primary key."""
    return {"id": user_id}


class HTTPAdapter(Base):
    """Sends requests over HTTP."""

    retries = 3

    def send(self, request):
        """Send it."""
        def attempt():
            return request
        return attempt()

    @property
    def name(self):
        return "http"

    @name.setter
    def name(self, value):
        self._name = value
'''


def by_key(chunks):
    return {c.key: c for c in chunks}


def test_python_chunks_kinds_qualnames_and_ranges():
    chunks = by_key(python_chunks("pkg/accounts.py", SOURCE))
    assert set(chunks) == {
        "pkg/accounts.py::<module>",
        "pkg/accounts.py::get_user_by_id",
        "pkg/accounts.py::HTTPAdapter",
        "pkg/accounts.py::HTTPAdapter.send",
        "pkg/accounts.py::HTTPAdapter.send.<locals>.attempt",
        "pkg/accounts.py::HTTPAdapter.name",
        "pkg/accounts.py::HTTPAdapter.name#2",  # the setter shares the getter's qualname
    }
    assert chunks["pkg/accounts.py::<module>"].kind == "module"
    assert chunks["pkg/accounts.py::<module>"].docstring == "Accounts."
    f = chunks["pkg/accounts.py::get_user_by_id"]
    assert (f.kind, f.qualname) == ("function", "get_user_by_id")
    assert f.range.to_json() == {"start": {"line": 5, "character": 0}, "end": {"line": 7, "character": 26}}
    assert f.signature == "def get_user_by_id(user_id: int) -> dict:"
    assert f.docstring == "Fetch one user by primary key."
    assert chunks["pkg/accounts.py::HTTPAdapter.send"].kind == "method"
    assert chunks["pkg/accounts.py::HTTPAdapter.send.<locals>.attempt"].kind == "function"
    setter = chunks["pkg/accounts.py::HTTPAdapter.name#2"]
    assert setter.qualname == "HTTPAdapter.name" and "@name.setter" in setter.text


def test_class_chunk_is_signature_docstring_and_method_names_not_the_body():
    cls = by_key(python_chunks("a.py", SOURCE))["a.py::HTTPAdapter"]
    assert cls.kind == "class"
    assert cls.text.startswith("class HTTPAdapter(Base):")
    assert "Sends requests over HTTP." in cls.text
    assert "# methods: send, name, name" in cls.text
    assert "retries = 3" not in cls.text and "return attempt()" not in cls.text
    assert cls.range.start.line == 10 and cls.range.end.line == 27


def test_ranges_are_utf16_like_lsp():
    src = 'x = "😀é"; y = 1\ndef f():\n    return "😀"\n'
    (f,) = python_chunks("u.py", src)
    assert f.range.to_json() == {"start": {"line": 1, "character": 0}, "end": {"line": 2, "character": 15}}
    src2 = 'def g():\n    return "😀😀"'
    (g,) = python_chunks("u.py", src2)
    assert g.range.end.character == len('    return "') + 4 + 1  # each emoji is 2 UTF-16 units


def test_text_is_capped_but_signature_and_docstring_stay_whole():
    long_doc = "word " * 600  # 3000 characters
    body = "\n".join(f"    x{i} = {i}" for i in range(400))
    src = f'def big(a, b):\n    """{long_doc}"""\n{body}\n'
    (c,) = python_chunks("big.py", src)
    assert c.docstring.startswith("word word")
    assert c.text.startswith("def big(a, b):")
    assert long_doc.strip() in c.text  # the whole docstring survived the cap
    assert len(c.text) < len(src)
    small = f'def small():\n    """Short."""\n{body}\n'
    (s,) = python_chunks("s.py", small)
    assert len(s.text) == TEXT_LIMIT


def test_hash_ignores_position_but_not_content():
    (a,) = [c for c in python_chunks("m.py", "def f():\n    return 1\n") if c.kind == "function"]
    (b,) = [c for c in python_chunks("m.py", "\n\n\ndef f():\n    return 1\n") if c.kind == "function"]
    (c,) = [c for c in python_chunks("m.py", "def f():\n    return 2\n") if c.kind == "function"]
    assert a.hash == b.hash and a.range != b.range
    assert a.hash != c.hash


def test_redactor_is_applied_before_hashing():
    src = 'def connect():\n    password = "hunter2"\n    return password\n'
    (c,) = python_chunks("db.py", src, redact=lambda s: s.replace("hunter2", "«redacted»"))
    assert "hunter2" not in c.text and "«redacted»" in c.text
    (d,) = python_chunks("db.py", src.replace("hunter2", "swordfish"), redact=lambda s: s.replace("swordfish", "«redacted»"))
    assert c.hash == d.hash  # a changed secret is not a changed chunk


def test_markdown_sections_by_heading_path():
    text = (
        "Intro line.\n\n# Title\n\nabout\n\n## Install\n\n```bash\n# not a heading\npip install x\n```\n\n"
        "### From source\n\nclone it\n\nUsage\n-----\n\nrun it\n"
    )
    chunks = markdown_chunks("docs/guide.md", text)
    assert [c.qualname for c in chunks] == [
        "<preamble>", "Title", "Title > Install", "Title > Install > From source", "Title > Usage",
    ]
    assert all(c.kind == "doc-section" for c in chunks)
    install = chunks[2]
    assert "pip install x" in install.text and install.range.start.line == 6
    usage = chunks[-1]
    assert usage.range.start.line == 17 and usage.text.endswith("run it")


def test_chunk_file_dispatches_on_suffix():
    assert chunk_file("a.txt", "hello") == []
    assert chunk_file("README.md", "# A\nb\n")[0].kind == "doc-section"
    assert chunk_file("x.pyi", "def f(): ...\n")[0].qualname == "f"


def test_identifier_words_and_tokens():
    assert split_identifier("get_user_by_id") == ["get", "user", "by", "id"]
    assert split_identifier("HTTPAdapter") == ["HTTP", "Adapter"]
    assert split_identifier("getUserByID") == ["get", "User", "By", "ID"]
    toks = tokens("def get_user_by_id(self, HTTPAdapter): return the cookies")
    assert "user" in toks and "http" in toks and "adapter" in toks and "get" in toks
    assert "def" not in toks and "self" not in toks and "the" not in toks and "return" not in toks
    assert tokens("cookies") == tokens("cookie")
    assert tokens("redirected") == tokens("redirects") == tokens("redirect")
    assert tokens("expiration") == tokens("expire")


def test_module_names_and_embedding_text():
    assert module_name("src/requests/sessions.py") == "requests.sessions"
    assert module_name("pkg/__init__.py") == "pkg"
    (f,) = [c for c in python_chunks("shop/users.py", SOURCE) if c.qualname == "get_user_by_id"]
    text = embedding_text(f)
    assert text.startswith("get user by id (function in shop.users)")
    assert "def get_user_by_id(user_id: int) -> dict:" in text
    assert "Fetch one user by primary key." in text
    assert "get user by id" in lexical_text(f)


def test_clean_docstring_keeps_prose_only():
    doc = (
        "Raise an :exc:`~werkzeug.exceptions.HTTPException` for ``code``.\n\n"
        ":param code: the status\n.. versionadded:: 2.2\n"
    )
    assert clean_docstring(doc) == "Raise an HTTPException for code."
