import { ComfyVastError, parseOrThrow } from '../errors/index.js';
import { checkQuota, DEFAULT_QUOTAS, type QuotaUsage, type StorageQuota } from '../limits/index.js';
import type { Collection, Store } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import { analyzeWorkflow, BUILTIN_WORKFLOWS, parseWorkflow, type BuiltinWorkflow } from '../workflow/index.js';
import type { WorkflowRecord} from './records.js';
import { WorkflowInput, workflowsCollection } from './records.js';

/** The built-in that a generation without `workflowId` uses. */
export const DEFAULT_BUILTIN_ID = 1;

/**
 * Saved workflows: the built-ins, which every user sees, and each user's own, within the user's quota (a count
 * and a total size). Another user's workflow is reported exactly as a missing one.
 */
export class WorkflowLibrary {
  #workflows: Collection<WorkflowRecord>;
  #clock: Clock;
  #quota: StorageQuota;
  /** Each stored record's size, by the record object: stored records are never changed in place. */
  #sizes = new WeakMap<WorkflowRecord, number>();

  constructor(options: { store: Store; clock: Clock; quota?: StorageQuota }) {
    this.#workflows = options.store.collection(workflowsCollection);
    this.#clock = options.clock;
    this.#quota = options.quota ?? DEFAULT_QUOTAS.workflows;
  }

  /**
   * Records the built-ins, or refreshes them from the code. On a new data directory they take ids 1, 2, ...
   * in their own order, so workflow 1 is "Text to Image - SDXL" as the API reference shows.
   */
  async seedBuiltins(builtins: readonly BuiltinWorkflow[] = BUILTIN_WORKFLOWS): Promise<void> {
    for (const builtin of [...builtins].sort((a, b) => a.id - b.id)) {
      const key = String(builtin.id);
      const fields = {
        name: builtin.name,
        description: builtin.description,
        tags: [...builtin.tags],
        format: 'ui' as const,
        workflow: builtin.workflow as Record<string, unknown>,
        requiredModels: [...builtin.requiredModels],
      };
      const existing = this.#workflows.find((w) => w.builtinKey === key);
      if (!existing) {
        const now = this.#now();
        await this.#workflows.insert({ ...fields, userId: null, builtinKey: key, createdAt: now, updatedAt: now });
      } else if (JSON.stringify({ ...existing, ...fields }) !== JSON.stringify(existing)) {
        await this.#workflows.update(existing.id, { ...fields, updatedAt: this.#now() });
      }
    }
  }

  /** Built-ins first, then the user's own, oldest first. */
  list(userId: number): WorkflowRecord[] {
    return this.#workflows.filter((w) => w.userId === null || w.userId === userId);
  }

  get(userId: number, id: number): WorkflowRecord {
    const record = this.#workflows.get(id);
    if (!record || (record.userId !== null && record.userId !== userId)) {
      throw new ComfyVastError('NOT_FOUND', `Workflow ${id} not found`, { details: { workflowId: id } });
    }
    return record;
  }

  /** The workflow a generation without `workflowId` runs. */
  defaultWorkflow(): WorkflowRecord {
    const record = this.#workflows.find((w) => w.builtinKey === String(DEFAULT_BUILTIN_ID));
    if (!record) throw new ComfyVastError('NOT_FOUND', 'The built-in workflows are not loaded', { details: { workflowId: DEFAULT_BUILTIN_ID } });
    return record;
  }

  /** How many workflows the user keeps and how many bytes they take, against the quota. */
  usage(userId: number): QuotaUsage & { quota: StorageQuota } {
    let count = 0;
    let bytes = 0;
    for (const record of this.#workflows.filter((w) => w.userId === userId)) {
      count++;
      bytes += this.#size(record);
    }
    return { count, bytes, quota: this.#quota };
  }

  async create(userId: number, input: WorkflowInput): Promise<WorkflowRecord> {
    const now = this.#now();
    const data = { ...this.#prepare(input), userId, builtinKey: null, createdAt: now, updatedAt: now };
    checkQuota('saved workflows', this.#quota, this.usage(userId), 1, byteSize(data));
    return this.#workflows.insert(data);
  }

  async replace(userId: number, id: number, input: WorkflowInput): Promise<WorkflowRecord> {
    const record = this.#owned(userId, id);
    const fields = { ...this.#prepare(input), updatedAt: this.#now() };
    checkQuota('saved workflows', this.#quota, this.usage(userId), 0, byteSize({ ...record, ...fields }) - this.#size(record));
    return this.#workflows.update(record.id, fields);
  }

  async delete(userId: number, id: number): Promise<void> {
    const record = this.#owned(userId, id);
    await this.#workflows.delete(record.id);
  }

  /** A workflow the user may change: their own; built-ins are read-only. */
  #owned(userId: number, id: number): WorkflowRecord {
    const record = this.get(userId, id);
    if (record.userId === null) throw new ComfyVastError('FORBIDDEN', `Workflow ${id} is built in and cannot be changed; save a copy instead`, { details: { workflowId: id } });
    return record;
  }

  /** Validates the workflow and records the models it needs, so lists need no re-analysis. */
  #prepare(input: WorkflowInput): Omit<WorkflowRecord, 'id' | 'userId' | 'builtinKey' | 'createdAt' | 'updatedAt'> {
    const parsed = parseOrThrow(WorkflowInput, input, 'workflow');
    const format = parseWorkflow(parsed.workflow).format;
    const requiredModels = [...new Set(analyzeWorkflow(parsed.workflow).requiredModels.map((m) => m.name))];
    return { name: parsed.name, description: parsed.description, tags: parsed.tags, format, workflow: parsed.workflow, requiredModels };
  }

  #size(record: WorkflowRecord): number {
    let size = this.#sizes.get(record);
    if (size === undefined) {
      size = byteSize(record);
      this.#sizes.set(record, size);
    }
    return size;
  }

  #now(): string {
    return new Date(this.#clock.now()).toISOString();
  }
}

/** A record's size as stored: its JSON in UTF-8. */
function byteSize(record: object): number {
  return Buffer.byteLength(JSON.stringify(record));
}
