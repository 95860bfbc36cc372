import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
    menuEntries,
    metricsMessage,
    parseReport,
    ServerReport,
    shortLabel,
    STATUS_CAPABILITY,
    statusView,
    withStatusCapability,
} from '../src/status';

function report(state: ServerReport['state'], message: string, extra: Partial<ServerReport> = {}): ServerReport {
    return { state, message, components: {}, ...extra };
}

describe('statusView', () => {
    it('says the phase in the text, with an icon', () => {
        assert.equal(statusView({ phase: 'starting' }).text, '$(sync~spin) Sophia: starting');
        assert.equal(statusView({ phase: 'ready' }).text, '$(check) Sophia');
        assert.equal(statusView({ phase: 'restarting' }).text, '$(warning) Sophia: restarting');
        assert.equal(statusView({ phase: 'error' }).text, '$(error) Sophia: error');
    });

    it('colours only the restarting and error phases', () => {
        assert.equal(statusView({ phase: 'ready' }).background, undefined);
        assert.equal(statusView({ phase: 'starting' }).background, undefined);
        assert.equal(statusView({ phase: 'ready', report: report('degraded', 'lexical search only: no model') }).background, undefined);
        assert.equal(statusView({ phase: 'restarting' }).background, 'statusBarItem.warningBackground');
        assert.equal(statusView({ phase: 'error' }).background, 'statusBarItem.errorBackground');
    });

    it('shows indexing progress from the server, with the percentage when there is one', () => {
        const view = statusView({
            phase: 'ready',
            report: report('indexing', 'indexing: 312/905 files', {
                percentage: 34,
                components: { index: { state: 'indexing', message: 'indexing: 312/905 files', percentage: 34 } },
            }),
        });
        assert.equal(view.text, '$(sync~spin) Sophia: indexing 34%');
        assert.equal(view.accessibilityLabel, 'Sophia Artemis: indexing 34%');
        assert.match(view.tooltip, /Index: indexing: 312\/905 files/);
        assert.equal(statusView({ phase: 'ready', report: report('indexing', 'search index: scanning') }).text, '$(sync~spin) Sophia: indexing');
    });

    it('shows ready with the counts in the tooltip', () => {
        const view = statusView({
            phase: 'ready',
            report: report('ready', '905 files, 1,192 findings; vector search', {
                components: {
                    index: { state: 'ready', message: '905 files, 1,192 findings' },
                    search: { state: 'ready', message: 'vector search' },
                },
            }),
        });
        assert.equal(view.text, '$(check) Sophia');
        assert.equal(view.accessibilityLabel, 'Sophia Artemis: ready');
        assert.match(view.tooltip, /Index: 905 files, 1,192 findings/);
        assert.match(view.tooltip, /Search: vector search/);
    });

    it('shows degraded with its short label, and the reason in the tooltip', () => {
        const message = 'lexical search only: embedding model folder /nonexistent does not exist';
        const view = statusView({
            phase: 'ready',
            report: report('degraded', message, {
                components: {
                    index: { state: 'ready', message: '14 files, 6 findings' },
                    search: { state: 'degraded', message },
                },
            }),
        });
        assert.equal(view.text, '$(warning) Sophia: lexical search only');
        assert.match(view.tooltip, /reduced features/);
        assert.match(view.tooltip, /Search: lexical search only: embedding model folder \/nonexistent does not exist/);
        assert.match(view.tooltip, /Index: 14 files, 6 findings/);
    });

    it('keeps the process phase over a stale server report', () => {
        const stale = report('ready', '14 files');
        assert.equal(statusView({ phase: 'restarting', report: stale }).text, '$(warning) Sophia: restarting');
        assert.equal(statusView({ phase: 'error', report: report('indexing', 'x', { percentage: 3 }) }).text, '$(error) Sophia: error');
        assert.doesNotMatch(statusView({ phase: 'restarting', report: stale }).tooltip, /14 files/);
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

describe('sophia/status', () => {
    it('accepts the notification as docs/commands.md describes it', () => {
        const parsed = parseReport({
            state: 'indexing',
            message: 'indexing: 3/10 files',
            percentage: 30.4,
            components: { index: { state: 'indexing', message: 'indexing: 3/10 files', percentage: 30 }, junk: { state: 'odd' } },
        });
        assert.deepEqual(parsed, {
            state: 'indexing',
            message: 'indexing: 3/10 files',
            percentage: 30,
            components: { index: { state: 'indexing', message: 'indexing: 3/10 files', percentage: 30 } },
        });
    });

    it('ignores what it cannot read', () => {
        assert.equal(parseReport(undefined), undefined);
        assert.equal(parseReport({ state: 'busy', message: '' }), undefined);
        assert.equal(parseReport({ state: 'ready' }), undefined);
        assert.deepEqual(parseReport({ state: 'ready', message: '' }), { state: 'ready', message: '', components: {} });
    });

    it('takes the label before the first colon of the first message', () => {
        assert.equal(shortLabel('lexical search only: no model; indexing failed: OSError: x'), 'lexical search only');
        assert.equal(shortLabel('indexing failed: OSError: disk full'), 'indexing failed');
        assert.equal(shortLabel(''), 'degraded');
        assert.equal(shortLabel('x'.repeat(80)).length, 40);
    });

    it('opts in through the experimental client capabilities, keeping the others', () => {
        assert.deepEqual(withStatusCapability(undefined), { [STATUS_CAPABILITY]: true });
        assert.deepEqual(withStatusCapability({ other: 1 }), { other: 1, sophiaStatus: true });
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
