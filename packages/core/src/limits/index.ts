export { SlidingWindowLimiter, rateLimitError, type RateLimitRule, type RateLimitResult } from './sliding-window-limiter.js';
export { DEFAULT_LIMITS, WINDOW_MS, apiLimitKey, type LimitName, type LimitsConfig } from './rules.js';
export { DEFAULT_QUOTAS, checkQuota, type StorageQuota, type QuotaName, type QuotasConfig, type QuotaUsage } from './quotas.js';
