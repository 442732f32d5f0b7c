import * as vscode from 'vscode';
import { GalleryEntry, readGallery, writeGallery } from '../generate/gallery.js';
import { outputFolder } from './output-folder.js';

const FILE = 'gallery.json';

/**
 * The gallery of each workflow file, in `gallery.json` beside its images: it travels with them (a copied or
 * committed output folder keeps its record) and goes when they are deleted. Writes of one file are serialised.
 */
export class GalleryStore {
  readonly #changed = new vscode.EventEmitter<vscode.Uri>();
  /** Fires with the workflow file whose gallery changed. */
  readonly onDidChange = this.#changed.event;
  readonly #writes = new Map<string, Promise<unknown>>();

  /** The workflow file's entries, newest first. */
  async entries(document: vscode.Uri): Promise<GalleryEntry[]> {
    const workflow = vscode.workspace.asRelativePath(document, false);
    return (await this.#read(document)).filter((e) => e.workflow === workflow).reverse();
  }

  async add(document: vscode.Uri, entry: GalleryEntry): Promise<void> {
    const key = outputFolder(document).toString();
    const write = (this.#writes.get(key) ?? Promise.resolve()).then(async () => {
      const entries = await this.#read(document);
      await vscode.workspace.fs.writeFile(this.#file(document), new TextEncoder().encode(writeGallery([...entries, GalleryEntry.parse(entry)])));
    });
    this.#writes.set(key, write.catch(() => undefined));
    await write;
    this.#changed.fire(document);
  }

  /** An image of an entry as a file. */
  image(document: vscode.Uri, name: string): vscode.Uri {
    return vscode.Uri.joinPath(outputFolder(document), name);
  }

  #file(document: vscode.Uri): vscode.Uri {
    return vscode.Uri.joinPath(outputFolder(document), FILE);
  }

  async #read(document: vscode.Uri): Promise<GalleryEntry[]> {
    try {
      return readGallery(new TextDecoder().decode(await vscode.workspace.fs.readFile(this.#file(document))));
    } catch {
      return [];
    }
  }

  dispose(): void {
    this.#changed.dispose();
  }
}
