/**
 * Conformance helpers: P-256 verification over raw bytes, for running suites such as Wycheproof
 * against the backends. Applications verify CESR values through the `Verifier` implementations of
 * the main entry instead.
 *
 * @module @better-auth/crypto/testing
 */
export { verifyP256Raw } from '../p256/raw.js'
