"""File discovery (.gitignore, excludes, tool folders, symlinks), safe reading, and analysing one file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sophia_artemis.analysis.config import Settings
from sophia_artemis.analysis.files import analyze_path, discover, read_source


def make(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def found(
    paths, settings: Settings | None = None, root: Path | None = None, base: Path | None = None
) -> list[str]:
    skipped: list[tuple[str, str]] = []
    result = discover(
        [Path(p) for p in paths], settings or Settings(), root, on_skip=lambda p, r: skipped.append((p, r))
    )
    base = base or root
    out = [Path(p).relative_to(base).as_posix() if base else Path(p).as_posix() for p in result]
    found.skipped = [(Path(p).relative_to(base).as_posix() if base else str(p), r) for p, r in skipped]
    return out


# --------------------------------------------------------------------------------------------- discovery


def test_walk_is_sorted_and_takes_only_python_files(tmp_path):
    make(
        tmp_path,
        {"b.py": "", "a.pyi": "", "c.txt": "", "z/y.py": "", "m/n.py": "", "Makefile": "", "setup.cfg": ""},
    )
    assert found([tmp_path], root=tmp_path) == ["a.pyi", "b.py", "m/n.py", "z/y.py"]


def test_nested_gitignores_deeper_wins_and_negation_reincludes(tmp_path):
    make(
        tmp_path,
        {
            ".gitignore": "*.gen.py\nout/\n/top_only.py\n",
            "keep.py": "",
            "x.gen.py": "",
            "top_only.py": "",
            "out/a.py": "",
            "pkg/top_only.py": "",  # `/top_only.py` is anchored to the root
            "pkg/.gitignore": "local.py\n!special.gen.py\n",
            "pkg/local.py": "",
            "pkg/special.gen.py": "",
            "pkg/other.gen.py": "",
            "pkg/deep/out/b.py": "",  # `out/` matches at any depth
            "pkg/deep/local.py": "",  # a nested .gitignore applies below its folder too
            "other/local.py": "",  # ...but not beside it
        },
    )
    assert found([tmp_path], root=tmp_path) == [
        "keep.py",
        "other/local.py",
        "pkg/special.gen.py",
        "pkg/top_only.py",
    ]


def test_git_info_exclude_and_the_work_tree_gitignore_above_the_walked_folder(tmp_path):
    make(
        tmp_path,
        {
            ".git/info/exclude": "private.py\n",
            ".git/HEAD": "ref: refs/heads/main\n",
            ".gitignore": "sub/skip_me.py\n",
            "sub/private.py": "",
            "sub/skip_me.py": "",
            "sub/ok.py": "",
        },
    )
    # walking only sub/: the ignore files of the work tree above it still apply
    assert found([tmp_path / "sub"], base=tmp_path) == ["sub/ok.py"]
    assert found([tmp_path], root=tmp_path) == ["sub/ok.py"]


def test_config_exclude_is_gitignore_style_relative_to_the_root(tmp_path):
    make(
        tmp_path,
        {
            "pyproject.toml": "",
            "legacy/a.py": "",
            "src/legacy/b.py": "",  # `/legacy/` is anchored: this one stays
            "src/gen_models.py": "",
            "src/app.py": "",
            "tests/data/c.py": "",
        },
    )
    settings = Settings(exclude=("/legacy/", "gen_*.py", "tests/data"))
    assert found([tmp_path], settings, root=tmp_path) == ["src/app.py", "src/legacy/b.py"]
    assert found.skipped == [
        ("legacy", "excluded by the configuration's exclude pattern '/legacy/'"),
        ("src/gen_models.py", "excluded by the configuration's exclude pattern 'gen_*.py'"),
        ("tests/data", "excluded by the configuration's exclude pattern 'tests/data'"),
    ]
    # relative to the root even when walking a subfolder
    assert found([tmp_path / "src"], settings, root=tmp_path) == ["src/app.py", "src/legacy/b.py"]


def test_tool_and_virtualenv_folders_are_always_skipped_but_build_only_when_ignored(tmp_path):
    files = {
        name + "/x.py": ""
        for name in (
            ".git",
            ".hg",
            ".svn",
            ".sophia",
            "__pycache__",
            "node_modules",
            ".venv",
            "venv",
            ".tox",
            ".mypy_cache",
        )
    }
    files.update(
        {
            "myenv/pyvenv.cfg": "home = /usr\n",
            "myenv/lib/site.py": "",
            "build/b.py": "",
            "dist/d.py": "",
            "a.py": "",
        }
    )
    make(tmp_path, files)
    assert found([tmp_path], root=tmp_path) == ["a.py", "build/b.py", "dist/d.py"]
    (tmp_path / ".gitignore").write_text("build/\ndist/\n")
    assert found([tmp_path], root=tmp_path) == ["a.py"]


def test_named_files_are_always_taken_and_named_ignored_folders_walked(tmp_path):
    make(
        tmp_path,
        {
            ".gitignore": "gen/\nignored.py\n",
            "gen/a.py": "",
            "gen/sub/b.py": "",
            "ignored.py": "",
            "notes.md": "",
        },
    )
    paths = [tmp_path / "ignored.py", tmp_path / "notes.md", tmp_path / "gen", tmp_path / "nope.py"]
    assert found(paths, root=tmp_path) == ["ignored.py", "gen/a.py", "gen/sub/b.py"]
    assert found.skipped == [
        ("notes.md", "not a Python, JavaScript or TypeScript file"),
        ("nope.py", "no such file or directory"),
    ]


def test_a_walk_takes_a_folder_walked_just_now_as_it_was_found(tmp_path):
    """`known`: the project walk of `check src/` reuses the walk of src/, with the same result."""
    make(
        tmp_path,
        {
            ".gitignore": "*.gen.py\n",
            "top.py": "",
            "src/pkg/a.py": "",
            "src/pkg/b.gen.py": "",
            "src/pkg/.gitignore": "local.py\n",
            "src/pkg/local.py": "",
            "src/vendor/v.py": "",
            "tests/test_a.py": "",
        },
    )
    settings = Settings()
    whole = list(discover([tmp_path], settings, tmp_path))
    src = tmp_path / "src"
    named = list(discover([src], settings, tmp_path))
    reused = list(discover([tmp_path], settings, tmp_path, known={str(src): named}))
    assert reused == whole
    assert [p.relative_to(tmp_path).as_posix() for p in reused] == ["src/pkg/a.py", "tests/test_a.py", "top.py"]
    # a folder the walk does not enter (ignored, vendored...) is not taken from `known` either
    vendor = tmp_path / "src" / "vendor"
    assert list(discover([tmp_path], settings, tmp_path, known={str(vendor): [vendor / "v.py"]})) == whole


def test_each_file_once_even_when_named_twice(tmp_path):
    make(tmp_path, {"pkg/a.py": "", "pkg/b.py": ""})
    assert found([tmp_path / "pkg" / "b.py", tmp_path, tmp_path / "pkg"], root=tmp_path) == [
        "pkg/b.py",
        "pkg/a.py",
    ]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlinked_folders_are_not_followed_symlinked_files_are(tmp_path):
    outside = make(tmp_path / "outside", {"secret.py": "", "loop/x.py": ""})
    root = make(tmp_path / "root", {"a.py": "", "pkg/b.py": ""})
    (root / "out_link").symlink_to(outside, target_is_directory=True)
    (root / "pkg" / "cycle").symlink_to(root, target_is_directory=True)
    (root / "dirlike.py").symlink_to(root / "pkg", target_is_directory=True)
    (root / "file_link.py").symlink_to(outside / "secret.py")
    assert found([root], root=root) == ["a.py", "file_link.py", "pkg/b.py"]
    assert found.skipped == [("dirlike.py", "symbolic link to a directory; not followed")]


# --------------------------------------------------------------------------------------------- reading


def test_read_source_reasons(tmp_path):
    make(
        tmp_path,
        {
            "ok.py": "x = 'é'\n",
            "bom.py": b"\xef\xbb\xbfx = 1\n",
            "nul.py": b"x = 1\x00\n",
            "bad.py": b"ok = 1\nx = '\xff\xfe'\n",
            "big.py": "x = 1\n" * 20,
            "latin.py": b"# coding: latin-1\nname = 'Jos\xe9'\n",
            "lying.py": b"# coding: ascii\nname = 'Jos\xc3\xa9'\n",  # declared wrong; UTF-8 in fact
            "dir.py/inner.py": "",
        },
    )
    assert read_source(tmp_path / "ok.py", 1000) == ("x = 'é'\n".encode(), None)
    assert read_source(tmp_path / "bom.py", 1000) == (b"x = 1\n", None)
    assert read_source(tmp_path / "nul.py", 1000) == (None, "binary (contains NUL bytes)")
    assert read_source(tmp_path / "bad.py", 1000) == (None, "not valid UTF-8 (byte 0xff at offset 12)")
    assert read_source(tmp_path / "big.py", 100) == (None, "too large (120 bytes; max_file_size is 100)")
    assert read_source(tmp_path / "big.py", 120)[1] is None
    assert read_source(tmp_path / "latin.py", 1000) == ("# coding: latin-1\nname = 'José'\n".encode(), None)
    assert read_source(tmp_path / "lying.py", 1000) == ("# coding: ascii\nname = 'José'\n".encode(), None)
    assert read_source(tmp_path / "dir.py", 1000) == (None, "is a directory")
    assert read_source(tmp_path / "missing.py", 1000) == (None, "no such file")


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_read_source_broken_symlink(tmp_path):
    (tmp_path / "dangling.py").symlink_to(tmp_path / "gone.py")
    assert read_source(tmp_path / "dangling.py", 1000) == (None, "broken symbolic link")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_read_source_never_opens_a_fifo(tmp_path):
    os.mkfifo(tmp_path / "pipe.py")
    assert read_source(tmp_path / "pipe.py", 1000) == (
        None,
        "not a regular file (a FIFO)",
    )  # would block if opened


def test_read_source_permission_denied(tmp_path, monkeypatch):
    from sophia_artemis.analysis import files

    path = tmp_path / "secret.py"
    path.write_text("x = 1\n")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(files.os, "open", denied)  # as for a file without read permission (root reads all)
    assert read_source(path, 1000) == (None, "cannot read (Permission denied)")


# --------------------------------------------------------------------------------------------- analysing


def test_analyze_path_with_a_bom_reports_positions_after_it(tmp_path):
    path = tmp_path / "m.py"
    path.write_bytes(b"\xef\xbb\xbf# TODO: first line\nx = 1  # FIXME: second\n")
    report = analyze_path(path, Settings())
    assert report.skip_reason is None and report.error is None and report.path == path
    starts = [(f.range.start.line, f.range.start.character) for f in report.result.findings]
    assert starts == [(0, 2), (1, 9)]  # as an editor (which never shows the BOM) counts them


def test_analyze_path_skips_with_a_reason(tmp_path):
    path = tmp_path / "m.py"
    path.write_bytes(b"\x00\x01")
    report = analyze_path(path, Settings())
    assert report.result is None and report.skip_reason == "binary (contains NUL bytes)"


def test_maintainability_only_when_sa202_is_on_or_metrics_are_wanted(tmp_path, monkeypatch):
    from sophia_artemis.analysis import maintainability

    calls = []
    real = maintainability.maintainability_index
    monkeypatch.setattr(
        maintainability, "maintainability_index", lambda text, **kw: calls.append(text) or real(text, **kw)
    )
    path = tmp_path / "m.py"
    path.write_text("def f(x):\n    return x\n")
    off = Settings().with_rules(ignore=["SA202"])
    report = analyze_path(path, off)
    assert calls == [] and report.maintainability is None and report.result.file.maintainability is None
    report = analyze_path(path, off, metrics=True)
    assert len(calls) == 1 and report.maintainability == report.result.file.maintainability > 50
    analyze_path(path, Settings())
    assert len(calls) == 2


def test_analyze_path_keeps_non_ascii_lines_for_character_columns(tmp_path):
    path = tmp_path / "m.py"
    path.write_text('s = "😀"  # TODO: emoji\n# TODO: plain\n', encoding="utf-8")
    report = analyze_path(path, Settings())
    assert report.lines == {0: 's = "😀"  # TODO: emoji'}
    assert report.result.findings[0].range.start.character == 12  # UTF-16: the emoji is two units


def test_vendored_folders_are_skipped_with_a_note_unless_named(tmp_path):
    from sophia_artemis.analysis.config import Settings
    from sophia_artemis.analysis.files import discover

    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "main.py").write_text("x = 1\n")
    (tmp_path / "app" / "_vendor").mkdir()
    (tmp_path / "app" / "_vendor" / "six.py").write_text("y = 2\n")
    notes = []
    found = list(discover([tmp_path], Settings(), tmp_path, on_skip=lambda p, r: notes.append((p.name, r))))
    assert [p.name for p in found] == ["main.py"]
    assert notes == [("_vendor", "vendored third-party code (name the folder to analyse it)")]
    named = list(discover([tmp_path / "app" / "_vendor"], Settings(), tmp_path))
    assert [p.name for p in named] == ["six.py"]
