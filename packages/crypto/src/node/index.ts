/**
 * The Node-only entry, `@better-auth/crypto/node`. It is the only part of the package that imports
 * `node:` modules, so the main entry keeps running in browsers, edge runtimes and React Native.
 *
 * @module @better-auth/crypto/node
 */
export {
  NodeP256SigningKey,
  NodeP256Verifier,
  type NodeP256SigningKeyOptions,
  type NodeP256VerifierOptions,
} from './p256.js'
export { NodeGzipTokenEncoder } from './token-encoder.js'
