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
import { Redis } from 'ioredis'
import { toStoreError } from './errors.js'

export interface RedisRevocationFeedOptions {
  /** `redis://…` of a single server; give either this or `nodes`. */
  readonly url?: string
  /**
   * The nodes of a Redis Cluster, `redis://host:port` each (any of them, at least one): the feed
   * publishes on a node that answers and subscribes on one, moving on to the next node of the
   * list when its node is lost. Classic pub/sub reaches every node of a cluster.
   */
  readonly nodes?: readonly string[]
  /** The pub/sub channel (default `better-auth:revocations`); one per deployment. */
  readonly channel?: string
}

/** Longest pause between two rounds of attempts to subscribe again. */
const MAX_RETRY_DELAY_MS = 2_000

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Revocations and key set notices over Redis pub/sub, on a single server or a Redis Cluster:
 * published by the auth service, received by every verifier subscribed, typically within
 * milliseconds. Pub/sub keeps nothing for a disconnected subscriber, so a subscription whose
 * connection is lost subscribes again (on the next node of a cluster) and then tells its listener
 * to forget its cache and read the key set again (`reset`); a malformed message resets it too.
 */
export class RedisRevocationFeed implements RevocationFeed {
  readonly #endpoints: readonly string[]
  readonly #channel: string
  /** One lazily connected publisher per endpoint. */
  readonly #publishers: (Redis | undefined)[]
  /** The endpoint that last published: a lost node is not tried first again. */
  #publishAt = 0
  /** Subscriptions start on successive endpoints, spreading them over a cluster's nodes. */
  #subscriptions = 0

  constructor(options: RedisRevocationFeedOptions) {
    const { url, nodes, channel = 'better-auth:revocations' } = options ?? {}
    if ((url === undefined) === (nodes === undefined)) {
      throw new ConfigurationError('url', 'give either url or nodes')
    }
    if (url !== undefined && (typeof url !== 'string' || url === '')) {
      throw new ConfigurationError('url', 'must be a redis:// URL')
    }
    if (
      nodes !== undefined &&
      (!Array.isArray(nodes) ||
        nodes.length === 0 ||
        !nodes.every((node) => typeof node === 'string' && node !== ''))
    ) {
      throw new ConfigurationError('nodes', 'must list redis:// URLs of cluster nodes')
    }
    if (typeof channel !== 'string' || channel === '') {
      throw new ConfigurationError('channel', 'must be a non-empty string')
    }
    this.#endpoints = url !== undefined ? [url] : [...(nodes as readonly string[])]
    this.#channel = channel
    this.#publishers = this.#endpoints.map(() => undefined)
  }

  /**
   * Publishes on the endpoint that last answered, else on each next one in turn. A message whose
   * reply was lost may go out twice: revoking twice is the same as once.
   */
  publish(revocation: Revocation): Promise<void> {
    return this.#send(encodeRevocation(revocation))
  }

  /** Published as revocations are; a notice that goes out twice costs one more read. */
  announceKeySetChange(): Promise<void> {
    return this.#send(KEY_SET_NOTICE)
  }

  async #send(message: string): Promise<void> {
    let failure: unknown
    for (let tried = 0; tried < this.#endpoints.length; tried++) {
      const at = (this.#publishAt + tried) % this.#endpoints.length
      try {
        await this.#publisher(at).publish(this.#channel, message)
        this.#publishAt = at
        return
      } catch (error) {
        failure = error
      }
    }
    throw toStoreError(failure)
  }

  #publisher(at: number): Redis {
    let publisher = this.#publishers[at]
    if (publisher === undefined) {
      publisher = new Redis(this.#endpoints[at] as string, {
        lazyConnect: true,
        connectTimeout: 5_000,
        maxRetriesPerRequest: 1,
      })
      publisher.on('error', () => undefined)
      this.#publishers[at] = publisher
    }
    return publisher
  }

  async subscribe(listener: RevocationListener): Promise<() => Promise<void>> {
    let at = this.#subscriptions++ % this.#endpoints.length
    let stopped = false
    const onMessage = (channel: string, text: string) => {
      if (channel === this.#channel) deliverFeedMessage(text, listener)
    }
    /** A subscribed connection to endpoint `at`; when it ends, the subscription moves on. */
    const open = async (): Promise<Redis> => {
      // No reconnection by ioredis: a lost connection ends, and we subscribe again ourselves,
      // knowing then that messages may have been missed.
      const connection = new Redis(this.#endpoints[at] as string, {
        lazyConnect: true,
        connectTimeout: 5_000,
        retryStrategy: () => null,
      })
      connection.on('error', () => undefined)
      connection.on('message', onMessage)
      try {
        await connection.connect()
        await connection.subscribe(this.#channel)
      } catch (error) {
        connection.disconnect()
        throw error
      }
      connection.once('end', () => {
        if (!stopped) void resubscribe()
      })
      return connection
    }
    /** Every endpoint in turn, the next one first, until one subscribes; then a reset. */
    const resubscribe = async () => {
      for (let delay = 50; !stopped; delay = Math.min(2 * delay, MAX_RETRY_DELAY_MS)) {
        for (let tried = 0; tried < this.#endpoints.length && !stopped; tried++) {
          at = (at + 1) % this.#endpoints.length
          try {
            const connection = await open()
            current = connection
            if (stopped) connection.disconnect()
            // Subscribed again: only now can what was missed meanwhile be forgotten safely.
            else listener.reset()
            return
          } catch {
            // The next endpoint, or the next round.
          }
        }
        await sleep(delay)
      }
    }
    let current = await this.#firstSubscription(open, () => {
      at = (at + 1) % this.#endpoints.length
    })
    return async () => {
      stopped = true
      current.removeListener('message', onMessage)
      await current.quit().catch(() => current.disconnect())
    }
  }

  /** The first subscription, on each endpoint in turn; rejects when none answers. */
  async #firstSubscription(open: () => Promise<Redis>, next: () => void): Promise<Redis> {
    let failure: unknown
    for (let tried = 0; tried < this.#endpoints.length; tried++) {
      try {
        return await open()
      } catch (error) {
        failure = error
        next()
      }
    }
    throw toStoreError(failure)
  }

  /** Closes the publishing connections; subscriptions close through their own functions. */
  async close(): Promise<void> {
    const open = this.#publishers.filter((publisher) => publisher !== undefined)
    await Promise.all(open.map((publisher) => publisher.quit().catch(() => publisher.disconnect())))
  }
}
