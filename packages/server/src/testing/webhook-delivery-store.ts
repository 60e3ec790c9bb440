import type {
  PendingDelivery,
  RecordedAccountEvent,
  WebhookDeliveryStore,
} from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'
import type { StoreFactory } from './contract.js'
import { randomId } from './random.js'
import { describeWebhookRestart } from './webhook-restart.js'

/** Events as a log hands them out: sequences `from`, `from + 1`, … */
export function loggedEvents(from: number, count: number): RecordedAccountEvent[] {
  return Array.from({ length: count }, (_, index) => ({
    sequence: from + index,
    id: randomId('event-'),
    type: 'session-refreshed' as const,
    at: 1_000 + index,
    identity: randomId('identity-'),
    device: randomId('device-'),
    nonce: randomId('nonce-'),
  }))
}

/** A time of the test's own, far before the wall clock that other suites' deliveries use. */
function privateEpoch(): number {
  return 1 + Math.floor(Math.random() * 1e9) * 1_000
}

/** The deliveries of `endpoints` due at `now`: tests share the store, each with its endpoints. */
async function dueOf(
  store: WebhookDeliveryStore,
  now: number,
  ...endpoints: string[]
): Promise<PendingDelivery[]> {
  const due = await store.due(now, 10_000)
  return due.filter((delivery) => endpoints.includes(delivery.endpoint))
}

export function describeWebhookDeliveryStore(
  factory: StoreFactory<WebhookDeliveryStore>,
  concurrency: number,
): void {
  describe('WebhookDeliveryStore', () => {
    it('starts each endpoint at cursor 0 and moves it with each enqueue', async () => {
      const store = await factory()
      const [audit, billing] = [randomId('audit-'), randomId('billing-')]
      expect(await store.cursor(audit)).toBe(0)
      await store.enqueue(audit, loggedEvents(1, 3), privateEpoch())
      expect(await store.cursor(audit)).toBe(3)
      expect(await store.cursor(billing)).toBe(0)
      await store.enqueue(audit, [], privateEpoch())
      expect(await store.cursor(audit)).toBe(3)
      for (const sequence of [1, 2, 3]) await store.delivered(audit, sequence)
    })

    it('keeps every field of the event, and answers due deliveries earliest first', async () => {
      const store = await factory()
      const now = privateEpoch()
      const [a, b] = [randomId('a-'), randomId('b-')]
      const [first, second] = loggedEvents(1, 2) as [RecordedAccountEvent, RecordedAccountEvent]
      const target = { device: 'd2', publicKey: 'pk', rotationHash: 'rh' }
      const linked: RecordedAccountEvent = { ...first, type: 'device-linked', target }
      await store.enqueue(b, [linked, second], now)
      await store.enqueue(a, [linked], now + 1)
      expect(await dueOf(store, now - 1, a, b)).toEqual([])
      expect(await dueOf(store, now + 1, a, b)).toEqual([
        { endpoint: b, event: linked, attempts: 0, nextAttemptAt: now },
        { endpoint: b, event: second, attempts: 0, nextAttemptAt: now },
        { endpoint: a, event: linked, attempts: 0, nextAttemptAt: now + 1 },
      ])
      expect(await store.due(now + 1, 2)).toHaveLength(2)
      await store.retry(b, 1, now + 5)
      const after = await dueOf(store, now + 5, a, b)
      expect(after.map((d) => [d.endpoint, d.event.sequence])).toEqual([
        [b, 2],
        [a, 1],
        [b, 1],
      ])
      for (const [endpoint, sequence] of [
        [a, 1],
        [b, 1],
        [b, 2],
      ] as const) {
        await store.delivered(endpoint, sequence)
      }
      expect(await dueOf(store, now + 5, a, b)).toEqual([])
    })

    it('never queues an event twice: events at or below the cursor are skipped', async () => {
      const store = await factory()
      const endpoint = randomId('endpoint-')
      const now = privateEpoch()
      const events = loggedEvents(1, 4)
      await store.enqueue(endpoint, events.slice(0, 2), now)
      await store.delivered(endpoint, 1)
      // A late dispatcher that read cursor 0 enqueues the same events and one more.
      await store.enqueue(endpoint, events.slice(0, 3), now)
      expect((await dueOf(store, now, endpoint)).map((d) => d.event.sequence)).toEqual([2, 3])
      expect(await store.cursor(endpoint)).toBe(3)
      await store.enqueue(endpoint, events.slice(0, 1), now)
      expect(await store.cursor(endpoint)).toBe(3)
      for (const sequence of [2, 3]) await store.delivered(endpoint, sequence)
    })

    it(`queues each event once when ${concurrency} dispatchers enqueue the same batch at once`, async () => {
      const store = await factory()
      const endpoint = randomId('endpoint-')
      const now = privateEpoch()
      const events = loggedEvents(1, 5)
      await Promise.all(
        Array.from({ length: concurrency }, (_, index) =>
          store.enqueue(endpoint, events.slice(0, 1 + (index % 5)), now),
        ),
      )
      const due = await dueOf(store, now, endpoint)
      expect(due.map((d) => d.event.sequence)).toEqual([1, 2, 3, 4, 5])
      expect(await store.cursor(endpoint)).toBe(5)
      for (const sequence of [1, 2, 3, 4, 5]) await store.delivered(endpoint, sequence)
    })

    it(`counts each of ${concurrency} concurrent failed attempts`, async () => {
      const store = await factory()
      const endpoint = randomId('endpoint-')
      const now = privateEpoch()
      await store.enqueue(endpoint, loggedEvents(1, 1), now)
      await Promise.all(
        Array.from({ length: concurrency }, () => store.retry(endpoint, 1, now + 10)),
      )
      expect(await dueOf(store, now + 9, endpoint)).toEqual([])
      expect(await dueOf(store, now + 10, endpoint)).toMatchObject([
        { endpoint, attempts: concurrency, nextAttemptAt: now + 10 },
      ])
      await store.delivered(endpoint, 1)
    })

    it('moves a delivery to the dead letters once, counting the last attempt', async () => {
      const store = await factory()
      const endpoint = randomId('endpoint-')
      const now = privateEpoch()
      const [event] = loggedEvents(1, 1) as [RecordedAccountEvent]
      await store.enqueue(endpoint, [event], now)
      await store.retry(endpoint, 1, now)
      await Promise.all([
        store.deadLetter(endpoint, 1, 'HTTP 503', now + 1),
        store.deadLetter(endpoint, 1, 'HTTP 500', now + 2),
      ])
      expect(await dueOf(store, now + 10, endpoint)).toEqual([])
      const dead = (await store.deadLetters()).filter((letter) => letter.endpoint === endpoint)
      expect(dead).toHaveLength(1)
      expect(dead[0]).toMatchObject({ endpoint, event, attempts: 2 })
      expect(['HTTP 503', 'HTTP 500']).toContain(dead[0]!.lastError)
    })

    it('lists dead letters oldest first', async () => {
      const store = await factory()
      const endpoint = randomId('endpoint-')
      const now = privateEpoch()
      await store.enqueue(endpoint, loggedEvents(1, 3), now)
      for (const sequence of [2, 3, 1]) await store.deadLetter(endpoint, sequence, 'x', now)
      const dead = (await store.deadLetters()).filter((letter) => letter.endpoint === endpoint)
      expect(dead.map((letter) => letter.event.sequence)).toEqual([2, 3, 1])
    })

    it('changes nothing for a delivery that is not pending', async () => {
      const store = await factory()
      const endpoint = randomId('endpoint-')
      const now = privateEpoch()
      await store.retry(endpoint, 7, now)
      await store.delivered(endpoint, 7)
      await store.deadLetter(endpoint, 7, 'x', now)
      expect(await dueOf(store, now + 1, endpoint)).toEqual([])
      expect((await store.deadLetters()).filter((d) => d.endpoint === endpoint)).toEqual([])
      expect(await store.cursor(endpoint)).toBe(0)
    })

    describeWebhookRestart(factory)
  })
}
