import { encodeCesr } from '@better-auth/cesr'
import { InvalidMessageError } from '@better-auth/protocol'
import type { Hasher } from '@better-auth/protocol'
import { blake3 } from '@noble/hashes/blake3.js'
import { utf8 } from './internal/bytes.js'
import { settle } from './internal/promise.js'

const DIGEST_CODE = 'E'

/**
 * BLAKE3-256 over the UTF-8 bytes of `message`, CESR-encoded (`E…`, 44 characters). Synchronous,
 * for callers that cannot await (derivations inside builders). Throws InvalidMessageError when
 * `message` is not a string.
 */
export function blake3Digest(message: string): string {
  if (typeof message !== 'string') {
    throw new InvalidMessageError('message', 'expected a string to hash')
  }
  return encodeCesr(DIGEST_CODE, blake3(utf8(message)))
}

/** The protocol's `hash(s)`: BLAKE3-256 over UTF-8, CESR `E`. */
export class Blake3Hasher implements Hasher {
  sum(message: string): Promise<string> {
    return settle(() => blake3Digest(message))
  }
}
