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
  /** `auth` (default): the whole contract; `app`: an application service, verifier only. */
  readonly role: Role
  /**
   * Where endorsed, rotating service keys come from; undefined for the single keys file (the
   * default, auth role only).
   */
  readonly keyRing: KeyRingConfig | undefined
  /** How access requests learn of revoked devices (default off). */
  readonly revocation: RevocationMode
  /**
   * REVOCATION=feed: the Redis or PostgreSQL channel of this deployment (default: the feed's);
   * its form is checked by the feed at start.
   */
  readonly revocationChannel: string | undefined
}

export type Role = 'auth' | 'app'
const ROLES: readonly Role[] = ['auth', 'app']

/**
 * `off`: tokens are stateless, a revoked device keeps access until its token expires; `read`: one
 * store read per access request; `feed`: device state in memory, revocations pushed over Redis
 * pub/sub or PostgreSQL LISTEN/NOTIFY (or in process with neither).
 */
export type RevocationMode = 'off' | 'read' | 'feed'
const REVOCATION_MODES: readonly RevocationMode[] = ['off', 'read', 'feed']

export interface KeyRingConfig {
  /** The chain prefix every service pins (required for an application service). */
  readonly prefix: string | undefined
  /** Auth role: the operator's chain directory (chain.json) and root key vault. */
  readonly chainDir: string | undefined
  readonly vaultDir: string | undefined
  /** App role: the auth service's base URL (its key set and endorsement routes). */
  readonly authUrl: string | undefined
  /** App role: the credential this service presents at the auth service's `/key/endorse`. */
  readonly endorseCredential: string | undefined
  /**
   * Auth role: each application service's name and credential (ENDORSE_CREDENTIALS, or
   * ENDORSE_CREDENTIAL as one service named `default`); given, `/key/endorse` is served.
   */
  readonly endorseCredentials: Readonly<Record<string, string>> | undefined
  readonly rotateEveryMs: number | undefined
  readonly overlapMs: number | undefined
  readonly refreshEveryMs: number | undefined
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
  '--role': 'ROLE',
  '--key-chain': 'KEY_CHAIN_DIR',
  '--key-vault': 'KEY_VAULT',
  '--key-chain-prefix': 'KEY_CHAIN_PREFIX',
  '--auth-url': 'AUTH_URL',
  '--endorse-credential': 'ENDORSE_CREDENTIAL',
  '--endorse-credentials': 'ENDORSE_CREDENTIALS',
  '--key-rotate-ms': 'KEY_ROTATE_MS',
  '--key-overlap-ms': 'KEY_OVERLAP_MS',
  '--key-refresh-ms': 'KEY_REFRESH_MS',
  '--revocation': 'REVOCATION',
  '--revocation-channel': 'REVOCATION_CHANNEL',
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
  --revocation MODE      off, read or feed: how access requests learn of revoked devices
                         (REVOCATION, default off; see README "Revocation")
  --revocation-channel C feed: the pub/sub or NOTIFY channel, one per deployment
                         (REVOCATION_CHANNEL, default the feed's)
rotating keys (instead of the keys file; see README "Deployment"):
  --role ROLE            auth (the whole contract) or app (an application service: verifies
                         access tokens, answers with its own key) (ROLE, default auth)
  --key-chain DIR        auth: the operator's key chain directory, chain.json (KEY_CHAIN_DIR)
  --key-vault DIR        auth: the root private keys (KEY_VAULT, default KEY_CHAIN_DIR/private)
  --key-chain-prefix P   the chain prefix to pin (KEY_CHAIN_PREFIX; required for app)
  --auth-url URL         app: the auth service, whose /key/set and /key/endorse it uses (AUTH_URL)
  --endorse-credentials L auth: serve /key/endorse (response keys only) to these application
                         services, NAME:SECRET,... one secret each, at least 32 characters
                         (ENDORSE_CREDENTIALS; prefer the variable)
  --endorse-credential S app: the secret to present there (ENDORSE_CREDENTIAL; prefer the
                         variable); auth: the same as ENDORSE_CREDENTIALS=default:S
  --key-rotate-ms MS     each service key signs this long (KEY_ROTATE_MS, default a day)
  --key-overlap-ms MS    and stays endorsed this long after (KEY_OVERLAP_MS, default 12 h)
  --key-refresh-ms MS    how often the chain and key set are read again (KEY_REFRESH_MS,
                         default a tenth of the rotation, at most a minute)
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
    framework: framework(values),
    adminCredential: nonEmpty(values.ADMIN_CREDENTIAL),
    tracing: oneOf('TRACING', values.TRACING ?? 'log', TRACING_MODES),
    rateLimit:
      oneOf('RATE_LIMIT', values.RATE_LIMIT ?? 'on', ['on', 'off']) === 'on'
        ? { routes: rateLimitRoutes(values.RATE_LIMITS) }
        : undefined,
    trustedProxies: list(values.TRUSTED_PROXIES),
    ...deployment(values),
  }
}

const MIN_CREDENTIAL_LENGTH = 32

/** fastify's plugin serves the whole contract only: an application service runs on the others. */
function framework(values: Record<string, string | undefined>): FrameworkName {
  const app = values.ROLE === 'app'
  const name = oneOf('FRAMEWORK', values.FRAMEWORK ?? (app ? 'hono' : 'fastify'), FRAMEWORKS)
  if (app && name === 'fastify') {
    throw new ConfigurationError('FRAMEWORK', 'must be express, hono or node for ROLE=app')
  }
  return name
}

/** The role, the key ring and revocation settings, checked against each other. */
function deployment(
  values: Record<string, string | undefined>,
): Pick<ServerConfig, 'role' | 'keyRing' | 'revocation' | 'revocationChannel'> {
  const role = oneOf('ROLE', values.ROLE ?? 'auth', ROLES)
  const revocation = oneOf('REVOCATION', values.REVOCATION ?? 'off', REVOCATION_MODES)
  const revocationChannel = channel(values, revocation)
  const chainDir = nonEmpty(values.KEY_CHAIN_DIR)
  const ring: KeyRingConfig = {
    prefix: nonEmpty(values.KEY_CHAIN_PREFIX),
    chainDir: chainDir === undefined ? undefined : resolve(chainDir),
    vaultDir: nonEmpty(values.KEY_VAULT) === undefined ? undefined : resolve(values.KEY_VAULT!),
    authUrl: nonEmpty(values.AUTH_URL),
    endorseCredential: nonEmpty(values.ENDORSE_CREDENTIAL),
    endorseCredentials: undefined,
    rotateEveryMs: milliseconds('KEY_ROTATE_MS', values.KEY_ROTATE_MS),
    overlapMs: milliseconds('KEY_OVERLAP_MS', values.KEY_OVERLAP_MS),
    refreshEveryMs: milliseconds('KEY_REFRESH_MS', values.KEY_REFRESH_MS),
  }
  const credential = ring.endorseCredential
  if (credential !== undefined && credential.length < MIN_CREDENTIAL_LENGTH) {
    throw new ConfigurationError('ENDORSE_CREDENTIAL', 'must be at least 32 characters')
  }
  if (role === 'app') {
    if (ring.prefix === undefined) {
      throw new ConfigurationError('KEY_CHAIN_PREFIX', 'is required for an application service')
    }
    if (ring.authUrl === undefined || !isHttpUrl(ring.authUrl)) {
      throw new ConfigurationError('AUTH_URL', 'must be the http(s) URL of the auth service')
    }
    if (credential === undefined) {
      throw new ConfigurationError('ENDORSE_CREDENTIAL', 'is required for an application service')
    }
    if (nonEmpty(values.ENDORSE_CREDENTIALS) !== undefined) {
      throw new ConfigurationError(
        'ENDORSE_CREDENTIALS',
        'is for the auth service: an application service presents its ENDORSE_CREDENTIAL',
      )
    }
    // An application service is given no root key: the auth service endorses its keys.
    if (ring.chainDir !== undefined || ring.vaultDir !== undefined) {
      throw new ConfigurationError(
        ring.chainDir === undefined ? 'KEY_VAULT' : 'KEY_CHAIN_DIR',
        'is for the auth service only: an application service gets no root key',
      )
    }
    if (nonEmpty(values.ADMIN_CREDENTIAL) !== undefined) {
      throw new ConfigurationError('ADMIN_CREDENTIAL', 'an application service has no accounts')
    }
    // Its endorsements must reach the auth service's key set, through a store both share.
    if (values.STORE === 'memory') {
      throw new ConfigurationError('STORE', 'an application service needs the shared stores')
    }
    // In process, a revocation reaches only the process that made it: never this one.
    const bus = nonEmpty(values.REDIS_URL) ?? nonEmpty(values.DATABASE_URL)
    if (revocation === 'feed' && (bus === undefined || values.STORE === 'sqlite')) {
      throw new ConfigurationError(
        'REVOCATION',
        'feed needs REDIS_URL or DATABASE_URL for ROLE=app',
      )
    }
    return { role, keyRing: ring, revocation, revocationChannel }
  }
  if (ring.authUrl !== undefined) {
    throw new ConfigurationError('AUTH_URL', 'is for an application service (ROLE=app)')
  }
  if (chainDir === undefined) {
    for (const variable of [
      'KEY_VAULT',
      'KEY_CHAIN_PREFIX',
      'ENDORSE_CREDENTIAL',
      'ENDORSE_CREDENTIALS',
      'KEY_ROTATE_MS',
      'KEY_OVERLAP_MS',
      'KEY_REFRESH_MS',
    ]) {
      if (nonEmpty(values[variable]) !== undefined) {
        throw new ConfigurationError(variable, 'needs KEY_CHAIN_DIR (rotating keys)')
      }
    }
    return { role, keyRing: undefined, revocation, revocationChannel }
  }
  const endorseCredentials = serviceCredentials(values.ENDORSE_CREDENTIALS, credential)
  return {
    role,
    keyRing: { ...ring, endorseCredential: undefined, endorseCredentials },
    revocation,
    revocationChannel,
  }
}

const SERVICE_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/

/**
 * ENDORSE_CREDENTIALS, `NAME:SECRET,...`: one credential per application service, so each is
 * revoked alone (removed, then the auth replicas restarted) and the endorsements it asked for are
 * counted under its name. The single ENDORSE_CREDENTIAL is the service `default`. Messages name the
 * entry by position or service, never by its secret.
 */
export function serviceCredentials(
  list: string | undefined,
  single: string | undefined,
): Readonly<Record<string, string>> | undefined {
  if (nonEmpty(list) === undefined) return single === undefined ? undefined : { default: single }
  if (single !== undefined) {
    throw new ConfigurationError(
      'ENDORSE_CREDENTIAL',
      'give ENDORSE_CREDENTIALS or ENDORSE_CREDENTIAL, not both',
    )
  }
  const credentials: Record<string, string> = {}
  const secrets = new Set<string>()
  for (const [index, entry] of list!.split(',').entries()) {
    const colon = entry.indexOf(':')
    const name = entry.slice(0, Math.max(colon, 0)).trim()
    const secret = colon < 0 ? '' : entry.slice(colon + 1).trim()
    const at = `entry ${index + 1}`
    if (!SERVICE_NAME.test(name)) {
      throw new ConfigurationError(
        'ENDORSE_CREDENTIALS',
        `${at} must be NAME:SECRET, NAME lower-case letters, digits, - and _ (at most 63)`,
      )
    }
    if (Object.hasOwn(credentials, name)) {
      throw new ConfigurationError('ENDORSE_CREDENTIALS', `names the service ${name} twice`)
    }
    if (secret.length < MIN_CREDENTIAL_LENGTH || /\s/.test(secret)) {
      throw new ConfigurationError(
        'ENDORSE_CREDENTIALS',
        `the secret of ${name} must be at least 32 characters, without spaces`,
      )
    }
    // Two services with one secret could not be told apart, nor revoked one at a time.
    if (secrets.has(secret)) {
      throw new ConfigurationError('ENDORSE_CREDENTIALS', `the secret of ${name} is another's`)
    }
    secrets.add(secret)
    credentials[name] = secret
  }
  return credentials
}

/**
 * A channel only means something to a feed between processes: a channel that would be ignored is
 * refused rather than leaving two deployments that were meant to be apart on one channel.
 */
function channel(
  values: Record<string, string | undefined>,
  revocation: RevocationMode,
): string | undefined {
  const name = nonEmpty(values.REVOCATION_CHANNEL)
  if (name === undefined) return undefined
  if (revocation !== 'feed') {
    throw new ConfigurationError('REVOCATION_CHANNEL', 'needs REVOCATION=feed')
  }
  const shared = nonEmpty(values.REDIS_URL) ?? nonEmpty(values.DATABASE_URL)
  if (shared === undefined || values.STORE === 'sqlite' || values.STORE === 'memory') {
    throw new ConfigurationError(
      'REVOCATION_CHANNEL',
      'needs REDIS_URL or DATABASE_URL: the in-process feed has no channel',
    )
  }
  return name
}

function milliseconds(variable: string, raw: string | undefined): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined
  const value = Number(raw)
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new ConfigurationError(variable, 'must be a positive integer (milliseconds)')
  }
  return value
}

function isHttpUrl(raw: string): boolean {
  try {
    const url = new URL(raw)
    return url.protocol === 'http:' || url.protocol === 'https:'
  } catch {
    return false
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
