import { storageBackend } from '@better-auth/protocol'

/**
 * The contract's errors pass through; anything else (a pg DatabaseError, a socket error, a pool
 * that was ended) means the backend failed: StorageUnavailableError naming 'postgres'.
 */
export const postgres = storageBackend('postgres')
export const { settle, failure: toStoreError } = postgres

/** The SQLSTATE of a PostgreSQL error reply, if `error` is one. */
export function sqlState(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined
  const { code } = error
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined
}

/** SQLSTATE class 23: foreign_key_violation, raised when the referenced identity is missing. */
export const FOREIGN_KEY_VIOLATION = '23503'
