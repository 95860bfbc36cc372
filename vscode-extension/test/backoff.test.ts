import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { DEFAULT_RESTART_POLICY, RestartPolicy, restartSchedule } from '../src/backoff';

describe('RestartPolicy', () => {
    it('waits 1, 2, 4, 8 s and gives up at the fifth crash in three minutes', () => {
        assert.deepEqual(restartSchedule(), [1000, 2000, 4000, 8000, null]);
    });

    it('repeats the longest delay when the schedule is shorter than the crash limit', () => {
        assert.deepEqual(restartSchedule({ delaysMs: [100, 500], maxCrashes: 5, windowMs: 1000 }), [100, 500, 500, 500, null]);
    });

    it('starts counting again when the crashes are far apart', () => {
        const policy = new RestartPolicy();
        const window = DEFAULT_RESTART_POLICY.windowMs;
        for (let i = 0; i < 20; i++) {
            const decision = policy.onCrash(i * (window + 1));
            assert.deepEqual(decision, { restart: true, delayMs: 1000, crashes: 1 });
        }
    });

    it('forgets crashes that left the window', () => {
        const policy = new RestartPolicy({ delaysMs: [1, 2, 3], maxCrashes: 3, windowMs: 100 });
        assert.equal(policy.onCrash(0).restart, true);
        assert.equal(policy.onCrash(50).restart, true);
        assert.deepEqual(policy.onCrash(120), { restart: true, delayMs: 2, crashes: 2 }); // the crash at 0 left
        assert.deepEqual(policy.onCrash(130), { restart: false, crashes: 3 });
    });

    it('starts afresh after a restart by hand', () => {
        const policy = new RestartPolicy();
        for (let i = 0; i < 4; i++) {
            policy.onCrash(i);
        }
        assert.equal(policy.recentCrashes, 4);
        policy.reset();
        assert.equal(policy.recentCrashes, 0);
        assert.deepEqual(policy.onCrash(10), { restart: true, delayMs: 1000, crashes: 1 });
    });
});
