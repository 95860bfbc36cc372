/**
 * What the status bar item shows for each server state, and the menu behind it. Pure, so it is tested
 * without VS Code; extension.ts only copies these fields onto the StatusBarItem.
 */

export type Phase = 'starting' | 'ready' | 'degraded' | 'error';

export interface ServerStatus {
    phase: Phase;
    /** One sentence on why (shown in the tooltip). */
    detail?: string;
    /** The interpreter the server runs with, when known. */
    interpreter?: string;
    /** Crashes within the restart window. */
    crashes?: number;
}

export interface StatusView {
    text: string;
    tooltip: string;
    /** A theme colour id for the background, if any. */
    background?: 'statusBarItem.warningBackground' | 'statusBarItem.errorBackground';
    accessibilityLabel: string;
}

const ICONS: Record<Phase, string> = {
    starting: '$(sync~spin)',
    ready: '$(check)',
    degraded: '$(warning)',
    error: '$(error)',
};

const SUMMARY: Record<Phase, string> = {
    starting: 'the language server is starting',
    ready: 'the language server is running',
    degraded: 'the language server stopped unexpectedly and is being restarted',
    error: 'the language server is not running',
};

export function statusView(status: ServerStatus): StatusView {
    const lines = [`Sophia Artemis: ${SUMMARY[status.phase]}.`];
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
        text: `${ICONS[status.phase]} Sophia: ${status.phase}`,
        tooltip: lines.join('\n'),
        background:
            status.phase === 'error'
                ? 'statusBarItem.errorBackground'
                : status.phase === 'degraded'
                  ? 'statusBarItem.warningBackground'
                  : undefined,
        accessibilityLabel: `Sophia Artemis: ${status.phase}`,
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
