import type {
  AccountEvent,
  AccountHistoryOptions,
  RecordedAccountEvent,
  ServerAccountEventStore,
} from '@better-auth/protocol'
import type { Connection } from './connection.js'
import { unexpectedReply } from './errors.js'

/** The identity's hash: its devices (see scripts.ts). */
export function identityKey(redis: Connection, identity: string): string {
  return redis.key(['identity', identity], 'accounts')
}

/**
 * The event log keys a changing script takes after the identity's hash (see scripts.ts): the
 * sequence, the feed and the identity's history, in the identity hash's slot group.
 */
export function eventKeys(redis: Connection, identity: string): [string, string, string] {
  return [
    redis.key(['events', 'sequence'], 'accounts'),
    redis.key(['events'], 'accounts'),
    redis.key(['events', 'of', identity], 'accounts'),
  ]
}

/** The last argument of a changing script: the event as JSON, or '' for none. */
export function eventArgument(event: AccountEvent | undefined): string {
  return event === undefined ? '' : JSON.stringify(event)
}

export class RedisAccountEventStore implements ServerAccountEventStore {
  readonly #redis: Connection

  constructor(redis: Connection) {
    this.#redis = redis
  }

  ping(): Promise<void> {
    return this.#redis.ping()
  }

  async append(event: AccountEvent): Promise<void> {
    const keys = eventKeys(this.#redis, event.identity)
    // The first key is the identity's hash in the changing scripts; appending touches no hash.
    const status = await this.#redis.script(
      'betterAuthAppendEvent',
      [identityKey(this.#redis, event.identity), ...keys],
      eventArgument(event),
    )
    if (status !== 'ok') throw unexpectedReply(status)
  }

  async history(
    identity: string,
    options: AccountHistoryOptions = {},
  ): Promise<readonly RecordedAccountEvent[]> {
    const key = eventKeys(this.#redis, identity)[2]
    const members = await this.#redis.run((client) =>
      options.limit === undefined
        ? client.zrangebyscore(key, `(${options.after ?? 0}`, '+inf')
        : client.zrangebyscore(key, `(${options.after ?? 0}`, '+inf', 'LIMIT', 0, options.limit),
    )
    return members.map(fromMember)
  }

  async feed(after: number, limit: number): Promise<readonly RecordedAccountEvent[]> {
    const key = eventKeys(this.#redis, '')[1]
    const members = await this.#redis.run((client) =>
      client.zrangebyscore(key, `(${after}`, '+inf', 'LIMIT', 0, limit),
    )
    return members.map(fromMember)
  }

  async erase(identity: string): Promise<number> {
    const [, feed, history] = eventKeys(this.#redis, identity)
    const erased = await this.#redis.script('betterAuthEraseEvents', [history, feed])
    return Number(erased)
  }
}

/** `<sequence>:<event JSON>`, as the scripts write it. */
function fromMember(member: string): RecordedAccountEvent {
  const colon = member.indexOf(':')
  const sequence = Number(member.slice(0, colon))
  const event = JSON.parse(member.slice(colon + 1)) as AccountEvent
  if (colon < 1 || !Number.isSafeInteger(sequence)) throw unexpectedReply(member)
  return { ...event, sequence }
}
