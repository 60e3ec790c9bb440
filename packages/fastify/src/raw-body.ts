import { Readable } from 'node:stream'
import { InvalidMessageError } from '@better-auth/protocol'
import type { FastifyRequest, preParsingHookHandler } from 'fastify'

const RAW_BODY = Symbol('better-auth.rawBody')

interface WithRawBody {
  [RAW_BODY]?: string
}

class BodyTooLargeError extends InvalidMessageError {
  readonly statusCode = 413
  constructor(limit: number) {
    super('message', `body larger than ${limit} bytes`)
  }
}

/** Replays one buffer as a stream, with the length fastify checks against content-length. */
class Replay extends Readable {
  receivedEncodedLength: number
  #body: Buffer | null

  constructor(body: Buffer) {
    super()
    this.#body = body
    this.receivedEncodedLength = body.length
  }

  override _read(): void {
    const body = this.#body
    this.#body = null
    if (body !== null && body.length > 0) this.push(body)
    this.push(null)
  }
}

/**
 * Keeps the exact request text for signature verification (signatures cover received bytes),
 * then hands fastify an identical stream so its own parsers still run. Listens to the request
 * stream directly rather than through an async iterator: this runs on every access request.
 */
export function captureRawBody(limit: number): preParsingHookHandler {
  return (request, reply, payload, done) => {
    const chunks: Buffer[] = []
    let size = 0
    let finished = false
    const finish = (error: Error | null) => {
      if (finished) return
      finished = true
      payload.removeListener('data', onData)
      payload.removeListener('end', onEnd)
      payload.removeListener('error', onError)
      if (error !== null) {
        done(error)
        return
      }
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)
      ;(request as WithRawBody)[RAW_BODY] = body.toString('utf8')
      done(null, new Replay(body))
    }
    const onData = (chunk: Buffer | string) => {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
      size += buffer.length
      if (size > limit) {
        // Read no further: answer 413 and close the connection, as fastify does for its parsers.
        payload.pause()
        reply.header('connection', 'close')
        finish(new BodyTooLargeError(limit))
        return
      }
      chunks.push(buffer)
    }
    const onEnd = () => finish(null)
    const onError = (error: Error) => finish(error)
    payload.on('data', onData)
    payload.on('end', onEnd)
    payload.on('error', onError)
  }
}

export function rawBodyOf(request: FastifyRequest): string | undefined {
  return (request as WithRawBody)[RAW_BODY]
}
