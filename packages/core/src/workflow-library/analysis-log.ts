import type { Collection, Store } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import type { WorkflowAnalysis } from '../workflow/index.js';
import { analysesCollection, type AnalysisRecord } from './records.js';

/** Keeps every analysis a user asked for, so its id can be quoted and looked up again. */
export class AnalysisLog {
  #analyses: Collection<AnalysisRecord>;
  #clock: Clock;

  constructor(options: { store: Store; clock: Clock }) {
    this.#analyses = options.store.collection(analysesCollection);
    this.#clock = options.clock;
  }

  async record(userId: number, serverId: number | null, result: WorkflowAnalysis): Promise<AnalysisRecord> {
    return this.#analyses.insert({ userId, serverId, createdAt: new Date(this.#clock.now()).toISOString(), result: { ...result } });
  }
}
