import { encodeCesr } from '@better-auth/cesr'
import { ConfigurationError } from '@better-auth/protocol'
import type { Noncer } from '@better-auth/protocol'
import { settle } from './internal/promise.js'

const NONCE_CODE = '0A'
const NONCE_BYTES = 16

export interface SecureNoncerOptions {
  /**
   * Fills its argument with random bytes. Defaults to `crypto.getRandomValues`; inject a seeded
   * source only for tests and reproducible spec examples, never in production.
   */
  random?: (bytes: Uint8Array) => void
}

function platformRandom(): (bytes: Uint8Array) => void {
  const crypto = (globalThis as { crypto?: Pick<Crypto, 'getRandomValues'> }).crypto
  if (typeof crypto?.getRandomValues !== 'function') {
    throw new ConfigurationError('random', 'crypto.getRandomValues is not available')
  }
  return (bytes) => {
    crypto.getRandomValues(bytes)
  }
}

/** 128-bit nonces from a CSPRNG, CESR `0A…` (24 characters). */
export class SecureNoncer implements Noncer {
  readonly #random: (bytes: Uint8Array) => void

  constructor(options: SecureNoncerOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new ConfigurationError('options', 'expected an object')
    }
    const { random } = options
    if (random !== undefined && typeof random !== 'function') {
      throw new ConfigurationError('random', 'expected a function filling a Uint8Array')
    }
    this.#random = random ?? platformRandom()
  }

  generate128(): Promise<string> {
    return settle(() => {
      const bytes = new Uint8Array(NONCE_BYTES)
      this.#random(bytes)
      return encodeCesr(NONCE_CODE, bytes)
    })
  }
}
