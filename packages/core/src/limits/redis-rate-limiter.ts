import { createHash } from 'node:crypto';
import { ReplyError, type Redis } from 'ioredis';
import { DEFAULT_REDIS_PREFIX } from '../cluster/redis.js';
import { ComfyVastError } from '../errors/index.js';
import type { Clock } from '../util/clock.js';
import { checkRules, rateLimitError, windowRank, windowResult, type RateLimiter, type RateLimitResult, type RateLimitRule } from './rate-limiter.js';

/**
 * One check of a key, atomic in Redis, the same sliding log as SlidingWindowLimiter's. A unit counts in a window
 * while it is younger than the window, so windows are exact at their edges.
 *
 * Units are kept as one sorted-set member per millisecond, "<ms>:<units>" scored by the millisecond: a cost of
 * billions (the download allowance counts bytes) is one member, not billions, and a burst within one millisecond
 * is one too. Summing the members of a day on each call would cost as much as the day holds, so each window keeps
 * its running total ("u<windowMs>") and the instant up to which units have left it ("m<windowMs>") in a hash, and
 * a call subtracts only the units that left since the previous one, as the local limiter does.
 *
 * Numbers cross as '%.17g' strings: Redis turns a Lua number it returns into an integer, and Lua's own tostring
 * keeps 14 digits only.
 *
 * KEYS: the units (sorted set), the windows (hash). ARGV: now, cost, consume (1 or 0), ttl in ms, then each
 * rule's windowMs and limit. Answers three strings per rule: units inside, ms until room, ms until empty.
 */
const SCRIPT = `
local units, windows = KEYS[1], KEYS[2]
local now, cost, consume, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3] == '1', tonumber(ARGV[4])
local n = (#ARGV - 4) / 2
local function fmt(x) return string.format('%.17g', x) end
local function costOf(member) return tonumber(string.match(member, ':(.+)$')) end
local function atOf(member) return tonumber(string.match(member, '^(.-):')) end
local function sum(min, max)
  local total = 0
  for _, member in ipairs(redis.call('ZRANGEBYSCORE', units, min, max)) do total = total + costOf(member) end
  return total
end
local function timeUntilRoom(mark, excess, window)
  local freed, offset = 0, 0
  while true do
    local chunk = redis.call('ZRANGEBYSCORE', units, '(' .. fmt(mark), '+inf', 'LIMIT', offset, 128)
    for _, member in ipairs(chunk) do
      freed = freed + costOf(member)
      if freed >= excess then return math.max(0, atOf(member) + window - now) end
    end
    if #chunk < 128 then return window end
    offset = offset + 128
  end
end

local fields = {}
for r = 1, n do
  fields[2 * r - 1] = 'u' .. ARGV[3 + 2 * r]
  fields[2 * r] = 'm' .. ARGV[3 + 2 * r]
end
local stored = redis.call('HMGET', windows, unpack(fields))
local used, marks = {}, {}
for r = 1, n do
  local horizon = now - tonumber(ARGV[3 + 2 * r])
  local u, m = tonumber(stored[2 * r - 1]), tonumber(stored[2 * r])
  if not u or not m then
    -- A window not seen before (a new key, or a rule added since): its units are counted once.
    u, m = sum('(' .. fmt(horizon), '+inf'), horizon
  elseif horizon > m then
    u, m = u - sum('(' .. fmt(m), fmt(horizon)), horizon
  end
  used[r], marks[r] = u, m
end

local last = redis.call('ZRANGE', units, -1, -1, 'WITHSCORES')
local lastAt = last[2] and tonumber(last[2])
local allowed, answer = true, {}
for r = 1, n do
  local window, limit = tonumber(ARGV[3 + 2 * r]), tonumber(ARGV[4 + 2 * r])
  local retry, reset = 0, 0
  if used[r] + cost > limit then
    allowed = false
    retry = timeUntilRoom(marks[r], used[r] + cost - limit, window)
  end
  if lastAt and lastAt > marks[r] then reset = lastAt + window - now end
  answer[3 * r - 2], answer[3 * r - 1], answer[3 * r] = fmt(used[r]), fmt(retry), fmt(reset)
end

if consume and allowed then
  local same = redis.call('ZRANGEBYSCORE', units, fmt(now), fmt(now))
  local merged = cost
  if same[1] then
    merged = merged + costOf(same[1])
    redis.call('ZREM', units, same[1])
  end
  redis.call('ZADD', units, fmt(now), fmt(now) .. ':' .. fmt(merged))
  -- Clocks of several replicas differ a little: a unit older than a window's horizon is not counted in it.
  for r = 1, n do if now > marks[r] then used[r] = used[r] + cost end end
end

redis.call('ZREMRANGEBYSCORE', units, '-inf', fmt(now - ttl))
if redis.call('EXISTS', units) == 1 then
  local values = {}
  for r = 1, n do
    values[4 * r - 3], values[4 * r - 2] = fields[2 * r - 1], fmt(used[r])
    values[4 * r - 1], values[4 * r] = fields[2 * r], fmt(marks[r])
  end
  redis.call('HSET', windows, unpack(values))
  redis.call('PEXPIRE', units, ttl)
  redis.call('PEXPIRE', windows, ttl)
else
  redis.call('DEL', windows)
end
return answer
`;

const SCRIPT_SHA = createHash('sha1').update(SCRIPT).digest('hex');

export interface RedisRateLimiterOptions {
  /** An open client (see openRedis); the limiter neither opens nor closes it. */
  redis: Redis;
  rules: readonly RateLimitRule[];
  clock: Clock;
  /** The limit's name, in every key: `api`, `generations`, `downloadBytes`. */
  name: string;
  /** Before every key, so that several installations can share one Redis; `comfy-vast:` by default. */
  prefix?: string;
}

/**
 * The limits of every process that shares one Redis: N replicas together allow a user exactly the limit, not N
 * times it. Same windows, answers and errors as SlidingWindowLimiter, as promises; the time is the injected
 * clock's, passed to the script. A key's two Redis keys expire once the longest window has passed since its last
 * check. When Redis does not answer, a check rejects with SERVICE_UNAVAILABLE: requests are refused rather than
 * let through unlimited.
 */
export class RedisRateLimiter implements RateLimiter {
  readonly rules: readonly RateLimitRule[];
  readonly #redis: Redis;
  readonly #clock: Clock;
  readonly #keyPrefix: string;
  /** The script's arguments after `now` and `cost`'s, as they never change: ttl, then each rule's window and limit. */
  readonly #ruleArgs: string[];

  constructor(options: RedisRateLimiterOptions) {
    checkRules(options.rules);
    this.rules = options.rules;
    this.#redis = options.redis;
    this.#clock = options.clock;
    this.#keyPrefix = `${options.prefix ?? DEFAULT_REDIS_PREFIX}limit:${options.name}:`;
    const ttl = Math.max(...options.rules.map((r) => r.windowMs));
    this.#ruleArgs = [String(ttl), ...options.rules.flatMap((r) => [String(r.windowMs), String(r.limit)])];
  }

  /**
   * The Redis keys of a limiter key: `<prefix>limit:<name>:{<key>}:units` and `...:windows`. The braces are a
   * Redis Cluster hash tag, so both land on the node that runs the script.
   */
  keysOf(key: string): [units: string, windows: string] {
    const base = `${this.#keyPrefix}{${key}}`;
    return [`${base}:units`, `${base}:windows`];
  }

  peek(key: string, cost = 1): Promise<RateLimitResult> {
    return this.#check(key, cost, false);
  }

  consume(key: string, cost = 1): Promise<RateLimitResult> {
    return this.#check(key, cost, true);
  }

  async consumeOrThrow(key: string, cost = 1, what = 'requests'): Promise<RateLimitResult> {
    const result = await this.consume(key, cost);
    if (!result.allowed) throw rateLimitError(result, what);
    return result;
  }

  async #check(key: string, cost: number, consume: boolean): Promise<RateLimitResult> {
    const now = this.#clock.now();
    const answer = await this.#run(this.keysOf(key), [String(now), String(cost), consume ? '1' : '0', ...this.#ruleArgs]);
    let worst = 0;
    let worstRank = -Infinity;
    for (let r = 0; r < this.rules.length; r++) {
      const rank = windowRank(this.rules[r]!, Number(answer[3 * r]), cost, Number(answer[3 * r + 1]));
      if (rank > worstRank) {
        worst = r;
        worstRank = rank;
      }
    }
    const result = windowResult(this.rules[worst]!, Number(answer[3 * worst]), cost, Number(answer[3 * worst + 1]), Number(answer[3 * worst + 2]));
    if (consume && result.allowed) result.remaining = Math.max(0, result.remaining - cost);
    return result;
  }

  /** The script by its digest, sent whole only when this Redis does not know it yet (first use, or after a restart). */
  async #run(keys: string[], args: string[]): Promise<string[]> {
    try {
      try {
        return (await this.#redis.evalsha(SCRIPT_SHA, keys.length, ...keys, ...args)) as string[];
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        return (await this.#redis.eval(SCRIPT, keys.length, ...keys, ...args)) as string[];
      }
    } catch (error) {
      // Redis answered with an error of its own (a key of another type under the prefix): not an outage.
      if (error instanceof (ReplyError as typeof Error)) throw error;
      const { host, port, path } = this.#redis.options;
      const address = path || `${host}:${port}`;
      throw new ComfyVastError('SERVICE_UNAVAILABLE', `Rate limits cannot be checked: Redis at ${address} did not answer`, { details: { redis: address }, cause: error });
    }
  }
}
