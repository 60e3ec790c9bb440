import { NobleP256SigningKey } from '@better-auth/crypto'
import {
  BetterAuthError,
  ConfigurationError,
  InvalidMessageError,
  MAX_JSON_DEPTH,
  MismatchedIdentitiesError,
} from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'
import { BetterAuthClient } from './client.js'
import type { BetterAuthClientOptions } from './options.js'
import {
  clientOptions,
  createClient,
  createStores,
  createWorld,
  recoveryPair,
} from '../../server/src/testing-internal/client-world.js'

// noble's getTypeTestsNonUi8a idea: every kind of wrong value, plus near-misses of the right one.
const notDigests: unknown[] = [
  undefined,
  null,
  0,
  1n,
  true,
  {},
  [],
  () => 'E',
  '',
  'E',
  `E${'A'.repeat(42)}`,
  `E${'A'.repeat(44)}`,
  `E${'A'.repeat(42)}=`,
  `F${'A'.repeat(43)}`,
  // Non-zero pad bits after the code: not a canonical digest.
  `E${'Z'.repeat(43)}`,
  `1AAI${'A'.repeat(44)}`,
  new String(`E${'A'.repeat(43)}`),
]

const notJson: unknown[] = [
  undefined,
  () => 1,
  Symbol('x'),
  1n,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  new Date(0),
  new Map(),
  { nested: { value: undefined } },
  [1, undefined],
  { toJSON: () => 'sneaky' },
  (() => {
    const cyclic: Record<string, unknown> = {}
    cyclic['self'] = cyclic
    return cyclic
  })(),
  (() => {
    let deep: unknown = 'leaf'
    for (let i = 0; i < 200; i++) deep = [deep]
    return deep
  })(),
]

async function setup() {
  const world = createWorld()
  const { client, stores } = await createClient(world)
  const ids = await client.createAccount((await recoveryPair()).hash)
  await client.createSession()
  return { world, server: world.server, client, stores, ids }
}

async function expectTypedRejection(promise: Promise<unknown>, field: string) {
  const error = await promise.catch((e: unknown) => e)
  expect(error).toBeInstanceOf(InvalidMessageError)
  expect((error as InvalidMessageError).context['field']).toBe(field)
}

describe('argument validation', () => {
  it.each(notDigests)('createAccount(%s) rejects before touching the key store', async (value) => {
    const world = createWorld()
    const { client, stores } = await createClient(world)
    await expectTypedRejection(client.createAccount(value as string), 'recoveryHash')
    await expect(stores.authenticationKey.signer()).rejects.toMatchObject({ code: 'BA901' })
    expect(world.server.requests).toHaveLength(0)
  })

  it.each(notDigests)(
    'generateLinkContainer(%s) rejects before touching the key store',
    async (value) => {
      const { client, stores } = await createClient(createWorld())
      await expectTypedRejection(client.generateLinkContainer(value as string), 'identity')
      await expect(stores.authenticationKey.signer()).rejects.toMatchObject({ code: 'BA901' })
    },
  )

  it.each(notDigests)(
    'unlinkDevice, changeRecoveryKey and recoverAccount reject %s',
    async (value) => {
      const { server, client, stores } = await setup()
      const key = await (await stores.authenticationKey.signer()).public()
      const sentBefore = server.requests.length
      const recovery = NobleP256SigningKey.generate()
      const digest = (await recoveryPair()).hash
      await expectTypedRejection(client.unlinkDevice(value as string), 'device')
      await expectTypedRejection(client.changeRecoveryKey(value as string), 'recoveryHash')
      await expectTypedRejection(
        client.recoverAccount(value as string, recovery, digest),
        'identity',
      )
      await expectTypedRejection(
        client.recoverAccount(digest, recovery, value as string),
        'nextRecoveryHash',
      )
      expect(await (await stores.authenticationKey.signer()).public()).toBe(key)
      expect(server.requests).toHaveLength(sentBefore)
    },
  )

  it.each([undefined, null, 'key', {}, { sign: () => 'x' }])(
    'recoverAccount rejects recoveryKey %j',
    async (key) => {
      const { client } = await setup()
      const digest = (await recoveryPair()).hash
      await expectTypedRejection(client.recoverAccount(digest, key as never, digest), 'recoveryKey')
    },
  )

  it('recoverAccount rejects a recovery key whose public key is malformed, keeping the chain', async () => {
    const { server, client, stores } = await setup()
    const before = await (await stores.authenticationKey.signer()).public()
    const sentBefore = server.requests.length
    const real = NobleP256SigningKey.generate()
    const broken = {
      public: () => Promise.resolve('not-a-key'),
      sign: (message: string) => real.sign(message),
      verify: (message: string, signature: string) => real.verify(message, signature),
      verifier: () => real.verifier(),
    }
    const digest = (await recoveryPair()).hash
    await expectTypedRejection(
      client.recoverAccount(digest, broken, digest),
      'recoveryKey.public()',
    )
    expect(await (await stores.authenticationKey.signer()).public()).toBe(before)
    expect(server.requests).toHaveLength(sentBefore)
  })

  it.each([undefined, null, 1, {}, '', 'foo/bar', ' /foo', '/foo bar', 'https://evil.example/x'])(
    'makeAccessRequest rejects path %j',
    async (path) => {
      const { server, client } = await setup()
      const sentBefore = server.requests.length
      await expectTypedRejection(client.makeAccessRequest(path as string, {}), 'path')
      expect(server.requests).toHaveLength(sentBefore)
    },
  )

  it.each(notJson)('makeAccessRequest rejects request %#', async (request) => {
    const { server, client } = await setup()
    const sentBefore = server.requests.length
    await expectTypedRejection(client.makeAccessRequest('/foo/bar', request as never), 'request')
    expect(server.requests).toHaveLength(sentBefore)
  })

  it('makeAccessRequest accepts null-prototype objects and nesting within the bound', async () => {
    const { client } = await setup()
    const request = Object.assign(Object.create(null) as object, { foo: 'f', bar: 'b' })
    await expect(client.makeAccessRequest('/foo/bar', request as never)).resolves.toEqual({
      wasFoo: 'f',
      wasBar: 'b',
    })
    let deep: unknown = 'leaf'
    for (let i = 0; i < MAX_JSON_DEPTH - 1; i++) deep = [deep]
    await expect(
      client.makeAccessRequest('/foo/bar', { foo: deep as never }),
    ).resolves.toBeDefined()
  })

  it('makeAccessRequest refuses nesting the server would refuse, before sending it', async () => {
    const { server, client } = await setup()
    const sentBefore = server.requests.length
    let deep: unknown = 'leaf'
    for (let i = 0; i < MAX_JSON_DEPTH; i++) deep = [deep]
    await expectTypedRejection(
      client.makeAccessRequest('/foo/bar', { foo: deep as never }),
      'request',
    )
    expect(server.requests).toHaveLength(sentBefore)
  })
})

describe('linkDevice container validation', () => {
  async function containerFor(identity: string) {
    const world = createWorld()
    const { client } = await createClient(world)
    return client.generateLinkContainer(identity)
  }

  it.each([
    ['a non-string', 42, 'container'],
    ['not JSON', '{payload', 'message'],
    ['an empty object', '{}', 'message.payload'],
    ['an array', '[]', 'message'],
  ])('rejects %s before any network or key work', async (_, container, field) => {
    const { server, client } = await setup()
    const sentBefore = server.requests.length
    const error = await client.linkDevice(container as string).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InvalidMessageError)
    expect((error as InvalidMessageError).context['field']).toBe(field)
    expect(server.requests).toHaveLength(sentBefore)
  })

  it('rejects containers with a missing signature, an extra field or a wrong type', async () => {
    const { server, client, ids } = await setup()
    const container = JSON.parse(await containerFor(ids.identity))
    const sentBefore = server.requests.length
    const variants = [
      { payload: container.payload },
      { ...container, extra: 1 },
      { ...container, signature: 'nope' },
      {
        payload: { authentication: { ...container.payload.authentication, device: 1 } },
        signature: container.signature,
      },
      {
        payload: { authentication: { ...container.payload.authentication, role: 'admin' } },
        signature: container.signature,
      },
    ]
    for (const variant of variants) {
      await expect(client.linkDevice(JSON.stringify(variant))).rejects.toMatchObject({
        code: 'BA101',
      })
    }
    expect(server.requests).toHaveLength(sentBefore)
  })

  it('rejects a container for another identity with MismatchedIdentitiesError, without sending', async () => {
    const { server, client, stores } = await setup()
    const before = await (await stores.authenticationKey.signer()).public()
    const sentBefore = server.requests.length
    const container = await containerFor((await recoveryPair()).hash)
    await expect(client.linkDevice(container)).rejects.toBeInstanceOf(MismatchedIdentitiesError)
    expect(server.requests).toHaveLength(sentBefore)
    expect(await (await stores.authenticationKey.signer()).public()).toBe(before)
  })
})

describe('constructor options', () => {
  function validOptions(): BetterAuthClientOptions {
    return clientOptions(createWorld().server, createStores())
  }

  function fieldOf(build: () => unknown): unknown {
    try {
      build()
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigurationError)
      expect((error as ConfigurationError).code).toBe('BA001')
      return (error as ConfigurationError).context['field']
    }
    throw new Error('expected a ConfigurationError')
  }

  function without(path: string): BetterAuthClientOptions {
    const options = validOptions() as any
    const copy = {
      ...options,
      crypto: { ...options.crypto },
      encoding: { ...options.encoding },
      io: { ...options.io },
      stores: { ...options.stores },
    }
    const [section, key] = path.split('.') as [string, string | undefined]
    if (key === undefined) delete copy[section]
    else delete copy[section][key]
    return copy
  }

  it.each([
    ['crypto', 'crypto'],
    ['encoding', 'encoding'],
    ['io', 'io'],
    ['stores', 'stores'],
    ['crypto.hasher', 'crypto.hasher'],
    ['crypto.noncer', 'crypto.noncer'],
    ['encoding.timestamper', 'encoding.timestamper'],
    ['io.network', 'io.network'],
    ['stores.identity', 'stores.identity'],
    ['stores.device', 'stores.device'],
    ['stores.accessToken', 'stores.accessToken'],
    ['stores.authenticationKey', 'stores.authenticationKey'],
    ['stores.accessKey', 'stores.accessKey'],
    ['stores.responseKeys', 'stores.responseKeys'],
  ])('names a missing %s', (path, field) => {
    expect(fieldOf(() => new BetterAuthClient(without(path)))).toBe(field)
  })

  it.each([
    ['crypto.hasher.sum', (o: any) => (o.crypto = { ...o.crypto, hasher: {} })],
    [
      'crypto.noncer.generate128',
      (o: any) => (o.crypto = { ...o.crypto, noncer: { generate128: 1 } }),
    ],
    [
      'encoding.timestamper.format',
      (o: any) => (o.encoding = { timestamper: { now: () => new Date() } }),
    ],
    ['io.network.sendRequest', (o: any) => (o.io = { network: {} })],
    [
      'stores.identity.clear',
      (o: any) => (o.stores = { ...o.stores, identity: { store() {}, get() {} } }),
    ],
    [
      'stores.accessKey.commit',
      (o: any) =>
        (o.stores = {
          ...o.stores,
          accessKey: { ...o.stores.identity, initialize() {}, signer() {}, next() {} },
        }),
    ],
    ['stores.responseKeys.get', (o: any) => (o.stores = { ...o.stores, responseKeys: {} })],
    ['paths', (o: any) => (o.paths = 'x')],
    ['paths.rotateDevice', (o: any) => (o.paths = { rotateDevice: 'device/rotate' })],
    ['paths.rotateDevice', (o: any) => (o.paths = { rotateDevice: 7 })],
    ['paths.fooBar', (o: any) => (o.paths = { fooBar: '/foo/bar' })],
    ['stores', (o: any) => (o.stores = { ...o.stores, device: o.stores.identity })],
    ['stores', (o: any) => (o.stores = { ...o.stores, accessKey: o.stores.authenticationKey })],
  ])('names an invalid %s', (field, mutate) => {
    const options = validOptions() as any
    mutate(options)
    expect(fieldOf(() => new BetterAuthClient(options))).toBe(field)
  })

  it.each([undefined, null, 'options'])('rejects options %j', (options) => {
    expect(fieldOf(() => new BetterAuthClient(options as never))).toBe('options')
  })

  it('does not modify the options object', () => {
    const options = validOptions()
    const snapshot = { ...options, stores: { ...options.stores } }
    new BetterAuthClient(options)
    expect(options).toEqual(snapshot)
    expect(Object.keys(options)).toEqual(Object.keys(snapshot))
  })

  it('sends to overridden paths and keeps the defaults for the rest', async () => {
    const world = createWorld()
    const stores = createStores()
    await stores.responseKeys.add(world.responseKey)
    const paths: string[] = []
    const client = new BetterAuthClient({
      ...clientOptions(
        {
          sendRequest: (path, message) => {
            paths.push(path)
            return world.server.sendRequest(path.replace('/v2', ''), message)
          },
        },
        stores,
      ),
      paths: { createAccount: '/v2/account/create', rotateDevice: undefined },
    })
    await client.createAccount((await recoveryPair()).hash)
    await client.rotateDevice()
    expect(paths).toEqual(['/v2/account/create', '/device/rotate'])
  })
})

it('every error thrown is a BetterAuthError with a stable code', async () => {
  const { client } = await setup()
  const errors = await Promise.all([
    client.createAccount(null as never).catch((e: unknown) => e),
    client.linkDevice('{').catch((e: unknown) => e),
    client.makeAccessRequest('/x', undefined as never).catch((e: unknown) => e),
  ])
  for (const error of errors) {
    expect(error).toBeInstanceOf(BetterAuthError)
    expect((error as BetterAuthError).code).toMatch(/^BA\d{3}$/)
  }
})
