/**
 * The CESR qualified base64url codec of the better-auth protocol primitives: digests, public keys,
 * signatures and nonces.
 *
 * @module @better-auth/cesr
 */
export { base64UrlDecode, base64UrlEncode } from './base64url.js'
export { decodeCesr, decodeCesrAs, encodeCesr, isCesr } from './codec.js'
export { CESR_CODES } from './codes.js'
export type { CesrCode, CesrCodeInfo } from './codes.js'
export { CesrError } from './errors.js'
export type { CesrErrorCode } from './errors.js'
