import { request, type Dispatcher } from 'undici';
import { comfyAuthHeaders, type ComfyCredentials } from '../comfy/index.js';

export interface ProbeTarget extends ComfyCredentials {
  url: string;
}

/** Answers whether ComfyUI is up and accepts our credentials. */
export type ComfyProbe = (target: ProbeTarget) => Promise<boolean>;

/**
 * ComfyUI is launched once `GET /system_stats` answers 200 with the Bearer password. Vast's proxy answers 502
 * for minutes while the image provisions, so anything else just means "not yet".
 */
export function systemStatsProbe(options: { dispatcher?: Dispatcher; timeoutMs?: number } = {}): ComfyProbe {
  const timeout = options.timeoutMs ?? 5_000;
  return async (target) => {
    try {
      const res = await request(new URL('/system_stats', target.url), {
        method: 'GET',
        headers: comfyAuthHeaders(target),
        dispatcher: options.dispatcher,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
      await res.body.dump();
      return res.statusCode === 200;
    } catch {
      return false;
    }
  };
}
