import {
  ConfigurationError,
  DEFAULT_MAX_MESSAGE_LENGTH,
  decodeUtf8,
  protocols,
  type JsonValue,
  type ProtocolName,
} from '@better-auth/protocol'
import type { AccessVerifier, BetterAuthServer, VerifiedAccess } from '@better-auth/server'
import type {
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  RouteHandlerMethod,
  RouteOptions,
} from 'fastify'
import fp from 'fastify-plugin'
import { sendError } from './errors.js'
import { captureRawBody, rawBodyOf } from './raw-body.js'

export type AccessRouteMode = 'access' | 'access-text'

function isAccessRoute(mode: unknown): mode is AccessRouteMode {
  return mode === 'access' || mode === 'access-text'
}

export interface BetterAuthPluginOptions {
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

function validate(options: BetterAuthPluginOptions) {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError('options', 'must be an object')
  }
  if (typeof options.server?.handle !== 'function') {
    throw new ConfigurationError('server', 'must be a BetterAuthServer')
  }
  if (options.accessVerifier !== undefined && typeof options.accessVerifier.verify !== 'function') {
    throw new ConfigurationError('accessVerifier', 'must be an AccessVerifier')
  }
  const prefix = options.prefix ?? ''
  if (
    typeof prefix !== 'string' ||
    (prefix !== '' && (!prefix.startsWith('/') || prefix.endsWith('/')))
  ) {
    throw new ConfigurationError('prefix', "must be '' or start with '/' and not end with '/'")
  }
  const bodyLimit = options.bodyLimit ?? DEFAULT_MAX_MESSAGE_LENGTH
  if (!Number.isInteger(bodyLimit) || bodyLimit <= 0) {
    throw new ConfigurationError('bodyLimit', 'must be a positive integer')
  }
  const responseKeyPath = options.responseKeyPath ?? '/key/response'
  if (
    responseKeyPath !== false &&
    (typeof responseKeyPath !== 'string' || !responseKeyPath.startsWith('/'))
  ) {
    throw new ConfigurationError('responseKeyPath', "must start with '/' or be false")
  }
  return { prefix, bodyLimit, responseKeyPath }
}

const betterAuthPlugin: FastifyPluginAsync<BetterAuthPluginOptions> = async (fastify, options) => {
  const { prefix, bodyLimit, responseKeyPath } = validate(options)
  const { server, accessVerifier } = options

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
    asAccessRoute(route, decorator, bodyLimit, mode)
  })
  // A route declared before this plugin loaded (ahead of `register`, or right after it without
  // `await`) never passed through onRoute, so nothing would verify it. Hooks added here still
  // reach such routes: refuse their requests rather than serve them unverified.
  fastify.addHook('onRequest', (request, _reply, done) => {
    const { config, url } = request.routeOptions
    if (isAccessRoute(config.betterAuth) && (config as unknown as Marked)[WRAPPED] !== true) {
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

  // Protocol routes live in their own context: they read bodies as raw text whatever the
  // content type, without changing how the application's own routes parse theirs.
  await fastify.register((routes, _options, done) => {
    routes.removeAllContentTypeParsers()
    // Bytes, not fastify's string parsing: that replaces invalid UTF-8 with U+FFFD, and a
    // signature must verify exactly the bytes received.
    routes.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => {
      try {
        done(null, decodeUtf8(body as Buffer))
      } catch (error) {
        done(error as Error, undefined)
      }
    })
    routes.setErrorHandler((error, request, reply) => sendError(error, request, reply))
    for (const name of Object.keys(protocols) as ProtocolName[]) {
      const path = prefix + (options.paths?.[name] ?? protocols[name].path)
      routes.post(path, async (request, reply) => {
        const response = await server.handle(name, request.body as string)
        return reply.type('application/json').send(response)
      })
    }
    if (responseKeyPath !== false) {
      routes.route({
        method: ['GET', 'POST'],
        url: prefix + responseKeyPath,
        handler: async (_request, reply) =>
          reply.type('text/plain').send(await server.responsePublicKey()),
      })
    }
    done()
  })
}

// Marks the config of the routes asAccessRoute wrapped; requests to any other access route are
// refused.
const WRAPPED = Symbol('better-auth.wrapped')
type Marked = Partial<Record<typeof WRAPPED, true>>

/**
 * Access routes keep fastify's whole lifecycle, so application hooks run as on any route. The raw
 * body is captured in preParsing (signatures cover the received bytes) and fastify's parser gets a
 * stand-in instead of parsing the envelope a second time. The route's first preValidation hook
 * verifies the request, so body schemas, later preValidation hooks and preHandler hooks all see the
 * verified request: `request.body` is the envelope's `request` member and `request.betterAuth`
 * the token's claims and the nonce. The handler's return value is signed as the response.
 */
function asAccessRoute(
  route: RouteOptions,
  betterAuth: BetterAuthDecorator,
  bodyLimit: number,
  mode: AccessRouteMode,
) {
  const preParsing = route.preParsing === undefined ? [] : [route.preParsing].flat()
  route.preParsing = [...preParsing, captureRawBody(bodyLimit)]
  const preValidation = route.preValidation === undefined ? [] : [route.preValidation].flat()
  route.preValidation = [
    async (request: FastifyRequest) => {
      const message = rawBodyOf(request) ?? ''
      const verified =
        mode === 'access-text'
          ? await betterAuth.verifyAccess(message, { request: 'text' })
          : await betterAuth.verifyAccess(message)
      request.betterAuth = verified
      request.body = verified.request
    },
    ...preValidation,
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
  route.config = Object.assign({}, route.config, { [WRAPPED]: true })
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

export const betterAuth = fp(betterAuthPlugin, { fastify: '5.x', name: '@better-auth/fastify' })
