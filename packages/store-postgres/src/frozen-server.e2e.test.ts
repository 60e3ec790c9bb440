import { StorageUnavailableError } from '@better-auth/protocol'
import { expectBetterAuthError, newDeviceKey, randomId } from '@better-auth/server/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PostgresStores } from './index.js'
import { DATABASE_URL, e2e } from './testing-internal/database.js'
import {
  startThrowawayPostgres,
  type ThrowawayPostgres,
} from './testing-internal/throwaway-server.js'

const QUERY_TIMEOUT_MS = 1_000
const CONNECTION_TIMEOUT_MS = 1_000
// Every call waits for a connection, then for one reply; what is left is scheduling on a busy
// machine.
const BOUND_MS = CONNECTION_TIMEOUT_MS + QUERY_TIMEOUT_MS + 1_000

/** What a call did and how long it took; 'pending' when it had not settled by `deadline`. */
type Outcome = { readonly ms: number } & (
  | { readonly status: 'fulfilled' }
  | { readonly status: 'rejected'; readonly error: unknown }
  | { readonly status: 'pending' }
)

function timed(call: () => Promise<unknown>, deadlineMs: number): Promise<Outcome> {
  const started = performance.now()
  const elapsed = (): number => Math.round(performance.now() - started)
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ status: 'pending', ms: elapsed() }), deadlineMs)
    call().then(
      () => {
        clearTimeout(timer)
        resolve({ status: 'fulfilled', ms: elapsed() })
      },
      (error: unknown) => {
        clearTimeout(timer)
        resolve({ status: 'rejected', error, ms: elapsed() })
      },
    )
  })
}

// The server is the test's own: freezing the one in DATABASE_URL would stall every other suite.
// DATABASE_URL only says that this machine has PostgreSQL to start one from.
describe.skipIf(!DATABASE_URL)(e2e('postgres stores on a frozen server'), () => {
  let server: ThrowawayPostgres | undefined
  let stores: PostgresStores | undefined

  beforeAll(async () => {
    server = await startThrowawayPostgres()
  }, 60_000)

  afterAll(async () => {
    await stores?.close()
    await server?.stop()
  }, 60_000)

  it('fails every in-flight call with BA603 within the timeouts, then recovers', async () => {
    const db = server!
    stores = await PostgresStores.connect({
      connectionString: db.url,
      queryTimeoutMs: QUERY_TIMEOUT_MS,
      connectionTimeoutMs: CONNECTION_TIMEOUT_MS,
      // Sweeps run with the writes, so the frozen calls include them.
      sweepIntervalMs: 0,
    })
    const { authenticationKey, recoveryHash, authenticationNonce, accessNonce } = stores
    const key = newDeviceKey()
    await authenticationKey.registerIdentity(key)
    await recoveryHash.register(key.identity, 'recovery')
    // Calls of every shape: single statements, transactions, and writes that sweep first.
    const calls: (() => Promise<unknown>)[] = [
      () => authenticationKey.publicKey(key.identity, key.device),
      () => authenticationKey.registerIdentity(newDeviceKey()),
      () => authenticationKey.replaceAllDevices(newDeviceKey(key.identity)),
      () => authenticationKey.rotate(newDeviceKey(key.identity, key.device), key.rotationHash),
      () => recoveryHash.rotate(key.identity, 'recovery', 'next'),
      () => authenticationNonce.consume(randomId('nonce-'), Date.now()),
      () => accessNonce.reserve(randomId('nonce-'), Date.now() + 60_000, Date.now()),
    ]
    // More calls than the pool has connections (10): some wait for a connection, the others
    // are sent on a connection and wait for the reply.
    const inFlight = Array.from({ length: 40 }, (_, index) => calls[index % calls.length]!)
    // Connections open and idle in the pool, as on a server that was busy when the freeze came.
    await Promise.all(
      inFlight.slice(0, 10).map(() => authenticationKey.publicKey(key.identity, key.device)),
    )

    await db.signal('SIGSTOP')
    let outcomes: Outcome[]
    try {
      outcomes = await Promise.all(inFlight.map((call) => timed(call, BOUND_MS + 5_000)))
    } finally {
      await db.signal('SIGCONT')
    }
    const slowest = Math.max(...outcomes.map(({ ms }) => ms))
    expect(outcomes.filter(({ status }) => status !== 'rejected')).toEqual([])
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') {
        const error = expectBetterAuthError(outcome.error, StorageUnavailableError)
        expect(error.code).toBe('BA603')
      }
    }
    expect(slowest).toBeLessThanOrEqual(BOUND_MS)

    // Recovery: the broken connections were discarded, new ones work.
    const deadline = Date.now() + 20_000
    for (;;) {
      const outcome = await timed(
        () => authenticationKey.publicKey(key.identity, key.device),
        5_000,
      )
      if (outcome.status === 'fulfilled') break
      if (Date.now() > deadline) throw new Error('the stores did not recover after SIGCONT')
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const recovered = await Promise.all(inFlight.map((call) => timed(call, 10_000)))
    for (const outcome of recovered) {
      // Some calls are refused by the contract now (the rotation's hash was spent, say); none
      // fails for the backend.
      if (outcome.status === 'rejected') {
        expect(outcome.error).not.toBeInstanceOf(StorageUnavailableError)
      } else {
        expect(outcome.status).toBe('fulfilled')
      }
    }
  }, 90_000)
})
