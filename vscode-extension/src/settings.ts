/**
 * VS Code settings -> what the server receives (initializationOptions and workspace/configuration answers).
 *
 * Only values the user actually set are sent. The server layers defaults < pyproject.toml < editor settings,
 * so sending VS Code's contributed defaults would silently override every project's
 * `[tool.sophia-artemis]` table.
 */

export const SECTION = 'sophiaArtemis';

/** The keys the server understands (docs/configuration.md); `interpreter` and `trace` are the extension's own. */
export const SERVER_KEYS = [
    'select',
    'ignore',
    'exclude',
    'thresholds',
    'severity',
    'debtMarkers',
    'maxFileSize',
    'importRoots',
    'diagnosticScope',
    'unused',
    'architecture',
    'semantic',
    'baseline',
    'learning',
    'completion',
] as const;
export type ServerKey = (typeof SERVER_KEYS)[number];

/** The part of `WorkspaceConfiguration.inspect()` used here. */
export interface Inspection {
    defaultValue?: unknown;
    globalValue?: unknown;
    workspaceValue?: unknown;
    workspaceFolderValue?: unknown;
}

export type ServerSettings = Partial<Record<ServerKey, unknown>>;

function isPlainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The settings the user set, most specific scope winning (user < workspace < folder). Object settings
 * (`thresholds`, `severity`) merge key by key across scopes, as VS Code shows them.
 */
export function explicitSettings(inspect: (key: ServerKey) => Inspection | undefined): ServerSettings {
    const out: ServerSettings = {};
    for (const key of SERVER_KEYS) {
        const found = inspect(key);
        if (found === undefined) {
            continue;
        }
        const layers = [found.globalValue, found.workspaceValue, found.workspaceFolderValue].filter(
            (value) => value !== undefined && value !== null,
        );
        if (layers.length === 0) {
            continue;
        }
        out[key] = layers.every(isPlainObject) ? Object.assign({}, ...layers) : layers[layers.length - 1];
    }
    return out;
}

/** initializationOptions: the settings object itself (the server also accepts it under `sophiaArtemis`). */
export function initializationOptions(settings: ServerSettings): Record<string, unknown> {
    return { ...settings };
}

export interface ConfigurationItem {
    scopeUri?: string;
    section?: string;
}

/**
 * Answers to a workspace/configuration request: our section gets the explicit settings for its scope,
 * every other item keeps what VS Code answered.
 */
export function answerConfiguration(
    items: readonly ConfigurationItem[],
    vscodeAnswers: readonly unknown[],
    settingsFor: (scopeUri: string | undefined) => ServerSettings,
): unknown[] {
    return items.map((item, index) => {
        if (item.section === SECTION) {
            return settingsFor(item.scopeUri);
        }
        return vscodeAnswers[index] ?? null;
    });
}

/** Whether a configuration change needs a server restart (the interpreter) rather than a settings push. */
export function needsRestart(affects: (section: string) => boolean): boolean {
    return affects(`${SECTION}.interpreter`);
}
