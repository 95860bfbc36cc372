/**
 * The server's `workspace/executeCommand` answers (docs/commands.md), checked before use. Pure: no VS Code.
 *
 * A command that cannot answer says so in `{"version": 1, "error": "..."}`; an answer of the wrong shape (an
 * older server, a crash in the handler) must also end in a message the user sees, never a silent nothing.
 */

export interface Position {
    line: number;
    character: number;
}

export interface Range {
    start: Position;
    end: Position;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

export function isObject(value: unknown): value is Record<string, unknown> {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `answer` as an object, or the one-line reason it cannot be used. */
export function checkAnswer(command: string, answer: unknown): Checked<Record<string, unknown>> {
    if (answer === null || answer === undefined) {
        return { ok: false, error: `the server gave no answer to ${command}` };
    }
    if (!isObject(answer)) {
        return { ok: false, error: `the server answered ${command} with ${JSON.stringify(answer).slice(0, 80)}` };
    }
    if (typeof answer.error === 'string') {
        return { ok: false, error: answer.error };
    }
    return { ok: true, value: answer };
}

/** Whether the server lists `command` in its `executeCommandProvider.commands`. */
export function serverOffers(capabilities: unknown, command: string): boolean {
    if (!isObject(capabilities) || !isObject(capabilities.executeCommandProvider)) {
        return false;
    }
    const commands = capabilities.executeCommandProvider.commands;
    return Array.isArray(commands) && commands.includes(command);
}

export function isRange(value: unknown): value is Range {
    const isPosition = (p: unknown): p is Position =>
        isObject(p) && typeof p.line === 'number' && typeof p.character === 'number';
    return isObject(value) && isPosition(value.start) && isPosition(value.end);
}

export function text(value: unknown, fallback = ''): string {
    return typeof value === 'string' ? value : fallback;
}

export function list(value: unknown): unknown[] {
    return Array.isArray(value) ? value : [];
}
