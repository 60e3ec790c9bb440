import type { ServerAuthenticationNonceStore } from '@better-auth/protocol'
import { ExpiringMap } from './expiring-map.js'

export class MemoryAuthenticationNonceStore implements ServerAuthenticationNonceStore {
  readonly #nonces = new ExpiringMap<string>()

  get size(): number {
    return this.#nonces.size
  }

  put(nonce: string, identity: string, expiresAt: number, now: number): Promise<void> {
    this.#nonces.set(nonce, identity, expiresAt, now)
    return Promise.resolve()
  }

  consume(nonce: string, now: number): Promise<string | undefined> {
    return Promise.resolve(this.#nonces.take(nonce, now))
  }
}
