import { ConfigurationError, type JsonValue, type ProtocolName } from '@better-auth/protocol'
import type { AccessVerifier, BetterAuthServer, VerifiedAccess } from '@better-auth/server'
import type { RateLimiter } from '@better-auth/server'
import {
  BetterAuthHttp,
  readBodyThen,
  type BetterAuthHttpOptions,
  type HttpAnswer,
} from '@better-auth/server/http'
import { nodeClient } from '@better-auth/server/node'
import type {
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  RouteHandlerMethod,
  RouteOptions,
  preParsingHookHandler,
} from 'fastify'
import fp from 'fastify-plugin'
import type { Readable } from 'node:stream'
import { VerifiedBody, fastifyBody } from './body.js'
import { logFailure, sendError } from './errors.js'

export type AccessRouteMode = 'access' | 'access-text'

function isAccessRoute(mode: unknown): mode is AccessRouteMode {
  return mode === 'access' || mode === 'access-text'
}

/**
 * The operations routes (health, readiness, metrics, admin), the key set route and tracing, as the
 * core takes them.
 */
export type OperationsOptions = Pick<
  BetterAuthHttpOptions,
  | 'health'
  | 'healthPath'
  | 'readiness'
  | 'readinessPath'
  | 'metrics'
  | 'metricsPath'
  | 'tracer'
  | 'admin'
  | 'keySet'
  | 'keySetPath'
>

export interface BetterAuthPluginOptions extends OperationsOptions {
  readonly server: BetterAuthServer
  /** Required when any route sets `config: { betterAuth: 'access' }`. */
  readonly accessVerifier?: AccessVerifier
  /** Prefix of the protocol routes (default none: `/account/create`, …). */
  readonly prefix?: string
  /** Overrides of individual protocol paths. */
  readonly paths?: Partial<Record<ProtocolName, string>>
  /** Where the response public key is served as text; `false` to not serve it. */
  readonly responseKeyPath?: string | false
  /** Largest accepted body in bytes (default 64 KiB). */
  readonly bodyLimit?: number
  /** Rate limits of the protocol routes (`CounterRateLimiter`); off when omitted. */
  readonly rateLimit?: RateLimiter
  /** Proxies whose `X-Forwarded-For` names the client (default none: the socket's peer). */
  readonly trustedProxies?: readonly string[]
}

export interface BetterAuthDecorator {
  readonly server: BetterAuthServer
  readonly accessVerifier: AccessVerifier | undefined
  /** Verifies a raw access request; for routes that do not use the route option. */
  verifyAccess(message: string): Promise<VerifiedAccess>
  verifyAccess(
    message: string,
    options: { readonly request: 'text' },
  ): Promise<VerifiedAccess<string>>
  /** Signs application data as the response to a verified access request. */
  signResponse(nonce: string, response: JsonValue): Promise<string>
}

declare module 'fastify' {
  interface FastifyInstance {
    betterAuth: BetterAuthDecorator
  }
  interface FastifyRequest {
    /** Set on routes with `config: { betterAuth: 'access' }` once the request verified. */
    betterAuth: VerifiedAccess | null
  }
  interface FastifyContextConfig {
    /**
     * `'access'`: a verified access route, `request.body` the application data. `'access-text'`:
     * the same, but `request.body` is the exact JSON text of the data, for routes that read
     * numbers a double cannot hold (the default refuses them with BA101).
     */
    betterAuth?: AccessRouteMode
  }
}

function validate(options: BetterAuthPluginOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError('options', 'must be an object')
  }
  if (typeof options.server?.handle !== 'function') {
    throw new ConfigurationError('server', 'must be a BetterAuthServer')
  }
  if (options.accessVerifier !== undefined && typeof options.accessVerifier.verify !== 'function') {
    throw new ConfigurationError('accessVerifier', 'must be an AccessVerifier')
  }
}

const betterAuthPlugin: FastifyPluginAsync<BetterAuthPluginOptions> = async (fastify, options) => {
  validate(options)
  const { server, accessVerifier } = options
  // The framework-neutral core: it reads bodies (content type, limit while streaming, UTF-8),
  // serves the protocol routes and maps failures to the protocol's error answers.
  const http = new BetterAuthHttp({
    server,
    access: accessVerifier,
    prefix: options.prefix,
    paths: options.paths,
    responseKeyPath: options.responseKeyPath,
    bodyLimit: options.bodyLimit,
    onError: (failure) => logFailure(fastify.log, failure),
    rateLimit: options.rateLimit,
    trustedProxies: options.trustedProxies,
    health: options.health,
    healthPath: options.healthPath,
    readiness: options.readiness,
    readinessPath: options.readinessPath,
    metrics: options.metrics,
    metricsPath: options.metricsPath,
    tracer: options.tracer,
    admin: options.admin,
    keySet: options.keySet,
    keySetPath: options.keySetPath,
  })

  const decorator: BetterAuthDecorator = {
    server,
    accessVerifier,
    verifyAccess(message: string, options?: { readonly request: 'text' }) {
      if (accessVerifier === undefined) {
        return Promise.reject(new ConfigurationError('accessVerifier', 'is not configured'))
      }
      return options === undefined
        ? accessVerifier.verify(message)
        : accessVerifier.verify(message, options)
    },
    signResponse: (nonce, response) => server.accessResponse(nonce, response),
  }
  fastify.decorate('betterAuth', decorator)
  fastify.decorateRequest('betterAuth', null)
  // Here rather than on each access route: fastify runs a route's own hooks after those of its
  // context, so a preValidation hook the application adds after registering this plugin would
  // otherwise read fastify's stand-in body.
  fastify.addHook('preValidation', verifiedBody)

  fastify.addHook('onRoute', (route) => {
    const mode = route.config?.betterAuth
    if (mode === undefined) return
    if (!isAccessRoute(mode)) {
      throw new ConfigurationError(
        'betterAuth',
        `must be 'access' or 'access-text' on ${route.url}`,
      )
    }
    if (accessVerifier === undefined) {
      throw new ConfigurationError('accessVerifier', `is required by access route ${route.url}`)
    }
    asAccessRoute(route, http, decorator, mode)
  })
  // A route declared before this plugin loaded (ahead of `register`, or right after it without
  // `await`) never passed through onRoute, so nothing would verify it. Hooks added here still
  // reach such routes: refuse their requests rather than serve them unverified.
  fastify.addHook('onRequest', (request, _reply, done) => {
    const { config, url } = request.routeOptions
    if (isAccessRoute(config.betterAuth) && (config as unknown as Marked)[ACCESS_ROUTE] !== true) {
      done(
        new ConfigurationError(
          'betterAuth',
          `access route ${url ?? ''} was declared before @better-auth/fastify loaded; ` +
            'await app.register(betterAuth, …) before declaring access routes',
        ),
      )
      return
    }
    done()
  })

  // Protocol routes live in their own context, so their parser does not change how the
  // application's own routes parse bodies: it hands the core the request stream unread, and the
  // core reads it (content type, limit, UTF-8) and answers.
  await fastify.register((routes, _options, done) => {
    routes.removeAllContentTypeParsers()
    routes.addContentTypeParser('*', (_request, payload, parsed) => parsed(null, payload))
    routes.setErrorHandler((error, request, reply) => sendError(error, request, reply))
    for (const { method, path: url } of http.routes()) {
      // A subtree (the admin routes) is matched per request; every other path once, here.
      const fixed = url.endsWith('/*') ? undefined : http.match(method, url)
      routes.route({
        method,
        url,
        handler: async (request, reply) => {
          const pathname = request.url.split('?')[0]!
          const route = fixed ?? http.match(method, pathname)
          if (route === undefined) return sendAnswer(reply, http.notFound(method, pathname))
          return sendAnswer(
            reply,
            await http.serve(
              route,
              fastifyBody(request, (request.body as Readable) ?? null),
              nodeClient(request.raw),
            ),
          )
        },
      })
    }
    done()
  })
}

function sendAnswer(reply: FastifyReply, answer: HttpAnswer): FastifyReply {
  // Unread bytes past the limit are not drained: the connection closes instead.
  if (answer.status === 413) reply.header('connection', 'close')
  if (answer.headers !== undefined) reply.headers(answer.headers)
  return reply.code(answer.status).type(answer.contentType).send(answer.body)
}

// Marks the config of the routes asAccessRoute set up; requests to any other access route are
// refused (see the onRequest hook).
const ACCESS_ROUTE = Symbol('better-auth.access-route')
type Marked = Partial<Record<typeof ACCESS_ROUTE, true>>

/**
 * Access routes keep fastify's whole lifecycle, so application hooks run as on any route. The
 * route's last preParsing hook hands the request stream to the core, which reads it (content
 * type, body limit while streaming, strict UTF-8: signatures cover the received bytes), and
 * verifies it; fastify's parser then gets a stand-in body, since the envelope was parsed once, by
 * the verifier. The plugin's preValidation hook (`verifiedBody`) makes `request.body` the verified
 * data exactly as the verifier read it, so body schemas, the application's preValidation hooks and
 * preHandler hooks all see the verified request. The handler's return value is signed as the response.
 */
function asAccessRoute(
  route: RouteOptions,
  http: BetterAuthHttp,
  betterAuth: BetterAuthDecorator,
  mode: AccessRouteMode,
) {
  const verify =
    mode === 'access-text'
      ? (message: string) => betterAuth.verifyAccess(message, TEXT)
      : (message: string) => betterAuth.verifyAccess(message)
  const preParsing = route.preParsing === undefined ? [] : [route.preParsing].flat()
  route.preParsing = [
    ...preParsing,
    // Callbacks rather than an async hook and the core's readBody promise: each promise turn
    // showed in the CPU per request (bench/RESULTS.md), and this runs on every access request.
    ((request, _reply, payload, done) => {
      // Failures reach it as rejections, typed unknown; fastify maps whatever it is given.
      const fail = done as (error: unknown) => void
      readBodyThen(fastifyBody(request, payload), http.bodyLimit, (error, message) => {
        if (error !== null) {
          done(error)
          return
        }
        verify(message).then((verified) => {
          request.betterAuth = verified
          done(null, new VerifiedBody(Buffer.byteLength(message)))
        }, fail)
      })
    }) satisfies preParsingHookHandler,
  ]
  route.errorHandler ??= (error, request, reply) => {
    sendError(error, request, reply)
  }
  const handler = route.handler
  route.handler = async function (
    this: FastifyInstance,
    request: FastifyRequest,
    reply: FastifyReply,
  ) {
    const result: unknown = (handler as RouteHandlerMethod).call(this, request, reply)
    // Synchronous handlers (the common case) cost no extra await.
    const data = (isPromiseLike(result) ? await result : result) as JsonValue | undefined
    if (reply.sent) return reply
    const { nonce } = request.betterAuth!
    // A handler that returns nothing answers null: undefined has no JSON form.
    const response = await betterAuth.signResponse(nonce, data ?? null)
    return reply.type('application/json').send(response)
  }
  // fastify copies the config, symbol keys included, into what request.routeOptions reads.
  route.config = Object.assign({}, route.config, { [ACCESS_ROUTE]: true })
}

const TEXT = { request: 'text' } as const

/**
 * A preValidation hook of every route in the plugin's scope, ahead of those added after it: on a
 * verified access route, `request.body` becomes the application data exactly as the verifier read it, in place of
 * what fastify's parser made of the stand-in; other routes keep their body.
 */
function verifiedBody(request: FastifyRequest, _reply: FastifyReply, done: () => void): void {
  const verified = request.betterAuth
  if (verified !== null) request.body = verified.request
  done()
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

export const betterAuth = fp(betterAuthPlugin, { fastify: '5.x', name: '@better-auth/fastify' })
