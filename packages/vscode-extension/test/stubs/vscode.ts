// Replaced by jest-mock-vscode in test/setup.ts; exists so that 'vscode' resolves outside an extension host.
export {};
