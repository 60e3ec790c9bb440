import { base64UrlDecode, base64UrlEncode } from '@better-auth/cesr'
import { NobleP256SigningKey } from '@better-auth/crypto'
import { InvalidMessageError } from '@better-auth/protocol'

/**
 * The recovery kit is the one thing the user must keep outside the browser: the account identity
 * and the 32-byte secret of the recovery key, as one line of text. The key is derived from the
 * text alone, so the kit works on any device, and it is never stored by the app.
 */
const PREFIX = 'better-auth-recovery-v1'
const IDENTITY = /^E[A-Za-z0-9_-]{43}$/
const SECRET = /^[A-Za-z0-9_-]{43}$/

export interface RecoverySecret {
  readonly secret: Uint8Array
  readonly key: NobleP256SigningKey
}

/** A fresh recovery secret and its key. */
export function generateRecoverySecret(): RecoverySecret {
  // A random 32-byte string is a valid P-256 scalar except with probability ~2^-32; retry then.
  for (;;) {
    const secret = crypto.getRandomValues(new Uint8Array(32))
    try {
      return { secret, key: NobleP256SigningKey.fromSecretKey(secret) }
    } catch {
      continue
    }
  }
}

export function formatRecoveryKit(identity: string, secret: Uint8Array): string {
  return `${PREFIX}.${identity}.${base64UrlEncode(secret)}`
}

/** Parses a kit the user pasted (whitespace and line breaks from copying are ignored). */
export function parseRecoveryKit(text: string): { identity: string; key: NobleP256SigningKey } {
  const [prefix, identity, secret, ...rest] = text.replace(/\s+/g, '').split('.')
  if (prefix !== PREFIX || identity === undefined || secret === undefined || rest.length > 0) {
    throw new InvalidMessageError('recoveryKit', `expected "${PREFIX}.<identity>.<secret>"`)
  }
  if (!IDENTITY.test(identity)) {
    throw new InvalidMessageError('recoveryKit.identity', 'expected a 44-character digest')
  }
  if (!SECRET.test(secret)) {
    throw new InvalidMessageError('recoveryKit.secret', 'expected 43 base64url characters')
  }
  return { identity, key: NobleP256SigningKey.fromSecretKey(base64UrlDecode(secret)) }
}
