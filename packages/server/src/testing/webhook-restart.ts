import type { RecordedAccountEvent, WebhookDeliveryStore } from '@better-auth/protocol'
import { expect, it } from 'vitest'
import { MemoryAccountEventStore } from '../stores/memory/index.js'
import { WebhookDispatcher } from '../webhooks/dispatcher.js'
import { verifyWebhook } from '../webhooks/signature.js'
import type { StoreFactory } from './contract.js'
import { randomId } from './random.js'

const SECRET = 'whsec-contract-0123456789'

/**
 * A webhook receiver as the dispatcher's `fetch` sees it: it verifies every signature, answers
 * 503 to its first `failFirst` deliveries, refuses connections while down, and keeps each event
 * once by id (at-least-once delivery, deduplicated).
 */
class Receiver {
  readonly received: RecordedAccountEvent[] = []
  attempts = 0
  forged = 0
  down = false
  #failFirst: number
  readonly #now: () => number

  /** `now` is the dispatcher's clock, which signs the timestamps verified here. */
  constructor(failFirst: number, now: () => number) {
    this.#failFirst = failFirst
    this.#now = now
  }

  readonly fetch = async (_url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    if (this.down) throw new TypeError('fetch failed')
    this.attempts += 1
    const body = typeof init?.body === 'string' ? init.body : ''
    const headers = new Headers(init?.headers)
    if (!(await verifyWebhook(SECRET, headers, body, this.#now()))) {
      this.forged += 1
      return new Response(null, { status: 401 })
    }
    if (this.#failFirst > 0) {
      this.#failFirst -= 1
      return new Response(null, { status: 503 })
    }
    const event = JSON.parse(body) as RecordedAccountEvent
    if (!this.received.some((seen) => seen.id === event.id)) this.received.push(event)
    return new Response(null, { status: 204 })
  }
}

async function logOf(count: number): Promise<MemoryAccountEventStore> {
  const log = new MemoryAccountEventStore()
  for (let index = 0; index < count; index += 1) await append(log, `event-${index}`)
  return log
}

function append(log: MemoryAccountEventStore, id: string): Promise<void> {
  return log.append({
    id,
    type: 'session-refreshed',
    at: 1_000,
    identity: randomId('identity-'),
    device: 'device',
  })
}

/**
 * The dispatcher over the store under test, restarted as a server would be: each dispatcher gets
 * a store from a new `factory()` call (a new connection to the same backend), so nothing carries
 * over in memory.
 */
export function describeWebhookRestart(factory: StoreFactory<WebhookDeliveryStore>): void {
  // The dispatcher's clock, far before the wall clock: other tests' deliveries are not due yet.
  const epoch = () => 1 + Math.floor(Math.random() * 1e9) * 1_000

  it('delivers every event exactly once (after dedup) through failures, an outage and a restart', async () => {
    const log = await logOf(6)
    let now = epoch()
    const receiver = new Receiver(3, () => now)
    const endpoint = { id: randomId('audit-'), url: 'http://receiver.test/hook', secret: SECRET }
    const dispatcher = async () =>
      new WebhookDispatcher({
        events: log,
        deliveries: await factory(),
        endpoints: [endpoint],
        initialBackoffMs: 100,
        fetch: receiver.fetch,
        now: () => now,
      })
    const first = await dispatcher()
    expect(await first.pass()).toMatchObject({ enqueued: 6, delivered: 3, retried: 3 })
    expect(await first.pass()).toMatchObject({ enqueued: 0, delivered: 0, retried: 0 })
    receiver.down = true
    now += 100
    expect(await first.pass()).toMatchObject({ retried: 3 })
    await first.stop()

    // The server restarts while the receiver is still down and more events arrive.
    await append(log, 'late')
    const second = await dispatcher()
    expect(await second.pass()).toMatchObject({ enqueued: 1, delivered: 0, retried: 1 })
    receiver.down = false
    now += 400
    expect(await second.pass()).toMatchObject({ enqueued: 0, delivered: 4 })
    expect(await second.pass()).toMatchObject({ enqueued: 0, delivered: 0, retried: 0 })

    expect(receiver.forged).toBe(0)
    expect(receiver.received.map((event) => event.id).sort()).toEqual(
      ['event-0', 'event-1', 'event-2', 'event-3', 'event-4', 'event-5', 'late'].sort(),
    )
    const third = await factory()
    expect(await third.cursor(endpoint.id)).toBe(7)
    expect((await third.due(now + 1e9, 1_000)).filter((d) => d.endpoint === endpoint.id)).toEqual(
      [],
    )
  })

  it('ends a delivery to a receiver that never recovers in the dead letters, across restarts', async () => {
    const log = await logOf(1)
    let now = epoch()
    const receiver = new Receiver(Number.POSITIVE_INFINITY, () => now)
    const endpoint = { id: randomId('gone-'), url: 'http://receiver.test/hook', secret: SECRET }
    for (let attempt = 0; attempt < 4; attempt += 1) {
      const dispatcher = new WebhookDispatcher({
        events: log,
        deliveries: await factory(),
        endpoints: [endpoint],
        maxAttempts: 3,
        initialBackoffMs: 10,
        fetch: receiver.fetch,
        now: () => now,
      })
      await dispatcher.pass()
      now += 1_000
    }
    expect(receiver.attempts).toBe(3)
    const store = await factory()
    const dead = (await store.deadLetters()).filter((letter) => letter.endpoint === endpoint.id)
    expect(dead).toMatchObject([{ attempts: 3, lastError: 'HTTP 503', event: { id: 'event-0' } }])
    expect((await store.due(now + 1e9, 1_000)).filter((d) => d.endpoint === endpoint.id)).toEqual(
      [],
    )
  })
}
