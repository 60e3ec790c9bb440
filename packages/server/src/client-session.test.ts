/**
 * The client's session layer (BetterAuthSession) against this server, with fake timers and short
 * token lifetimes: refresh before expiry, single flight, backoff, and the error types of expiry
 * and revocation. Here because the client package cannot depend on the server.
 */
import {
  BetterAuthSession,
  MemoryRotatingKeyStore,
  MemoryValueStore,
  MemoryVerificationKeyStore,
  type CrossTabLock,
  type Network,
  type SessionChange,
  type SessionOptions,
} from '@better-auth/client'
import {
  Blake3Hasher,
  DefaultIdentityVerifier,
  GzipTokenEncoder,
  Rfc3339Timestamper,
  SecureNoncer,
} from '@better-auth/crypto'
import { NodeP256SigningKey, NodeP256Verifier } from '@better-auth/crypto/node'
import {
  BetterAuthError,
  ExpiredTokenError,
  InvalidDeviceError,
  InvalidMessageError,
  NetworkError,
  protocols,
  verificationKey,
  type ProtocolName,
} from '@better-auth/protocol'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  AccessVerifier,
  BetterAuthServer,
  StaticVerificationKeyStore,
  errorResponse,
  memoryServerStores,
} from './index.js'

const ACCESS_MS = 60_000
const REFRESH_MS = 10 * 60_000
const MARGIN_MS = 10_000
const hasher = new Blake3Hasher()
const verifier = new NodeP256Verifier()
// Read per call: the fake clock is installed after this module loads.
const timestamper = new Rfc3339Timestamper({ clock: () => Date.now() })
const tokenEncoder = new GzipTokenEncoder()
const protocolByPath = new Map(
  (Object.keys(protocols) as ProtocolName[]).map((name) => [protocols[name].path, name]),
)

function deployment() {
  const stores = memoryServerStores()
  const responseKey = NodeP256SigningKey.generate()
  const accessKey = NodeP256SigningKey.generate()
  const server = new BetterAuthServer({
    crypto: {
      hasher,
      noncer: new SecureNoncer(),
      verifier,
      keyPairs: { response: responseKey, access: accessKey },
    },
    encoding: { timestamper, tokenEncoder, identityVerifier: new DefaultIdentityVerifier(hasher) },
    stores,
    expiry: { accessMs: ACCESS_MS, refreshMs: REFRESH_MS },
    attributes: () => ({ role: 'user' }),
  })
  // The application service's clock, which may run ahead of the client's and the auth server's.
  let verifierAheadMs = 0
  const verifierTimestamper = new Rfc3339Timestamper({ clock: () => Date.now() + verifierAheadMs })
  const accessVerifier = new AccessVerifier({
    crypto: { verifier },
    encoding: { timestamper: verifierTimestamper, tokenEncoder },
    stores: {
      accessNonce: stores.accessNonce,
      accessVerificationKeys: new StaticVerificationKeyStore([accessKey]),
    },
  })
  const calls = new Map<string, number>()
  let offline = false
  const network: Network = {
    async sendRequest(path, body) {
      calls.set(path, (calls.get(path) ?? 0) + 1)
      if (offline) throw new TypeError('fetch failed')
      try {
        const protocol = protocolByPath.get(path)
        if (protocol !== undefined) return await server.handle(protocol, body)
        const { token, nonce } = await accessVerifier.verify(body)
        return await server.accessResponse(nonce, { device: token.device })
      } catch (error) {
        if (error instanceof InvalidMessageError && path === '/nowhere') throw error
        return errorResponse(error)
      }
    },
  }
  /** An application service of its own: same tokens, its own base URL and response key. */
  const serviceKey = NodeP256SigningKey.generate()
  const service = new BetterAuthServer({
    crypto: {
      hasher,
      noncer: new SecureNoncer(),
      verifier,
      keyPairs: { response: serviceKey, access: accessKey },
    },
    encoding: { timestamper, tokenEncoder, identityVerifier: new DefaultIdentityVerifier(hasher) },
    stores,
  })
  const orders: Network = {
    async sendRequest(path, body) {
      try {
        const { request, nonce } = await accessVerifier.verify<{ item: string }>(body)
        return await service.accessResponse(nonce, { ordered: request.item, path })
      } catch (error) {
        return errorResponse(error)
      }
    },
  }
  return {
    server,
    network,
    orders,
    serviceKey,
    refreshes: () => calls.get('/session/refresh') ?? 0,
    calls: (path: string) => calls.get(path) ?? 0,
    setOffline: (value: boolean) => (offline = value),
    setVerifierAhead: (ms: number) => (verifierAheadMs = ms),
  }
}

type Deployment = ReturnType<typeof deployment>

function memoryStores() {
  const generate = () => NodeP256SigningKey.generate()
  return {
    identity: new MemoryValueStore(),
    device: new MemoryValueStore(),
    accessToken: new MemoryValueStore(),
    authenticationKey: new MemoryRotatingKeyStore({ generate, hasher }),
    accessKey: new MemoryRotatingKeyStore({ generate, hasher }),
    responseKeys: new MemoryVerificationKeyStore(),
  }
}

async function sessionOf(
  app: Deployment,
  stores = memoryStores(),
  options: Partial<Pick<SessionOptions, 'lock' | 'backoffMs' | 'services' | 'channelName'>> = {},
) {
  await stores.responseKeys.add(verificationKey(await app.server.responsePublicKey(), verifier))
  const session = new BetterAuthSession({
    crypto: { hasher, noncer: new SecureNoncer() },
    encoding: { timestamper },
    io: { network: app.network },
    stores,
    tokenEncoder,
    refreshMarginMs: MARGIN_MS,
    ...options,
  })
  const changes: SessionChange[] = []
  session.subscribe((change) => changes.push(change))
  return { session, stores, changes }
}

async function signedIn(app: Deployment) {
  const tab = await sessionOf(app)
  const recovery = NodeP256SigningKey.generate()
  await tab.session.createAccount(await hasher.sum(await recovery.public()))
  await tab.session.signIn()
  return tab
}

let channels = 0
/** Tabs of one test share a channel no other test's sessions listen on. */
function channelName(): string {
  return `better-auth:test-${++channels}`
}

/** Tabs of one origin: sessions over the same stores, each loaded (listening to the others). */
async function tabs(
  app: Deployment,
  stores: ReturnType<typeof memoryStores>,
  count: number,
  lock?: CrossTabLock,
) {
  const name = channelName()
  const opened = []
  for (let index = 0; index < count; index++) {
    const tab = await sessionOf(app, stores, { channelName: name, ...(lock && { lock }) })
    await tab.session.load()
    opened.push(tab)
  }
  return opened
}

/** Resolves at the next `change`; the work behind it runs on real promises, not fake timers. */
function next(session: BetterAuthSession, change: SessionChange): Promise<void> {
  return new Promise((resolve) => {
    const stop = session.subscribe((seen) => {
      if (seen === change) {
        stop()
        resolve()
      }
    })
  })
}

beforeEach(() => {
  // Only the clock and timers: the crypto backends schedule their own work on the real loop.
  vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] })
})
afterEach(() => {
  vi.useRealTimers()
})

describe('BetterAuthSession', () => {
  it('shows the session without the application reading stores or tokens', async () => {
    const app = deployment()
    const { session, stores, changes } = await signedIn(app)
    const view = session.view
    expect(view).toMatchObject({
      status: 'signed-in',
      identity: await stores.identity.get(),
      device: await stores.device.get(),
      attributes: { role: 'user' },
    })
    expect(view.accessExpiry!.getTime() - Date.now()).toBeGreaterThan(ACCESS_MS - 2_000)
    expect(view.refreshExpiry!.getTime() - Date.now()).toBeGreaterThan(REFRESH_MS - 2_000)
    expect(changes).toEqual(['account-created', 'session-created'])
    session.stop()
  })

  it('refreshes before the access token expires, by the margin, again and again', async () => {
    const app = deployment()
    const { session, changes } = await signedIn(app)
    const firstExpiry = session.view.accessExpiry!.getTime()
    await vi.advanceTimersByTimeAsync(ACCESS_MS - MARGIN_MS - 1_000)
    expect(app.refreshes()).toBe(0)
    const refreshed = next(session, 'refreshed')
    await vi.advanceTimersByTimeAsync(1_000)
    await refreshed
    expect(app.refreshes()).toBe(1)
    expect(session.view.accessExpiry!.getTime()).toBeGreaterThan(firstExpiry)
    expect(session.view.accessExpiry!.getTime()).toBeGreaterThan(Date.now() + MARGIN_MS)
    const again = next(session, 'refreshed')
    await vi.advanceTimersByTimeAsync(ACCESS_MS - MARGIN_MS)
    await again
    expect(app.refreshes()).toBe(2)
    expect(changes.filter((change) => change === 'refreshed')).toHaveLength(2)
    // The session kept working throughout.
    expect(await session.access('/whoami', {})).toEqual({ device: session.view.device })
    session.stop()
  })

  it('refreshes once for 100 concurrent access calls that meet an expired token', async () => {
    const app = deployment()
    const { session } = await signedIn(app)
    session.stop()
    vi.setSystemTime(session.view.accessExpiry!.getTime() + 1_000)
    const results = await Promise.all(
      Array.from({ length: 100 }, () => session.access('/whoami', {})),
    )
    expect(app.refreshes()).toBe(1)
    expect(new Set(results.map((result) => JSON.stringify(result))).size).toBe(1)
  })

  it('two tabs sharing stores and a lock refresh once, not twice', async () => {
    const app = deployment()
    const first = await signedIn(app)
    first.session.stop()
    let held: Promise<unknown> = Promise.resolve()
    const lock: CrossTabLock = (_name, task) => {
      const run = held.then(task)
      held = run.catch(() => undefined)
      return run
    }
    const [a, b] = [
      await sessionOf(app, first.stores, { lock }),
      await sessionOf(app, first.stores, { lock }),
    ]
    await a.session.load()
    await b.session.load()
    const refreshedA = next(a.session, 'refreshed')
    const refreshedB = next(b.session, 'refreshed')
    await vi.advanceTimersByTimeAsync(ACCESS_MS - MARGIN_MS)
    await Promise.all([refreshedA, refreshedB])
    expect(app.refreshes()).toBe(1)
    expect(a.session.view.accessExpiry).toEqual(b.session.view.accessExpiry)
    a.session.stop()
    b.session.stop()
  })

  it('backs off on network failure (1 s, 2 s, 4 s) and recovers', async () => {
    const app = deployment()
    const { session } = await signedIn(app)
    app.setOffline(true)
    await vi.advanceTimersByTimeAsync(ACCESS_MS - MARGIN_MS)
    await vi.waitFor(() => expect(app.refreshes()).toBe(1))
    await vi.advanceTimersByTimeAsync(999)
    expect(app.refreshes()).toBe(1)
    await vi.advanceTimersByTimeAsync(1)
    await vi.waitFor(() => expect(app.refreshes()).toBe(2))
    await vi.advanceTimersByTimeAsync(1_999)
    expect(app.refreshes()).toBe(2)
    await vi.advanceTimersByTimeAsync(1)
    await vi.waitFor(() => expect(app.refreshes()).toBe(3))
    await expect(session.refresh()).rejects.toBeInstanceOf(NetworkError)
    app.setOffline(false)
    const refreshed = next(session, 'refreshed')
    await vi.advanceTimersByTimeAsync(8_000)
    await refreshed
    expect(session.view.status).toBe('signed-in')
    expect(await session.access('/whoami', {})).toEqual({ device: session.view.device })
    session.stop()
  })

  describe('an access token the server finds expired (ExpiredTokenError access)', () => {
    /** Signed in, the refresh timer off, 49 s later: the service, 20 s ahead, sees it expired. */
    async function expiredAtService() {
      const app = deployment()
      const tab = await signedIn(app)
      tab.session.stop()
      await vi.advanceTimersByTimeAsync(ACCESS_MS - MARGIN_MS - 1_000)
      app.setVerifierAhead(20_000)
      const client = tab.session.client
      const refused = await client.makeAccessRequest('/whoami', {}).catch((e: unknown) => e)
      expect(refused).toBeInstanceOf(ExpiredTokenError)
      expect(refused).toMatchObject({
        code: 'BA401',
        name: 'ExpiredTokenError',
        context: { tokenType: 'access', remote: true },
      })
      expect(app.calls('/whoami')).toBe(1)
      return { app, ...tab }
    }

    it('is refreshed once and the request retried once', async () => {
      const { app, session, changes } = await expiredAtService()
      const before = session.view.accessExpiry!.getTime()
      expect(await session.access('/whoami', {})).toEqual({ device: session.view.device })
      expect(app.refreshes()).toBe(1)
      expect(app.calls('/whoami')).toBe(1 + 2)
      expect(session.view.accessExpiry!.getTime()).toBeGreaterThan(before)
      expect(changes.at(-1)).toBe('refreshed')
    })

    it('100 concurrent access calls that meet it refresh once', async () => {
      const { app, session } = await expiredAtService()
      const results = await Promise.all(
        Array.from({ length: 100 }, () => session.access('/whoami', {})),
      )
      expect(app.refreshes()).toBe(1)
      expect(new Set(results.map((result) => JSON.stringify(result)))).toEqual(
        new Set([JSON.stringify({ device: session.view.device })]),
      )
      expect(app.calls('/whoami')).toBe(1 + 200)
    })

    it('still refused after the refresh, it surfaces as ExpiredTokenError (access)', async () => {
      const { app, session } = await expiredAtService()
      // Even a fresh token is past its expiry by this clock.
      app.setVerifierAhead(ACCESS_MS + 1_000)
      const error = await session.access('/whoami', {}).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ExpiredTokenError)
      expect(error).toMatchObject({ code: 'BA401', context: { tokenType: 'access' } })
      expect(app.refreshes()).toBe(1)
      expect(app.calls('/whoami')).toBe(1 + 2)
      // The session itself is fine: only the service's clock disagrees.
      expect(session.view.status).toBe('signed-in')
    })
  })

  it('access expiry, refresh expiry, revoked device and no connection are told apart by type and code', async () => {
    const app = deployment()
    const kinds: Record<string, { name: string; code: string; tokenType?: unknown }> = {}
    const record = (kind: string, error: unknown) => {
      expect(error).toBeInstanceOf(BetterAuthError)
      const { name, code, context } = error as BetterAuthError
      kinds[kind] = { name, code, ...(context['tokenType'] && { tokenType: context['tokenType'] }) }
    }

    const expired = await signedIn(app)
    expired.session.stop()
    app.setVerifierAhead(ACCESS_MS + 1_000)
    record(
      'access expiry',
      await expired.session.client.makeAccessRequest('/whoami', {}).catch((e: unknown) => e),
    )
    app.setVerifierAhead(0)
    app.setOffline(true)
    record('no connection', await expired.session.access('/whoami', {}).catch((e: unknown) => e))
    app.setOffline(false)
    vi.setSystemTime(Date.now() + REFRESH_MS + 1_000)
    record('refresh expiry', await expired.session.refresh().catch((e: unknown) => e))

    const revoked = await signedIn(app)
    revoked.session.stop()
    const other = await sessionOf(app)
    await revoked.session.linkDevice(
      await other.session.client.generateLinkContainer((await revoked.stores.identity.get())!),
    )
    await other.session.signIn()
    other.session.stop()
    await other.session.unlinkDevice((await revoked.stores.device.get())!)
    record('revoked device', await revoked.session.refresh().catch((e: unknown) => e))

    expect(kinds).toEqual({
      'access expiry': { name: 'ExpiredTokenError', code: 'BA401', tokenType: 'access' },
      'refresh expiry': { name: 'ExpiredTokenError', code: 'BA401', tokenType: 'refresh' },
      'revoked device': { name: 'InvalidDeviceError', code: 'BA103' },
      'no connection': { name: 'NetworkError', code: 'BA801' },
    })
  })

  it('an expired refresh surfaces ExpiredTokenError (refresh) and "refresh-impossible"', async () => {
    const app = deployment()
    const { session, changes } = await signedIn(app)
    session.stop()
    vi.setSystemTime(Date.now() + REFRESH_MS + 1_000)
    const error = await session.refresh().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ExpiredTokenError)
    expect(error).toMatchObject({ code: 'BA401', context: { tokenType: 'refresh' } })
    expect(session.view.status).toBe('refresh-expired')
    expect(changes.at(-1)).toBe('refresh-impossible')
    // An access request meeting the expired token tries the one refresh, with the same error.
    await expect(session.access('/whoami', {})).rejects.toBeInstanceOf(ExpiredTokenError)
  })

  it('a revoked device surfaces InvalidDeviceError on refresh', async () => {
    const app = deployment()
    const { session, stores } = await signedIn(app)
    session.stop()
    await session.unlinkDevice((await stores.device.get())!)
    expect(session.view.status).toBe('signed-out')
  })

  it('addresses several services, each with its own network and pinned response key', async () => {
    const app = deployment()
    const stores = memoryStores()
    const orderKeys = new MemoryVerificationKeyStore()
    await orderKeys.add(verificationKey(await app.serviceKey.public(), verifier))
    const { session } = await sessionOf(app, stores, {
      services: {
        orders: { network: app.orders, responseKeys: orderKeys },
        // Trusting only the auth service's key for the orders service's answers.
        misconfigured: { network: app.orders, responseKeys: stores.responseKeys },
      },
    })
    await session.createAccount(await hasher.sum(await NodeP256SigningKey.generate().public()))
    await session.signIn()
    session.stop()
    expect(await session.access('/order', { item: 'book' }, { service: 'orders' })).toEqual({
      ordered: 'book',
      path: '/order',
    })
    // Without the auth base URL: the default network is the auth service's.
    expect(await session.access('/whoami', {})).toEqual({ device: session.view.device })
    // The auth service's pinned key does not vouch for the orders service.
    await expect(
      session.access('/order', { item: 'pen' }, { service: 'misconfigured' }),
    ).rejects.toMatchObject({ code: 'BA803' })
    await expect(session.access('/x', {}, { service: 'billing' })).rejects.toMatchObject({
      code: 'BA001',
    })
  })

  it('signOut forgets the session locally, and with forgetDevice the device too', async () => {
    const app = deployment()
    const { session, stores, changes } = await signedIn(app)
    await session.signOut()
    expect(session.view).toMatchObject({ status: 'signed-out', device: await stores.device.get() })
    expect(changes.at(-1)).toBe('signed-out')
    await session.signIn()
    await session.signOut({ forgetDevice: true })
    expect(session.view).toMatchObject({ status: 'signed-out', identity: undefined })
    expect(await stores.identity.get()).toBeUndefined()
    await vi.advanceTimersByTimeAsync(ACCESS_MS)
    expect(app.refreshes()).toBe(0)
  })

  it('a device revoked by another device gets InvalidDeviceError when refreshing', async () => {
    const app = deployment()
    const first = await signedIn(app)
    first.session.stop()
    const second = await sessionOf(app)
    const container = await second.session.client.generateLinkContainer(
      (await first.stores.identity.get())!,
    )
    await first.session.linkDevice(container)
    await second.session.signIn()
    second.session.stop()
    await second.session.unlinkDevice((await first.stores.device.get())!)
    const error = await first.session.refresh().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InvalidDeviceError)
    expect(first.session.view.status).toBe('refresh-expired')
  })

  describe('across tabs (BroadcastChannel)', () => {
    it('sign-out in one tab shows signed out in every other tab, whose refresh stops', async () => {
      const app = deployment()
      const first = await signedIn(app)
      first.session.stop()
      const [a, b, c] = await tabs(app, first.stores, 3)
      expect(b!.session.view.status).toBe('signed-in')
      const heard = Promise.all([next(b!.session, 'signed-out'), next(c!.session, 'signed-out')])
      await a!.session.signOut()
      await heard
      for (const tab of [a, b, c]) {
        expect(tab!.session.view).toMatchObject({ status: 'signed-out', accessExpiry: undefined })
        expect(tab!.changes.at(-1)).toBe('signed-out')
      }
      await vi.advanceTimersByTimeAsync(ACCESS_MS)
      expect(app.refreshes()).toBe(0)
      for (const tab of [a, b, c]) tab!.session.stop()
    })

    it('a refresh in one tab is seen at once by the others, which do not refresh again', async () => {
      const app = deployment()
      const first = await signedIn(app)
      first.session.stop()
      // Each tab with its own in-page lock: the channel alone keeps the others from refreshing.
      const [a, b] = await tabs(app, first.stores, 2)
      const oldExpiry = b!.session.view.accessExpiry!.getTime()
      await vi.advanceTimersByTimeAsync(ACCESS_MS - MARGIN_MS - 5_000)
      const heard = next(b!.session, 'refreshed')
      await a!.session.refresh()
      await heard
      expect(b!.session.view.accessExpiry!.getTime()).toBeGreaterThan(oldExpiry)
      expect(b!.session.view).toEqual(a!.session.view)
      // Past the old token's refresh time: nobody refreshes again.
      await vi.advanceTimersByTimeAsync(10_000)
      expect(app.refreshes()).toBe(1)
      expect(b!.changes.filter((change) => change === 'refreshed')).toHaveLength(1)
      expect(await b!.session.access('/whoami', {})).toEqual({ device: b!.session.view.device })
      expect(app.refreshes()).toBe(1)
      a!.session.stop()
      b!.session.stop()
    })

    it('a tab that heard of a refresh while waiting for the lock adopts it', async () => {
      const app = deployment()
      const first = await signedIn(app)
      first.session.stop()
      // The lock is handed on only once the waiting tab heard of the refresh on the channel.
      let heard: Promise<void> = Promise.resolve()
      let held: Promise<unknown> = Promise.resolve()
      const lock: CrossTabLock = (_name, task) => {
        const run = held.then(task)
        held = run.then(
          () => heard,
          () => heard,
        )
        return run
      }
      const [a, b] = await tabs(app, first.stores, 2, lock)
      // A later expiry than the token the tabs loaded.
      await vi.advanceTimersByTimeAsync(5_000)
      heard = next(b!.session, 'refreshed')
      await Promise.all([a!.session.refresh(), b!.session.refresh()])
      expect(app.refreshes()).toBe(1)
      expect(b!.session.view).toEqual(a!.session.view)
      a!.session.stop()
      b!.session.stop()
    })

    it('a tab that finds the device revoked stops the other tabs refreshing too', async () => {
      const app = deployment()
      const first = await signedIn(app)
      first.session.stop()
      const [a, b] = await tabs(app, first.stores, 2)
      const other = await sessionOf(app)
      await a!.session.linkDevice(
        await other.session.client.generateLinkContainer((await first.stores.identity.get())!),
      )
      await other.session.signIn()
      other.session.stop()
      await other.session.unlinkDevice((await first.stores.device.get())!)
      const heard = next(b!.session, 'refresh-impossible')
      await expect(a!.session.refresh()).rejects.toBeInstanceOf(InvalidDeviceError)
      await heard
      expect(b!.session.view.status).toBe('refresh-expired')
      const before = app.refreshes()
      await vi.advanceTimersByTimeAsync(ACCESS_MS)
      expect(app.refreshes()).toBe(before)
      a!.session.stop()
      b!.session.stop()
    })

    it('without BroadcastChannel each tab works alone and sees the others at its next load', async () => {
      vi.stubGlobal('BroadcastChannel', undefined)
      try {
        const app = deployment()
        const first = await signedIn(app)
        first.session.stop()
        const [a, b] = await tabs(app, first.stores, 2)
        await a!.session.signOut()
        expect(a!.session.view.status).toBe('signed-out')
        expect(b!.session.view.status).toBe('signed-in')
        expect((await b!.session.load()).status).toBe('signed-out')
        a!.session.stop()
        b!.session.stop()
      } finally {
        vi.unstubAllGlobals()
      }
    })

    it('rejects an empty channel or lock name', async () => {
      const app = deployment()
      await expect(sessionOf(app, memoryStores(), { channelName: '' })).rejects.toMatchObject({
        code: 'BA001',
        context: { field: 'channelName' },
      })
    })
  })
})
