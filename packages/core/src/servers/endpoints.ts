import { COMFY_PORT, SSH_PORT, type VastInstance } from '../vast/index.js';

export interface SshEndpoint {
  host: string;
  port: number;
  user: string;
}

function hostPort(instance: VastInstance, port: number): number | null {
  const raw = instance.ports?.[`${port}/tcp`]?.[0]?.HostPort;
  const n = raw === undefined ? NaN : Number(raw);
  return Number.isInteger(n) && n > 0 ? n : null;
}

/** ComfyUI's URL: the public IP and the host port mapped to 8188 (Caddy, password-protected). Null until running. */
export function comfyUrlOf(instance: VastInstance): string | null {
  const port = hostPort(instance, COMFY_PORT);
  if (port === null || !instance.public_ipaddr) return null;
  return `http://${instance.public_ipaddr}:${port}`;
}

/**
 * SSH, as the Vast CLI derives it: direct on the port mapped to 22 when there is one, else through Vast's proxy
 * host, one port higher for Jupyter runtypes (whose proxy port is taken by Jupyter).
 */
export function sshEndpointOf(instance: VastInstance): SshEndpoint | null {
  const direct = hostPort(instance, SSH_PORT);
  if (direct !== null && instance.public_ipaddr) return { host: instance.public_ipaddr, port: direct, user: 'root' };
  if (!instance.ssh_host || !instance.ssh_port) return null;
  const jupyter = (instance.image_runtype ?? '').includes('jupyter');
  return { host: instance.ssh_host, port: instance.ssh_port + (jupyter ? 1 : 0), user: 'root' };
}
