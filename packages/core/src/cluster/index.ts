export { DEFAULT_REDIS_PREFIX, openRedis, redisAddress, type OpenRedisOptions } from './redis.js';
export type { Redis } from 'ioredis';
export { RedisEventBus, type RedisEventBusOptions, type SharedEvent } from './event-bus.js';
export { Lease, DEFAULT_LEASE_TTL_MS, leaseKey, type LeaseEvents, type LeaseLossReason, type LeaseOptions } from './lease.js';
export { ProcessPresence, type ProcessPresenceOptions } from './process-presence.js';
export { claimOrphans, type OwnedRecord, type WorkOwnership } from './orphans.js';
export { RedisSlots, DEFAULT_SLOT_TTL_MS, slotsKey, type RedisSlotsOptions } from './slots.js';
