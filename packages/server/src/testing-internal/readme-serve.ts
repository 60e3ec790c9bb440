/**
 * The `serve` of the store READMEs' examples, for their tests: a client signs up, signs in and
 * makes an access request through the example's server and verifier, so each store answers for
 * accounts, challenges, access-key hashes and access nonces.
 */
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
import { clientsOver } from '@better-auth/integration'
import type { JsonValue } from '@better-auth/protocol'
import { expect } from 'vitest'
import { BetterAuthHttp } from '../http/index.js'
import type { AccessVerifier, BetterAuthServer } from '../index.js'

/** The `crypto` and `encoding` of the @better-auth/server README's quick start. */
export function quickStart() {
  const hasher = new Blake3Hasher()
  const verifier = new NodeP256Verifier()
  return {
    crypto: {
      hasher,
      noncer: new SecureNoncer(),
      verifier,
      keyPairs: { response: NodeP256SigningKey.generate(), access: NodeP256SigningKey.generate() },
    },
    encoding: {
      timestamper: new Rfc3339Timestamper(),
      tokenEncoder: new NodeGzipTokenEncoder(),
      identityVerifier: new DefaultIdentityVerifier(hasher),
    },
  }
}

export async function serve(server: BetterAuthServer, verifier: AccessVerifier): Promise<void> {
  const http = new BetterAuthHttp({ server, access: verifier })
  const network = {
    async sendRequest(path: string, message: string): Promise<string> {
      if (path === '/orders') {
        const answer = await http.answerAccess<JsonValue, undefined>(
          message,
          (access) => ({ ordered: access.request }),
          undefined,
        )
        return answer.body
      }
      const request = new Request(`http://readme.test${path}`, {
        method: 'POST',
        body: message,
        headers: { 'content-type': 'application/json' },
      })
      return (await http.fetch(request)).text()
    },
  }
  const responseKey = await (
    await http.fetch(new Request('http://readme.test/key/response'))
  ).text()
  const client = clientsOver(network, responseKey).newClient()
  await client.createAccount('EOnMhfF6CIKCvXrZkRxwPMBRy6MwgwSBM0H6hb1uDezu')
  await client.createSession()
  const answer = await client.makeAccessRequest<{ ordered: JsonValue }>('/orders', { item: 'tea' })
  expect(answer.ordered).toEqual({ item: 'tea' })
}
