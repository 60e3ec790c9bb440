import { BetterAuthError, StorageUnavailableError } from '@better-auth/protocol'

/** The name every StorageUnavailableError of this package carries as `context.backend`. */
export const BACKEND = 'postgres'

/**
 * The contract's errors pass through; anything else (a pg DatabaseError, a socket error, a pool
 * that was ended) means the backend failed, and the operation must not be taken as done. The
 * original error is kept as `cause` only: the message is fixed, so no connection detail leaks
 * into what a server might log or answer.
 */
export function toStoreError(error: unknown): BetterAuthError {
  if (error instanceof BetterAuthError) return error
  return new StorageUnavailableError(BACKEND, error)
}

/** Runs an operation and rejects with the contract's error or StorageUnavailableError. */
export async function settle<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation()
  } catch (error) {
    throw toStoreError(error)
  }
}

/** The SQLSTATE of a PostgreSQL error reply, if `error` is one. */
export function sqlState(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined
  const { code } = error
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined
}

/** SQLSTATE class 23: foreign_key_violation, raised when the referenced identity is missing. */
export const FOREIGN_KEY_VIOLATION = '23503'
