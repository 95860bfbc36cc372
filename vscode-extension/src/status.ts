/**
 * What the status bar item shows for each server state, and the menu behind it. Pure, so it is tested
 * without VS Code; extension.ts only copies these fields onto the StatusBarItem.
 */

/** The server process: `restarting` is between a crash and the automatic restart. */
export type Phase = 'starting' | 'ready' | 'restarting' | 'error';

/** What the running server says of itself (the `sophia/status` notification, docs/commands.md). */
export type ServerState = 'indexing' | 'ready' | 'degraded';

export interface ComponentStatus {
    state: ServerState;
    message: string;
    percentage?: number;
}

export interface ServerReport {
    state: ServerState;
    message: string;
    percentage?: number;
    components: Record<string, ComponentStatus>;
}

export const STATUS_NOTIFICATION = 'sophia/status';
/** Set in ClientCapabilities.experimental: the server sends `sophia/status` only to clients that ask. */
export const STATUS_CAPABILITY = 'sophiaStatus';

export interface ServerStatus {
    phase: Phase;
    /** One sentence on why (shown in the tooltip). */
    detail?: string;
    /** The interpreter the server runs with, when known. */
    interpreter?: string;
    /** Crashes within the restart window. */
    crashes?: number;
    /** The running server's last `sophia/status` (only meaningful while `phase` is `ready`). */
    report?: ServerReport;
}

export interface StatusView {
    text: string;
    tooltip: string;
    /** A theme colour id for the background, if any. */
    background?: 'statusBarItem.warningBackground' | 'statusBarItem.errorBackground';
    accessibilityLabel: string;
}

const STATES: readonly ServerState[] = ['indexing', 'ready', 'degraded'];

function component(value: unknown): ComponentStatus | undefined {
    if (typeof value !== 'object' || value === null) {
        return undefined;
    }
    const v = value as Record<string, unknown>;
    if (!STATES.includes(v.state as ServerState) || typeof v.message !== 'string') {
        return undefined;
    }
    const out: ComponentStatus = { state: v.state as ServerState, message: v.message };
    if (typeof v.percentage === 'number' && Number.isFinite(v.percentage)) {
        out.percentage = Math.max(0, Math.min(100, Math.round(v.percentage)));
    }
    return out;
}

/** The notification's params, checked; undefined for anything else (a newer or broken server). */
export function parseReport(params: unknown): ServerReport | undefined {
    const top = component(params);
    if (top === undefined) {
        return undefined;
    }
    const components: Record<string, ComponentStatus> = {};
    const raw = (params as Record<string, unknown>).components;
    if (typeof raw === 'object' && raw !== null) {
        for (const [name, value] of Object.entries(raw)) {
            const c = component(value);
            if (c !== undefined) {
                components[name] = c;
            }
        }
    }
    return { ...top, components };
}

/** ClientCapabilities.experimental with the opt-in for `sophia/status` added. */
export function withStatusCapability(experimental: unknown): Record<string, unknown> {
    const base = typeof experimental === 'object' && experimental !== null ? (experimental as Record<string, unknown>) : {};
    return { ...base, [STATUS_CAPABILITY]: true };
}

const LABEL_MAX = 40;

/** The short label of a degraded message: its text before the first ": " ("lexical search only"). */
export function shortLabel(message: string): string {
    const first = message.split('; ')[0] ?? '';
    const label = (first.includes(': ') ? first.slice(0, first.indexOf(': ')) : first).trim();
    if (label === '') {
        return 'degraded';
    }
    return label.length > LABEL_MAX ? `${label.slice(0, LABEL_MAX - 1)}…` : label;
}

const SUMMARY: Record<Phase, string> = {
    starting: 'the language server is starting',
    ready: 'the language server is running',
    restarting: 'the language server stopped unexpectedly and is being restarted',
    error: 'the language server is not running',
};

/** What the item says: the process phase, or once running, the server's own state. */
function headline(status: ServerStatus): { icon: string; text: string; label: string; summary: string } {
    const report = status.phase === 'ready' ? status.report : undefined;
    if (report?.state === 'indexing') {
        const percent = report.percentage === undefined ? '' : ` ${report.percentage}%`;
        return { icon: '$(sync~spin)', text: `Sophia: indexing${percent}`, label: `indexing${percent}`, summary: 'indexing the workspace' };
    }
    if (report?.state === 'degraded') {
        const label = shortLabel(report.message);
        return { icon: '$(warning)', text: `Sophia: ${label}`, label, summary: 'running with reduced features' };
    }
    switch (status.phase) {
        case 'ready':
            return { icon: '$(check)', text: 'Sophia', label: 'ready', summary: report ? 'ready' : SUMMARY.ready };
        case 'starting':
            return { icon: '$(sync~spin)', text: 'Sophia: starting', label: 'starting', summary: SUMMARY.starting };
        case 'restarting':
            return { icon: '$(warning)', text: 'Sophia: restarting', label: 'restarting', summary: SUMMARY.restarting };
        case 'error':
            return { icon: '$(error)', text: 'Sophia: error', label: 'error', summary: SUMMARY.error };
    }
}

function capitalised(name: string): string {
    return name.charAt(0).toUpperCase() + name.slice(1);
}

export function statusView(status: ServerStatus): StatusView {
    const head = headline(status);
    const lines = [`Sophia Artemis: ${head.summary}.`];
    const report = status.phase === 'ready' ? status.report : undefined;
    for (const [name, c] of Object.entries(report?.components ?? {})) {
        lines.push(`${capitalised(name)}: ${c.message}`);
    }
    if (status.detail) {
        lines.push(status.detail);
    }
    if (status.interpreter) {
        lines.push(`Interpreter: ${status.interpreter}`);
    }
    if (status.crashes && status.crashes > 0) {
        lines.push(`Crashes in the last minutes: ${status.crashes}`);
    }
    lines.push('Click for actions.');
    return {
        text: `${head.icon} ${head.text}`,
        tooltip: lines.join('\n'),
        background:
            status.phase === 'error'
                ? 'statusBarItem.errorBackground'
                : status.phase === 'restarting'
                  ? 'statusBarItem.warningBackground'
                  : undefined,
        accessibilityLabel: `Sophia Artemis: ${head.label}`,
    };
}

export interface MenuEntry {
    label: string;
    description?: string;
    /** A command id this extension registers. */
    command: string;
}

/** The palette commands that need a server command, with the server command each one calls. */
export const FEATURE_ENTRIES: readonly (MenuEntry & { serverCommand: string })[] = [
    { label: '$(search) Semantic search', command: 'sophiaArtemis.search', serverCommand: 'sophia.search' },
    { label: '$(references) Show impact of the symbol under the cursor', command: 'sophiaArtemis.showImpact', serverCommand: 'sophia.impact' },
    { label: '$(type-hierarchy) Show dependency graph', command: 'sophiaArtemis.showGraph', serverCommand: 'sophia.graph' },
    { label: '$(sync) Open import cycle', command: 'sophiaArtemis.openCycle', serverCommand: 'sophia.openCycle' },
    { label: '$(graph) Show report', command: 'sophiaArtemis.showReport', serverCommand: 'sophia.report' },
    { label: '$(note) Remember a note', command: 'sophiaArtemis.remember', serverCommand: 'sophia.remember' },
];

/**
 * The status bar menu: only commands that work now. The server's features come first when it is running
 * and offers them (`offers` reads its executeCommandProvider); restart, logs and settings are always there.
 */
export function menuEntries(status: ServerStatus, offers: (serverCommand: string) => boolean = () => false): MenuEntry[] {
    const features =
        status.phase === 'ready'
            ? FEATURE_ENTRIES.filter((entry) => offers(entry.serverCommand)).map(({ label, command }) => ({ label, command }))
            : [];
    const entries: MenuEntry[] = [
        ...features,
        {
            label: '$(debug-restart) Restart server',
            description: status.phase === 'error' ? 'try again' : undefined,
            command: 'sophiaArtemis.restartServer',
        },
        { label: '$(output) Show logs', command: 'sophiaArtemis.showLogs' },
        { label: '$(settings-gear) Open settings', command: 'sophiaArtemis.openSettings' },
    ];
    return entries;
}

/** The function metrics `sophia.showMetrics` answers, in one line (clicking a code lens shows it). */
export function metricsMessage(metrics: unknown): string | undefined {
    if (typeof metrics !== 'object' || metrics === null) {
        return undefined;
    }
    const m = metrics as Record<string, unknown>;
    const name = typeof m.qualname === 'string' ? m.qualname : typeof m.name === 'string' ? m.name : 'function';
    const parts: string[] = [];
    for (const [key, label] of [
        ['cyclomatic', 'cyclomatic'],
        ['cognitive', 'cognitive'],
        ['loc', 'lines'],
        ['params', 'parameters'],
    ] as const) {
        if (typeof m[key] === 'number') {
            parts.push(`${label} ${m[key]}`);
        }
    }
    return parts.length === 0 ? undefined : `${name}: ${parts.join(' · ')}`;
}
