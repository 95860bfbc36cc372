"""The VS Code extension: its unit tests, and an end-to-end run in a real workbench.

The workbench is code-server 4.100.3 (VS Code 1.100.3) driven in Debian's chromium by playwright-core
(tests/editors/vscode_e2e.mjs): the packaged .vsix is installed into a temporary extensions folder,
`sophiaArtemis.interpreter` points at this interpreter, and a copy of fixtures/lsp_project is opened.
Screenshots of every step land in tests/editors/out/vscode/.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import venv
from pathlib import Path

import pytest

from .conftest import (
    EXTENSION,
    HERE,
    INSTALL_HINT,
    REPO,
    TOOLS,
    missing_tool,
    output_dir,
    require_server_command,
    server_commands,
)

CODE_SERVER = TOOLS / "code-server" / "node_modules" / ".bin" / "code-server"
PLAYWRIGHT = TOOLS / "e2e" / "node_modules" / "playwright-core"
CHROMIUM = os.environ.get("SOPHIA_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def require_node_toolchain() -> str:
    node = shutil.which("node")
    if node is None:
        missing_tool("node is not installed")
    if not (EXTENSION / "node_modules" / "vscode-languageclient").is_dir():
        missing_tool(f"the extension's npm dependencies are not installed; {INSTALL_HINT}")
    return node  # type: ignore[return-value]


def test_extension_unit_tests():
    """Interpreter order, settings mapping, backoff schedule, status text: `node --test` on the pure modules."""
    require_node_toolchain()
    done = subprocess.run(
        ["npm", "test", "--silent"], check=False, cwd=EXTENSION, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    summary = dict(re.findall(r"^# (pass|fail|tests) (\d+)$", done.stdout, re.MULTILINE))
    assert int(summary.get("fail", "1")) == 0 and int(summary.get("pass", "0")) > 0, done.stdout[-4000:]


@pytest.fixture(scope="module")
def workbench_tools() -> str:
    """node, checked before anything is built: skips (or fails, when required) without the tools."""
    node = require_node_toolchain()
    if not CODE_SERVER.exists():
        missing_tool(f"code-server is not installed in {TOOLS}; {INSTALL_HINT}")
    if not PLAYWRIGHT.is_dir():
        missing_tool(f"playwright-core is not installed in {TOOLS}; {INSTALL_HINT}")
    if not Path(CHROMIUM).exists():
        missing_tool(f"chromium is not installed ({CHROMIUM}); {INSTALL_HINT}")
    return node


@pytest.fixture(scope="module")
def vsix(workbench_tools, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("vsix") / "sophia-artemis.vsix"
    done = subprocess.run(
        ["bash", str(EXTENSION / "scripts" / "build.sh"), "--skip-tests", "--out", str(out)],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    # the CI artefact: the very package the e2e installs, kept where CI collects it (gitignored)
    artefact = EXTENSION / "dist" / "sophia-artemis.vsix"
    artefact.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(out, artefact)
    return out


class CodeServer:
    """code-server on a free port, in its own process group, with its log kept for failures."""

    LISTENING = re.compile(r"HTTP server listening on (http://127\.0\.0\.1:\d+)")

    def __init__(self, home: Path, log: Path) -> None:
        self.home = home
        self.user = home / "user"
        self.extensions = home / "ext"
        self.config = home / "config.yaml"
        self.log = log
        self.home.mkdir(parents=True, exist_ok=True)
        self.config.write_text("bind-addr: 127.0.0.1:0\nauth: none\ncert: false\n", encoding="utf-8")
        self.process: subprocess.Popen[str] | None = None

    def base_args(self) -> list[str]:
        return [
            str(CODE_SERVER),
            "--user-data-dir", str(self.user),
            "--extensions-dir", str(self.extensions),
            "--config", str(self.config),
        ]  # fmt: skip

    def install_extension(self, vsix: Path) -> None:
        done = subprocess.run(
            [*self.base_args(), "--install-extension", str(vsix)],
            check=False,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0 and "successfully installed" in done.stdout, done.stdout + done.stderr

    def start(self, folder: Path) -> str:
        """Start serving `folder`; returns the base URL once code-server says it listens."""
        args = [
            *self.base_args(),
            "--bind-addr", "127.0.0.1:0",
            "--auth", "none",
            "--disable-telemetry",
            "--disable-update-check",
            "--disable-workspace-trust",
            str(folder),
        ]  # fmt: skip
        self.process = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # so stop() ends code-server and everything it started
        )
        lines: queue.Queue[str | None] = queue.Queue()

        def pump() -> None:
            assert self.process is not None and self.process.stdout is not None
            with self.log.open("w", encoding="utf-8") as log:
                for line in self.process.stdout:
                    log.write(line)
                    log.flush()
                    lines.put(line)
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        while True:
            try:
                line = lines.get(timeout=60)
            except queue.Empty:
                raise AssertionError(f"code-server did not start within 60 s; log: {self.log}") from None
            if line is None:
                raise AssertionError(f"code-server exited: {self.log.read_text(encoding='utf-8')[-3000:]}")
            found = self.LISTENING.search(line)
            if found:
                return found.group(1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def user_settings(server: CodeServer, interpreter: str) -> None:
    settings = server.user / "User" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text(
        json.dumps(
            {
                "sophiaArtemis.interpreter": interpreter,
                "workbench.startupEditor": "none",
                "workbench.tips.enabled": False,
                "workbench.enableExperiments": False,
                "extensions.ignoreRecommendations": True,
                "telemetry.telemetryLevel": "off",
                "update.mode": "none",
                "chat.disableAIFeatures": True,
                "git.enabled": False,
            },
            indent=2,
        ),
        encoding="utf-8",
    )


def run_workbench(
    node: str, vsix: Path, folder: Path, out: Path, tmp_path: Path, interpreter: str = sys.executable, **extra
) -> dict:
    """Install the .vsix into a fresh code-server serving `folder`, run one scenario of vscode_e2e.mjs in
    chromium, and return its steps (asserting that every step passed)."""
    server = CodeServer(tmp_path / "code-server", out / "code-server.log")
    user_settings(server, interpreter)
    server.install_extension(vsix)
    try:
        url = server.start(folder)
        config = tmp_path / "e2e.json"
        config.write_text(
            json.dumps(
                {
                    "url": url,
                    "folder": str(folder),
                    "outDir": str(out),
                    "chromium": CHROMIUM,
                    "toolsDir": str(TOOLS),
                    "interpreter": interpreter,
                    **extra,
                }
            ),
            encoding="utf-8",
        )
        done = subprocess.run(
            [node, str(HERE / "vscode_e2e.mjs"), str(config)],
            check=False,
            capture_output=True,
            text=True,
            timeout=600,
            cwd=REPO,
        )
    finally:
        server.stop()

    (out / "e2e-stderr.log").write_text(done.stderr, encoding="utf-8")
    lines = done.stdout.strip().splitlines()
    assert lines, f"no result from vscode_e2e.mjs (exit {done.returncode}): {done.stderr[-3000:]}"
    result = json.loads(lines[-1])
    (out / "result.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    assert result["ok"], (
        f"{result.get('error')}\nscreenshot: {result.get('screenshot')}\nsteps: {result['steps']}"
    )
    return {s["name"]: s for s in result["steps"]}


def test_workbench_end_to_end(workbench_tools, vsix, fixture_copy, tmp_path):
    """Squiggles, Problems rows, Ctrl+. suppress-on-this-line, status bar, code lens, crash restart,
    a missing package, a workspace setting."""
    out = output_dir("vscode")
    folder = fixture_copy("lsp_project").resolve()
    offered = server_commands(folder)
    bare = tmp_path / "bare-venv"  # an interpreter without sophia-artemis
    venv.EnvBuilder(with_pip=False).create(bare)
    steps = run_workbench(
        workbench_tools,
        vsix,
        folder,
        out,
        tmp_path,
        scenario="main",
        bareInterpreter=str(bare / "bin" / "python"),
    )

    assert steps["squiggles"]["warnings"] > 0
    assert any("SA101" in row for row in steps["problems-panel"]["rows"])
    assert any("SA102" in row for row in steps["problems-panel"]["rows"])
    assert "Suppress SA101 on this line" in " ".join(steps["quick-fix-menu"]["actions"])
    assert not any("SA101" in row for row in steps["suppressed"]["rows"])
    assert "# sophia: ignore[SA101]" not in (REPO / "fixtures/lsp_project/shop/pricing.py").read_text()
    assert steps["status-ready"]["status"] == "Sophia"  # "$(check) Sophia": the server said ready
    tooltip = steps["status-tooltip"]["tooltip"]
    assert re.search(r"Index: \d+ files?, \d+ findings?", tooltip), tooltip
    assert "Search: vector search" in tooltip, tooltip
    assert re.search(r"cyclomatic \d+ · cognitive \d+", steps["code-lens"]["lens"])
    menu = " ".join(steps["status-menu"]["menu"])
    assert "Restart server" in menu and "Show logs" in menu
    # the menu offers a feature exactly when the server offers its command
    assert ("Show report" in menu) == ("sophia.report" in offered), (menu, offered)
    assert ("Semantic search" in menu) == ("sophia.search" in offered), (menu, offered)
    assert steps["restarted-ready"]["newPid"] != steps["crash-restarting"]["killed"]
    assert not any("SA201" in row for row in steps["workspace-setting"]["rows"])
    assert any("SA102" in row for row in steps["workspace-setting"]["rows"])
    assert "not installed" in steps["missing-package"]["notification"]


def test_workbench_search(workbench_tools, vsix, fixture_copy, tmp_path):
    """Sophia: Semantic search: input box, a quick pick listing a hit in pricing.py, and the pick opens it."""
    folder = fixture_copy("lsp_project").resolve()
    offered = require_server_command(folder, "sophia.search")
    out = output_dir("vscode-search")
    steps = run_workbench(workbench_tools, vsix, folder, out, tmp_path, scenario="search", offered=offered)

    rows = steps["search-results"]["rows"]
    assert any("pricing.py" in row for row in rows), rows
    assert steps["search-results"]["title"].startswith('Sophia search: "price with discount"')
    assert "pricing.py" in steps["search-opened"]["activeTab"]


def test_workbench_graph(workbench_tools, vsix, fixture_copy, tmp_path):
    """Sophia: Show dependency graph: the webview renders the import graph offline with the cycles in red,
    and clicking a module opens its file; then import cycles, impact and report when the server offers them."""
    folder = fixture_copy("graph_project").resolve()
    offered = require_server_command(folder, "sophia.graph")
    out = output_dir("vscode-graph")
    steps = run_workbench(workbench_tools, vsix, folder, out, tmp_path, scenario="graph", offered=offered)

    graph = steps["graph-webview"]
    assert {"shop.core.pricing", "shop.orders", "manage"} <= set(graph["nodes"])
    assert {"shop.core.models", "shop.core.pricing", "shop.core.discounts"} <= set(graph["cycleNodes"])
    cycle_edges = {"shop.core.models->shop.core.pricing", "shop.core.pricing->shop.core.discounts"}
    assert cycle_edges <= set(graph["cycleEdges"]), graph
    assert "import cycle" in graph["bar"]
    assert "orders.py" in steps["graph-click-opens-module"]["activeTab"]
    if "sophia.openCycle" in offered:
        assert "open-cycle" in steps
    if "sophia.impact" in offered:
        assert any("Dependents (direct)" in row for row in steps["impact-tree"]["rows"])
        assert steps["peek-callers"]["shown"] in ("peek", "message")
    if "sophia.remember" in offered:
        assert "remembered a note on" in steps["remember"]["notification"]
    if "sophia.report" in offered:
        assert "Import cycles" in steps["report-webview"]["text"]
