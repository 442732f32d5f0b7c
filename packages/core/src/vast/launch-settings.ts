import { randomBytes } from 'node:crypto';
import type { VastCreateRequest } from './vast-client.js';

/** ComfyUI's port behind the image's Caddy proxy (which checks the password); ComfyUI itself listens on 18188. */
export const COMFY_PORT = 8188;
export const PORTAL_PORT = 1111;
export const SSH_PORT = 22;
/** Direct ports an offer must have: SSH, the portal and ComfyUI. */
export const DIRECT_PORTS_NEEDED = 3;

/** Vast's ComfyUI image; the tag is resolved by Vast to one that fits the host's driver. */
export const DEFAULT_IMAGE = 'vastai/comfy:@vastai-automatic-tag';

const LABEL_PREFIX = 'comfy-vast:';

export interface LaunchOptions {
  /** Docker image (default `vastai/comfy:@vastai-automatic-tag`). */
  image?: string;
  /** Extra environment variables for the container (PROVISIONING_SCRIPT, HF_TOKEN, ...). */
  env?: Record<string, string>;
}

export interface LaunchInput {
  serverId: number;
  disk: number;
  /** The per-server secret Caddy checks; also our Bearer token for ComfyUI. */
  webPassword: string;
}

/** The label that ties an instance to its server record, so the reconciler can repair a crash after renting. */
export function serverLabel(serverId: number): string {
  return `${LABEL_PREFIX}${serverId}`;
}

/** The server id in one of our labels, or null for any other label. */
export function parseServerLabel(label: string | null | undefined): number | null {
  if (!label?.startsWith(LABEL_PREFIX)) return null;
  const id = Number(label.slice(LABEL_PREFIX.length));
  return Number.isSafeInteger(id) && id > 0 ? id : null;
}

export function generateWebPassword(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * The rent request for a ComfyUI server. The SSH runtypes replace the image's entrypoint with Vast's, so
 * `onstart` runs `entrypoint.sh` (else neither Caddy nor ComfyUI starts); PORTAL_CONFIG must list ComfyUI or its
 * supervisor script exits; `-p` keys map the ports, which only direct runtypes open.
 */
export function buildLaunchSettings(input: LaunchInput, options: LaunchOptions = {}): VastCreateRequest {
  return {
    image: options.image ?? DEFAULT_IMAGE,
    disk: input.disk,
    // Spelled as the Vast CLI sends it: direct SSH with the proxy as fallback.
    runtype: 'ssh_direc ssh_proxy',
    env: {
      ...options.env,
      [`-p ${SSH_PORT}:${SSH_PORT}`]: '1',
      [`-p ${PORTAL_PORT}:${PORTAL_PORT}`]: '1',
      [`-p ${COMFY_PORT}:${COMFY_PORT}`]: '1',
      WEB_PASSWORD: input.webPassword,
      OPEN_BUTTON_PORT: String(PORTAL_PORT),
      DATA_DIRECTORY: '/workspace/',
      PORTAL_CONFIG: `localhost:${PORTAL_PORT}:11111:/:Instance Portal|localhost:${COMFY_PORT}:18188:/:ComfyUI`,
    },
    onstart: 'entrypoint.sh',
    label: serverLabel(input.serverId),
  };
}
