import {
  ConfigurationError,
  InvalidDeviceError,
  type Revocation,
  type RevocationFeed,
  type ServerAuthenticationKeyStore,
} from '@better-auth/protocol'

type DeviceLookup = Pick<ServerAuthenticationKeyStore, 'publicKey'>

export interface DeviceLivenessCacheOptions {
  /** The authoritative device state (the auth service's authentication key store). */
  readonly devices: DeviceLookup
  /** Where revocations arrive from (Redis pub/sub, PostgreSQL NOTIFY, or in process). */
  readonly feed: RevocationFeed
  /**
   * How long an answer is trusted without a store read (default 60 s): the bound on how stale a
   * device's state can be if a revocation message is lost without the feed noticing.
   */
  readonly ttlMs?: number
  /** Devices remembered at most (default 100 000); the least recently used are forgotten. */
  readonly maxEntries?: number
  readonly now?: () => number
}

interface Entry {
  /** The key read when the device was active; undefined once it is known to be revoked. */
  readonly key: string | undefined
  readonly expiresAt: number
}

/**
 * Device state for the access path without a store read per request: answers are kept in memory
 * and revocations from the feed remove or refuse them at once. A device's first request (and the
 * first after `ttlMs`) reads the store; revoked devices are remembered as revoked, so their
 * retries cost no read either. Pass it as `stores.devices` of an AccessVerifier after `start()`.
 * The key it answers is the one read last, which a rotation since may have replaced: use it for
 * liveness, which is what the access path asks, not for verifying signatures.
 */
export class DeviceLivenessCache implements DeviceLookup {
  readonly #devices: DeviceLookup
  readonly #feed: RevocationFeed
  readonly #ttlMs: number
  readonly #maxEntries: number
  readonly #now: () => number
  /** identity → device → entry; Map order is recency, oldest first. */
  readonly #entries = new Map<string, Map<string, Entry>>()
  #size = 0
  /** Bumped by every revocation and reset, so a read that raced one is not cached. */
  #epoch = 0
  #unsubscribe: (() => Promise<void>) | undefined

  constructor(options: DeviceLivenessCacheOptions) {
    if (typeof options.devices?.publicKey !== 'function') {
      throw new ConfigurationError('devices', 'must have publicKey(identity, device)')
    }
    if (typeof options.feed?.subscribe !== 'function') {
      throw new ConfigurationError('feed', 'must be a RevocationFeed')
    }
    this.#devices = options.devices
    this.#feed = options.feed
    this.#ttlMs = options.ttlMs ?? 60_000
    this.#maxEntries = options.maxEntries ?? 100_000
    this.#now = options.now ?? Date.now
  }

  /** Subscribes to the feed; until then every lookup reads the store. */
  async start(): Promise<void> {
    this.#unsubscribe ??= await this.#feed.subscribe({
      revoked: (revocation) => this.#revoke(revocation),
      reset: () => this.#clear(),
    })
  }

  async close(): Promise<void> {
    const unsubscribe = this.#unsubscribe
    this.#unsubscribe = undefined
    this.#clear()
    await unsubscribe?.()
  }

  async publicKey(identity: string, device: string): Promise<string> {
    const now = this.#now()
    const entry = this.#unsubscribe === undefined ? undefined : this.#touch(identity, device)
    if (entry !== undefined && entry.expiresAt > now) {
      if (entry.key === undefined) throw new InvalidDeviceError('device is not active')
      return entry.key
    }
    const epoch = this.#epoch
    try {
      const key = await this.#devices.publicKey(identity, device)
      if (epoch === this.#epoch) this.#set(identity, device, { key, expiresAt: now + this.#ttlMs })
      return key
    } catch (error) {
      if (error instanceof InvalidDeviceError && epoch === this.#epoch) {
        this.#set(identity, device, { key: undefined, expiresAt: now + this.#ttlMs })
      }
      throw error
    }
  }

  #touch(identity: string, device: string): Entry | undefined {
    const devices = this.#entries.get(identity)
    const entry = devices?.get(device)
    if (devices === undefined || entry === undefined) return undefined
    this.#entries.delete(identity)
    this.#entries.set(identity, devices)
    return entry
  }

  #set(identity: string, device: string, entry: Entry): void {
    if (this.#unsubscribe === undefined) return
    let devices = this.#entries.get(identity)
    if (devices === undefined) {
      devices = new Map()
      this.#entries.set(identity, devices)
    }
    if (!devices.has(device)) this.#size++
    devices.set(device, entry)
    while (this.#size > this.#maxEntries) {
      const [oldest, evicted] = this.#entries.entries().next().value as [string, Map<string, Entry>]
      this.#entries.delete(oldest)
      this.#size -= evicted.size
    }
  }

  #revoke({ identity, device }: Revocation): void {
    this.#epoch++
    const expiresAt = this.#now() + this.#ttlMs
    if (device !== undefined) {
      this.#set(identity, device, { key: undefined, expiresAt })
      return
    }
    const devices = this.#entries.get(identity)
    if (devices === undefined) return
    // Every device of the identity, known or not, must be read again.
    this.#entries.delete(identity)
    this.#size -= devices.size
  }

  #clear(): void {
    this.#epoch++
    this.#entries.clear()
    this.#size = 0
  }
}
