import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { menuEntries, metricsMessage, statusView } from '../src/status';

describe('statusView', () => {
    it('says the phase in the text, with an icon', () => {
        assert.equal(statusView({ phase: 'starting' }).text, '$(sync~spin) Sophia: starting');
        assert.equal(statusView({ phase: 'ready' }).text, '$(check) Sophia: ready');
        assert.equal(statusView({ phase: 'degraded' }).text, '$(warning) Sophia: degraded');
        assert.equal(statusView({ phase: 'error' }).text, '$(error) Sophia: error');
    });

    it('colours only the degraded and error phases', () => {
        assert.equal(statusView({ phase: 'ready' }).background, undefined);
        assert.equal(statusView({ phase: 'starting' }).background, undefined);
        assert.equal(statusView({ phase: 'degraded' }).background, 'statusBarItem.warningBackground');
        assert.equal(statusView({ phase: 'error' }).background, 'statusBarItem.errorBackground');
    });

    it('explains the state in the tooltip', () => {
        const view = statusView({ phase: 'error', detail: 'sophia-artemis is not installed in python3.', interpreter: 'python3', crashes: 2 });
        assert.match(view.tooltip, /not running/);
        assert.match(view.tooltip, /not installed in python3/);
        assert.match(view.tooltip, /Interpreter: python3/);
        assert.match(view.tooltip, /Crashes in the last minutes: 2/);
        assert.equal(view.accessibilityLabel, 'Sophia Artemis: error');
    });
});

describe('menuEntries', () => {
    it('lists restart, logs and settings when the server offers nothing else', () => {
        const commands = menuEntries({ phase: 'ready' }).map((entry) => entry.command);
        assert.deepEqual(commands, ['sophiaArtemis.restartServer', 'sophiaArtemis.showLogs', 'sophiaArtemis.openSettings']);
    });

    it('puts first the features whose server command the running server offers', () => {
        const offered = new Set(['sophia.search', 'sophia.report']);
        const commands = menuEntries({ phase: 'ready' }, (c) => offered.has(c)).map((entry) => entry.command);
        assert.deepEqual(commands.slice(0, 3), ['sophiaArtemis.search', 'sophiaArtemis.showReport', 'sophiaArtemis.restartServer']);
    });

    it('hides the features while the server is not ready', () => {
        const commands = menuEntries({ phase: 'error' }, () => true).map((entry) => entry.command);
        assert.equal(commands[0], 'sophiaArtemis.restartServer');
    });

    it('names only commands that package.json contributes', () => {
        const contributed = new Set<string>(
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            require('../../package.json').contributes.commands.map((c: { command: string }) => c.command),
        );
        for (const entry of menuEntries({ phase: 'ready' }, () => true)) {
            assert.ok(contributed.has(entry.command), entry.command);
        }
    });
});

describe('metricsMessage', () => {
    it('puts the showMetrics answer on one line', () => {
        const message = metricsMessage({ qualname: 'Cart.add', cyclomatic: 3, cognitive: 2, loc: 6, params: 2 });
        assert.equal(message, 'Cart.add: cyclomatic 3 · cognitive 2 · lines 6 · parameters 2');
    });

    it('shows nothing for an empty answer (the function is gone)', () => {
        assert.equal(metricsMessage(null), undefined);
        assert.equal(metricsMessage({}), undefined);
    });
});
