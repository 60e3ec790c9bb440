import express from 'express'
import { expect, it } from 'vitest'
import { httpAdapterSuite, overTcp } from '../../server/src/testing-internal/http-adapter-suite.js'
import type { SuiteAuth } from '../../server/src/testing-internal/http-adapter-suite.js'
import { access, errorHandler, notFound, useBetterAuth } from './index.js'

async function listen(app: express.Express) {
  const server = app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  const { port } = server.address() as { port: number }
  return {
    send: overTcp(`http://127.0.0.1:${port}`),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

function routes(app: express.Express, { http, fooBar }: SuiteAuth) {
  app.post('/foo/bar', access(http), (request, response) => {
    response.json(fooBar(request.betterAuth!))
  })
  app.use(notFound(http))
  app.use(errorHandler(http))
}

httpAdapterSuite('express', (auth) => {
  const app = express()
  useBetterAuth(app, auth.http)
  routes(app, auth)
  return listen(app)
})

// A global express.json() installed before the better-auth routes: access routes must still
// verify the bytes the client signed.
httpAdapterSuite(
  'express (global express.json() first)',
  (auth) => {
    const app = express()
    app.use(express.json())
    useBetterAuth(app, auth.http)
    routes(app, auth)
    return listen(app)
  },
  { appParsesBodies: true },
)

it('pins the public runtime exports', async () => {
  expect(Object.keys(await import('./index.js')).sort()).toMatchInlineSnapshot(`
    [
      "access",
      "betterAuth",
      "errorHandler",
      "notFound",
      "useBetterAuth",
    ]
  `)
})
