import { Readable } from 'node:stream'
import type { RequestBody } from '@better-auth/server/http'
import type { FastifyRequest } from 'fastify'

/**
 * The body of a fastify request as the core reads it: the payload stream fastify hands to
 * preParsing hooks and content-type parsers (the request stream itself, unless an earlier
 * preParsing hook replaced it), with the request's headers.
 */
export function fastifyBody(request: FastifyRequest, stream: RequestBody['stream']): RequestBody {
  return {
    contentType: request.headers['content-type'],
    contentLength: request.headers['content-length'],
    stream,
  }
}

// The whole body fastify's parser reads on a verified access route: the route's first
// preValidation hook replaces what it parses with the data exactly as the verifier read it, so
// parsing the data a second time would be wasted work on every request.
const STAND_IN = Buffer.from('{}')

/**
 * The payload stream a verified access request hands fastify's content-type parser, in the shape
 * fastify asks of a preParsing hook that replaces the body (as a decompressing hook does): it
 * reports the length actually received, which fastify compares with content-length. A class
 * rather than a per-request `read` closure: this runs on every access request.
 */
export class VerifiedBody extends Readable {
  readonly receivedEncodedLength: number

  constructor(receivedLength: number) {
    super()
    this.receivedEncodedLength = receivedLength
  }

  override _read(): void {
    this.push(STAND_IN)
    this.push(null)
  }
}
