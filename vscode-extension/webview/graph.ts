/**
 * The dependency graph webview's script, bundled with cytoscape by esbuild into dist/webview/graph.js (the
 * page loads nothing else, so it renders offline). The extension posts `{type: "graph", elements}`; a click
 * on a module posts `{type: "open", uri}` back.
 */
import cytoscape from 'cytoscape';

import type { GraphElements } from '../src/graph';

declare function acquireVsCodeApi(): { postMessage(message: unknown): void };

const vscode = acquireVsCodeApi();

function colour(name: string, fallback: string): string {
    return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

function render(elements: GraphElements): void {
    const bar = document.getElementById('bar')!;
    const cycleCount = elements.cycles.length;
    bar.textContent = `${elements.nodes.length} modules · ${elements.edges.length} imports · `;
    const cycles = document.createElement('span');
    cycles.className = cycleCount > 0 ? 'cycle' : '';
    cycles.textContent = cycleCount === 0 ? 'no import cycles' : `${cycleCount} import cycle${cycleCount === 1 ? '' : 's'} (red)`;
    bar.appendChild(cycles);
    bar.appendChild(document.createTextNode(' · click a module to open it'));

    const foreground = colour('--vscode-editor-foreground', '#cccccc');
    const node = colour('--vscode-button-background', '#0e639c');
    const edge = colour('--vscode-editorLineNumber-foreground', '#858585');
    const error = colour('--vscode-errorForeground', '#f48771');
    const cy = cytoscape({
        container: document.getElementById('graph'),
        elements: [...elements.nodes, ...elements.edges] as cytoscape.ElementDefinition[],
        wheelSensitivity: 0.3,
        style: [
            {
                selector: 'node',
                style: {
                    label: 'data(label)',
                    color: foreground,
                    'font-size': 11,
                    'text-valign': 'bottom',
                    'text-margin-y': 4,
                    'background-color': node,
                    width: 16,
                    height: 16,
                },
            },
            { selector: 'node.cycle', style: { 'background-color': error, 'border-width': 2, 'border-color': error } },
            {
                selector: 'edge',
                style: {
                    width: 1.5,
                    'line-color': edge,
                    'target-arrow-color': edge,
                    'target-arrow-shape': 'triangle',
                    'curve-style': 'bezier',
                },
            },
            { selector: 'edge.type_checking, edge.function_local', style: { 'line-style': 'dashed' } },
            { selector: 'edge.cycle', style: { width: 3, 'line-color': error, 'target-arrow-color': error } },
        ],
        layout: { name: 'breadthfirst', directed: true, spacingFactor: 1.1, animate: false },
    });
    cy.on('tap', 'node', (event) => {
        const uri = event.target.data('uri');
        if (uri) {
            vscode.postMessage({ type: 'open', uri });
        }
    });
    (window as unknown as { sophiaGraph: unknown }).sophiaGraph = cy; // for the end-to-end test
    document.body.dataset.rendered = String(elements.nodes.length);
}

window.addEventListener('message', (event: MessageEvent) => {
    const message = event.data as { type?: string; elements?: GraphElements };
    if (message.type === 'graph' && message.elements) {
        render(message.elements);
    }
});
vscode.postMessage({ type: 'ready' });
