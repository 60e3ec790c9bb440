/// <reference types="node" />
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { JsonValue } from '@better-auth/protocol'
import type { AccessHandler, BetterAuthHttp, HttpAnswer } from '../http/handler.js'
import type { RequestBody } from '../http/body.js'
import type { RequestClient } from '../http/client-address.js'

/** Connect-style continuation: Express and Connect pass one; plain `node:http` does not. */
export type Next = (error?: unknown) => void

/** The body parts of a Node request; the stream is read only by an answer that needs it. */
export function nodeBody(request: IncomingMessage): RequestBody {
  return {
    contentType: request.headers['content-type'],
    contentLength: request.headers['content-length'],
    stream: request,
  }
}

/** The connection of a Node request: its socket's peer address and its headers. */
export function nodeClient(request: IncomingMessage): RequestClient {
  return {
    remoteAddress: request.socket?.remoteAddress,
    header: (name) => {
      const value = request.headers[name.toLowerCase()]
      return Array.isArray(value) ? value[0] : value
    },
  }
}

export function pathnameOf(request: IncomingMessage): string {
  const url = request.url ?? '/'
  const query = url.indexOf('?')
  return query < 0 ? url : url.slice(0, query)
}

export function sendAnswer(response: ServerResponse, answer: HttpAnswer): void {
  // Unread bytes past the limit are not drained: the connection closes instead.
  if (answer.status === 413) response.setHeader('connection', 'close')
  response.writeHead(answer.status, {
    ...answer.headers,
    'content-type': `${answer.contentType}; charset=utf-8`,
  })
  response.end(answer.body)
}

/**
 * A `(req, res, next?)` handler for `node:http`, Express or Connect: answers the protocol routes;
 * anything else goes to `next`, or without one gets 404 with a BA body, its body never read.
 */
export function toNodeHandler(
  http: BetterAuthHttp,
): (request: IncomingMessage, response: ServerResponse, next?: Next) => void {
  return (request, response, next) => {
    const pathname = pathnameOf(request)
    const route = http.match(request.method ?? 'GET', pathname)
    if (route === undefined) {
      if (next !== undefined) next()
      else sendAnswer(response, http.notFound(request.method ?? 'GET', pathname))
      return
    }
    void http
      .serve(route, nodeBody(request), nodeClient(request))
      .then((answer) => sendAnswer(response, answer))
  }
}

/**
 * An access route for `node:http`: verifies the request, runs `handler` with the verified request
 * and answers what it returns, signed.
 */
export function nodeAccess<R = JsonValue>(
  http: BetterAuthHttp,
  handler: AccessHandler<R, IncomingMessage>,
): (request: IncomingMessage, response: ServerResponse) => void {
  // Fails at wiring time, not on the first request, when the verifier cannot answer.
  http.access(() => null)
  return (request, response) => {
    void http
      .answerAccess(nodeBody(request), handler, request)
      .then((answer) => sendAnswer(response, answer))
  }
}
