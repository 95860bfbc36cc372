"""`sophia/status`, end to end: a client that opts in (capabilities.experimental.sophiaStatus) sees the server go
from indexing to ready with the file count; without a usable embedding model it sees degraded, lexical search;
a client that does not opt in gets no such notification.

Real server on a copy of fixtures/workspace_project (Python and TypeScript files). The ready case loads the
real embedding model (vector search), hence the long timeout on a shared machine.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from .conftest import capabilities_for, start_session
from .helpers import TIMEOUT, Recorder

INDEX_TIMEOUT = 120.0  # the first index loads torch and embeds the fixture on a shared 2-core machine


@pytest.fixture
def workspace(fixture_copy) -> Path:
    return fixture_copy("workspace_project")


def value(params: Any, key: str) -> Any:
    """A field of the notification's params (a dict, or pygls's object for a method it has no type for)."""
    return params[key] if isinstance(params, dict) else getattr(params, key)


def plain(params: Any) -> Any:
    if isinstance(params, dict):
        return {k: plain(v) for k, v in params.items()}
    if hasattr(params, "_asdict"):
        return {k: plain(v) for k, v in params._asdict().items()}
    if hasattr(params, "__dict__") and not isinstance(params, (str, int, float)):
        return {k: plain(v) for k, v in vars(params).items()}
    return params


async def opt_in(client: LanguageClient, root: Path, initialization_options: Any = None) -> Recorder:
    caps = capabilities_for("visual-studio-code", None)
    caps.experimental = {"sophiaStatus": True}
    await client.initialize_session(
        types.InitializeParams(
            capabilities=caps,
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
            initialization_options=initialization_options,
        )
    )
    return client.recorder  # type: ignore[attr-defined]


def states(recorder: Recorder) -> list[dict[str, Any]]:
    return [plain(s) for s in recorder.statuses]


async def test_indexing_then_ready_with_the_file_count(lsp: LanguageClient, workspace: Path) -> None:
    recorder = await opt_in(lsp, workspace)
    ready = await recorder.until(
        lambda: next((s for s in states(recorder) if s["state"] == "ready"), None),
        INDEX_TIMEOUT,
        "status ready",
    )
    seen = states(recorder)
    first_ready = seen.index(ready)
    assert any(s["state"] == "indexing" for s in seen[:first_ready]), seen
    indexing = next(s for s in seen if s["state"] == "indexing")
    assert any(c["state"] == "indexing" for c in indexing["components"].values()), indexing
    files = re.search(r"(\d+) files, (\d+) findings", ready["message"])
    assert files and int(files.group(1)) >= 10, ready  # 10 Python and 3 TypeScript sources
    assert ready["components"]["index"]["state"] == "ready"
    assert ready["components"]["search"] == {"state": "ready", "message": "vector search"}
    assert all(s["state"] != "degraded" for s in seen), seen
    # nothing twice in a row: only changes are sent
    assert all(a != b for a, b in itertools.pairwise(seen)), seen


@pytest.mark.parametrize("missing", ["/nonexistent"])
async def test_degraded_when_search_is_lexical_only(
    lsp: LanguageClient, workspace: Path, missing: str
) -> None:
    recorder = await opt_in(lsp, workspace, {"semantic": {"model": missing}})
    degraded = await recorder.until(
        lambda: next((s for s in states(recorder) if s["state"] == "degraded"), None),
        INDEX_TIMEOUT,
        "status degraded",
    )
    assert "lexical" in degraded["message"] and missing in degraded["message"], degraded
    assert degraded["components"]["search"]["state"] == "degraded"
    # the workspace index still finishes: its component goes ready while search stays degraded
    final = await recorder.until(
        lambda: (s := states(recorder)[-1])["components"].get("index", {}).get("state") == "ready" and s,
        INDEX_TIMEOUT,
        "index ready",
    )
    assert final["state"] == "degraded" and final["message"].startswith("lexical search only: "), final


async def test_clients_that_do_not_opt_in_get_no_status(lsp: LanguageClient, workspace: Path) -> None:
    session = await start_session(
        lsp, workspace, "neovim@v0.7.0", initialization_options={"semantic": {"enabled": False}}
    )
    found = await lsp.workspace_execute_command_async(
        types.ExecuteCommandParams(command="sophia.search", arguments=[{"query": "order total"}])
    )
    assert isinstance(found, dict) and found.get("mode") == "lexical", found
    # the workspace index published the findings of unopened files: indexing is over
    await session.recorder.until(lambda: session.recorder.published, TIMEOUT, "workspace diagnostics")
    assert session.recorder.statuses == []
