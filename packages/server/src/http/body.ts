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
export function readBody(body: RequestBody, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    readBodyThen(body, limit, (error, text) => {
      if (error === null) resolve(text)
      else reject(error)
    })
  })
}

/** What `readBodyThen` calls once: a null error and the text, or the refusal and ''. */
export type BodyCallback = (error: Error | null, text: string) => void

/**
 * `readBody` with a callback: the same checks, limit and decoding, for adapters whose framework
 * takes callbacks on every request (fastify's hooks), so a Node stream costs no promise turn.
 */
export function readBodyThen(body: RequestBody, limit: number, callback: BodyCallback): void {
  try {
    checkContentType(body.contentType)
    checkDeclaredLength(body.contentLength, limit)
  } catch (error) {
    callback(asError(error), '')
    return
  }
  const stream = body.stream
  if (stream === null) {
    callback(null, '')
    return
  }
  if (!isWebStream(stream) && isEmitter(stream)) {
    readEmitter(stream, limit, callback)
    return
  }
  const reading = isWebStream(stream) ? readWebStream(stream, limit) : readIterable(stream, limit)
  reading.then(
    ({ chunks, size }) =>
      deliver(chunks.length === 1 ? chunks[0]! : concat(chunks, size), callback),
    (error: unknown) => callback(asError(error), ''),
  )
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}

function checkDeclaredLength(declared: string | null | undefined, limit: number): void {
  if (declared === null || declared === undefined || declared === '') return
  const length = Number(declared)
  if (Number.isInteger(length) && length > limit) throw tooLarge(limit)
}

/** Decodes what was read and calls back outside the try, so a throwing callback is not called twice. */
function deliver(bytes: Uint8Array, callback: BodyCallback): void {
  let text: string
  try {
    // The protocol's one decoder: fatal, so bytes that are not UTF-8 are refused (BA101), never
    // repaired to U+FFFD; one signature must verify exactly one byte string.
    text = decodeUtf8(bytes)
  } catch (error) {
    callback(asError(error), '')
    return
  }
  callback(null, text)
}

interface Received {
  readonly chunks: Uint8Array[]
  size: number
}

function receive(received: Received, chunk: Uint8Array, limit: number): void {
  received.size += chunk.byteLength
  if (received.size > limit) throw tooLarge(limit)
  received.chunks.push(chunk)
}

async function readWebStream(stream: ReadableStream<Uint8Array>, limit: number) {
  const received: Received = { chunks: [], size: 0 }
  const reader = stream.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return received
      receive(received, value, limit)
    }
  } catch (error) {
    void reader.cancel().catch(() => undefined)
    throw error
  }
}

async function readIterable(stream: AsyncIterable<Uint8Array>, limit: number) {
  const received: Received = { chunks: [], size: 0 }
  for await (const chunk of stream) receive(received, chunk, limit)
  return received
}

/** What a Node readable stream (an `IncomingMessage`, say) offers, without importing Node. */
interface Emitter extends AsyncIterable<Uint8Array> {
  on(event: string, listener: (value: never) => void): unknown
  removeListener(event: string, listener: (value: never) => void): unknown
  pause(): unknown
  readonly readableEnded: boolean
  readonly destroyed?: boolean
}

function ignore(): void {}

const NO_BYTES = new Uint8Array(0)

/**
 * A Node readable stream: its events are read directly. Anything else with events but not the
 * stream's state (`readableEnded`, which tells the end from a close before it) is read as the async
 * iterable it is.
 */
function isEmitter(stream: BodySource): stream is Emitter {
  const candidate = stream as Partial<Emitter>
  return (
    typeof candidate.on === 'function' &&
    typeof candidate.pause === 'function' &&
    typeof candidate.readableEnded === 'boolean'
  )
}

/**
 * A Node stream read through its events rather than an async iterator, settling with its text:
 * this runs on every request of the Node adapters, and the iterator costs a promise per chunk and a
 * destroy at the end. Kept lean for that reason (bench/RESULTS.md, issue 13): three closures, and
 * the first chunk, usually the whole body, held without a list.
 */
function readEmitter(stream: Emitter, limit: number, callback: BodyCallback): void {
  if (stream.readableEnded) {
    callback(null, '')
    return
  }
  if (stream.destroyed === true) {
    // Closed before anyone read it (the client went away while an earlier hook ran): its events
    // have come and gone, so waiting for them would never call back.
    stream.on('error', ignore)
    callback(aborted(), '')
    return
  }
  let first: Uint8Array | undefined
  let more: Uint8Array[] | undefined
  let size = 0
  const settle = (error: Error | undefined) => {
    stream.removeListener('data', onData)
    stream.removeListener('end', onEnd)
    stream.removeListener('error', settle)
    stream.removeListener('close', onEnd)
    if (error === undefined) {
      deliver(more === undefined ? (first ?? NO_BYTES) : concat([first!, ...more], size), callback)
      return
    }
    // A late error of a stream given up on (a socket reset after a refusal) has no one to hear it.
    stream.on('error', ignore)
    callback(error, '')
  }
  const onData = (chunk: Uint8Array | string) => {
    const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk
    size += bytes.byteLength
    if (size > limit) {
      // Read no further: paused, the stream stops pulling from the socket (the adapters answer
      // 413 with `connection: close`). Not destroyed: that would reset the socket before the
      // answer goes out.
      stream.pause()
      settle(tooLarge(limit))
      return
    }
    if (first === undefined) first = bytes
    else (more ??= []).push(bytes)
  }
  // The end, or a close before it without an error (the client went away mid-body): a stream
  // that ended has set readableEnded by the time it says so.
  const onEnd = () => settle(stream.readableEnded ? undefined : aborted())
  stream.on('data', onData)
  stream.on('end', onEnd)
  stream.on('error', settle)
  stream.on('close', onEnd)
}

function aborted(): Error {
  return Object.assign(new Error('aborted'), { code: 'ECONNRESET' })
}

/** Decodes bytes already read (e.g. by a framework) with the same limit and UTF-8 rules. */
export function decode(chunks: readonly Uint8Array[], size: number): string {
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
