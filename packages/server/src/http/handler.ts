import {
  ConfigurationError,
  DEFAULT_MAX_MESSAGE_LENGTH,
  RateLimitedError,
  protocols,
  type ErrorCode,
  type JsonValue,
  type ProtocolName,
} from '@better-auth/protocol'
import type {
  AccessResult,
  AccessVerifier,
  AccessVerifyOptions,
  VerifiedAccess,
} from '../access-verifier.js'
import { identityOf } from '../rate-limit/identity.js'
import type { RateLimitVerdict, RateLimiter } from '../rate-limit/limiter.js'
import type { BetterAuthServer } from '../server.js'
import { checkStores, readinessTimeout } from '../operations/readiness.js'
import { startSpans, type HttpSpan, type HttpTracer } from '../operations/tracing.js'
import { AdminRoutes, type AdminRoutesOptions } from './admin-routes.js'
import { readBody, type RequestBody } from './body.js'
import {
  clientAddressResolver,
  type ClientAddressOptions,
  type RequestClient,
} from './client-address.js'
import { HttpRefusal, failureKind, mapError, type FailureKind } from './errors.js'
import { rateLimitHeaders } from './rate-limit-headers.js'

export interface BetterAuthHttpOptions extends ClientAddressOptions {
  /** Serves the protocol routes and the response key; omit it for a verifier-only deployment. */
  readonly server?: BetterAuthServer
  /** Verifies and answers access routes; give it the response key (`server.accessVerifier(…)`). */
  readonly access?: AccessVerifier
  /** Prefix of the protocol routes (default none: `/account/create`, …). */
  readonly prefix?: string
  /** Overrides of individual protocol paths (still under `prefix`). */
  readonly paths?: Partial<Record<ProtocolName, string>>
  /** Where the response public key is served as text; `false` to not serve it. */
  readonly responseKeyPath?: string | false
  /**
   * The key set document (`@better-auth/protocol/key-chain`: the server key chain and the
   * endorsed service keys) served at `keySetPath`, read on every request so a republished set is
   * served at once. Clients and services that pin the chain prefix fetch it.
   */
  readonly keySet?: () => string | Promise<string>
  /** Where the key set is served (default `/key/set`, under `prefix`). */
  readonly keySetPath?: string
  /** Largest accepted body in bytes (default 64 KiB), enforced while the body streams in. */
  readonly bodyLimit?: number
  /** Sees every failure that is answered, for logging. Never given a request body. */
  readonly onError?: (failure: Failure) => void
  /**
   * Limits the protocol routes per client address and per identity (`CounterRateLimiter`); off
   * when omitted. The client address is the connection's peer unless `trustedProxies` says
   * otherwise.
   */
  readonly rateLimit?: RateLimiter
  /** `GET /health` (liveness): 200 `{"status":"ok"}` while the process serves. Off by default. */
  readonly health?: boolean
  /** Where health is served (default `/health`, under `prefix`). */
  readonly healthPath?: string
  /**
   * `GET /ready` (readiness): pings every store (`ping`, one round trip each, at once) and
   * answers 200, or 503 naming the stores that failed by reason and BA code, never by a driver's
   * message. `true` checks the server's stores. Off by default.
   */
  readonly readiness?: boolean | ReadinessOptions
  /** Where readiness is served (default `/ready`, under `prefix`). */
  readonly readinessPath?: string
  /**
   * Metrics of every request (`PrometheusMetrics` from `@better-auth/server/metrics`), served at
   * `GET /metrics`. Off by default.
   */
  readonly metrics?: HttpMetrics
  /** Where metrics are served (default `/metrics`, under `prefix`). */
  readonly metricsPath?: string
  /** Hears the start and end of every request (tracing spans; see `HttpTracer`). */
  readonly tracer?: HttpTracer
  /**
   * The admin routes (devices, history, revoke a device, delete an account) behind the
   * operator's bearer credential. Absent, and never open, unless given.
   */
  readonly admin?: AdminRoutesOptions
}

export interface ReadinessOptions {
  /** The stores to ping, by name (default the server's stores). */
  readonly stores?: Readonly<Record<string, unknown>>
  /** Longest wait for each store, in ms (default 2 000): a frozen backend is a failed check. */
  readonly timeoutMs?: number
}

/** A metrics exporter the HTTP layer feeds (as a tracer) and serves. */
export interface HttpMetrics extends HttpTracer {
  /** The content type of `metrics()` (Prometheus text: `text/plain; version=0.0.4`). */
  readonly contentType: string
  /** The current metrics, in the exposition format. */
  metrics(): Promise<string>
}

export interface Failure {
  readonly error: unknown
  readonly kind: FailureKind
  readonly status: number
  readonly code: ErrorCode
}

/** A framework-neutral answer: adapters copy it onto their response object. */
export interface HttpAnswer {
  readonly status: number
  readonly contentType: string
  readonly body: string
  /** Further headers (`Retry-After`, `RateLimit`, …). */
  readonly headers?: Readonly<Record<string, string>>
}

export type HttpRoute =
  | { readonly kind: 'protocol'; readonly name: ProtocolName }
  | { readonly kind: 'key' }
  | { readonly kind: 'key-set' }
  | { readonly kind: 'health' }
  | { readonly kind: 'ready' }
  | { readonly kind: 'metrics' }
  /** Anything under the admin path: the credential is checked before the path is read. */
  | { readonly kind: 'admin'; readonly method: string; readonly pathname: string }

/** A path the HTTP layer answers; a trailing `/*` stands for everything below it. */
export interface MountedRoute {
  readonly method: 'GET' | 'POST' | 'DELETE'
  readonly path: string
}

/** What an access route's application code gets: the verified access and the request itself. */
export type AccessHandler<R, Q> = (
  access: VerifiedAccess<R>,
  request: Q,
) => AccessResult | Promise<AccessResult>

const JSON_TYPE = 'application/json'

/**
 * The better-auth HTTP layer, framework-neutral: the protocol routes, the response key, access
 * routes and the protocol's error answers. `fetch` is a complete `(Request) => Promise<Response>`
 * handler; adapters use `match`, `serve` and `answerAccess` on their own request objects.
 */
export class BetterAuthHttp {
  readonly bodyLimit: number
  readonly server: BetterAuthServer | undefined
  readonly accessVerifier: AccessVerifier | undefined
  readonly #routes = new Map<string, ProtocolName>()
  readonly #keyPath: string | undefined
  readonly #keySetPath: string | undefined
  readonly #keySet: (() => string | Promise<string>) | undefined
  readonly #onError: ((failure: Failure) => void) | undefined
  readonly #rateLimit: RateLimiter | undefined
  readonly #clientAddress: (client: RequestClient | undefined) => string | undefined
  readonly #healthPath: string | undefined
  readonly #readinessPath: string | undefined
  readonly #readiness: { stores: Readonly<Record<string, unknown>>; timeoutMs: number } | undefined
  readonly #metricsPath: string | undefined
  readonly #metrics: HttpMetrics | undefined
  readonly #tracers: readonly HttpTracer[]
  readonly #admin: AdminRoutes | undefined
  readonly #mounted: MountedRoute[] = []
  /** The failure behind each failed answer, for the spans that end with it. */
  readonly #failures = new WeakMap<HttpAnswer, Failure>()

  constructor(options: BetterAuthHttpOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new ConfigurationError('options', 'must be an object')
    }
    const { server, access } = options
    if (server !== undefined && typeof server.handle !== 'function') {
      throw new ConfigurationError('server', 'must be a BetterAuthServer')
    }
    if (access !== undefined && typeof access.verify !== 'function') {
      throw new ConfigurationError('access', 'must be an AccessVerifier')
    }
    if (server === undefined && access === undefined && options.keySet === undefined) {
      throw new ConfigurationError('server', 'or access or keySet is required')
    }
    if (options.keySet !== undefined && typeof options.keySet !== 'function') {
      throw new ConfigurationError('keySet', 'must be a function returning the key set document')
    }
    const keySetPath = options.keySetPath ?? '/key/set'
    if (typeof keySetPath !== 'string' || !keySetPath.startsWith('/')) {
      throw new ConfigurationError('keySetPath', "must start with '/'")
    }
    const prefix = options.prefix ?? ''
    if (
      typeof prefix !== 'string' ||
      (prefix !== '' && (!prefix.startsWith('/') || prefix.endsWith('/')))
    ) {
      throw new ConfigurationError('prefix', "must be '' or start with '/' and not end with '/'")
    }
    this.bodyLimit = options.bodyLimit ?? DEFAULT_MAX_MESSAGE_LENGTH
    if (!Number.isInteger(this.bodyLimit) || this.bodyLimit <= 0) {
      throw new ConfigurationError('bodyLimit', 'must be a positive integer')
    }
    const keyPath = options.responseKeyPath ?? '/key/response'
    if (keyPath !== false && (typeof keyPath !== 'string' || !keyPath.startsWith('/'))) {
      throw new ConfigurationError('responseKeyPath', "must start with '/' or be false")
    }
    this.server = server
    this.accessVerifier = access
    this.#onError = options.onError
    this.#keySet = options.keySet
    this.#keySetPath = options.keySet === undefined ? undefined : prefix + keySetPath
    if (options.rateLimit !== undefined && typeof options.rateLimit.consume !== 'function') {
      throw new ConfigurationError('rateLimit', 'must be a RateLimiter')
    }
    this.#rateLimit = options.rateLimit
    this.#clientAddress = clientAddressResolver(options)
    if (server !== undefined) {
      for (const name of Object.keys(protocols) as ProtocolName[]) {
        this.#routes.set(prefix + (options.paths?.[name] ?? protocols[name].path), name)
      }
      this.#keyPath = keyPath === false ? undefined : prefix + keyPath
      for (const path of this.#routes.keys()) this.#mounted.push({ method: 'POST', path })
      if (this.#keyPath !== undefined) {
        this.#mounted.push({ method: 'GET', path: this.#keyPath })
        this.#mounted.push({ method: 'POST', path: this.#keyPath })
      }
    }
    if (this.#keySetPath !== undefined) {
      this.#mounted.push({ method: 'GET', path: this.#keySetPath })
      this.#mounted.push({ method: 'POST', path: this.#keySetPath })
    }
    this.#healthPath =
      options.health === true
        ? prefix + routePath('healthPath', options.healthPath, '/health')
        : undefined
    if (options.readiness !== undefined && options.readiness !== false) {
      const readiness = options.readiness === true ? {} : options.readiness
      const stores =
        readiness.stores ??
        (server === undefined
          ? undefined
          : {
              ...server.stores,
              ...(options.rateLimit === undefined ? {} : { rateLimit: options.rateLimit }),
            })
      if (typeof stores !== 'object' || stores === null) {
        throw new ConfigurationError('readiness.stores', 'is required without a server')
      }
      this.#readiness = { stores, timeoutMs: readinessTimeout(readiness.timeoutMs) }
      this.#readinessPath = prefix + routePath('readinessPath', options.readinessPath, '/ready')
    }
    if (options.metrics !== undefined) {
      const { metrics } = options
      if (typeof metrics.metrics !== 'function' || typeof metrics.start !== 'function') {
        throw new ConfigurationError('metrics', 'must be an HttpMetrics (PrometheusMetrics)')
      }
      this.#metrics = metrics
      this.#metricsPath = prefix + routePath('metricsPath', options.metricsPath, '/metrics')
    }
    if (options.tracer !== undefined && typeof options.tracer.start !== 'function') {
      throw new ConfigurationError('tracer', 'must be an HttpTracer')
    }
    this.#tracers = [options.metrics, options.tracer].filter(
      (tracer): tracer is HttpTracer => tracer !== undefined,
    )
    for (const path of [this.#healthPath, this.#readinessPath, this.#metricsPath]) {
      if (path !== undefined) this.#mounted.push({ method: 'GET', path })
    }
    if (options.admin !== undefined) {
      this.#admin = new AdminRoutes(options.admin, server?.admin, prefix)
      for (const method of ['GET', 'DELETE'] as const) {
        this.#mounted.push({ method, path: `${this.#admin.path}/*` })
      }
    }
  }

  /**
   * Every path this layer answers, for frameworks that register routes one by one (fastify); a
   * path ending in `/*` stands for everything below it.
   */
  routes(): readonly MountedRoute[] {
    return this.#mounted
  }

  /** The protocol route a request is for, or undefined when it is not one of ours. */
  match(method: string, pathname: string): HttpRoute | undefined {
    if (method === 'POST') {
      const name = this.#routes.get(pathname)
      if (name !== undefined) return { kind: 'protocol', name }
    }
    if (method === 'GET' || method === 'POST') {
      if (pathname === this.#keyPath) return { kind: 'key' }
      if (pathname === this.#keySetPath) return { kind: 'key-set' }
    }
    if (method === 'GET') {
      if (pathname === this.#healthPath) return { kind: 'health' }
      if (pathname === this.#readinessPath) return { kind: 'ready' }
      if (pathname === this.#metricsPath) return { kind: 'metrics' }
    }
    if (this.#admin?.owns(pathname) === true) return { kind: 'admin', method, pathname }
    return undefined
  }

  /**
   * Answers a matched route; failures become the protocol error answer. `client` is the
   * connection the request came on (undefined when the runtime does not tell): the rate limits
   * count per its address.
   */
  async serve(
    route: HttpRoute,
    body: RequestBody,
    client: RequestClient | undefined,
  ): Promise<HttpAnswer> {
    const span = this.#startSpan(this.#routeName(route))
    return this.#ended(span, await this.#serve(route, body, client))
  }

  async #serve(
    route: HttpRoute,
    body: RequestBody,
    client: RequestClient | undefined,
  ): Promise<HttpAnswer> {
    if (route.kind === 'protocol') return this.#serveProtocol(route.name, body, client)
    try {
      switch (route.kind) {
        case 'key-set':
          return { status: 200, contentType: JSON_TYPE, body: await this.#keySet!() }
        case 'key':
          return {
            status: 200,
            contentType: 'text/plain',
            body: await this.server!.responsePublicKey(),
          }
        case 'health':
          return operational(200, { status: 'ok' })
        case 'ready': {
          const { stores, timeoutMs } = this.#readiness!
          const report = await checkStores(stores, timeoutMs)
          return operational(report.ready ? 200 : 503, {
            status: report.ready ? 'ready' : 'unavailable',
            stores: report.stores,
          })
        }
        case 'metrics':
          return {
            status: 200,
            // The answer's charset is added on the way out.
            contentType: this.#metrics!.contentType.replace(/;\s*charset=[^;]*/i, ''),
            body: await this.#metrics!.metrics(),
            headers: { 'cache-control': 'no-store' },
          }
        case 'admin':
          return await this.#serveAdmin(route.method, route.pathname, client)
      }
    } catch (error) {
      return this.fail(error)
    }
  }

  async #serveAdmin(
    method: string,
    pathname: string,
    client: RequestClient | undefined,
  ): Promise<HttpAnswer> {
    const admin = this.#admin!
    try {
      await admin.authorize(client?.header('authorization'))
    } catch (error) {
      const answer = this.fail(error)
      if (answer.status !== 401) return answer
      return this.#changed(answer, {
        headers: { 'www-authenticate': 'Bearer realm="better-auth-admin"' },
      })
    }
    try {
      const result = await admin.run(admin.operation(method, pathname))
      return operational(200, result)
    } catch (error) {
      const answer = this.fail(error)
      // An unknown account or device is a missing resource here: the operator is authenticated.
      const code = this.#failures.get(answer)?.code
      return code === 'BA102' || code === 'BA103' ? this.#changed(answer, { status: 404 }) : answer
    }
  }

  #withHeaders(answer: HttpAnswer, verdict: RateLimitVerdict | undefined): HttpAnswer {
    if (verdict === undefined || verdict.quotas.length === 0) return answer
    return this.#changed(answer, { headers: { ...answer.headers, ...rateLimitHeaders(verdict) } })
  }

  /** A copy of `answer` with `changes`, still known as the failure it answers. */
  #changed(answer: HttpAnswer, changes: Partial<HttpAnswer>): HttpAnswer {
    const changed = { ...answer, ...changes }
    const failure = this.#failures.get(answer)
    if (failure !== undefined) {
      this.#failures.set(changed, { ...failure, status: changed.status })
    }
    return changed
  }

  #routeName(route: HttpRoute): string {
    switch (route.kind) {
      case 'protocol':
        return route.name
      case 'admin':
        try {
          return this.#admin!.operation(route.method, route.pathname).name
        } catch {
          return 'admin'
        }
      default:
        return route.kind
    }
  }

  #startSpan(route: string): HttpSpan {
    return startSpans(this.#tracers, route)
  }

  #ended(span: HttpSpan, answer: HttpAnswer): HttpAnswer {
    const failure = this.#failures.get(answer)
    span.end(
      failure === undefined
        ? { status: answer.status, outcome: 'ok' }
        : { status: answer.status, outcome: failure.kind, code: failure.code },
    )
    return answer
  }

  async #serveProtocol(
    name: ProtocolName,
    body: RequestBody,
    client: RequestClient | undefined,
  ): Promise<HttpAnswer> {
    let verdict: RateLimitVerdict | undefined
    try {
      const message = await readBody(body, this.bodyLimit).catch(async (error: unknown) => {
        // A refused body still counts against its address.
        verdict = await this.#consume(name, undefined, client)
        throw error
      })
      verdict = await this.#consume(name, message, client)
      if (verdict !== undefined && !verdict.allowed) {
        throw new RateLimitedError(verdict.retryAfterSeconds)
      }
      const answer = await this.server!.handle(name, message)
      return this.#withHeaders({ status: 200, contentType: JSON_TYPE, body: answer }, verdict)
    } catch (error) {
      const answer = this.fail(error)
      if (verdict?.allowed === true && failureKind(error) === 'refused') {
        // The refusal is answered whatever happens here; a store outage only loses the surcharge.
        await this.#rateLimit!.fail(verdict).catch(() => undefined)
      }
      return this.#withHeaders(answer, verdict)
    }
  }

  #consume(
    route: ProtocolName,
    message: string | undefined,
    client: RequestClient | undefined,
  ): Promise<RateLimitVerdict> | undefined {
    return this.#rateLimit?.consume({
      route,
      address: this.#clientAddress(client),
      identity: message === undefined ? undefined : identityOf(message),
    })
  }

  /**
   * A whole access route: reads the body within the limit (or takes text a framework already read
   * as raw bytes), verifies it, runs `handler` with the verified request and signs what it returns.
   */
  async answerAccess<R, Q>(
    body: RequestBody | string,
    handler: AccessHandler<R, Q>,
    request: Q,
    options?: AccessVerifyOptions,
  ): Promise<HttpAnswer> {
    const span = this.#startSpan('access')
    return this.#ended(span, await this.#answerAccess(body, handler, request, options))
  }

  async #answerAccess<R, Q>(
    body: RequestBody | string,
    handler: AccessHandler<R, Q>,
    request: Q,
    options?: AccessVerifyOptions,
  ): Promise<HttpAnswer> {
    try {
      const access = this.#requireAccess()
      const message = typeof body === 'string' ? body : await readBody(body, this.bodyLimit)
      const signed = await access.answer<R>(
        message,
        (verified) => handler(verified, request),
        options,
      )
      return { status: 200, contentType: JSON_TYPE, body: signed }
    } catch (error) {
      return this.fail(error)
    }
  }

  /** The protocol error answer for any failure, reported to `onError`. */
  fail(error: unknown): HttpAnswer {
    const mapped = mapError(error)
    const failure: Failure = {
      error,
      kind: failureKind(error),
      status: mapped.status,
      code: mapped.body.error.code,
    }
    this.#onError?.(failure)
    const answer = {
      status: mapped.status,
      contentType: JSON_TYPE,
      body: JSON.stringify(mapped.body),
    }
    this.#failures.set(answer, failure)
    return answer
  }

  /** 404 with a BA101 body; the request body is never read. */
  notFound(method: string, pathname: string): HttpAnswer {
    return this.fail(new HttpRefusal(404, 'path', `no route ${method} ${pathname}`))
  }

  /** Answers our routes; undefined for any other request (its body untouched). */
  handle = async (request: Request, connection?: WebConnection): Promise<Response | undefined> => {
    const route = this.match(request.method, new URL(request.url).pathname)
    if (route === undefined) return undefined
    return toResponse(await this.serve(route, webBody(request), webClient(request, connection)))
  }

  /**
   * A complete fetch handler: our routes, and 404 (body unread) for everything else. Pass the
   * peer address as `{ remoteAddress }` (a `Request` does not carry it) for per-address limits.
   */
  fetch = async (request: Request, connection?: WebConnection): Promise<Response> => {
    const { pathname } = new URL(request.url)
    const route = this.match(request.method, pathname)
    if (route === undefined) return toResponse(this.notFound(request.method, pathname))
    return toResponse(await this.serve(route, webBody(request), webClient(request, connection)))
  }

  /**
   * A fetch-style access route: `(Request) => Promise<Response>`, signed with the nonce echoed.
   * `{ request: 'text' }` hands the handler the exact JSON text of the application data (R =
   * string) for numbers a double cannot hold.
   */
  access<R = JsonValue>(
    handler: AccessHandler<R, Request>,
    options?: AccessVerifyOptions,
  ): (request: Request) => Promise<Response> {
    this.#requireAccess()
    return async (request) =>
      toResponse(await this.answerAccess(webBody(request), handler, request, options))
  }

  #requireAccess(): AccessVerifier {
    const access = this.accessVerifier
    if (access === undefined) {
      throw new ConfigurationError('access', 'is required by access routes')
    }
    if (!access.answers) {
      throw new ConfigurationError(
        'access',
        'needs the response key (crypto.responseKey, or server.accessVerifier(…))',
      )
    }
    return access
  }
}

/** What a fetch-style runtime tells of the connection, beside the `Request`. */
export interface WebConnection {
  readonly remoteAddress?: string
}

/** The connection of a Web request: its headers and the peer address the runtime gave. */
export function webClient(request: Request, connection?: WebConnection): RequestClient {
  const remoteAddress = connection?.remoteAddress
  return {
    remoteAddress: typeof remoteAddress === 'string' ? remoteAddress : undefined,
    header: (name) => request.headers.get(name),
  }
}

/** The body parts of a Web request. */
export function webBody(request: Request): RequestBody {
  return {
    contentType: request.headers.get('content-type'),
    contentLength: request.headers.get('content-length'),
    stream: request.body,
  }
}

export function toResponse(answer: HttpAnswer): Response {
  return new Response(answer.body, {
    status: answer.status,
    headers: { ...answer.headers, 'content-type': `${answer.contentType}; charset=utf-8` },
  })
}

/** An operations answer: JSON that no cache keeps. */
function operational(status: number, body: JsonValue | object): HttpAnswer {
  return {
    status,
    contentType: JSON_TYPE,
    body: JSON.stringify(body),
    headers: { 'cache-control': 'no-store' },
  }
}

function routePath(field: string, value: string | undefined, fallback: string): string {
  const path = value ?? fallback
  if (typeof path !== 'string' || !path.startsWith('/')) {
    throw new ConfigurationError(field, "must start with '/'")
  }
  return path
}
