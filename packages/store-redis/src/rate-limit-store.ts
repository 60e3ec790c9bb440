import type { CounterHit, CounterState, RateLimitStore } from '@better-auth/protocol'
import type { Connection, RedisClient } from './connection.js'
import { unexpectedReply } from './errors.js'

const COMMAND = 'betterAuthRateLimit'

/**
 * KEYS[1] the counter; ARGV now, cost, window. Each counter is a hash (`c` count, `r` end of
 * window by the caller's clock) that a lapsed window restarts; the script runs atomically, so
 * every hit from any server is counted once. The key lives until its window ends, which is all
 * the sweeping it needs.
 */
const SCRIPT = `
  local now = tonumber(ARGV[1])
  local cost = tonumber(ARGV[2])
  local window = tonumber(ARGV[3])
  local reset = tonumber(redis.call('HGET', KEYS[1], 'r'))
  local count
  if reset == nil or reset <= now then
    reset = now + window
    count = cost
    redis.call('HSET', KEYS[1], 'c', tostring(count), 'r', string.format('%d', reset))
    redis.call('PEXPIRE', KEYS[1], window)
  else
    count = redis.call('HINCRBY', KEYS[1], 'c', cost)
  end
  return {count, string.format('%d', reset)}`

/** Registers the script. */
export function defineRateLimitScript(client: RedisClient): void {
  client.defineCommand(COMMAND, { numberOfKeys: 1, lua: SCRIPT })
}

type RateLimitCommand = (key: string, ...args: string[]) => Promise<unknown>

/** Rate-limit counters shared by every server on the Redis database. */
export class RedisRateLimitStore implements RateLimitStore {
  readonly #redis: Connection

  constructor(redis: Connection) {
    this.#redis = redis
  }

  async hit(hits: readonly CounterHit[], nowMs: number): Promise<readonly CounterState[]> {
    if (hits.length === 0) return []
    const now = Math.floor(nowMs)
    // One script per counter, all sent before the first reply arrives: one round trip. The
    // counters of a batch have unrelated keys, so on a Redis Cluster they are in different slots,
    // which one script could not touch; each counter is atomic on its own, and the batch needs
    // nothing more.
    const replies = await this.#redis.run((client) => {
      // defineCommand adds the method at run time; ioredis' types cannot know of it.
      const command: unknown = Reflect.get(client, COMMAND)
      if (typeof command !== 'function') throw unexpectedReply(command)
      return Promise.all(
        hits.map((hit) =>
          (command as RateLimitCommand).call(
            client,
            this.#redis.key(['rate-limit', hit.key]),
            String(now),
            String(hit.cost),
            String(hit.windowMs),
          ),
        ),
      )
    })
    return replies.map((reply) => {
      if (!Array.isArray(reply) || reply.length !== 2) throw unexpectedReply(reply)
      return { count: Number(reply[0]), resetAtMs: Number(reply[1]) }
    })
  }

  async ping(): Promise<void> {
    await this.#redis.run((client) => client.ping())
  }
}
