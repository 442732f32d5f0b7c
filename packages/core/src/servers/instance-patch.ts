import type { VastInstance } from '../vast/index.js';
import { comfyUrlOf, sshEndpointOf } from './endpoints.js';
import type { ServerRecord } from './server-record.js';
import type { ServerPatch } from './server-records.js';
import { statusFromVast } from './status.js';

/** What a Vast instance (or its absence) says about a record: status, endpoints while running, current prices. */
type Known = Pick<ServerRecord, 'status' | 'isLaunched' | 'comfyUrl' | 'gpu' | 'gpuCount' | 'location' | 'pricePerHour' | 'storagePerHour'>;

export function patchFromInstance(record: Known, instance: VastInstance | null): ServerPatch {
  const verdict = statusFromVast(instance, record.status);
  if (!instance) return { status: verdict.status, statusReason: verdict.reason, isLaunched: false, comfyUrl: null, ssh: null };
  const running = verdict.status === 'running';
  const comfyUrl = running ? comfyUrlOf(instance) : null;
  return {
    vastId: instance.id,
    status: verdict.status,
    statusReason: verdict.reason,
    comfyUrl,
    ssh: running ? sshEndpointOf(instance) : null,
    // A new URL (ports change on restart) must be probed again before generations go to it.
    isLaunched: running && record.isLaunched && comfyUrl === record.comfyUrl,
    gpu: instance.gpu_name ?? record.gpu,
    gpuCount: instance.num_gpus ?? record.gpuCount,
    location: instance.geolocation ?? record.location,
    pricePerHour: instance.dph_total ?? record.pricePerHour,
    storagePerHour: instance.storage_total_cost ?? record.storagePerHour,
  };
}

/** Only the fields that differ, so a poll that finds nothing new writes nothing. */
export function changedFields(record: ServerRecord, patch: ServerPatch): ServerPatch {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(patch)) {
    if (JSON.stringify(record[key as keyof ServerRecord]) !== JSON.stringify(value)) out[key] = value;
  }
  return out as ServerPatch;
}
