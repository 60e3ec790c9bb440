import { storageBackend, StorageUnavailableError } from '@better-auth/protocol'

/**
 * The contract's errors pass through; anything else (a refused or dropped connection, a command
 * timeout, an error reply) means the backend failed: StorageUnavailableError naming 'redis'.
 */
export const redis = storageBackend('redis')
export const { failure: toStoreError } = redis

/** An answer from Redis that this code never produces: treated as a failure, not a result. */
export function unexpectedReply(reply: unknown): StorageUnavailableError {
  return new StorageUnavailableError(
    redis.name,
    new Error(`unexpected reply from Redis: ${typeof reply}`),
  )
}
