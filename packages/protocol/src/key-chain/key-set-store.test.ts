import { describe, expect, it, vi } from 'vitest'
import {
  ConfigurationError,
  InvalidEndorsementError,
  InvalidKeyChainError,
  NetworkError,
} from '../errors.js'
import { verifyKeyChain, type KeyChain } from './chain.js'
import { endorseKey, type KeyPurpose } from './endorsement.js'
import type { SignedKeyEvent } from './event.js'
import type { RevocationFeed, RevocationListener } from '../interfaces/server-stores.js'
import { KEY_SET_NOTICE, deliverFeedMessage } from '../stores/revocation-message.js'
import { serializeKeySet } from './key-set.js'
import { KeySetKeyStore, type KeySetChange } from './key-set-store.js'
import { HOUR, START, buildChain, chainKey, forge } from './testing-internal/chains.js'
import { crypto, testKey } from './testing-internal/suite.js'

const MINUTE = 60_000

/** An auth service's key set as it changes over a test, and a store that fetches it. */
async function world(length = 2, taintAt: number[] = []) {
  let events: SignedKeyEvent[] = await buildChain(length, 'root', taintAt)
  let chain: KeyChain = await verifyKeyChain(
    events.map(({ text }) => text),
    crypto,
  )
  let endorsements: string[] = []
  let fetches = 0
  let failing = false
  let clock = START + HOUR
  const state = {
    get fetches() {
      return fetches
    },
    set failing(value: boolean) {
      failing = value
    },
    advance(ms: number) {
      clock += ms
    },
    async grow(length: number, taint: number[] = []) {
      events = await buildChain(length, 'root', taint)
      chain = await verifyKeyChain(
        events.map(({ text }) => text),
        crypto,
      )
    },
    dropEndorsements() {
      endorsements = []
    },
    replaceEvents(texts: string[]) {
      events = texts.map((text) => ({ text, event: (events[0] as SignedKeyEvent).event }))
    },
    async endorse(
      service: string,
      generation = chain.generations.length - 1,
      purpose: KeyPurpose = 'response',
    ) {
      const text = await endorseKey({
        chain,
        generation: chain.generations[generation]!,
        signer: chainKey('root', generation),
        purpose,
        publicKey: await testKey(service).public(),
        notBefore: new Date(START),
        notAfter: new Date(START + 48 * HOUR),
      })
      endorsements = [...endorsements, text]
    },
    store(purpose: KeyPurpose = 'response', minNoticeIntervalMs?: number) {
      return new KeySetKeyStore({
        ...(minNoticeIntervalMs === undefined ? {} : { minNoticeIntervalMs }),
        prefix: (events[0] as SignedKeyEvent).event.id,
        purpose,
        crypto,
        now: () => new Date(clock),
        minRefetchIntervalMs: MINUTE,
        maxAgeMs: 10 * MINUTE,
        fetchKeySet: () => {
          fetches++
          if (failing) return Promise.reject(new NetworkError('auth service down'))
          return Promise.resolve(
            serializeKeySet({ chain: events.map(({ text }) => text), keys: endorsements }),
          )
        },
      })
    },
  }
  return state
}

/** A store that has looked up and trusted 'old-service', endorsed by root key 1 of two. */
async function trustingOldService() {
  const w = await world(2)
  await w.endorse('old-service', 1)
  const store = w.store()
  const old = await testKey('old-service').public()
  await store.get(old)
  return { w, store, old }
}

/** A message bus in the test's hands: each message goes through the feeds' own dispatch. */
function bus() {
  const listeners = new Set<RevocationListener>()
  const send = (text: string) => {
    for (const listener of listeners) deliverFeedMessage(text, listener)
  }
  const feed: RevocationFeed = {
    publish: () => Promise.resolve(),
    announceKeySetChange: () => {
      send(KEY_SET_NOTICE)
      return Promise.resolve()
    },
    subscribe: (listener) => {
      listeners.add(listener)
      return Promise.resolve(() => {
        listeners.delete(listener)
        return Promise.resolve()
      })
    },
  }
  return {
    feed,
    send,
    /** What a feed does when it reconnected. */
    reconnected: () => listeners.forEach((listener) => listener.reset()),
    get subscribers() {
      return listeners.size
    },
  }
}

async function fault(run: Promise<unknown>): Promise<unknown> {
  try {
    await run
    return 'trusted'
  } catch (error) {
    if (error instanceof InvalidEndorsementError || error instanceof InvalidKeyChainError) {
      return error.context.fault
    }
    if (error instanceof NetworkError) return 'network'
    throw error
  }
}

describe('KeySetKeyStore', () => {
  it('refuses options without a fetch function or with an unknown purpose', async () => {
    const w = await world()
    const valid = w.store()
    expect(valid).toBeInstanceOf(KeySetKeyStore)
    const options = { prefix: 'E', purpose: 'response' as const, crypto }
    expect(() => new KeySetKeyStore({ ...options, fetchKeySet: 'https://auth' as never })).toThrow(
      ConfigurationError,
    )
    expect(
      () =>
        new KeySetKeyStore({
          ...options,
          purpose: 'signing' as KeyPurpose,
          fetchKeySet: () => Promise.resolve(''),
        }),
    ).toThrow(ConfigurationError)
  })

  it('follows a refresh asked for during a fetch with one more fetch, shared by the askers', async () => {
    const w = await world()
    await w.endorse('response-a')
    const store = w.store()
    const lookup = store.get(await testKey('response-a').public())
    const refreshes = [store.refresh(), store.refresh()]
    await lookup
    await Promise.all(refreshes)
    expect(w.fetches).toBe(2)
    // The follow-up is not kept once done: a refresh asked for during a later fetch gets its own.
    const later = [store.refresh(), store.refresh()]
    await Promise.all(later)
    expect(w.fetches).toBe(4)
  })

  it('answers a caller that joined a lookup with what that lookup found', async () => {
    const w = await world()
    await w.endorse('response-a')
    const store = w.store()
    await store.get(await testKey('response-a').public())
    // Joined lookup failing: the auth service is down.
    w.failing = true
    const stranger = await testKey('stranger').public()
    const down = await Promise.all([fault(store.get(stranger)), fault(store.get(stranger))])
    expect(down).toEqual(['network', 'network'])
    expect(w.fetches).toBe(2)
    // Joined lookup finding the key endorsed for another purpose: refused as such, not retried.
    w.failing = false
    w.advance(MINUTE)
    await w.endorse('access-b', undefined, 'access')
    const b = await testKey('access-b').public()
    expect(await Promise.all([fault(store.get(b)), fault(store.get(b))])).toEqual([
      'purpose',
      'purpose',
    ])
    expect(w.fetches).toBe(3)
  })

  it('trusts the keys the pinned chain endorses, and verifies with them', async () => {
    const w = await world()
    await w.endorse('response-a')
    const store = w.store()
    const key = await store.get(await testKey('response-a').public())
    const signature = await testKey('response-a').sign('hello')
    expect(await key.verify('hello', signature)).toBe(true)
    expect(await key.verify('hullo', signature)).toBe(false)
    expect(await fault(w.store('access').get(await testKey('response-a').public()))).toBe('purpose')
  })

  it('follows a new service key with one fetch shared by concurrent callers', async () => {
    const w = await world()
    await w.endorse('response-a')
    const store = w.store()
    await store.get(await testKey('response-a').public())
    expect(w.fetches).toBe(1)
    await w.endorse('response-b')
    const b = await testKey('response-b').public()
    const keys = await Promise.all(Array.from({ length: 20 }, () => store.get(b)))
    expect(new Set(await Promise.all(keys.map((key) => key.public())))).toEqual(new Set([b]))
    expect(w.fetches).toBe(2)
    // A lookup that found its key does not hold back the next rotation.
    await w.endorse('response-c')
    await store.get(await testKey('response-c').public())
    expect(w.fetches).toBe(3)
  })

  it('looks an unknown key up at once, then at most once per interval', async () => {
    const w = await world()
    const store = w.store()
    const stranger = await testKey('stranger').public()
    expect(await fault(store.get(stranger))).toBe('unknown-key')
    expect(w.fetches).toBe(2)
    for (let i = 0; i < 5; i++) expect(await fault(store.get(stranger))).toBe('unknown-key')
    expect(w.fetches).toBe(2)
    w.advance(MINUTE)
    expect(await fault(store.get(stranger))).toBe('unknown-key')
    expect(w.fetches).toBe(3)
  })

  it('follows root rotations, and drops keys of a tainted root key once the set is old', async () => {
    const { w, store, old } = await trustingOldService()
    await w.grow(3, [2])
    await w.endorse('new-service', 2)
    // Within maxAge the cached set still answers; after it, the taint applies.
    expect(await fault(store.get(old))).toBe('trusted')
    w.advance(10 * MINUTE)
    expect(await fault(store.get(old))).toBe('tainted')
    expect(await fault(store.get(await testKey('new-service').public()))).toBe('trusted')
  })

  it('refuses a tainted key without fetching, so the keys replacing it are followed at once', async () => {
    const { w, store, old } = await trustingOldService()
    // The taint, then an auth service that no longer publishes the tainted endorsement.
    await w.grow(3, [2])
    w.advance(10 * MINUTE)
    expect(await fault(store.get(old))).toBe('tainted')
    w.dropEndorsements()
    await store.refresh()
    const fetches = w.fetches
    for (let i = 0; i < 5; i++) expect(await fault(store.get(old))).toBe('tainted')
    expect(w.fetches).toBe(fetches)
    // The replacement, endorsed a moment later, is looked up and trusted on first sight.
    w.advance(1_000)
    await w.endorse('new-service', 2)
    expect(await fault(store.get(await testKey('new-service').public()))).toBe('trusted')
    expect(w.fetches).toBe(fetches + 1)
  })

  it('tells its listeners when the chain grows and which keys a taint withdrew', async () => {
    const w = await world(2)
    await w.endorse('kept', 1, 'access')
    const store = w.store('access')
    const changes: KeySetChange[] = []
    const stop = store.onChange((change) => changes.push(change))
    await store.refresh()
    // A new key endorsed: nothing this party trusted is withdrawn, and the chain is the same.
    await w.endorse('added', 1, 'access')
    await store.refresh()
    expect(changes).toEqual([])
    // A scheduled root rotation: the chain grew, every key stays.
    await w.grow(3)
    await store.refresh()
    expect(changes.map(({ chainExtended, withdrawn }) => ({ chainExtended, withdrawn }))).toEqual([
      { chainExtended: true, withdrawn: [] },
    ])
    expect(changes[0]?.chain.head.sequence).toBe(2)
    await w.endorse('stolen', 2, 'access')
    await w.endorse('responder', 2, 'response')
    await store.refresh()
    // Root key 2 declared compromised: the access key it endorsed is withdrawn (the response key
    // is another purpose's business); the listener hears it even though another one throws.
    store.onChange(() => {
      throw new Error('a faulty listener')
    })
    await w.grow(4, [3])
    await store.refresh()
    expect(changes[1]?.chainExtended).toBe(true)
    expect(changes[1]?.withdrawn).toEqual([await testKey('stolen').public()])
    expect(await fault(store.get(await testKey('added').public()))).toBe('trusted')
    stop()
    await w.grow(5, [3])
    await store.refresh()
    expect(changes).toHaveLength(2)
  })

  it('refuses another chain and a re-fetched log that forks, keeping what it knew', async () => {
    const w = await world(2)
    await w.endorse('a')
    const store = w.store()
    await store.get(await testKey('a').public())
    const events = await buildChain(2)
    const sibling = await forge(
      {
        ...(events[1] as SignedKeyEvent).event,
        createdAt: new Date(START + 5 * HOUR).toISOString(),
      },
      'root/1',
    )
    w.replaceEvents([(events[0] as SignedKeyEvent).text, sibling])
    w.advance(10 * MINUTE)
    expect(await fault(store.get(await testKey('a').public()))).toBe('fork')

    const foreign = new KeySetKeyStore({
      prefix: (await verifyKeyChain([(await buildChain(1, 'elsewhere'))[0]!.text], crypto)).prefix,
      purpose: 'response',
      crypto,
      fetchKeySet: () => Promise.resolve(serializeKeySet({ chain: [], keys: [] })),
    })
    expect(await fault(foreign.get('x'))).toBe('empty')
  })

  it('fails closed while the auth service is down and the set is too old, without hammering it', async () => {
    const w = await world()
    await w.endorse('a')
    const store = w.store()
    const a = await testKey('a').public()
    await store.get(a)
    w.failing = true
    w.advance(10 * MINUTE)
    expect(await fault(store.get(a))).toBe('network')
    expect(await fault(store.get(a))).toBe('network')
    expect(w.fetches).toBe(2)
    w.failing = false
    w.advance(MINUTE)
    expect(await fault(store.get(a))).toBe('trusted')
    expect(w.fetches).toBe(3)
  })
  it('applies a taint announced on the feed at once, with no lookup, and stops when told', async () => {
    const w = await world(2)
    await w.endorse('stolen', 1, 'access')
    const store = w.store('access')
    const withdrawn: string[][] = []
    store.onChange((change) => withdrawn.push([...change.withdrawn]))
    const b = bus()
    const stop = await store.follow(b.feed)
    expect(b.subscribers).toBe(1)
    // Following fetches once: a change made just before subscribing was announced to nobody.
    expect(w.fetches).toBe(1)
    await vi.waitFor(() => expect(store.current()).resolves.toBeDefined())
    await w.grow(3, [2])
    await b.feed.announceKeySetChange()
    // No lookup, and long before maxAgeMs: the notice alone made it fetch and withdraw the key.
    await vi.waitFor(() => expect(withdrawn).toEqual([[expect.any(String)]]))
    expect(withdrawn[0]).toEqual([await testKey('stolen').public()])
    expect(await fault(store.get(await testKey('stolen').public()))).toBe('tainted')
    await stop()
    expect(b.subscribers).toBe(0)
  })

  it('fetches again when the feed reconnected or carried a message it cannot read', async () => {
    const w = await world(2)
    const store = w.store('access', 0)
    const b = bus()
    await store.follow(b.feed)
    await vi.waitFor(() => expect(store.current()).resolves.toBeDefined())
    expect(w.fetches).toBe(1)
    // Either may have cost a notice: both are answered with a fetch.
    b.reconnected()
    await vi.waitFor(() => expect(w.fetches).toBe(2))
    await store.current()
    b.send('{"keySet":"something else"}')
    await vi.waitFor(() => expect(w.fetches).toBe(3))
    // A revocation is another listener's business.
    await store.current()
    b.send('{"identity":"E-someone"}')
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(w.fetches).toBe(3)
  })

  it('defers a notice inside the rate limit to the window end, once for a flood', async () => {
    const w = await world(2)
    await w.endorse('stolen', 1, 'access')
    // A window far longer than a fetch takes, even on a loaded machine.
    const store = w.store('access', 2000)
    const withdrawn: string[][] = []
    store.onChange((change) => withdrawn.push([...change.withdrawn]))
    const b = bus()
    await store.follow(b.feed)
    await vi.waitFor(() => expect(store.current()).resolves.toBeDefined())
    expect(w.fetches).toBe(1)
    // The taint's notice lands inside the window of the fetch made on subscribing, amid a flood.
    await w.grow(3, [2])
    for (let i = 0; i < 100; i++) await b.feed.announceKeySetChange()
    expect(w.fetches).toBe(1)
    // Not swallowed: fetched for at the end of the window, once for all of them.
    await vi.waitFor(() => expect(withdrawn).toHaveLength(1), { timeout: 6000 })
    expect(w.fetches).toBe(2)
    await new Promise((resolve) => setTimeout(resolve, 400))
    expect(w.fetches).toBe(2)
  })

  it('keeps a fetch that failed after a notice for lookups, and fetches at the next notice', async () => {
    const w = await world(2)
    await w.endorse('stolen', 1, 'access')
    const stolen = await testKey('stolen').public()
    const store = w.store('access', 0)
    const b = bus()
    await store.follow(b.feed)
    await vi.waitFor(() => expect(store.current()).resolves.toBeDefined())
    w.failing = true
    await w.grow(3, [2])
    await b.feed.announceKeySetChange()
    await vi.waitFor(() => expect(w.fetches).toBe(2))
    // The set fetched before stays in use (it is not older than maxAgeMs) until one succeeds.
    await new Promise((resolve) => setTimeout(resolve, 20))
    w.failing = false
    await b.feed.announceKeySetChange()
    await vi.waitFor(() => expect(fault(store.get(stolen))).resolves.toBe('tainted'))
  })
})
