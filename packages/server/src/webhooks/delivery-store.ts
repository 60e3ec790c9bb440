import type {
  DeadLetter,
  PendingDelivery,
  RecordedAccountEvent,
  WebhookDeliveryStore,
} from '@better-auth/protocol'

// The interfaces live with the other store interfaces in the protocol package, so store packages
// implement them without depending on the server.
export type { DeadLetter, PendingDelivery, WebhookDeliveryStore } from '@better-auth/protocol'

interface MemoryPending {
  endpoint: string
  event: RecordedAccountEvent
  attempts: number
  nextAttemptAt: number
}

/** Delivery state in process memory: one process, and a restart forgets it (tests, development). */
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
      .sort(
        (a, b) =>
          a.nextAttemptAt - b.nextAttemptAt ||
          a.event.sequence - b.event.sequence ||
          (a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0),
      )
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
