/** `sophia.report` answer -> the report webview's HTML. Pure, so it is tested without VS Code. */
import { isObject, list, text } from './answers';

export function escapeHtml(value: unknown): string {
    return String(value)
        .replace(/&/g, '&amp;')
        .replace(/</g, '&lt;')
        .replace(/>/g, '&gt;')
        .replace(/"/g, '&quot;')
        .replace(/'/g, '&#39;');
}

function num(value: unknown, digits = 0): string {
    return typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : '–';
}

function table(headers: string[], rows: string[][], empty: string): string {
    if (rows.length === 0) {
        return `<p class="empty">${escapeHtml(empty)}</p>`;
    }
    const head = headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
    const body = rows.map((cells) => `<tr>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n');
    return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function fileLink(entry: Record<string, unknown>): string {
    const path = escapeHtml(text(entry.path));
    const uri = text(entry.uri);
    return uri ? `<a href="#" data-open="${escapeHtml(uri)}">${path}</a>` : path;
}

/** The report body: summary, findings per rule, hotspots, cycles, snapshots. Every value is escaped. */
export function reportBody(report: Record<string, unknown>): string {
    const findings = isObject(report.findings) ? report.findings : {};
    const debt = isObject(report.debt) ? report.debt : {};
    const findingRows = Object.entries(findings)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([rule, count]) => [escapeHtml(rule), num(count)]);
    const hotspots = list(report.hotspots).filter(isObject);
    const cycles = list(report.cycles).map((c) => list(c).filter((m): m is string => typeof m === 'string'));
    const snapshots = list(report.snapshots).filter(isObject);
    const sections = [
        `<h1>Sophia report</h1>`,
        `<p class="summary">${escapeHtml(text(report.root))} · ${num(report.files)} files · ` +
            `${num(debt.over_threshold)} functions over a threshold · excess complexity ${num(debt.excess_complexity)}</p>`,
        `<h2>Findings</h2>`,
        table(['rule', 'count'], findingRows, 'No findings.'),
        `<h2>Hotspots</h2>`,
        table(
            ['file', 'score', 'churn', 'complexity'],
            hotspots.map((h) => [fileLink(h), num(h.score, 2), num(h.churn), num(h.complexity)]),
            'No hotspots (no git history, or nothing changes often and is complex).',
        ),
        `<h2>Import cycles</h2>`,
        cycles.length === 0
            ? `<p class="empty">No import cycles.</p>`
            : `<ol>${cycles
                  .map(
                      (cycle) =>
                          `<li><span class="cycle">${cycle.map(escapeHtml).join(' → ')} → ${escapeHtml(cycle[0] ?? '')}</span> ` +
                          `<a href="#" data-cycle="${escapeHtml(JSON.stringify(cycle))}">open</a></li>`,
                  )
                  .join('\n')}</ol>`,
        `<h2>Snapshots</h2>`,
        table(
            ['time', 'findings', 'over threshold', 'excess complexity'],
            snapshots.map((s) => [escapeHtml(text(s.time)), num(s.findings), num(s.over_threshold), num(s.excess_complexity)]),
            'No snapshots yet.',
        ),
    ];
    return sections.join('\n');
}

/** The whole report page; a small inline script (allowed by its nonce only) posts clicks to the extension. */
export function reportHtml(report: Record<string, unknown>, options: { cspSource: string; nonce: string }): string {
    const { cspSource, nonce } = options;
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${cspSource} 'unsafe-inline'; script-src 'nonce-${nonce}';">
<title>Sophia: report</title>
<style>
  body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 16px; }
  table { border-collapse: collapse; margin-bottom: 12px; }
  th, td { text-align: left; padding: 2px 12px 2px 0; border-bottom: 1px solid var(--vscode-panel-border); }
  .cycle { color: var(--vscode-errorForeground); }
  .empty { opacity: 0.7; }
</style>
</head>
<body>
${reportBody(report)}
<script nonce="${nonce}">
  const vscode = acquireVsCodeApi();
  document.addEventListener('click', (event) => {
    const link = event.target.closest('a');
    if (!link) return;
    event.preventDefault();
    if (link.dataset.open) vscode.postMessage({ type: 'open', uri: link.dataset.open });
    if (link.dataset.cycle) vscode.postMessage({ type: 'openCycle', modules: JSON.parse(link.dataset.cycle) });
  });
</script>
</body>
</html>`;
}
