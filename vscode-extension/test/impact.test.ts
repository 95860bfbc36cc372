import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { callerLocations, impactTree } from '../src/impact';

const range = { start: { line: 3, character: 4 }, end: { line: 3, character: 9 } };
const answer = {
    version: 1,
    target: 'shop.core.pricing:price',
    dependents: {
        direct: [{ module: 'shop.catalog', path: 'src/shop/catalog.py', uri: 'file:///p/src/shop/catalog.py' }],
        transitive: [
            { module: 'shop.catalog', path: 'src/shop/catalog.py', uri: 'file:///p/src/shop/catalog.py' },
            { module: 'manage', path: 'src/manage.py', uri: 'file:///p/src/manage.py' },
        ],
    },
    callers: [{ path: 'src/shop/orders.py', uri: 'file:///p/src/shop/orders.py', range, qualname: 'Order.total' }],
    co_changed: [{ path: 'src/shop/catalog.py', uri: 'file:///p/src/shop/catalog.py', score: 0.5, commits: 3 }],
    tests: [{ path: 'tests/test_pricing.py', uri: 'file:///p/tests/test_pricing.py' }],
};

describe('impactTree', () => {
    it('has five groups in a fixed order with counts', () => {
        const tree = impactTree(answer);
        assert.deepEqual(
            tree.map((g) => [g.label, g.description]),
            [
                ['Dependents (direct)', '1'],
                ['Dependents (indirect)', '1'],
                ['Callers', '1'],
                ['Tests', '1'],
                ['Co-changed files', '1'],
            ],
        );
    });

    it('starts the long groups (indirect dependents, co-changed files) collapsed', () => {
        assert.deepEqual(
            impactTree(answer).map((g) => g.collapsed ?? false),
            [false, true, false, false, true],
        );
    });

    it('makes every entry clickable, callers at their line', () => {
        const [direct, indirect, callers, tests, coChanged] = impactTree(answer);
        assert.deepEqual(direct.children?.[0], {
            label: 'shop.catalog',
            description: 'src/shop/catalog.py',
            icon: 'symbol-module',
            uri: 'file:///p/src/shop/catalog.py',
        });
        assert.equal(indirect.children?.[0].label, 'manage'); // the direct one is not repeated
        assert.deepEqual(callers.children?.[0], {
            label: 'Order.total',
            description: 'src/shop/orders.py:4',
            icon: 'symbol-function',
            uri: 'file:///p/src/shop/orders.py',
            range,
        });
        assert.equal(tests.children?.[0].uri, 'file:///p/tests/test_pricing.py');
        assert.equal(coChanged.children?.[0].description, 'score 0.50 · 3 commits');
    });

    it('accepts the CLI shape (bare module names and test paths) and says "none"', () => {
        const tree = impactTree({ dependents: { direct: ['a'], transitive: ['a', 'b'] }, tests: ['tests/test_a.py'] });
        assert.deepEqual(tree[0].children?.map((c) => c.label), ['a']);
        assert.deepEqual(tree[1].children?.map((c) => c.label), ['b']);
        assert.equal(tree[2].description, 'none found');
        assert.equal(tree[3].children?.[0].label, 'tests/test_a.py');
        assert.equal(tree[4].description, 'none (no git history)');
    });
});

describe('callerLocations', () => {
    it('lists the callers with a uri and a range', () => {
        assert.deepEqual(callerLocations(answer), [{ uri: 'file:///p/src/shop/orders.py', range }]);
        assert.deepEqual(callerLocations({ callers: [{ path: 'x.py' }] }), []);
    });
});
