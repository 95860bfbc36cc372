import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { graphElements, graphHtml } from '../src/graph';

const graph = {
    version: 1,
    modules: [
        { name: 'shop', path: 'src/shop/__init__.py', uri: 'file:///p/src/shop/__init__.py', language: 'python' },
        { name: 'shop.a', path: 'src/shop/a.py', uri: 'file:///p/src/shop/a.py', language: 'python' },
        { name: 'shop.b', path: 'src/shop/b.py', uri: 'file:///p/src/shop/b.py', language: 'python' },
    ],
    edges: [
        { from: 'shop', to: 'shop.a', lines: [1], kind: 'import' },
        { from: 'shop.a', to: 'shop.b', lines: [2], kind: 'import' },
        { from: 'shop.b', to: 'shop.a', lines: [5], kind: 'function_local' },
        { from: 'shop.a', to: 'missing', lines: [3], kind: 'import' },
    ],
    external: [{ from: 'shop', to: 'requests' }],
    cycles: [['shop.a', 'shop.b']],
};

describe('graphElements', () => {
    it('makes one node per module, clickable through its uri', () => {
        const { nodes } = graphElements(graph);
        assert.deepEqual(nodes.map((n) => n.data.id), ['shop', 'shop.a', 'shop.b']);
        assert.equal(nodes[0].data.uri, 'file:///p/src/shop/__init__.py');
    });

    it('marks the modules and imports of a cycle with the class "cycle"', () => {
        const { nodes, edges, cycles } = graphElements(graph);
        assert.deepEqual(nodes.map((n) => n.classes), ['module', 'module cycle', 'module cycle']);
        assert.deepEqual(
            edges.map((e) => [e.data.id, e.classes]),
            [
                ['shop->shop.a', 'import'],
                ['shop.a->shop.b', 'import cycle'],
                ['shop.b->shop.a', 'function_local cycle'],
            ],
        );
        assert.deepEqual(cycles, [['shop.a', 'shop.b']]);
    });

    it('leaves out edges to unknown modules and survives an empty answer', () => {
        assert.equal(graphElements(graph).edges.some((e) => e.data.target === 'missing'), false);
        assert.deepEqual(graphElements({}), { nodes: [], edges: [], cycles: [] });
    });

    it('does not colour two different cycles as one', () => {
        const { edges } = graphElements({
            modules: [{ name: 'a' }, { name: 'b' }, { name: 'c' }, { name: 'd' }],
            edges: [
                { from: 'a', to: 'b' },
                { from: 'b', to: 'a' },
                { from: 'b', to: 'c' },
                { from: 'c', to: 'd' },
                { from: 'd', to: 'c' },
            ],
            cycles: [['a', 'b'], ['c', 'd']],
        });
        assert.deepEqual(edges.map((e) => e.classes), ['import cycle', 'import cycle', 'import', 'import cycle', 'import cycle']);
    });
});

describe('graphHtml', () => {
    it('loads only the bundled script, under a CSP with a nonce', () => {
        const html = graphHtml({ scriptUri: 'vscode-resource://x/dist/webview/graph.js', cspSource: 'vscode-resource:', nonce: 'abc' });
        assert.match(html, /default-src 'none'/);
        assert.match(html, /script-src 'nonce-abc'/);
        assert.match(html, /<script nonce="abc" src="vscode-resource:\/\/x\/dist\/webview\/graph.js">/);
        assert.doesNotMatch(html, /https?:\/\//);
    });
});
