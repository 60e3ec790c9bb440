import { decodeCesrAs } from '@better-auth/cesr'
import { describe, expect, it } from 'vitest'
import { SecureNoncer } from './noncer.js'

describe('SecureNoncer', () => {
  it('produces 128-bit CESR 0A nonces that differ', async () => {
    const noncer = new SecureNoncer()
    const nonces = new Set<string>()
    for (let i = 0; i < 200; i++) {
      const nonce = await noncer.generate128()
      expect(nonce).toMatch(/^0A[A-Za-z0-9_-]{22}$/)
      expect(decodeCesrAs('0A', nonce)).toHaveLength(16)
      nonces.add(nonce)
    }
    expect(nonces.size).toBe(200)
  })

  it('uses an injected random source byte for byte', async () => {
    let counter = 0
    const noncer = new SecureNoncer({
      random: (bytes) => {
        for (let i = 0; i < bytes.length; i++) bytes[i] = counter++ & 0xff
      },
    })
    const first = await noncer.generate128()
    expect(Array.from(decodeCesrAs('0A', first))).toEqual(Array.from({ length: 16 }, (_, i) => i))
    expect(first).toBe('0AAAAQIDBAUGBwgJCgsMDQ4P')
    expect(await noncer.generate128()).not.toBe(first)
  })

  it('propagates a failing random source as a rejection, never a zero nonce', async () => {
    const noncer = new SecureNoncer({
      random: () => {
        throw new Error('entropy unavailable')
      },
    })
    await expect(noncer.generate128()).rejects.toThrow('entropy unavailable')
  })

  it('rejects invalid options with ConfigurationError', () => {
    for (const options of [{ random: 42 }, { random: 'x' }, null, 7]) {
      expect(() => new SecureNoncer(options as never)).toThrow(
        expect.objectContaining({ code: 'BA001' }),
      )
    }
  })
})
