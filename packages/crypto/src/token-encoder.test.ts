import { base64UrlDecode, base64UrlEncode } from '@better-auth/cesr'
import fc from 'fast-check'
import { gzipSync } from 'fflate'
import { describe, expect, it } from 'vitest'
import { specJson, specMessage, specTokens } from './testing-internal/vectors.js'
import {
  DEFAULT_MAX_DECODED_BYTES,
  GzipTokenEncoder,
  checkEncodedToken,
  maxEncodedChars,
} from './token-encoder.js'

const encoder = new GzipTokenEncoder()
const BA101 = expect.objectContaining({ code: 'BA101' })

function gzip(bytes: Uint8Array): string {
  return base64UrlEncode(gzipSync(bytes, { mtime: 0 }))
}

function detailsOf(error: unknown): unknown {
  return (error as { context?: { details?: unknown } }).context?.details
}

describe('GzipTokenEncoder with the spec tokens', () => {
  it('decodes every token body to JSON whose re-serialization is the decompressed text', async () => {
    const tokens = specTokens()
    expect(tokens.length).toBeGreaterThanOrEqual(3)
    for (const token of tokens) {
      expect(token.slice(88)).toMatch(/^H4sIAAAAAAAC/)
      const text = await encoder.decode(token.slice(88))
      expect(JSON.stringify(JSON.parse(text))).toBe(text)
      expect(Object.keys(JSON.parse(text) as object)).toEqual([
        'serverIdentity',
        'device',
        'identity',
        'publicKey',
        'rotationHash',
        'issuedAt',
        'expiry',
        'refreshExpiry',
        'attributes',
      ])
    }
  })

  it('decodes the session.refresh.response token to token.decoded', async () => {
    const message = JSON.parse(specMessage('session.refresh.response')) as {
      payload: { response: { access: { token: string } } }
    }
    const text = await encoder.decode(message.payload.response.access.token.slice(88))
    expect(JSON.parse(text)).toEqual(specJson('token.decoded'))
  })
})

describe('GzipTokenEncoder round trip', () => {
  it('encodes to unpadded base64url of gzip with the same header as the spec tokens', async () => {
    const encoded = await encoder.encode('{"a":1}')
    // 1f 8b 08, no flags, zero mtime, XFL 2 (best compression), OS 3 (Unix): as Node's zlib at
    // level 9 writes it.
    expect(encoded).toMatch(/^H4sIAAAAAAAC[A-Za-z0-9_-]+$/)
    expect(encoded.slice(0, 13)).toBe(specTokens()[0]!.slice(88, 101))
    expect(encoded).toBe(await encoder.encode('{"a":1}'))
    await expect(encoder.decode(encoded)).resolves.toBe('{"a":1}')
  })

  it('property: decode(encode(s)) === s for any well-formed string', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 3000 }), async (s) => {
        await expect(encoder.decode(await encoder.encode(s))).resolves.toBe(s)
      }),
    )
  })

  it('property: JSON bodies round trip byte for byte', async () => {
    await fc.assert(
      fc.asyncProperty(fc.json({ maxDepth: 4 }), async (json) => {
        await expect(encoder.decode(await encoder.encode(json))).resolves.toBe(json)
      }),
      { numRuns: 200 },
    )
  })

  it('keeps a leading byte-order mark', async () => {
    // A fresh encoder: the decoder is made at construction, which must happen inside the test.
    const fresh = new GzipTokenEncoder()
    await expect(fresh.decode(await fresh.encode('\uFEFF{}'))).resolves.toBe('\uFEFF{}')
  })
})

describe('GzipTokenEncoder size cap', () => {
  it('accepts exactly maxDecodedBytes and rejects one byte more, in both directions', async () => {
    const small = new GzipTokenEncoder({ maxDecodedBytes: 100 })
    await expect(small.decode(gzip(new Uint8Array(100).fill(0x61)))).resolves.toBe('a'.repeat(100))
    await expect(small.decode(gzip(new Uint8Array(101).fill(0x61)))).rejects.toThrow(BA101)
    await expect(small.encode('a'.repeat(100))).resolves.toBeTypeOf('string')
    await expect(small.encode('a'.repeat(101))).rejects.toThrow(BA101)
    expect(DEFAULT_MAX_DECODED_BYTES).toBe(16 * 1024)
    await expect(encoder.encode('a'.repeat(16 * 1024))).resolves.toBeTypeOf('string')
    await expect(encoder.encode('a'.repeat(16 * 1024 + 1))).rejects.toThrow(BA101)
  })

  it('rejects a gzip bomb (10 MB of zeros) fast, while inflating', async () => {
    const bomb = gzip(new Uint8Array(10 * 1024 * 1024))
    expect(bomb.length).toBeLessThan(20_000)
    const started = performance.now()
    const error: unknown = await encoder.decode(bomb).catch((e: unknown) => e)
    expect(performance.now() - started).toBeLessThan(250)
    expect(error).toEqual(BA101)
    expect(detailsOf(error)).toMatch(/inflates past 16384 bytes/)
  })

  it('stops at the cap before reading the rest of the stream', async () => {
    // The bomb is cut in half: a decoder that inflated everything first would report truncated
    // gzip; one that enforces the cap while inflating stops long before the cut.
    const bomb = gzipSync(new Uint8Array(10 * 1024 * 1024), { mtime: 0 })
    const truncated = base64UrlEncode(bomb.subarray(0, bomb.length >> 1))
    const error: unknown = await encoder.decode(truncated).catch((e: unknown) => e)
    expect(error).toEqual(BA101)
    expect(detailsOf(error)).toMatch(/inflates past/)
  })

  it('rejects overlong input before decoding it', async () => {
    const error: unknown = await encoder.decode('A'.repeat(100_000)).catch((e: unknown) => e)
    expect(error).toEqual(BA101)
    expect(detailsOf(error)).toMatch(/too long/)
  })

  it('rejects invalid options with ConfigurationError', () => {
    for (const options of [
      { maxDecodedBytes: 0 },
      { maxDecodedBytes: -1 },
      { maxDecodedBytes: 1.5 },
      { maxDecodedBytes: '10' },
      null,
    ]) {
      expect(() => new GzipTokenEncoder(options as never)).toThrow(
        expect.objectContaining({ code: 'BA001' }),
      )
    }
    for (const options of [null, 'x', 42]) {
      expect(() => new GzipTokenEncoder(options as never)).toThrow(
        expect.objectContaining({ message: 'Invalid configuration: options: expected an object' }),
      )
    }
    expect(() => new GzipTokenEncoder({ maxDecodedBytes: 0 })).toThrow(
      expect.objectContaining({
        message: 'Invalid configuration: maxDecodedBytes: must be a positive safe integer',
      }),
    )
    expect(() => new GzipTokenEncoder({ maxDecodedBytes: 1 })).not.toThrow()
  })

  it('bounds the encoded length at ceil((2 × maxDecodedBytes + 1024) × 4 / 3) characters', async () => {
    expect(maxEncodedChars(1000)).toBe(4032)
    expect(maxEncodedChars(DEFAULT_MAX_DECODED_BYTES)).toBe(45_056)
    const small = new GzipTokenEncoder({ maxDecodedBytes: 1000 })
    // At the limit the text is decoded (and is not gzip); one character more is refused unread.
    const details = async (text: string) => detailsOf(await small.decode(text).catch((e) => e))
    await expect(details('A'.repeat(4032))).resolves.toBe('not gzip data')
    await expect(details('A'.repeat(4033))).resolves.toBe('encoded token is too long')
  })

  it('checks type, length and alphabet before any decoding, in that order', () => {
    const details = (encoded: unknown, max: number) => {
      try {
        checkEncodedToken(encoded, max)
        return 'accepted'
      } catch (error) {
        return detailsOf(error)
      }
    }
    expect(details(42, 8)).toBe('expected a string to decode')
    expect(details('AAAAAAAA', 8)).toBe('accepted')
    expect(details('AAAAAAAAA', 8)).toBe('encoded token is too long')
    for (const text of ['AAAAA', 'A', 'AA+A', 'AA/A', 'AA=A', 'AA A', 'AAAAAAAAAAAAA']) {
      expect(details(text, 100), text).toBe('not unpadded base64url')
    }
    for (const text of ['', 'AA', 'AAA', 'AAAA', 'Az09-_'])
      expect(details(text, 100)).toBe('accepted')
  })

  it('says why encode refused', async () => {
    const small = new GzipTokenEncoder({ maxDecodedBytes: 16 })
    await expect(small.encode(42 as never)).rejects.toMatchObject({
      message: 'Invalid message: token: expected a string to encode',
    })
    await expect(small.encode('x'.repeat(17))).rejects.toMatchObject({
      message: 'Invalid message: token: body exceeds 16 bytes',
    })
  })
})

describe('GzipTokenEncoder rejects malformed input with BA101', () => {
  const body = new TextEncoder().encode('{"hello":"world"}')
  const valid = gzipSync(body, { mtime: 0 })

  function mutate(change: (bytes: Uint8Array) => Uint8Array): string {
    return base64UrlEncode(change(new Uint8Array(valid)))
  }

  it('rejects base64url whose unused trailing bits are set (two texts for the same bytes)', async () => {
    // A found-by-fuzzing shape: alphabet and length pass the first check, the decoder refuses.
    // 37 bytes: the last character carries 2 bits and 4 zero bits (A, Q, g or w); one more sets one.
    const canonical = base64UrlEncode(valid)
    expect(valid.length % 3).toBe(1)
    const alias =
      canonical.slice(0, -1) + String.fromCharCode(canonical.charCodeAt(canonical.length - 1) + 1)
    await expect(encoder.decode(alias)).rejects.toMatchObject({
      code: 'BA101',
      context: { field: 'token', details: 'not unpadded base64url' },
    })
  })

  it('rejects garbage, padding, the standard alphabet and non-gzip bytes', async () => {
    const bad = [
      '',
      'A',
      'not base64!',
      `${base64UrlEncode(valid)}=`,
      base64UrlEncode(valid).replace(/-/g, '+').replace(/_/g, '/') + '+/',
      base64UrlEncode(body),
      base64UrlEncode(new Uint8Array(40)),
      'H4sI',
      ' H4sIAAAAAAAA',
    ]
    for (const text of bad) await expect(encoder.decode(text), text).rejects.toThrow(BA101)
  })

  it('rejects corrupted, truncated, extended and multi-member gzip', async () => {
    const other = gzipSync(new TextEncoder().encode('{"x":2}'), { mtime: 0 })
    const cases: Record<string, string> = {
      crc: mutate((b) => {
        b[b.length - 8] = (b[b.length - 8] ?? 0) ^ 1
        return b
      }),
      length: mutate((b) => {
        b[b.length - 1] = (b[b.length - 1] ?? 0) ^ 1
        return b
      }),
      deflate: mutate((b) => {
        b[12] = (b[12] ?? 0) ^ 0xff
        return b
      }),
      method: mutate((b) => {
        b[2] = 7
        return b
      }),
      truncated: mutate((b) => b.subarray(0, b.length - 4)),
      noTrailer: mutate((b) => b.subarray(0, b.length - 8)),
      trailing1: mutate((b) => new Uint8Array([...b, 0])),
      trailing3: mutate((b) => new Uint8Array([...b, 1, 2, 3])),
      trailing9: mutate((b) => new Uint8Array([...b, ...new Uint8Array(9)])),
      twoMembers: mutate((b) => new Uint8Array([...b, ...other])),
    }
    for (const [name, text] of Object.entries(cases)) {
      await expect(encoder.decode(text), name).rejects.toThrow(BA101)
    }
    // Each failure is named by the check that found it.
    const found: Record<string, unknown> = {}
    for (const [name, text] of Object.entries(cases)) {
      found[name] = detailsOf(await encoder.decode(text).catch((e: unknown) => e))
    }
    expect(found).toEqual({
      crc: 'gzip checksum or length mismatch',
      length: 'gzip checksum or length mismatch',
      deflate: 'gzip checksum or length mismatch',
      method: 'not gzip data',
      // The last 8 bytes are read as the trailer, wherever the data ends.
      truncated: 'gzip checksum or length mismatch',
      noTrailer: 'gzip checksum or length mismatch',
      trailing1: 'gzip checksum or length mismatch',
      trailing3: 'gzip checksum or length mismatch',
      trailing9: 'not valid gzip data',
      twoMembers: 'more than one gzip member',
    })
    await expect(encoder.decode(base64UrlEncode(valid))).resolves.toBe('{"hello":"world"}')
  })

  it('reads the gzip magic bytes and method itself, and needs a header and a trailer', async () => {
    const details = async (bytes: Uint8Array) =>
      detailsOf(await encoder.decode(base64UrlEncode(bytes)).catch((e: unknown) => e))
    for (const at of [0, 1, 2]) {
      const bytes = new Uint8Array(valid)
      bytes[at] = (bytes[at] ?? 0) ^ 0x40
      await expect(details(bytes), `byte ${at}`).resolves.toBe('not gzip data')
    }
    // 18 bytes: a header and a trailer, no DEFLATE data; 17 bytes cannot even hold those.
    const framing = new Uint8Array([...valid.subarray(0, 10), ...new Uint8Array(8)])
    await expect(details(framing)).resolves.toBe('not valid gzip data')
    await expect(details(framing.subarray(0, 17))).resolves.toBe('not gzip data')
  })

  it('rejects bodies that are not UTF-8', async () => {
    // A fresh encoder: the decoder is made at construction, which must happen inside the test.
    const encoder = new GzipTokenEncoder()
    for (const bytes of [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0x61, 0x80, 0x62]]) {
      const error: unknown = await encoder
        .decode(gzip(new Uint8Array(bytes)))
        .catch((e: unknown) => e)
      expect(error).toEqual(BA101)
      expect(detailsOf(error)).toMatch(/UTF-8/)
    }
  })

  it('accepts the gzip framing Node emits (header decoded from a spec token)', () => {
    const token = specTokens()[0]!
    const header = base64UrlDecode(token.slice(88, 100))
    expect(Array.from(header.subarray(0, 4))).toEqual([0x1f, 0x8b, 0x08, 0x00])
  })
})
