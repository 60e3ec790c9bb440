import { clientsOver } from '@better-auth/integration'
import type { JsonValue } from '@better-auth/protocol'
import { readFileSync } from 'node:fs'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, describe, expect, it } from 'vitest'

/** Each example as a fetch function, however its framework is reached. */
const examples: Record<
  string,
  { readme: string; prefix?: string; fetch: () => Promise<(r: Request) => Promise<Response>> }
> = {
  express: {
    readme: '../../../packages/express/README.md',
    fetch: async () => {
      const { app } = await import('./express.js')
      return overTcp(app.listen(0, '127.0.0.1'))
    },
  },
  node: {
    readme: '../../../packages/server/README.md',
    fetch: async () => {
      const { server } = await import('./node.js')
      return overTcp(server.listen(0, '127.0.0.1'))
    },
  },
  next: {
    readme: '../../../packages/server/README.md',
    prefix: '/auth',
    fetch: async () => {
      const next = await import('./next.js')
      return async (request) => {
        const { pathname } = new URL(request.url)
        if (pathname === '/orders') return next.ordersPOST(request)
        return request.method === 'GET' ? next.GET(request) : next.POST(request)
      }
    },
  },
  hono: {
    readme: '../../../packages/hono/README.md',
    fetch: async () => {
      const { app } = await import('./hono.js')
      return async (request) => app.fetch(request)
    },
  },
}

/** Requests to a listening Node server; it is closed when the tests end. */
function overTcp(server: Server): (request: Request) => Promise<Response> {
  servers.push(server)
  const listening = new Promise((resolve) => server.once('listening', resolve))
  return async (request) => {
    await listening
    const { port } = server.address() as AddressInfo
    const url = new URL(request.url)
    return fetch(new Request(`http://127.0.0.1:${port}${url.pathname}`, request))
  }
}

const servers: Server[] = []
afterAll(() => Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve)))))

describe.each(Object.entries(examples))('the %s example', (name, example) => {
  it('is quoted verbatim in its README and has fewer than 15 lines of code', () => {
    const source = readFileSync(new URL(`./${name}.ts`, import.meta.url), 'utf8')
    const readme = readFileSync(new URL(example.readme, import.meta.url), 'utf8')
    expect(readme).toContain(source)
    const code = source
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.trim().startsWith('//'))
    expect(code.length).toBeLessThan(15)
  })

  it('serves a client end to end: account, session, a signed access route', async () => {
    const fetch = await example.fetch()
    const prefix = example.prefix ?? ''
    const network = {
      async sendRequest(path: string, message: string) {
        const url = `http://example.test${path === '/orders' ? path : prefix + path}`
        const request = new Request(url, {
          method: 'POST',
          body: message,
          headers: { 'content-type': 'application/json' },
        })
        return (await fetch(request)).text()
      },
    }
    const responseKey = await (
      await fetch(new Request(`http://example.test${prefix}/key/response`))
    ).text()
    const client = clientsOver(network, responseKey).newClient()
    await client.createAccount('EOnMhfF6CIKCvXrZkRxwPMBRy6MwgwSBM0H6hb1uDezu')
    await client.createSession()
    const answer = await client.makeAccessRequest<{ ordered: JsonValue }>('/orders', {
      item: 'tea',
    })
    expect(answer.ordered).toEqual({ item: 'tea' })
    const unknown = await fetch(
      new Request('http://example.test/nope', { method: 'POST', body: '{' }),
    )
    expect(unknown.status).toBe(404)
  })
})
