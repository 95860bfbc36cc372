"""Reading a git history in the background, end to end: `$/progress` begin/report/end with commit counts for a
history of a few hundred commits, then hover and `sophia.related` answer from it.

The repository is written with `git fast-import` in a temp dir (fast: one process, no work-tree churn), then
checked out so the server has files to index.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from .conftest import start_session
from .helpers import Session

COMMITS = 300
MODULES = 6
T0 = 1714521600  # 2024-05-01
TITLE = "sophia-artemis: reading git history"
TIMEOUT = 60.0  # indexing a small project plus the history, on a shared 2-core machine


def _git(root: Path, *args: str, stdin: bytes | None = None) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull})
    subprocess.run(["git", "-C", str(root), *args], input=stdin, env=env, check=True, capture_output=True)


def fast_import_history(root: Path, commits: int) -> None:
    """`commits` commits: commit i changes pkg/m{i % MODULES}.py with its test, and every third one also
    CHANGES.md; the last tree has every module."""
    out: list[bytes] = []

    def blob(path: str, text: str) -> None:
        data = text.encode()
        out.append(f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n")

    for i in range(commits):
        m = i % MODULES
        message = f"change {i}".encode()
        out.append(f"commit refs/heads/main\nmark :{i + 1}\n".encode())
        out.append(f"committer Ada <ada@example.com> {T0 + i * 3600} +0000\n".encode())
        out.append(f"data {len(message)}\n".encode() + message + b"\n")
        if i:
            out.append(f"from :{i}\n".encode())
        blob(f"pkg/m{m}.py", f'"""Module {m}."""\n\n\ndef f{m}(x):\n    return x + {i}\n')
        blob(
            f"tests/test_m{m}.py",
            f"from pkg.m{m} import f{m}\n\n\ndef test_f{m}():\n    assert f{m}(0) == {i}\n",
        )
        if i % 3 == 0:
            blob("CHANGES.md", f"# Changes\n\n- change {i}\n")
        if i == 0:
            blob("pkg/__init__.py", "")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "fast-import", "--quiet", stdin=b"".join(out))
    _git(root, "checkout", "-q", "-f", "main")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "longhistory"
    root.mkdir()
    fast_import_history(root, COMMITS)
    return root


def history_reports(client: LanguageClient) -> list | None:
    for reports in client.progress_reports.values():
        if reports and isinstance(reports[0], types.WorkDoneProgressBegin) and reports[0].title == TITLE:
            return reports
    return None


async def history_read(session: Session) -> None:
    """Until the server logged the read (it logs after the progress end, and messages arrive in order)."""
    needle = f"git history of {session.root}: "
    await session.recorder.until(
        lambda: any(needle in m.message for m in session.client.log_messages),
        TIMEOUT,
        "the git history to be read",
    )


async def test_first_read_of_a_history_reports_progress_then_answers(lsp: LanguageClient, repo: Path) -> None:
    session = await start_session(lsp, repo, "visual-studio-code")
    await history_read(session)
    reports = history_reports(lsp)
    assert reports is not None, lsp.progress_reports
    begin, *middle, end = reports
    assert begin.cancellable is True and begin.percentage == 0 and begin.message == f"0/{COMMITS} commits"
    assert middle and all(isinstance(r, types.WorkDoneProgressReport) for r in middle)
    assert middle[-1].message == f"{COMMITS}/{COMMITS} commits" and middle[-1].percentage == 100
    assert [r.percentage for r in middle] == sorted(r.percentage for r in middle)
    assert isinstance(end, types.WorkDoneProgressEnd) and end.message.startswith(f"{COMMITS} commits (")

    # the history answers: hover on a module's first line, and the command
    uri = session.open("pkg/m1.py")
    hover = await session.client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=0, character=3)
        )
    )
    assert hover is not None and "Often changes with" in hover.contents.value, hover
    assert "tests/test_m1.py" in hover.contents.value
    related = await lsp.workspace_execute_command_async(
        types.ExecuteCommandParams(command="sophia.related", arguments=[{"uri": uri}])
    )
    assert related["file"] == "pkg/m1.py"
    assert (
        related["related"][0]["path"] == "tests/test_m1.py"
        and related["related"][0]["commits"] == COMMITS // MODULES
    )


async def test_a_short_history_is_read_without_progress(lsp: LanguageClient, tmp_path: Path) -> None:
    root = tmp_path / "shorthistory"
    root.mkdir()
    fast_import_history(root, 12)  # below the threshold: an update this small shows no progress
    session = await start_session(lsp, root, "neovim")
    await history_read(session)
    assert history_reports(lsp) is None
    related = await lsp.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="sophia.related", arguments=[{"uri": (root / "pkg/m0.py").as_uri()}]
        )
    )
    assert related["related"][0]["path"] == "tests/test_m0.py"
