import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, DEFAULTS, loadConfig, parseConfig, parseServer } from './config.js'
import { DEFAULT_CONFIG, PACKAGE_DIR, parseArgs } from './main.js'
import { substitute } from './process.js'

const REFERENCE_DIR =
  process.env['BETTER_AUTH_REFERENCE_DIR'] ?? resolve(PACKAGE_DIR, '../../shared/reference')

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
  it('declares our server conformant and every reference server and client of the archives', async () => {
    const config = await loadConfig(DEFAULT_CONFIG)
    expect(config.servers.map((spec) => [spec.name, spec.expect, spec.build, spec.netns])).toEqual([
      ['ours-node', 'conformant', undefined, true],
      ['ours-express', 'conformant', undefined, false],
      ['ours-hono', 'conformant', undefined, false],
      ['ours-node-http', 'conformant', undefined, false],
      ['ts', 'reference', 'ts', true],
      ['go', 'reference', 'go', true],
      ['rust', 'reference', 'rs', true],
      ['python', 'reference', 'py', true],
      ['ruby', 'reference', 'rb', true],
    ])
    expect(config.clients.map((client) => [client.name, client.unavailable !== undefined])).toEqual(
      [
        ['ts', false],
        ['python', false],
        ['rust', false],
        ['kotlin', false],
        ['dart', true],
        ['swift', true],
      ],
    )
    // Every reference server listens on the fixed port the reference clients dial.
    for (const spec of config.servers)
      expect(substitute(spec.url, { port: '8080' })).toBe('http://127.0.0.1:8080')
  })

  it('pins each build to an archive of the reference README, by commit', async () => {
    const readme = await readFile(join(REFERENCE_DIR, 'README.md'), 'utf8').catch(() => undefined)
    const config = await loadConfig(DEFAULT_CONFIG)
    expect(config.builds.map((build) => build.name)).toEqual(['ts', 'go', 'rs', 'py', 'rb', 'kt'])
    for (const build of config.builds) {
      expect(build.archive).toBe(join(REFERENCE_DIR, basename(build.archive)))
      if (readme !== undefined) {
        expect(readme).toContain(
          `| ${basename(build.archive)} | ${build.repository} | ${build.commit} |`,
        )
      }
    }
  })
})

describe('builds and clients', () => {
  const build = {
    name: 'rs',
    repository: 'o/r',
    commit: 'a'.repeat(40),
    archive: `r-${'a'.repeat(12)}.tar.gz`,
    steps: [{ command: 'cargo', args: ['build'] }],
  }
  const server = { ...minimal, command: 'x', build: 'rs', netns: true }

  it('resolve archives against referenceDir and keep placeholder cwds', () => {
    const config = parseConfig(
      {
        referenceDir: 'refs',
        builds: [build],
        servers: [server],
        clients: [
          { name: 'c', build: 'rs', command: 'cargo', results: { format: 'libtest' } },
          { name: 'd', unavailable: 'no toolchain' },
        ],
      },
      'servers.json',
      '/base',
    )
    expect(config.builds[0]).toMatchObject({
      archive: `/base/refs/r-${'a'.repeat(12)}.tar.gz`,
      steps: [{ command: 'cargo', args: ['build'], cwd: '{src}' }],
    })
    expect(config.servers[0]).toMatchObject({ build: 'rs', netns: true, start: { cwd: '{src}' } })
    expect(config.clients[0]).toMatchObject({ run: { cwd: '{src}', command: 'cargo' } })
    expect(config.clients[1]).toEqual({
      name: 'd',
      unavailable: 'no toolchain',
      results: { format: 'libtest' },
      knownFailures: {},
    })
  })

  it.each([
    ['an unknown build', { builds: [], servers: [server] }, 'servers[0].build: no build "rs"'],
    [
      'a commit that is not one',
      { builds: [{ ...build, commit: 'main' }], servers: [minimal] },
      'builds[0].commit: expected 40 hex digits',
    ],
    [
      'an archive of another commit',
      { builds: [{ ...build, archive: 'r-bbbbbbbbbbbb.tar.gz' }], servers: [minimal] },
      'builds[0].archive: the file name does not carry commit',
    ],
    [
      'a client with neither command nor reason',
      { servers: [minimal], clients: [{ name: 'c' }] },
      'clients[0]: give either a command or the reason',
    ],
    [
      'junit results without a file',
      { servers: [minimal], clients: [{ name: 'c', command: 'x', results: { format: 'junit' } }] },
      'clients[0].results.file: required for junit results',
    ],
    [
      'netns that is not a boolean',
      { servers: [{ ...minimal, command: 'x', netns: 'yes' }] },
      'servers[0].netns: expected true or false',
    ],
  ])('rejects %s', (_what, value, message) => {
    expect(configError(value).message).toContain(message)
  })

  it('takes the archive directory from BETTER_AUTH_REFERENCE_DIR when set', () => {
    const before = process.env['BETTER_AUTH_REFERENCE_DIR']
    process.env['BETTER_AUTH_REFERENCE_DIR'] = '/elsewhere'
    try {
      const config = parseConfig({ builds: [build], servers: [minimal] }, 'servers.json', '/base')
      expect(config.builds[0]?.archive).toBe(`/elsewhere/${build.archive}`)
    } finally {
      if (before === undefined) delete process.env['BETTER_AUTH_REFERENCE_DIR']
      else process.env['BETTER_AUTH_REFERENCE_DIR'] = before
    }
  })
})

describe('parseConfig', () => {
  it('fills in defaults and resolves cwd against the config directory', () => {
    const {
      servers: [spec],
    } = parseConfig(
      { servers: [{ ...minimal, command: 'node', cwd: 'sub', prepare: [{ command: 'true' }] }] },
      'servers.json',
      '/base',
    )
    expect(spec).toEqual({
      name: 'mine',
      expect: 'conformant',
      netns: false,
      knownFailures: {},
      diagnoses: {},
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
