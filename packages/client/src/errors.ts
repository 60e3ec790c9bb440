import { BetterAuthError, isBetterAuthError } from '@better-auth/protocol'
import type { ProtocolName } from '@better-auth/protocol'

/**
 * A rotation's response arrived and parsed, but could not be authenticated: it names a response
 * key this client does not trust (the server rotated its key), or its signature or nonce do not
 * check out. The server may well have accepted the rotation, so the client keeps the prepared
 * rotation and the response: after pinning a key it trusts, `resumeUnverified()` verifies the kept
 * response again and commits. A retry of the same call stays possible too (the response may have
 * been forged and the server never saw the request).
 *
 * `serverIdentity` is the key the unverified response names, clipped: it comes from an
 * unauthenticated response, so it tells which key to look for, never which key to trust.
 */
export class UnverifiedResponseError extends BetterAuthError {
  static override readonly code = 'BA803'
  override readonly name = 'UnverifiedResponseError'
  readonly protocol: ProtocolName
  readonly serverIdentity: string

  constructor(protocol: ProtocolName, serverIdentity: string, cause: unknown) {
    const reason = isBetterAuthError(cause) ? cause.code : 'unknown'
    super(
      `Response to ${protocol} could not be verified (${reason}); ` +
        'the rotation is kept: pin a trusted response key and call resumeUnverified()',
      { context: { protocol, serverIdentity, reason }, cause },
    )
    this.protocol = protocol
    this.serverIdentity = serverIdentity
  }
}
