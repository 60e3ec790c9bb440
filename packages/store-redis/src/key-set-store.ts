import type { KeySetStore, SharedKeySet } from '@better-auth/protocol'
import { pruneHorizon } from '@better-auth/protocol/internal'
import type { Connection } from './connection.js'
import { unexpectedReply } from './errors.js'

/**
 * Stores the log as `<length>:<JSON array>` under one key unless the stored one is as long:
 * one key per script, so it runs on a Redis Cluster too.
 */
const PUBLISH_CHAIN = `
  local stored = redis.call('GET', KEYS[1])
  if stored and tonumber(string.match(stored, '^(%d+):')) >= tonumber(ARGV[1]) then
    return 'kept'
  end
  redis.call('SET', KEYS[1], ARGV[1] .. ':' .. ARGV[2])
  return 'ok'`

/** The log under one key, the endorsements in a sorted set scored by their expiry. */
export class RedisKeySetStore implements KeySetStore {
  readonly #redis: Connection
  readonly #chain: string
  readonly #endorsements: string

  constructor(redis: Connection) {
    this.#redis = redis
    this.#chain = `${redis.prefix}key-set:chain`
    this.#endorsements = `${redis.prefix}key-set:endorsements`
  }

  async publishChain(chain: readonly string[]): Promise<void> {
    const status = await this.#redis.run((client) =>
      client.eval(PUBLISH_CHAIN, 1, this.#chain, String(chain.length), JSON.stringify(chain)),
    )
    if (status !== 'ok' && status !== 'kept') throw unexpectedReply(status)
  }

  async addEndorsement(text: string, expiresAt: number): Promise<void> {
    // GT: an existing member's expiry only moves later; a new member is added.
    await this.#redis.run((client) =>
      client.zadd(this.#endorsements, 'GT', Math.ceil(expiresAt), text),
    )
  }

  async read(now: number): Promise<SharedKeySet> {
    const [stored, keys] = await this.#redis.run((client) =>
      Promise.all([
        client.get(this.#chain),
        client.zrangebyscore(this.#endorsements, `(${Math.floor(now)}`, '+inf'),
      ]),
    )
    const chain =
      stored === null ? [] : (JSON.parse(stored.slice(stored.indexOf(':') + 1)) as string[])
    return { chain, keys }
  }

  async pruneEndorsements(now: number, retentionMs: number): Promise<number> {
    const horizon = pruneHorizon(now, retentionMs)
    // One command, so it interleaves with no ZADD: scores are expiries rounded up, the horizon
    // an integer, so `score <= horizon` is exactly `expiry <= horizon`.
    return this.#redis.run((client) =>
      client.zremrangebyscore(this.#endorsements, '-inf', String(horizon)),
    )
  }
}
