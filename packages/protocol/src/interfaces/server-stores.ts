/**
 * Server stores. Every operation that checks and then writes is atomic; `now` is milliseconds
 * since the epoch from the server's injected clock, so expiry is testable without sleeping.
 * Failures of the backend itself surface as StorageUnavailableError, never as a false success.
 */

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

export interface ServerAuthenticationKeyStore {
  /**
   * Registers the first device of a new identity. AlreadyExistsError('identity') when the
   * identity exists (including with all devices revoked).
   */
  registerIdentity(key: DeviceKey): Promise<void>
  /**
   * Registers a further device of an existing identity. InvalidIdentityError when the identity
   * does not exist, AlreadyExistsError('device') when the device id was ever used in it.
   */
  registerDevice(key: DeviceKey): Promise<void>
  /**
   * Compare-and-set: replaces (publicKey, rotationHash) only if the active device's stored
   * rotationHash equals `revealedHash` (= hash(key.publicKey)). InvalidHashError('rotation')
   * otherwise, the same error whether the commitment does not match or the device is unknown or
   * revoked (which has no commitment to match), so the answer does not tell a stranger whether a
   * device is live. Of concurrent calls revealing the same key, exactly one succeeds.
   */
  rotate(key: DeviceKey, revealedHash: string): Promise<void>
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
  rotateAndApply(key: DeviceKey, revealedHash: string, change: RotationChange): Promise<void>
  /** The active device's current public key; InvalidDeviceError when unknown or revoked. */
  publicKey(identity: string, device: string): Promise<string>
  /** Revokes one device; InvalidDeviceError when it is not active. */
  revokeDevice(identity: string, device: string): Promise<void>
  /**
   * Atomically revokes every device of the identity and registers `key` as its only active device.
   * InvalidIdentityError when the identity does not exist; AlreadyExistsError('device') when the
   * device id was ever used in the identity, and then nothing changes.
   */
  replaceAllDevices(key: DeviceKey): Promise<void>
  /** Removes the identity and all of its devices; a no-op when it does not exist. */
  deleteIdentity(identity: string): Promise<void>
}

export interface ServerRecoveryHashStore {
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

export interface ServerAuthenticationNonceStore {
  /** Stores a challenge nonce bound to an identity until `expiresAt` (replacing any entry). */
  put(nonce: string, identity: string, expiresAt: number, now: number): Promise<void>
  /**
   * Removes the nonce and returns its identity if it was live; undefined when it is unknown,
   * already consumed or expired. Of concurrent calls, at most one gets the identity.
   */
  consume(nonce: string, now: number): Promise<string | undefined>
}

export interface ServerTimeLockStore {
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
