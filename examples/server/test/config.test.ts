import { join, resolve } from 'node:path'
import { ConfigurationError } from '@better-auth/protocol'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { loadConfig, serviceCredentials, type ServerConfig as Config } from '../src/config.js'

function fieldOf(run: () => unknown): unknown {
  try {
    run()
  } catch (error) {
    expect(error).toMatchObject({ code: 'BA001' })
    return (error as { context: { field: unknown } }).context.field
  }
  throw new Error('expected a ConfigurationError')
}

describe('example server configuration', () => {
  it('defaults to 127.0.0.1:8080, automatic stores and the Node backend', () => {
    const config = loadConfig([], {})
    expect(config).toMatchObject({ host: '127.0.0.1', port: 8080, store: 'auto', crypto: 'node' })
    expect(config.databaseUrl).toBeUndefined()
  })

  it('lets flags override the environment', () => {
    const config = loadConfig(['--port=9090', '--store', 'memory', '--crypto', 'noble'], {
      PORT: '7070',
      STORE: 'sqlite',
      ACCESS_WINDOW_MS: '10000',
    })
    expect(config).toMatchObject({ port: 9090, store: 'memory', crypto: 'noble' })
    expect(config.expiry).toEqual({ accessWindowMs: 10_000 })
  })

  it('maps every flag to its variable, and each flag wins over its variable', () => {
    const cases: [flag: string, variable: string, value: string, read: (c: Config) => unknown][] = [
      ['--host', 'HOST', '0.0.0.0', (c) => c.host],
      ['--port', 'PORT', '9999', (c) => c.port],
      ['--data-dir', 'DATA_DIR', '/srv/auth', (c) => c.dataDir],
      ['--database', 'DATABASE_FILE', '/srv/auth/db.sqlite', (c) => c.databaseFile],
      ['--database-url', 'DATABASE_URL', 'postgres://127.0.0.1/a', (c) => c.databaseUrl],
      ['--redis-url', 'REDIS_URL', 'redis://127.0.0.1:6379', (c) => c.redisUrl],
      ['--keys', 'KEYS_FILE', '/srv/auth/keys.json', (c) => c.keysFile],
      ['--cors-origins', 'CORS_ORIGINS', 'https://app.example', (c) => c.corsOrigins],
      ['--log-level', 'LOG_LEVEL', 'debug', (c) => c.logLevel],
      ['--store', 'STORE', 'sqlite', (c) => c.store],
      ['--crypto', 'CRYPTO', 'webcrypto', (c) => c.crypto],
      ['--admin-credential', 'ADMIN_CREDENTIAL', 'c'.repeat(40), (c) => c.adminCredential],
      ['--tracing', 'TRACING', 'off', (c) => c.tracing],
      ['--trusted-proxies', 'TRUSTED_PROXIES', '10.0.0.1', (c) => c.trustedProxies],
    ]
    const expected = (value: string, read: (c: Config) => unknown) => {
      const wanted = read(loadConfig([], {}))
      if (Array.isArray(wanted)) return [value]
      return typeof wanted === 'number' ? Number(value) : value
    }
    for (const [flag, variable, value, read] of cases) {
      expect(read(loadConfig([], { [variable]: value })), variable).toEqual(expected(value, read))
      expect(read(loadConfig([flag, value], {})), flag).toEqual(expected(value, read))
      expect(read(loadConfig([`${flag}=${value}`], { [variable]: 'x' })), flag).toEqual(
        expected(value, read),
      )
    }
  })

  it('puts the database and key files in the data dir by default, resolved to absolute paths', () => {
    const config = loadConfig(['--data-dir', 'rel/data'], {})
    expect(config.dataDir).toBe(resolve('rel/data'))
    expect(config.databaseFile).toBe(join(resolve('rel/data'), 'better-auth.sqlite'))
    expect(config.keysFile).toBe(join(resolve('rel/data'), 'server-keys.json'))
    expect(loadConfig(['--keys', 'k.json'], {}).keysFile).toBe(resolve('k.json'))
  })

  it('splits CORS origins on commas, trimming blanks; * stays a single entry', () => {
    const origins = (value: string) => loadConfig(['--cors-origins', value], {}).corsOrigins
    expect(origins(' https://a.example , ,https://b.example:8443 ')).toEqual([
      'https://a.example',
      'https://b.example:8443',
    ])
    expect(origins('*')).toEqual(['*'])
    expect(origins('')).toEqual([])
    expect(loadConfig([], {}).corsOrigins).toEqual([])
  })

  it('treats empty or blank DATABASE_URL and REDIS_URL as unset', () => {
    const config = loadConfig([], { DATABASE_URL: '', REDIS_URL: '   ' })
    expect(config.databaseUrl).toBeUndefined()
    expect(config.redisUrl).toBeUndefined()
  })

  it('reads every lifetime variable into its expiry field', () => {
    const config = loadConfig([], {
      ACCESS_LIFETIME_MS: '1000',
      REFRESH_LIFETIME_MS: '2000',
      CHALLENGE_LIFETIME_MS: '3000',
      ACCESS_WINDOW_MS: '4000',
      CLOCK_SKEW_MS: '5000',
    })
    expect(config.expiry).toEqual({
      accessMs: 1000,
      refreshMs: 2000,
      challengeMs: 3000,
      accessWindowMs: 4000,
      clockSkewMs: 5000,
    })
  })

  it.each([
    [['--log-level', 'loud'], {}, 'LOG_LEVEL'],
    [[], { REFRESH_LIFETIME_MS: '1.5' }, 'REFRESH_LIFETIME_MS'],
    [['--store', 'mongo'], {}, 'STORE'],
    [['--crypto', 'rsa'], {}, 'CRYPTO'],
    [[], { PORT: '70000' }, 'PORT'],
    [[], { CLOCK_SKEW_MS: 'soon' }, 'CLOCK_SKEW_MS'],
    [['--bogus'], {}, '--bogus'],
    [['--port'], {}, '--port'],
    [['--rate-limit', 'maybe'], {}, 'RATE_LIMIT'],
    [['--rate-limits', '{"requestSession":'], {}, 'RATE_LIMITS'],
    [[], { RATE_LIMITS: '[1]' }, 'RATE_LIMITS'],
  ])('names the bad option: %j %j', (argv, env, field) => {
    expect(fieldOf(() => loadConfig(argv, env))).toBe(field)
  })

  it('limits requests by default, with no proxy trusted; RATE_LIMIT=off turns it off', () => {
    expect(loadConfig([], {})).toMatchObject({ rateLimit: { routes: {} }, trustedProxies: [] })
    expect(loadConfig(['--rate-limit', 'off'], {}).rateLimit).toBeUndefined()
    expect(loadConfig([], { RATE_LIMIT: 'off', RATE_LIMITS: '{"x":1}' }).rateLimit).toBeUndefined()
  })

  it('reads per-route limits from RATE_LIMITS and trusted proxies from a list', () => {
    const routes = { requestSession: { identity: { limit: 3, windowMs: 60_000 }, address: false } }
    const config = loadConfig(['--rate-limits', JSON.stringify(routes)], {
      TRUSTED_PROXIES: ' 127.0.0.1, ::1 ,',
    })
    expect(config.rateLimit).toEqual({ routes })
    expect(config.trustedProxies).toEqual(['127.0.0.1', '::1'])
  })

  describe('deployment: roles, rotating keys, revocation', () => {
    const credential = 'e'.repeat(32)
    const app = {
      ROLE: 'app',
      KEY_CHAIN_PREFIX: 'EPrefix',
      AUTH_URL: 'http://127.0.0.1:9000',
      ENDORSE_CREDENTIAL: credential,
      REDIS_URL: 'redis://127.0.0.1:6379',
    }

    it('keeps the keys file, the auth role and no revocation check by default', () => {
      expect(loadConfig([], {})).toMatchObject({
        role: 'auth',
        keyRing: undefined,
        revocation: 'off',
        framework: 'fastify',
      })
    })

    it('maps every flag to its variable', () => {
      const config = loadConfig(
        [
          '--key-chain',
          'keys',
          '--key-vault',
          '/vault',
          '--key-chain-prefix',
          'EPrefix',
          '--endorse-credential',
          credential,
          '--key-rotate-ms',
          '60000',
          '--key-overlap-ms=120000',
          '--key-refresh-ms',
          '1000',
          '--revocation',
          'feed',
        ],
        { KEY_CHAIN_DIR: 'elsewhere', REVOCATION: 'read' },
      )
      expect(config).toMatchObject({
        role: 'auth',
        revocation: 'feed',
        keyRing: {
          chainDir: resolve('keys'),
          vaultDir: '/vault',
          prefix: 'EPrefix',
          // The auth service's single credential is the service `default`.
          endorseCredential: undefined,
          endorseCredentials: { default: credential },
          rotateEveryMs: 60_000,
          overlapMs: 120_000,
          refreshEveryMs: 1000,
          authUrl: undefined,
        },
      })
      const fromFlags = loadConfig(
        ['--role', 'app', '--auth-url', 'https://auth.example', '--framework', 'express'],
        { ...app, ROLE: 'auth' },
      )
      expect(fromFlags).toMatchObject({
        role: 'app',
        framework: 'express',
        keyRing: { authUrl: 'https://auth.example', prefix: 'EPrefix' },
      })
    })

    it('reads the revocation channel for a feed between processes; none by default', () => {
      expect(loadConfig([], { ...app, REVOCATION: 'feed' }).revocationChannel).toBeUndefined()
      expect(
        loadConfig(['--revocation-channel', 'eu_auth'], { ...app, REVOCATION: 'feed' }),
      ).toMatchObject({ revocation: 'feed', revocationChannel: 'eu_auth' })
      const auth = { REVOCATION: 'feed', DATABASE_URL: 'postgres://x', REVOCATION_CHANNEL: 'eu' }
      expect(loadConfig([], auth).revocationChannel).toBe('eu')
      // Blank is unset, as for every variable; its form is the feed's to check, at start.
      expect(loadConfig([], { ...auth, REVOCATION_CHANNEL: ' ' }).revocationChannel).toBeUndefined()
    })

    it('runs an application service on hono unless told otherwise', () => {
      expect(loadConfig([], app)).toMatchObject({ role: 'app', framework: 'hono' })
      expect(loadConfig([], { ...app, REVOCATION: 'feed' }).revocation).toBe('feed')
      expect(loadConfig([], { ...app, DATABASE_URL: 'postgres://x', REDIS_URL: '' })).toMatchObject(
        {
          role: 'app',
        },
      )
    })

    it.each([
      [{ ROLE: 'verifier' }, 'ROLE'],
      [{ REVOCATION: 'sometimes' }, 'REVOCATION'],
      [{ KEY_CHAIN_DIR: 'keys', KEY_ROTATE_MS: '0' }, 'KEY_ROTATE_MS'],
      [{ KEY_CHAIN_DIR: 'keys', KEY_OVERLAP_MS: '1.5' }, 'KEY_OVERLAP_MS'],
      [{ KEY_CHAIN_DIR: 'keys', KEY_REFRESH_MS: 'soon' }, 'KEY_REFRESH_MS'],
      [{ KEY_CHAIN_DIR: 'keys', ENDORSE_CREDENTIAL: 'short' }, 'ENDORSE_CREDENTIAL'],
      // Rotation settings without a chain would silently do nothing.
      [{ KEY_ROTATE_MS: '60000' }, 'KEY_ROTATE_MS'],
      [{ KEY_VAULT: '/vault' }, 'KEY_VAULT'],
      [{ KEY_CHAIN_PREFIX: 'EPrefix' }, 'KEY_CHAIN_PREFIX'],
      [{ ENDORSE_CREDENTIAL: credential }, 'ENDORSE_CREDENTIAL'],
      [{ AUTH_URL: 'http://127.0.0.1:9000' }, 'AUTH_URL'],
      [{ ...app, KEY_CHAIN_PREFIX: '' }, 'KEY_CHAIN_PREFIX'],
      [{ ...app, AUTH_URL: 'ftp://auth.example' }, 'AUTH_URL'],
      [{ ...app, AUTH_URL: 'not a url' }, 'AUTH_URL'],
      [{ ...app, ENDORSE_CREDENTIAL: undefined }, 'ENDORSE_CREDENTIAL'],
      [{ ...app, ENDORSE_CREDENTIAL: 'short' }, 'ENDORSE_CREDENTIAL'],
      [{ ...app, ENDORSE_CREDENTIALS: `orders:${credential}` }, 'ENDORSE_CREDENTIALS'],
      [{ ENDORSE_CREDENTIALS: `orders:${credential}` }, 'ENDORSE_CREDENTIALS'],
      [
        {
          KEY_CHAIN_DIR: 'keys',
          ENDORSE_CREDENTIALS: `a:${credential}`,
          ENDORSE_CREDENTIAL: credential,
        },
        'ENDORSE_CREDENTIAL',
      ],
      // An application service is never given a root key.
      [{ ...app, KEY_CHAIN_DIR: 'keys' }, 'KEY_CHAIN_DIR'],
      [{ ...app, KEY_VAULT: '/vault' }, 'KEY_VAULT'],
      [{ ...app, ADMIN_CREDENTIAL: 'a'.repeat(40) }, 'ADMIN_CREDENTIAL'],
      [{ ...app, FRAMEWORK: 'fastify' }, 'FRAMEWORK'],
      [{ ...app, STORE: 'memory' }, 'STORE'],
      [{ ...app, REVOCATION: 'feed', REDIS_URL: '' }, 'REVOCATION'],
      [{ ...app, REVOCATION: 'feed', STORE: 'sqlite' }, 'REVOCATION'],
      // A channel that would be ignored: no feed, or a feed in process only.
      [{ ...app, REVOCATION_CHANNEL: 'eu' }, 'REVOCATION_CHANNEL'],
      [
        { REVOCATION: 'read', REDIS_URL: 'redis://x', REVOCATION_CHANNEL: 'eu' },
        'REVOCATION_CHANNEL',
      ],
      [{ REVOCATION: 'feed', REVOCATION_CHANNEL: 'eu' }, 'REVOCATION_CHANNEL'],
      [
        { REVOCATION: 'feed', REDIS_URL: 'redis://x', STORE: 'sqlite', REVOCATION_CHANNEL: 'eu' },
        'REVOCATION_CHANNEL',
      ],
      [
        {
          REVOCATION: 'feed',
          DATABASE_URL: 'postgres://x',
          STORE: 'memory',
          REVOCATION_CHANNEL: 'eu',
        },
        'REVOCATION_CHANNEL',
      ],
    ])('refuses %j naming %s', (env, field) => {
      expect(fieldOf(() => loadConfig([], env))).toBe(field)
    })
  })

  describe('ENDORSE_CREDENTIALS: one credential per application service', () => {
    const orders = 'o'.repeat(32)
    const billing = 'B1-_'.repeat(10)
    const auth = (list: string) =>
      loadConfig([], { KEY_CHAIN_DIR: 'keys', ENDORSE_CREDENTIALS: list })

    it('reads NAME:SECRET pairs, trimming blanks around them', () => {
      expect(auth(`orders:${orders}, billing : ${billing}`).keyRing).toMatchObject({
        endorseCredentials: { orders, billing },
        endorseCredential: undefined,
      })
      expect(
        loadConfig(['--endorse-credentials', `orders:${orders}`], { KEY_CHAIN_DIR: 'keys' }).keyRing
          ?.endorseCredentials,
      ).toEqual({ orders })
      // Without either, /key/endorse is not served.
      expect(loadConfig([], { KEY_CHAIN_DIR: 'keys' }).keyRing?.endorseCredentials).toBeUndefined()
    })

    it.each([
      [`orders:${orders},`, 'entry 2 must be NAME:SECRET'],
      [orders, 'entry 1 must be NAME:SECRET'],
      [`:${orders}`, 'entry 1 must be NAME:SECRET'],
      [`Orders:${orders}`, 'entry 1 must be NAME:SECRET'],
      [`orders:${orders},orders:${billing}`, 'names the service orders twice'],
      [`orders:short`, 'the secret of orders must be at least 32 characters'],
      [`orders:${orders.slice(1)} x`, 'the secret of orders must be at least 32 characters'],
      [`orders:${orders},billing:${orders}`, "the secret of billing is another's"],
    ])('refuses %s: %s', (list, message) => {
      expect(fieldOf(() => auth(list))).toBe('ENDORSE_CREDENTIALS')
      expect(() => auth(list)).toThrow(message)
    })

    const name = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,62}$/)
    const secret = fc.stringMatching(/^[A-Za-z0-9_-]{32,64}$/)

    it('reads back every list of distinct names and secrets it is given', () => {
      fc.assert(
        fc.property(
          fc.uniqueArray(fc.tuple(name, secret), {
            minLength: 1,
            maxLength: 6,
            selector: ([n]) => n,
          }),
          (pairs) => {
            fc.pre(new Set(pairs.map(([, s]) => s)).size === pairs.length)
            const list = pairs.map(([n, s]) => `${n}:${s}`).join(',')
            expect(serviceCredentials(list, undefined)).toEqual(Object.fromEntries(pairs))
          },
        ),
      )
    })

    it('answers any text with credentials or a ConfigurationError that shows no secret', () => {
      const entry = fc.oneof(
        fc.tuple(name, secret).map(([n, s]) => `${n}:${s}`),
        fc.tuple(fc.string(), fc.constantFrom(':', '', ' : '), secret).map((p) => p.join('')),
        fc.string(),
      )
      fc.assert(
        fc.property(fc.array(entry, { minLength: 1, maxLength: 5 }), (entries) => {
          const list = entries.join(',')
          try {
            const credentials = serviceCredentials(list, undefined)
            for (const value of Object.values(credentials ?? {})) {
              expect(value.length).toBeGreaterThanOrEqual(32)
            }
          } catch (error) {
            expect(error).toBeInstanceOf(ConfigurationError)
            for (const match of list.matchAll(/[A-Za-z0-9_-]{32,}/g)) {
              expect((error as Error).message).not.toContain(match[0])
            }
          }
        }),
      )
    })
  })
})
