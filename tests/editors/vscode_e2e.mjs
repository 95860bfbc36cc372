// Drives a real VS Code workbench (code-server in Debian's chromium, through playwright-core) against the
// installed Sophia Artemis extension. Started by tests/editors/test_vscode.py, which installs the .vsix,
// starts code-server and passes a JSON config path as the only argument:
//   { url, folder, outDir, chromium, toolsDir, interpreter, bareInterpreter }
// Every step waits for a selector or a condition (never a fixed sleep), takes a screenshot into outDir, and
// is reported in one JSON line on stdout: {"ok": bool, "steps": [...], "error"?: string}.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const require = createRequire(path.join(config.toolsDir, 'e2e', 'package.json'));
const { chromium } = require('playwright-core');

const TIMEOUT = 45_000;
const steps = [];
let shot = 0;

async function screenshot(page, name) {
    shot += 1;
    const file = path.join(config.outDir, `${String(shot).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: file });
    return file;
}

async function step(page, name, body) {
    const started = Date.now();
    const detail = await body();
    const file = await screenshot(page, name);
    steps.push({ name, ms: Date.now() - started, screenshot: file, ...(detail ?? {}) });
}

/** The server process this workbench started: `python -m sophia_artemis serve` whose cwd is our folder. */
function serverPids() {
    const pids = [];
    for (const entry of fs.readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        try {
            const argv = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
            if (!argv.includes('sophia_artemis') || !argv.includes('serve')) continue;
            if (fs.readlinkSync(`/proc/${entry}/cwd`) === config.folder) pids.push(Number(entry));
        } catch {
            // the process ended while we looked
        }
    }
    return pids;
}

async function waitFor(condition, what, timeout = TIMEOUT) {
    const deadline = Date.now() + timeout;
    // polls a condition outside the page (processes); page state is awaited with selectors
    while (Date.now() < deadline) {
        const value = condition();
        if (value) return value;
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`timed out waiting for ${what}`);
}

function statusItem(page, phase) {
    return page.locator('.statusbar-item', { hasText: `Sophia: ${phase}` });
}

async function problemRows(page) {
    return (await page.locator('.markers-panel .monaco-tl-row').allTextContents()).map((t) => t.trim());
}

async function searchSettings(page, query) {
    await page.locator('.settings-editor .settings-header .monaco-editor').first().click();
    await page.keyboard.press('Control+A');
    await page.keyboard.type(query);
}

/** Change `sophiaArtemis.interpreter` the way a user does, in the Settings editor. It is a machine setting
 * (a path on the machine the server runs on), so in code-server it lives on the "Remote" tab. */
async function setInterpreter(page, value) {
    await page.locator('.settings-editor .settings-tabs-widget .action-label', { hasText: 'Remote' }).click();
    await searchSettings(page, 'sophiaArtemis.interpreter');
    const input = page.locator('.settings-editor .setting-item-contents', { hasText: 'Interpreter' }).locator('input').first();
    await input.waitFor();
    await input.fill(value);
    await input.press('Tab');
}

async function run(page) {
    await step(page, 'workbench', async () => {
        await page.goto(`${config.url}/?folder=${encodeURIComponent(config.folder)}`);
        await page.locator('.monaco-workbench').waitFor();
        await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor();
    });

    await step(page, 'open-pricing-py', async () => {
        const rows = page.locator('.explorer-folders-view .monaco-list-row');
        await rows.filter({ hasText: /^shop$/ }).click();
        await rows.filter({ hasText: /^pricing\.py$/ }).click();
        await page.locator('.tab.active', { hasText: 'pricing.py' }).waitFor();
    });

    await step(page, 'squiggles', async () => {
        await page.locator('.monaco-editor .squiggly-warning').first().waitFor();
        return {
            warnings: await page.locator('.monaco-editor .squiggly-warning').count(),
            infos: await page.locator('.monaco-editor .squiggly-info').count(),
        };
    });

    await step(page, 'status-ready', async () => {
        await statusItem(page, 'ready').waitFor();
        return { status: (await statusItem(page, 'ready').textContent()).trim() };
    });

    await step(page, 'code-lens', async () => {
        const lens = page.locator('.monaco-editor .codelens-decoration a', { hasText: 'cyclomatic' }).first();
        await lens.waitFor();
        const text = (await lens.textContent()).trim();
        await lens.click(); // runs sophia.showMetrics; the extension shows the answer
        const toast = page.locator('.notification-toast .notification-list-item-message', { hasText: 'price: cyclomatic' });
        await toast.waitFor();
        return { lens: text, notification: (await toast.innerText()).trim() };
    });

    let before;
    await step(page, 'problems-panel', async () => {
        await page.locator('.monaco-editor .view-lines').first().click();
        await page.keyboard.press('Control+Shift+M');
        await page.locator('.markers-panel .monaco-tl-row', { hasText: 'SA101' }).waitFor();
        before = await problemRows(page);
        return { rows: before };
    });

    await step(page, 'quick-fix-menu', async () => {
        // cursor onto `price` in `def price(` (line 6, column 5), where SA101 and SA102 are reported
        await page.locator('.monaco-editor .view-lines').first().click();
        await page.keyboard.press('Control+G');
        await page.locator('.quick-input-widget input').waitFor();
        await page.keyboard.type('6:5');
        await page.keyboard.press('Enter');
        await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
        await page.keyboard.press('Control+.');
        await page.locator('.action-widget .monaco-list-row', { hasText: 'Suppress SA101 on this line' }).waitFor();
        return { actions: (await page.locator('.action-widget .monaco-list-row').allTextContents()).map((t) => t.trim()) };
    });

    await step(page, 'suppressed', async () => {
        // the action widget is driven by keyboard (a pointer-blocking layer covers it for the mouse)
        const target = 'Suppress SA101 on this line';
        for (let i = 0; i < 10; i++) {
            const focused = page.locator('.action-widget .monaco-list-row.focused');
            if (((await focused.count()) > 0 && (await focused.first().textContent()).includes(target))) break;
            await page.keyboard.press('ArrowDown');
        }
        await page.locator('.action-widget .monaco-list-row.focused', { hasText: target }).waitFor();
        await page.keyboard.press('Enter');
        await page.locator('.monaco-editor .view-line', { hasText: '# sophia: ignore[SA101]' }).waitFor();
        await page.locator('.markers-panel .monaco-tl-row', { hasText: 'SA101' }).waitFor({ state: 'detached' });
        await page.locator('.markers-panel .monaco-tl-row', { hasText: 'SA102' }).waitFor();
        return { rows: await problemRows(page) };
    });

    await step(page, 'status-menu', async () => {
        await page.keyboard.press('Escape');
        await statusItem(page, 'ready').click();
        const items = page.locator('.quick-input-widget .monaco-list-row');
        await items.filter({ hasText: 'Show logs' }).waitFor();
        const labels = (await items.allTextContents()).map((t) => t.trim());
        await screenshot(page, 'status-menu-open');
        await items.filter({ hasText: 'Show logs' }).click();
        await page.locator('.part.panel .view-line', { hasText: 'interpreter:' }).first().waitFor();
        return { menu: labels };
    });

    let firstPid;
    await step(page, 'crash-degraded', async () => {
        const pids = await waitFor(() => (serverPids().length === 1 ? serverPids() : null), 'one server process');
        firstPid = pids[0];
        process.kill(firstPid, 'SIGKILL');
        await statusItem(page, 'degraded').waitFor();
        return { killed: firstPid };
    });

    await step(page, 'restarted-ready', async () => {
        await statusItem(page, 'ready').waitFor();
        const pids = await waitFor(() => {
            const found = serverPids();
            return found.length === 1 && found[0] !== firstPid ? found : null;
        }, 'a new server process');
        // diagnostics come back from the new server (SA102 is still there; SA101 stays suppressed)
        await page.locator('.monaco-editor .view-lines').first().click();
        await page.keyboard.press('Control+Shift+M');
        await page.locator('.markers-panel .monaco-tl-row', { hasText: 'SA102' }).waitFor();
        // nothing sent into the dead connection while it was down (no "Sending ... failed" popups)
        const failures = await page.locator('.notification-toast', { hasText: 'failed' }).count();
        if (failures > 0) throw new Error('an error notification appeared while the server restarted');
        return { newPid: pids[0], rows: await problemRows(page) };
    });

    await step(page, 'settings-ui', async () => {
        await page.keyboard.press('Control+,');
        await page.locator('.settings-editor').waitFor();
        await searchSettings(page, '@ext:sophia-artemis.sophia-artemis');
        await page.locator('.settings-editor .setting-item-contents', { hasText: 'Debt Markers' }).waitFor();
        const titles = await page.locator('.settings-editor .setting-item-contents .setting-item-label').allTextContents();
        return { settings: titles.map((t) => t.trim()) };
    });

    await step(page, 'missing-package', async () => {
        // an interpreter without sophia-artemis: changing the setting restarts the server, which cannot start
        await setInterpreter(page, config.bareInterpreter);
        await statusItem(page, 'error').waitFor();
        const toast = page.locator('.notification-toast', { hasText: 'sophia-artemis is not installed in' });
        await toast.waitFor();
        await toast.locator('.monaco-button', { hasText: 'Install into this interpreter' }).waitFor();
        return { notification: (await toast.locator('.notification-list-item-message').innerText()).trim() };
    });

    await step(page, 'interpreter-restored', async () => {
        await setInterpreter(page, config.interpreter);
        await statusItem(page, 'ready').waitFor();
        await page.locator('.markers-panel .monaco-tl-row', { hasText: 'SA102' }).waitFor();
    });

    await step(page, 'workspace-setting', async () => {
        // a workspace setting reaches the running server (workspace/configuration), while the thresholds
        // of pyproject.toml (cognitive 8, so SA102 fires at 10) still apply: defaults are not sent
        fs.mkdirSync(path.join(config.folder, '.vscode'), { recursive: true });
        fs.writeFileSync(path.join(config.folder, '.vscode', 'settings.json'), JSON.stringify({ 'sophiaArtemis.ignore': ['SA201'] }));
        await page.keyboard.press('Control+W'); // close the Settings editor
        await page.locator('.markers-panel .monaco-tl-row', { hasText: 'SA201' }).waitFor({ state: 'detached' });
        await page.locator('.markers-panel .monaco-tl-row', { hasText: 'SA102' }).waitFor();
        return { rows: await problemRows(page) };
    });
}

const browser = await chromium.launch({
    executablePath: config.chromium,
    args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
    ],
});
let result;
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
page.setDefaultTimeout(TIMEOUT);
try {
    await run(page);
    result = { ok: true, steps };
} catch (error) {
    let failure;
    try {
        failure = await screenshot(page, 'failure');
    } catch {
        failure = undefined;
    }
    result = { ok: false, steps, error: String(error?.stack ?? error), screenshot: failure };
} finally {
    await browser.close();
}
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(result.ok ? 0 : 1);
