import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { checkAnswer, serverOffers } from '../src/answers';

describe('checkAnswer', () => {
    it('passes an answer object through', () => {
        assert.deepEqual(checkAnswer('sophia.search', { version: 1, results: [] }), { ok: true, value: { version: 1, results: [] } });
    });

    it('turns {"error"} into the reason to show', () => {
        assert.deepEqual(checkAnswer('sophia.graph', { version: 1, error: 'no workspace folder' }), { ok: false, error: 'no workspace folder' });
    });

    it('says so when there is no answer or a wrong one', () => {
        assert.deepEqual(checkAnswer('sophia.report', null), { ok: false, error: 'the server gave no answer to sophia.report' });
        assert.match((checkAnswer('sophia.report', [1, 2]) as { error: string }).error, /answered sophia.report with \[1,2\]/);
    });
});

describe('serverOffers', () => {
    const capabilities = { executeCommandProvider: { commands: ['sophia.showMetrics', 'sophia.search'] } };
    it('reads executeCommandProvider.commands', () => {
        assert.equal(serverOffers(capabilities, 'sophia.search'), true);
        assert.equal(serverOffers(capabilities, 'sophia.graph'), false);
        assert.equal(serverOffers({}, 'sophia.search'), false);
        assert.equal(serverOffers(undefined, 'sophia.search'), false);
    });
});
