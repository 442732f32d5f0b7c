import { z } from 'zod';
import type { VastInstance } from '../vast/index.js';

/** The status words of a server, as the API contract spells them (plus `deleted`, kept for history). */
export const serverStatusSchema = z.enum(['creating', 'starting', 'running', 'stopping', 'stopped', 'error', 'deleted']);
export type ServerStatus = z.infer<typeof serverStatusSchema>;

export interface StatusVerdict {
  status: ServerStatus;
  /** Why, for `error` (and for a deletion we did not ask for); null otherwise. */
  reason: string | null;
}

/** Words in `status_msg` that mean the container will not come up (the Vast CLI's self-test looks for the same). */
const FAILURE_WORDS = /\b(error|failed|failure|oci runtime|cannot|unable|denied|no space left)\b/i;

/**
 * Our status from Vast's fields. One table, read top to bottom; the first row that fits wins:
 *
 * | Vast                                                          | ours       |
 * |---------------------------------------------------------------|------------|
 * | no instance, or intended_status `destroyed`                   | deleted    |
 * | actual_status `unknown` (no host heartbeat) or `offline`      | error      |
 * | actual_status `exited` while intended `running`               | error      |
 * | error-looking status_msg while not actually running           | error      |
 * | intended `stopped`/`frozen`, actual stopped/exited/null/...   | stopped    |
 * | intended `stopped`/`frozen`, actual running/loading/rebooting | stopping   |
 * | intended `running`, actual `running`                          | running    |
 * | intended `running`, actual `stopped` (waiting for its GPU)    | starting   |
 * | intended `running`, actual null/created/loading/rebooting     | creating on first boot, starting after a stop |
 *
 * `previous` is our last word for the server: it tells a first boot from a restart, which Vast's fields do not.
 * A stopped container often reports actual `exited`; that is only an error when it was meant to run.
 */
export function statusFromVast(instance: VastInstance | null, previous?: ServerStatus): StatusVerdict {
  if (!instance || instance.intended_status === 'destroyed') return { status: 'deleted', reason: 'The instance no longer exists on Vast.ai' };
  const actual = instance.actual_status ?? null;
  const intended = instance.intended_status ?? 'running';
  const msg = instance.status_msg ?? '';
  if (actual === 'unknown') return { status: 'error', reason: `The host stopped reporting (unknown)${msg ? `: ${msg}` : ''}` };
  if (actual === 'offline') return { status: 'error', reason: `The host is offline${msg ? `: ${msg}` : ''}` };
  if (actual === 'exited' && intended === 'running') return { status: 'error', reason: `The container exited${msg ? `: ${msg}` : ''}` };
  if (actual !== 'running' && FAILURE_WORDS.test(msg)) return { status: 'error', reason: msg };
  if (intended === 'stopped' || intended === 'frozen') {
    return { status: actual === 'running' || actual === 'loading' || actual === 'rebooting' || actual === 'frozen' ? 'stopping' : 'stopped', reason: null };
  }
  if (actual === 'running') return { status: 'running', reason: null };
  if (actual === 'stopped') return { status: 'starting', reason: null };
  const restarting = previous === 'stopped' || previous === 'stopping' || previous === 'starting';
  return { status: restarting ? 'starting' : 'creating', reason: null };
}
