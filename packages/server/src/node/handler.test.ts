import { createServer } from 'node:http'
import { httpAdapterSuite, overTcp } from '../testing-internal/http-adapter-suite.js'
import { nodeAccess, toNodeHandler } from './index.js'

httpAdapterSuite('node:http', async ({ http, fooBar }) => {
  const protocol = toNodeHandler(http)
  const fooBarRoute = nodeAccess(http, fooBar)
  const server = createServer((request, response) => {
    if (request.method === 'POST' && request.url === '/foo/bar') fooBarRoute(request, response)
    else protocol(request, response)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    send: overTcp(`http://127.0.0.1:${port}`),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
})
