import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { searchView } from '../src/search';

const range = { start: { line: 5, character: 0 }, end: { line: 9, character: 0 } };

describe('searchView', () => {
    it('shows qualname, path:line and score, and keeps where to open', () => {
        const view = searchView({
            version: 1,
            query: 'discount price',
            mode: 'vector',
            ms: 12.4,
            results: [
                { path: 'shop/pricing.py', uri: 'file:///p/shop/pricing.py', qualname: 'price', kind: 'function', range, score: 0.8123 },
                { path: 'shop/stock.py', uri: 'file:///p/shop/stock.py', qualname: 'Stock', kind: 'class', range, score: 0.5 },
            ],
        });
        assert.equal(view.title, 'Sophia search: "discount price" (vector, 12 ms)');
        assert.equal(view.note, undefined);
        assert.deepEqual(view.items[0], {
            label: '$(symbol-function) price',
            description: 'shop/pricing.py:6',
            detail: 'score 0.81 · function',
            uri: 'file:///p/shop/pricing.py',
            range,
        });
        assert.equal(view.items[1].label, '$(symbol-class) Stock');
    });

    it('shows the note of a lexical search, and says lexical without one', () => {
        const note = 'no embedding model: lexical search';
        assert.equal(searchView({ query: 'x', mode: 'lexical', note, results: [] }).note, note);
        assert.match(searchView({ query: 'x', mode: 'lexical', results: [] }).note ?? '', /Lexical search/);
    });

    it('leaves out results it cannot open and tolerates missing fields', () => {
        const view = searchView({ query: 'x', results: [{ path: 'a.py' }, { uri: 'file:///a.py' }, 'junk'] });
        assert.equal(view.items.length, 1);
        assert.deepEqual(view.items[0], { label: '$(search) file:///a.py', description: 'file:///a.py', detail: '', uri: 'file:///a.py', range: undefined });
        assert.equal(view.title, 'Sophia search: "x"');
    });
});
