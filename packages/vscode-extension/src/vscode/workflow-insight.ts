import type * as vscode from 'vscode';
import type { AnalysisInfo, ModelInfo, ServerInfo } from '../api/port.js';
import { CORE_OBJECT_INFO, analyzeLocally, type ObjectInfo } from '../workflow/core-adapter.js';
import { findProblems, type Problem } from '../workflow/diagnostics.js';
import { schemaProblems } from '../workflow/schema-problems.js';
import { readWorkflowDocument, type WorkflowDocument } from '../workflow/workflow-doc.js';
import type { Connection } from './connection.js';
import type { ServerSelection } from './server-selection.js';

/** Everything known about one version of a workflow file. */
export interface Inspection {
  json: unknown;
  doc: WorkflowDocument;
  /** The server's node definitions, else core's bundled ones. */
  objectInfo: ObjectInfo;
  /** Models the workflow loads, from core's offline analysis (folders and known download links). */
  localModels?: ModelInfo[];
  problems: Problem[];
  server?: ServerInfo;
  nodeTypes?: ObjectInfo;
  analysis?: AnalysisInfo;
  /** Why the server-side checks did not run, for the editor to show. */
  serverNote?: string;
}

/**
 * Reads workflow files and checks them: locally (links, shape) always, against the selected server (node
 * types, models, combo values) when signed in. Server answers are cached per server and per text.
 */
export class WorkflowInsight {
  readonly #nodeTypes = new Map<number, Promise<ObjectInfo | undefined>>();
  readonly #analyses = new Map<string, Promise<AnalysisInfo>>();

  constructor(
    private readonly connection: Connection,
    private readonly selection: ServerSelection,
  ) {}

  /** Forgets server answers (after sign-in or a server change). */
  reset(): void {
    this.#nodeTypes.clear();
    this.#analyses.clear();
  }

  async inspect(document: vscode.TextDocument): Promise<Inspection | undefined> {
    const text = document.getText();
    const doc = readWorkflowDocument(text);
    if (!doc) return undefined;
    const server = this.selection.selected;
    const remote = server ? await this.askServer(server, text).catch((error: unknown) => ({ note: (error as Error).message })) : { note: 'Select a server to check node types and models.' };
    const nodeTypes = 'nodeTypes' in remote ? remote.nodeTypes : undefined;
    const analysis = 'analysis' in remote ? remote.analysis : undefined;
    const problems = [
      ...schemaProblems(text, doc),
      ...findProblems(doc, {
        ...(server ? { serverName: server.name } : {}),
        ...(nodeTypes ? { nodeTypes } : {}),
        missingModels: (analysis?.missingModels ?? []).map((m) => ({ name: m.name, ...(m.folder ? { folder: m.folder } : {}) })),
      }),
    ];
    const json: unknown = JSON.parse(text);
    const objectInfo = nodeTypes ?? CORE_OBJECT_INFO;
    const local = analysis ? undefined : analyzeLocally(json, objectInfo);
    const urls = new Map(local?.missingModels.map((m) => [m.name, m.downloadUrl]));
    const localModels = local?.requiredModels.map((m) => ({ name: m.name, type: m.type, ...(m.folder ? { folder: m.folder } : {}), available: false, ...(urls.get(m.name) ? { downloadUrl: urls.get(m.name)! } : {}) }));
    return { json, doc, objectInfo, problems, ...(localModels ? { localModels } : {}), ...(server ? { server } : {}), ...(nodeTypes ? { nodeTypes } : {}), ...(analysis ? { analysis } : {}), ...('note' in remote ? { serverNote: remote.note } : {}) };
  }

  private async askServer(server: ServerInfo, text: string): Promise<{ nodeTypes?: ObjectInfo; analysis: AnalysisInfo } | { note: string }> {
    if (!(await this.connection.isSignedIn())) return { note: 'Sign in to check node types and models on your server.' };
    const api = await this.connection.api();
    let nodeTypes = this.#nodeTypes.get(server.id);
    if (!nodeTypes) {
      nodeTypes = api.nodeTypes(server.id).catch(() => undefined);
      this.#nodeTypes.set(server.id, nodeTypes);
    }
    const key = `${server.id}\n${text}`;
    let analysis = this.#analyses.get(key);
    if (!analysis) {
      analysis = api.analyze(server.id, JSON.parse(text));
      this.#analyses.set(key, analysis);
      // Failed answers are not kept: the next edit asks again.
      analysis.catch(() => this.#analyses.delete(key));
      if (this.#analyses.size > 50) this.#analyses.delete(this.#analyses.keys().next().value!);
    }
    const types = await nodeTypes;
    return { ...(types ? { nodeTypes: types } : {}), analysis: await analysis };
  }
}
