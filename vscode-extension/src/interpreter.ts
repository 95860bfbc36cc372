/**
 * Which Python runs the server: the `sophiaArtemis.interpreter` setting, else the Python extension's active
 * interpreter, else `python3` (`python` on Windows) on PATH. Pure: the sources are passed in, so the order is
 * unit-tested without VS Code.
 */

export type InterpreterSource = 'setting' | 'python-extension' | 'path';

export interface ResolvedInterpreter {
    /** The executable to run: an absolute path, or a bare command looked up on PATH. */
    command: string;
    source: InterpreterSource;
}

export interface InterpreterSources {
    /** The raw `sophiaArtemis.interpreter` value. */
    setting?: string;
    /** The Python extension's active interpreter; undefined when the extension is absent or has none. */
    pythonExtension?: () => Promise<string | undefined>;
    platform?: NodeJS.Platform;
    /** For `${workspaceFolder}` in the setting. */
    workspaceFolder?: string;
    /** For `~` in the setting. */
    home?: string;
}

/** The interpreter on PATH when nothing else names one. */
export function defaultCommand(platform: NodeJS.Platform = process.platform): string {
    return platform === 'win32' ? 'python' : 'python3';
}

/** Expand `${workspaceFolder}`, `${userHome}` and a leading `~` in a configured path. */
export function expandPath(value: string, workspaceFolder?: string, home?: string): string {
    let out = value.trim();
    if (workspaceFolder !== undefined) {
        out = out.split('${workspaceFolder}').join(workspaceFolder);
    }
    if (home !== undefined) {
        out = out.split('${userHome}').join(home);
        if (out === '~' || out.startsWith('~/') || out.startsWith('~\\')) {
            out = home + out.slice(1);
        }
    }
    return out;
}

export async function resolveInterpreter(sources: InterpreterSources): Promise<ResolvedInterpreter> {
    const configured = sources.setting === undefined ? '' : expandPath(sources.setting, sources.workspaceFolder, sources.home);
    if (configured !== '') {
        return { command: configured, source: 'setting' };
    }
    if (sources.pythonExtension !== undefined) {
        let fromExtension: string | undefined;
        try {
            fromExtension = await sources.pythonExtension();
        } catch {
            fromExtension = undefined; // a broken or still-loading Python extension must not stop the server
        }
        if (fromExtension !== undefined && fromExtension.trim() !== '') {
            return { command: fromExtension.trim(), source: 'python-extension' };
        }
    }
    return { command: defaultCommand(sources.platform), source: 'path' };
}

/** How the server is started with that interpreter. */
export function serverArgs(): string[] {
    return ['-m', 'sophia_artemis', 'serve', '--stdio'];
}

/** The check that the interpreter has the package. */
export function importCheckArgs(): string[] {
    return ['-c', 'import sophia_artemis'];
}

/** A shell command line installing the server into `command` (quoted for the platform's default shell). */
export function installCommandLine(command: string, platform: NodeJS.Platform = process.platform): string {
    const quoted = platform === 'win32' ? `& "${command.replace(/"/g, '`"')}"` : shellQuote(command);
    return `${quoted} -m pip install sophia-artemis`;
}

function shellQuote(value: string): string {
    return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Human words for where the interpreter came from (tooltips, messages). */
export function describeSource(source: InterpreterSource): string {
    switch (source) {
        case 'setting':
            return 'the sophiaArtemis.interpreter setting';
        case 'python-extension':
            return "the Python extension's active interpreter";
        case 'path':
            return 'PATH';
    }
}
