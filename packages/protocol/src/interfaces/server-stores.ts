/**
 * Server stores. Every operation that checks and then writes is atomic; `now` is milliseconds
 * since the epoch from the server's injected clock, so expiry is testable without sleeping.
 * Failures of the backend itself surface as StorageUnavailableError, never as a false success.
 */

/**
 * A store that can tell whether its backend answers: one cheap round trip (`SELECT 1`, `PING`),
 * coalesced while one is in flight. Readiness checks call it; every store interface has it as an
 * optional member, and a store without it (in process memory) has no backend to lose.
 */
export interface StorePing {
  /** Resolves once the backend answered; rejects with StorageUnavailableError when it did not. */
  ping(): Promise<void>
}

export interface DeviceKey {
  readonly identity: string
  readonly device: string
  readonly publicKey: string
  readonly rotationHash: string
}

/** What a rotation authorises, applied together with it by `rotateAndApply`. */
export type RotationChange =
  | {
      readonly kind: 'register-device'
      /** The new device of the rotating key's identity. */
      readonly device: Omit<DeviceKey, 'identity'>
    }
  | { readonly kind: 'revoke-device'; readonly device: string }
  | { readonly kind: 'delete-identity' }

/** What happened to an account: one event per state change. */
export type AccountEventType =
  | 'account-created'
  | 'device-rotated'
  | 'device-linked'
  | 'device-unlinked'
  | 'account-recovered'
  | 'recovery-key-changed'
  | 'account-deleted'
  | 'session-created'
  | 'session-refreshed'
  /** An operator revoked a device (no request of the account's own). */
  | 'device-revoked'

/**
 * One immutable entry of an account's history. Stores keep it verbatim; the server builds it.
 * `publicKey` and `rotationHash` are what the change established for `device`: its next
 * authentication key and commitment, or for session events the session's access key. They and
 * `nonce` are absent only for an operator's change, which has no request of the account's own.
 */
export interface AccountEvent {
  /** Unique, so that receivers of a redelivered event can drop the copy. */
  readonly id: string
  readonly type: AccountEventType
  /** Server time of the change, in epoch milliseconds. */
  readonly at: number
  readonly identity: string
  /** The device that made the change; after a recovery, the new device. */
  readonly device: string
  readonly publicKey?: string
  readonly rotationHash?: string
  /** The nonce of the request that made the change. */
  readonly nonce?: string
  /**
   * The other device the change was about: `device-linked` the new device with its key,
   * `device-unlinked` and `device-revoked` the revoked device.
   */
  readonly target?: {
    readonly device: string
    readonly publicKey?: string
    readonly rotationHash?: string
  }
}

/** An event as the log holds it. */
export interface RecordedAccountEvent extends AccountEvent {
  /**
   * Its position in the store's log: increasing in commit order across every identity, never
   * reused. A reader that remembers the last sequence it saw misses nothing with `feed`.
   */
  readonly sequence: number
}

export interface AccountHistoryOptions {
  /** Only events with a larger sequence (default: from the start). */
  readonly after?: number
  /** At most this many events (default: all). */
  readonly limit?: number
}

/**
 * The account event log. Changes of the authentication key store carry their event (the optional
 * `event` argument of its writes), and a store that keeps a log records it in the same atomic
 * step as the change: committed together or not at all. `append` is for the changes that live
 * in other stores (sessions: the challenge and access-key stores). Deleting an identity keeps its
 * events (a tombstone); only `erase` removes them.
 */
export interface ServerAccountEventStore extends Partial<StorePing> {
  /** Records an event whose change another store made. */
  append(event: AccountEvent): Promise<void>
  /** The identity's events, oldest first. */
  history(
    identity: string,
    options?: AccountHistoryOptions,
  ): Promise<readonly RecordedAccountEvent[]>
  /** Every identity's events with a sequence above `after`, oldest first, at most `limit`. */
  feed(after: number, limit: number): Promise<readonly RecordedAccountEvent[]>
  /** Erases every event of the identity (an operator's decision); resolves how many went. */
  erase(identity: string): Promise<number>
}

/**
 * Every write takes the change's `event` (see ServerAccountEventStore); a store with a log records
 * it atomically with the change, and only when the change happens: a refused call records nothing.
 */
export interface ServerAuthenticationKeyStore extends Partial<StorePing> {
  /**
   * Registers the first device of a new identity. AlreadyExistsError('identity') when the
   * identity exists (including with all devices revoked).
   */
  registerIdentity(key: DeviceKey, event?: AccountEvent): Promise<void>
  /**
   * Registers a further device of an existing identity. InvalidIdentityError when the identity
   * does not exist, AlreadyExistsError('device') when the device id was ever used in it.
   */
  registerDevice(key: DeviceKey, event?: AccountEvent): Promise<void>
  /**
   * Compare-and-set: replaces (publicKey, rotationHash) only if the active device's stored
   * rotationHash equals `revealedHash` (= hash(key.publicKey)). InvalidHashError('rotation')
   * otherwise, the same error whether the commitment does not match or the device is unknown or
   * revoked (which has no commitment to match), so the answer does not tell a stranger whether a
   * device is live. Of concurrent calls revealing the same key, exactly one succeeds.
   */
  rotate(key: DeviceKey, revealedHash: string, event?: AccountEvent): Promise<void>
  /**
   * `rotate` and `change` as one atomic step: both happen, or neither does. The rotation is checked
   * first (InvalidHashError('rotation') as for `rotate`), then the change:
   * - `register-device`: AlreadyExistsError('device') when the id was ever used in the identity;
   * - `revoke-device`: InvalidDeviceError when that device is not active (the rotating device may
   *   revoke itself);
   * - `delete-identity`: removes the identity and all of its devices, as `deleteIdentity`.
   * A refused call changes nothing, the commitment included, so the device can still rotate with
   * the same key. Of concurrent calls revealing the same key, at most one succeeds.
   */
  rotateAndApply(
    key: DeviceKey,
    revealedHash: string,
    change: RotationChange,
    event?: AccountEvent,
  ): Promise<void>
  /** The active device's current public key; InvalidDeviceError when unknown or revoked. */
  publicKey(identity: string, device: string): Promise<string>
  /** Revokes one device; InvalidDeviceError when it is not active. */
  revokeDevice(identity: string, device: string, event?: AccountEvent): Promise<void>
  /**
   * Atomically revokes every device of the identity and registers `key` as its only active device.
   * InvalidIdentityError when the identity does not exist; AlreadyExistsError('device') when the
   * device id was ever used in the identity, and then nothing changes.
   */
  replaceAllDevices(key: DeviceKey, event?: AccountEvent): Promise<void>
  /**
   * Removes the identity and all of its devices. InvalidIdentityError when it does not exist, and
   * then nothing changes and no event is recorded: of concurrent deletions exactly one succeeds.
   */
  deleteIdentity(identity: string, event?: AccountEvent): Promise<void>
}

export interface ServerRecoveryHashStore extends Partial<StorePing> {
  /** AlreadyExistsError('identity') when a recovery hash is registered for it. */
  register(identity: string, recoveryHash: string): Promise<void>
  /**
   * Compare-and-set: replaces the stored hash with `nextHash` only if it equals `expectedHash`.
   * InvalidHashError('recovery') otherwise, including when the identity is unknown.
   */
  rotate(identity: string, expectedHash: string, nextHash: string): Promise<void>
  /** Sets the hash of an existing identity; InvalidIdentityError when it is unknown. */
  replace(identity: string, nextHash: string): Promise<void>
  delete(identity: string): Promise<void>
}

export interface ServerAuthenticationNonceStore extends Partial<StorePing> {
  /** Stores a challenge nonce bound to an identity until `expiresAt` (replacing any entry). */
  put(nonce: string, identity: string, expiresAt: number, now: number): Promise<void>
  /**
   * Removes the nonce and returns its identity if it was live; undefined when it is unknown,
   * already consumed or expired. Of concurrent calls, at most one gets the identity.
   */
  consume(nonce: string, now: number): Promise<string | undefined>
}

export interface ServerTimeLockStore extends Partial<StorePing> {
  /**
   * Reserves `value` until `expiresAt`. Resolves true when it was free (never reserved, or its
   * reservation lapsed), false when a live reservation exists. Of concurrent calls for one value,
   * exactly one resolves true.
   */
  reserve(value: string, expiresAt: number, now: number): Promise<boolean>
}

/** Releases a store's resources (connections, timers). */
export interface Closeable {
  close(): Promise<void>
}

/** A device (or, without `device`, every device of an identity) that stopped being active. */
export interface Revocation {
  readonly identity: string
  readonly device?: string
}

export interface RevocationListener {
  revoked(revocation: Revocation): void
  /**
   * Messages may have been missed (a lost connection, a message that could not be read): forget
   * every revocation learned so far, and read the shared key set again.
   */
  reset(): void
  /**
   * The shared key set changed (see `KeySetStore`): read it again from the store and verify it
   * there. The notice says nothing else, so a forged one costs a read, never trust. Optional: a
   * listener that keeps no key set (a revocation cache) leaves it out.
   */
  keySetChanged?(): void
}

/**
 * Carries revocations, and notices that the shared key set changed, from the service that makes
 * them to every verifier, so verifiers can keep device state and keys in memory instead of
 * reading a store per request. Delivery is best effort and quick (a message bus); verifiers bound
 * staleness with a cache lifetime, and a periodic key set refresh, for anything missed.
 */
export interface RevocationFeed {
  publish(revocation: Revocation): Promise<void>
  /**
   * Tells every subscriber that the shared key set changed (a chain event or an endorsement was
   * stored), so that a taint is in force everywhere at once rather than at each verifier's next
   * scheduled refresh. The message is a fixed notice: the keys are read from the store.
   */
  announceKeySetChange(): Promise<void>
  /**
   * Delivers revocations and key set notices published from now on, until the returned function
   * is called. Calls `reset` whenever delivery was interrupted and messages may have been lost,
   * and for a message it cannot read.
   */
  subscribe(listener: RevocationListener): Promise<() => Promise<void>>
}

/** One request's charge against one counter. */
export interface CounterHit {
  /** Opaque, already a keyed hash: stores never see a raw address or identity. */
  readonly key: string
  /** How much this request counts (more for a refused request). */
  readonly cost: number
  /** Length of the counter's window; a counter past its window starts again from zero. */
  readonly windowMs: number
}

/** A counter after a hit. */
export interface CounterState {
  readonly count: number
  /** When the counter's window ends (epoch ms): it starts again from zero after this. */
  readonly resetAtMs: number
}

/**
 * Where rate-limit counters live. `hit` adds each cost to its counter atomically (fixed windows:
 * a counter whose window ended restarts at the cost) and answers the counters in the order given,
 * all in one round trip to the backend: no read-then-write.
 */
export interface RateLimitStore {
  hit(hits: readonly CounterHit[], nowMs: number): Promise<readonly CounterState[]>
  /** Rejects when the backend is unreachable (readiness checks). */
  ping?(): Promise<void>
}

/** The shared part of a key set: the key event log and the endorsements, as signed texts. */
export interface SharedKeySet {
  /** The server key chain's events, oldest first. */
  readonly chain: readonly string[]
  /** Endorsements of service keys, in no particular order. */
  readonly keys: readonly string[]
}

/**
 * The key set the processes of a deployment share: the server key chain's log and the
 * endorsements of every process's service keys. It holds only signed public material that
 * every reader verifies against the pinned chain, never a private key.
 */
export interface KeySetStore {
  /**
   * Stores `chain` (a key event log, oldest first) unless the stored log has as many events or
   * more, in one atomic step: the log only grows, whichever process publishes first. Callers
   * verify the log first; readers verify it again.
   */
  publishChain(chain: readonly string[]): Promise<void>
  /**
   * Adds an endorsement, kept until `expiresAt` (epoch ms). Adding the same text again keeps the
   * later of the two expiries.
   */
  addEndorsement(text: string, expiresAt: number): Promise<void>
  /** The stored log and the endorsements that have not expired at `now` (epoch ms). */
  read(now: number): Promise<SharedKeySet>
  /**
   * Deletes, in one atomic step, every endorsement whose expiry is `retentionMs` or more before
   * `now` (epoch ms), and answers how many it deleted. An endorsement `read(now)` would answer is
   * never deleted, whatever the retention, nor one added again with a later expiry meanwhile.
   * Rejects a negative or fractional `retentionMs` with ConfigurationError, deleting nothing.
   */
  pruneEndorsements(now: number, retentionMs: number): Promise<number>
}

/** A webhook delivery not yet acknowledged: an event for one endpoint, and how it has gone. */
export interface PendingDelivery {
  readonly endpoint: string
  readonly event: RecordedAccountEvent
  /** Failed attempts so far. */
  readonly attempts: number
  /** Epoch ms from which the next attempt is due. */
  readonly nextAttemptAt: number
}

/** A webhook delivery given up on after the endpoint's last allowed attempt. */
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
 * the dead letters. Every operation is atomic. `enqueue` stores the deliveries and the new cursor
 * together and skips events at or below the stored cursor, so an event is never skipped nor
 * queued twice for an endpoint, even by dispatchers racing on one store. `retry`, `delivered` and
 * `deadLetter` of a delivery that is no longer pending change nothing.
 */
export interface WebhookDeliveryStore {
  /** The last sequence enqueued for `endpoint` (0 before the first). */
  cursor(endpoint: string): Promise<number>
  /** Queues `events` (due at `now`) for `endpoint` and moves its cursor to the last of them. */
  enqueue(endpoint: string, events: readonly RecordedAccountEvent[], now: number): Promise<void>
  /** At most `limit` deliveries due at `now`: earliest due first, then by sequence and endpoint. */
  due(now: number, limit: number): Promise<readonly PendingDelivery[]>
  /** The attempt succeeded: the delivery is done. */
  delivered(endpoint: string, sequence: number): Promise<void>
  /** The attempt failed: count it and set when to try again. */
  retry(endpoint: string, sequence: number, nextAttemptAt: number): Promise<void>
  /** The last allowed attempt failed: move the delivery, counting it, to the dead letters. */
  deadLetter(endpoint: string, sequence: number, lastError: string, now: number): Promise<void>
  /** The dead letters, oldest first. */
  deadLetters(): Promise<readonly DeadLetter[]>
}
