import {
  ConfigurationError,
  type AccountHistoryOptions,
  type RecordedAccountEvent,
  type ServerAccountEventStore,
} from '@better-auth/protocol'

export type DeviceState = 'active' | 'revoked' | 'deleted'

/** A device as the log tells it: the "list my devices" entry. */
export interface DeviceSummary {
  readonly device: string
  readonly state: DeviceState
  /** The authentication key last established for it. */
  readonly publicKey: string | undefined
  /** When it joined the account (created, linked or recovered onto). */
  readonly addedAt: number
  /** Its last change or session (created or refreshed). */
  readonly lastActivityAt: number
  /** When it was revoked or its account deleted. */
  readonly endedAt?: number
}

interface DeviceFold {
  device: string
  state: DeviceState
  publicKey: string | undefined
  addedAt: number
  lastActivityAt: number
  endedAt?: number
}

/**
 * Replays events (in log order) into the devices they describe. The one place that knows what
 * each event type means for a device, so the device list and the point-in-time key agree.
 */
export function replayDevices(events: Iterable<RecordedAccountEvent>): Map<string, DeviceFold> {
  const devices = new Map<string, DeviceFold>()
  const add = (device: string, publicKey: string | undefined, at: number): void => {
    devices.set(device, { device, state: 'active', publicKey, addedAt: at, lastActivityAt: at })
  }
  const end = (fold: DeviceFold | undefined, state: DeviceState, at: number): void => {
    if (fold === undefined || fold.state !== 'active') return
    fold.state = state
    fold.endedAt = at
  }
  const endAll = (state: DeviceState, at: number): void => {
    for (const fold of devices.values()) end(fold, state, at)
  }
  for (const event of events) {
    const actor = devices.get(event.device)
    const touch = (): void => {
      if (actor === undefined) return
      actor.lastActivityAt = event.at
      if (event.publicKey !== undefined) actor.publicKey = event.publicKey
    }
    switch (event.type) {
      case 'account-created':
        add(event.device, event.publicKey, event.at)
        break
      case 'device-rotated':
      case 'recovery-key-changed':
        touch()
        break
      case 'device-linked':
        touch()
        if (event.target !== undefined) {
          add(event.target.device, event.target.publicKey, event.at)
        }
        break
      case 'device-unlinked':
        touch()
        end(devices.get(event.target?.device ?? ''), 'revoked', event.at)
        break
      case 'device-revoked':
        end(devices.get(event.target?.device ?? ''), 'revoked', event.at)
        break
      case 'account-recovered':
        endAll('revoked', event.at)
        add(event.device, event.publicKey, event.at)
        break
      case 'account-deleted':
        touch()
        endAll('deleted', event.at)
        break
      case 'session-created':
      case 'session-refreshed':
        // The key a session establishes is its access key, not the device's.
        if (actor !== undefined) actor.lastActivityAt = event.at
        break
    }
  }
  return devices
}

/** The devices of an event list, in the order they joined. */
export function devicesOf(events: Iterable<RecordedAccountEvent>): DeviceSummary[] {
  return [...replayDevices(events).values()].map((fold) => ({ ...fold }))
}

/**
 * The authentication key valid for `device` at `at` (epoch ms), or undefined when the device did
 * not exist yet or had been revoked or deleted. A change takes effect at its own time: at exactly
 * the time of a rotation, the new key is the valid one.
 */
export function keyAt(
  events: Iterable<RecordedAccountEvent>,
  device: string,
  at: number,
): string | undefined {
  const until = [...events].filter((event) => event.at <= at)
  const fold = replayDevices(until).get(device)
  return fold?.state === 'active' ? fold.publicKey : undefined
}

/**
 * The queries over an account event log: what an operator or the account's own devices ask.
 * Every answer is computed from the log alone, so it holds for deleted accounts too.
 */
export class AccountHistory {
  readonly #store: ServerAccountEventStore

  constructor(store: ServerAccountEventStore) {
    if (
      typeof store !== 'object' ||
      store === null ||
      typeof store.history !== 'function' ||
      typeof store.erase !== 'function'
    ) {
      throw new ConfigurationError('accountEvents', 'must be an account event store')
    }
    this.#store = store
  }

  /** The identity's events, oldest first. */
  events(
    identity: string,
    options?: AccountHistoryOptions,
  ): Promise<readonly RecordedAccountEvent[]> {
    return this.#store.history(identity, options)
  }

  /** Every device the identity ever had, with its state and last activity. */
  async devices(identity: string): Promise<DeviceSummary[]> {
    return devicesOf(await this.#store.history(identity))
  }

  /** The key that was valid for `device` at `at`; see {@link keyAt}. */
  async keyAt(identity: string, device: string, at: Date | number): Promise<string | undefined> {
    const time = typeof at === 'number' ? at : at.getTime()
    return keyAt(await this.#store.history(identity), device, time)
  }

  /**
   * Erases the identity's history for good (e.g. a data-protection request): the only way events
   * leave the log. Resolves how many went.
   */
  erase(identity: string): Promise<number> {
    return this.#store.erase(identity)
  }
}
