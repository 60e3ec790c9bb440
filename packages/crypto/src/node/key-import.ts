/// <reference types="node" />
// The build tsconfig loads no ambient types so that the main entry cannot depend on Node; this
// directive brings Node's types in for the node entry only.
import { Buffer } from 'node:buffer'
import { createPrivateKey, createPublicKey } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { isBytes } from '../internal/bytes.js'
import { COMPRESSED_KEY_BYTES, SECRET_KEY_BYTES, UNCOMPRESSED_KEY_BYTES } from '../p256/curve.js'

// DER SubjectPublicKeyInfo for id-ecPublicKey / prime256v1 up to the BIT STRING contents, whose
// length differs between the compressed (33-byte) and uncompressed (65-byte) point: appending the
// SEC1 point gives a complete SPKI that OpenSSL parses without any ASN.1 work on our side.
const SPKI_COMPRESSED_PREFIX = Buffer.from(
  '3039301306072a8648ce3d020106082a8648ce3d030107032200',
  'hex',
)
const SPKI_UNCOMPRESSED_PREFIX = Buffer.from(
  '3059301306072a8648ce3d020106082a8648ce3d030107034200',
  'hex',
)

// DER PKCS #8 PrivateKeyInfo (version 0, id-ecPublicKey / prime256v1) wrapping a SEC1
// ECPrivateKey (version 1) up to its 32-byte privateKey OCTET STRING. The optional public key is
// left out; OpenSSL derives it from the scalar.
const PKCS8_PREFIX = Buffer.from(
  '308141020100301306072a8648ce3d020106082a8648ce3d030107042730250201010420',
  'hex',
)

/**
 * Imports a SEC1 P-256 public key as a KeyObject, or returns null when the bytes are not one.
 *
 * The compressed point goes to OpenSSL as is, inside a SPKI built by prefixing a fixed header, and
 * OpenSSL decompresses it and checks it is on the curve. Of the three ways measured side by side
 * in Node 20 (bench/src/crypto.ts), this is the fastest: 110–127 µs, against 134–147 µs for a
 * JWK whose x/y come from noble's decompression and 161–182 µs for an uncompressed SPKI after the
 * same decompression. What a cache miss really costs includes the first verification with the new
 * key, which is 15–30 µs slower than later ones whichever way the key came in (208–220, 219–234
 * and 244–280 µs in total); the margin is small, but this path also needs no BigInt square root in
 * JavaScript, no base64url and no JSON.
 *
 * OpenSSL also accepts the "hybrid" prefixes 0x06/0x07 that noble and Web Crypto reject, so the
 * prefix is checked here first to keep every backend's answer the same.
 */
export function importPublicKey(publicKey: Uint8Array): KeyObject | null {
  if (!isBytes(publicKey)) return null
  let prefix: Buffer
  if (publicKey.length === COMPRESSED_KEY_BYTES && (publicKey[0] === 2 || publicKey[0] === 3)) {
    prefix = SPKI_COMPRESSED_PREFIX
  } else if (publicKey.length === UNCOMPRESSED_KEY_BYTES && publicKey[0] === 4) {
    prefix = SPKI_UNCOMPRESSED_PREFIX
  } else {
    return null
  }
  const der = Buffer.allocUnsafe(prefix.length + publicKey.length)
  prefix.copy(der, 0)
  der.set(publicKey, prefix.length)
  try {
    return createPublicKey({ key: der, format: 'der', type: 'spki' })
  } catch {
    return null
  }
}

/**
 * Imports a 32-byte secret scalar (already validated as being in [1, n−1]) as a private
 * KeyObject. The DER copy that holds the scalar is zeroed as soon as OpenSSL has parsed it.
 */
export function importSecretKey(secretKey: Uint8Array): KeyObject {
  const der = Buffer.alloc(PKCS8_PREFIX.length + SECRET_KEY_BYTES)
  try {
    PKCS8_PREFIX.copy(der, 0)
    der.set(secretKey, PKCS8_PREFIX.length)
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
  } finally {
    der.fill(0)
  }
}

/** Whether `key` is an EC key on P-256 (OpenSSL's name for the curve is prime256v1). */
export function isP256KeyObject(key: KeyObject): boolean {
  return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1'
}
