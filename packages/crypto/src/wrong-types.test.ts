// Every public function is fed values of the wrong type. Each call must return false or fail with
// a BetterAuthError; a TypeError (or any other error) escaping is a bug.
import { isBetterAuthError } from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'
import {
  Blake3Hasher,
  DefaultIdentityVerifier,
  GzipTokenEncoder,
  NobleP256SigningKey,
  NobleP256Verifier,
  Rfc3339Timestamper,
  SecureNoncer,
  WebCryptoP256SigningKey,
  WebCryptoP256Verifier,
  blake3Digest,
} from './index.js'
import { constantTimeEqualBytes } from './internal/bytes.js'
import { verifyP256Raw } from './testing/index.js'
import { WRONG_TYPES } from './testing-internal/vectors.js'

type Outcome = 'returned' | 'typed-error'

async function outcome(call: () => unknown): Promise<Outcome> {
  try {
    await call()
    return 'returned'
  } catch (error) {
    if (isBetterAuthError(error)) return 'typed-error'
    throw error
  }
}

// A value of the right type for each position, so that exactly one argument is wrong at a time.
const good = {
  message: 'message',
  signature: `0I${'A'.repeat(86)}`,
  publicKey: `1AAI${'A'.repeat(44)}`,
  bytes: new Uint8Array(64),
}

/** Calls `fn` once per wrong value in each argument position. */
async function eachPosition(
  args: readonly unknown[],
  fn: (...values: unknown[]) => unknown,
  expectation: (result: Outcome, value: unknown, position: number) => void,
): Promise<void> {
  for (let position = 0; position < args.length; position++) {
    for (const value of WRONG_TYPES) {
      const values = [...args]
      values[position] = value
      expectation(await outcome(() => fn(...values)), value, position)
    }
  }
}

describe('wrong-type inputs', () => {
  it('verifiers resolve false', async () => {
    const key = NobleP256SigningKey.generate()
    const webKey = await WebCryptoP256SigningKey.generate()
    const verifiers = [new NobleP256Verifier(), new WebCryptoP256Verifier(), key.verifier()]
    for (const verifier of verifiers) {
      await eachPosition(
        [good.message, good.signature, good.publicKey],
        async (...v) => {
          expect(await verifier.verify(...(v as [string, string, string]))).toBe(false)
        },
        (result) => expect(result).toBe('returned'),
      )
    }
    for (const signer of [key, webKey]) {
      await eachPosition(
        [good.message, good.signature],
        async (...v) => {
          expect(await signer.verify(...(v as [string, string]))).toBe(false)
        },
        (result) => expect(result).toBe('returned'),
      )
    }
  })

  it('verifyP256Raw resolves false for bad byte arguments and rejects a bad backend typed', async () => {
    for (const backend of ['noble', 'webcrypto'] as const) {
      await eachPosition(
        [good.bytes, good.bytes, new Uint8Array(33)],
        async (...v) => {
          expect(await verifyP256Raw(backend, ...(v as [Uint8Array, Uint8Array, Uint8Array]))).toBe(
            false,
          )
        },
        (result) => expect(result).toBe('returned'),
      )
    }
    for (const backend of WRONG_TYPES) {
      expect(
        await outcome(() => verifyP256Raw(backend as 'noble', good.bytes, good.bytes, good.bytes)),
      ).toBe('typed-error')
    }
  })

  it('signing keys reject bad secrets, options, key pairs and messages with typed errors', async () => {
    const key = NobleP256SigningKey.generate()
    const webKey = await WebCryptoP256SigningKey.generate()
    for (const value of WRONG_TYPES) {
      expect(await outcome(() => NobleP256SigningKey.fromSecretKey(value as Uint8Array))).toBe(
        'typed-error',
      )
      expect(await outcome(() => WebCryptoP256SigningKey.fromSecretKey(value as Uint8Array))).toBe(
        'typed-error',
      )
      expect(
        await outcome(() => WebCryptoP256SigningKey.fromCryptoKeyPair(value as CryptoKeyPair)),
      ).toBe('typed-error')
      expect(await outcome(() => key.sign(value as string))).toBe(
        typeof value === 'string' ? 'returned' : 'typed-error',
      )
      expect(await outcome(() => webKey.sign(value as string))).toBe(
        typeof value === 'string' ? 'returned' : 'typed-error',
      )
      // undefined means "no options"; {} and [] are objects with no invalid fields.
      await outcome(() => WebCryptoP256SigningKey.generate(value as never))
      await outcome(() =>
        WebCryptoP256SigningKey.fromSecretKey(new Uint8Array(32).fill(1), value as never),
      )
    }
  })

  it('constructors accept undefined and reject other wrong types with typed errors', async () => {
    const constructors: ((value: unknown) => unknown)[] = [
      (v) => new SecureNoncer(v as never),
      (v) => new Rfc3339Timestamper(v as never),
      (v) => new GzipTokenEncoder(v as never),
      (v) => new WebCryptoP256Verifier(v as never),
      (v) => new DefaultIdentityVerifier(v as never),
    ]
    for (const make of constructors) {
      for (const value of WRONG_TYPES) await outcome(() => make(value))
    }
    expect(await outcome(() => new DefaultIdentityVerifier(undefined as never))).toBe('typed-error')
  })

  it('hashing, timestamps, tokens and identity fail typed on non-strings', async () => {
    const hasher = new Blake3Hasher()
    const timestamper = new Rfc3339Timestamper()
    const encoder = new GzipTokenEncoder()
    const identity = new DefaultIdentityVerifier(hasher)
    const noncer = new SecureNoncer()
    await expect(noncer.generate128()).resolves.toMatch(/^0A/)
    for (const value of WRONG_TYPES) {
      const isString = typeof value === 'string'
      expect(await outcome(() => blake3Digest(value as string))).toBe(
        isString ? 'returned' : 'typed-error',
      )
      expect(await outcome(() => hasher.sum(value as string))).toBe(
        isString ? 'returned' : 'typed-error',
      )
      expect(await outcome(() => timestamper.parse(value as string))).toBe('typed-error')
      expect(await outcome(() => timestamper.format(value as Date))).toBe('typed-error')
      expect(await outcome(() => encoder.decode(value as string))).toBe('typed-error')
      expect(await outcome(() => encoder.encode(value as string))).toBe(
        isString ? 'returned' : 'typed-error',
      )
      expect(constantTimeEqualBytes(value as Uint8Array, new Uint8Array(0))).toBe(
        value instanceof Uint8Array,
      )
    }
    await eachPosition(
      ['a', 'b', 'c', 'd'],
      (...v) => identity.verify(...(v as [string, string, string, string])),
      (result) => expect(result).toBe('typed-error'),
    )
  })
})
