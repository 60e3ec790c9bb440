import {
  DEFAULT_MAX_MESSAGE_LENGTH,
  IncorrectNonceError,
  ProtocolError,
  constantTimeEqual,
  isErrorCode,
  remoteError,
  verifyEnvelope,
} from '@better-auth/protocol'
import type { Envelope, ServerAccess, VerificationKeyStore } from '@better-auth/protocol'

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

// Server-chosen text ends up in error messages and context; keep it bounded.
function clip(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length)}…` : text
}

/**
 * Servers answer protocol failures with `{"error":{"code","message"}}` and no `payload`. Such a
 * body is reported as the server's error: the class the server threw for a code of the protocol's
 * (`remoteError`, `context.remote` true), a ProtocolError otherwise. Anything else is left to the
 * response parser. `token` is the token the request presented: an ExpiredTokenError (BA401) says
 * which one expired in `context.tokenType`, as the server's own instance does.
 */
export function throwIfErrorBody(text: unknown, token?: 'access' | 'refresh'): void {
  // Oversized or non-string input is rejected by the parser before anything is parsed.
  if (typeof text !== 'string' || text.length > DEFAULT_MAX_MESSAGE_LENGTH) return
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    return
  }
  if (!isRecord(body) || !Object.hasOwn(body, 'error') || Object.hasOwn(body, 'payload')) return
  const error = body['error']
  if (!isRecord(error) || typeof error['code'] !== 'string') {
    throw new ProtocolError('malformed error body')
  }
  const code = error['code']
  const message =
    typeof error['message'] === 'string' ? clip(error['message'], 500) : `Remote error ${code}`
  if (isErrorCode(code)) {
    throw remoteError(code, message, code === 'BA401' && token ? { tokenType: token } : {})
  }
  throw new ProtocolError('unknown remote error code', { code: clip(code, 32), message })
}

/**
 * Authenticates a parsed response before the client acts on it: the key it names must be one the
 * client already trusts (a response cannot vouch for its own key), the signature must cover the
 * exact received payload bytes, and the nonce must echo the request's.
 */
export async function verifyResponse(
  envelope: Envelope<{ readonly access: ServerAccess }>,
  keys: VerificationKeyStore,
  nonce: string,
): Promise<void> {
  const key = await keys.get(envelope.payload.access.serverIdentity)
  // The key's own public key, not the name in the response: a store may index keys by alias.
  await verifyEnvelope(envelope, key.verifier(), await key.public(), 'response')
  if (!constantTimeEqual(envelope.payload.access.nonce, nonce)) throw new IncorrectNonceError()
}
