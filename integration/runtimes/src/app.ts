// The application every runtime serves: a Hono app with one access route (`@better-auth/hono`'s
// `access()` middleware on the server package's HTTP layer, whose AccessVerifier verifies each
// request and signs the answer). Runtime-neutral (Web Crypto, fetch API), so the same code is
// bundled for Bun, Deno and workerd; each entry module only supplies its configuration, its nonce
// store and its way of listening.
import {
  GzipTokenEncoder,
  Rfc3339Timestamper,
  WebCryptoP256SigningKey,
  WebCryptoP256Verifier,
} from '@better-auth/crypto'
import { verificationKey, type ServerTimeLockStore } from '@better-auth/protocol'
import { AccessVerifier, StaticVerificationKeyStore } from '@better-auth/server'
import { BetterAuthHttp } from '@better-auth/server/http'
import { access, notFound, type AccessVariables } from '@better-auth/hono'
import { Hono } from 'hono'

export interface AppConfig {
  /** The server response key, as the PKCS #8 PEM a secret would hold. */
  readonly responseKeyPem: string
  /** The CESR public key of the server access key whose tokens are accepted. */
  readonly accessPublicKey: string
  /** Where the access request nonces are reserved. */
  readonly accessNonce: ServerTimeLockStore
  /** Answered in every response, so a test can tell which instance served it. */
  readonly instance: string
}

/** The route the tests call. */
export const ECHO_PATH = '/echo'

/** A fetch handler, `(Request) => Promise<Response>`, answering signed access requests. */
export async function createApp(
  config: AppConfig,
): Promise<(request: Request) => Promise<Response>> {
  const verifier = new WebCryptoP256Verifier()
  const http = new BetterAuthHttp({
    access: new AccessVerifier({
      crypto: {
        verifier,
        responseKey: await WebCryptoP256SigningKey.fromPkcs8Pem(config.responseKeyPem),
      },
      encoding: { timestamper: new Rfc3339Timestamper(), tokenEncoder: new GzipTokenEncoder() },
      stores: {
        accessNonce: config.accessNonce,
        accessVerificationKeys: new StaticVerificationKeyStore([
          verificationKey(config.accessPublicKey, verifier),
        ]),
      },
    }),
  })
  // Verifier-only: no BetterAuthServer, so no protocol routes (`betterAuth(http)`) to mount.
  const app = new Hono<{ Variables: AccessVariables }>()
  app.post(ECHO_PATH, access(http), (c) =>
    c.json({ echo: c.get('betterAuth').request, instance: config.instance }),
  )
  app.notFound(notFound(http))
  return async (request) => app.fetch(request)
}
