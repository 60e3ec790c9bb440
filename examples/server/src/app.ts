import {
  Blake3Hasher,
  DefaultIdentityVerifier,
  GzipTokenEncoder,
  NobleP256Verifier,
  Rfc3339Timestamper,
  SecureNoncer,
  WebCryptoP256Verifier,
} from '@better-auth/crypto'
import { NodeGzipTokenEncoder, NodeP256Verifier } from '@better-auth/crypto/node'
import { betterAuth, mapError } from '@better-auth/fastify'
import {
  ConfigurationError,
  DEFAULT_MAX_MESSAGE_LENGTH,
  InvalidMessageError,
  decodeUtf8,
  errorBody,
  type JsonObject,
  type Timestamper,
  type TokenEncoder,
  type Verifier,
} from '@better-auth/protocol'
import {
  AccessVerifier,
  BetterAuthServer,
  type ExpiryOptions,
  type RateLimiter,
} from '@better-auth/server'
import { readBody, type BetterAuthHttpOptions, type HttpTracer } from '@better-auth/server/http'
import { nodeBody } from '@better-auth/server/node'
import { PrometheusMetrics } from '@better-auth/server/metrics'
import type {
  RevocationFeed,
  ServerAccountEventStore,
  ServerAuthenticationKeyStore,
  SigningKey,
  VerificationKeyStore,
  ServerAuthenticationNonceStore,
  ServerRecoveryHashStore,
  ServerTimeLockStore,
} from '@better-auth/protocol'
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify'
import type { Readable } from 'node:stream'
import type { CryptoBackend } from './config.js'
import { ENDORSE_BODY_LIMIT, ENDORSE_PATH, type EndorsementRoute } from './endorsement.js'

export interface AppStores {
  readonly authenticationKey: ServerAuthenticationKeyStore
  readonly authenticationNonce: ServerAuthenticationNonceStore
  readonly recoveryHash: ServerRecoveryHashStore
  readonly accessKeyHash: ServerTimeLockStore
  readonly accessNonce: ServerTimeLockStore
  /** The account event log that `authenticationKey` records into. */
  readonly accountEvents?: ServerAccountEventStore
}

/** The keys a process signs with: an application service (ROLE=app) has no access key. */
export interface ProcessKeys {
  readonly response: SigningKey
  /** Without it the process serves no protocol routes, only access routes (verifier only). */
  readonly access?: SigningKey
}

export interface AppOptions {
  readonly keys: ProcessKeys
  /**
   * Access keys whose tokens are accepted (rotating keys: every replica's, from the shared key
   * set); default the server's own access key. Required without `keys.access`.
   */
  readonly accessVerificationKeys?: VerificationKeyStore
  /** The key set document served at `/key/set` (rotating keys); default not served. */
  readonly keySet?: () => Promise<string>
  /** Endorses application services' response keys at `/key/endorse` (auth service). */
  readonly endorsement?: EndorsementRoute
  /** Access requests check that the token's device is still active here (REVOCATION). */
  readonly devices?: Pick<ServerAuthenticationKeyStore, 'publicKey'>
  /** Where the auth service announces revoked devices (REVOCATION=feed). */
  readonly revocations?: RevocationFeed
  /** The Prometheus registry of `/metrics` (default a new one). */
  readonly metrics?: PrometheusMetrics
  readonly stores: AppStores
  readonly expiry?: Partial<ExpiryOptions>
  readonly corsOrigins?: readonly string[]
  readonly timestamper?: Timestamper
  readonly logger?: FastifyServerOptions['logger']
  /**
   * Which implementation verifies signatures and (de)compresses tokens: node (default, Node's
   * OpenSSL and zlib) or one of the portable ones, webcrypto or noble (with fflate for tokens).
   * The signing keys come with `keys`.
   */
  readonly crypto?: CryptoBackend
  /** Bounds on slow clients; see DEFAULT_TIMEOUTS. */
  readonly timeouts?: Partial<HttpTimeouts>
  /** Limits on the protocol routes (the executable always passes one unless RATE_LIMIT=off). */
  readonly rateLimit?: RateLimiter
  /** Reverse proxies whose `X-Forwarded-For` names the client (default none: the peer). */
  readonly trustedProxies?: readonly string[]
  /** The operator's bearer credential: given, the admin routes are served behind it. */
  readonly adminCredential?: string
  /** Hears every request (`logTracer`); default none. */
  readonly tracer?: HttpTracer
}

/** What the example serves beside the contract: health, readiness, metrics, tracing, admin. */
export type Operations = Pick<
  BetterAuthHttpOptions,
  'health' | 'readiness' | 'metrics' | 'tracer' | 'admin' | 'keySet'
>

/**
 * Health (`/health`), readiness (`/ready`, pinging every store), Prometheus metrics (`/metrics`)
 * and the tracer always; the admin routes (`/admin/…`) only with a credential.
 */
export function operations(options: AppOptions): Operations {
  return {
    health: true,
    readiness: { stores: { ...options.stores } },
    metrics: options.metrics ?? new PrometheusMetrics(),
    tracer: options.tracer,
    admin:
      options.adminCredential === undefined ? undefined : { credential: options.adminCredential },
    keySet: options.keySet,
  }
}

/** How long a client may take, in milliseconds, before its connection is cut. */
export interface HttpTimeouts {
  /** The whole request, headers and body (Node answers 408 and closes). */
  readonly requestMs: number
  /** The request headers alone. */
  readonly headersMs: number
  /** A connection with no traffic at all. */
  readonly idleMs: number
  /** How often Node checks requestMs and headersMs: a cut comes at most this late. */
  readonly checkIntervalMs: number
}

// A trickled body (one byte now and then) keeps a socket busy forever unless the whole request
// has a deadline: idle timeouts alone never fire. Protocol bodies are at most 64 KiB.
export const DEFAULT_TIMEOUTS: HttpTimeouts = {
  requestMs: 10_000,
  headersMs: 5_000,
  idleMs: 30_000,
  checkIntervalMs: 1_000,
}

/** The attributes every token of the interop contract carries. */
export const ATTRIBUTES: JsonObject = { permissionsByRole: { admin: ['read', 'write'] } }

const WRONG_NONCE = '0AAAAAAAAAAAAAAAAAAAAAAA'

interface FooBar {
  foo?: unknown
  bar?: unknown
}

/**
 * The server and its access verifier (which agrees with it by construction), for any framework;
 * without an access key, the access verifier alone (an application service).
 */
export function buildCore(options: AppOptions): {
  server: BetterAuthServer | undefined
  access: AccessVerifier
} {
  const hasher = new Blake3Hasher()
  const { verifier, tokenEncoder } = cryptoBackend(options.crypto ?? 'node')
  const timestamper = options.timestamper ?? new Rfc3339Timestamper()
  const { access: accessKey, response } = options.keys
  const { accessNonce } = options.stores
  let server: BetterAuthServer | undefined
  let access: AccessVerifier
  if (accessKey === undefined) {
    if (options.accessVerificationKeys === undefined) {
      throw new ConfigurationError('accessVerificationKeys', 'is required without an access key')
    }
    access = new AccessVerifier({
      crypto: { verifier, responseKey: response },
      encoding: { timestamper, tokenEncoder },
      stores: {
        accessNonce,
        accessVerificationKeys: options.accessVerificationKeys,
        devices: options.devices,
      },
      expiry: options.expiry,
    })
  } else {
    server = new BetterAuthServer({
      crypto: {
        hasher,
        noncer: new SecureNoncer(),
        verifier,
        keyPairs: { response, access: accessKey },
      },
      encoding: {
        timestamper,
        tokenEncoder,
        identityVerifier: new DefaultIdentityVerifier(hasher),
      },
      stores: { ...options.stores, accessVerificationKeys: options.accessVerificationKeys },
      expiry: options.expiry,
      attributes: () => ATTRIBUTES,
      revocations: options.revocations,
    })
    access = server.accessVerifier({ accessNonce, devices: options.devices })
  }
  return { server, access }
}

/** What `/foo/bar` answers for the verified application data. */
export function fooBarAnswer(request: unknown): JsonObject {
  const data = (request ?? {}) as FooBar
  return { wasFoo: (data.foo ?? null) as string, wasBar: (data.bar ?? null) as string }
}

/** The interop HTTP contract of spec/PROTOCOL.md on fastify. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { server, access: accessVerifier } = buildCore(options)
  if (server === undefined) {
    throw new ConfigurationError('FRAMEWORK', 'fastify serves the auth service only')
  }
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts }
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: 1024 * 1024,
    requestTimeout: timeouts.requestMs,
    connectionTimeout: timeouts.idleMs,
    http: {
      headersTimeout: timeouts.headersMs,
      connectionsCheckingInterval: timeouts.checkIntervalMs,
    },
    // Failures before routing (a malformed URL) get the protocol body too.
    frameworkErrors: (error, request, reply) => {
      void sendMappedError(error, request, reply)
    },
  })
  // Unknown routes are refused before fastify reads or parses their body.
  app.addHook('onRequest', (request, reply, done) => {
    if (!request.is404) {
      done()
      return
    }
    const error = new InvalidMessageError('path', `no route ${request.method} ${request.url}`)
    void reply
      .code(404)
      .type('application/json')
      .send(JSON.stringify(errorBody(error)))
  })
  app.setErrorHandler(sendMappedError)
  registerCors(app, options.corsOrigins ?? [])
  await app.register(betterAuth, {
    server,
    accessVerifier,
    rateLimit: options.rateLimit,
    trustedProxies: options.trustedProxies,
    ...operations(options),
  })

  const endorsement = options.endorsement
  if (endorsement !== undefined) {
    await app.register((route, _options, done) => {
      route.removeAllContentTypeParsers()
      // The stream is handed on unread: a stranger's body is never read (the credential is
      // checked first), and the core's readBody applies the type, the limit and UTF-8.
      route.addContentTypeParser('*', (_request, payload, parsed) => parsed(null, payload))
      route.post(ENDORSE_PATH, async (request, reply) => {
        const stream = (request.body as Readable | undefined) ?? null
        const answer = await endorsement.handle(request.headers.authorization, () =>
          readBody({ ...nodeBody(request.raw), stream }, ENDORSE_BODY_LIMIT),
        )
        // Unread bytes past the limit are not drained: the connection closes instead.
        if (answer.status === 413) reply.header('connection', 'close')
        return reply.code(answer.status).type('application/json').send(answer.body)
      })
      done()
    })
  }

  app.post('/foo/bar', { config: { betterAuth: 'access' } }, (request) => {
    const data = request.betterAuth!.request as FooBar
    return { wasFoo: data.foo ?? null, wasBar: data.bar ?? null }
  })

  // The same route, answering with a nonce that is not the request's: clients must refuse it.
  await app.register((badNonce, _options, done) => {
    badNonce.removeAllContentTypeParsers()
    badNonce.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: DEFAULT_MAX_MESSAGE_LENGTH },
      (_request, body, done) => done(null, body),
    )
    badNonce.post('/bad/nonce', async (request, reply) => {
      const verified = await app.betterAuth.verifyAccess(decodeUtf8(request.body as Buffer))
      const data = verified.request as FooBar
      const body = await server.accessResponse(WRONG_NONCE, {
        wasFoo: (data.foo ?? null) as string,
        wasBar: (data.bar ?? null) as string,
      })
      return reply.type('application/json').send(body)
    })
    badNonce.setErrorHandler((error, _request, reply) => {
      const mapped = mapError(error)
      return reply.code(mapped.status).type('application/json').send(JSON.stringify(mapped.body))
    })
    done()
  })

  return app
}

/** Fastify's own failures (FST_… bodies) never reach clients: every error gets the protocol body. */
function sendMappedError(error: unknown, request: FastifyRequest, reply: FastifyReply) {
  const mapped = mapError(error)
  if (!mapped.known) request.log.error({ err: error }, 'unexpected failure')
  return reply.code(mapped.status).type('application/json').send(JSON.stringify(mapped.body))
}

function cryptoBackend(backend: CryptoBackend): { verifier: Verifier; tokenEncoder: TokenEncoder } {
  switch (backend) {
    // Node's native crypto and zlib: the fastest backend in Node (see packages/crypto/README.md).
    case 'node':
      return { verifier: new NodeP256Verifier(), tokenEncoder: new NodeGzipTokenEncoder() }
    case 'webcrypto':
      return { verifier: new WebCryptoP256Verifier(), tokenEncoder: new GzipTokenEncoder() }
    case 'noble':
      return { verifier: new NobleP256Verifier(), tokenEncoder: new GzipTokenEncoder() }
  }
}

function registerCors(app: FastifyInstance, origins: readonly string[]): void {
  if (origins.length === 0) return
  const allowed = new Set(origins)
  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin
    if (origin === undefined || (!allowed.has(origin) && !allowed.has('*'))) return
    reply.header('access-control-allow-origin', origin)
    reply.header('vary', 'origin')
    if (request.method === 'OPTIONS') {
      reply.header('access-control-allow-methods', 'GET, POST, OPTIONS')
      reply.header('access-control-allow-headers', 'content-type')
      reply.header('access-control-max-age', '600')
      return reply.code(204).send()
    }
  })
  // Preflight requests reach no route otherwise.
  app.options('*', (_request, reply) => reply.code(204).send())
}
