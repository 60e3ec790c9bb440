import { NobleP256SigningKey } from '@better-auth/crypto'
import { STRICT, httpClients, scenarios } from '@better-auth/integration'
import { memoryServerStores } from '@better-auth/server'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { buildServer, type Framework } from '../src/frameworks.js'

const keys = { response: NobleP256SigningKey.generate(), access: NobleP256SigningKey.generate() }

describe.each<Framework>(['express', 'hono', 'node'])('the example server on %s', (framework) => {
  it('passes every scenario and answers the contract’s refusals', async () => {
    const server = buildServer(
      framework,
      { keys, stores: memoryServerStores(), corsOrigins: ['http://localhost:5173'] },
      () => undefined,
    )
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    try {
      for (const scenario of scenarios) await scenario.run(await httpClients(url), STRICT)
      const post = (path: string, body: string, type = 'application/json') =>
        fetch(url + path, { method: 'POST', body, headers: { 'content-type': type } })
      const unknown = await post('/nope', `{"a":"${'x'.repeat(1 << 20)}`)
      expect([unknown.status, await unknown.text()]).toEqual([
        404,
        expect.stringContaining('BA101'),
      ])
      const big = await post('/account/create', 'x'.repeat(70 * 1024))
      expect(big.status).toBe(413)
      const xml = await post('/foo/bar', '<a/>', 'application/xml')
      expect(xml.status).toBe(415)
      const preflight = await fetch(url + '/account/create', {
        method: 'OPTIONS',
        headers: { origin: 'http://localhost:5173' },
      })
      expect(preflight.status).toBe(204)
      expect(preflight.headers.get('access-control-allow-origin')).toBe('http://localhost:5173')
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })
})
