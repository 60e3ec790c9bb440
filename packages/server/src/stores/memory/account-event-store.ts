import type {
  AccountEvent,
  AccountHistoryOptions,
  RecordedAccountEvent,
  ServerAccountEventStore,
} from '@better-auth/protocol'

/** The account event log in process memory; the memory key store records into it. */
export class MemoryAccountEventStore implements ServerAccountEventStore {
  readonly #events: RecordedAccountEvent[] = []
  #sequence = 0

  /** Records synchronously, so a store can call it between its check and its write. */
  record(event: AccountEvent): void {
    this.#sequence += 1
    this.#events.push(Object.freeze({ ...event, sequence: this.#sequence }))
  }

  append(event: AccountEvent): Promise<void> {
    this.record(event)
    return Promise.resolve()
  }

  history(
    identity: string,
    options: AccountHistoryOptions = {},
  ): Promise<readonly RecordedAccountEvent[]> {
    const after = options.after ?? 0
    const found = this.#events.filter((e) => e.identity === identity && e.sequence > after)
    return Promise.resolve(found.slice(0, options.limit ?? found.length))
  }

  feed(after: number, limit: number): Promise<readonly RecordedAccountEvent[]> {
    return Promise.resolve(this.#events.filter((e) => e.sequence > after).slice(0, limit))
  }

  erase(identity: string): Promise<number> {
    let erased = 0
    for (let i = this.#events.length - 1; i >= 0; i -= 1) {
      if (this.#events[i]!.identity === identity) {
        this.#events.splice(i, 1)
        erased += 1
      }
    }
    return Promise.resolve(erased)
  }
}
