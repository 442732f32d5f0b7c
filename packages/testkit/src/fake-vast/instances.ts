import { z } from 'zod';
import { virtualHostStateSchema } from '../fake-ssh/virtual-host-state.js';
import { fakeOfferSchema, type FakeOffer } from './catalogue.js';

const forcedStatusSchema = z.object({ actual_status: z.string(), status_msg: z.string() });

/** The fake's record of one rented instance. Its status is derived from the time on each read. */
export const fakeInstanceSchema = z.object({
  id: z.number().int(),
  offer: fakeOfferSchema,
  label: z.string().nullable(),
  image: z.string(),
  runtype: z.string(),
  env: z.record(z.string(), z.string()),
  onstart: z.string().nullable(),
  disk: z.number(),
  intended: z.enum(['running', 'stopped']),
  /** When the instance reaches `running` (after loading) or `stopped` (after stopping). */
  settlesAt: z.number(),
  /** A status forced by a test (`exited`, `offline`, ...), with its message. */
  forced: forcedStatusSchema.nullable(),
  createdAt: z.number(),
  /** The port of the fake ComfyUI while one is serving this instance (the last one, in a saved state). */
  comfyPort: z.number().int().nullable(),
  /** The port of its SSH server while one serves it (the last one, in a saved state), mapped from 22. */
  sshPort: z.number().int(),
  /** Its SSH host key (OpenSSH private key), made on first serving and kept, so a pinned key stays valid. */
  sshHostKey: z.string().optional(),
  /** Public keys attached to this instance alone (the account's keys are let in too). */
  sshKeys: z.array(z.string()).optional(),
  /** Its disk as the fake SSH host keeps it: models, setup state, jobs and their logs. */
  host: virtualHostStateSchema.optional(),
});
export type FakeInstance = z.infer<typeof fakeInstanceSchema>;

export interface InstanceStatus {
  actual_status: string;
  intended_status: string;
  cur_state: string;
  status_msg: string;
}

export function statusOf(instance: FakeInstance, now: number): InstanceStatus {
  if (instance.forced) {
    return { ...instance.forced, intended_status: instance.intended, cur_state: instance.intended === 'running' ? 'running' : 'stopped' };
  }
  const settled = now >= instance.settlesAt;
  if (instance.intended === 'running') {
    return settled
      ? { actual_status: 'running', intended_status: 'running', cur_state: 'running', status_msg: 'success, running vastai/comfy' }
      : { actual_status: 'loading', intended_status: 'running', cur_state: 'running', status_msg: 'Pulling image layers' };
  }
  return settled
    ? { actual_status: 'stopped', intended_status: 'stopped', cur_state: 'stopped', status_msg: 'Container stopped' }
    : { actual_status: 'running', intended_status: 'stopped', cur_state: 'stopped', status_msg: 'Stopping container' };
}

/** The dollars per hour of an offer once `disk` GB are allocated, as Vast prices it. */
export function pricing(offer: FakeOffer, disk: number): { dph_base: number; storage_total_cost: number; dph_total: number } {
  const storage = (offer.storage_cost * disk) / 720;
  return { dph_base: offer.dph_base, storage_total_cost: round(storage), dph_total: round(offer.dph_base + storage) };
}

/** The instance as Vast's API shows it. `ports` is there only while running, with HostPort as a string. */
export function instanceView(instance: FakeInstance, now: number, pad: (s: string) => string): Record<string, unknown> {
  const status = statusOf(instance, now);
  const running = status.actual_status === 'running' && instance.intended === 'running';
  const price = pricing(instance.offer, instance.disk);
  const o = instance.offer;
  return {
    id: instance.id,
    machine_id: o.machine_id,
    host_id: o.host_id,
    ...status,
    actual_status: pad(status.actual_status),
    status_msg: pad(status.status_msg),
    next_state: status.intended_status,
    label: instance.label === null ? null : pad(instance.label),
    image_uuid: instance.image,
    image_runtype: instance.runtype,
    extra_env: Object.entries(instance.env),
    onstart: instance.onstart,
    template_hash_id: null,
    num_gpus: o.num_gpus,
    gpu_name: pad(o.gpu_name),
    gpu_ram: o.gpu_ram,
    gpu_util: running ? 0.0 : null,
    cpu_cores_effective: o.cpu_cores_effective,
    cpu_ram: o.cpu_ram,
    disk_space: instance.disk,
    public_ipaddr: pad(o.public_ipaddr),
    ssh_host: '127.0.0.1',
    ssh_port: instance.sshPort + 1,
    direct_port_start: 40000,
    direct_port_end: 40099,
    ports: running ? portsOf(instance) : undefined,
    geolocation: pad(o.geolocation),
    ...price,
    credit_balance: null,
    is_bid: false,
    start_date: Math.floor(instance.createdAt / 1000),
    uptime_mins: running ? Math.floor((now - instance.settlesAt) / 60000) : null,
    jupyter_token: 'f'.repeat(64),
  };
}

function portsOf(instance: FakeInstance): Record<string, Array<{ HostIp: string; HostPort: string }>> {
  const ports: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  const bind = (port: number) => [{ HostIp: '0.0.0.0', HostPort: String(port) }];
  ports['22/tcp'] = bind(instance.sshPort);
  let next = instance.sshPort + 10;
  for (const key of Object.keys(instance.env)) {
    const m = /^-p (\d+):(\d+)(\/udp)?$/.exec(key);
    if (!m || m[2] === '22') continue;
    const inner = Number(m[2]);
    ports[`${inner}/${m[3] ? 'udp' : 'tcp'}`] = bind(inner === 8188 && instance.comfyPort !== null ? instance.comfyPort : next++);
  }
  return ports;
}

function round(n: number): number {
  return Math.round(n * 1_000_000) / 1_000_000;
}
