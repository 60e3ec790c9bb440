import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, DEFAULTS, loadConfig, parseConfig, parseServer } from './config.js'
import { DEFAULT_CONFIG, PACKAGE_DIR, parseArgs } from './main.js'

const minimal = { name: 'mine', url: 'http://127.0.0.1:9000' }

function configError(value: unknown): ConfigError {
  try {
    parseConfig(value, 'servers.json', '/base')
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return error as ConfigError
  }
  throw new Error('expected a ConfigError')
}

describe('the shipped servers.json', () => {
  it('is valid and declares our server as conformant and the Go reference as reference', async () => {
    const specs = await loadConfig(DEFAULT_CONFIG)
    expect(specs.map((spec) => [spec.name, spec.expect])).toEqual([
      ['example-server', 'conformant'],
      ['go-reference', 'reference'],
    ])
    const go = specs[1]!
    expect(go.url).toBe('http://127.0.0.1:8080')
    expect(go.start?.cwd).toBe(join(PACKAGE_DIR, 'reference/go'))
  })

  it('pins the same Go module version as reference/go/go.mod', async () => {
    const { readFile } = await import('node:fs/promises')
    const goMod = await readFile(join(PACKAGE_DIR, 'reference/go/go.mod'), 'utf8')
    const pinned = /require github\.com\/jasoncolburne\/better-auth-go (\S+)/.exec(goMod)?.[1]
    const go = (await loadConfig(DEFAULT_CONFIG)).find((spec) => spec.name === 'go-reference')!
    expect(pinned).toMatch(/^v\d/)
    expect(go.prepare[0]?.args).toContain(`github.com/jasoncolburne/better-auth-go@${pinned}`)
  })
})

describe('parseConfig', () => {
  it('fills in defaults and resolves cwd against the config directory', () => {
    const [spec] = parseConfig(
      { servers: [{ ...minimal, command: 'node', cwd: 'sub', prepare: [{ command: 'true' }] }] },
      'servers.json',
      '/base',
    )
    expect(spec).toEqual({
      name: 'mine',
      expect: 'conformant',
      knownFailures: {},
      url: 'http://127.0.0.1:9000',
      start: { command: 'node', args: [], cwd: '/base/sub', env: {} },
      prepare: [
        { command: 'true', args: [], cwd: '/base/sub', env: {}, timeoutMs: DEFAULTS.stepTimeoutMs },
      ],
      readiness: {
        timeoutMs: DEFAULTS.readinessTimeoutMs,
        intervalMs: DEFAULTS.readinessIntervalMs,
      },
      stopTimeoutMs: DEFAULTS.stopTimeoutMs,
    })
  })

  it.each([
    ['not an object', [], 'servers.json: expected an object, got an array'],
    ['no servers', { servers: [] }, 'servers.json.servers: expected a non-empty array'],
    [
      'an unknown field (a typo)',
      { servers: [{ ...minimal, comand: 'x' }] },
      'servers.json.servers[0].comand: unknown field',
    ],
    [
      'a non-loopback URL',
      { servers: [{ ...minimal, url: 'http://example.com:8080' }] },
      'servers.json.servers[0].url: only loopback hosts',
    ],
    [
      'a URL with a path',
      { servers: [{ ...minimal, url: 'http://127.0.0.1:8080/api' }] },
      'give the base URL only',
    ],
    [
      '{port} without a port',
      { servers: [{ ...minimal, url: 'http://127.0.0.1:{port}' }] },
      'servers.json.servers[0].port: required when the url contains {port}',
    ],
    [
      'a bad expectation',
      { servers: [{ ...minimal, expect: 'perfect' }] },
      'servers.json.servers[0].expect: expected "conformant" or "reference"',
    ],
    [
      'args that are not strings',
      { servers: [{ ...minimal, command: 'x', args: ['--port', 8080] }] },
      'servers.json.servers[0].args[1]: expected a string, got a number',
    ],
    [
      'env values that are not strings',
      { servers: [{ ...minimal, command: 'x', env: { PORT: 1 } }] },
      'servers.json.servers[0].env.PORT: expected a string, got a number',
    ],
    [
      'prepare without a command to start',
      { servers: [{ ...minimal, prepare: [{ command: 'make' }] }] },
      'servers.json.servers[0].prepare: only meaningful with a command',
    ],
    [
      'a negative readiness timeout',
      { servers: [{ ...minimal, readiness: { timeoutMs: -1 } }] },
      'servers.json.servers[0].readiness.timeoutMs: expected an integer from 1',
    ],
    [
      'a prepare step without a command',
      { servers: [{ ...minimal, command: 'x', prepare: [{ args: [] }] }] },
      'servers.json.servers[0].prepare[0].command: expected a non-empty string, got nothing',
    ],
    [
      'duplicate names',
      { servers: [minimal, minimal] },
      'servers.json.servers[1].name: duplicate name "mine"',
    ],
    [
      'a name that cannot be a column',
      { servers: [{ ...minimal, name: 'my server' }] },
      'servers.json.servers[0].name: use letters',
    ],
  ])('rejects %s with the field path', (_what, value, message) => {
    expect(configError(value).message).toContain(message)
  })
})

describe('loadConfig', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'better-auth-interop-config-'))
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  it('names the file when it is missing or not JSON', async () => {
    await expect(loadConfig(join(dir, 'absent.json'))).rejects.toThrow(/absent\.json: cannot read/)
    const broken = join(dir, 'broken.json')
    await writeFile(broken, '{"servers": [')
    await expect(loadConfig(broken)).rejects.toThrow(/broken\.json: not valid JSON/)
  })
})

describe('parseArgs', () => {
  it('defaults to the shipped config and report path', () => {
    const options = parseArgs([])
    expect(options.config).toBe(DEFAULT_CONFIG)
    expect(options.json).toBe(join(PACKAGE_DIR, 'reports/interop.json'))
    expect(options.only).toEqual([])
  })

  it('accepts repeated --only, --flag=value and --url with its expectation', () => {
    expect(parseArgs(['--only', 'a', '--only=b']).only).toEqual(['a', 'b'])
    expect(
      parseArgs(['--url', 'http://localhost:8080/', '--expect', 'reference', '--name', 'py']),
    ).toMatchObject({ url: 'http://localhost:8080', expect: 'reference', name: 'py' })
  })

  it.each([
    [['--bogus'], '--bogus: unknown option'],
    [['--only'], '--only: needs a value'],
    [['--url', 'http://10.0.0.1:8080'], '--url: only loopback hosts'],
    [['--url', 'http://127.0.0.1:8080', '--only', 'x'], 'cannot be combined'],
    [['--expect', 'reference'], '--expect: only meaningful with --url'],
    [['--json', 'a', '--json', 'b'], '--json: given more than once'],
  ])('rejects %j', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(ConfigError)
    expect(() => parseArgs(argv)).toThrow(message)
  })
})

describe('knownFailures', () => {
  it('is refused on a conformant server', () => {
    expect(() =>
      parseServer(
        { name: 'x', url: 'http://127.0.0.1:1', knownFailures: { 'scenario-1': 'why' } },
        'servers[0]',
        '/tmp',
      ),
    ).toThrow(/conformant server must pass every scenario/)
  })
})
