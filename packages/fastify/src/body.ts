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

/**
 * A payload stream of `text` for fastify's content-type parser, in the shape fastify asks of a
 * preParsing hook that transforms the body (as a decompressing hook does): it reports the length
 * actually received, which fastify compares with content-length.
 */
export function transformedBody(
  text: string,
  receivedLength: number,
): Readable & { receivedEncodedLength: number } {
  const stream = new Readable({ read() {} })
  stream.push(text)
  stream.push(null)
  return Object.assign(stream, { receivedEncodedLength: receivedLength })
}
