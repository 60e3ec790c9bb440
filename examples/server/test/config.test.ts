import { describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config.js'

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

  it.each([
    [['--store', 'mongo'], {}, 'STORE'],
    [['--crypto', 'rsa'], {}, 'CRYPTO'],
    [[], { PORT: '70000' }, 'PORT'],
    [[], { CLOCK_SKEW_MS: 'soon' }, 'CLOCK_SKEW_MS'],
    [['--bogus'], {}, '--bogus'],
    [['--port'], {}, '--port'],
  ])('names the bad option: %j %j', (argv, env, field) => {
    expect(fieldOf(() => loadConfig(argv, env))).toBe(field)
  })
})
