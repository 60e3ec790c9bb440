/**
 * The server key chain: a self-certifying, forward-committed log of the server's root keys, the
 * endorsements by which root keys vouch for service keys, and the key set a server publishes.
 * @module @better-auth/protocol/key-chain
 */
export {
  extendKeyChain,
  verifyKeyChain,
  type KeyChain,
  type KeyChainCrypto,
  type KeyGeneration,
  type VerifyKeyChainOptions,
} from './chain.js'
export {
  canonicalKeyEventText,
  inceptKeyChain,
  keyEventId,
  parseKeyEvent,
  rotateKeyChain,
  type InceptionOptions,
  type KeyEvent,
  type RotationOptions,
  type SignedKeyEvent,
} from './event.js'
export {
  assertEndorsementHolds,
  endorseKey,
  parseEndorsement,
  verifyEndorsement,
  type EndorseOptions,
  type EndorseRequest,
  type KeyEndorser,
  type Endorsement,
  type KeyPurpose,
  type VerifiedEndorsement,
} from './endorsement.js'
export {
  parseKeySet,
  serializeKeySet,
  trustedKey,
  verifyKeySet,
  type KeySet,
  type KeySetDocument,
  type VerifyKeySetOptions,
} from './key-set.js'
export { KeySetKeyStore, type KeySetChange, type KeySetKeyStoreOptions } from './key-set-store.js'
