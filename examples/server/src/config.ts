import { ConfigurationError } from '@better-auth/protocol'
import type { ExpiryOptions, RateLimiterOptions } from '@better-auth/server'
import { join, resolve } from 'node:path'

export interface ServerConfig {
  readonly host: string
  readonly port: number
  readonly dataDir: string
  readonly databaseFile: string
  /** PostgreSQL for accounts (and everything else without REDIS_URL). */
  readonly databaseUrl?: string
  /** Redis for challenges and time-locks (and everything else without DATABASE_URL). */
  readonly redisUrl?: string
  readonly keysFile: string
  readonly expiry: Partial<ExpiryOptions>
  readonly corsOrigins: readonly string[]
  readonly logLevel: string
  /** `auto`: PostgreSQL/Redis when their URLs are set, else SQLite. */
  readonly store: StoreKind
  /** The P-256 and gzip implementation (default node: the fastest in Node). */
  readonly crypto: CryptoBackend
  /** The HTTP framework serving the contract (default fastify). */
  readonly framework: FrameworkName
  /** The operator's bearer credential for the admin routes; without it they are not served. */
  readonly adminCredential?: string
  /** `log`: a debug log line per request (the tracing hook); `off`: none. */
  readonly tracing: TracingMode
  /** Per-address and per-identity limits on the protocol routes; undefined when turned off. */
  readonly rateLimit: RateLimitConfig | undefined
  /** Reverse proxies whose `X-Forwarded-For` names the client (default none). */
  readonly trustedProxies: readonly string[]
}

export interface RateLimitConfig {
  /** Overrides of `DEFAULT_RATE_LIMITS`, per route (validated by `CounterRateLimiter`). */
  readonly routes: NonNullable<RateLimiterOptions['routes']>
}

export type TracingMode = 'log' | 'off'
const TRACING_MODES: readonly TracingMode[] = ['log', 'off']

export type FrameworkName = 'fastify' | 'express' | 'hono' | 'node'
const FRAMEWORKS: readonly FrameworkName[] = ['fastify', 'express', 'hono', 'node']

export type StoreKind = 'auto' | 'memory' | 'sqlite'
export type CryptoBackend = 'node' | 'webcrypto' | 'noble'

const STORE_KINDS: readonly StoreKind[] = ['auto', 'memory', 'sqlite']
const CRYPTO_BACKENDS: readonly CryptoBackend[] = ['node', 'webcrypto', 'noble']
// pino's levels: anything else makes fastify throw an unnamed error at startup.
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

const FLAGS: Record<string, string> = {
  '--host': 'HOST',
  '--port': 'PORT',
  '--data-dir': 'DATA_DIR',
  '--database': 'DATABASE_FILE',
  '--database-url': 'DATABASE_URL',
  '--redis-url': 'REDIS_URL',
  '--keys': 'KEYS_FILE',
  '--cors-origins': 'CORS_ORIGINS',
  '--log-level': 'LOG_LEVEL',
  '--store': 'STORE',
  '--crypto': 'CRYPTO',
  '--framework': 'FRAMEWORK',
  '--admin-credential': 'ADMIN_CREDENTIAL',
  '--tracing': 'TRACING',
  '--rate-limit': 'RATE_LIMIT',
  '--rate-limits': 'RATE_LIMITS',
  '--trusted-proxies': 'TRUSTED_PROXIES',
}

const EXPIRY_VARIABLES: Record<string, keyof ExpiryOptions> = {
  ACCESS_LIFETIME_MS: 'accessMs',
  REFRESH_LIFETIME_MS: 'refreshMs',
  CHALLENGE_LIFETIME_MS: 'challengeMs',
  ACCESS_WINDOW_MS: 'accessWindowMs',
  CLOCK_SKEW_MS: 'clockSkewMs',
}

export const USAGE = `usage: better-auth-example-server [options]
  --host HOST            listen address (HOST, default 127.0.0.1)
  --port PORT            listen port (PORT, default 8080)
  --data-dir DIR         data directory (DATA_DIR, default ./.data)
  --database FILE        SQLite file (DATABASE_FILE, default DATA_DIR/better-auth.sqlite)
  --database-url URL     PostgreSQL instead of SQLite (DATABASE_URL)
  --redis-url URL        Redis for challenges and time-locks (REDIS_URL)
  --keys FILE            server key file (KEYS_FILE, default DATA_DIR/server-keys.json)
  --cors-origins LIST    comma-separated allowed origins (CORS_ORIGINS, default none)
  --log-level LEVEL      fastify log level (LOG_LEVEL, default info)
  --store KIND           auto, memory or sqlite (STORE, default auto: PostgreSQL/Redis when their
                         URLs are set, else SQLite; memory keeps nothing across restarts)
  --crypto BACKEND       node, webcrypto or noble (CRYPTO, default node)
  --framework NAME       fastify, express, hono or node (FRAMEWORK, default fastify)
  --admin-credential S   serve the admin routes behind this bearer secret, at least 32 characters
                         (ADMIN_CREDENTIAL; prefer the variable: flags show in process lists)
  --tracing MODE         log (a debug line per request) or off (TRACING, default log)
  --rate-limit on|off    per-address and per-identity limits (RATE_LIMIT, default on)
  --rate-limits JSON     per-route overrides of the default limits (RATE_LIMITS)
  --trusted-proxies LIST comma-separated proxies whose X-Forwarded-For names the client
                         (TRUSTED_PROXIES, default none)
lifetimes (ms): ${Object.keys(EXPIRY_VARIABLES).join(', ')}`

/** Flags win over environment variables; both are validated here, before anything starts. */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ServerConfig {
  const values: Record<string, string | undefined> = { ...env }
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!
    const equals = flag.indexOf('=')
    const name = equals < 0 ? flag : flag.slice(0, equals)
    const inline = equals < 0 ? undefined : flag.slice(equals + 1)
    const variable = FLAGS[name]
    if (variable === undefined) throw new ConfigurationError(flag, `unknown option\n${USAGE}`)
    const value = inline ?? argv[++i]
    if (value === undefined) throw new ConfigurationError(flag, 'needs a value')
    values[variable] = value
  }
  const port = Number(values.PORT ?? 8080)
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new ConfigurationError('PORT', 'must be an integer from 0 to 65535')
  }
  const dataDir = resolve(values.DATA_DIR ?? '.data')
  const expiry: Partial<Record<keyof ExpiryOptions, number>> = {}
  for (const [variable, field] of Object.entries(EXPIRY_VARIABLES)) {
    const raw = values[variable]
    if (raw === undefined) continue
    const value = Number(raw)
    if (!Number.isInteger(value)) throw new ConfigurationError(variable, 'must be an integer')
    expiry[field] = value
  }
  return {
    host: values.HOST ?? '127.0.0.1',
    port,
    dataDir,
    databaseFile: resolve(values.DATABASE_FILE ?? join(dataDir, 'better-auth.sqlite')),
    databaseUrl: nonEmpty(values.DATABASE_URL),
    redisUrl: nonEmpty(values.REDIS_URL),
    keysFile: resolve(values.KEYS_FILE ?? join(dataDir, 'server-keys.json')),
    expiry,
    corsOrigins: list(values.CORS_ORIGINS),
    logLevel: oneOf('LOG_LEVEL', values.LOG_LEVEL ?? 'info', LOG_LEVELS),
    store: oneOf('STORE', values.STORE ?? 'auto', STORE_KINDS),
    crypto: oneOf('CRYPTO', values.CRYPTO ?? 'node', CRYPTO_BACKENDS),
    framework: oneOf('FRAMEWORK', values.FRAMEWORK ?? 'fastify', FRAMEWORKS),
    adminCredential: nonEmpty(values.ADMIN_CREDENTIAL),
    tracing: oneOf('TRACING', values.TRACING ?? 'log', TRACING_MODES),
    rateLimit:
      oneOf('RATE_LIMIT', values.RATE_LIMIT ?? 'on', ['on', 'off']) === 'on'
        ? { routes: rateLimitRoutes(values.RATE_LIMITS) }
        : undefined,
    trustedProxies: list(values.TRUSTED_PROXIES),
  }
}

/** The JSON object of RATE_LIMITS; its fields are checked when the limiter is built. */
function rateLimitRoutes(raw: string | undefined): RateLimitConfig['routes'] {
  if (raw === undefined || raw.trim() === '') return {}
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    throw new ConfigurationError('RATE_LIMITS', 'must be a JSON object')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigurationError('RATE_LIMITS', 'must be a JSON object')
  }
  return parsed
}

function list(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
}

function oneOf<T extends string>(variable: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigurationError(variable, `must be one of ${allowed.join(', ')}`)
  }
  return value as T
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value
}
