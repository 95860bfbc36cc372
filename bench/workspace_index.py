#!/usr/bin/env python3
"""Workspace index (issue 4): cold, warm, incremental and server memory, measured in one run.

    . .venv/bin/activate
    python bench/workspace_index.py                      # everything (about 4 min on 2 shared cores)
    python bench/workspace_index.py --skip-server        # django parts only
    python bench/workspace_index.py --skip-django        # the sympy server part only

Parts (see bench/README.md and the "Workspace index" section of docs/performance.md):

1. django 5.2.8. A copy of the sdist's `django/` package plus its pyproject.toml and setup.cfg is made in a
   temp dir (the cached corpus is never written to), and every measurement below uses that copy:
   a. `sophia-artemis check --format json --no-cache <copy>/django` against `radon cc -s <copy>/django`,
      interleaved, `--runs` rounds (default 3), median wall times and their ratio. This is what
      bench/check_vs_radon.py measures (its `timed` and `find_tree` are used here; it also runs
      `radon mi`).
   b. `ProjectIndex(root, project_settings(root), memory=ProjectMemory(root, directory=<empty dir>))`:
      cold `refresh()`, then warm restarts (a new ProjectIndex and ProjectMemory on the same dir,
      `refresh()`); warm/cold; the findings of every file must be identical and the workspace findings
      reused. The same for the CLI: `check --format json` with a fresh project memory, then again.
   c. Incremental: a small function is appended to one mid-size module of the copy, `refresh()` on the
      warm index; `report.analysed` must be 1. A cold index of the modified tree (fresh memory) checks
      that the incremental findings are the ones a full analysis gives.
2. sympy 1.14.0 (1.5 k files, ~750 k lines): the real server (`python -m sophia_artemis serve`, stdio) with
   a minimal JSON-RPC client: time from spawn to the `$/progress` end of "sophia-artemis: indexing ...",
   peak RSS (VmHWM) of the server and, separately, of its descendants (the analysis worker processes),
   then shutdown/exit; then a warm restart on the same project memory. initializationOptions turn semantic
   memory's vectors off (`{"semantic": {"enabled": false}}`), so no embedding model is loaded.

Every subprocess gets a temp HOME, XDG dirs and SOPHIA_ARTEMIS_HOME, HF_HUB_OFFLINE=1, and
SOPHIA_ARTEMIS_PROJECT_DIR pointing at a temp dir, so nothing is written into the trees or the real home.
Results: a table on stdout, JSON in bench/results/workspace_index.json (`--json`).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import json
import os
import platform
import queue
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CACHE = HERE / ".cache"
RESULTS = HERE / "results" / "workspace_index.json"
sys.path.insert(0, str(HERE))

from check_vs_radon import find_tree, timed  # part 1a measures exactly what that script measures
from lsp_latency import child_env, fetch_sdist, peak_rss_mb

DJANGO = "django-5.2.8"
SYMPY = ("sympy==1.14.0", "sympy-1.14.0")
INCREMENTAL_FILE = "django/utils/text.py"
PROBE = "\n\ndef bench_incremental_probe(value):\n    \"\"\"Added by bench/workspace_index.py.\"\"\"\n    return value\n"
INDEX_TITLE = "sophia-artemis: indexing"


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def extract_tree(requirement: str, name: str) -> Path:
    """The whole sdist extracted (once) under bench/.cache/trees; returns the sdist's top folder."""
    out = CACHE / "trees"
    top = out / name
    if not top.is_dir():
        archive = fetch_sdist(requirement, CACHE)
        log(f"extracting {archive.name} into {out}")
        out.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive) as tar:
            tar.extractall(out, filter="data")
    return top


def bench_env(tmp: Path) -> dict[str, str]:
    env = child_env(tmp)
    env.update({
        "SOPHIA_ARTEMIS_HOME": str(tmp / "sophia-home"),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    })
    return env


# --------------------------------------------------------------------------------------------- findings


def canon(findings: list[Any]) -> list[str]:
    return [json.dumps(dataclasses.asdict(f), sort_keys=True, default=str) for f in findings]


def snapshot(index: Any) -> dict[str, list[str]]:
    return {rel: canon(index.findings_for(index.root / rel)) for rel in sorted(index.files)}


def compare(a: dict[str, list[str]], b: dict[str, list[str]]) -> dict[str, Any]:
    differing = sorted(rel for rel in set(a) | set(b) if a.get(rel) != b.get(rel))
    return {
        "identical": not differing,
        "files_a": len(a),
        "files_b": len(b),
        "findings_a": sum(map(len, a.values())),
        "findings_b": sum(map(len, b.values())),
        "differing_files": differing[:20],
        "differing_count": len(differing),
    }


def digest_of(snap: dict[str, list[str]]) -> str:
    h = hashlib.blake2b(digest_size=12)
    for rel in sorted(snap):
        h.update(rel.encode() + b"\0" + "\n".join(snap[rel]).encode() + b"\n")
    return h.hexdigest()


def cli_findings(path: Path) -> list[str]:
    data = json.loads(path.read_text())
    return sorted(json.dumps(f, sort_keys=True) for f in data["findings"])


# --------------------------------------------------------------------------------------------- part 1


def prepare_django(corpus: Path | None, work: Path) -> tuple[Path, Path]:
    """(source package folder, root of the private copy holding django/, pyproject.toml, setup.cfg)."""
    src_pkg = find_tree(f"{DJANGO}/django", corpus)
    root = work / DJANGO
    root.mkdir(parents=True)
    shutil.copytree(src_pkg, root / "django", ignore=shutil.ignore_patterns(".sophia", "__pycache__"))
    for name in ("pyproject.toml", "setup.cfg"):
        if (src_pkg.parent / name).is_file():
            shutil.copy2(src_pkg.parent / name, root / name)
    return src_pkg, root


def part_radon(root: Path, runs: int, env: dict[str, str]) -> dict[str, Any]:
    tree = root / "django"
    ours = [sys.executable, "-m", "sophia_artemis", "check", "--format", "json", "--no-cache", str(tree)]
    radon = [sys.executable, "-m", "radon", "cc", "-s", str(tree)]
    walls: dict[str, list[float]] = {"ours": [], "radon": []}
    cpus: dict[str, list[float]] = {"ours": [], "radon": []}
    codes: dict[str, list[int]] = {"ours": [], "radon": []}
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)  # check_vs_radon.timed inherits the environment
    try:
        for r in range(runs):
            for name, cmd in (("ours", ours), ("radon", radon)):
                wall, cpu, code = timed(cmd)
                walls[name].append(wall)
                cpus[name].append(cpu)
                codes[name].append(code)
                log(f"1a round {r + 1}: {name}: {wall:.2f} s wall, {cpu:.2f} s CPU, exit {code}")
    finally:
        os.environ.clear()
        os.environ.update(saved)
    med = {k: statistics.median(v) for k, v in walls.items()}
    return {
        "ours_cmd": "sophia-artemis check --format json --no-cache <copy>/django",
        "radon_cmd": "radon cc -s <copy>/django",
        "walls": walls, "cpus": cpus, "exit_codes": codes,
        "median_ours": med["ours"], "median_radon": med["radon"],
        "median_cpu_ours": statistics.median(cpus["ours"]), "median_cpu_radon": statistics.median(cpus["radon"]),
        "ratio_ours_over_radon": med["ours"] / med["radon"],
    }


def new_index(root: Path, memdir: Path, jobs: int) -> Any:
    from sophia_artemis.analysis.config import project_settings
    from sophia_artemis.memory.project import ProjectMemory
    from sophia_artemis.memory.workspace_index import ProjectIndex

    settings, problems = project_settings(root)
    for p in problems:
        log(f"settings: {p}")
    return ProjectIndex(root, settings, memory=ProjectMemory(root, directory=memdir), jobs=jobs)


def close_index(index: Any) -> None:
    index.close()
    index.memory.close()


def report_json(rep: Any, wall: float) -> dict[str, Any]:
    return {"wall": wall, "seconds": rep.seconds, "files": rep.files, "analysed": rep.analysed, "reused": rep.reused,
            "removed": rep.removed, "changed": rep.changed, "errors": len(rep.errors), "skipped": len(rep.skipped),
            "workspace_reused": rep.workspace_reused, "cancelled": rep.cancelled}


def timed_refresh(root: Path, memdir: Path, jobs: int, index: Any = None) -> tuple[Any, Any, float]:
    t0 = time.perf_counter()
    if index is None:
        index = new_index(root, memdir, jobs)
    rep = index.refresh()
    return index, rep, time.perf_counter() - t0


def part_index(root: Path, work: Path, warm_runs: int, jobs: int) -> dict[str, Any]:
    memdir = work / "mem-index"
    out: dict[str, Any] = {"memory_dir": "temp (empty at the start)", "jobs": jobs}
    log("1b index: cold refresh ...")
    index, rep, wall = timed_refresh(root, memdir, jobs)
    out["cold"] = report_json(rep, wall)
    cold = snapshot(index)
    out["cold"]["findings"] = sum(map(len, cold.values()))
    out["cold"]["digest"] = digest_of(cold)
    log(f"1b cold: {wall:.2f} s, {rep.files} files, {rep.analysed} analysed, {len(rep.errors)} errors")
    close_index(index)
    out["memory_dir_mb"] = sum(p.stat().st_size for p in memdir.rglob("*") if p.is_file()) / 2**20

    warm: list[dict[str, Any]] = []
    for i in range(warm_runs):
        index, rep, wall = timed_refresh(root, memdir, jobs)
        item = report_json(rep, wall)
        item["compare"] = compare(cold, snapshot(index))
        warm.append(item)
        log(f"1b warm {i + 1}: {wall:.3f} s, analysed {rep.analysed}, reused {rep.reused}, "
            f"workspace_reused {rep.workspace_reused}, identical {item['compare']['identical']}")
        if i < warm_runs - 1:
            close_index(index)
    out["warm"] = warm
    out["warm_median"] = statistics.median(w["wall"] for w in warm)
    out["ratio_warm_over_cold"] = out["warm_median"] / out["cold"]["wall"]
    out["warm_identical"] = all(w["compare"]["identical"] for w in warm)
    out["warm_workspace_reused"] = all(w["workspace_reused"] for w in warm)

    # 1c: incremental, on the warm index (what the server does after a save)
    rels = sorted(rel for rel in index.files if rel.startswith("django/") and rel.endswith(".py"))
    target = INCREMENTAL_FILE if INCREMENTAL_FILE in index.files else rels[len(rels) // 2]
    path = root / target
    lines = path.read_text().count("\n")
    with path.open("a") as fh:
        fh.write(PROBE)
    now = time.time()
    os.utime(path, (now, now))
    log(f"1c incremental: appended a function to {target} ({lines} lines) ...")
    t0 = time.perf_counter()
    rep = index.refresh()
    wall = time.perf_counter() - t0
    inc = report_json(rep, wall)
    inc.update({"file": target, "file_lines": lines, "ratio_over_cold": wall / out["cold"]["wall"]})
    incremental = snapshot(index)
    inc["changed_vs_cold"] = compare(cold, incremental)
    close_index(index)
    log(f"1c incremental: {wall:.3f} s, analysed {rep.analysed}, changed {rep.changed}")
    # the reference: a cold index of the modified tree
    log("1c reference: cold refresh of the modified tree (fresh memory) ...")
    ref_index, _, ref_wall = timed_refresh(root, work / "mem-reference", jobs)
    inc["reference_cold_wall"] = ref_wall
    inc["matches_full_analysis"] = compare(snapshot(ref_index), incremental)
    close_index(ref_index)
    # a restart after the change: everything from memory again
    index, rep, wall = timed_refresh(root, memdir, jobs)
    inc["restart_after_change"] = report_json(rep, wall)
    inc["restart_identical"] = compare(incremental, snapshot(index))["identical"]
    close_index(index)
    out["incremental"] = inc
    # restore the file, so the CLI runs below see the original tree
    path.write_text(path.read_text()[: -len(PROBE)])
    return out


def part_cli(root: Path, work: Path, env: dict[str, str], warm_runs: int) -> dict[str, Any]:
    env = dict(env, SOPHIA_ARTEMIS_PROJECT_DIR=str(work / "mem-cli"))
    base = [sys.executable, "-m", "sophia_artemis", "check", "--format", "json"]
    runs: list[dict[str, Any]] = []
    results: list[list[str]] = []
    for i in range(1 + warm_runs):
        out_file = work / f"cli-{i}.json"
        t0 = time.perf_counter()
        proc = subprocess.run([*base, "-o", str(out_file), str(root / "django")], env=env, cwd=work,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
        wall = time.perf_counter() - t0
        found = cli_findings(out_file) if out_file.exists() else []
        results.append(found)
        runs.append({"kind": "cold" if i == 0 else "warm", "wall": wall, "exit": proc.returncode,
                     "findings": len(found), "stderr_tail": proc.stderr[-300:]})
        log(f"1b CLI {'cold' if i == 0 else 'warm'}: {wall:.2f} s, exit {proc.returncode}, {len(found)} findings")
    warm_median = statistics.median(r["wall"] for r in runs[1:])
    return {"cmd": "SOPHIA_ARTEMIS_PROJECT_DIR=<fresh temp> sophia-artemis check --format json <copy>/django",
            "runs": runs, "cold": runs[0]["wall"], "warm_median": warm_median,
            "ratio_warm_over_cold": warm_median / runs[0]["wall"],
            "identical": all(r == results[0] for r in results[1:])}


# --------------------------------------------------------------------------------------------- part 2


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class Sampler(threading.Thread):
    """Every `every` s: the server's VmHWM/VmRSS, and its descendants' (worker processes) RSS."""

    def __init__(self, pid: int, every: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.stop = threading.Event()
        self.server_hwm_kb = 0
        self.children_sum_rss_kb = 0  # max over samples of the sum of the descendants' VmRSS
        self.child_hwm_kb: dict[int, int] = {}  # pid -> last seen VmHWM
        self.child_names: dict[int, str] = {}
        self.total_rss_kb = 0  # max over samples of server + descendants' VmRSS

    def sample(self) -> None:
        self.server_hwm_kb = max(self.server_hwm_kb, status_kb(self.pid, "VmHWM"))
        server_rss = status_kb(self.pid, "VmRSS")
        total = 0
        for c in descendants(self.pid):
            hwm = status_kb(c, "VmHWM")
            if hwm:
                self.child_hwm_kb[c] = max(self.child_hwm_kb.get(c, 0), hwm)
                if c not in self.child_names:
                    try:
                        self.child_names[c] = Path(f"/proc/{c}/cmdline").read_bytes().replace(b"\0", b" ")[:120].decode()
                    except OSError:
                        self.child_names[c] = "?"
            total += status_kb(c, "VmRSS")
        self.children_sum_rss_kb = max(self.children_sum_rss_kb, total)
        self.total_rss_kb = max(self.total_rss_kb, total + server_rss)

    def run(self) -> None:
        while not self.stop.wait(self.every):
            self.sample()


class Client:
    """Content-Length framed JSON-RPC over the server's stdin/stdout; answers the server's requests."""

    def __init__(self, cmd: list[str], env: dict[str, str], cwd: Path, stderr: Path) -> None:
        self.t0 = time.perf_counter()
        self._err = stderr.open("wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._err,
                                     env=env, cwd=cwd)
        self.messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.next_id = 0
        self.lock = threading.Lock()
        self.publishes = 0
        self.server_requests: dict[str, int] = {}
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        try:
            while True:
                length = None
                while True:
                    line = out.readline()
                    if not line:
                        self.messages.put(None)
                        return
                    line = line.strip()
                    if not line:
                        break
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                body = out.read(length or 0)
                msg = json.loads(body)
                msg["_t"] = time.perf_counter()
                self.messages.put(msg)
        except Exception:  # noqa: BLE001
            self.messages.put(None)

    def send(self, msg: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **msg}).encode()
        with self.lock:
            assert self.proc.stdin is not None
            self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self.proc.stdin.flush()

    def request(self, method: str, params: Any) -> int:
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        return self.next_id

    def notify(self, method: str, params: Any) -> None:
        self.send({"method": method, "params": params})

    def answer(self, msg: dict[str, Any]) -> None:
        method = msg["method"]
        self.server_requests[method] = self.server_requests.get(method, 0) + 1
        result: Any = None
        if method == "workspace/configuration":
            result = [None] * len(msg.get("params", {}).get("items", []))
        self.send({"id": msg["id"], "result": result})

    def close(self) -> None:
        self._err.close()


def run_server(tree: Path, env: dict[str, str], work: Path, label: str, timeout: float,
               semantic: bool) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "sophia_artemis", "serve"]
    client = Client(cmd, env, work, work / f"server-{label}.stderr")
    sampler = Sampler(client.proc.pid)
    sampler.start()
    res: dict[str, Any] = {"label": label, "cmd": "python -m sophia_artemis serve", "pid": client.proc.pid}
    uri = tree.as_uri()
    init_id = client.request("initialize", {
        "processId": os.getpid(),
        "rootUri": uri,
        "workspaceFolders": [{"uri": uri, "name": tree.name}],
        "capabilities": {"window": {"workDoneProgress": True}},
        "initializationOptions": {} if semantic else {"semantic": {"enabled": False}},
    })
    titles: dict[str, str] = {}
    ends: dict[str, dict[str, Any]] = {}
    index_end = None
    semantic_end = None
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        try:
            msg = client.messages.get(timeout=1.0)
        except queue.Empty:
            if client.proc.poll() is not None:
                res["error"] = f"server exited with {client.proc.returncode}"
                break
            continue
        if msg is None:
            res["error"] = f"server closed stdout (exit {client.proc.poll()})"
            break
        t = msg["_t"] - client.t0
        if "method" in msg and "id" in msg:
            client.answer(msg)
        elif msg.get("id") == init_id:
            res["initialize_s"] = t
            res["server_info"] = msg.get("result", {}).get("serverInfo")
            client.notify("initialized", {})
        elif msg.get("method") == "$/progress":
            token, value = str(msg["params"]["token"]), msg["params"]["value"]
            if value.get("kind") == "begin":
                titles[token] = value.get("title", "")
                log(f"server {label}: {t:.1f} s progress begin {titles[token]!r}")
            elif value.get("kind") == "end":
                title = titles.get(token, "")
                ends[title] = {"t": t, "message": value.get("message")}
                log(f"server {label}: {t:.1f} s progress end {title!r}: {value.get('message')}")
                if title.startswith(INDEX_TITLE):
                    index_end = t
                    sampler.sample()
                    res["server_hwm_at_index_end_mb"] = sampler.server_hwm_kb / 1024
                elif "indexing" in title.lower():
                    semantic_end = t
        elif msg.get("method") == "textDocument/publishDiagnostics":
            client.publishes += 1
        if index_end is not None and semantic_end is not None:
            break
    res["index_end_s"] = index_end
    res["semantic_index_end_s"] = semantic_end
    res["progress"] = ends
    time.sleep(1.0)  # late publishes; one more sample
    while not client.messages.empty():
        msg = client.messages.get_nowait()
        if msg and msg.get("method") == "textDocument/publishDiagnostics":
            client.publishes += 1
        elif msg and "method" in msg and "id" in msg:
            client.answer(msg)
    sampler.sample()
    res["server_rss_end_mb"] = status_kb(client.proc.pid, "VmRSS") / 1024
    res["server_peak_rss_mb"] = peak_rss_mb(client.proc.pid) or sampler.server_hwm_kb / 1024
    # shutdown / exit
    t_shut = time.perf_counter()
    shutdown_ok = False
    try:
        sid = client.request("shutdown", None)
        end = time.perf_counter() + 30
        while time.perf_counter() < end:
            try:
                msg = client.messages.get(timeout=1.0)
            except queue.Empty:
                continue
            if msg is None:
                break
            if msg.get("id") == sid and "method" not in msg:
                shutdown_ok = "error" not in msg
                break
            if "method" in msg and "id" in msg:
                client.answer(msg)
        client.notify("exit", None)
    except (BrokenPipeError, OSError) as exc:
        res["shutdown_error"] = str(exc)
    # reap with wait4: its rusage gives the server's exact lifetime peak RSS (ru_maxrss, KiB), shutdown included
    code, maxrss_kb = None, 0
    end = time.perf_counter() + 30
    while code is None:
        pid, status, usage = os.wait4(client.proc.pid, os.WNOHANG)
        if pid:
            code, maxrss_kb = os.waitstatus_to_exitcode(status), usage.ru_maxrss
            client.proc.returncode = code
        elif time.perf_counter() > end:
            client.proc.kill()
            res["killed"] = True
            end = time.perf_counter() + 30
        else:
            sampler.sample()
            time.sleep(0.05)
    sampler.stop.set()
    sampler.join()
    res["server_peak_rss_before_shutdown_mb"] = res.pop("server_peak_rss_mb")
    res["server_peak_rss_mb"] = max(maxrss_kb, sampler.server_hwm_kb) / 1024
    client.close()
    res.update({
        "shutdown_ok": shutdown_ok, "exit_code": code, "shutdown_s": time.perf_counter() - t_shut,
        "publishes": client.publishes, "server_requests": client.server_requests,
        "children_seen": len(sampler.child_hwm_kb),
        "children_max_hwm_mb": max(sampler.child_hwm_kb.values(), default=0) / 1024,
        "children_sum_rss_peak_mb": sampler.children_sum_rss_kb / 1024,
        "total_rss_peak_mb": sampler.total_rss_kb / 1024,
        "children": sorted({name.split(" -c ")[0][:80] for name in sampler.child_names.values()}),
    })
    err = (work / f"server-{label}.stderr").read_text(errors="replace")
    res["stderr_errors"] = [line for line in err.splitlines() if "Traceback" in line or "ERROR" in line][:10]
    return res


def part_server(work: Path, env: dict[str, str], timeout: float, semantic: bool) -> dict[str, Any]:
    top = extract_tree(*SYMPY)
    files = list(top.rglob("*.py"))
    lines = sum(p.read_bytes().count(b"\n") for p in files)
    before = {p: p.stat().st_mtime_ns for p in top.rglob("*")}
    env = dict(env, SOPHIA_ARTEMIS_PROJECT_DIR=str(work / "mem-server"))
    out: dict[str, Any] = {"tree": f"{SYMPY[1]} (whole sdist)", "py_files": len(files), "py_lines": lines,
                           "semantic_vectors": semantic}
    for label in ("cold", "warm"):
        log(f"2 server {label} on {top} ...")
        out[label] = run_server(top, env, work, label, timeout, semantic)
    after = {p: p.stat().st_mtime_ns for p in top.rglob("*")}
    out["tree_untouched"] = before == after
    return out


# --------------------------------------------------------------------------------------------- output


def fmt(x: Any, spec: str = ".2f") -> str:
    return "n/a" if x is None else format(x, spec)


def table(r: dict[str, Any]) -> str:
    out = [(f"load average (1/5/15 min): {r['load_before']} before, {r['load_after']} after; "
            f"{r['machine']['cpus']} CPUs; Python {r['machine']['python']}"), ""]
    out.append("| measurement | value | ratio / check |")
    out.append("|---|---:|---|")
    a = r.get("radon")
    if a:
        out.append(f"| 1a `check --no-cache` cold, median of {len(a['walls']['ours'])} | {a['median_ours']:.2f} s | "
                   f"{a['ratio_ours_over_radon']:.2f}× `radon cc -s` |")
        out.append(f"| 1a `radon cc -s`, median | {a['median_radon']:.2f} s | |")
    b = r.get("index")
    if b:
        c = b["cold"]
        out.append(f"| 1b index cold `refresh()` ({c['files']} files) | {c['wall']:.2f} s | {c['findings']} findings |")
        ident = "identical" if b["warm_identical"] else "**DIFFERENT**"
        out.append(f"| 1b index warm restart, median of {len(b['warm'])} | {b['warm_median']:.3f} s | "
                   f"warm/cold = 1/{1 / b['ratio_warm_over_cold']:.0f}; findings {ident}; "
                   f"workspace reused {b['warm_workspace_reused']} |")
        i = b["incremental"]
        match = "matches" if i["matches_full_analysis"]["identical"] else "**differs from**"
        out.append(f"| 1c incremental (one function appended to `{i['file']}`) | {i['wall']:.3f} s | "
                   f"analysed {i['analysed']}; 1/{1 / i['ratio_over_cold']:.0f} of cold; {match} a cold index "
                   f"of the modified tree |")
    cli = r.get("cli")
    if cli:
        ident = "identical" if cli["identical"] else "**DIFFERENT**"
        out.append(f"| 1b CLI `check` cold (fresh memory) | {cli['cold']:.2f} s | |")
        out.append(f"| 1b CLI `check` warm, median of {len(cli['runs']) - 1} | {cli['warm_median']:.2f} s | "
                   f"warm/cold = 1/{1 / cli['ratio_warm_over_cold']:.1f}; findings {ident} |")
    s = r.get("server")
    if s:
        for label in ("cold", "warm"):
            x = s[label]
            out.append(f"| 2 server {label}: spawn → index end ({s['py_files']} files, {s['py_lines'] / 1000:.0f} k lines) | "
                       f"{fmt(x.get('index_end_s'), '.1f')} s | exit {x.get('exit_code')}, shutdown ok {x.get('shutdown_ok')} |")
            out.append(f"| 2 server {label}: server peak RSS, whole life (ru_maxrss) | {fmt(x.get('server_peak_rss_mb'), '.0f')} MB | "
                       f"target < 400 MB: {'met' if (x.get('server_peak_rss_mb') or 1e9) < 400 else '**missed**'}; "
                       f"VmHWM {fmt(x.get('server_hwm_at_index_end_mb'), '.0f')} MB at index end, "
                       f"{fmt(x.get('server_peak_rss_before_shutdown_mb'), '.0f')} MB before shutdown |")
            out.append(f"| 2 server {label}: workers ({x['children_seen']} seen) peak RSS, largest one / sum | "
                       f"{x['children_max_hwm_mb']:.0f} / {x['children_sum_rss_peak_mb']:.0f} MB | "
                       f"server + workers peak {x['total_rss_peak_mb']:.0f} MB |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="rounds of part 1a (median reported)")
    parser.add_argument("--warm-runs", type=int, default=3, help="warm restarts of the index and the CLI")
    parser.add_argument("--jobs", type=int, default=0, help="ProjectIndex jobs (0: one per CPU, as the CLI)")
    parser.add_argument("--corpus", type=Path, default=None, help="folder holding extracted sdists")
    parser.add_argument("--skip-django", action="store_true")
    parser.add_argument("--skip-radon", action="store_true")
    parser.add_argument("--skip-server", action="store_true")
    parser.add_argument("--semantic", action="store_true",
                        help="leave semantic memory's vectors on in the server (loads the embedding model)")
    parser.add_argument("--server-timeout", type=float, default=1800.0)
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    import importlib.metadata as md

    result: dict[str, Any] = {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "command": " ".join(["python", "bench/workspace_index.py", *(argv if argv is not None else sys.argv[1:])]),
        "git": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                              check=False).stdout.strip(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "versions": {n: md.version(n) for n in ("sophia-artemis", "radon")},
        "load_before": load(),
    }
    with tempfile.TemporaryDirectory(prefix="sa-wsindex-") as tmp_s:
        tmp = Path(tmp_s)
        env = bench_env(tmp)
        env["SOPHIA_ARTEMIS_PROJECT_DIR"] = str(tmp / "mem-unused")
        if not args.skip_django:
            src, root = prepare_django(args.corpus, tmp)
            result["django"] = {"source": str(src), "copy": "temp: django/, pyproject.toml, setup.cfg",
                                "py_files": sum(1 for _ in (root / "django").rglob("*.py"))}
            if not args.skip_radon:
                result["radon"] = part_radon(root, args.runs, env)
            result["index"] = part_index(root, tmp, args.warm_runs, args.jobs)
            result["cli"] = part_cli(root, tmp, env, args.warm_runs)
        if not args.skip_server:
            result["server"] = part_server(tmp, env, args.server_timeout, args.semantic)
    result["load_after"] = load()
    text = table(result)
    print(text)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1, default=str) + "\n")
    log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
