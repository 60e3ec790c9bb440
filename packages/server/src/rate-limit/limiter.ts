import { ConfigurationError, protocols, type ProtocolName } from '@better-auth/protocol'
import { KeyedHash } from './keyed-hash.js'
import type { CounterHit, RateLimitStore } from './store.js'

/** At most `limit` (cost units) per fixed window of `windowMs`. */
export interface RateLimitRule {
  readonly limit: number
  readonly windowMs: number
}

/** One route's limits; `false` turns a dimension off. */
export interface RouteRateLimit {
  /** Per client address. */
  readonly address?: RateLimitRule | false
  /** Per identity named in the request (or device, for `/session/create`). */
  readonly identity?: RateLimitRule | false
  /** What a refused request costs in total (default: 5 on unauthenticated routes, 2 elsewhere). */
  readonly failureCost?: number
}

export type RateLimitPolicyName = 'address' | 'identity'

/** Who a request is counted against. */
export interface LimitedRequest {
  readonly route: ProtocolName
  /** The client address; undefined when the adapter cannot tell (only identity limits apply). */
  readonly address: string | undefined
  /** The identity the request names, when it names one. */
  readonly identity: string | undefined
}

/** Where a request stands against one policy, for the `RateLimit` and `Retry-After` headers. */
export interface RateLimitQuota {
  readonly policy: RateLimitPolicyName
  readonly limit: number
  readonly windowMs: number
  readonly remaining: number
  /** Seconds until this policy's window restarts. */
  readonly resetSeconds: number
}

export interface RateLimitVerdict {
  readonly allowed: boolean
  /** Seconds until every exceeded policy allows again; 0 when allowed. */
  readonly retryAfterSeconds: number
  readonly quotas: readonly RateLimitQuota[]
  /** The counters this request was charged to, for `fail`. */
  readonly charged: readonly CounterHit[]
  /** The extra cost `fail` charges. */
  readonly failureSurcharge: number
}

/**
 * Limits requests per client address and per identity. `consume` charges one request and says
 * whether it may be served; `fail` charges the extra cost of a request that was then refused.
 */
export interface RateLimiter {
  consume(request: LimitedRequest): Promise<RateLimitVerdict>
  fail(verdict: RateLimitVerdict): Promise<void>
  /** Rejects when the limiter's store is unreachable (readiness checks). */
  ping?(): Promise<void>
}

export interface RateLimiterOptions {
  readonly store: RateLimitStore
  /**
   * HMAC key (at least 32 bytes) for the counter keys. Every instance sharing a store must use
   * the same secret, or each counts apart.
   */
  readonly secret: string | Uint8Array
  /** Per-route overrides, merged over `DEFAULT_RATE_LIMITS` field by field. */
  readonly routes?: Partial<Record<ProtocolName, RouteRateLimit>>
  /** The clock (epoch ms); tests pass their own. */
  readonly now?: () => number
}

const MINUTE = 60_000

/**
 * The default limits: strictest on the routes that need no existing credential (`requestSession`,
 * `createAccount`, `recoverAccount`: the cheapest to flood), strict per identity (brute force and
 * challenge floods against one account), generous per address (many users behind one NAT), and
 * refused requests costing more than served ones.
 */
export const DEFAULT_RATE_LIMITS: Readonly<Record<ProtocolName, Required<RouteRateLimit>>> =
  Object.freeze({
    requestSession: rule(600, 30, 5),
    createAccount: rule(300, 10, 5),
    recoverAccount: rule(120, 10, 5),
    createSession: rule(600, 60, 2),
    refreshSession: rule(1200, 120, 2),
    deleteAccount: rule(600, 30, 2),
    rotateDevice: rule(600, 60, 2),
    linkDevice: rule(600, 60, 2),
    unlinkDevice: rule(600, 60, 2),
    changeRecoveryKey: rule(600, 30, 2),
  } satisfies Record<ProtocolName, Required<RouteRateLimit>>)

function rule(perAddress: number, perIdentity: number, failureCost: number) {
  return {
    address: { limit: perAddress, windowMs: MINUTE },
    identity: { limit: perIdentity, windowMs: MINUTE },
    failureCost,
  }
}

interface ResolvedRoute {
  readonly address: RateLimitRule | undefined
  readonly identity: RateLimitRule | undefined
  readonly failureCost: number
}

/** Fixed-window counters in a `RateLimitStore`, keyed by a keyed hash of route, kind and value. */
export class CounterRateLimiter implements RateLimiter {
  readonly #store: RateLimitStore
  readonly #hash: KeyedHash
  readonly #routes: ReadonlyMap<ProtocolName, ResolvedRoute>
  readonly #now: () => number

  constructor(options: RateLimiterOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new ConfigurationError('rateLimit', 'must be an object')
    }
    if (typeof options.store?.hit !== 'function') {
      throw new ConfigurationError('rateLimit.store', 'must be a RateLimitStore')
    }
    this.#store = options.store
    this.#hash = new KeyedHash(options.secret)
    this.#now = options.now ?? Date.now
    const routes = new Map<ProtocolName, ResolvedRoute>()
    for (const name of Object.keys(protocols) as ProtocolName[]) {
      routes.set(name, resolveRoute(name, options.routes?.[name]))
    }
    for (const name of Object.keys(options.routes ?? {})) {
      if (!routes.has(name as ProtocolName)) {
        throw new ConfigurationError(`rateLimit.routes.${name}`, 'is not a protocol name')
      }
    }
    this.#routes = routes
  }

  async consume(request: LimitedRequest): Promise<RateLimitVerdict> {
    const route = this.#routes.get(request.route)!
    const policies: { policy: RateLimitPolicyName; rule: RateLimitRule; value: string }[] = []
    if (route.address !== undefined && request.address !== undefined) {
      policies.push({ policy: 'address', rule: route.address, value: request.address })
    }
    if (route.identity !== undefined && request.identity !== undefined) {
      policies.push({ policy: 'identity', rule: route.identity, value: request.identity })
    }
    const charged = await Promise.all(
      policies.map(async ({ policy, rule, value }) => ({
        key: `${request.route}:${policy}:${await this.#hash.of(`${request.route}\n${policy}\n${value}`)}`,
        cost: 1,
        windowMs: rule.windowMs,
      })),
    )
    const now = this.#now()
    const states = charged.length === 0 ? [] : await this.#store.hit(charged, now)
    let retryAfterSeconds = 0
    const quotas = policies.map(({ policy, rule }, index): RateLimitQuota => {
      const state = states[index]!
      const resetSeconds = Math.max(0, Math.ceil((state.resetAtMs - now) / 1000))
      if (state.count > rule.limit) retryAfterSeconds = Math.max(retryAfterSeconds, resetSeconds, 1)
      return {
        policy,
        limit: rule.limit,
        windowMs: rule.windowMs,
        remaining: Math.max(0, rule.limit - state.count),
        resetSeconds,
      }
    })
    return {
      allowed: retryAfterSeconds === 0,
      retryAfterSeconds,
      quotas,
      charged,
      failureSurcharge: route.failureCost - 1,
    }
  }

  async fail(verdict: RateLimitVerdict): Promise<void> {
    if (verdict.failureSurcharge <= 0 || verdict.charged.length === 0) return
    const surcharge = verdict.charged.map((hit) => ({ ...hit, cost: verdict.failureSurcharge }))
    await this.#store.hit(surcharge, this.#now())
  }

  async ping(): Promise<void> {
    await this.#store.ping?.()
  }
}

function resolveRoute(name: ProtocolName, input: RouteRateLimit | undefined): ResolvedRoute {
  const field = `rateLimit.routes.${name}`
  if (input !== undefined && (typeof input !== 'object' || input === null)) {
    throw new ConfigurationError(field, 'must be an object')
  }
  const defaults = DEFAULT_RATE_LIMITS[name]
  const failureCost = input?.failureCost ?? defaults.failureCost
  if (!Number.isInteger(failureCost) || failureCost < 1) {
    throw new ConfigurationError(`${field}.failureCost`, 'must be an integer of at least 1')
  }
  return {
    address: resolveRule(`${field}.address`, input?.address ?? defaults.address),
    identity: resolveRule(`${field}.identity`, input?.identity ?? defaults.identity),
    failureCost,
  }
}

function resolveRule(field: string, rule: RateLimitRule | false): RateLimitRule | undefined {
  if (rule === false) return undefined
  if (typeof rule !== 'object' || rule === null) {
    throw new ConfigurationError(field, 'must be { limit, windowMs } or false')
  }
  if (!Number.isInteger(rule.limit) || rule.limit < 1) {
    throw new ConfigurationError(`${field}.limit`, 'must be a positive integer')
  }
  if (!Number.isInteger(rule.windowMs) || rule.windowMs < 1000 || rule.windowMs > 86_400_000) {
    throw new ConfigurationError(`${field}.windowMs`, 'must be an integer from 1000 to 86400000')
  }
  return { limit: rule.limit, windowMs: rule.windowMs }
}
