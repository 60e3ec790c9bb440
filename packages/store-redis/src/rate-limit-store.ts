import type { CounterHit, CounterState, RateLimitStore } from '@better-auth/protocol'
import type { Redis } from 'ioredis'
import type { Connection } from './connection.js'
import { unexpectedReply } from './errors.js'

const COMMAND = 'betterAuthRateLimit'

/**
 * KEYS the counters; ARGV now, then cost and window per key. Each counter is a hash (`c` count,
 * `r` end of window by the caller's clock) that a lapsed window restarts; the whole batch is one
 * script, which Redis runs atomically, so every hit from any server is counted once. The key
 * lives until its window ends, which is all the sweeping it needs.
 */
const SCRIPT = `
  local now = tonumber(ARGV[1])
  local out = {}
  for i, key in ipairs(KEYS) do
    local cost = tonumber(ARGV[2 * i])
    local window = tonumber(ARGV[2 * i + 1])
    local reset = tonumber(redis.call('HGET', key, 'r'))
    local count
    if reset == nil or reset <= now then
      reset = now + window
      count = cost
      redis.call('HSET', key, 'c', tostring(count), 'r', string.format('%d', reset))
      redis.call('PEXPIRE', key, window)
    else
      count = redis.call('HINCRBY', key, 'c', cost)
    end
    out[#out + 1] = count
    out[#out + 1] = string.format('%d', reset)
  end
  return out`

/** Registers the script (its key count is given per call). */
export function defineRateLimitScript(client: Redis): void {
  client.defineCommand(COMMAND, { lua: SCRIPT })
}

type RateLimitCommand = (keyCount: number, ...args: string[]) => Promise<unknown>

/** Rate-limit counters shared by every server on the Redis database. */
export class RedisRateLimitStore implements RateLimitStore {
  readonly #redis: Connection
  readonly #prefix: string

  constructor(redis: Connection) {
    this.#redis = redis
    this.#prefix = `${redis.prefix}rate-limit:`
  }

  async hit(hits: readonly CounterHit[], nowMs: number): Promise<readonly CounterState[]> {
    if (hits.length === 0) return []
    const now = Math.floor(nowMs)
    const reply = await this.#redis.run((client) => {
      // defineCommand adds the method at run time; ioredis' types cannot know of it.
      const command: unknown = Reflect.get(client, COMMAND)
      if (typeof command !== 'function') throw unexpectedReply(command)
      return (command as RateLimitCommand).call(
        client,
        hits.length,
        ...hits.map((hit) => this.#prefix + hit.key),
        String(now),
        ...hits.flatMap((hit) => [String(hit.cost), String(hit.windowMs)]),
      )
    })
    if (!Array.isArray(reply) || reply.length !== hits.length * 2) throw unexpectedReply(reply)
    return hits.map((_, index) => ({
      count: Number(reply[2 * index]),
      resetAtMs: Number(reply[2 * index + 1]),
    }))
  }

  async ping(): Promise<void> {
    await this.#redis.run((client) => client.ping())
  }
}
