/**
 * The Python extension's active interpreter, through its public API, when that extension is installed
 * (microsoft/vscode-python-tools-extension-template, src/common/python.ts). Typed here by hand: only the two
 * calls used, so no extra dependency is bundled.
 */
import * as vscode from 'vscode';

interface EnvironmentPath {
    id: string;
    path: string;
}

interface ResolvedEnvironment {
    executable?: { uri?: vscode.Uri };
}

interface PythonExtensionApi {
    environments?: {
        getActiveEnvironmentPath(resource?: vscode.Uri): EnvironmentPath;
        resolveEnvironment(env: EnvironmentPath | string): Promise<ResolvedEnvironment | undefined>;
        onDidChangeActiveEnvironmentPath?: vscode.Event<unknown>;
    };
    settings?: {
        getExecutionDetails?(resource?: vscode.Uri): { execCommand?: string[] };
    };
}

export const PYTHON_EXTENSION_ID = 'ms-python.python';

async function api(): Promise<PythonExtensionApi | undefined> {
    const extension = vscode.extensions.getExtension<PythonExtensionApi>(PYTHON_EXTENSION_ID);
    if (extension === undefined) {
        return undefined;
    }
    return extension.isActive ? extension.exports : await extension.activate();
}

/** The active interpreter's executable for `resource`, or undefined without the Python extension. */
export async function activeInterpreter(resource?: vscode.Uri): Promise<string | undefined> {
    const python = await api();
    if (python?.environments !== undefined) {
        const envPath = python.environments.getActiveEnvironmentPath(resource);
        const resolved = await python.environments.resolveEnvironment(envPath);
        return resolved?.executable?.uri?.fsPath ?? envPath.path;
    }
    return python?.settings?.getExecutionDetails?.(resource)?.execCommand?.[0];
}

/** Calls `listener` when the user picks another interpreter in the Python extension. */
export async function onActiveInterpreterChanged(listener: () => void): Promise<vscode.Disposable | undefined> {
    let python: PythonExtensionApi | undefined;
    try {
        python = await api();
    } catch {
        return undefined;
    }
    return python?.environments?.onDidChangeActiveEnvironmentPath?.(() => listener());
}
