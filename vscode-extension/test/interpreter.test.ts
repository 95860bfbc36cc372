import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { defaultCommand, expandPath, installCommandLine, resolveInterpreter, serverArgs } from '../src/interpreter';

describe('resolveInterpreter', () => {
    it('prefers the setting over the Python extension', async () => {
        let asked = false;
        const found = await resolveInterpreter({
            setting: '/opt/py/bin/python',
            pythonExtension: async () => {
                asked = true;
                return '/from/extension/python';
            },
        });
        assert.deepEqual(found, { command: '/opt/py/bin/python', source: 'setting' });
        assert.equal(asked, false, 'the Python extension is not consulted when the setting names an interpreter');
    });

    it("uses the Python extension's interpreter when the setting is empty or blank", async () => {
        for (const setting of [undefined, '', '   ']) {
            const found = await resolveInterpreter({ setting, pythonExtension: async () => '/venv/bin/python' });
            assert.deepEqual(found, { command: '/venv/bin/python', source: 'python-extension' });
        }
    });

    it('falls back to python3 on PATH without the Python extension, or when it has no interpreter', async () => {
        assert.deepEqual(await resolveInterpreter({ platform: 'linux' }), { command: 'python3', source: 'path' });
        assert.deepEqual(await resolveInterpreter({ pythonExtension: async () => undefined, platform: 'darwin' }), {
            command: 'python3',
            source: 'path',
        });
        assert.deepEqual(await resolveInterpreter({ pythonExtension: async () => '', platform: 'win32' }), {
            command: 'python',
            source: 'path',
        });
    });

    it('falls back to PATH when the Python extension throws', async () => {
        const found = await resolveInterpreter({
            pythonExtension: async () => {
                throw new Error('not activated');
            },
            platform: 'linux',
        });
        assert.deepEqual(found, { command: 'python3', source: 'path' });
    });

    it('expands ${workspaceFolder} and ~ in the setting', async () => {
        const found = await resolveInterpreter({ setting: '${workspaceFolder}/.venv/bin/python', workspaceFolder: '/w/proj' });
        assert.equal(found.command, '/w/proj/.venv/bin/python');
        assert.equal(expandPath('~/venvs/sa/bin/python', undefined, '/home/me'), '/home/me/venvs/sa/bin/python');
        assert.equal(expandPath('${userHome}/py', undefined, '/home/me'), '/home/me/py');
        assert.equal(expandPath('/a~b/python', undefined, '/home/me'), '/a~b/python');
    });
});

describe('server command', () => {
    it('runs the module over stdio', () => {
        assert.deepEqual(serverArgs(), ['-m', 'sophia_artemis', 'serve', '--stdio']);
    });

    it('quotes the interpreter in the install command', () => {
        assert.equal(installCommandLine('/usr/bin/python3', 'linux'), '/usr/bin/python3 -m pip install sophia-artemis');
        assert.equal(
            installCommandLine("/home/o'neil/my env/python", 'linux'),
            "'/home/o'\\''neil/my env/python' -m pip install sophia-artemis",
        );
        assert.equal(
            installCommandLine('C:\\Program Files\\Python\\python.exe', 'win32'),
            '& "C:\\Program Files\\Python\\python.exe" -m pip install sophia-artemis',
        );
        assert.equal(defaultCommand('linux'), 'python3');
    });
});
