import type { RecordedAccountEvent } from '@better-auth/protocol'

/** A delivery not yet acknowledged: an event for one endpoint, and how it has gone so far. */
export interface PendingDelivery {
  readonly endpoint: string
  readonly event: RecordedAccountEvent
  /** Failed attempts so far. */
  readonly attempts: number
  /** Epoch ms from which the next attempt is due. */
  readonly nextAttemptAt: number
}

/** A delivery given up on after the endpoint's last allowed attempt. */
export interface DeadLetter {
  readonly endpoint: string
  readonly event: RecordedAccountEvent
  readonly attempts: number
  /** Why the last attempt failed (an HTTP status or a network failure; never a secret). */
  readonly lastError: string
  readonly deadAt: number
}

/**
 * Where the webhook dispatcher keeps its state, so that a restart loses nothing: per endpoint the
 * sequence of the last event taken from the log (the cursor), the deliveries still pending, and
 * the dead letters. `enqueue` is atomic: the deliveries and the new cursor are stored together,
 * so an event is never skipped nor queued twice for an endpoint.
 */
export interface WebhookDeliveryStore {
  /** The last sequence enqueued for `endpoint` (0 before the first). */
  cursor(endpoint: string): Promise<number>
  /** Queues `events` (due at `now`) for `endpoint` and moves its cursor to the last of them. */
  enqueue(endpoint: string, events: readonly RecordedAccountEvent[], now: number): Promise<void>
  /** Pending deliveries due at `now`, oldest event first, at most `limit`. */
  due(now: number, limit: number): Promise<readonly PendingDelivery[]>
  /** The attempt succeeded: the delivery is done. */
  delivered(endpoint: string, sequence: number): Promise<void>
  /** The attempt failed: count it and set when to try again. */
  retry(endpoint: string, sequence: number, nextAttemptAt: number): Promise<void>
  /** The last allowed attempt failed: move the delivery to the dead letters. */
  deadLetter(endpoint: string, sequence: number, lastError: string, now: number): Promise<void>
  /** The dead letters, oldest first. */
  deadLetters(): Promise<readonly DeadLetter[]>
}

interface MemoryPending {
  endpoint: string
  event: RecordedAccountEvent
  attempts: number
  nextAttemptAt: number
}

/** Delivery state in process memory: for tests (a restart forgets it). */
export class MemoryWebhookDeliveryStore implements WebhookDeliveryStore {
  readonly #cursors = new Map<string, number>()
  readonly #pending = new Map<string, MemoryPending>()
  readonly #dead: DeadLetter[] = []

  cursor(endpoint: string): Promise<number> {
    return Promise.resolve(this.#cursors.get(endpoint) ?? 0)
  }

  enqueue(endpoint: string, events: readonly RecordedAccountEvent[], now: number): Promise<void> {
    let cursor = this.#cursors.get(endpoint) ?? 0
    for (const event of events) {
      if (event.sequence <= cursor) continue
      this.#pending.set(key(endpoint, event.sequence), {
        endpoint,
        event,
        attempts: 0,
        nextAttemptAt: now,
      })
      cursor = event.sequence
    }
    this.#cursors.set(endpoint, cursor)
    return Promise.resolve()
  }

  due(now: number, limit: number): Promise<readonly PendingDelivery[]> {
    const due = [...this.#pending.values()]
      .filter((delivery) => delivery.nextAttemptAt <= now)
      .sort((a, b) => a.event.sequence - b.event.sequence)
      .slice(0, limit)
      .map((delivery) => ({ ...delivery }))
    return Promise.resolve(due)
  }

  delivered(endpoint: string, sequence: number): Promise<void> {
    this.#pending.delete(key(endpoint, sequence))
    return Promise.resolve()
  }

  retry(endpoint: string, sequence: number, nextAttemptAt: number): Promise<void> {
    const delivery = this.#pending.get(key(endpoint, sequence))
    if (delivery !== undefined) {
      delivery.attempts += 1
      delivery.nextAttemptAt = nextAttemptAt
    }
    return Promise.resolve()
  }

  deadLetter(endpoint: string, sequence: number, lastError: string, now: number): Promise<void> {
    const delivery = this.#pending.get(key(endpoint, sequence))
    if (delivery !== undefined) {
      this.#pending.delete(key(endpoint, sequence))
      this.#dead.push({
        endpoint,
        event: delivery.event,
        attempts: delivery.attempts + 1,
        lastError,
        deadAt: now,
      })
    }
    return Promise.resolve()
  }

  deadLetters(): Promise<readonly DeadLetter[]> {
    return Promise.resolve([...this.#dead])
  }
}

function key(endpoint: string, sequence: number): string {
  return `${sequence}\u0000${endpoint}`
}
