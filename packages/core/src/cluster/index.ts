export { openRedis, redisAddress, type OpenRedisOptions } from './redis.js';
export type { Redis } from 'ioredis';
