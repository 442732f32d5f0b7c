export { onResult, rateLimitError, type Awaitable, type RateLimiter, type RateLimitRule, type RateLimitResult } from './rate-limiter.js';
export { SlidingWindowLimiter } from './sliding-window-limiter.js';
export { RedisRateLimiter, type RedisRateLimiterOptions } from './redis-rate-limiter.js';
export { DEFAULT_LIMITS, WINDOW_MS, apiLimitKey, type LimitName, type LimitsConfig } from './rules.js';
export { DEFAULT_QUOTAS, checkQuota, type StorageQuota, type QuotaName, type QuotasConfig, type QuotaUsage } from './quotas.js';
