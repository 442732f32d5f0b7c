import { request, type Dispatcher } from 'undici';

export interface ProbeTarget {
  url: string;
  token?: string | null;
}

/** Answers whether ComfyUI is up and accepts our token. */
export type ComfyProbe = (target: ProbeTarget) => Promise<boolean>;

/**
 * ComfyUI is launched once `GET /system_stats` answers 200 with the Bearer password. Vast's proxy answers 502
 * for minutes while the image provisions, so anything else just means "not yet".
 */
export function systemStatsProbe(options: { dispatcher?: Dispatcher; timeoutMs?: number } = {}): ComfyProbe {
  const timeout = options.timeoutMs ?? 5_000;
  return async ({ url, token }) => {
    try {
      const res = await request(new URL('/system_stats', url), {
        method: 'GET',
        headers: token ? { authorization: `Bearer ${token}` } : {},
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
