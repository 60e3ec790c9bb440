import { clientsOver } from '@better-auth/integration'
import type { JsonValue } from '@better-auth/protocol'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

/** Each example as a fetch function, however its framework is reached. */
const examples: Record<
  string,
  { readme: string; fetch: () => Promise<(r: Request) => Promise<Response>> }
> = {
  hono: {
    readme: '../../../packages/hono/README.md',
    fetch: async () => {
      const { app } = await import('./hono.js')
      return async (request) => app.fetch(request)
    },
  },
}

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
    const network = {
      async sendRequest(path: string, message: string) {
        const request = new Request(`http://example.test${path}`, {
          method: 'POST',
          body: message,
          headers: { 'content-type': 'application/json' },
        })
        return (await fetch(request)).text()
      },
    }
    const responseKey = await (await fetch(new Request('http://example.test/key/response'))).text()
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
