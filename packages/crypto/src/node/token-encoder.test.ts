import fc from 'fast-check'
import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import vectors from '../../../../spec/vectors/spec-examples.json' with { type: 'json' }
import { GzipTokenEncoder } from '../token-encoder.js'
import { NodeGzipTokenEncoder } from './token-encoder.js'

const node = new NodeGzipTokenEncoder()
const portable = new GzipTokenEncoder()

function tokensOfVectors(): string[] {
  const tokens = new Set<string>()
  for (const vector of vectors.vectors) {
    if (!('message' in vector) || typeof vector.message !== 'string') continue
    for (const match of vector.message.matchAll(
      /"token":"(0I[A-Za-z0-9_-]{86})([A-Za-z0-9_-]+)"/g,
    )) {
      tokens.add(match[2]!)
    }
  }
  return [...tokens]
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => undefined,
    (error: { code?: string }) => error.code,
  )
}

describe('NodeGzipTokenEncoder', () => {
  it('decodes the published tokens exactly as the portable encoder does', async () => {
    const tokens = tokensOfVectors()
    expect(tokens.length).toBeGreaterThanOrEqual(3)
    for (const token of tokens) expect(await node.decode(token)).toBe(await portable.decode(token))
  })

  // Not byte for byte: Node 24 ships Chromium's zlib, whose deflate output differs from fflate's
  // (and from Node 22's zlib) for the same input. Signatures cover the encoded text, so only
  // decoding has to agree.
  it('round trips, and each encoder decodes what the other encodes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 2000 }), async (text) => {
        const encoded = await node.encode(text)
        expect(await node.decode(encoded)).toBe(text)
        expect(await portable.decode(encoded)).toBe(text)
        expect(await node.decode(await portable.encode(text))).toBe(text)
      }),
    )
  })

  it('refuses a gzip bomb with BA101 without inflating it', async () => {
    const bomb = gzipSync(Buffer.alloc(10 * 1024 * 1024)).toString('base64url')
    const started = performance.now()
    expect(await codeOf(new NodeGzipTokenEncoder({ maxDecodedBytes: 1 << 20 }).decode(bomb))).toBe(
      'BA101',
    )
    expect(await codeOf(node.decode(bomb))).toBe('BA101')
    expect(performance.now() - started).toBeLessThan(1_000)
  })

  it.each([
    ['not base64url', 'H4sI+AAA'],
    ['padding', 'H4sIAAAAAAAC='],
    ['not gzip', Buffer.from('hello world, not gzip').toString('base64url')],
    ['truncated gzip', gzipSync('{"a":1}').subarray(0, 15).toString('base64url')],
    [
      'corrupted checksum',
      Buffer.concat([gzipSync('{"a":1}').subarray(0, -8), Buffer.alloc(8)]).toString('base64url'),
    ],
    ['invalid UTF-8', gzipSync(Buffer.from([0xff, 0xfe, 0xfd])).toString('base64url')],
    ['a number', 42],
  ])('refuses %s with BA101', async (_name, input) => {
    expect(await codeOf(node.decode(input as string))).toBe('BA101')
  })

  it('refuses oversized bodies on encode and bad options at construction', async () => {
    expect(
      await codeOf(new NodeGzipTokenEncoder({ maxDecodedBytes: 8 }).encode('x'.repeat(9))),
    ).toBe('BA101')
    expect(() => new NodeGzipTokenEncoder({ maxDecodedBytes: 0 })).toThrow(
      expect.objectContaining({ code: 'BA001' }),
    )
  })
})

describe('NodeGzipTokenEncoder.encode', () => {
  it.each([[42], [null], [undefined], [{}]])(
    'refuses %s with BA101 (field token)',
    async (value) => {
      const error = await node.encode(value as string).then(
        () => undefined,
        (reason: unknown) => reason,
      )
      expect(error).toMatchObject({ code: 'BA101', context: { field: 'token' } })
    },
  )
})
