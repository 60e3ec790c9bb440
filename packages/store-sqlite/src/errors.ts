import { BetterAuthError, StorageUnavailableError } from '@better-auth/protocol'

/** The contract's errors pass through; anything SQLite throws means the backend failed. */
export function toStoreError(error: unknown): BetterAuthError {
  if (error instanceof BetterAuthError) return error
  return new StorageUnavailableError('sqlite', error)
}

/**
 * Runs a synchronous database operation and settles a promise with its outcome. better-sqlite3
 * is synchronous, so the check and the write inside `operation` never interleave with another
 * call in this process; across processes SQLite's locks serialise them. An exception is never
 * swallowed into a success: it rejects with the contract's error or StorageUnavailableError.
 */
export function settle<T>(operation: () => T): Promise<T> {
  try {
    return Promise.resolve(operation())
  } catch (error) {
    return Promise.reject(toStoreError(error))
  }
}
