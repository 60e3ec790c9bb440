// Fuzz targets of the parsers in this package that see untrusted bytes: gzip token bodies, whole
// access tokens, RFC 3339 timestamps and the signature verifiers' key and signature decoding.
// Short in the test run; `make fuzz` runs each for FUZZ_SECONDS. Only typed errors may come out.
import { base64UrlDecode, base64UrlEncode } from '@better-auth/cesr'
import { BetterAuthError, decodeAccessToken, isErrorCode } from '@better-auth/protocol'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  expectOnlyAsync,
  expectOnly,
  fuzzParameters,
  fuzzRuns,
  fuzzTimeout,
  mutatedBytes,
  mutatedText,
  seedMessage,
  seedStrings,
} from '../../cesr/src/testing-internal/fuzz.js'
import { NodeGzipTokenEncoder } from './node/token-encoder.js'
import { NobleP256Verifier } from './p256/noble.js'
import { WebCryptoP256Verifier } from './p256/webcrypto.js'
import { Rfc3339Timestamper } from './timestamper.js'
import { GzipTokenEncoder } from './token-encoder.js'
import { specTokens } from './testing-internal/vectors.js'

const typed = (error: unknown): boolean =>
  error instanceof BetterAuthError && isErrorCode(error.code)

/** A token is an 88-character signature followed by the base64url gzip body. */
const SIGNATURE_LENGTH = 88
const tokens = specTokens()
const bodies = tokens.map((token) => token.slice(SIGNATURE_LENGTH))
const gzipBytes = bodies.map((body) => base64UrlDecode(body))

async function outcome(run: () => Promise<string>): Promise<{ text: string } | { code: string }> {
  try {
    return { text: await run() }
  } catch (error) {
    if (!typed(error)) throw error
    return { code: (error as BetterAuthError).code }
  }
}

describe('fuzz: tokens', () => {
  const fflate = new GzipTokenEncoder()
  const zlib = new NodeGzipTokenEncoder()
  const encoded = fc.oneof(
    mutatedBytes(gzipBytes).map((bytes) => base64UrlEncode(bytes)),
    mutatedText(bodies),
  )

  it(
    'both gzip decoders throw only typed errors and decode the same text',
    async () => {
      await fc.assert(
        fc.asyncProperty(encoded, async (body) => {
          const [ours, node] = await Promise.all([
            outcome(() => fflate.decode(body)),
            outcome(() => zlib.decode(body)),
          ])
          if ('text' in ours && 'text' in node) expect(ours.text).toBe(node.text)
        }),
        fuzzParameters(bodies),
      )
    },
    fuzzTimeout(),
  )

  it(
    'decodeAccessToken throws only typed errors',
    async () => {
      const mutatedTokens = fc.oneof(
        mutatedText(tokens),
        fc
          .tuple(fc.constantFrom(...tokens), mutatedBytes(gzipBytes))
          .map(([token, bytes]) => token.slice(0, SIGNATURE_LENGTH) + base64UrlEncode(bytes)),
      )
      await fc.assert(
        fc.asyncProperty(mutatedTokens, (token) =>
          expectOnlyAsync(typed, () => decodeAccessToken(token, fflate)),
        ),
        fuzzParameters(tokens),
      )
    },
    fuzzTimeout(),
  )
})

describe('fuzz: RFC 3339 timestamps', () => {
  const timestamper = new Rfc3339Timestamper()
  const published = seedStrings().filter((text) => /^\d{4}-\d\d-\d\dT/.test(text))
  const field = (digits: number) =>
    fc.integer({ min: 0, max: 10 ** digits - 1 }).map((n) => String(n).padStart(digits, '0'))
  // Every field in and out of range, every offset, 0 to 12 fractional digits.
  const generated = fc
    .tuple(
      field(4),
      field(2),
      field(2),
      field(2),
      field(2),
      field(2),
      fc.string({ unit: fc.constantFrom(...'0123456789'), maxLength: 12 }),
      fc.oneof(fc.constant('Z'), fc.tuple(fc.constantFrom('+', '-'), field(2), field(2))),
    )
    .map(([y, mo, d, h, mi, s, fraction, zone]) => {
      const offset = typeof zone === 'string' ? zone : `${zone[0]}${zone[1]}:${zone[2]}`
      return `${y}-${mo}-${d}T${h}:${mi}:${s}${fraction === '' ? '' : `.${fraction}`}${offset}`
    })

  it(
    'parse throws only typed errors and returns only valid instants',
    () => {
      fc.assert(
        fc.property(fc.oneof(mutatedText(published), generated), (text) => {
          expectOnly(typed, () => {
            expect(Number.isNaN(timestamper.parse(text).getTime())).toBe(false)
          })
        }),
        fuzzParameters(published),
      )
    },
    fuzzTimeout(),
  )
})

describe('fuzz: signature verification inputs', () => {
  const message = seedMessage('access.request')
  const signatures = seedStrings().filter((text) => text.startsWith('0I') && text.length === 88)
  const keys = seedStrings().filter((text) => text.startsWith('1AAI'))
  const verifiers = [new NobleP256Verifier(), new WebCryptoP256Verifier()]

  it(
    'verifiers answer a boolean or throw typed errors, whatever the key and signature',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...verifiers),
          mutatedText(signatures),
          mutatedText(keys),
          (verifier, signature, key) =>
            expectOnlyAsync(typed, async () => {
              expect(typeof (await verifier.verify(message, signature, key))).toBe('boolean')
            }),
        ),
        fuzzRuns<[NobleP256Verifier | WebCryptoP256Verifier, string, string]>(),
      )
    },
    fuzzTimeout(),
  )
})
