/** `sophia.impact` answer -> the nodes of the "Sophia Impact" tree. Pure, so it is tested without VS Code. */
import { isObject, isRange, list, Range, text } from './answers';

export interface ImpactNode {
    label: string;
    description?: string;
    tooltip?: string;
    /** A codicon id. */
    icon?: string;
    /** Where a click goes; groups have none. */
    uri?: string;
    range?: Range;
    children?: ImpactNode[];
    /** Groups that are usually long start collapsed. */
    collapsed?: boolean;
}

/** A dependent is `{"module", "path", "uri"}` from the server; the CLI's bare module name is accepted too. */
function dependentNode(entry: unknown): ImpactNode | undefined {
    if (typeof entry === 'string') {
        return { label: entry, icon: 'symbol-module' };
    }
    if (!isObject(entry)) {
        return undefined;
    }
    const label = text(entry.module) || text(entry.path);
    if (!label) {
        return undefined;
    }
    return { label, description: text(entry.path) || undefined, icon: 'symbol-module', uri: text(entry.uri) || undefined };
}

function dependentKey(entry: unknown): string {
    return typeof entry === 'string' ? entry : isObject(entry) ? text(entry.module) || text(entry.path) : '';
}

function callerNode(entry: unknown): ImpactNode | undefined {
    if (!isObject(entry)) {
        return undefined;
    }
    const range = isRange(entry.range) ? entry.range : undefined;
    const path = text(entry.path);
    return {
        label: text(entry.qualname) || path,
        description: range ? `${path}:${range.start.line + 1}` : path,
        icon: 'symbol-function',
        uri: text(entry.uri) || undefined,
        range,
    };
}

function fileNode(entry: unknown, icon: string): ImpactNode | undefined {
    if (typeof entry === 'string') {
        return { label: entry, icon };
    }
    if (!isObject(entry) || !text(entry.path)) {
        return undefined;
    }
    const details: string[] = [];
    if (typeof entry.score === 'number') {
        details.push(`score ${entry.score.toFixed(2)}`);
    }
    if (typeof entry.commits === 'number') {
        details.push(`${entry.commits} commit${entry.commits === 1 ? '' : 's'}`);
    }
    return { label: text(entry.path), description: details.join(' · ') || undefined, icon, uri: text(entry.uri) || undefined };
}

function group(label: string, icon: string, children: (ImpactNode | undefined)[], empty: string, collapsed = false): ImpactNode {
    const kept = children.filter((c): c is ImpactNode => c !== undefined);
    return {
        label,
        description: kept.length === 0 ? empty : String(kept.length),
        icon,
        children: kept,
        ...(collapsed ? { collapsed } : {}),
    };
}

/**
 * Five groups, always in this order and always present (an empty group says "none", which is an answer too):
 * direct dependents, indirect dependents (the transitive ones that are not direct), callers, tests, co-changed.
 * The indirect dependents and co-changed files, often long lists, start collapsed.
 */
export function impactTree(answer: Record<string, unknown>): ImpactNode[] {
    const dependents = isObject(answer.dependents) ? answer.dependents : {};
    const direct = list(dependents.direct);
    const directKeys = new Set(direct.map(dependentKey));
    const indirect = list(dependents.transitive).filter((entry) => !directKeys.has(dependentKey(entry)));
    return [
        group('Dependents (direct)', 'arrow-left', direct.map(dependentNode), 'none'),
        group('Dependents (indirect)', 'type-hierarchy-super', indirect.map(dependentNode), 'none', true),
        group('Callers', 'call-incoming', list(answer.callers).map(callerNode), 'none found'),
        group('Tests', 'beaker', list(answer.tests).map((t) => fileNode(t, 'beaker')), 'none found'),
        group('Co-changed files', 'git-commit', list(answer.co_changed).map((c) => fileNode(c, 'file')), 'none (no git history)', true),
    ];
}

/** The caller locations, for a peek (`editor.action.showReferences`). */
export function callerLocations(answer: Record<string, unknown>): { uri: string; range: Range }[] {
    const out: { uri: string; range: Range }[] = [];
    for (const entry of list(answer.callers)) {
        if (isObject(entry) && typeof entry.uri === 'string' && isRange(entry.range)) {
            out.push({ uri: entry.uri, range: entry.range });
        }
    }
    return out;
}
