import { BetterAuthError, StorageUnavailableError } from '@better-auth/protocol'

/** The name every StorageUnavailableError of this package carries as `context.backend`. */
export const BACKEND = 'redis'

/**
 * The contract's errors pass through; anything else (a refused or dropped connection, a command
 * timeout, an error reply) means the backend failed, and the operation must not be taken as
 * done. The original error is kept as `cause` only: the message is fixed, so no connection
 * detail leaks into what a server might log or answer.
 */
export function toStoreError(error: unknown): BetterAuthError {
  if (error instanceof BetterAuthError) return error
  return new StorageUnavailableError(BACKEND, error)
}

/** An answer from Redis that this code never produces: treated as a failure, not a result. */
export function unexpectedReply(reply: unknown): StorageUnavailableError {
  return new StorageUnavailableError(
    BACKEND,
    new Error(`unexpected reply from Redis: ${typeof reply}`),
  )
}
