import {
  ConfigurationError,
  type Revocation,
  type RevocationFeed,
  type RevocationListener,
} from '@better-auth/protocol'
import {
  KEY_SET_NOTICE,
  deliverFeedMessage,
  encodeRevocation,
} from '@better-auth/protocol/internal'
import { Client, Pool, escapeIdentifier } from 'pg'
import { toStoreError } from './errors.js'

export interface PostgresRevocationFeedOptions {
  /** `postgres://…`; each subscription holds one connection of its own for LISTEN. */
  readonly connectionString: string
  /** The NOTIFY channel (default `better_auth_revocations`); one per deployment. */
  readonly channel?: string
  /** Wait before a lost listening connection is opened again (default 1000 ms). */
  readonly reconnectDelayMs?: number
}

/**
 * Revocations and key set notices over PostgreSQL LISTEN/NOTIFY: no Redis needed where accounts
 * already live in PostgreSQL. NOTIFY reaches only connected listeners, so a subscriber whose
 * connection dropped is reconnected and told to forget its cache and read the key set again
 * (`reset`); a malformed message resets it too.
 */
export class PostgresRevocationFeed implements RevocationFeed {
  readonly #connectionString: string
  readonly #channel: string
  readonly #reconnectDelayMs: number
  readonly #publisher: Pool

  constructor(options: PostgresRevocationFeedOptions) {
    if (typeof options?.connectionString !== 'string' || options.connectionString === '') {
      throw new ConfigurationError('connectionString', 'must be a postgres:// URL')
    }
    const channel = options.channel ?? 'better_auth_revocations'
    if (typeof channel !== 'string' || !/^[a-z_][a-z0-9_]{0,62}$/.test(channel)) {
      throw new ConfigurationError('channel', 'must be a lower-case SQL identifier')
    }
    this.#connectionString = options.connectionString
    this.#channel = channel
    this.#reconnectDelayMs = options.reconnectDelayMs ?? 1000
    this.#publisher = new Pool({ connectionString: this.#connectionString, max: 1 })
    this.#publisher.on('error', () => undefined)
  }

  publish(revocation: Revocation): Promise<void> {
    return this.#notify(encodeRevocation(revocation))
  }

  announceKeySetChange(): Promise<void> {
    return this.#notify(KEY_SET_NOTICE)
  }

  async #notify(message: string): Promise<void> {
    try {
      await this.#publisher.query('SELECT pg_notify($1, $2)', [this.#channel, message])
    } catch (error) {
      throw toStoreError(error)
    }
  }

  async subscribe(listener: RevocationListener): Promise<() => Promise<void>> {
    let stopped = false
    let client: Client | undefined
    let retry: ReturnType<typeof setTimeout> | undefined
    const listen = async (): Promise<void> => {
      const next = new Client({ connectionString: this.#connectionString })
      next.on('notification', ({ channel, payload }) => {
        if (channel === this.#channel) deliverFeedMessage(payload, listener)
      })
      next.on('error', () => undefined)
      next.on('end', () => {
        if (stopped || client !== next) return
        // What was notified while no connection listened is lost.
        listener.reset()
        retry = setTimeout(reconnect, this.#reconnectDelayMs)
      })
      try {
        await next.connect()
        await next.query(`LISTEN ${escapeIdentifier(this.#channel)}`)
      } catch (error) {
        await next.end().catch(() => undefined)
        throw error
      }
      client = next
    }
    const reconnect = (): void => {
      if (stopped) return
      listen().catch(() => {
        if (!stopped) retry = setTimeout(reconnect, this.#reconnectDelayMs)
      })
    }
    try {
      await listen()
    } catch (error) {
      throw toStoreError(error)
    }
    return async () => {
      stopped = true
      clearTimeout(retry)
      await client?.end().catch(() => undefined)
    }
  }

  /** Closes the publishing connection; subscriptions close through their own functions. */
  async close(): Promise<void> {
    await this.#publisher.end()
  }
}
