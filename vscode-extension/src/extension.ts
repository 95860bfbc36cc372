/**
 * The Sophia Artemis extension: finds a Python with `sophia-artemis`, runs `python -m sophia_artemis serve`
 * over stdio with vscode-languageclient, keeps it running (restarts with backoff after a crash), and shows
 * its state in the status bar. The decisions live in small pure modules (interpreter, settings, backoff,
 * status) with unit tests; this file wires them to VS Code.
 */
import { execFile } from 'child_process';
import * as os from 'os';
import * as vscode from 'vscode';
import {
    CloseAction,
    CloseHandlerResult,
    ErrorAction,
    ExecuteCommandRequest,
    ErrorHandlerResult,
    LanguageClient,
    LanguageClientOptions,
    RevealOutputChannelOn,
    ServerOptions,
    State,
    TransportKind,
    vsdiag,
} from 'vscode-languageclient/node';

import { Checked, checkAnswer, serverOffers } from './answers';
import { RestartPolicy } from './backoff';
import { CommandRunner, Features } from './features';
import {
    describeSource,
    importCheckArgs,
    installCommandLine,
    resolveInterpreter,
    ResolvedInterpreter,
    serverArgs,
} from './interpreter';
import { activeInterpreter, onActiveInterpreterChanged } from './python';
import { answerConfiguration, explicitSettings, initializationOptions, needsRestart, SECTION, ServerKey, ServerSettings } from './settings';
import {
    menuEntries,
    metricsMessage,
    parseReport,
    ServerReport,
    ServerStatus,
    STATUS_NOTIFICATION,
    statusView,
    withStatusCapability,
} from './status';

const CLIENT_ID = 'sophiaArtemis'; // also the prefix of the `sophiaArtemis.trace.server` setting the client reads
const CLIENT_NAME = 'Sophia Artemis';
const SHOW_METRICS = 'sophia.showMetrics';

type ImportCheck = { ok: true } | { ok: false; missingInterpreter: boolean; output: string };

function checkImport(command: string): Promise<ImportCheck> {
    return new Promise((resolve) => {
        execFile(command, importCheckArgs(), { timeout: 30000 }, (error, stdout, stderr) => {
            if (error === null) {
                resolve({ ok: true });
                return;
            }
            const missingInterpreter = (error as NodeJS.ErrnoException).code === 'ENOENT';
            resolve({ ok: false, missingInterpreter, output: `${stderr}${stdout}`.trim() || error.message });
        });
    });
}

function firstFolder(): vscode.WorkspaceFolder | undefined {
    return vscode.workspace.workspaceFolders?.[0];
}

function settingsFor(scope: vscode.Uri | vscode.WorkspaceFolder | undefined): ServerSettings {
    const configuration = vscode.workspace.getConfiguration(SECTION, scope);
    return explicitSettings((key: ServerKey) => configuration.inspect(key));
}

class ServerController implements vscode.Disposable, CommandRunner {
    private client: LanguageClient | undefined;
    private generation = 0;
    private readonly policy = new RestartPolicy();
    private readonly statusItem: vscode.StatusBarItem;
    private status: ServerStatus = { phase: 'starting' };
    /** The running server's last `sophia/status`; forgotten when it stops. */
    private report: ServerReport | undefined;
    private installWatch: NodeJS.Timeout | undefined;
    /** Between a crash and the restart: the client still thinks it runs, so document notifications are
     * held back here instead of failing with an error popup each (the restart re-sends didOpen anyway). */
    private serverDown = false;
    private readonly disposables: vscode.Disposable[] = [];

    constructor(
        private readonly output: vscode.OutputChannel,
        private readonly traceOutput: vscode.OutputChannel,
    ) {
        this.statusItem = vscode.window.createStatusBarItem('sophiaArtemis.status', vscode.StatusBarAlignment.Left, 0);
        this.statusItem.name = CLIENT_NAME;
        this.statusItem.command = 'sophiaArtemis.showMenu';
        this.setStatus(this.status);
        this.statusItem.show();
    }

    log(message: string): void {
        this.output.appendLine(`[${new Date().toISOString()}] ${message}`);
    }

    private setStatus(status: ServerStatus): void {
        this.status = status;
        const view = statusView(status);
        this.statusItem.text = view.text;
        this.statusItem.tooltip = view.tooltip;
        this.statusItem.accessibilityInformation = { label: view.accessibilityLabel };
        this.statusItem.backgroundColor = view.background ? new vscode.ThemeColor(view.background) : undefined;
    }

    get currentStatus(): ServerStatus {
        return this.status;
    }

    async start(): Promise<void> {
        const generation = ++this.generation;
        this.report = undefined;
        this.setStatus({ phase: 'starting' });
        const folder = firstFolder();
        const interpreter = await resolveInterpreter({
            setting: vscode.workspace.getConfiguration(SECTION, folder).get<string>('interpreter'),
            pythonExtension: () => activeInterpreter(folder?.uri),
            workspaceFolder: folder?.uri.fsPath,
            home: os.homedir(),
        });
        this.log(`interpreter: ${interpreter.command} (from ${describeSource(interpreter.source)})`);
        const check = await checkImport(interpreter.command);
        if (generation !== this.generation) {
            return; // restarted meanwhile
        }
        if (!check.ok) {
            this.reportMissing(interpreter, check);
            return;
        }
        const client = this.createClient(interpreter, generation);
        this.client = client;
        try {
            await client.start();
            this.log(`server started with ${interpreter.command}`);
        } catch (error) {
            if (generation === this.generation) {
                this.log(`server failed to start: ${String(error)}`);
                this.setStatus({ phase: 'error', detail: `It failed to start: ${String(error)}`, interpreter: interpreter.command });
            }
        }
    }

    private reportMissing(interpreter: ResolvedInterpreter, check: Extract<ImportCheck, { ok: false }>): void {
        const where = `${interpreter.command} (from ${describeSource(interpreter.source)})`;
        if (check.missingInterpreter) {
            const message = `Sophia Artemis: the Python interpreter ${where} was not found. Set "sophiaArtemis.interpreter" to a Python that has sophia-artemis.`;
            this.log(message);
            this.setStatus({ phase: 'error', detail: `Interpreter not found: ${interpreter.command}`, interpreter: interpreter.command });
            void vscode.window.showErrorMessage(message, 'Open settings').then((choice) => {
                if (choice === 'Open settings') {
                    void vscode.commands.executeCommand('sophiaArtemis.openSettings');
                }
            });
            return;
        }
        this.log(`sophia_artemis cannot be imported with ${where}:\n${check.output}`);
        this.setStatus({
            phase: 'error',
            detail: `sophia-artemis is not installed in ${interpreter.command}.`,
            interpreter: interpreter.command,
        });
        const install = `Install into ${interpreter.source === 'path' ? interpreter.command : 'this interpreter'}`;
        void vscode.window
            .showWarningMessage(`Sophia Artemis: sophia-artemis is not installed in ${where}.`, install, 'Open settings', 'Show logs')
            .then((choice) => {
                if (choice === install) {
                    this.install(interpreter);
                } else if (choice === 'Open settings') {
                    void vscode.commands.executeCommand('sophiaArtemis.openSettings');
                } else if (choice === 'Show logs') {
                    this.output.show(true);
                }
            });
    }

    /** pip install in a terminal the user can watch; the server starts once the import works. */
    private install(interpreter: ResolvedInterpreter): void {
        const terminal = vscode.window.createTerminal({ name: 'Install sophia-artemis' });
        terminal.show();
        terminal.sendText(installCommandLine(interpreter.command));
        this.log(`installing: ${installCommandLine(interpreter.command)}`);
        this.stopInstallWatch();
        const started = Date.now();
        // the terminal gives no exit status for a sent command, so look for the result instead
        this.installWatch = setInterval(() => {
            if (Date.now() - started > 10 * 60 * 1000) {
                this.stopInstallWatch();
                return;
            }
            void checkImport(interpreter.command).then((check) => {
                if (check.ok && this.installWatch !== undefined) {
                    this.stopInstallWatch();
                    this.log('sophia-artemis is installed now: starting the server');
                    void this.restart();
                }
            });
        }, 3000);
    }

    private stopInstallWatch(): void {
        if (this.installWatch !== undefined) {
            clearInterval(this.installWatch);
            this.installWatch = undefined;
        }
    }

    private createClient(interpreter: ResolvedInterpreter, generation: number): LanguageClient {
        const serverOptions: ServerOptions = {
            command: interpreter.command,
            args: serverArgs(),
            transport: TransportKind.stdio,
            options: { cwd: firstFolder()?.uri.fsPath, env: { ...process.env, PYTHONUNBUFFERED: '1' } },
        };
        const clientOptions: LanguageClientOptions = {
            documentSelector: [
                { scheme: 'file', language: 'python' },
                { scheme: 'untitled', language: 'python' },
                // opened and saved so that edits to [tool.sophia-artemis] apply at once
                { scheme: 'file', pattern: '**/pyproject.toml' },
            ],
            outputChannel: this.output,
            traceOutputChannel: this.traceOutput,
            // failed requests go to the log, not into popups: a request in flight when the server dies (the
            // long-running workspace diagnostic pull always is) would otherwise pop up "Request ... failed"
            // on every crash. The status bar shows the server's state; the palette commands show their own
            // errors; connection failures are still shown (the client forces those).
            revealOutputChannelOn: RevealOutputChannelOn.Never,
            initializationOptions: initializationOptions(settingsFor(firstFolder())),
            synchronize: { configurationSection: SECTION },
            errorHandler: {
                error: (): ErrorHandlerResult => ({ action: ErrorAction.Continue, handled: true }),
                closed: () => this.onClosed(generation),
            },
            middleware: {
                didOpen: (document, next) => (this.serverDown ? Promise.resolve() : next(document)),
                didChange: (event, next) => (this.serverDown ? Promise.resolve() : next(event)),
                willSave: (event, next) => (this.serverDown ? Promise.resolve() : next(event)),
                didSave: (document, next) => (this.serverDown ? Promise.resolve() : next(document)),
                didClose: (document, next) => (this.serverDown ? Promise.resolve() : next(document)),
                // a pull while the server is down would fail with an error popup: keep what is shown (the
                // restarted server is asked again for every open document)
                provideDiagnostics: (document, previousResultId, token, next) =>
                    this.serverDown
                        ? previousResultId === undefined
                            ? undefined
                            : { kind: vsdiag.DocumentDiagnosticReportKind.unChanged, resultId: previousResultId }
                        : next(document, previousResultId, token),
                workspace: {
                    // file events (the server's own .sophia/ store among them) are dropped while it is down:
                    // the restarted server scans the workspace anyway
                    didChangeWatchedFile: (event, next) => (this.serverDown ? Promise.resolve() : next(event)),
                    // answer with the settings the user set, not VS Code's defaults (see settings.ts)
                    configuration: async (params, token, next) => {
                        const answers = await next(params, token);
                        if (!Array.isArray(answers)) {
                            return answers;
                        }
                        return answerConfiguration(params.items, answers, (scopeUri) =>
                            settingsFor(scopeUri ? vscode.Uri.parse(scopeUri) : firstFolder()),
                        );
                    },
                },
                executeCommand: async (command, args, next) => {
                    const result = await next(command, args);
                    if (command === SHOW_METRICS) {
                        const message = metricsMessage(result);
                        if (message !== undefined) {
                            void vscode.window.showInformationMessage(message);
                        }
                    }
                    return result;
                },
            },
        };
        const client = new LanguageClient(CLIENT_ID, CLIENT_NAME, serverOptions, clientOptions);
        // opt in to `sophia/status` (indexing, ready, degraded) and show it once the server runs
        client.registerFeature({
            fillClientCapabilities: (capabilities) => {
                capabilities.experimental = withStatusCapability(capabilities.experimental);
            },
            initialize: () => undefined,
            getState: () => ({ kind: 'static' }),
            clear: () => undefined,
        });
        client.onNotification(STATUS_NOTIFICATION, (params: unknown) => {
            const report = parseReport(params);
            if (generation !== this.generation || report === undefined) {
                return;
            }
            this.report = report;
            if (this.status.phase === 'ready') {
                this.setStatus({ ...this.status, report });
            }
        });
        client.onDidChangeState((event) => {
            if (generation !== this.generation) {
                return;
            }
            if (event.newState === State.Running) {
                const crashes = this.policy.recentCrashes;
                this.setStatus({
                    phase: 'ready',
                    report: this.report,
                    interpreter: interpreter.command,
                    crashes,
                    detail: crashes > 0 ? `Restarted after ${crashes} crash${crashes === 1 ? '' : 'es'}.` : undefined,
                });
            } else if (event.newState === State.Starting && this.status.phase !== 'restarting') {
                this.setStatus({ phase: 'starting', interpreter: interpreter.command });
            }
        });
        return client;
    }

    /** The server process went away without being asked to. */
    private async onClosed(generation: number): Promise<CloseHandlerResult> {
        if (generation !== this.generation) {
            return { action: CloseAction.DoNotRestart, handled: true };
        }
        const decision = this.policy.onCrash(Date.now());
        const interpreter = this.status.interpreter;
        this.serverDown = true;
        this.report = undefined;
        if (!decision.restart) {
            const message = `Sophia Artemis: the language server stopped ${decision.crashes} times in a few minutes and will not be restarted automatically.`;
            this.log(message);
            this.setStatus({ phase: 'error', detail: 'It crashed repeatedly; see the logs.', interpreter, crashes: decision.crashes });
            void vscode.window.showErrorMessage(message, 'Open logs', 'Restart server').then((choice) => {
                if (choice === 'Open logs') {
                    this.output.show(true);
                } else if (choice === 'Restart server') {
                    void this.restart();
                }
            });
            return { action: CloseAction.DoNotRestart, handled: true };
        }
        const seconds = Math.round(decision.delayMs / 1000);
        this.log(`the server stopped unexpectedly (crash ${decision.crashes}); restarting in ${seconds} s`);
        this.setStatus({
            phase: 'restarting',
            detail: `It stopped unexpectedly; restarting in ${seconds} s.`,
            interpreter,
            crashes: decision.crashes,
        });
        await new Promise((resolve) => setTimeout(resolve, decision.delayMs));
        if (generation !== this.generation) {
            return { action: CloseAction.DoNotRestart, handled: true };
        }
        this.serverDown = false;
        return { action: CloseAction.Restart, handled: true };
    }

    async stop(): Promise<void> {
        this.generation++;
        this.serverDown = false;
        this.stopInstallWatch();
        const client = this.client;
        this.client = undefined;
        if (client !== undefined) {
            try {
                await client.dispose(2000);
            } catch (error) {
                this.log(`stopping the server: ${String(error)}`);
            }
        }
    }

    async restart(): Promise<void> {
        this.log('restarting the server');
        this.policy.reset();
        await this.stop();
        await this.start();
    }

    showLogs(): void {
        this.output.show(true);
    }

    /** Whether the running server lists `command` in its executeCommandProvider. */
    offers(command: string): boolean {
        const client = this.client;
        return client !== undefined && client.isRunning() && serverOffers(client.initializeResult?.capabilities, command);
    }

    /**
     * `workspace/executeCommand` with one argument (docs/commands.md). Every way it can fail (no server, a
     * server too old to offer the command, a JSON-RPC error, an `{"error"}` answer) ends in a reason to show.
     */
    async execute(command: string, argument: unknown): Promise<Checked<Record<string, unknown>>> {
        const client = this.client;
        if (client === undefined || !client.isRunning()) {
            return { ok: false, error: `the language server is not running (${statusView(this.status).accessibilityLabel})` };
        }
        if (!serverOffers(client.initializeResult?.capabilities, command)) {
            return { ok: false, error: `this sophia-artemis server does not offer ${command}; update it (python -m pip install -U sophia-artemis)` };
        }
        try {
            const answer: unknown = await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: [argument] });
            return checkAnswer(command, answer);
        } catch (error) {
            this.log(`${command} failed: ${String(error)}`);
            return { ok: false, error: error instanceof Error ? error.message : String(error) };
        }
    }

    async showMenu(): Promise<void> {
        const picked = await vscode.window.showQuickPick(menuEntries(this.status, (command) => this.offers(command)), {
            title: statusView(this.status).accessibilityLabel,
            placeHolder: 'Sophia Artemis',
        });
        if (picked !== undefined) {
            await vscode.commands.executeCommand(picked.command);
        }
    }

    onConfigurationChanged(event: vscode.ConfigurationChangeEvent): void {
        if (needsRestart((section) => event.affectsConfiguration(section))) {
            this.log('sophiaArtemis.interpreter changed');
            void this.restart();
        }
        // every other key reaches the server through synchronize.configurationSection and the
        // workspace/configuration middleware
    }

    trackPythonExtension(): void {
        void onActiveInterpreterChanged(() => {
            if (vscode.workspace.getConfiguration(SECTION, firstFolder()).get<string>('interpreter', '').trim() === '') {
                this.log("the Python extension's active interpreter changed");
                void this.restart();
            }
        }).then((disposable) => {
            if (disposable !== undefined) {
                this.disposables.push(disposable);
            }
        });
    }

    dispose(): void {
        this.stopInstallWatch();
        this.statusItem.dispose();
        this.disposables.forEach((d) => d.dispose());
    }
}

let controller: ServerController | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
    const output = vscode.window.createOutputChannel(CLIENT_NAME);
    const traceOutput = vscode.window.createOutputChannel(`${CLIENT_NAME} Trace`);
    const server = new ServerController(output, traceOutput);
    controller = server;
    context.subscriptions.push(
        output,
        traceOutput,
        server,
        vscode.commands.registerCommand('sophiaArtemis.restartServer', () => server.restart()),
        vscode.commands.registerCommand('sophiaArtemis.showLogs', () => output.show(true)),
        new Features(context, server),
        vscode.commands.registerCommand('sophiaArtemis.showMenu', () => server.showMenu()),
        vscode.commands.registerCommand('sophiaArtemis.openSettings', () =>
            vscode.commands.executeCommand('workbench.action.openSettings', `@ext:${context.extension.id}`),
        ),
        vscode.workspace.onDidChangeConfiguration((event) => server.onConfigurationChanged(event)),
    );
    server.trackPythonExtension();
    await server.start();
}

export async function deactivate(): Promise<void> {
    await controller?.stop();
    controller = undefined;
}
