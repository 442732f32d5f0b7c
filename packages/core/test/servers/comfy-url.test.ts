import { describe, expect, it } from 'vitest';
import { comfyTargetOf, describeServer, type ServerRecord } from '../../src/servers/server-record.js';
import { splitComfyUrl, withoutUrlCredentials } from '../../src/servers/comfy-url.js';

const attached: ServerRecord = {
  id: 3,
  userId: 1,
  name: 'attached',
  provider: 'attached',
  vastId: null,
  gpu: null,
  gpuCount: null,
  location: null,
  status: 'running',
  statusReason: null,
  isLaunched: true,
  pricePerHour: 0,
  storagePerHour: 0,
  comfyUrl: 'https://comfy.example:8443/base',
  comfyToken: null,
  comfyBasicAuth: 'ann:p@ss:word',
  ssh: null,
  costAccrued: 0,
  costAccruedAt: 0,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  deletedAt: null,
};

describe('credentials in a ComfyUI URL', () => {
  it('are taken out of the URL, decoded, and the rest of the URL kept', () => {
    expect(splitComfyUrl('http://ann:p%40ss%3Aword@10.0.0.5:8188/sub/')).toEqual({ url: 'http://10.0.0.5:8188/sub', basicAuth: 'ann:p@ss:word' });
    expect(splitComfyUrl('https://only-user@host')).toEqual({ url: 'https://host', basicAuth: 'only-user:' });
    expect(splitComfyUrl('http://127.0.0.1:8188')).toEqual({ url: 'http://127.0.0.1:8188', basicAuth: null });
  });

  it('are removed from any URL in a text', () => {
    expect(withoutUrlCredentials('ComfyUI at http://ann:pw@host:1/x did not answer; nor https://b@c')).toBe('ComfyUI at http://host:1/x did not answer; nor https://c');
    expect(withoutUrlCredentials('mail ann@example.com')).toBe('mail ann@example.com');
  });

  it('reach ComfyUI from the record, and never its description, for records written before they were kept apart too', () => {
    expect(comfyTargetOf(attached)).toEqual({ url: 'https://comfy.example:8443/base', basicAuth: 'ann:p@ss:word' });
    const legacy = { ...attached, comfyUrl: 'http://ann:old-pw@host:8188', comfyBasicAuth: undefined, status: 'error' as const, statusReason: 'ComfyUI at http://ann:old-pw@host:8188 did not answer /system_stats' };
    expect(comfyTargetOf(legacy)).toEqual({ url: 'http://host:8188', basicAuth: 'ann:old-pw' });
    const shown = JSON.stringify([describeServer(attached, 0), describeServer(legacy, 0)]);
    expect(shown).not.toMatch(/p@ss|old-pw|ann:/);
    expect(describeServer(legacy, 0)).toMatchObject({ comfyUrl: 'http://host:8188', statusReason: 'ComfyUI at http://host:8188 did not answer /system_stats' });
  });
});
