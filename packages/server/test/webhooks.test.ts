import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { RecordedAccountEvent } from '@better-auth/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import {
  MemoryAccountEventStore,
  MemoryWebhookDeliveryStore,
  WebhookDispatcher,
  signWebhook,
  verifyWebhook,
} from '../src/index.js'

const SECRET = 'whsec-0123456789abcdef'

/** A receiver that verifies every delivery, fails the first `failFirst`, and deduplicates. */
class Receiver {
  readonly received: RecordedAccountEvent[] = []
  readonly seen = new Set<string>()
  attempts = 0
  forged = 0
  failFirst: number
  #server: Server | undefined
  port = 0

  constructor(failFirst: number) {
    this.failFirst = failFirst
  }

  async start(): Promise<void> {
    this.#server = createServer((request, response) => {
      void this.#handle(request).then((status) => {
        response.statusCode = status
        response.end()
      })
    })
    await new Promise<void>((resolve) => this.#server!.listen(this.port, '127.0.0.1', resolve))
    this.port = (this.#server.address() as AddressInfo).port
  }

  async stop(): Promise<void> {
    const server = this.#server
    if (server === undefined) return
    this.#server = undefined
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`
  }

  async #handle(request: IncomingMessage): Promise<number> {
    let body = ''
    for await (const chunk of request) body += String(chunk)
    this.attempts += 1
    const headers = { get: (name: string) => (request.headers[name] as string | undefined) ?? null }
    if (!(await verifyWebhook(SECRET, headers, body))) {
      this.forged += 1
      return 401
    }
    if (this.failFirst > 0) {
      this.failFirst -= 1
      return 503
    }
    const event = JSON.parse(body) as RecordedAccountEvent
    if (!this.seen.has(event.id)) {
      this.seen.add(event.id)
      this.received.push(event)
    }
    return 204
  }
}

const receivers: Receiver[] = []
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.stop()))
})

async function logWith(count: number): Promise<MemoryAccountEventStore> {
  const log = new MemoryAccountEventStore()
  for (let i = 0; i < count; i += 1) {
    await log.append({
      id: `event-${i}`,
      type: 'session-refreshed',
      at: 1_000 + i,
      identity: `identity-${i % 2}`,
      device: 'device',
    })
  }
  return log
}

describe('webhook signatures', () => {
  it('verifies its own signature and refuses any change, an old timestamp and a wrong key', async () => {
    const now = Date.parse('2026-01-01T00:00:00Z')
    const body = '{"id":"e1"}'
    const headers = await signWebhook(SECRET, 'e1', body, now)
    const get = (h: Record<string, string>) => ({ get: (n: string) => h[n] ?? null })
    expect(await verifyWebhook(SECRET, get(headers), body, now)).toBe(true)
    expect(await verifyWebhook(SECRET, get(headers), body + ' ', now)).toBe(false)
    expect(await verifyWebhook('another-secret-0123', get(headers), body, now)).toBe(false)
    expect(
      await verifyWebhook(SECRET, get({ ...headers, 'betterauth-webhook-id': 'e2' }), body, now),
    ).toBe(false)
    expect(await verifyWebhook(SECRET, get(headers), body, now + 301_000)).toBe(false)
    expect(await verifyWebhook(SECRET, get({}), body, now)).toBe(false)
  })
})

describe('webhook delivery', () => {
  it('retries with backoff, survives the receiver going down and a dispatcher restart, and delivers every event exactly once after dedup', async () => {
    const log = await logWith(6)
    const deliveries = new MemoryWebhookDeliveryStore()
    const receiver = new Receiver(3)
    receivers.push(receiver)
    await receiver.start()
    let now = Date.now()
    const dispatcher = () =>
      new WebhookDispatcher({
        events: log,
        deliveries,
        endpoints: [{ id: 'audit', url: receiver.url, secret: SECRET }],
        initialBackoffMs: 100,
        now: () => now,
      })
    const first = dispatcher()
    expect(await first.pass()).toMatchObject({ enqueued: 6, delivered: 3, retried: 3 })
    // Not yet due: nothing is attempted.
    expect(await first.pass()).toMatchObject({ enqueued: 0, delivered: 0, retried: 0 })
    await receiver.stop()
    now += 100
    expect(await first.pass()).toMatchObject({ retried: 3 })
    // The dispatcher restarts (a new one over the same state) while more events arrive.
    await log.append({ id: 'late', type: 'device-rotated', at: 2_000, identity: 'x', device: 'd' })
    await receiver.start()
    const second = dispatcher()
    now += 200
    expect(await second.pass()).toMatchObject({ enqueued: 1, delivered: 4 })
    expect(receiver.forged).toBe(0)
    // Every event exactly once (the receiver deduplicated by id), in whatever order retries took.
    expect(receiver.received.map((e) => e.id).sort()).toEqual(
      ['event-0', 'event-1', 'event-2', 'event-3', 'event-4', 'event-5', 'late'].sort(),
    )
    expect(receiver.attempts).toBeGreaterThan(receiver.received.length)
    expect(await deliveries.due(now + 1e9, 100)).toEqual([])
    expect(await deliveries.deadLetters()).toEqual([])
  })

  it('moves a delivery to the dead letters after maxAttempts failures', async () => {
    const log = await logWith(1)
    const deliveries = new MemoryWebhookDeliveryStore()
    const receiver = new Receiver(Number.POSITIVE_INFINITY)
    receivers.push(receiver)
    await receiver.start()
    let now = Date.now()
    const dispatcher = new WebhookDispatcher({
      events: log,
      deliveries,
      endpoints: [{ id: 'audit', url: receiver.url, secret: SECRET }],
      maxAttempts: 3,
      initialBackoffMs: 10,
      now: () => now,
    })
    for (let i = 0; i < 3; i += 1) {
      await dispatcher.pass()
      now += 1_000
    }
    expect(receiver.attempts).toBe(3)
    const dead = await deliveries.deadLetters()
    expect(dead).toHaveLength(1)
    expect(dead[0]).toMatchObject({ endpoint: 'audit', attempts: 3, lastError: 'HTTP 503' })
    expect(dead[0]!.event.id).toBe('event-0')
    expect(await deliveries.due(now, 100)).toEqual([])
  })
})
