import { Hono } from 'hono'
import { expect, it } from 'vitest'
import { httpAdapterSuite } from '../../server/src/testing-internal/http-adapter-suite.js'
import { access, betterAuth, notFound } from './index.js'

httpAdapterSuite('hono', ({ http, fooBar }) => {
  const app = new Hono()
  app.use(betterAuth(http))
  app.post('/foo/bar', access(http), (c) => c.json(fooBar(c.get('betterAuth'))))
  app.notFound(notFound(http))
  return Promise.resolve({
    // The environment @hono/node-server gives: the Node request, whose socket has the peer.
    send: (request) =>
      Promise.resolve(app.fetch(request, { incoming: { socket: { remoteAddress: '127.0.0.1' } } })),
    close: () => Promise.resolve(),
  })
})

it('pins the public runtime exports', async () => {
  expect(Object.keys(await import('./index.js')).sort()).toMatchInlineSnapshot(`
    [
      "access",
      "betterAuth",
      "notFound",
    ]
  `)
})
