import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { answerConfiguration, explicitSettings, initializationOptions, Inspection, needsRestart, SERVER_KEYS } from '../src/settings';

function inspector(table: Record<string, Inspection>) {
    return (key: string) => table[key] ?? { defaultValue: 'a default' };
}

describe('explicitSettings', () => {
    it('leaves out every key the user did not set, so pyproject.toml is not overridden by defaults', () => {
        const settings = explicitSettings(
            inspector({
                thresholds: { defaultValue: { cyclomatic: 10, cognitive: 15 } },
                debtMarkers: { defaultValue: ['TODO'] },
            }),
        );
        assert.deepEqual(settings, {});
    });

    it('takes the most specific scope: folder over workspace over user', () => {
        const settings = explicitSettings(
            inspector({
                ignore: { defaultValue: [], globalValue: ['SA201'], workspaceValue: ['SA1'] },
                maxFileSize: { defaultValue: 2000000, globalValue: 10, workspaceValue: 20, workspaceFolderValue: 30 },
                select: { defaultValue: ['SA'], globalValue: ['SA2'] },
            }),
        );
        assert.deepEqual(settings, { ignore: ['SA1'], maxFileSize: 30, select: ['SA2'] });
    });

    it('merges object settings key by key across scopes', () => {
        const settings = explicitSettings(
            inspector({
                thresholds: {
                    defaultValue: { cyclomatic: 10, cognitive: 15 },
                    globalValue: { cyclomatic: 12, nesting: 3 },
                    workspaceValue: { cyclomatic: 20 },
                },
                severity: { defaultValue: {}, workspaceFolderValue: { SA103: 'hint' } },
            }),
        );
        assert.deepEqual(settings, { thresholds: { cyclomatic: 20, nesting: 3 }, severity: { SA103: 'hint' } });
    });

    it('sends only the server keys (not the interpreter or trace settings)', () => {
        const asked: string[] = [];
        explicitSettings((key) => {
            asked.push(key);
            return undefined;
        });
        assert.deepEqual(asked, [...SERVER_KEYS]);
        assert.ok(!(asked as string[]).includes('interpreter'));
        assert.deepEqual([...SERVER_KEYS].sort(), [
            'architecture', 'baseline', 'completion', 'debtMarkers', 'diagnosticScope', 'exclude', 'ignore',
            'importRoots', 'learning', 'maxFileSize', 'select', 'semantic', 'severity', 'thresholds', 'unused',
        ]);
    });

    it('passes bad values through for the server to report (it names the key and the default used)', () => {
        const settings = explicitSettings(inspector({ maxFileSize: { globalValue: 'big' } }));
        assert.deepEqual(initializationOptions(settings), { maxFileSize: 'big' });
    });
});

describe('answerConfiguration', () => {
    it('answers our section with the explicit settings per scope and keeps the others', () => {
        const answers = answerConfiguration(
            [{ section: 'sophiaArtemis', scopeUri: 'file:///a' }, { section: 'editor' }, { section: 'sophiaArtemis' }],
            [{ thresholds: { cyclomatic: 10 } }, { tabSize: 4 }, { select: ['SA'] }],
            (scope) => (scope === 'file:///a' ? { ignore: ['SA201'] } : {}),
        );
        assert.deepEqual(answers, [{ ignore: ['SA201'] }, { tabSize: 4 }, {}]);
    });

    it('restarts the server only for an interpreter change', () => {
        assert.equal(needsRestart((s) => s === 'sophiaArtemis.interpreter'), true);
        assert.equal(needsRestart((s) => s === 'sophiaArtemis.thresholds'), false);
    });
});
