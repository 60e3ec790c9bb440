import { Readable } from 'node:stream'
import { InvalidMessageError } from '@better-auth/protocol'
import type { FastifyRequest, preParsingAsyncHookHandler } from 'fastify'

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

/**
 * Keeps the exact request text for signature verification (signatures cover received bytes),
 * then hands fastify an identical stream so its own parsers still run.
 */
export function captureRawBody(limit: number): preParsingAsyncHookHandler {
  return async (request, _reply, payload) => {
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of payload as AsyncIterable<Buffer | string>) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
      size += buffer.length
      if (size > limit) throw new BodyTooLargeError(limit)
      chunks.push(buffer)
    }
    const body = Buffer.concat(chunks)
    ;(request as WithRawBody)[RAW_BODY] = body.toString('utf8')
    const replay = Readable.from([body]) as Readable & { receivedEncodedLength?: number }
    replay.receivedEncodedLength = body.length
    return replay
  }
}

export function rawBodyOf(request: FastifyRequest): string | undefined {
  return (request as WithRawBody)[RAW_BODY]
}
