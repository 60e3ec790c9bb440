import { ConfigurationError, type KeySetStore, type RevocationFeed } from '@better-auth/protocol'
import {
  MemoryKeySetStore,
  MemoryRateLimitStore,
  MemoryRevocationFeed,
  memoryServerStores,
  type RateLimitStore,
} from '@better-auth/server'
import { PostgresRevocationFeed, PostgresStores } from '@better-auth/store-postgres'
import { RedisRevocationFeed, RedisStores } from '@better-auth/store-redis'
import { SqliteStores } from '@better-auth/store-sqlite'
import type { AppStores } from './app.js'
import type { StoreKind } from './config.js'

export interface OpenedStores {
  readonly stores: AppStores
  /** The rate-limit counters, on the backend that keeps the short-lived values. */
  readonly rateLimit: RateLimitStore
  /** The chain and endorsed service keys the processes of a deployment share. */
  readonly keySet: KeySetStore
  /**
   * Opens the revocation feed of these stores: Redis pub/sub when Redis is configured, else
   * PostgreSQL LISTEN/NOTIFY, else in process (one process sees its own revocations only).
   * `channel` (REVOCATION_CHANNEL) is checked by the feed it is given to.
   */
  revocationFeed(channel?: string): OpenedFeed
  /** Which backend serves what, for the startup log (never a connection string). */
  readonly description: string
  close(): Promise<void>
}

export interface OpenedFeed {
  readonly feed: RevocationFeed
  /** `redis`, `postgres` or `memory`, for the startup log. */
  readonly kind: string
  close(): Promise<void>
}

const memoryFeed = (): OpenedFeed => ({
  feed: new MemoryRevocationFeed(),
  kind: 'memory',
  close: () => Promise.resolve(),
})

export interface StoreSelection {
  readonly databaseUrl?: string
  readonly redisUrl?: string
  readonly databaseFile: string
  /** Default auto: PostgreSQL/Redis when a URL is given, else SQLite. */
  readonly store?: StoreKind
}

/**
 * PostgreSQL keeps accounts (keys and recovery hashes) and Redis keeps the short-lived values
 * (challenges, time-locks, rate-limit counters) when both are given; either alone serves everything; with neither the
 * embedded SQLite file does. Several server processes can share one PostgreSQL and Redis.
 */
export async function openStores(selection: StoreSelection): Promise<OpenedStores> {
  const { databaseUrl, redisUrl, store = 'auto' } = selection
  if (store === 'memory') {
    // One process only: nothing is shared or kept. Expired entries are swept as it runs.
    return {
      stores: memoryServerStores(),
      rateLimit: new MemoryRateLimitStore(),
      keySet: new MemoryKeySetStore(),
      revocationFeed: memoryFeed,
      description: 'memory',
      close: () => Promise.resolve(),
    }
  }
  if (store === 'sqlite' || (databaseUrl === undefined && redisUrl === undefined)) {
    const sqlite = SqliteStores.open({ filename: selection.databaseFile })
    return {
      stores: sqlite,
      rateLimit: sqlite.rateLimit,
      keySet: sqlite.keySet,
      revocationFeed: memoryFeed,
      description: 'sqlite',
      close: () => sqlite.close(),
    }
  }
  const postgres =
    databaseUrl === undefined
      ? undefined
      : await PostgresStores.connect({ connectionString: databaseUrl })
  let redis: RedisStores | undefined
  try {
    redis = redisUrl === undefined ? undefined : await RedisStores.connect({ url: redisUrl })
  } catch (error) {
    await postgres?.close()
    throw error
  }
  const accounts = postgres ?? redis!
  const ephemeral = redis ?? postgres!
  return {
    stores: {
      authenticationKey: accounts.authenticationKey,
      accountEvents: accounts.accountEvents,
      recoveryHash: accounts.recoveryHash,
      authenticationNonce: ephemeral.authenticationNonce,
      accessKeyHash: ephemeral.accessKeyHash,
      accessNonce: ephemeral.accessNonce,
    },
    rateLimit: ephemeral.rateLimit,
    // Kept where the accounts are: the chain must outlive a Redis flush.
    keySet: accounts.keySet,
    revocationFeed(channel) {
      if (redisUrl !== undefined) {
        const feed = withChannel(
          channel,
          'Redis',
          () => new RedisRevocationFeed({ url: redisUrl, channel }),
        )
        return { feed, kind: 'redis', close: () => feed.close() }
      }
      const feed = withChannel(
        channel,
        'PostgreSQL',
        () => new PostgresRevocationFeed({ connectionString: databaseUrl!, channel }),
      )
      return { feed, kind: 'postgres', close: () => feed.close() }
    },
    description: `accounts: ${postgres ? 'postgres' : 'redis'}; nonces, time-locks and rate limits: ${redis ? 'redis' : 'postgres'}`,
    async close() {
      await Promise.allSettled([postgres?.close(), redis?.close()])
    },
  }
}

/**
 * The feed checks its channel; its refusal is given the variable's name, so the operator knows
 * which setting to fix.
 */
function withChannel<T>(channel: string | undefined, backend: string, open: () => T): T {
  try {
    return open()
  } catch (error) {
    if (error instanceof ConfigurationError && error.context.field === 'channel') {
      throw new ConfigurationError(
        'REVOCATION_CHANNEL',
        `${String(error.context.details)} (the ${backend} feed's channel, got ${JSON.stringify(channel)})`,
      )
    }
    throw error
  }
}
