import { clientsOver } from '@better-auth/integration'
import { expect, it } from 'vitest'
import * as http from '../http/index.js'
import * as node from './index.js'
import { createBetterAuth } from './index.js'

it('builds a consistent server, access verifier and HTTP layer in one call', async () => {
  const auth = createBetterAuth()
  const fooBar = auth.http.access(({ request }) => ({ got: request }))
  const send = (request: Request) =>
    new URL(request.url).pathname === '/foo/bar' ? fooBar(request) : auth.http.fetch(request)
  const network = {
    async sendRequest(path: string, message: string) {
      const request = new Request(`http://x${path}`, { method: 'POST', body: message })
      return (await send(request)).text()
    },
  }
  const client = clientsOver(network, await auth.server.responsePublicKey()).newClient()
  await client.createAccount('EOnMhfF6CIKCvXrZkRxwPMBRy6MwgwSBM0H6hb1uDezu')
  await client.createSession()
  expect(await client.makeAccessRequest('/foo/bar', { a: 1 })).toEqual({ got: { a: 1 } })
})

it('pins the public runtime exports of /http and /node', () => {
  expect(Object.keys(http).sort()).toMatchInlineSnapshot(`
    [
      "ADMIN_EVENTS_PAGE",
      "BearerCredentials",
      "BetterAuthHttp",
      "HttpRefusal",
      "STATUS_BY_CODE",
      "checkContentType",
      "decodeBody",
      "failureKind",
      "mapError",
      "readBody",
      "readBodyThen",
      "toResponse",
      "tooLarge",
      "webBody",
      "webClient",
    ]
  `)
  expect(Object.keys(node).sort()).toMatchInlineSnapshot(`
    [
      "createBetterAuth",
      "nodeAccess",
      "nodeBody",
      "nodeClient",
      "pathnameOf",
      "sendAnswer",
      "toNodeHandler",
    ]
  `)
})
