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
    it('lists only commands the extension registers', () => {
        const commands = menuEntries({ phase: 'ready' }).map((entry) => entry.command);
        assert.deepEqual(commands, ['sophiaArtemis.restartServer', 'sophiaArtemis.showLogs', 'sophiaArtemis.openSettings']);
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
