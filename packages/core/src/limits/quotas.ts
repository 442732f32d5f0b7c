import { ComfyVastError } from '../errors/index.js';

/** How much one user may keep stored; unlike a rate limit, room comes back only by deleting. */
export interface StorageQuota {
  /** Records at most. */
  count: number;
  /** Bytes at most, counted as the records' JSON. */
  bytes: number;
}

/** The default quotas; deployments and library users override them through the facade's `quotas` option. */
export const DEFAULT_QUOTAS = {
  workflows: { count: 500, bytes: 50 * 1024 * 1024 },
} satisfies Record<string, StorageQuota>;

export type QuotaName = keyof typeof DEFAULT_QUOTAS;
export type QuotasConfig = Record<QuotaName, StorageQuota>;

/** What a user holds against a quota. */
export interface QuotaUsage {
  count: number;
  bytes: number;
}

/**
 * Throws QUOTA_EXCEEDED when `usage` after the change (`added` records, `addedBytes` bytes, either may be negative)
 * would pass the quota. A change that shrinks what is stored is always allowed, so a user over a lowered quota can
 * still replace a workflow with a smaller one.
 */
export function checkQuota(what: string, quota: StorageQuota, usage: QuotaUsage, added: number, addedBytes: number): void {
  const count = usage.count + added;
  const bytes = usage.bytes + addedBytes;
  if (added > 0 && count > quota.count) {
    throw new ComfyVastError('QUOTA_EXCEEDED', `You can keep at most ${quota.count} ${what}; delete some before saving more.`, {
      details: { quota: 'count', limit: quota.count, used: usage.count },
    });
  }
  if (addedBytes > 0 && bytes > quota.bytes) {
    throw new ComfyVastError('QUOTA_EXCEEDED', `Your ${what} may take at most ${formatBytes(quota.bytes)}; this change would bring them to ${formatBytes(bytes)}. Delete some first.`, {
      details: { quota: 'bytes', limit: quota.bytes, used: usage.bytes, requested: addedBytes },
    });
  }
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;
}
