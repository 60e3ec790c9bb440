import type {
  DeadLetter,
  PendingDelivery,
  RecordedAccountEvent,
  WebhookDeliveryStore,
} from '@better-auth/protocol'
import type { Connection } from './connection.js'
import { unexpectedReply } from './errors.js'

interface StoredDeadLetter {
  readonly endpoint: string
  readonly event: string
  readonly attempts: number
  readonly lastError: string
  readonly deadAt: string
}

/**
 * Webhook delivery state under `<prefix>{webhooks}:` (one hash slot on a cluster), shared by every
 * server on the database: a
 * hash of cursors by endpoint; the pending deliveries as members `<sequence, 16 digits>:<endpoint>`
 * of a sorted set scored by when each is due (so equal times order by sequence, then endpoint),
 * with their event JSON and attempt count in two hashes under the same member; the dead letters
 * in a list, oldest first. Every change is one script (atomic); `due` reads the set, then the
 * events, and skips a delivery completed in between.
 */
export class RedisWebhookDeliveryStore implements WebhookDeliveryStore {
  readonly #redis: Connection
  readonly #keys: { cursors: string; due: string; events: string; attempts: string; dead: string }

  constructor(redis: Connection) {
    this.#redis = redis
    const key = (name: string) => redis.key([name], 'webhooks')
    this.#keys = {
      cursors: key('cursors'),
      due: key('due'),
      events: key('events'),
      attempts: key('attempts'),
      dead: key('dead'),
    }
  }

  async cursor(endpoint: string): Promise<number> {
    const cursor = await this.#redis.run((client) => client.hget(this.#keys.cursors, endpoint))
    return cursor === null ? 0 : Number(cursor)
  }

  async enqueue(
    endpoint: string,
    events: readonly RecordedAccountEvent[],
    now: number,
  ): Promise<void> {
    if (events.length === 0) return
    const { cursors, due, events: stored, attempts } = this.#keys
    expectOk(
      await this.#redis.script(
        'betterAuthWebhookEnqueue',
        [cursors, due, stored, attempts],
        endpoint,
        String(now),
        ...events.flatMap((event) => [String(event.sequence), JSON.stringify(event)]),
      ),
    )
  }

  async due(now: number, limit: number): Promise<readonly PendingDelivery[]> {
    const { due, events, attempts } = this.#keys
    const scored = await this.#redis.run((client) =>
      client.zrangebyscore(due, '-inf', String(now), 'WITHSCORES', 'LIMIT', 0, limit),
    )
    const members = scored.filter((_, index) => index % 2 === 0)
    if (members.length === 0) return []
    const [bodies, counts] = await this.#redis.run((client) =>
      Promise.all([client.hmget(events, ...members), client.hmget(attempts, ...members)]),
    )
    return members.flatMap((member, index) => {
      const body = bodies[index]
      const count = counts[index]
      if (body == null || count == null) return []
      return [
        {
          endpoint: endpointOf(member),
          event: JSON.parse(body) as RecordedAccountEvent,
          attempts: Number(count),
          nextAttemptAt: Number(scored[2 * index + 1]),
        },
      ]
    })
  }

  async delivered(endpoint: string, sequence: number): Promise<void> {
    const { due, events, attempts } = this.#keys
    expectOk(
      await this.#redis.script(
        'betterAuthWebhookDelivered',
        [due, events, attempts],
        memberOf(endpoint, sequence),
      ),
    )
  }

  async retry(endpoint: string, sequence: number, nextAttemptAt: number): Promise<void> {
    const { due, attempts } = this.#keys
    const status = await this.#redis.script(
      'betterAuthWebhookRetry',
      [due, attempts],
      memberOf(endpoint, sequence),
      String(nextAttemptAt),
    )
    if (status !== 'gone') expectOk(status)
  }

  async deadLetter(
    endpoint: string,
    sequence: number,
    lastError: string,
    now: number,
  ): Promise<void> {
    const { due, events, attempts, dead } = this.#keys
    const status = await this.#redis.script(
      'betterAuthWebhookDeadLetter',
      [due, events, attempts, dead],
      memberOf(endpoint, sequence),
      endpoint,
      lastError,
      String(now),
    )
    if (status !== 'gone') expectOk(status)
  }

  async deadLetters(): Promise<readonly DeadLetter[]> {
    const letters = await this.#redis.run((client) => client.lrange(this.#keys.dead, 0, -1))
    return letters.map((letter) => {
      const stored = JSON.parse(letter) as StoredDeadLetter
      return {
        endpoint: stored.endpoint,
        event: JSON.parse(stored.event) as RecordedAccountEvent,
        attempts: stored.attempts,
        lastError: stored.lastError,
        deadAt: Number(stored.deadAt),
      }
    })
  }
}

function memberOf(endpoint: string, sequence: number): string {
  return `${String(sequence).padStart(16, '0')}:${endpoint}`
}

function endpointOf(member: string): string {
  return member.slice(17)
}

function expectOk(status: string): void {
  if (status !== 'ok') throw unexpectedReply(status)
}
