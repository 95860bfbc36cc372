/** `sophia.search` answer -> quick pick items. Pure, so it is tested without VS Code. */
import { isObject, isRange, list, Range, text } from './answers';

export interface SearchItem {
    label: string;
    description: string;
    detail: string;
    uri: string;
    range?: Range;
}

export interface SearchView {
    items: SearchItem[];
    /** Quick pick title: the query, the mode and how long it took. */
    title: string;
    /** Why the search is lexical (no embedding model, index being built); shown to the user. */
    note?: string;
}

const KIND_ICONS: Record<string, string> = {
    function: '$(symbol-function)',
    method: '$(symbol-method)',
    class: '$(symbol-class)',
    module: '$(symbol-file)',
    file: '$(symbol-file)',
    variable: '$(symbol-variable)',
};

function formatScore(score: unknown): string | undefined {
    return typeof score === 'number' && Number.isFinite(score) ? score.toFixed(2) : undefined;
}

/** One item per result that names a uri (results without one cannot be opened, so they are left out). */
export function searchView(answer: Record<string, unknown>): SearchView {
    const items: SearchItem[] = [];
    for (const hit of list(answer.results)) {
        if (!isObject(hit) || typeof hit.uri !== 'string') {
            continue;
        }
        const kind = text(hit.kind);
        const path = text(hit.path, hit.uri);
        const line = isRange(hit.range) ? hit.range.start.line + 1 : undefined;
        const score = formatScore(hit.score);
        items.push({
            label: `${KIND_ICONS[kind] ?? '$(search)'} ${text(hit.qualname) || path}`,
            description: line === undefined ? path : `${path}:${line}`,
            detail: [score === undefined ? undefined : `score ${score}`, kind || undefined].filter(Boolean).join(' · '),
            uri: hit.uri,
            range: isRange(hit.range) ? hit.range : undefined,
        });
    }
    const mode = text(answer.mode);
    const ms = typeof answer.ms === 'number' ? `, ${Math.round(answer.ms)} ms` : '';
    const note = text(answer.note) || (mode === 'lexical' ? 'Lexical search: the semantic index is not available.' : '');
    return {
        items,
        title: `Sophia search: "${text(answer.query)}"${mode ? ` (${mode}${ms})` : ''}`,
        note: note || undefined,
    };
}
