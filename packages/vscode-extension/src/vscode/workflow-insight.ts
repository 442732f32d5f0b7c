import type * as vscode from 'vscode';
import type { AnalysisInfo, ModelInfo, ServerInfo } from '../api/port.js';
import { analyzeLocally, type ObjectInfo } from '../workflow/core-adapter.js';
import { findProblems, type Problem } from '../workflow/diagnostics.js';
import { schemaProblems } from '../workflow/schema-problems.js';
import { readWorkflowDocument, type WorkflowDocument } from '../workflow/workflow-doc.js';
import type { Connection } from './connection.js';
import { NodeDefinitionSource } from './node-definitions-source.js';
import type { ServerSelection } from './server-selection.js';

/** Everything known about one version of a workflow file. */
export interface Inspection {
  json: unknown;
  doc: WorkflowDocument;
  /** The selected server's node definitions when signed in and it runs, else core's bundled ones. */
  objectInfo: ObjectInfo;
  problems: Problem[];
  server?: ServerInfo;
  /** The selected server's analysis. */
  analysis?: AnalysisInfo;
  /** Without a server: the models the workflow loads, from core's offline analysis. */
  localModels?: ModelInfo[];
  /** Why the server-side checks did not run, for the editor to show. */
  serverNote?: string;
}

/**
 * Reads workflow files and checks them: links and shape locally, node types, models and values with the
 * selected server's analysis (core's offline analysis checks values when no server is there). Server answers
 * are cached per server and per text.
 */
export class WorkflowInsight {
  readonly #analyses = new Map<string, Promise<AnalysisInfo>>();
  readonly #definitions: NodeDefinitionSource;

  constructor(
    private readonly connection: Connection,
    private readonly selection: ServerSelection,
  ) {
    this.#definitions = new NodeDefinitionSource(connection, selection);
  }

  /** The node definitions to read workflows with now, asking the selected server when they are not known yet. */
  definitions(): Promise<ObjectInfo> {
    return this.#definitions.current();
  }

  /** Forgets server answers (after sign-in or a server change). */
  reset(): void {
    this.#analyses.clear();
  }

  /** The document as it is now, with the node definitions of the last inspection; nothing asked of a server. */
  read(document: vscode.TextDocument, objectInfo: ObjectInfo = this.#definitions.known()): Pick<Inspection, 'json' | 'doc' | 'objectInfo'> | undefined {
    const text = document.getText();
    const doc = readWorkflowDocument(text);
    return doc ? { json: JSON.parse(text) as unknown, doc, objectInfo } : undefined;
  }

  async inspect(document: vscode.TextDocument): Promise<Inspection | undefined> {
    const objectInfo = await this.#definitions.current();
    const text = document.getText();
    const read = this.read(document, objectInfo);
    if (!read) return undefined;
    const { json, doc } = read;
    const server = this.selection.selected;
    const remote = server ? await this.askServer(server, json, text).catch((error: unknown) => ({ note: (error as Error).message })) : { note: 'Select a server to check node types and models.' };
    const analysis = 'analysis' in remote ? remote.analysis : undefined;
    const local = analysis ? undefined : analyzeLocally(json, objectInfo);
    const urls = new Map(local?.missingModels.map((m) => [m.name, m.downloadUrl]));
    const problems = [
      ...schemaProblems(text, doc),
      ...findProblems(doc, {
        objectInfo,
        ...(server ? { serverName: server.name } : {}),
        missingNodeTypes: analysis?.missingNodeTypes ?? [],
        missingModels: (analysis?.missingModels ?? []).map((m) => ({ name: m.name, ...(m.folder ? { folder: m.folder } : {}) })),
        warnings: analysis?.warnings ?? local?.warnings ?? [],
      }),
    ];
    const localModels = local?.requiredModels.map((m) => ({ name: m.name, type: m.type, ...(m.folder ? { folder: m.folder } : {}), available: false, ...(urls.get(m.name) ? { downloadUrl: urls.get(m.name)! } : {}) }));
    return {
      json,
      doc,
      objectInfo,
      problems,
      ...(server ? { server } : {}),
      ...(analysis ? { analysis } : {}),
      ...(localModels ? { localModels } : {}),
      ...('note' in remote ? { serverNote: remote.note } : {}),
    };
  }

  private async askServer(server: ServerInfo, json: unknown, text: string): Promise<{ analysis: AnalysisInfo } | { note: string }> {
    if (!(await this.connection.isSignedIn())) return { note: 'Sign in to check node types and models on your server.' };
    const key = `${server.id}\n${text}`;
    let analysis = this.#analyses.get(key);
    if (!analysis) {
      analysis = (await this.connection.api()).analyze(server.id, json);
      this.#analyses.set(key, analysis);
      // Failed answers are not kept: the next edit asks again.
      analysis.catch(() => this.#analyses.delete(key));
      if (this.#analyses.size > 50) this.#analyses.delete(this.#analyses.keys().next().value!);
    }
    return { analysis: await analysis };
  }
}
