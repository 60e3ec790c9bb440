/// <reference types="node" />
import type { IncomingMessage } from 'node:http'

const RECORDING = Symbol('better-auth.rawBody')

/**
 * The bytes of a request as Node received them, kept whoever reads the stream (a body parser the
 * application installed globally re-serializes nothing here: these are the signed bytes).
 */
interface Recording {
  chunks: Buffer[]
  size: number
  /** Past the limit, or started after bytes were already buffered: unusable. */
  lost: 'too-large' | 'missed' | undefined
}

type Recorded = IncomingMessage & { [RECORDING]?: Recording }

/**
 * Starts keeping the request body (up to `limit` bytes) as Node's HTTP parser pushes it into the
 * request stream. Must run before anything reads the body: `useBetterAuth` puts it first.
 */
export function recordRawBody(request: IncomingMessage, limit: number): void {
  const recorded = request as Recorded
  if (recorded[RECORDING] !== undefined) return
  const recording: Recording = {
    chunks: [],
    size: 0,
    lost: request.readableLength > 0 ? 'missed' : undefined,
  }
  recorded[RECORDING] = recording
  const push = request.push.bind(request)
  request.push = (chunk: unknown, encoding?: BufferEncoding) => {
    if (Buffer.isBuffer(chunk) && recording.lost === undefined) {
      recording.size += chunk.length
      if (recording.size > limit) {
        recording.lost = 'too-large'
        recording.chunks = []
      } else {
        recording.chunks.push(chunk)
      }
    }
    return push(chunk, encoding)
  }
}

export type RawBody =
  | { readonly kind: 'unread' }
  | { readonly kind: 'recorded'; readonly chunks: readonly Buffer[]; readonly size: number }
  | { readonly kind: 'too-large' }
  | { readonly kind: 'lost' }

/** The body still to read, or what was kept of a body another middleware already read. */
export function rawBodyOf(request: IncomingMessage): RawBody {
  if (!request.readableEnded && request.readableFlowing === null) return { kind: 'unread' }
  const recording = (request as Recorded)[RECORDING]
  if (recording === undefined || recording.lost === 'missed' || !request.readableEnded) {
    return { kind: 'lost' }
  }
  if (recording.lost === 'too-large') return { kind: 'too-large' }
  return { kind: 'recorded', chunks: recording.chunks, size: recording.size }
}
