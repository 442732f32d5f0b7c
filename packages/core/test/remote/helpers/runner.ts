import { loadRemoteScript } from '../../../src/remote/remote-script.js';
import { SshRunner, type HostKeyPins, type RemoteHost, type SshRunnerOptions } from '../../../src/remote/ssh-runner.js';
import type { PrivateSshd } from './sshd.js';

/** Pins kept in a map, as a store would keep them. */
export function memoryPins(): HostKeyPins & { pins: Map<string, string> } {
  const pins = new Map<string, string>();
  return { pins, get: (server) => pins.get(server), set: (server, fingerprint) => void pins.set(server, fingerprint) };
}

export function endpointOf(sshd: PrivateSshd, port = sshd.port, server = 'server-1'): RemoteHost {
  return { server, host: sshd.host, port, user: sshd.username };
}

/** A runner for the private sshd, its remote.sh kept in the test folder. */
export async function runnerFor(sshd: PrivateSshd, options: Partial<SshRunnerOptions> = {}): Promise<SshRunner> {
  return new SshRunner({
    privateKey: sshd.privateKey,
    pins: memoryPins(),
    script: await loadRemoteScript(),
    remoteDir: `${sshd.dir}/state`,
    ...options,
  });
}
