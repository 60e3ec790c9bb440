import { decodeCesrAs } from '@better-auth/cesr'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { nobleBackend, NobleP256SigningKey } from './noble.js'
import { verifyP256Raw } from './raw.js'
import { webCryptoBackend } from './webcrypto.js'

const BACKENDS = ['noble', 'webcrypto'] as const

async function signed() {
  const key = NobleP256SigningKey.generate()
  const message = new TextEncoder().encode('m')
  return {
    message,
    signature: decodeCesrAs('0I', await key.sign('m')),
    publicKey: decodeCesrAs('1AAI', await key.public()),
  }
}

describe('verifyP256Raw', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
  })

  it('resolves false, never rejects, when any argument is not a Uint8Array', async () => {
    const { message, signature, publicKey } = await signed()
    for (const backend of BACKENDS) {
      await expect(verifyP256Raw(backend, message, signature, publicKey)).resolves.toBe(true)
      // The same bytes as plain arrays would verify if they were copied into a Uint8Array.
      const attempts: [unknown, unknown, unknown][] = [
        [Array.from(message), signature, publicKey],
        [message, Array.from(signature), publicKey],
        [message, signature, Array.from(publicKey)],
        [message, signature, undefined],
        [message, signature, null],
        [message, signature, 42],
      ]
      for (const [m, s, k] of attempts) {
        await expect(verifyP256Raw(backend, m as never, s as never, k as never)).resolves.toBe(
          false,
        )
      }
    }
  })

  it('names its backends and refuses others with ConfigurationError', async () => {
    expect(nobleBackend.name).toBe('noble')
    expect(webCryptoBackend().name).toBe('webcrypto')
    const { message, signature, publicKey } = await signed()
    await expect(
      verifyP256Raw('rsa' as never, message, signature, publicKey),
    ).rejects.toMatchObject({
      code: 'BA001',
      message: "Invalid configuration: backend: expected 'noble' or 'webcrypto'",
    })
  })

  it("verifies with 'noble' where the runtime has no Web Crypto, and only 'webcrypto' needs it", async () => {
    const { message, signature, publicKey } = await signed()
    // A fresh module graph, so no Web Crypto backend was built while Web Crypto was there.
    vi.resetModules()
    const fresh = await import('./raw.js')
    vi.stubGlobal('crypto', undefined)
    await expect(fresh.verifyP256Raw('noble', message, signature, publicKey)).resolves.toBe(true)
    await expect(
      fresh.verifyP256Raw('webcrypto', message, signature, publicKey),
    ).rejects.toMatchObject({ code: 'BA001', context: { field: 'crypto.subtle' } })
  })
})
