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
    }
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
    if (route.kind === 'protocol') return this.#serveProtocol(route.name, body, client)
    try {
      if (route.kind === 'key-set') {
        return { status: 200, contentType: JSON_TYPE, body: await this.#keySet!() }
      }
      return {
        status: 200,
        contentType: 'text/plain',
        body: await this.server!.responsePublicKey(),
      }
    } catch (error) {
      return this.fail(error)
    }
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
      return withHeaders({ status: 200, contentType: JSON_TYPE, body: answer }, verdict)
    } catch (error) {
      const answer = this.fail(error)
      if (verdict?.allowed === true && failureKind(error) === 'refused') {
        // The refusal is answered whatever happens here; a store outage only loses the surcharge.
        await this.#rateLimit!.fail(verdict).catch(() => undefined)
      }
      return withHeaders(answer, verdict)
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
    this.#onError?.({
      error,
      kind: failureKind(error),
      status: mapped.status,
      code: mapped.body.error.code,
    })
    return { status: mapped.status, contentType: JSON_TYPE, body: JSON.stringify(mapped.body) }
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

function withHeaders(answer: HttpAnswer, verdict: RateLimitVerdict | undefined): HttpAnswer {
  if (verdict === undefined || verdict.quotas.length === 0) return answer
  return { ...answer, headers: { ...answer.headers, ...rateLimitHeaders(verdict) } }
}
