import { describe, expect, it } from 'vitest'
import { InvalidMessageError } from './errors.js'
import type { Verifier } from './interfaces/crypto.js'
import { verificationKey } from './verification-key.js'

const KEY = '1AAIAkZeridwme6y4GpivAoI9sw5LNyj9BJD5USSAJu165AD'

describe('verificationKey', () => {
  it('verifies with the given verifier and the pinned key only', async () => {
    const calls: string[][] = []
    const verifier: Verifier = {
      verify: (message, signature, publicKey) => {
        calls.push([message, signature, publicKey])
        return Promise.resolve(publicKey === KEY)
      },
    }
    const key = verificationKey(KEY, verifier)
    expect(await key.public()).toBe(KEY)
    expect(key.verifier()).toBe(verifier)
    expect(await key.verify('m', 's')).toBe(true)
    expect(calls).toEqual([['m', 's', KEY]])
  })

  it.each([[undefined], [null], [{}], [{ verify: 'yes' }]])(
    'rejects %s as a verifier',
    (verifier) => {
      expect(() => verificationKey(KEY, verifier as Verifier)).toThrow(
        new InvalidMessageError('verifier', 'must implement verify()'),
      )
    },
  )

  it.each([['not a key'], [42], [null], ['EOnMhfF6CIKCvXrZkRxwPMBRy6MwgwSBM0H6hb1uDezu']])(
    'rejects %s as a public key',
    (value) => {
      expect(() =>
        verificationKey(value as string, { verify: () => Promise.resolve(true) }),
      ).toThrow(/^Invalid message: publicKey: expected a P-256 public key/)
    },
  )
})
