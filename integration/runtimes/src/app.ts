// The application every runtime serves: one access route, verified by the AccessVerifier and
// answered with a signed response. Runtime-neutral (Web Crypto, fetch API), so the same code is
// bundled for Bun, Deno and workerd; each entry module only supplies its configuration, its
// nonce store and its way of listening.
import {
  GzipTokenEncoder,
  Rfc3339Timestamper,
  WebCryptoP256SigningKey,
  WebCryptoP256Verifier,
} from '@better-auth/crypto'
import { verificationKey, type JsonValue, type ServerTimeLockStore } from '@better-auth/protocol'
import {
  AccessVerifier,
  StaticVerificationKeyStore,
  errorResponse,
  signAccessResponse,
} from '@better-auth/server'

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
export function createApp(config: AppConfig): (request: Request) => Promise<Response> {
  const verifier = new WebCryptoP256Verifier()
  const accessVerifier = new AccessVerifier({
    crypto: { verifier },
    encoding: { timestamper: new Rfc3339Timestamper(), tokenEncoder: new GzipTokenEncoder() },
    stores: {
      accessNonce: config.accessNonce,
      accessVerificationKeys: new StaticVerificationKeyStore([
        verificationKey(config.accessPublicKey, verifier),
      ]),
    },
  })
  const responseKey = WebCryptoP256SigningKey.fromPkcs8Pem(config.responseKeyPem)
  // Awaited by each request; marked handled here so a bad key fails requests, not the process.
  responseKey.catch(() => undefined)

  return async (request) => {
    if (new URL(request.url).pathname !== ECHO_PATH || request.method !== 'POST') {
      return new Response('not found', { status: 404 })
    }
    try {
      const verified = await accessVerifier.verify(await request.text())
      const answer: JsonValue = { echo: verified.request, instance: config.instance }
      const body = await signAccessResponse(await responseKey, verified.nonce, answer)
      return new Response(body, { headers: { 'content-type': 'application/json' } })
    } catch (error) {
      return new Response(errorResponse(error), {
        status: 400,
        headers: { 'content-type': 'application/json' },
      })
    }
  }
}
