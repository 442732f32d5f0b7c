export { openRedis, redisAddress, type OpenRedisOptions } from './redis.js';
export type { Redis } from 'ioredis';
export { RedisEventBus, type RedisEventBusOptions, type SharedEvent } from './event-bus.js';
