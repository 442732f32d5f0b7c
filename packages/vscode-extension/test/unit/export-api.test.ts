import { beforeEach, describe, expect, it, vi } from 'vitest';
import * as vscode from 'vscode';
import { createTextDocument } from 'jest-mock-vscode';
import { WorkflowCodeLens } from '../../src/vscode/codelens.js';
import type { Connection } from '../../src/vscode/connection.js';
import { exportApiFormat } from '../../src/vscode/export-api.js';
import { fixtureText } from './fixtures.js';

const uiDocument = () => createTextDocument(vscode.Uri.file('/ws/workflows/txt2img.comfy.json'), fixtureText('txt2img.comfy.json'), 'json');

describe('Export as API Format', () => {
  const convert = vi.fn(async () => ({ '1': { class_type: 'SaveImage', inputs: {} } }));
  const connection = { api: async () => ({ convert }), report: vi.fn() } as unknown as Connection;

  beforeEach(() => {
    vi.clearAllMocks();
    vi.mocked(vscode.workspace.fs.writeFile).mockResolvedValue();
  });

  it('is offered on UI-format files only', () => {
    const titles = (text: string) => new WorkflowCodeLens().provideCodeLenses(createTextDocument(vscode.Uri.file('/ws/a.json'), text, 'json')).map((l) => l.command!.title);
    expect(titles(fixtureText('txt2img.comfy.json'))).toContain('Export as API Format');
    expect(titles(fixtureText('txt2img-api.json'))).toEqual(['$(play) Generate', 'Open in Workflow Editor']);
  });

  it('asks before replacing an existing file, and leaves it when the user declines', async () => {
    vi.mocked(vscode.workspace.fs.stat).mockResolvedValue({ type: vscode.FileType.File, ctime: 0, mtime: 0, size: 1 });
    vi.mocked(vscode.window.showWarningMessage).mockResolvedValue(undefined);
    expect(await exportApiFormat(connection, uiDocument())).toBeUndefined();
    expect(vi.mocked(vscode.window.showWarningMessage).mock.calls[0]).toEqual([expect.stringMatching(/txt2img\.api\.json exists\. Replace it\?$/), { modal: true }, 'Replace']);
    expect(vscode.workspace.fs.writeFile).not.toHaveBeenCalled();

    vi.mocked(vscode.window.showWarningMessage).mockResolvedValue('Replace' as never);
    expect((await exportApiFormat(connection, uiDocument()))?.path).toBe('/ws/workflows/txt2img.api.json');
    expect(vscode.workspace.fs.writeFile).toHaveBeenCalledTimes(1);
  });

  it('writes a new file without asking', async () => {
    vi.mocked(vscode.workspace.fs.stat).mockRejectedValue(vscode.FileSystemError.FileNotFound());
    expect((await exportApiFormat(connection, uiDocument()))?.path).toBe('/ws/workflows/txt2img.api.json');
    expect(vscode.window.showWarningMessage).not.toHaveBeenCalled();
    expect(JSON.parse(new TextDecoder().decode(vi.mocked(vscode.workspace.fs.writeFile).mock.calls[0]![1]))).toEqual({ '1': { class_type: 'SaveImage', inputs: {} } });
  });
});
