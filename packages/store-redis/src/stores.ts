import {
  ConfigurationError,
  type Closeable,
  type KeySetStore,
  type ServerAccountEventStore,
  type RateLimitStore,
  type WebhookDeliveryStore,
  type ServerAuthenticationKeyStore,
  type ServerAuthenticationNonceStore,
  type ServerRecoveryHashStore,
  type ServerTimeLockStore,
} from '@better-auth/protocol'
import { Cluster, Redis, type RedisOptions } from 'ioredis'
import { RedisAccountEventStore } from './account-event-store.js'
import { RedisAuthenticationKeyStore } from './authentication-key-store.js'
import { RedisAuthenticationNonceStore } from './authentication-nonce-store.js'
import { Connection, type RedisClient } from './connection.js'
import { toStoreError } from './errors.js'
import { RedisRateLimitStore, defineRateLimitScript } from './rate-limit-store.js'
import { RedisKeySetStore } from './key-set-store.js'
import { RedisRecoveryHashStore } from './recovery-hash-store.js'
import { RedisWebhookDeliveryStore } from './webhook-delivery-store.js'
import { defineScripts } from './scripts.js'
import { checkPersistence, type PersistenceLogger } from './persistence.js'
import { RedisTimeLockStore } from './time-lock-store.js'

export interface RedisStoresOptions {
  /**
   * A client you manage, of a single server or of a Redis Cluster: `close()` leaves it connected,
   * and its own retry and queueing options apply (see the README for fail-fast settings). Give
   * either this or `url`.
   */
  readonly client?: Redis | Cluster
  /** `redis://[[user]:password@]host:port[/db]` or `rediss://…`; the stores then own a client. */
  readonly url?: string
  /** Prepended to every key (default 'better-auth:'), so several deployments can share a server. */
  readonly prefix?: string
  /**
   * Connect to a server whose settings may lose the replay state on a restart (no append-only
   * file, or one not fsynced every second), logging a warning instead of refusing it. Spent access
   * nonces and refresh keys are then forgotten when Redis restarts, and replays of them accepted.
   */
  readonly acceptReplayStateLoss?: boolean
  /** Receives that warning (default: `console`). */
  readonly logger?: PersistenceLogger
}

const DEFAULT_PREFIX = 'better-auth:'

// GETDEL, which makes consuming a challenge one command, arrived in Redis 6.2.
const MINIMUM_VERSION = [6, 2] as const

/**
 * The client the stores create fails fast instead of waiting for a server that is gone: an
 * operation either completes on a live connection or rejects with StorageUnavailableError.
 * - no command is queued while disconnected (the offline queue is switched off once connected;
 *   it must be on for `connect()` itself), and none is retried after the connection drops, not
 *   even once (`maxRetriesPerRequest: 0`, no resending): its outcome is unknown, and running a
 *   compare-and-set twice could turn one success into a reported failure, or the reverse;
 * - connecting and each command give up after 5 s;
 * - in the background the client keeps reconnecting, so the stores recover by themselves.
 */
const OWN_CLIENT: RedisOptions = {
  lazyConnect: true,
  connectTimeout: 5_000,
  commandTimeout: 5_000,
  maxRetriesPerRequest: 0,
  autoResendUnfulfilledCommands: false,
  retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
  connectionName: 'better-auth',
}

/**
 * Every server store on one Redis connection. Each check-and-write is one Redis command or one
 * Lua script, which Redis runs without interleaving any other client's command, so the
 * guarantees hold across any number of server processes sharing the server.
 */
export class RedisStores implements Closeable {
  readonly authenticationKey: ServerAuthenticationKeyStore
  /** The account event log `authenticationKey` records into, in the same Lua scripts. */
  readonly accountEvents: ServerAccountEventStore
  readonly recoveryHash: ServerRecoveryHashStore
  readonly authenticationNonce: ServerAuthenticationNonceStore
  /** Single use of each access key hash on refresh. */
  readonly accessKeyHash: ServerTimeLockStore
  /** Single use of each access request nonce. */
  readonly accessNonce: ServerTimeLockStore
  /** Rate-limit counters for `CounterRateLimiter` (`@better-auth/server`), shared by every server. */
  readonly rateLimit: RateLimitStore
  /** The key set the processes of a deployment share (`ServiceKeyRing`). */
  readonly keySet: KeySetStore
  /** Webhook delivery state for `WebhookDispatcher` (`@better-auth/server`), kept across restarts. */
  readonly webhookDeliveries: WebhookDeliveryStore

  readonly #connection: Connection
  readonly #ownsClient: boolean
  #closing: Promise<void> | undefined

  private constructor(connection: Connection, ownsClient: boolean) {
    this.#connection = connection
    this.#ownsClient = ownsClient
    this.authenticationKey = new RedisAuthenticationKeyStore(connection)
    this.accountEvents = new RedisAccountEventStore(connection)
    this.recoveryHash = new RedisRecoveryHashStore(connection)
    this.authenticationNonce = new RedisAuthenticationNonceStore(connection)
    this.accessKeyHash = new RedisTimeLockStore(connection, 'access-key-hash')
    this.accessNonce = new RedisTimeLockStore(connection, 'access-nonce')
    this.rateLimit = new RedisRateLimitStore(connection)
    this.keySet = new RedisKeySetStore(connection)
    this.webhookDeliveries = new RedisWebhookDeliveryStore(connection)
  }

  /**
   * Connects (or checks the client given), verifies that the server is Redis 6.2 or newer and
   * keeps its data across a restart (see checkPersistence), and returns the stores. Throws
   * ConfigurationError for invalid options, an older server or one without persistence, and
   * StorageUnavailableError when the server cannot be reached; a client it created is
   * disconnected again in that case.
   */
  static async connect(options: RedisStoresOptions): Promise<RedisStores> {
    const { client: given, url, prefix, acceptReplayStateLoss, logger } = validate(options)
    const client = given ?? new Redis(url ?? '', OWN_CLIENT)
    // Connection errors also reject the command that was waiting on the connection; without a
    // listener ioredis would print each one.
    if (given === undefined) client.on('error', () => undefined)
    try {
      if (given === undefined) {
        await client.connect()
        // From now on a command sent while disconnected fails at once instead of waiting.
        client.options.enableOfflineQueue = false
      }
      const servers = await serversOf(client)
      for (const server of servers) checkVersion(await server.info('server'))
      await checkPersistence(servers, acceptReplayStateLoss, logger)
      defineScripts(client)
      defineRateLimitScript(client)
    } catch (error) {
      if (given === undefined) client.disconnect()
      throw toStoreError(error)
    }
    return new RedisStores(new Connection(client, prefix), given === undefined)
  }

  /**
   * Disconnects the client if the stores created it (a client passed in stays connected).
   * Idempotent; every later call fails with StorageUnavailableError.
   */
  close(): Promise<void> {
    this.#connection.markClosed()
    this.#closing ??= this.#ownsClient ? quit(this.#connection.client) : Promise.resolve()
    return this.#closing
  }
}

/**
 * The servers whose version and persistence matter: the client's own, or every master of a
 * cluster (each holds a share of the keys, replay state included).
 */
async function serversOf(client: RedisClient): Promise<readonly Redis[]> {
  if (!(client instanceof Cluster)) return [client]
  // The first command connects a lazy cluster client and loads the slot map the masters come from.
  await client.ping()
  return client.nodes('master')
}

async function quit(client: RedisClient): Promise<void> {
  try {
    if (client.status === 'ready') await client.quit()
  } catch {
    // The connection is going away either way.
  } finally {
    client.disconnect()
  }
}

function checkVersion(info: string): void {
  const match = /^redis_version:(\d+)\.(\d+)/m.exec(info)
  const [major, minor] = [Number(match?.[1]), Number(match?.[2])]
  if (
    match === null ||
    major < MINIMUM_VERSION[0] ||
    (major === MINIMUM_VERSION[0] && minor < MINIMUM_VERSION[1])
  ) {
    throw new ConfigurationError(
      'redis',
      `the server must be Redis ${MINIMUM_VERSION.join('.')} or newer`,
    )
  }
}

interface ValidOptions {
  readonly client: RedisClient | undefined
  readonly url: string | undefined
  readonly prefix: string
  readonly acceptReplayStateLoss: boolean
  readonly logger: PersistenceLogger
}

function validate(options: RedisStoresOptions): ValidOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError('options', 'must be an object')
  }
  const { client, url } = options
  if (client !== undefined && !(client instanceof Redis) && !(client instanceof Cluster)) {
    throw new ConfigurationError('client', 'must be an ioredis Redis or Cluster client')
  }
  if ((client === undefined) === (url === undefined)) {
    throw new ConfigurationError('client', 'give exactly one of client and url')
  }
  if (url !== undefined) checkUrl(url)
  const prefix: unknown = options.prefix ?? DEFAULT_PREFIX
  if (typeof prefix !== 'string') throw new ConfigurationError('prefix', 'must be a string')
  const acceptReplayStateLoss: unknown = options.acceptReplayStateLoss ?? false
  if (typeof acceptReplayStateLoss !== 'boolean') {
    throw new ConfigurationError('acceptReplayStateLoss', 'must be a boolean')
  }
  const logger: unknown = options.logger ?? console
  if (
    typeof logger !== 'object' ||
    logger === null ||
    !('warn' in logger) ||
    typeof logger.warn !== 'function'
  ) {
    throw new ConfigurationError('logger', 'must have a warn method')
  }
  return { client, url, prefix, acceptReplayStateLoss, logger: logger as PersistenceLogger }
}

/**
 * Checked here, with a fixed message and no cause: the parser's own errors carry the input, and
 * a Redis URL may hold a password that must never reach a log.
 */
function checkUrl(value: unknown): void {
  let url: URL | undefined
  try {
    if (typeof value === 'string') url = new URL(value)
  } catch {
    url = undefined
  }
  if (url === undefined || (url.protocol !== 'redis:' && url.protocol !== 'rediss:')) {
    throw new ConfigurationError('url', 'must be a redis:// or rediss:// URL')
  }
}
