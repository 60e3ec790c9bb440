/**
 * The conformance helper of the Node backend (`verifyP256Raw` on `node:crypto`); Node only, like
 * `@better-auth/crypto/node`.
 *
 * @module @better-auth/crypto/testing/node
 */
export { verifyP256RawNode } from '../../node/p256.js'
