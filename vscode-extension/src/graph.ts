/**
 * `sophia.graph` answer -> cytoscape elements, with the modules and imports of each cycle marked, and the
 * webview page that renders them. Pure, so it is tested without VS Code or a browser.
 */
import { isObject, list, text } from './answers';

export interface GraphNode {
    data: { id: string; label: string; uri?: string; path?: string; language?: string; cycle?: number };
    classes: string;
}

export interface GraphEdge {
    data: { id: string; source: string; target: string; kind: string; lines: number[] };
    classes: string;
}

export interface GraphElements {
    nodes: GraphNode[];
    edges: GraphEdge[];
    /** Cycles as given (lists of module names), for the legend and "Open import cycle". */
    cycles: string[][];
}

/** The modules, the import edges between them (external imports left out), and `cycle` classes. */
export function graphElements(answer: Record<string, unknown>): GraphElements {
    const cycles = list(answer.cycles)
        .map((cycle) => list(cycle).filter((m): m is string => typeof m === 'string'))
        .filter((cycle) => cycle.length > 1);
    const cycleOf = new Map<string, number>();
    cycles.forEach((cycle, index) => cycle.forEach((module) => cycleOf.set(module, index)));

    const nodes: GraphNode[] = [];
    const known = new Set<string>();
    for (const module of list(answer.modules)) {
        if (!isObject(module) || typeof module.name !== 'string' || known.has(module.name)) {
            continue;
        }
        known.add(module.name);
        const cycle = cycleOf.get(module.name);
        nodes.push({
            data: {
                id: module.name,
                label: module.name,
                uri: text(module.uri) || undefined,
                path: text(module.path) || undefined,
                language: text(module.language) || undefined,
                cycle,
            },
            classes: ['module', cycle === undefined ? '' : 'cycle'].filter(Boolean).join(' '),
        });
    }

    const edges: GraphEdge[] = [];
    for (const edge of list(answer.edges)) {
        if (!isObject(edge)) {
            continue;
        }
        const source = text(edge.from);
        const target = text(edge.to);
        if (!known.has(source) || !known.has(target)) {
            continue;
        }
        const kind = text(edge.kind, 'import');
        // an import is part of a cycle when both ends are in the same strongly connected component
        const inCycle = cycleOf.has(source) && cycleOf.get(source) === cycleOf.get(target);
        edges.push({
            data: {
                id: `${source}->${target}`,
                source,
                target,
                kind,
                lines: list(edge.lines).filter((l): l is number => typeof l === 'number'),
            },
            classes: [kind, inCycle ? 'cycle' : ''].filter(Boolean).join(' '),
        });
    }
    return { nodes, edges, cycles };
}

/** The graph webview page: no remote content, only the bundled script (`scriptUri`), under a strict CSP. */
export function graphHtml(options: { scriptUri: string; cspSource: string; nonce: string }): string {
    const { scriptUri, cspSource, nonce } = options;
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${cspSource} 'unsafe-inline'; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Sophia: dependency graph</title>
<style>
  html, body { height: 100%; margin: 0; padding: 0; overflow: hidden; }
  body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); background: var(--vscode-editor-background); }
  #bar { position: absolute; top: 0; left: 0; right: 0; padding: 6px 10px; font-size: 12px; z-index: 1;
         background: var(--vscode-editor-background); border-bottom: 1px solid var(--vscode-panel-border); }
  #bar .cycle { color: var(--vscode-errorForeground); font-weight: bold; }
  #graph { position: absolute; top: 30px; left: 0; right: 0; bottom: 0; }
</style>
</head>
<body>
<div id="bar">Loading the import graph…</div>
<div id="graph" aria-label="Import graph"></div>
<script nonce="${nonce}" src="${scriptUri}"></script>
</body>
</html>`;
}
