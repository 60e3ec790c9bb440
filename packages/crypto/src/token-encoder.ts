import { base64UrlDecode, base64UrlEncode } from '@better-auth/cesr'
import { ConfigurationError, InvalidMessageError } from '@better-auth/protocol'
import type { TokenEncoder } from '@better-auth/protocol'
import { Gunzip, gzipSync } from 'fflate'
import { utf8 } from './internal/bytes.js'
import { settle } from './internal/promise.js'
import { crc32 } from './internal/crc32.js'

export const DEFAULT_MAX_DECODED_BYTES = 16 * 1024

export interface GzipTokenEncoderOptions {
  /**
   * The largest body, in bytes after inflation, that `decode` accepts (and `encode` produces).
   * Default 16 KiB; a token body with modest attributes is well under 1 KiB.
   */
  maxDecodedBytes?: number
}

// Compressed input is fed to the inflater this many bytes at a time. fflate inflates everything
// it has been given before reporting output, and DEFLATE expands at most ~1032:1, so a 64-byte
// slice produces at most ~66 KB before the size check runs: a bomb is stopped after one slice
// past the cap instead of after being inflated whole.
const INFLATE_SLICE_BYTES = 64

const GZIP_HEADER_BYTES = 10
const GZIP_TRAILER_BYTES = 8
const BASE64URL = /^[A-Za-z0-9_-]*$/

class CapExceeded extends Error {}

/** The checks every decoder runs before decoding base64url: type, length, alphabet. */
export function checkEncodedToken(encoded: unknown, maxChars: number): asserts encoded is string {
  if (typeof encoded !== 'string') throw invalid('expected a string to decode')
  if (encoded.length > maxChars) throw invalid('encoded token is too long')
  if (!BASE64URL.test(encoded) || encoded.length % 4 === 1) {
    throw invalid('not unpadded base64url')
  }
}

/** Validates the options shared by every token encoder. */
export function resolveMaxDecodedBytes(options: GzipTokenEncoderOptions): number {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError('options', 'expected an object')
  }
  const { maxDecodedBytes = DEFAULT_MAX_DECODED_BYTES } = options
  if (
    typeof maxDecodedBytes !== 'number' ||
    !Number.isSafeInteger(maxDecodedBytes) ||
    maxDecodedBytes < 1
  ) {
    throw new ConfigurationError('maxDecodedBytes', 'must be a positive safe integer')
  }
  return maxDecodedBytes
}

/**
 * Gzip of n bytes is at most n plus small framing (stored blocks cost 5 bytes per 64 KiB, the
 * header may carry a name). Twice the cap plus 1 KiB is generous and still rejects a megabyte-long
 * token before base64 decoding it.
 */
export function maxEncodedChars(maxDecodedBytes: number): number {
  return Math.ceil(((2 * maxDecodedBytes + 1024) * 4) / 3)
}

export function invalid(details: string, cause?: unknown): InvalidMessageError {
  return new InvalidMessageError('token', details, cause)
}

function readUint32LE(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(at, true)
}

/**
 * The default access-token body codec: `base64url_nopad(gzip(utf8(text)))`, as the reference
 * implementation emits it with Node's zlib. Decoding never inflates more than `maxDecodedBytes`
 * (checked while inflating, so gzip bombs fail fast), verifies the gzip CRC-32 and length, accepts
 * exactly one gzip member, and requires strict UTF-8. Every failure is an InvalidMessageError
 * (BA101) with field 'token'.
 */
export class GzipTokenEncoder implements TokenEncoder {
  readonly #maxDecodedBytes: number
  readonly #maxEncodedChars: number
  readonly #decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

  constructor(options: GzipTokenEncoderOptions = {}) {
    const maxDecodedBytes = resolveMaxDecodedBytes(options)
    this.#maxDecodedBytes = maxDecodedBytes
    this.#maxEncodedChars = maxEncodedChars(maxDecodedBytes)
  }

  encode(text: string): Promise<string> {
    return settle(() => {
      if (typeof text !== 'string') throw invalid('expected a string to encode')
      const bytes = utf8(text)
      if (bytes.length > this.#maxDecodedBytes) {
        throw invalid(`body exceeds ${this.#maxDecodedBytes} bytes`)
      }
      // mtime 0 keeps the output deterministic. Level 9 because the reference tokens were made
      // with it (their header's XFL byte is 2); it also gives the same 10-byte header, and tokens
      // are far too small for the level to cost anything.
      return base64UrlEncode(gzipSync(bytes, { level: 9, mtime: 0 }))
    })
  }

  decode(encoded: string): Promise<string> {
    return settle(() => this.#decode(encoded))
  }

  #decode(encoded: string): string {
    checkEncodedToken(encoded, this.#maxEncodedChars)
    let compressed: Uint8Array
    try {
      compressed = base64UrlDecode(encoded)
    } catch (cause) {
      throw invalid('not unpadded base64url', cause)
    }
    if (
      compressed.length < GZIP_HEADER_BYTES + GZIP_TRAILER_BYTES ||
      compressed[0] !== 0x1f ||
      compressed[1] !== 0x8b ||
      compressed[2] !== 0x08
    ) {
      throw invalid('not gzip data')
    }
    const output = this.#inflate(compressed)
    const trailer = compressed.length - GZIP_TRAILER_BYTES
    if (
      readUint32LE(compressed, trailer) !== output.crc ||
      readUint32LE(compressed, trailer + 4) !== output.bytes.length % 2 ** 32
    ) {
      throw invalid('gzip checksum or length mismatch')
    }
    try {
      return this.#decoder.decode(output.bytes)
    } catch (cause) {
      throw invalid('body is not valid UTF-8', cause)
    }
  }

  #inflate(compressed: Uint8Array): { bytes: Uint8Array; crc: number } {
    const max = this.#maxDecodedBytes
    const chunks: Uint8Array[] = []
    let total = 0
    let crc = 0
    let members = 0
    const gunzip = new Gunzip((chunk) => {
      total += chunk.length
      // Throwing out of the callback unwinds fflate's push at once, so nothing more is inflated.
      if (total > max) throw new CapExceeded()
      if (chunk.length > 0) {
        chunks.push(chunk)
        crc = crc32(chunk, crc)
      }
    })
    gunzip.onmember = () => {
      members++
    }
    try {
      for (let at = 0; at < compressed.length; at += INFLATE_SLICE_BYTES) {
        const end = Math.min(at + INFLATE_SLICE_BYTES, compressed.length)
        gunzip.push(compressed.subarray(at, end), end === compressed.length)
        // A second member would let a token carry data the checksum below does not cover.
        if (members > 0) throw invalid('more than one gzip member')
      }
    } catch (error) {
      if (error instanceof CapExceeded) throw invalid(`inflates past ${max} bytes`)
      if (error instanceof InvalidMessageError) throw error
      throw invalid('not valid gzip data', error)
    }
    const bytes = new Uint8Array(total)
    let offset = 0
    for (const chunk of chunks) {
      bytes.set(chunk, offset)
      offset += chunk.length
    }
    return { bytes, crc }
  }
}
