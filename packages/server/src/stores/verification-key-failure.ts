import {
  InvalidTokenError,
  StorageUnavailableError,
  type BetterAuthError,
} from '@better-auth/protocol'

/**
 * What a failed lookup of a token's server key means for the request. A store that cannot answer
 * is an outage (BA603, 503: the client should retry), not a forged token; a store that says the
 * key is unknown, or fails in any other way, leaves a token the server cannot vouch for (BA402).
 */
export function verificationKeyFailure(error: unknown): BetterAuthError {
  if (error instanceof StorageUnavailableError || error instanceof InvalidTokenError) return error
  return new InvalidTokenError('signed by an unknown server key')
}
