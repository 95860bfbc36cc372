/**
 * The palette commands built on the server's `workspace/executeCommand` commands (docs/commands.md):
 * search, impact, dependency graph, remember, report, import cycles. The decisions (what an answer becomes)
 * live in the pure modules search.ts, impact.ts, graph.ts and report.ts; this file shows them in VS Code.
 */
import * as crypto from 'crypto';
import * as vscode from 'vscode';

import { Checked, isObject, isRange, list, Range, text } from './answers';
import { graphElements, graphHtml } from './graph';
import { callerLocations, impactTree, ImpactNode } from './impact';
import { reportHtml } from './report';
import { searchView } from './search';

/** What the features need of the server controller. */
export interface CommandRunner {
    execute(command: string, argument: unknown): Promise<Checked<Record<string, unknown>>>;
    showLogs(): void;
}

export const IMPACT_VIEW = 'sophiaArtemis.impact';

function toRange(range: Range | undefined): vscode.Range | undefined {
    return range && new vscode.Range(range.start.line, range.start.character, range.end.line, range.end.character);
}

async function openLocation(uri: string, range?: Range): Promise<void> {
    const selection = toRange(range);
    await vscode.window.showTextDocument(vscode.Uri.parse(uri), { selection, preview: false });
}

function position(editor: vscode.TextEditor): { line: number; character: number } {
    const active = editor.selection.active; // VS Code positions are UTF-16 based, as LSP's
    return { line: active.line, character: active.character };
}

/** The folder a workspace-wide command works on: the active file's, else the first. */
function folderUri(): string | undefined {
    const active = vscode.window.activeTextEditor?.document.uri;
    const folder = (active && vscode.workspace.getWorkspaceFolder(active)) ?? vscode.workspace.workspaceFolders?.[0];
    return folder?.uri.toString();
}

function fileEditor(): vscode.TextEditor | undefined {
    const editor = vscode.window.activeTextEditor;
    if (editor === undefined || editor.document.uri.scheme !== 'file') {
        void vscode.window.showInformationMessage('Sophia: open a file of the project first (the command works on the symbol under the cursor).');
        return undefined;
    }
    return editor;
}

function nonce(): string {
    return crypto.randomBytes(16).toString('base64');
}

class ImpactProvider implements vscode.TreeDataProvider<ImpactNode> {
    private roots: ImpactNode[] = [];
    private readonly changed = new vscode.EventEmitter<ImpactNode | undefined>();
    readonly onDidChangeTreeData = this.changed.event;

    set(roots: ImpactNode[]): void {
        this.roots = roots;
        this.changed.fire(undefined);
    }

    getChildren(node?: ImpactNode): ImpactNode[] {
        return node === undefined ? this.roots : node.children ?? [];
    }

    getTreeItem(node: ImpactNode): vscode.TreeItem {
        const collapsible =
            node.children === undefined
                ? vscode.TreeItemCollapsibleState.None
                : node.children.length === 0
                  ? vscode.TreeItemCollapsibleState.None
                  : node.collapsed
                  ? vscode.TreeItemCollapsibleState.Collapsed
                  : vscode.TreeItemCollapsibleState.Expanded;
        const item = new vscode.TreeItem(node.label, collapsible);
        item.description = node.description;
        item.tooltip = node.tooltip ?? (node.uri ? `${node.label}\n${node.description ?? ''}` : undefined);
        item.iconPath = node.icon ? new vscode.ThemeIcon(node.icon) : undefined;
        if (node.uri) {
            item.resourceUri = vscode.Uri.parse(node.uri);
            item.command = {
                command: 'vscode.open',
                title: 'Open',
                arguments: [vscode.Uri.parse(node.uri), { selection: toRange(node.range), preview: true }],
            };
        }
        return item;
    }

    dispose(): void {
        this.changed.dispose();
    }
}

export class Features implements vscode.Disposable {
    private readonly impact = new ImpactProvider();
    private readonly impactView: vscode.TreeView<ImpactNode>;
    private lastImpact: Record<string, unknown> | undefined;
    private graphPanel: vscode.WebviewPanel | undefined;
    private graphListener: vscode.Disposable | undefined;
    private reportPanel: vscode.WebviewPanel | undefined;
    private readonly disposables: vscode.Disposable[] = [];

    constructor(
        private readonly context: vscode.ExtensionContext,
        private readonly server: CommandRunner,
    ) {
        this.impactView = vscode.window.createTreeView(IMPACT_VIEW, { treeDataProvider: this.impact, showCollapseAll: true });
        this.disposables.push(
            this.impact,
            this.impactView,
            vscode.commands.registerCommand('sophiaArtemis.search', (query?: string) => this.search(query)),
            vscode.commands.registerCommand('sophiaArtemis.showImpact', () => this.showImpact()),
            vscode.commands.registerCommand('sophiaArtemis.peekCallers', () => this.peekCallers()),
            vscode.commands.registerCommand('sophiaArtemis.showGraph', () => this.showGraph()),
            vscode.commands.registerCommand('sophiaArtemis.remember', (note?: string) => this.remember(note)),
            vscode.commands.registerCommand('sophiaArtemis.showReport', () => this.showReport()),
            vscode.commands.registerCommand('sophiaArtemis.openCycle', (modules?: string[]) => this.openCycle(modules)),
        );
    }

    /** Runs a server command; on `{"error"}` (or no server) shows the reason and returns undefined. */
    private async run(command: string, argument: unknown, title: string): Promise<Record<string, unknown> | undefined> {
        const answer = await vscode.window.withProgress(
            { location: vscode.ProgressLocation.Window, title: `Sophia: ${title}` },
            () => this.server.execute(command, argument),
        );
        if (!answer.ok) {
            void vscode.window.showErrorMessage(`Sophia: ${title} failed: ${answer.error}`, 'Show logs').then((choice) => {
                if (choice === 'Show logs') {
                    this.server.showLogs();
                }
            });
            return undefined;
        }
        return answer.value;
    }

    async search(initial?: string): Promise<void> {
        const editor = vscode.window.activeTextEditor;
        const selected = editor && !editor.selection.isEmpty ? editor.document.getText(editor.selection) : '';
        const query =
            initial ??
            (await vscode.window.showInputBox({
                title: 'Sophia: Semantic search',
                prompt: 'What are you looking for? (words or a description of the code)',
                value: selected.split('\n')[0],
            }));
        if (!query?.trim()) {
            return;
        }
        const answer = await this.run('sophia.search', { query: query.trim(), k: 20, uri: folderUri() }, 'search');
        if (answer === undefined) {
            return;
        }
        const view = searchView(answer);
        if (view.note) {
            void vscode.window.showInformationMessage(`Sophia search: ${view.note}`);
        }
        if (view.items.length === 0) {
            void vscode.window.showInformationMessage(`Sophia: nothing found for "${query.trim()}".`);
            return;
        }
        const picked = await vscode.window.showQuickPick(view.items, {
            title: view.title,
            placeHolder: view.note ?? 'Pick a result to open it',
            matchOnDescription: true,
            matchOnDetail: true,
        });
        if (picked !== undefined) {
            await openLocation(picked.uri, picked.range);
        }
    }

    async showImpact(): Promise<void> {
        const editor = fileEditor();
        if (editor === undefined) {
            return;
        }
        const answer = await this.run('sophia.impact', { uri: editor.document.uri.toString(), position: position(editor) }, 'impact');
        if (answer === undefined) {
            return;
        }
        this.lastImpact = answer;
        this.impact.set(impactTree(answer));
        this.impactView.message = `Impact of ${text(answer.target, 'the symbol')}`;
        await vscode.commands.executeCommand('setContext', 'sophiaArtemis.impactShown', true);
        await vscode.commands.executeCommand(`${IMPACT_VIEW}.focus`);
    }

    async peekCallers(): Promise<void> {
        if (this.lastImpact === undefined || vscode.window.activeTextEditor?.document.uri.scheme === 'file') {
            await this.showImpact();
        }
        const answer = this.lastImpact;
        const editor = vscode.window.activeTextEditor;
        if (answer === undefined || editor === undefined) {
            return;
        }
        const locations = callerLocations(answer).map((l) => new vscode.Location(vscode.Uri.parse(l.uri), toRange(l.range)!));
        if (locations.length === 0) {
            void vscode.window.showInformationMessage(`Sophia: no callers of ${text(answer.target, 'this symbol')} found.`);
            return;
        }
        await vscode.commands.executeCommand('editor.action.showReferences', editor.document.uri, editor.selection.active, locations);
    }

    async showGraph(): Promise<void> {
        const answer = await this.run('sophia.graph', { uri: folderUri(), language: 'all' }, 'dependency graph');
        if (answer === undefined) {
            return;
        }
        const elements = graphElements(answer);
        const distRoot = vscode.Uri.joinPath(this.context.extensionUri, 'dist');
        if (this.graphPanel === undefined) {
            const panel = vscode.window.createWebviewPanel('sophiaArtemis.graph', 'Sophia: dependency graph', vscode.ViewColumn.Active, {
                enableScripts: true,
                localResourceRoots: [distRoot],
                retainContextWhenHidden: true,
            });
            this.graphPanel = panel;
            panel.onDidDispose(
                () => {
                    this.graphPanel = undefined;
                    this.graphListener?.dispose();
                },
                null,
                this.disposables,
            );
        }
        const panel = this.graphPanel;
        const script = panel.webview.asWebviewUri(vscode.Uri.joinPath(distRoot, 'webview', 'graph.js'));
        // the page asks for the data once its script runs (posting earlier could arrive before the listener)
        this.graphListener?.dispose();
        this.graphListener = panel.webview.onDidReceiveMessage(async (message: unknown) => {
            if (!isObject(message)) {
                return;
            }
            if (message.type === 'ready') {
                void panel.webview.postMessage({ type: 'graph', elements });
            } else if (message.type === 'open' && typeof message.uri === 'string') {
                await openLocation(message.uri);
            }
        });
        panel.webview.html = graphHtml({ scriptUri: script.toString(), cspSource: panel.webview.cspSource, nonce: nonce() });
        panel.reveal();
    }

    async remember(initial?: string): Promise<void> {
        const editor = fileEditor();
        if (editor === undefined) {
            return;
        }
        const note =
            initial ??
            (await vscode.window.showInputBox({
                title: 'Sophia: Remember a note',
                prompt: 'A note on the symbol under the cursor (or on the file), kept in the project memory',
            }));
        if (!note?.trim()) {
            return;
        }
        const answer = await this.run(
            'sophia.remember',
            { uri: editor.document.uri.toString(), position: position(editor), text: note.trim() },
            'remember',
        );
        if (answer !== undefined) {
            const saved = isObject(answer.note) ? answer.note : {};
            void vscode.window.showInformationMessage(`Sophia remembered a note on ${text(saved.target, 'this file')}.`);
        }
    }

    async showReport(): Promise<void> {
        const answer = await this.run('sophia.report', { uri: folderUri() }, 'report');
        if (answer === undefined) {
            return;
        }
        if (this.reportPanel === undefined) {
            const panel = vscode.window.createWebviewPanel('sophiaArtemis.report', 'Sophia: report', vscode.ViewColumn.Active, {
                enableScripts: true,
                localResourceRoots: [],
            });
            this.reportPanel = panel;
            panel.onDidDispose(() => (this.reportPanel = undefined), null, this.disposables);
            panel.webview.onDidReceiveMessage(async (message: unknown) => {
                if (!isObject(message)) {
                    return;
                }
                if (message.type === 'open' && typeof message.uri === 'string') {
                    await openLocation(message.uri);
                } else if (message.type === 'openCycle' && Array.isArray(message.modules)) {
                    await this.openCycle(message.modules.filter((m): m is string => typeof m === 'string'));
                }
            });
        }
        const panel = this.reportPanel;
        panel.webview.html = reportHtml(answer, { cspSource: panel.webview.cspSource, nonce: nonce() });
        panel.reveal();
    }

    async openCycle(modules?: string[]): Promise<void> {
        let cycle = Array.isArray(modules) && modules.length > 1 ? modules : undefined;
        let anchor = vscode.window.activeTextEditor?.document.uri.scheme === 'file' ? vscode.window.activeTextEditor.document.uri.toString() : undefined;
        if (cycle === undefined) {
            const graph = await this.run('sophia.graph', { uri: folderUri(), language: 'all' }, 'import cycles');
            if (graph === undefined) {
                return;
            }
            const { cycles, nodes } = graphElements(graph);
            if (cycles.length === 0) {
                void vscode.window.showInformationMessage('Sophia: no import cycles in this project.');
                return;
            }
            if (cycles.length === 1) {
                cycle = cycles[0];
            } else {
                const picked = await vscode.window.showQuickPick(
                    cycles.map((c) => ({ label: `$(sync) ${c.join(' → ')}`, description: `${c.length} modules`, cycle: c })),
                    { title: 'Sophia: Open import cycle' },
                );
                cycle = picked?.cycle;
            }
            anchor = anchor ?? nodes.find((n) => n.data.id === cycle?.[0])?.data.uri;
        }
        if (cycle === undefined) {
            return;
        }
        const answer = await this.run('sophia.openCycle', { uri: anchor ?? folderUri(), modules: cycle }, 'open import cycle');
        if (answer === undefined) {
            return;
        }
        const locations = list(answer.locations)
            .filter((l): l is { uri: string; range: Range } => isObject(l) && typeof l.uri === 'string' && isRange(l.range))
            .map((l) => new vscode.Location(vscode.Uri.parse(l.uri), toRange(l.range)!));
        if (locations.length === 0) {
            void vscode.window.showInformationMessage(`Sophia: no import lines found for the cycle ${cycle.join(' → ')}.`);
            return;
        }
        // peek from the first import of the cycle: showReferences opens that file and lists every import line
        const first = locations[0];
        await vscode.window.showTextDocument(first.uri, { selection: first.range, preview: false });
        await vscode.commands.executeCommand('editor.action.showReferences', first.uri, first.range.start, locations);
    }

    dispose(): void {
        this.graphListener?.dispose();
        this.graphPanel?.dispose();
        this.reportPanel?.dispose();
        this.disposables.forEach((d) => d.dispose());
    }
}
