/**
 * Replacing a key chain (createAccount, generateLinkContainer, recoverAccount, createSession) is
 * two-phase: the new chain signs the request from a prepared state and is installed only once the
 * server's response is verified. These tests show that every failure leaves the previous chain,
 * account and session exactly as they were.
 */
import { NobleP256SigningKey } from '@better-auth/crypto'
import {
  ConfigurationError,
  InvalidStateError,
  NetworkError,
  AlreadyExistsError,
  InvalidHashError,
} from '@better-auth/protocol'
import type { ClientRotatingKeyStore, PreparedChain, SigningKey } from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'
import { BetterAuthClient } from './client.js'
import type { Network } from './network.js'
import {
  clientOptions,
  createStores,
  createWorld,
  decode,
  generateKey,
  hasher,
  recoveryPair,
  type Fault,
  type Stores,
  type World,
} from '../../server/src/testing-internal/client-world.js'
import { MemoryRotatingKeyStore } from './stores/memory-rotating-key-store.js'

const sent = (message: string) => decode<any>(message)
const fooBar = { foo: 'f', bar: 'b' }

const requestFaults: Fault[] = [
  'offline',
  'wrong-nonce',
  'bad-signature',
  'unknown-key',
  'tampered-payload',
]

/** Passes requests to the world's server, except that `refuse` answers one path with an error. */
class Switchboard implements Network {
  refuse: { path: string; code: string } | undefined
  /** Runs before a request to `path` is passed on: another tab acting in the middle. */
  meanwhile: { path: string; run: () => Promise<unknown> } | undefined

  readonly #world: World

  constructor(world: World) {
    this.#world = world
  }

  async sendRequest(path: string, message: string): Promise<string> {
    if (this.meanwhile?.path === path) {
      const { run } = this.meanwhile
      this.meanwhile = undefined
      await run()
    }
    if (this.refuse?.path === path) {
      const { code } = this.refuse
      this.refuse = undefined
      this.#world.server.requests.push({ path, message })
      return JSON.stringify({ error: { code, message: 'refused' } })
    }
    return this.#world.server.sendRequest(path, message)
  }
}

async function start(stores: Stores = createStores()) {
  const world = createWorld()
  const network = new Switchboard(world)
  await stores.responseKeys.add(world.responseKey)
  const client = new BetterAuthClient(clientOptions(network, stores))
  const recovery = await recoveryPair()
  const ids = await client.createAccount(recovery.hash)
  await client.createSession()
  return { world, server: world.server, network, client, stores, recovery, ids }
}

type Setup = Awaited<ReturnType<typeof start>>

async function snapshot({ stores }: Setup) {
  return {
    identity: await stores.identity.get(),
    device: await stores.device.get(),
    token: await stores.accessToken.get(),
    authKey: await (await stores.authenticationKey.signer()).public(),
    accessKey: await (await stores.accessKey.signer()).public(),
  }
}

/** The device still works: its session, its access-key chain and its authentication chain. */
async function expectWorking({ client }: Setup) {
  await expect(client.makeAccessRequest('/foo/bar', fooBar)).resolves.toEqual({
    wasFoo: 'f',
    wasBar: 'b',
  })
  await client.refreshSession()
  await client.rotateDevice()
  await client.createSession()
  await expect(client.makeAccessRequest('/foo/bar', fooBar)).resolves.toBeDefined()
}

describe('recoverAccount on a device whose chain still works', () => {
  it('refused by the server (wrong recovery key): keeps chain, account and session', async () => {
    const setup = await start()
    const before = await snapshot(setup)
    const wrong = await recoveryPair()
    const error = await setup.client
      .recoverAccount(setup.ids.identity, wrong.key, (await recoveryPair()).hash)
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InvalidHashError)
    expect(error).toMatchObject({ code: 'BA104' })
    expect(await snapshot(setup)).toEqual(before)
    await expectWorking(setup)
  })

  it.each(requestFaults)(
    'with %s: keeps chain, account and session; the retry recovers',
    async (fault) => {
      const setup = await start()
      const { server, client, ids, recovery } = setup
      const before = await snapshot(setup)
      server.inject(fault, '/account/recover')
      const next = await recoveryPair()
      await expect(client.recoverAccount(ids.identity, recovery.key, next.hash)).rejects.toThrow()
      expect(await snapshot(setup)).toEqual(before)
      await expectWorking(setup)

      const recovered = await client.recoverAccount(ids.identity, recovery.key, next.hash)
      expect(recovered.device).not.toBe(ids.device)
      expect(await setup.stores.device.get()).toBe(recovered.device)
      expect(await setup.stores.accessToken.get()).toBeUndefined()
      await client.rotateDevice()
      await client.createSession()
    },
  )

  it('whose response was lost: the server moved on, and the next recovery key recovers', async () => {
    const setup = await start()
    const { server, client, ids, recovery } = setup
    const before = await snapshot(setup)
    server.inject('lose-response', '/account/recover')
    const next = await recoveryPair()
    await expect(
      client.recoverAccount(ids.identity, recovery.key, next.hash),
    ).rejects.toBeInstanceOf(NetworkError)
    // Locally nothing changed, but the server revoked this device along with all others (and
    // answers its rotation as it answers a wrong key).
    expect(await snapshot(setup)).toEqual(before)
    expect(await setup.world.deviceKey(ids.identity, ids.device)).toBeUndefined()
    await expect(client.rotateDevice()).rejects.toMatchObject({ code: 'BA104' })
    // The recovery key is spent; the one whose hash was sent as next is now the recovery key.
    await expect(
      client.recoverAccount(ids.identity, recovery.key, (await recoveryPair()).hash),
    ).rejects.toMatchObject({ code: 'BA104' })
    await client.recoverAccount(ids.identity, next.key, (await recoveryPair()).hash)
    await client.rotateDevice()
  })
})

describe('createAccount and generateLinkContainer keep a previous chain', () => {
  it('a failed createAccount keeps the chain, including a pending rotation', async () => {
    const setup = await start()
    const { server, client, network } = setup
    server.inject('offline', '/device/rotate')
    await expect(client.rotateDevice()).rejects.toBeInstanceOf(NetworkError)
    const pending = sent(server.lastRequest.message).payload.request.authentication
    const before = await snapshot(setup)

    server.inject('offline', '/account/create')
    await expect(client.createAccount((await recoveryPair()).hash)).rejects.toBeInstanceOf(
      NetworkError,
    )
    network.refuse = { path: '/account/create', code: 'BA602' }
    await expect(client.createAccount((await recoveryPair()).hash)).rejects.toBeInstanceOf(
      AlreadyExistsError,
    )
    expect(await snapshot(setup)).toEqual(before)

    // The rotation prepared before is still the one the retry sends.
    await client.rotateDevice()
    const retry = sent(server.lastRequest.message).payload.request.authentication
    expect(retry.publicKey).toBe(pending.publicKey)
    expect(retry.rotationHash).toBe(pending.rotationHash)
    await expectWorking(setup)
  })

  it('a failed generateLinkContainer keeps the chain and the account', async () => {
    let failSigning = false
    const stores = createStores()
    stores.authenticationKey = new MemoryRotatingKeyStore({
      generate: async () => {
        const key = await generateKey()
        return failSigning ? refusingToSign(key) : key
      },
      hasher,
    })
    const setup = await start(stores)
    const before = await snapshot(setup)
    const other = await startOther(setup.world)

    failSigning = true
    await expect(setup.client.generateLinkContainer(other.identity)).rejects.toThrow('dismissed')
    failSigning = false
    expect(await snapshot(setup)).toEqual(before)
    await expectWorking(setup)

    // Joining the other account works once signing does, and only then replaces the chain.
    const container = await setup.client.generateLinkContainer(other.identity)
    expect(await stores.identity.get()).toBe(other.identity)
    expect(await (await stores.authenticationKey.signer()).public()).not.toBe(before.authKey)
    await other.client.linkDevice(container)
    await setup.client.rotateDevice()
  })
})

describe('createSession keeps the previous session when it fails', () => {
  it.each(requestFaults)('%s at /session/create', async (fault) => {
    const setup = await start()
    const before = await snapshot(setup)
    setup.server.inject(fault, '/session/create')
    await expect(setup.client.createSession()).rejects.toThrow()
    expect(await snapshot(setup)).toEqual(before)
    await expectWorking(setup)
  })

  it.each(['/session/request', '/session/create'])('refused at %s', async (path) => {
    const setup = await start()
    const before = await snapshot(setup)
    setup.network.refuse = { path, code: 'BA103' }
    await expect(setup.client.createSession()).rejects.toMatchObject({
      name: 'InvalidDeviceError',
      code: 'BA103',
    })
    expect(await snapshot(setup)).toEqual(before)
    await expectWorking(setup)
  })

  it('a successful createSession replaces the access key and the token together', async () => {
    const setup = await start()
    const before = await snapshot(setup)
    await setup.client.createSession()
    const after = await snapshot(setup)
    expect(after.token).not.toBe(before.token)
    expect(after.accessKey).not.toBe(before.accessKey)
    expect((await setup.world.token(after.token!)).publicKey).toBe(after.accessKey)
  })
})

describe('a chain changed by someone else while the request was in flight', () => {
  it('createSession does not install its key over it (InvalidStateError)', async () => {
    const setup = await start()
    const { client, network, stores } = setup
    let installed = ''
    network.meanwhile = {
      path: '/session/create',
      run: async () => (installed = (await stores.accessKey.initialize()).publicKey),
    }
    await expect(client.createSession()).rejects.toBeInstanceOf(InvalidStateError)
    const sentKey = sent(setup.server.lastRequest.message).payload.request.access.publicKey
    expect(await (await stores.accessKey.signer()).public()).toBe(installed)
    expect(installed).not.toBe(sentKey)
    // The old token named the replaced key: it was dropped right before the refused commit.
    expect(await stores.accessToken.get()).toBeUndefined()
    await client.createSession()
  })

  it('recoverAccount does not install its chain over it, nor adopt the device', async () => {
    const setup = await start()
    const { client, network, stores, ids, recovery } = setup
    let installed = ''
    network.meanwhile = {
      path: '/account/recover',
      run: async () => (installed = (await stores.authenticationKey.initialize()).publicKey),
    }
    await expect(
      client.recoverAccount(ids.identity, recovery.key, (await recoveryPair()).hash),
    ).rejects.toBeInstanceOf(InvalidStateError)
    expect(await (await stores.authenticationKey.signer()).public()).toBe(installed)
    expect(await stores.device.get()).toBe(ids.device)
  })
})

describe('how the client drives a prepared chain', () => {
  function recording(inner: MemoryRotatingKeyStore, calls: string[], discardFails = false) {
    const store: ClientRotatingKeyStore = {
      initialize: () => inner.initialize(),
      signer: () => inner.signer(),
      next: () => inner.next(),
      commit: () => inner.commit(),
      clear: () => inner.clear(),
      prepareInitialize: async (): Promise<PreparedChain> => {
        const prepared = await inner.prepareInitialize()
        calls.push('prepare')
        return {
          publicKey: prepared.publicKey,
          rotationHash: prepared.rotationHash,
          signer: prepared.signer,
          commit: async () => {
            calls.push('commit')
            await prepared.commit()
          },
          discard: async () => {
            calls.push('discard')
            if (discardFails) throw new Error('discard failed')
            await prepared.discard()
          },
        }
      },
    }
    return store
  }

  it('commits after the verified response, and discards on failure without masking it', async () => {
    const world = createWorld()
    const stores = createStores()
    await stores.responseKeys.add(world.responseKey)
    const calls: string[] = []
    const options = clientOptions(world.server, stores)
    const client = new BetterAuthClient({
      ...options,
      stores: { ...stores, accessKey: recording(stores.accessKey, calls, true) },
    })
    await client.createAccount((await recoveryPair()).hash)
    await client.createSession()
    expect(calls).toEqual(['prepare', 'commit'])

    calls.length = 0
    world.server.inject('offline', '/session/create')
    await expect(client.createSession()).rejects.toBeInstanceOf(NetworkError)
    expect(calls).toEqual(['prepare', 'discard'])
    await client.makeAccessRequest('/foo/bar', fooBar)
  })

  it('prepares nothing when an argument or the recovery key is rejected', async () => {
    const setup = await start()
    const calls: string[] = []
    const client = new BetterAuthClient({
      ...clientOptions(setup.world.server, setup.stores),
      stores: {
        ...setup.stores,
        authenticationKey: recording(setup.stores.authenticationKey, calls),
      },
    })
    const broken: SigningKey = {
      ...refusingToSign(NobleP256SigningKey.generate()),
      public: () => Promise.resolve('nope'),
    }
    await expect(
      client.recoverAccount(setup.ids.identity, broken, setup.recovery.hash),
    ).rejects.toMatchObject({ name: 'InvalidMessageError' })
    expect(calls).toEqual([])
  })
})

describe('validation of prepareInitialize', () => {
  it('refuses a store without prepareInitialize at construction, naming it', () => {
    const stores = createStores()
    const store = legacyShape(stores)
    const error = (() => {
      try {
        new BetterAuthClient({
          ...clientOptions(createWorld().server, stores),
          stores: { ...stores, accessKey: store as never },
        })
      } catch (e) {
        return e
      }
      return undefined
    })()
    // Preparation is mandatory: a store that replaced its chain before the server answered
    // would lose it whenever the request fails.
    expect(error).toBeInstanceOf(ConfigurationError)
    expect((error as ConfigurationError).context['field']).toBe(
      'stores.accessKey.prepareInitialize',
    )
  })

  it('rejects a prepareInitialize that is not a function, naming it', () => {
    const stores = createStores()
    const error = (() => {
      try {
        new BetterAuthClient({
          ...clientOptions(createWorld().server, stores),
          stores: {
            ...stores,
            accessKey: { ...legacyShape(stores), prepareInitialize: 7 } as never,
          },
        })
      } catch (e) {
        return e
      }
      return undefined
    })()
    expect(error).toBeInstanceOf(ConfigurationError)
    expect((error as ConfigurationError).context['field']).toBe(
      'stores.accessKey.prepareInitialize',
    )
  })

  it('rejects what a custom prepareInitialize resolved to unless it is a PreparedChain', async () => {
    const world = createWorld()
    const stores = createStores()
    await stores.responseKeys.add(world.responseKey)
    const client = new BetterAuthClient({
      ...clientOptions(world.server, stores),
      stores: {
        ...stores,
        authenticationKey: {
          ...legacyShape(stores),
          prepareInitialize: () =>
            stores.authenticationKey.initialize() as unknown as Promise<PreparedChain>,
        },
      },
    })
    const error = await client.createAccount((await recoveryPair()).hash).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigurationError)
    expect((error as ConfigurationError).context['field']).toBe(
      'stores.authenticationKey.prepareInitialize',
    )
    expect(world.server.requests).toHaveLength(0)
  })
})

/** A store as written before prepareInitialize() existed. */
function legacyShape(stores: Stores): Omit<ClientRotatingKeyStore, 'prepareInitialize'> {
  const inner = stores.authenticationKey
  return {
    initialize: () => inner.initialize(),
    signer: () => inner.signer(),
    next: () => inner.next(),
    commit: () => inner.commit(),
    clear: () => inner.clear(),
  }
}

/** A key whose owner refuses to sign (a dismissed authenticator prompt). */
function refusingToSign(key: SigningKey): SigningKey {
  return {
    public: () => key.public(),
    verifier: () => key.verifier(),
    verify: (message, signature) => key.verify(message, signature),
    sign: () => Promise.reject(new Error('the authenticator prompt was dismissed')),
  }
}

/** A second account on another client, which the tested device may try to join. */
async function startOther(world: World) {
  const stores = createStores()
  await stores.responseKeys.add(world.responseKey)
  const client = new BetterAuthClient(clientOptions(world.server, stores))
  const { identity } = await client.createAccount((await recoveryPair()).hash)
  return { client, identity }
}
