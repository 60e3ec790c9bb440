import { Rfc3339Timestamper } from '@better-auth/crypto'
import { protocols } from '@better-auth/protocol'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  AccessVerifier,
  BetterAuthServer,
  DEFAULT_EXPIRY,
  MemoryTimeLockStore,
  StaticVerificationKeyStore,
} from '../src/index.js'
import { randomId } from '../src/testing/index.js'
import {
  codeOf,
  createHarness,
  newAccount,
  tokenEncoder,
  verifier,
  type Harness,
} from './harness.js'

/**
 * Several servers share one nonce store, each judging freshness by its own clock; the clocks of
 * any two disagree by at most `clockSkewMs`. Server A accepts a message, server B is handed it
 * again at an instant its own clock still finds it acceptable, and in between server X, whose
 * clock is as far ahead of B's as the tolerance allows, writes to the store (so it sweeps what has
 * lapsed by X's clock). B must refuse it as a replay.
 */
const { accessWindowMs: WINDOW, clockSkewMs: SKEW } = DEFAULT_EXPIRY

/** A server's clock: a fixed reading, set by the test before each call. */
function clock() {
  const reading = { now: 0 }
  return { reading, timestamper: new Rfc3339Timestamper({ clock: () => reading.now }) }
}

/** How far X's clock may run ahead of B's when B's is `delta` from A's and both are within tolerance of X. */
const sweeperLead = (delta: number): number => Math.min(SKEW, SKEW - delta)

/** Lets the store sweep what has lapsed by the reading of X's clock. */
async function sweepAt(store: MemoryTimeLockStore, now: number): Promise<void> {
  await store.reserve(randomId('traffic-'), now + 1, now)
}

function accessVerifier(harness: Harness, store: MemoryTimeLockStore) {
  const own = clock()
  const verifierOf = new AccessVerifier({
    crypto: { verifier },
    encoding: { timestamper: own.timestamper, tokenEncoder },
    stores: {
      accessNonce: store,
      accessVerificationKeys: new StaticVerificationKeyStore([harness.accessKey]),
    },
  })
  return { reading: own.reading, verifier: verifierOf }
}

/** Where a fraction in [0, 1] falls between two instants. */
const between = (first: number, last: number, fraction: number): number =>
  first + Math.round((last - first) * fraction)

describe('replay across servers whose clocks disagree within clockSkewMs', () => {
  it('refuses a replayed access request on every other server, for every skew and replay instant', async () => {
    const harness = await createHarness()
    const { client } = await newAccount(harness)
    await client.createSession()
    const acceptedAt = harness.clock.now + 60_000

    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: -SKEW, max: SKEW }),
        fc.integer({ min: -WINDOW, max: SKEW }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        async (delta, age, fraction) => {
          // Instants at which B finds the request neither stale nor from the future, from A's
          // acceptance on.
          const requestTime = acceptedAt + age
          const first = Math.max(acceptedAt + delta, requestTime - SKEW)
          const last = requestTime + WINDOW
          fc.pre(first <= last)

          harness.clock.now = requestTime
          await client.makeAccessRequest('/foo/bar', { foo: 'x', bar: 'y' })
          const message = harness.lastSent('/foo/bar')

          const store = new MemoryTimeLockStore()
          const a = accessVerifier(harness, store)
          const b = accessVerifier(harness, store)
          a.reading.now = acceptedAt
          await a.verifier.verify(message)

          b.reading.now = between(first, last, fraction)
          await sweepAt(store, b.reading.now + sweeperLead(delta))
          expect(await codeOf(b.verifier.verify(message))).toBe('BA205')
        },
      ),
      {
        numRuns: 80,
        // The worst cases: B behind A by the whole tolerance, the request stamped as far ahead as
        // A accepts, replayed at the last instant B accepts, or just after A's clock has passed
        // the window counted from its own acceptance.
        examples: [
          [-SKEW, SKEW, 1],
          [-SKEW, SKEW, 0.95],
          [0, SKEW, 1],
        ],
      },
    )
  })

  it('refuses a second refresh of one access key on every other server, up to the refresh expiry', async () => {
    const harness = await createHarness()
    const { client } = await newAccount(harness)
    await client.createSession()
    const refreshExpiry = harness.clock.now + harness.server.expiry.refreshMs
    const servers = (store: MemoryTimeLockStore) => {
      const make = () => {
        const own = clock()
        const server = new BetterAuthServer({
          ...harness.serverOptions,
          encoding: { ...harness.serverOptions.encoding, timestamper: own.timestamper },
          stores: { ...harness.serverOptions.stores, accessKeyHash: store },
        })
        return { reading: own.reading, server }
      }
      return { a: make(), b: make() }
    }

    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: -SKEW, max: SKEW }),
        fc.integer({ min: 10_000, max: 60_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        async (delta, before, fraction) => {
          // A accepts `before` ms ahead of the refresh expiry by its clock; B is handed the same
          // request at an instant its clock has not passed the refresh expiry.
          const acceptedAt = refreshExpiry - before
          const first = acceptedAt + delta
          fc.pre(first <= refreshExpiry)

          harness.clock.now = acceptedAt - 1_000
          await client.refreshSession()
          const message = harness.lastSent(protocols.refreshSession.path)

          const store = new MemoryTimeLockStore()
          const { a, b } = servers(store)
          a.reading.now = acceptedAt
          await a.server.handle('refreshSession', message)

          b.reading.now = between(first, refreshExpiry, fraction)
          await sweepAt(store, b.reading.now + sweeperLead(delta))
          expect(await codeOf(b.server.handle('refreshSession', message))).toBe('BA205')
        },
      ),
      {
        numRuns: 40,
        examples: [
          [-SKEW, 30_000, 1],
          [0, 30_000, 1],
        ],
      },
    )
  })
})
