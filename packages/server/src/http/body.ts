import { decodeUtf8 } from '@better-auth/protocol'
import { HttpRefusal } from './errors.js'

/** Where a request body comes from: a Web stream, or any async iterable of bytes (Node's). */
export type BodySource = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>

/** The parts of a request the body checks need, whatever the framework. */
export interface RequestBody {
  readonly contentType: string | null | undefined
  readonly contentLength: string | null | undefined
  /** Null for a request without a body. */
  readonly stream: BodySource | null
}

/** Types whose body is the message text; others get 415. A missing type is accepted. */
const ACCEPTED_TYPES = new Set(['application/json', 'text/plain'])

export function checkContentType(contentType: string | null | undefined): void {
  if (contentType === null || contentType === undefined || contentType === '') return
  const semicolon = contentType.indexOf(';')
  const type = (semicolon < 0 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase()
  if (!ACCEPTED_TYPES.has(type)) {
    throw new HttpRefusal(415, 'content-type', 'must be application/json or text/plain')
  }
}

export function tooLarge(limit: number): HttpRefusal {
  return new HttpRefusal(413, 'message', `body larger than ${limit} bytes`)
}

/**
 * Reads a body as UTF-8 text, never holding more than `limit` bytes: a declared length over the
 * limit is refused unread, and reading stops (and the stream is cancelled) the moment the bytes
 * received pass it.
 */
export async function readBody(body: RequestBody, limit: number): Promise<string> {
  checkContentType(body.contentType)
  const declared = body.contentLength
  if (declared !== null && declared !== undefined && declared !== '') {
    const length = Number(declared)
    if (Number.isInteger(length) && length > limit) throw tooLarge(limit)
  }
  if (body.stream === null) return ''
  const chunks: Uint8Array[] = []
  let size = 0
  const keep = (chunk: Uint8Array) => {
    size += chunk.byteLength
    if (size > limit) throw tooLarge(limit)
    chunks.push(chunk)
  }
  if (isWebStream(body.stream)) {
    const reader = body.stream.getReader()
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        keep(value)
      }
    } catch (error) {
      void reader.cancel().catch(() => undefined)
      throw error
    }
  } else {
    // Leaving the loop early (throw) destroys a Node stream: nothing more is read.
    for await (const chunk of body.stream) keep(chunk)
  }
  return decode(chunks, size)
}

/** Decodes bytes already read (e.g. by a framework) with the same limit and UTF-8 rules. */
export function decode(chunks: readonly Uint8Array[], size: number): string {
  // The protocol's one decoder: fatal, so bytes that are not UTF-8 are refused (BA101), never
  // repaired to U+FFFD; one signature must verify exactly one byte string.
  return decodeUtf8(chunks.length === 1 ? chunks[0]! : concat(chunks, size))
}

function concat(chunks: readonly Uint8Array[], size: number): Uint8Array {
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  return bytes
}

function isWebStream(stream: BodySource): stream is ReadableStream<Uint8Array> {
  return typeof (stream as ReadableStream<Uint8Array>).getReader === 'function'
}
