// Drives a real VS Code workbench (code-server in Debian's chromium, through playwright-core) against the
// installed Sophia Artemis extension. Started by tests/editors/test_vscode.py, which installs the .vsix,
// starts code-server and passes a JSON config path as the only argument:
//   { url, folder, outDir, chromium, toolsDir, interpreter, bareInterpreter, scenario, offered }
// `scenario` picks the run: "main" (diagnostics, quick fix, status bar, restarts, settings; fixtures/lsp_project),
// "search" (the semantic search palette command; fixtures/lsp_project) or "graph" (the dependency graph
// webview, then import cycles, report and impact when the server offers them; fixtures/graph_project).
// `offered` is the server's executeCommandProvider.commands.
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

// the status bar item's text per state (status.ts): ready is the bare name with a check mark
const STATUS_TEXT = {
    ready: /^\s*Sophia\s*$/,
    indexing: /Sophia: indexing/,
    starting: /Sophia: starting/,
    restarting: /Sophia: restarting/,
    error: /Sophia: error/,
};

function statusItem(page, phase) {
    return page.locator('.statusbar-item', { hasText: STATUS_TEXT[phase] });
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

async function openWorkbench(page) {
    await step(page, 'workbench', async () => {
        await page.goto(`${config.url}/?folder=${encodeURIComponent(config.folder)}`);
        await page.locator('.monaco-workbench').waitFor();
        await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor();
    });
}

/** Runs a palette command by its title, the way a user does (F1, type, Enter). */
async function runCommand(page, title) {
    const input = page.locator('.quick-input-widget input');
    // F1 can land while a tooltip or a closing quick input holds the focus, and a palette that showed can be
    // closed again by the previous command's peek or notification: try again until the text is in it
    for (let attempt = 1; ; attempt++) {
        await page.keyboard.press('F1');
        try {
            await input.waitFor({ state: 'visible', timeout: 5000 });
            await input.fill(`>${title}`, { timeout: 5000 });
            break;
        } catch (error) {
            if (attempt >= 3) throw error;
            await page.keyboard.press('Escape');
            await page.locator('.monaco-editor .view-lines').first().click();
        }
    }
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first().waitFor();
    await page.keyboard.press('Enter');
}

/** Opens a file from the explorer by the folder names leading to it. */
async function openFile(page, ...names) {
    const rows = page.locator('.explorer-folders-view .monaco-list-row');
    for (const name of names) {
        await rows.filter({ hasText: new RegExp(`^${name.replace(/\./g, '\\.')}$`) }).click();
    }
    await page.locator('.tab.active', { hasText: names[names.length - 1] }).waitFor();
}

async function runSearch(page) {
    await openWorkbench(page);
    await step(page, 'search-ready', async () => {
        await openFile(page, 'shop', 'stock.py');
        await statusItem(page, 'ready').waitFor();
    });
    await step(page, 'search-input', async () => {
        await runCommand(page, 'Sophia: Semantic search');
        await page.locator('.quick-input-widget', { hasText: 'Sophia: Semantic search' }).waitFor();
        await page.keyboard.type('price with discount');
    });
    let rows;
    await step(page, 'search-results', async () => {
        await page.keyboard.press('Enter');
        // the first search may build the index: give it longer than a step
        const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: 'pricing.py' }).first();
        await row.waitFor({ timeout: 150_000 });
        rows = (await page.locator('.quick-input-widget .monaco-list-row').allTextContents()).map((t) => t.trim());
        const title = (await page.locator('.quick-input-widget .quick-input-title').textContent())?.trim();
        return { rows, title };
    });
    await step(page, 'search-opened', async () => {
        const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: 'pricing.py' }).first();
        await row.click();
        await page.locator('.tab.active', { hasText: 'pricing.py' }).waitFor();
        return { activeTab: (await page.locator('.tab.active').first().textContent()).trim() };
    });
}

/** The webview frame whose page has `selector` (webviews sit in two nested iframes). */
async function webviewFrame(page, selector, timeout = 60_000) {
    const deadline = Date.now() + timeout;
    while (Date.now() < deadline) {
        for (const frame of page.frames()) {
            try {
                if ((await frame.locator(selector).count()) > 0) return frame;
            } catch {
                // a frame that went away while we looked
            }
        }
        await page.waitForTimeout(200);
    }
    throw new Error(`timed out waiting for a webview with ${selector}`);
}

async function runGraph(page) {
    const offered = new Set(config.offered ?? []);
    await openWorkbench(page);
    await step(page, 'graph-ready', async () => {
        await openFile(page, 'src', 'shop', 'core', 'pricing.py');
        await statusItem(page, 'ready').waitFor();
    });
    let frame;
    await step(page, 'graph-webview', async () => {
        await runCommand(page, 'Sophia: Show dependency graph');
        frame = await webviewFrame(page, 'body[data-rendered]');
        const graph = await frame.evaluate(() => {
            const cy = window.sophiaGraph;
            return {
                nodes: cy.nodes().map((n) => n.id()),
                cycleNodes: cy.nodes('.cycle').map((n) => n.id()),
                cycleEdges: cy.edges('.cycle').map((e) => e.id()),
                bar: document.getElementById('bar').textContent,
            };
        });
        return graph;
    });
    await step(page, 'graph-click-opens-module', async () => {
        // a real mouse click on the node, at its place on the canvas
        const where = await frame.evaluate(() => window.sophiaGraph.$id('shop.orders').renderedPosition());
        const box = await frame.locator('#graph').boundingBox();
        await page.mouse.click(box.x + where.x, box.y + where.y);
        await page.locator('.tab.active', { hasText: 'orders.py' }).waitFor();
        return { activeTab: (await page.locator('.tab.active').first().textContent()).trim() };
    });
    if (offered.has('sophia.openCycle')) {
        await step(page, 'open-cycle', async () => {
            await runCommand(page, 'Sophia: Open import cycle');
            const cycle = page.locator('.quick-input-widget .monaco-list-row', { hasText: 'shop.core' }).first();
            await cycle.waitFor();
            await cycle.click();
            await page.locator('.peekview-widget').first().waitFor();
            return { peek: (await page.locator('.peekview-widget .peekview-title').first().innerText()).trim() };
        });
        await page.keyboard.press('Escape');
    }
    if (offered.has('sophia.impact')) {
        await step(page, 'impact-tree', async () => {
            await page.locator('.tab', { hasText: 'pricing.py' }).click();
            await page.locator('.tab.active', { hasText: 'pricing.py' }).waitFor();
            await page.locator('.monaco-editor .view-lines').first().click();
            await page.keyboard.press('Control+Home');
            await runCommand(page, 'Sophia: Show impact');
            const view = page.locator('.pane', { hasText: 'Sophia Impact' });
            await view.locator('.monaco-list-row', { hasText: 'Dependents (direct)' }).waitFor();
            return { rows: (await view.locator('.monaco-list-row').allTextContents()).map((t) => t.trim()) };
        });
    }
    if (offered.has('sophia.impact')) {
        await step(page, 'peek-callers', async () => {
            await page.locator('.tab', { hasText: 'pricing.py' }).click();
            await page.locator('.monaco-editor .view-lines').first().click();
            await page.keyboard.press('Control+Home');
            await runCommand(page, 'Sophia: Peek callers');
            // either a peek of the callers or the message that there are none
            const peek = page.locator('.peekview-widget');
            const none = page.locator('.notification-toast', { hasText: 'no callers of' });
            await peek.or(none).first().waitFor();
            const shown = (await peek.count()) > 0 ? 'peek' : 'message';
            await page.keyboard.press('Escape');
            return { shown };
        });
    }
    if (offered.has('sophia.remember')) {
        await step(page, 'remember', async () => {
            await page.locator('.tab', { hasText: 'pricing.py' }).click();
            await runCommand(page, 'Sophia: Remember a note');
            await page.locator('.quick-input-widget', { hasText: 'Sophia: Remember a note' }).waitFor();
            await page.keyboard.type('prices are in cents');
            await page.keyboard.press('Enter');
            const toast = page.locator('.notification-toast', { hasText: 'Sophia remembered a note on' });
            await toast.waitFor();
            return { notification: (await toast.locator('.notification-list-item-message').innerText()).trim() };
        });
    }
    if (offered.has('sophia.report')) {
        await step(page, 'report-webview', async () => {
            await runCommand(page, 'Sophia: Show report');
            const report = await webviewFrame(page, 'h1:has-text("Sophia report")');
            return { text: (await report.locator('body').innerText()).slice(0, 2000) };
        });
    }
}

async function runMain(page) {
    await openWorkbench(page);

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
        // ready once the server says so (sophia/status): the workspace and its search index are built
        await statusItem(page, 'ready').waitFor({ timeout: 2 * TIMEOUT });
        const item = statusItem(page, 'ready');
        const label = await item.locator('[aria-label]').first().getAttribute('aria-label').catch(() => null);
        return { status: (await item.textContent()).trim(), ariaLabel: label ?? (await item.getAttribute('aria-label')) };
    });

    await step(page, 'status-tooltip', async () => {
        await statusItem(page, 'ready').hover();
        const hover = page.locator('.workbench-hover, .monaco-hover', { hasText: 'Sophia Artemis' }).last();
        await hover.waitFor();
        const tooltip = (await hover.innerText()).trim();
        return { tooltip };
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
        await page.locator('.markers-panel .monaco-tl-row', { hasText: 'SA101' }).first().waitFor();
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
        await page.locator('.markers-panel .monaco-tl-row', { hasText: 'SA101' }).first().waitFor({ state: 'detached' });
        await page.locator('.markers-panel .monaco-tl-row', { hasText: 'SA102' }).first().waitFor();
        return { rows: await problemRows(page) };
    });

    await step(page, 'status-menu', async () => {
        await page.keyboard.press('Escape');
        await page.mouse.move(0, 0); // away from the status bar: its tooltip may still be up
        await statusItem(page, 'ready').click();
        const items = page.locator('.quick-input-widget .monaco-list-row');
        await items.filter({ hasText: 'Show logs' }).waitFor();
        const labels = (await items.allTextContents()).map((t) => t.trim());
        await screenshot(page, 'status-menu-open');
        await items.filter({ hasText: 'Show logs' }).click();
        // the log channel opened: its first line names the interpreter, later ones come from the server
        // (which may have logged enough already to scroll the first line out of view)
        await page.locator('.part.panel .view-line', { hasText: /interpreter:|sophia_artemis/ }).first().waitFor();
        return { menu: labels };
    });

    let firstPid;
    await step(page, 'crash-restarting', async () => {
        const pids = await waitFor(() => (serverPids().length === 1 ? serverPids() : null), 'one server process');
        firstPid = pids[0];
        process.kill(firstPid, 'SIGKILL');
        await statusItem(page, 'restarting').waitFor();
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
        await page.locator('.markers-panel .monaco-tl-row', { hasText: 'SA102' }).first().waitFor();
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
        await page.locator('.markers-panel .monaco-tl-row', { hasText: 'SA102' }).first().waitFor();
    });

    await step(page, 'workspace-setting', async () => {
        // a workspace setting reaches the running server (workspace/configuration), while the thresholds
        // of pyproject.toml (cognitive 8, so SA102 fires at 10) still apply: defaults are not sent
        fs.mkdirSync(path.join(config.folder, '.vscode'), { recursive: true });
        fs.writeFileSync(path.join(config.folder, '.vscode', 'settings.json'), JSON.stringify({ 'sophiaArtemis.ignore': ['SA201'] }));
        await page.keyboard.press('Control+W'); // close the Settings editor
        await page.locator('.markers-panel .monaco-tl-row', { hasText: 'SA201' }).first().waitFor({ state: 'detached' });
        await page.locator('.markers-panel .monaco-tl-row', { hasText: 'SA102' }).first().waitFor();
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
    const scenario = config.scenario ?? 'main';
    await { main: runMain, search: runSearch, graph: runGraph }[scenario](page);
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
