import {
  ConfigurationError,
  type Revocation,
  type RevocationFeed,
  type RevocationListener,
} from '@better-auth/protocol'
import { decodeRevocation, encodeRevocation } from '@better-auth/protocol/internal'
import { Redis } from 'ioredis'
import { toStoreError } from './errors.js'

export interface RedisRevocationFeedOptions {
  /** `redis://…`; each subscription opens its own connection to it. */
  readonly url: string
  /** The pub/sub channel (default `better-auth:revocations`); one per deployment. */
  readonly channel?: string
}

/**
 * Revocations over Redis pub/sub: published by the auth service, received by every verifier
 * subscribed, typically within milliseconds. Pub/sub keeps nothing for a disconnected
 * subscriber, so each subscriber is told to forget its cache (`reset`) whenever its connection
 * comes back, and a malformed message resets it too.
 */
export class RedisRevocationFeed implements RevocationFeed {
  readonly #url: string
  readonly #channel: string
  readonly #publisher: Redis

  constructor(options: RedisRevocationFeedOptions) {
    if (typeof options?.url !== 'string' || options.url === '') {
      throw new ConfigurationError('url', 'must be a redis:// URL')
    }
    const channel = options.channel ?? 'better-auth:revocations'
    if (typeof channel !== 'string' || channel === '') {
      throw new ConfigurationError('channel', 'must be a non-empty string')
    }
    this.#url = options.url
    this.#channel = channel
    this.#publisher = new Redis(this.#url, { lazyConnect: true, maxRetriesPerRequest: 1 })
    this.#publisher.on('error', () => undefined)
  }

  async publish(revocation: Revocation): Promise<void> {
    try {
      await this.#publisher.publish(this.#channel, encodeRevocation(revocation))
    } catch (error) {
      throw toStoreError(error)
    }
  }

  async subscribe(listener: RevocationListener): Promise<() => Promise<void>> {
    const subscriber = new Redis(this.#url, { lazyConnect: true })
    let interrupted = false
    subscriber.on('error', () => undefined)
    subscriber.on('close', () => {
      interrupted = true
    })
    // ioredis subscribes again by itself after a reconnect; what was published meanwhile is lost.
    subscriber.on('ready', () => {
      if (!interrupted) return
      interrupted = false
      listener.reset()
    })
    subscriber.on('message', (channel: string, text: string) => {
      if (channel !== this.#channel) return
      const revocation = decodeRevocation(text)
      if (revocation === undefined) listener.reset()
      else listener.revoked(revocation)
    })
    try {
      await subscriber.connect()
      await subscriber.subscribe(this.#channel)
    } catch (error) {
      subscriber.disconnect()
      throw toStoreError(error)
    }
    interrupted = false
    return async () => {
      subscriber.removeAllListeners('message')
      subscriber.removeAllListeners('ready')
      await subscriber.quit().catch(() => subscriber.disconnect())
    }
  }

  /** Closes the publishing connection; subscriptions close through their own functions. */
  async close(): Promise<void> {
    await this.#publisher.quit().catch(() => this.#publisher.disconnect())
  }
}
