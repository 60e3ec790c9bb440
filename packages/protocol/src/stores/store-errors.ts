import {
  AlreadyExistsError,
  BetterAuthError,
  InvalidDeviceError,
  InvalidHashError,
  InvalidIdentityError,
  StorageUnavailableError,
} from '../errors.js'

/**
 * The errors the server store contract names, worded once for every store, so that a server
 * answers the same whichever backend holds its state.
 */
export const storeErrors = {
  identityExists: (): AlreadyExistsError => new AlreadyExistsError('identity'),
  deviceExists: (): AlreadyExistsError => new AlreadyExistsError('device'),
  unknownIdentity: (): InvalidIdentityError => new InvalidIdentityError('unknown identity'),
  unknownDevice: (): InvalidDeviceError => new InvalidDeviceError('unknown or revoked device'),
  /**
   * Also the answer for a device that is unknown or revoked: a rotation reveals a key, and a
   * device without a live commitment matches no key, so a stranger holding an (identity, device)
   * pair cannot tell a live device from a dead one.
   */
  rotationMismatch: (): InvalidHashError =>
    new InvalidHashError('rotation', 'key does not match the commitment'),
  recoveryMismatch: (): InvalidHashError =>
    new InvalidHashError('recovery', 'recovery key does not match'),
} as const

/** How a store package maps what its backend throws; see `storageBackend`. */
export interface StorageBackend {
  /** The name StorageUnavailableError carries as `context.backend`. */
  readonly name: string
  /**
   * The contract's errors pass through; anything else (a driver error, a dropped connection, a
   * timeout, a closed pool) means the backend failed and the operation must not be taken as done.
   * The original error is kept as `cause` only: the message is fixed, so no connection detail
   * leaks into what a server might log or answer.
   */
  readonly failure: (error: unknown) => BetterAuthError
  /**
   * Runs an operation, synchronous or not, and rejects with the contract's error or
   * StorageUnavailableError; an exception is never swallowed into a success. A synchronous
   * operation still runs to completion within this call.
   */
  readonly settle: <T>(operation: () => T | PromiseLike<T>) => Promise<T>
  /** The error of every call made after the stores were closed. */
  readonly closed: () => StorageUnavailableError
}

/** The error mapping of one store package (`'sqlite'`, `'postgres'`, `'redis'`, …). */
export function storageBackend(name: string): StorageBackend {
  const failure = (error: unknown): BetterAuthError =>
    error instanceof BetterAuthError ? error : new StorageUnavailableError(name, error)
  return {
    name,
    failure,
    settle: async <T>(operation: () => T | PromiseLike<T>): Promise<T> => {
      try {
        return await operation()
      } catch (error) {
        throw failure(error)
      }
    },
    closed: () => new StorageUnavailableError(name, new Error('the stores are closed')),
  }
}
