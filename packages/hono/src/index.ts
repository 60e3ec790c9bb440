/**
 * The Hono routes and access middleware of better-auth.
 *
 * @module @better-auth/hono
 */
import { ConfigurationError, type JsonValue } from '@better-auth/protocol'
import type { VerifiedAccess } from '@better-auth/server'
import {
  readBody,
  toResponse,
  webBody,
  webClient,
  type BetterAuthHttp,
} from '@better-auth/server/http'
import type { Context, MiddlewareHandler, NotFoundHandler } from 'hono'

/** What `access()` sets on the context: `c.get('betterAuth')`. */
export interface AccessVariables<R = JsonValue> {
  betterAuth: VerifiedAccess<R>
}

export interface BetterAuthOptions {
  /**
   * The peer address of the request's connection, for per-address rate limits. Hono has no
   * runtime-neutral way to tell it: the default reads `@hono/node-server`'s `c.env.incoming`; on
   * Bun or Deno pass e.g. `getConnInfo(c).remote.address` from their `hono/bun` or `hono/deno`.
   */
  readonly remoteAddress?: (c: Context) => string | undefined
}

/**
 * Answers the protocol routes and the response key; every other request goes on to the next
 * handler untouched. `app.use(betterAuth(http))`.
 */
export function betterAuth(
  http: BetterAuthHttp,
  options: BetterAuthOptions = {},
): MiddlewareHandler {
  const remoteAddress = options.remoteAddress ?? nodeServerAddress
  return async (c, next) => {
    const route = http.match(c.req.method, c.req.path)
    if (route === undefined) {
      await next()
      return
    }
    const client = webClient(c.req.raw, { remoteAddress: remoteAddress(c) })
    return toResponse(await http.serve(route, webBody(c.req.raw), client))
  }
}

/** `@hono/node-server` puts the Node request in `c.env.incoming`. */
function nodeServerAddress(c: Context): string | undefined {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: unknown } } } | undefined
  const address = env?.incoming?.socket?.remoteAddress
  return typeof address === 'string' ? address : undefined
}

/** 404 with the protocol's BA101 body, the request body unread: `app.notFound(notFound(http))`. */
export function notFound(http: BetterAuthHttp): NotFoundHandler {
  return (c) => toResponse(http.notFound(c.req.method, c.req.path))
}

/**
 * Access middleware in the shape of Hono's `jwt()`: verifies the request from its raw bytes (read
 * within the body limit), sets the verified access as `c.get('betterAuth')` and, once the handler
 * answered with JSON (`c.json(data)`), replaces that answer with the signed access response that
 * echoes the nonce. Any other answer (an error status, a redirect, text) goes out as it is,
 * unsigned. A failed verification is answered with the protocol error; the handler never runs.
 */
export function access<R = JsonValue>(
  http: BetterAuthHttp,
): MiddlewareHandler<{ Variables: AccessVariables<R> }> {
  // Fails at wiring time, not on the first request, when the verifier cannot answer.
  http.access(() => null)
  const verifier = http.accessVerifier!
  return async (c, next) => {
    let verified: VerifiedAccess<R>
    try {
      verified = await verifier.verify<R>(await rawText(c, http.bodyLimit))
    } catch (error) {
      return toResponse(http.fail(error))
    }
    c.set('betterAuth', verified)
    await next()
    if (c.error !== undefined || !c.res.ok || !isJson(c.res)) return
    try {
      const data = (await c.res.json()) as JsonValue
      c.res = toResponse({
        status: 200,
        contentType: 'application/json',
        body: await verifier.respond(verified.nonce, data),
      })
    } catch (error) {
      c.res = toResponse(http.fail(error))
    }
  }
}

async function rawText(c: Context, limit: number): Promise<string> {
  if (c.req.raw.bodyUsed) {
    // Hono re-serializes a body an earlier middleware parsed: those bytes are not what was signed.
    throw new ConfigurationError(
      'body',
      'was read before the access middleware ran; mount access() before body-parsing middleware',
    )
  }
  return readBody(webBody(c.req.raw), limit)
}

function isJson(response: Response): boolean {
  return response.headers.get('content-type')?.startsWith('application/json') === true
}
