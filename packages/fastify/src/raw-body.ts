import { Readable } from 'node:stream'
import { InvalidMessageError, decodeUtf8 } from '@better-auth/protocol'
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

// What fastify's content-type parser gets on access routes: the envelope is verified from the
// captured text and `request.body` replaced before validation, so parsing it again is wasted work.
const STAND_IN = Buffer.from('{}')

/**
 * A stream of the stand-in body that reports the length actually received, which fastify checks
 * against content-length.
 */
class StandIn extends Readable {
  receivedEncodedLength: number
  #pushed = false

  constructor(receivedLength: number) {
    super()
    this.receivedEncodedLength = receivedLength
  }

  override _read(): void {
    if (!this.#pushed) {
      this.#pushed = true
      this.push(STAND_IN)
    }
    this.push(null)
  }
}

/**
 * Keeps the exact request text for signature verification (signatures cover received bytes) and
 * hands fastify a stand-in body, so the content-type check still applies but the envelope is not
 * parsed twice. Listens to the request stream directly rather than through an async iterator: this
 * runs on every access request.
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
      let text: string
      try {
        // Not body.toString(): it replaces invalid UTF-8 with U+FFFD, and the signature must
        // verify exactly the bytes received.
        text = decodeUtf8(body)
      } catch (decodeError) {
        done(decodeError as Error)
        return
      }
      ;(request as WithRawBody)[RAW_BODY] = text
      done(null, new StandIn(size))
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
