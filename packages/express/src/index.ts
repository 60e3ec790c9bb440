/**
 * The Express router and access middleware of better-auth.
 *
 * @module @better-auth/express
 */
import { ConfigurationError, type JsonValue } from '@better-auth/protocol'
import type { VerifiedAccess } from '@better-auth/server'
import {
  HttpRefusal,
  checkContentType,
  decodeBody,
  readBody,
  tooLarge,
  type BetterAuthHttp,
} from '@better-auth/server/http'
import { nodeBody, sendAnswer, toNodeHandler } from '@better-auth/server/node'
import type { Application, ErrorRequestHandler, Request, RequestHandler } from 'express'
import { rawBodyOf, recordRawBody } from './raw-body.js'

declare global {
  // Express's own augmentation point for its Request type.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by `access(http)` once the request verified. */
      betterAuth?: VerifiedAccess
    }
  }
}

/**
 * The protocol routes and the response key as one middleware; every other request goes on, its
 * body kept as received (up to the body limit) for `access()`. It must run before any body parser:
 * `useBetterAuth(app, http)` puts it first.
 */
export function betterAuth(http: BetterAuthHttp): RequestHandler {
  const protocol = toNodeHandler(http)
  return (request, response, next) => {
    recordRawBody(request, http.bodyLimit)
    protocol(request, response, next)
  }
}

/**
 * Mounts `betterAuth(http)` at the front of the app's middleware stack, ahead of body parsers such
 * as `express.json()` whether they were installed before or after, so access routes verify the
 * bytes the client signed, never a re-serialization of `req.body`.
 */
export function useBetterAuth(app: Application, http: BetterAuthHttp): void {
  app.use(betterAuth(http))
  const stack = (app as unknown as { router: { stack: unknown[] } }).router.stack
  stack.unshift(stack.pop())
}

/**
 * Access middleware: verifies the request from its raw bytes, sets `req.betterAuth` (and `req.body`
 * to the verified application data), and signs what the handler sends with `res.json(data)`,
 * echoing the nonce. A failed verification is answered with the protocol error; the handler never
 * runs. Anything the handler sends otherwise (`res.status(403).json(…)`, `res.send`) goes out
 * unsigned.
 */
export function access<R = JsonValue>(http: BetterAuthHttp): RequestHandler {
  // Fails at wiring time, not on the first request, when the verifier cannot answer.
  http.access(() => null)
  const verifier = http.accessVerifier!
  return (request, response, next) => {
    void (async () => {
      let verified: VerifiedAccess<R>
      try {
        verified = await verifier.verify<R>(await rawText(request, http.bodyLimit))
      } catch (error) {
        sendAnswer(response, http.fail(error))
        return
      }
      request.betterAuth = verified as VerifiedAccess
      request.body = verified.request
      const json = response.json.bind(response)
      response.json = (data: unknown) => {
        if (response.statusCode >= 300) return json(data)
        verifier.respond(verified.nonce, (data ?? null) as JsonValue).then(
          (signed) => response.type('application/json').send(signed),
          (error: unknown) => sendAnswer(response, http.fail(error)),
        )
        return response
      }
      next()
    })()
  }
}

/** 404 with a BA101 body for whatever no route answered: `app.use(notFound(http))`, last. */
export function notFound(http: BetterAuthHttp): RequestHandler {
  return (request, response) => {
    sendAnswer(response, http.notFound(request.method, request.path))
  }
}

/**
 * Answers body-parser failures that reach it (a body parser installed globally refusing an access
 * request's body: too large, malformed) with the protocol error body; other errors go on.
 */
export function errorHandler(http: BetterAuthHttp): ErrorRequestHandler {
  return (error: unknown, _request, response, next) => {
    const parser = error as { type?: unknown; status?: unknown }
    if (typeof parser.type !== 'string' || typeof parser.status !== 'number') {
      next(error)
      return
    }
    const status = parser.status >= 400 && parser.status < 500 ? parser.status : 400
    sendAnswer(response, http.fail(new HttpRefusal(status, 'message', parser.type)))
  }
}

async function rawText(request: Request, limit: number): Promise<string> {
  const raw = rawBodyOf(request)
  switch (raw.kind) {
    case 'unread':
      return readBody(nodeBody(request), limit)
    case 'recorded':
      checkContentType(request.headers['content-type'])
      return decodeBody(raw.chunks, raw.size)
    case 'too-large':
      throw tooLarge(limit)
    case 'lost':
      throw new ConfigurationError(
        'body',
        'was read before better-auth could keep it; mount with useBetterAuth(app, http)',
      )
  }
}
