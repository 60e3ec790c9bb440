import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  NodeGzipTokenEncoder,
  NodeP256SigningKey,
  NodeP256Verifier,
} from '@better-auth/crypto/node'
import { ChainFile, FileKeyVault, KeyChainOperator } from '@better-auth/keys'
import {
  ConfigurationError,
  InvalidEndorsementError,
  type RevocationFeed,
  type RevocationListener,
  type SigningKey,
} from '@better-auth/protocol'
import { parseEndorsement, verifyKeySet, type KeyEndorser } from '@better-auth/protocol/key-chain'
import {
  Blake3Hasher,
  DefaultIdentityVerifier,
  Rfc3339Timestamper,
  SecureNoncer,
} from '@better-auth/crypto'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { BetterAuthServer, memoryServerStores } from '../index.js'
import { describeKeySetStore } from '../testing/key-set-store.js'
import { MemoryRevocationFeed } from '../revocation/memory-feed.js'
import { MemoryKeySetStore } from './memory-key-set-store.js'
import { ServiceKeyRing } from './service-key-ring.js'

const crypto = { hasher: new Blake3Hasher(), verifier: new NodeP256Verifier() }
const HOUR = 3_600_000

describeKeySetStore('memory', () => {
  const store = new MemoryKeySetStore()
  return Promise.resolve([store, store] as const)
})

let dir: string
let clock: number
const now = () => clock

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'better-auth-ring-'))
  clock = Date.parse('2026-03-01T00:00:00.000Z')
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function deployment(
  options: {
    readonly retainExpiredMs?: number
    readonly feed?: RevocationFeed
    readonly minNoticeIntervalMs?: number
  } = {},
) {
  const operator = new KeyChainOperator({
    chain: new ChainFile(join(dir, 'chain.json')),
    vault: new FileKeyVault(join(dir, 'private')),
    now: () => new Date(clock),
  })
  const { prefix } = await operator.init()
  const store = new MemoryKeySetStore()
  // Counts the log reads: one per refresh.
  const counted = { refreshes: 0 }
  const endorser: KeyEndorser = {
    events: () => {
      counted.refreshes++
      return operator.events()
    },
    endorse: (request) => operator.endorse(request),
  }
  const ring = (purposes: ('response' | 'access')[]) =>
    new ServiceKeyRing({
      prefix,
      store,
      endorser,
      purposes,
      generateKey: () => NodeP256SigningKey.generate(),
      crypto,
      rotateEveryMs: HOUR,
      overlapMs: 2 * HOUR,
      refreshEveryMs: 60_000,
      now,
      ...options,
    })
  return { operator, prefix, store, ring, counted }
}

/** Resolves once `counted.refreshes` stayed put for `ms`. */
async function quiet(counted: { readonly refreshes: number }, ms = 200): Promise<void> {
  for (let last = -1; last !== counted.refreshes;) {
    last = counted.refreshes
    await new Promise((resolve) => setTimeout(resolve, ms))
  }
}

/** A feed that counts key set notices, whose subscribers the test can reset or send anything. */
function countingFeed() {
  const bus = new MemoryRevocationFeed()
  const listeners = new Set<RevocationListener>()
  const state = {
    announced: 0,
    feed: {
      publish: (revocation) => bus.publish(revocation),
      announceKeySetChange: () => {
        state.announced++
        return bus.announceKeySetChange()
      },
      subscribe: async (listener) => {
        listeners.add(listener)
        const stop = await bus.subscribe(listener)
        return () => {
          listeners.delete(listener)
          return stop()
        }
      },
    } satisfies RevocationFeed,
    /** What a feed does when it reconnected, or received a message it could not read. */
    reset: () => listeners.forEach((listener) => listener.reset()),
    get subscribers() {
      return listeners.size
    },
  }
  return state
}

const publicKey = (key: SigningKey) => key.public()

async function verifies(ring: ServiceKeyRing, key: string): Promise<boolean> {
  try {
    await ring.verificationKeys('access').get(key)
    return true
  } catch (error) {
    if (error instanceof InvalidEndorsementError) return false
    throw error
  }
}

describe('ServiceKeyRing', () => {
  it('shares every process’s endorsed keys through the store, private keys staying home', async () => {
    const { prefix, store, ring } = await deployment()
    const [a, b, app] = [
      ring(['response', 'access']),
      ring(['response', 'access']),
      ring(['response']),
    ]
    await Promise.all([a.start(), b.start(), app.start()])
    const set = await verifyKeySet(await app.keySet(), crypto, { prefix })
    expect(set.keys.size).toBe(5)
    // Replica B (and the application service) trust tokens replica A signs, and A its own.
    const tokenKey = await publicKey(a.keyPairs().access)
    for (const verifier of [a, b, app]) expect(await verifies(verifier, tokenKey)).toBe(true)
    // Only public keys and endorsements are stored.
    const stored = JSON.stringify(await store.read(clock))
    expect(stored).not.toMatch(/PRIVATE KEY/)
    expect(() => app.signingKey('access')).toThrow(ConfigurationError)
    for (const r of [a, b, app]) r.stop()
  })

  it('rotates on schedule and keeps replaced keys verifiable for the overlap', async () => {
    const { ring } = await deployment()
    const auth = ring(['response', 'access'])
    const changes: number[] = []
    auth.onChainChange((chain) => changes.push(chain.head.sequence))
    await auth.start()
    const first = await publicKey(auth.keyPairs().access)
    const firstResponse = await publicKey(auth.keyPairs().response)
    clock += HOUR / 2
    await auth.refresh()
    expect(await publicKey(auth.keyPairs().access)).toBe(first)
    clock += HOUR / 2
    await auth.refresh()
    const second = await publicKey(auth.keyPairs().access)
    expect(second).not.toBe(first)
    expect(await publicKey(auth.keyPairs().response)).not.toBe(firstResponse)
    // Tokens signed by the first key until a moment ago verify for the whole overlap, then not.
    clock += 2 * HOUR - 1
    expect(await verifies(auth, first)).toBe(true)
    clock += 1
    await auth.refresh()
    expect(await verifies(auth, first)).toBe(false)
    expect(changes).toEqual([])
    auth.stop()
  })

  it('prunes endorsements a retention period after they expired, never a key in use', async () => {
    const { store, ring } = await deployment({ retainExpiredMs: HOUR })
    const auth = ring(['access'])
    await auth.start()
    const stored = async () =>
      (await store.read(0)).keys.map((text) => parseEndorsement(text).publicKey)
    const first = await publicKey(auth.signingKey('access'))
    // A key an hour, each endorsed for its hour and the two-hour overlap.
    for (let hour = 1; hour <= 3; hour += 1) {
      clock += HOUR
      await auth.refresh()
    }
    // The first key's endorsement ended now: no longer trusted, but kept for the retention.
    expect(await verifies(auth, first)).toBe(false)
    expect(await stored()).toContain(first)
    clock += HOUR
    await auth.refresh()
    const current = await publicKey(auth.signingKey('access'))
    expect(await stored()).not.toContain(first)
    // The second key's ended now (kept), the third and fourth still verify tokens, the fifth signs.
    expect(await stored()).toHaveLength(4)
    expect(await stored()).toContain(current)
    expect(await verifies(auth, current)).toBe(true)
    expect(
      () =>
        new ServiceKeyRing({
          prefix: 'E',
          store,
          endorser: { events: () => Promise.resolve([]), endorse: () => Promise.resolve('') },
          purposes: ['access'],
          generateKey: () => NodeP256SigningKey.generate(),
          crypto,
          retainExpiredMs: -1,
        }),
    ).toThrow(ConfigurationError)
    auth.stop()
  })

  it('answers refresh() after a taint with the taint applied, even while an earlier refresh runs', async () => {
    const { operator, prefix, store } = await deployment()
    // An endorser whose log reads can be held, so a refresh can be caught having read the log.
    let hold: Promise<void> | undefined
    let reads = 0
    const endorser: KeyEndorser = {
      events: async () => {
        const events = await operator.events()
        reads++
        await hold
        return events
      },
      endorse: (request) => operator.endorse(request),
    }
    const app = new ServiceKeyRing({
      prefix,
      store,
      endorser,
      purposes: ['response'],
      generateKey: () => NodeP256SigningKey.generate(),
      crypto,
      rotateEveryMs: HOUR,
      now,
    })
    await app.start()
    const first = await publicKey(app.signingKey('response'))
    let release = () => {}
    hold = new Promise((resolve) => (release = resolve))
    const readsBefore = reads
    const earlier = app.refresh()
    while (reads === readsBefore) await new Promise((resolve) => setTimeout(resolve, 1))
    // That refresh holds the log from before the taint: a call made now must not just join it.
    clock += 1000
    await operator.rotate({ taint: true })
    hold = undefined
    const later = app.refresh()
    release()
    await later
    expect(await publicKey(app.signingKey('response'))).not.toBe(first)
    await earlier
    app.stop()
  })

  it('follows a root rotation, and replaces every key at once after a taint', async () => {
    const { operator, ring } = await deployment()
    const [auth, other] = [ring(['response', 'access']), ring(['access'])]
    await Promise.all([auth.start(), other.start()])
    const changes: number[] = []
    other.onChainChange((chain) => changes.push(chain.head.sequence))
    const first = await publicKey(auth.keyPairs().access)

    clock += 1000
    await operator.rotate()
    await Promise.all([auth.refresh(), other.refresh()])
    // A scheduled root rotation leaves the service keys alone.
    expect(await publicKey(auth.keyPairs().access)).toBe(first)
    expect(changes).toEqual([1])

    // The keys rotate on schedule: root key 1 endorses the new ones.
    clock += HOUR
    await auth.refresh()
    const second = await publicKey(auth.keyPairs().access)
    expect(second).not.toBe(first)

    clock += 1000
    await operator.rotate({ taint: true })
    await auth.refresh()
    const replaced = await publicKey(auth.keyPairs().access)
    expect(replaced).not.toBe(second)
    await other.refresh()
    expect(changes).toEqual([1, 2])
    // Keys endorsed by the tainted root key 1 are refused everywhere; root key 0's are not.
    expect(await verifies(other, second)).toBe(false)
    expect(await verifies(other, first)).toBe(true)
    expect(await verifies(other, replaced)).toBe(true)
    auth.stop()
    other.stop()
  })

  it('refuses options it cannot use', async () => {
    const { ring, prefix, store, operator } = await deployment()
    const base = {
      prefix,
      store,
      endorser: operator,
      generateKey: () => NodeP256SigningKey.generate(),
      crypto,
    }
    expect(() => new ServiceKeyRing({ ...base, purposes: [] })).toThrow(ConfigurationError)
    expect(() => new ServiceKeyRing({ ...base, purposes: ['access'], rotateEveryMs: 0 })).toThrow(
      ConfigurationError,
    )
    expect(() => ring(['response']).signingKey('response').current?.()).toThrow(/not started/)
    // A rotating access key needs verification keys that follow it.
    const keys = ring(['response', 'access'])
    const hasher = crypto.hasher
    const serverWith = (keyPairs: { response: SigningKey; access: SigningKey }) =>
      new BetterAuthServer({
        crypto: { hasher, noncer: new SecureNoncer(), verifier: crypto.verifier, keyPairs },
        encoding: {
          timestamper: new Rfc3339Timestamper(),
          tokenEncoder: new NodeGzipTokenEncoder(),
          identityVerifier: new DefaultIdentityVerifier(hasher),
        },
        stores: memoryServerStores(),
      })
    expect(() => serverWith(keys.keyPairs())).toThrow(/stores.accessVerificationKeys/)
    const fixed = NodeP256SigningKey.generate()
    const odd = Object.assign(NodeP256SigningKey.generate(), { current: 'not a function' })
    expect(() => serverWith({ response: odd as unknown as SigningKey, access: fixed })).toThrow(
      /crypto.keyPairs.response.current/,
    )
  })
  it('announces what it stores, and applies a taint another process announced at once', async () => {
    const bus = countingFeed()
    // The scheduled refresh is a minute away: only the notices can do what follows.
    const { operator, ring, counted } = await deployment({ feed: bus.feed })
    const [auth, app] = [ring(['response', 'access']), ring(['response'])]
    await auth.start()
    // The chain, then the two keys' endorsements; the application's start stores its key.
    expect(bus.announced).toBe(3)
    await app.start()
    expect(bus.announced).toBe(4)
    const changes: number[] = []
    app.onChainChange((chain) => changes.push(chain.head.sequence))
    const token = await publicKey(auth.keyPairs().access)
    const response = await publicKey(app.signingKey('response'))
    expect(await verifies(app, token)).toBe(true)
    // Each notice made the others refresh, and none of those refreshes stored anything, so
    // nothing more was announced: notices do not echo.
    await vi.waitFor(() => expect(counted.refreshes).toBeGreaterThanOrEqual(5))
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(bus.announced).toBe(4)

    clock += 1000
    await operator.rotate({ taint: true })
    // The auth process publishes the tainted log (its own refresh: the operator's write).
    await auth.refresh()
    // The application process, told by the feed, refreshed: the tainted generation's token key is
    // refused there, and its own response key, endorsed by the tainted root key, was replaced.
    await vi.waitFor(() => expect(changes).toEqual([1]))
    expect(await verifies(app, token)).toBe(false)
    await vi.waitFor(async () =>
      expect(await publicKey(app.signingKey('response'))).not.toBe(response),
    )
    auth.stop()
    app.stop()
    expect(bus.subscribers).toBe(0)
    // Stopped: a notice reaches nobody.
    const before = counted.refreshes
    await bus.feed.announceKeySetChange()
    expect(counted.refreshes).toBe(before)
  })

  it('refreshes when the feed reconnected or carried a message it could not read', async () => {
    const bus = countingFeed()
    const { ring, counted } = await deployment({ feed: bus.feed, minNoticeIntervalMs: 0 })
    const app = ring(['response'])
    await app.start()
    // Its own announcements at start came back to it; once they are answered, all is quiet.
    await quiet(counted)
    const refreshes = counted.refreshes
    bus.reset()
    // A refresh that stores nothing reads the log once, and announces nothing.
    await vi.waitFor(() => expect(counted.refreshes).toBe(refreshes + 1))
    // A revocation is the device cache's business.
    await bus.feed.publish({ identity: 'E-someone' })
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(counted.refreshes).toBe(refreshes + 1)
    app.stop()
  })

  it('refreshes for a notice inside its window at the window end, once for a flood', async () => {
    const bus = countingFeed()
    // Far longer than a refresh takes, even on a loaded machine.
    const { ring, counted } = await deployment({ feed: bus.feed, minNoticeIntervalMs: 1500 })
    const app = ring(['response'])
    await app.start()
    // Past the window of the refreshes its own announcements at start prompted.
    await quiet(counted, 1700)
    const refreshes = counted.refreshes
    bus.reset()
    await vi.waitFor(() => expect(counted.refreshes).toBe(refreshes + 1))
    for (let i = 0; i < 100; i++) await bus.feed.announceKeySetChange()
    expect(counted.refreshes).toBe(refreshes + 1)
    await vi.waitFor(() => expect(counted.refreshes).toBe(refreshes + 2), { timeout: 6000 })
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(counted.refreshes).toBe(refreshes + 2)
    app.stop()
  })

  it('hears a failed refresh prompted by the feed, and refuses a feed it cannot use', async () => {
    const bus = countingFeed()
    const { prefix, store, operator } = await deployment()
    const errors: unknown[] = []
    let failing = false
    const attempts = { refreshes: 0 }
    const app = new ServiceKeyRing({
      prefix,
      store,
      endorser: {
        events: () => {
          attempts.refreshes++
          return failing ? Promise.reject(new Error('vault away')) : operator.events()
        },
        endorse: (request) => operator.endorse(request),
      },
      purposes: ['response'],
      generateKey: () => NodeP256SigningKey.generate(),
      crypto,
      feed: bus.feed,
      minNoticeIntervalMs: 0,
      onError: (error) => errors.push(error),
      now,
    })
    await app.start()
    await quiet(attempts)
    failing = true
    bus.reset()
    await vi.waitFor(() => expect(errors).toHaveLength(1))
    app.stop()
    const base = { prefix, store, endorser: operator, purposes: ['response' as const], crypto }
    const generateKey = () => NodeP256SigningKey.generate()
    expect(
      () => new ServiceKeyRing({ ...base, generateKey, feed: {} as unknown as RevocationFeed }),
    ).toThrow(/feed/)
    expect(
      () => new ServiceKeyRing({ ...base, generateKey, feed: bus.feed, minNoticeIntervalMs: -1 }),
    ).toThrow(/minNoticeIntervalMs/)
  })
})
