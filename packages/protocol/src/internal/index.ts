/**
 * Helpers the better-auth packages share with each other: the bounded cache of the server and the
 * crypto backends, and the field validators the client checks its arguments with. They are not
 * part of the protocol's public API and may change in any release; applications use the main
 * entry.
 *
 * @module @better-auth/protocol/internal
 */
export { LruCache } from '../lru-cache.js'
export {
  cesr as cesrField,
  digest as digestField,
  nonce as nonceField,
  publicKey as publicKeyField,
  signature as signatureField,
  timestamp as timestampField,
  token as tokenField,
} from '../schema.js'
export { instant as instantField } from '../key-chain/instant.js'
export { NoticeThrottle } from '../key-chain/notice-throttle.js'
export {
  KEY_SET_NOTICE,
  decodeRevocation,
  deliverFeedMessage,
  encodeRevocation,
} from '../stores/revocation-message.js'
export { pruneHorizon } from '../stores/prune-horizon.js'
