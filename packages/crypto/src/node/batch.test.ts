import { ConfigurationError } from '@better-auth/protocol'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { batched } from './batch.js'
import { NodeP256SigningKey, NodeP256Verifier } from './p256.js'

/** Lets every pending microtask run, but not the event loop's check phase (setImmediate). */
async function drainMicrotasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve()
}

function track<T>(promise: Promise<T>): { settled: () => boolean; promise: Promise<T> } {
  let settled = false
  const tracked = promise.finally(() => (settled = true))
  return { settled: () => settled, promise: tracked }
}

afterEach(() => {
  vi.useRealTimers()
})

describe('batched', () => {
  it('runs the jobs of one turn together, after the turn, in call order', async () => {
    const ran: number[] = []
    const jobs = [1, 2, 3].map((n) =>
      track(
        batched(() => {
          ran.push(n)
          return n * 10
        }),
      ),
    )
    await drainMicrotasks()
    expect(ran).toEqual([])
    expect(jobs.some((job) => job.settled())).toBe(false)
    expect(await Promise.all(jobs.map((job) => job.promise))).toEqual([10, 20, 30])
    expect(ran).toEqual([1, 2, 3])
  })

  it('a throwing job rejects alone; the rest of its batch still runs and resolves', async () => {
    const results = await Promise.allSettled([
      batched(() => 1),
      batched(() => {
        throw new RangeError('boom')
      }),
      batched(() => {
        // A non-Error throw still rejects with an Error.
        throw 'text' as unknown as Error
      }),
      batched(() => 4),
    ])
    expect(results[0]).toEqual({ status: 'fulfilled', value: 1 })
    expect(results[1]).toMatchObject({ status: 'rejected', reason: { name: 'RangeError' } })
    expect(results[2]).toMatchObject({ status: 'rejected', reason: { message: 'text' } })
    expect(results[3]).toEqual({ status: 'fulfilled', value: 4 })
  })

  it('jobs queued while a batch runs go to the next turn', async () => {
    const order: string[] = []
    const inner: Promise<void>[] = []
    await batched(() => {
      order.push('outer')
      inner.push(batched(() => void order.push('inner')))
    })
    expect(order).toEqual(['outer'])
    await inner[0]
    expect(order).toEqual(['outer', 'inner'])
  })
})

describe('batched signing and verification', () => {
  it('signatures and verifications of one turn settle only after the turn, all correct', async () => {
    const key = NodeP256SigningKey.generate()
    const verifier = new NodeP256Verifier()
    const publicKey = await key.public()
    const messages = Array.from({ length: 16 }, (_, i) => `message ${i}`)
    const signing = messages.map((message) => track(key.sign(message)))
    await drainMicrotasks()
    expect(signing.some((job) => job.settled())).toBe(false)
    const signatures = await Promise.all(signing.map((job) => job.promise))

    const checks = messages.map((message, i) =>
      track(verifier.verify(message, signatures[i]!, publicKey)),
    )
    const wrong = verifier.verify('other', signatures[0]!, publicKey)
    await drainMicrotasks()
    expect(checks.some((job) => job.settled())).toBe(false)
    expect(await Promise.all(checks.map((job) => job.promise))).toEqual(messages.map(() => true))
    expect(await wrong).toBe(false)
    expect(await key.verify(messages[3]!, signatures[3]!)).toBe(true)
  })

  it('batch: false settles without waiting for the turn', async () => {
    const key = NodeP256SigningKey.generate({ batch: false })
    const verifier = new NodeP256Verifier({ batch: false })
    const signature = track(key.sign('now'))
    await drainMicrotasks()
    expect(signature.settled()).toBe(true)
    const verified = track(verifier.verify('now', await signature.promise, await key.public()))
    await drainMicrotasks()
    expect(verified.settled()).toBe(true)
    expect(await verified.promise).toBe(true)
  })

  it('keeps working under fake timers (it does not use the global setImmediate)', async () => {
    vi.useFakeTimers({ toFake: ['setImmediate', 'setTimeout', 'queueMicrotask'] })
    const key = NodeP256SigningKey.generate()
    const signature = await key.sign('under fake timers')
    expect(
      await new NodeP256Verifier().verify('under fake timers', signature, await key.public()),
    ).toBe(true)
  })

  it('rejects a batch option that is not a boolean with ConfigurationError', () => {
    const bad = { batch: 'yes' } as unknown as { batch: boolean }
    expect(() => new NodeP256Verifier(bad)).toThrow(ConfigurationError)
    expect(() => NodeP256SigningKey.generate(bad)).toThrow(/batch/)
    expect(() => NodeP256SigningKey.fromSecretKey(new Uint8Array(32).fill(1), bad)).toThrow(
      ConfigurationError,
    )
  })
})
