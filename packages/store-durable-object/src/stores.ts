import {
  ConfigurationError,
  StorageUnavailableError,
  type ServerAuthenticationNonceStore,
  type ServerTimeLockStore,
} from '@better-auth/protocol'
import type { NonceNamespace } from './bindings.js'
import type { NonceCommand, NonceReply } from './commands.js'

export interface DurableObjectStoreOptions {
  /** The namespace bound to `BetterAuthNonceObject` (e.g. `env.NONCES`). */
  readonly namespace: NonceNamespace
  /**
   * Prepended to every value to name its object, so several stores (access nonces, challenge
   * nonces, other time locks) can share one namespace without colliding. Default: a prefix of
   * each store's own kind.
   */
  readonly prefix?: string
}

const BACKEND = 'durable-object'

class NonceObjects {
  readonly #namespace: NonceNamespace
  readonly #prefix: string

  constructor(options: DurableObjectStoreOptions, defaultPrefix: string) {
    if (typeof options !== 'object' || options === null) {
      throw new ConfigurationError('options', 'expected an object')
    }
    const { namespace, prefix = defaultPrefix } = options
    if (
      typeof namespace !== 'object' ||
      namespace === null ||
      typeof namespace.idFromName !== 'function' ||
      typeof namespace.get !== 'function'
    ) {
      throw new ConfigurationError('namespace', 'expected a Durable Object namespace binding')
    }
    if (typeof prefix !== 'string') throw new ConfigurationError('prefix', 'expected a string')
    this.#namespace = namespace
    this.#prefix = prefix
  }

  async send(value: string, command: NonceCommand): Promise<NonceReply> {
    let reply: NonceReply
    try {
      const id = this.#namespace.idFromName(`${this.#prefix}${value}`)
      const response = await this.#namespace.get(id as never).fetch(
        new Request('https://better-auth-nonce/', {
          method: 'POST',
          body: JSON.stringify(command),
        }),
      )
      if (!response.ok) throw new Error(`nonce object answered ${response.status}`)
      reply = (await response.json()) as NonceReply
    } catch (error) {
      throw new StorageUnavailableError(BACKEND, error)
    }
    return reply
  }
}

/**
 * A `ServerTimeLockStore` (the `AccessVerifier`'s `accessNonce` store) on Durable Objects: one
 * object per reserved value, so a nonce used in one isolate is refused in every other, at once.
 */
export class DurableObjectTimeLockStore implements ServerTimeLockStore {
  readonly #objects: NonceObjects

  constructor(options: DurableObjectStoreOptions) {
    this.#objects = new NonceObjects(options, 'lock:')
  }

  async reserve(value: string, expiresAt: number, now: number): Promise<boolean> {
    const reply = await this.#objects.send(value, { op: 'reserve', expiresAt, now })
    return reply.granted === true
  }
}

/** A `ServerAuthenticationNonceStore` (session challenge nonces) on Durable Objects. */
export class DurableObjectAuthenticationNonceStore implements ServerAuthenticationNonceStore {
  readonly #objects: NonceObjects

  constructor(options: DurableObjectStoreOptions) {
    this.#objects = new NonceObjects(options, 'nonce:')
  }

  async put(nonce: string, identity: string, expiresAt: number, now: number): Promise<void> {
    await this.#objects.send(nonce, { op: 'put', identity, expiresAt, now })
  }

  async consume(nonce: string, now: number): Promise<string | undefined> {
    const reply = await this.#objects.send(nonce, { op: 'consume', now })
    return typeof reply.identity === 'string' ? reply.identity : undefined
  }
}
