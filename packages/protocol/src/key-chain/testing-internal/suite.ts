import { decodeCesr, encodeCesr } from '@better-auth/cesr'
import { blake3 } from '@noble/hashes/blake3.js'
import { p256 } from '@noble/curves/nist.js'
import type { Hasher, SigningKey, Verifier } from '../../interfaces/crypto.js'

// Protocol cannot depend on @better-auth/crypto (which depends on it), so its tests sign with
// noble directly: deterministic keys from a label, RFC 6979 signatures.
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)

export const hasher: Hasher = {
  sum: (message) => Promise.resolve(encodeCesr('E', blake3(utf8(message)))),
}

export const verifier: Verifier = {
  verify: (message, signature, publicKey) => {
    try {
      return Promise.resolve(
        p256.verify(decodeCesr(signature).raw, utf8(message), decodeCesr(publicKey).raw, {
          prehash: true,
          lowS: false,
          format: 'compact',
        }),
      )
    } catch {
      return Promise.resolve(false)
    }
  },
}

export function testKey(label: string): SigningKey {
  const secret = blake3(utf8(`key-chain-test/${label}`))
  const publicKey = encodeCesr('1AAI', p256.getPublicKey(secret, true))
  return {
    public: () => Promise.resolve(publicKey),
    verifier: () => verifier,
    verify: (message, signature) => verifier.verify(message, signature, publicKey),
    sign: (message) =>
      Promise.resolve(
        encodeCesr('0I', p256.sign(utf8(message), secret, { prehash: true, format: 'compact' })),
      ),
  }
}

export const crypto = { hasher, verifier }
