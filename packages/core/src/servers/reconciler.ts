import type { EventEmitter } from 'eventemitter3';
import type { Clock, Logger, TimerHandle } from '../util/index.js';
import { instanceEnv, parseServerLabel, serverLabel, type VastClient, type VastInstance } from '../vast/index.js';
import type { ComfyProbe } from './comfy-probe.js';
import type { ServerEvents } from './events.js';
import { changedFields, patchFromInstance } from './instance-patch.js';
import { comfyTargetOf, type ServerRecord } from './server-record.js';
import type { NewServer, ServerPatch, ServerRecords } from './server-records.js';

export interface ReconcilerOptions {
  records: ServerRecords;
  vast: VastClient | undefined;
  probe: ComfyProbe;
  clock: Clock;
  logger: Logger;
  events: EventEmitter<ServerEvents>;
  /** Time between two passes (default 30 s; never below Vast's 1 s list interval). */
  intervalMs?: number;
  /** Owner of adopted instances, whose records were lost (default 1, the first user). */
  adoptUserId?: number;
}

/**
 * Keeps records true to Vast. Each pass lists every instance with one paged call (per-instance polling hits rate
 * limits), updates each record from its instance, links a record whose rent answer was lost to the instance
 * carrying its label, adopts labelled instances that no server holds, destroys instances whose server was deleted
 * (they still bill), and probes ComfyUI until it answers. An instance a live server holds is never destroyed, and
 * one is destroyed only when its own label names the deleted server that rented it.
 */
export class ServerReconciler {
  readonly #o: ReconcilerOptions;
  readonly #intervalMs: number;
  #timer: TimerHandle | null = null;
  #active = false;
  #pass: Promise<void> | null = null;

  constructor(options: ReconcilerOptions) {
    this.#o = options;
    this.#intervalMs = Math.max(1_000, options.intervalMs ?? 30_000);
  }

  /** Runs a pass now, then one every interval. */
  start(): void {
    if (this.#active) return;
    this.#active = true;
    this.#schedule(0);
  }

  stop(): void {
    this.#active = false;
    if (this.#timer) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** One pass; a call during a pass joins it rather than starting another. */
  runOnce(): Promise<void> {
    this.#pass ??= this.#run().finally(() => {
      this.#pass = null;
    });
    return this.#pass;
  }

  #schedule(ms: number): void {
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = null;
      // A pass that fails (the store closing under a probe's write) is the next pass's to redo, never unhandled.
      void this.runOnce()
        .catch((error: unknown) => this.#o.logger.warn({ err: describe(error) }, 'A reconcile pass failed; the next one tries again'))
        .finally(() => {
          // A stop and start during the pass has already planned the next one: one chain of passes, not two.
          if (this.#active && this.#timer === null) this.#schedule(this.#intervalMs);
        });
    }, ms);
  }

  async #run(): Promise<void> {
    try {
      if (this.#o.vast) await this.#syncVast(this.#o.vast);
    } catch (error) {
      this.#o.logger.warn({ err: describe(error) }, 'Could not list Vast.ai instances; will retry on the next pass');
    }
    await Promise.all(this.#o.records.live().map((r) => this.#probe(r)));
  }

  async #syncVast(vast: VastClient): Promise<void> {
    // A record written while the list was on its way (rented, stopped, deleted) is newer than the list: left to the next pass.
    const seen = new Map(this.#o.records.live().map((r) => [r.id, this.#o.records.version(r.id)]));
    const fresh = (record: ServerRecord) => seen.get(record.id) === this.#o.records.version(record.id);
    const instances = await vast.listInstances();
    const byId = new Map(instances.map((i) => [i.id, i]));
    for (const record of this.#o.records.live()) {
      if (record.provider !== 'vast' || !fresh(record)) continue;
      if (record.vastId !== null) {
        await this.#apply(record, patchFromInstance(record, byId.get(record.vastId) ?? null));
        continue;
      }
      // Another server may have taken the instance on (attached by its id) meanwhile: then it is not this one's.
      const labelled = instances.find((i) => i.label === serverLabel(record.id) && !this.#o.records.findByVastId(i.id));
      if (labelled) {
        this.#o.logger.info({ serverId: record.id, vastId: labelled.id }, 'Linked a server to the instance rented for it');
        await this.#apply(record, patchFromInstance(record, labelled));
      }
    }
    for (const instance of instances) await this.#settleLabelled(vast, instance, seen);
  }

  /**
   * An instance carrying our label is kept by the live server that holds it (and relabelled to it when the label
   * names another record), left to the server its label names while that server links it, destroyed when that
   * server was deleted, and adopted otherwise. A deleted record holds nothing: ids can come back on another rent.
   */
  async #settleLabelled(vast: VastClient, instance: VastInstance, liveAtList: ReadonlyMap<number, number>): Promise<void> {
    const serverId = parseServerLabel(instance.label);
    if (serverId === null) return;
    const holder = this.#o.records.findByVastId(instance.id);
    if (holder) {
      if (holder.id !== serverId) await this.#relabel(vast, instance.id, holder.id, 'Relabelled an instance to the server that holds it');
      return;
    }
    const named = this.#o.records.get(serverId);
    // The named server rented it when it is a Vast server with no instance yet, or with this one.
    const rentedByNamed = named?.provider === 'vast' && (named.vastId === null || named.vastId === instance.id);
    if (!rentedByNamed) return this.#adopt(vast, instance);
    // Deleted before the list was asked for: the instance outlived its server and bills.
    if (named.status === 'deleted' && !liveAtList.has(named.id)) await this.#destroyLeftover(vast, named, instance);
  }

  async #adopt(vast: VastClient, instance: VastInstance): Promise<void> {
    const blank: NewServer = {
      userId: this.#o.adoptUserId ?? 1,
      name: `adopted-${instance.id}`,
      provider: 'vast',
      vastId: instance.id,
      gpu: null,
      gpuCount: null,
      location: null,
      status: 'creating',
      statusReason: null,
      isLaunched: false,
      pricePerHour: 0,
      storagePerHour: 0,
      comfyUrl: null,
      comfyToken: instanceEnv(instance, 'WEB_PASSWORD') ?? null,
      ssh: null,
    };
    const data = { ...blank, ...patchFromInstance(blank, instance) };
    const record = await this.#o.records.insert(data);
    this.#o.logger.warn({ serverId: record.id, vastId: instance.id }, 'Adopted a labelled Vast.ai instance that had no server record');
    this.#o.events.emit('server:adopted', { userId: record.userId, server: this.#o.records.describe(record) });
    await this.#relabel(vast, instance.id, record.id, 'Relabelled an adopted instance');
  }

  /** So the label names the record that now holds the instance. */
  async #relabel(vast: VastClient, vastId: number, serverId: number, done: string): Promise<void> {
    try {
      await vast.setLabel(vastId, serverLabel(serverId));
      this.#o.logger.info({ serverId, vastId }, done);
    } catch (error) {
      this.#o.logger.warn({ serverId, vastId, err: describe(error) }, 'Could not relabel an instance');
    }
  }

  async #destroyLeftover(vast: VastClient, record: ServerRecord, instance: VastInstance): Promise<void> {
    this.#o.logger.warn({ serverId: record.id, vastId: instance.id }, 'Destroying an instance whose server was deleted');
    await vast.destroyInstance(instance.id).catch((error: unknown) => {
      this.#o.logger.warn({ vastId: instance.id, err: describe(error) }, 'Could not destroy a leftover instance');
    });
  }

  async #probe(record: ServerRecord): Promise<void> {
    const target = comfyTargetOf(record);
    if (!target) return;
    if (record.provider === 'vast' && (record.status !== 'running' || record.isLaunched)) return;
    const ok = await this.#o.probe(target);
    const current = this.#o.records.get(record.id);
    if (!current || current.status === 'deleted') return;
    if (current.provider === 'vast') {
      if (ok && current.status === 'running' && current.comfyUrl === record.comfyUrl) await this.#apply(current, { isLaunched: true });
      return;
    }
    await this.#apply(current, ok ? { status: 'running', statusReason: null, isLaunched: true } : { status: 'error', statusReason: `ComfyUI at ${target.url} did not answer /system_stats`, isLaunched: false });
  }

  async #apply(record: ServerRecord, patch: ServerPatch): Promise<void> {
    const changes = changedFields(record, patch);
    if (Object.keys(changes).length > 0) await this.#o.records.update(record, changes);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
