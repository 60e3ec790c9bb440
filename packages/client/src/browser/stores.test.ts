import { NobleP256SigningKey } from '@better-auth/crypto'
import {
  ConfigurationError,
  InvalidStateError,
  NetworkError,
  StorageUnavailableError,
} from '@better-auth/protocol'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { BetterAuthClient } from '../client.js'
import {
  createWorld,
  hasher,
  noncer,
  timestamper,
  type World,
} from '../../../server/src/testing-internal/client-world.js'
import { forgetNamespace, openBrowserStores, requestPersistentStorage } from './stores.js'
import type { BrowserStores } from './stores.js'
import { freshNamespace, rawChain, simulateReload } from './testing-internal/helpers.js'

const fooBar = { foo: 'this is foo', bar: 'this is bar' }
const wasFooBar = { wasFoo: 'this is foo', wasBar: 'this is bar' }

function clientFor(world: World, stores: BrowserStores): BetterAuthClient {
  return new BetterAuthClient({
    crypto: { hasher, noncer },
    encoding: { timestamper },
    io: { network: world.server },
    stores,
  })
}

/** A page load: open the namespace's stores and build a client over them. */
async function load(world: World, namespace: string) {
  const stores = await openBrowserStores({ namespace })
  return { stores, client: clientFor(world, stores) }
}

async function recoveryHash(): Promise<string> {
  return hasher.sum(await NobleP256SigningKey.generate().public())
}

afterEach(() => {
  vi.unstubAllGlobals()
})

// These tests are about the browser's IndexedDB, Web Locks and CryptoKey storage: a stand-in (Node
// with a fake IndexedDB, jsdom) must fail here, not pass them.
it('runs in Chromium, not in Node', () => {
  expect(navigator.userAgent).toMatch(/\b(?:HeadlessChrome|Chrome)\/\d+/)
  expect((globalThis as { process?: unknown }).process).toBeUndefined()
  expect(indexedDB).toBeInstanceOf(IDBFactory)
  expect(typeof navigator.locks.request).toBe('function')
})

describe('openBrowserStores with BetterAuthClient', () => {
  it('runs a session across reloads with nothing kept in memory', async () => {
    const world = createWorld()
    const namespace = freshNamespace()
    let page = await load(world, namespace)
    await page.stores.responseKeys.add(world.responseKey)
    const { identity, device } = await page.client.createAccount(await recoveryHash())
    await page.client.createSession()

    await simulateReload()
    page = await load(world, namespace)
    expect(await page.stores.identity.get()).toBe(identity)
    expect(await page.stores.device.get()).toBe(device)
    await expect(page.client.makeAccessRequest('/foo/bar', fooBar)).resolves.toEqual(wasFooBar)
    await page.client.rotateDevice()
    await page.client.refreshSession()

    await simulateReload()
    page = await load(world, namespace)
    await page.client.rotateDevice()
    await page.client.refreshSession()
    await expect(page.client.makeAccessRequest('/foo/bar', fooBar)).resolves.toEqual(wasFooBar)
  })

  it('retries a rotation whose request was cut off by closing the tab, after the reload', async () => {
    const world = createWorld()
    const namespace = freshNamespace()
    let page = await load(world, namespace)
    await page.stores.responseKeys.add(world.responseKey)
    const { identity, device } = await page.client.createAccount(await recoveryHash())

    world.server.inject('offline', '/device/rotate')
    await expect(page.client.rotateDevice()).rejects.toBeInstanceOf(NetworkError)
    const prepared = await rawChain(namespace, 'authenticationKey')
    expect(prepared?.pending).toBeDefined()

    await simulateReload()
    page = await load(world, namespace)
    await page.client.rotateDevice()
    const [first, retry] = world.server.sentTo('/device/rotate')
    // The retry revealed the same key and the same next commitment as the lost request.
    expect(retry!.message).not.toBe(first!.message)
    const revealed = (text: string) =>
      (JSON.parse(text) as { payload: { request: { authentication: unknown } } }).payload.request
        .authentication
    expect(revealed(retry!.message)).toEqual(revealed(first!.message))
    expect(await world.deviceKey(identity, device)).toBe(prepared!.next.publicKey)
    const rotations = (await world.events(identity)).filter((e) => e.type === 'device-rotated')
    expect(rotations).toHaveLength(1)
    expect(rotations[0]).toMatchObject({
      device,
      publicKey: prepared!.next.publicKey,
      rotationHash: prepared!.pending!.rotationHash,
    })
  })

  it('keeps a working chain and session when recovery or a new session fails, across a reload', async () => {
    const world = createWorld()
    const namespace = freshNamespace()
    let page = await load(world, namespace)
    await page.stores.responseKeys.add(world.responseKey)
    const ids = await page.client.createAccount(await recoveryHash())
    await page.client.createSession()
    const authKey = await (await page.stores.authenticationKey.signer()).public()
    const token = await page.stores.accessToken.get()

    // A wrong recovery key is refused by the server; a lost connection throws.
    const wrongKey = NobleP256SigningKey.generate()
    await expect(
      page.client.recoverAccount(ids.identity, wrongKey, await recoveryHash()),
    ).rejects.toMatchObject({ name: 'InvalidHashError', code: 'BA104' })
    world.server.inject('offline', '/session/create')
    await expect(page.client.createSession()).rejects.toBeInstanceOf(NetworkError)

    await simulateReload()
    page = await load(world, namespace)
    expect(await (await page.stores.authenticationKey.signer()).public()).toBe(authKey)
    expect(await page.stores.accessToken.get()).toBe(token)
    expect(await page.stores.identity.get()).toBe(ids.identity)
    await expect(page.client.makeAccessRequest('/foo/bar', fooBar)).resolves.toEqual(wasFooBar)
    await page.client.refreshSession()
    await page.client.rotateDevice()
    await page.client.createSession()
  })

  it('keeps accounts of one origin apart and forgets one without touching the other', async () => {
    const world = createWorld()
    const alice = await load(world, freshNamespace('alice'))
    const bob = await load(world, freshNamespace('bob'))
    for (const page of [alice, bob]) {
      await page.stores.responseKeys.add(world.responseKey)
      await page.client.createAccount(await recoveryHash())
      await page.client.createSession()
    }
    expect(await alice.stores.identity.get()).not.toBe(await bob.stores.identity.get())

    await forgetNamespace(alice.stores.namespace)
    expect(await alice.stores.identity.get()).toBeUndefined()
    expect(await alice.stores.device.get()).toBeUndefined()
    expect(await alice.stores.accessToken.get()).toBeUndefined()
    expect(await alice.stores.responseKeys.list()).toEqual([])
    await expect(alice.stores.authenticationKey.signer()).rejects.toBeInstanceOf(InvalidStateError)
    await expect(alice.stores.accessKey.signer()).rejects.toBeInstanceOf(InvalidStateError)
    await expect(alice.client.createSession()).rejects.toBeInstanceOf(InvalidStateError)

    await expect(bob.client.makeAccessRequest('/foo/bar', fooBar)).resolves.toEqual(wasFooBar)
    await bob.client.rotateDevice()
  })

  it('wipes a namespace whose name is a prefix of another without touching that one', async () => {
    const world = createWorld()
    const base = freshNamespace()
    const short = await load(world, base)
    const long = await load(world, `${base}x`)
    await short.stores.identity.store('short')
    await long.stores.identity.store('long')
    await long.stores.authenticationKey.initialize()
    await short.stores.forget()
    expect(await short.stores.identity.get()).toBeUndefined()
    expect(await long.stores.identity.get()).toBe('long')
    await expect(long.stores.authenticationKey.signer()).resolves.toBeDefined()
  })

  it('opens separate databases by dbName', async () => {
    const namespace = freshNamespace()
    const one = await openBrowserStores({ namespace, dbName: 'db-one' })
    const two = await openBrowserStores({ namespace, dbName: 'db-two' })
    await one.identity.store('in one')
    expect(await two.identity.get()).toBeUndefined()
    await forgetNamespace(namespace, { dbName: 'db-one' })
    expect(await one.identity.get()).toBeUndefined()
  })
})

describe('environment errors', () => {
  it('reports a missing IndexedDB as ConfigurationError (BA001)', async () => {
    await simulateReload()
    vi.stubGlobal('indexedDB', undefined)
    const error = await openBrowserStores({ namespace: 'x' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigurationError)
    expect((error as ConfigurationError).code).toBe('BA001')
    expect((error as ConfigurationError).context['field']).toBe('indexedDB')
    await expect(forgetNamespace('x')).rejects.toBeInstanceOf(ConfigurationError)
  })

  it('reports a store used without IndexedDB as ConfigurationError too', async () => {
    const stores = await openBrowserStores({ namespace: freshNamespace() })
    await simulateReload()
    vi.stubGlobal('indexedDB', null)
    await expect(stores.identity.get()).rejects.toBeInstanceOf(ConfigurationError)
    await expect(stores.authenticationKey.initialize()).rejects.toBeInstanceOf(ConfigurationError)
    vi.unstubAllGlobals()
    expect(await stores.identity.get()).toBeUndefined()
  })

  it('explains a missing crypto.subtle by the insecure context', async () => {
    await simulateReload()
    vi.stubGlobal('crypto', {})
    vi.stubGlobal('isSecureContext', false)
    const error = await openBrowserStores({ namespace: 'x' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigurationError)
    expect((error as ConfigurationError).context['field']).toBe('crypto.subtle')
    expect((error as ConfigurationError).message).toMatch(/secure context/)
  })

  it('reports a database that cannot be opened as StorageUnavailableError (BA603)', async () => {
    // A later version of the app upgraded the schema: this version cannot open it.
    const request = indexedDB.open('from-the-future', 99)
    await new Promise((resolve) => (request.onsuccess = resolve))
    request.result.close()
    const error = await openBrowserStores({ namespace: 'x', dbName: 'from-the-future' }).catch(
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(StorageUnavailableError)
    expect((error as StorageUnavailableError).code).toBe('BA603')
    expect((error as StorageUnavailableError).cause).toBeDefined()
  })

  it('closes its connection when another tab upgrades the database, so it is not blocked', async () => {
    const namespace = freshNamespace()
    const dbName = freshNamespace('upgraded')
    const stores = await openBrowserStores({ namespace, dbName })
    await stores.identity.store('before')
    // Another tab opens a newer version; ours must close, or that tab stays blocked.
    const request = indexedDB.open(dbName, 2)
    await new Promise((resolve, reject) => {
      request.onsuccess = resolve
      request.onblocked = () => reject(new Error('blocked by the open connection'))
    })
    request.result.close()
    // This page runs the older schema: it must reload to get the app version that matches.
    await expect(stores.identity.get()).rejects.toBeInstanceOf(StorageUnavailableError)
  })

  it.each([undefined, null, {}, { namespace: '' }, { namespace: 'a', dbName: '' }])(
    'rejects options %j',
    async (options) => {
      await expect(openBrowserStores(options as never)).rejects.toBeInstanceOf(ConfigurationError)
    },
  )
})

describe('requestPersistentStorage', () => {
  it.each([
    [
      'persisted',
      {
        persisted: () => Promise.resolve(true),
        persist: () => Promise.reject(new Error('unused')),
      },
    ],
    [
      'persisted',
      { persisted: () => Promise.resolve(false), persist: () => Promise.resolve(true) },
    ],
    [
      'best-effort',
      { persisted: () => Promise.resolve(false), persist: () => Promise.resolve(false) },
    ],
    ['unsupported', { persist: () => Promise.reject(new Error('denied')) }],
    ['unsupported', {}],
    ['unsupported', undefined],
  ])('reports %s', async (expected, storage) => {
    vi.stubGlobal('navigator', { storage })
    expect(await requestPersistentStorage()).toBe(expected)
  })
})
