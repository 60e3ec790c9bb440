import { ConfigurationError } from '@better-auth/protocol'

const encoder = new TextEncoder()

/**
 * HMAC-SHA-256 of counter names under the operator's secret (Web Crypto, so it runs on every
 * runtime): stores hold no raw addresses or identities, and keys cannot be precomputed without the
 * secret. Truncated to 128 bits, ample against collisions between counters.
 */
export class KeyedHash {
  readonly #key: Promise<CryptoKey>

  constructor(secret: string | Uint8Array) {
    const bytes = typeof secret === 'string' ? encoder.encode(secret) : secret
    if (!(bytes instanceof Uint8Array) || bytes.byteLength < 32) {
      throw new ConfigurationError('rateLimit.secret', 'must be at least 32 bytes')
    }
    this.#key = crypto.subtle.importKey(
      'raw',
      bytes.slice(),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign'],
    )
  }

  async of(text: string): Promise<string> {
    const mac = new Uint8Array(
      await crypto.subtle.sign('HMAC', await this.#key, encoder.encode(text)),
    )
    let hex = ''
    for (const byte of mac.subarray(0, 16)) hex += byte.toString(16).padStart(2, '0')
    return hex
  }
}
