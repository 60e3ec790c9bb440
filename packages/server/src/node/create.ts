import {
  Blake3Hasher,
  DefaultIdentityVerifier,
  Rfc3339Timestamper,
  SecureNoncer,
} from '@better-auth/crypto'
import {
  NodeGzipTokenEncoder,
  NodeP256SigningKey,
  NodeP256Verifier,
} from '@better-auth/crypto/node'
import type { ServerTimeLockStore, SigningKey } from '@better-auth/protocol'
import type { AccessVerifier } from '../access-verifier.js'
import { BetterAuthHttp, type BetterAuthHttpOptions } from '../http/handler.js'
import type { AttributesProvider, BetterAuthServerOptions } from '../options.js'
import { BetterAuthServer } from '../server.js'
import { memoryServerStores } from '../stores/memory/index.js'
import type { ExpiryOptions } from '../config.js'

export interface CreateBetterAuthOptions {
  /**
   * The response and access signing keys. Default: new keys for this process only, so every
   * client must re-pin after a restart; persist keys in any real deployment.
   */
  readonly keys?: { readonly response: SigningKey; readonly access: SigningKey }
  /** Default: in-memory stores (nothing survives a restart; one process only). */
  readonly stores?: BetterAuthServerOptions['stores'] & {
    readonly accessNonce: ServerTimeLockStore
  }
  readonly expiry?: Partial<ExpiryOptions>
  readonly attributes?: AttributesProvider
  /** Routes, limits and logging of the HTTP layer. */
  readonly http?: Omit<BetterAuthHttpOptions, 'server' | 'access'>
}

export interface BetterAuth {
  readonly server: BetterAuthServer
  /** Verifies and answers access requests, consistent with `server` by construction. */
  readonly access: AccessVerifier
  /** The framework-neutral HTTP layer every adapter mounts. */
  readonly http: BetterAuthHttp
}

/**
 * A complete better-auth server in one call with Node's defaults: OpenSSL P-256 and zlib, BLAKE3,
 * RFC 3339 timestamps, and the given (or in-memory) stores and keys.
 */
export function createBetterAuth(options: CreateBetterAuthOptions = {}): BetterAuth {
  const hasher = new Blake3Hasher()
  const stores = options.stores ?? memoryServerStores()
  const keys = options.keys ?? {
    response: NodeP256SigningKey.generate(),
    access: NodeP256SigningKey.generate(),
  }
  const server = new BetterAuthServer({
    crypto: {
      hasher,
      noncer: new SecureNoncer(),
      verifier: new NodeP256Verifier(),
      keyPairs: keys,
    },
    encoding: {
      timestamper: new Rfc3339Timestamper(),
      tokenEncoder: new NodeGzipTokenEncoder(),
      identityVerifier: new DefaultIdentityVerifier(hasher),
    },
    stores,
    expiry: options.expiry,
    attributes: options.attributes,
  })
  const access = server.accessVerifier({ accessNonce: stores.accessNonce })
  const http = options.http ?? {}
  // Readiness pings every store given here, the access verifier's nonce store included.
  const readiness =
    http.readiness === true || (typeof http.readiness === 'object' && !http.readiness.stores)
      ? {
          ...(http.readiness === true ? {} : http.readiness),
          stores: {
            ...stores,
            ...(http.rateLimit === undefined ? {} : { rateLimit: http.rateLimit }),
          },
        }
      : http.readiness
  return { server, access, http: new BetterAuthHttp({ ...http, readiness, server, access }) }
}
