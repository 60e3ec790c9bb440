import Fastify from 'fastify'
import { errorBody, InvalidMessageError } from '@better-auth/protocol'
import { httpAdapterSuite, overTcp } from '../../server/src/testing-internal/http-adapter-suite.js'
import { betterAuth } from './index.js'

// The behaviour every HTTP adapter shares (the core's content-type checks, streaming body limit,
// status table), here through the plugin's public API: the protocol routes it mounts and an
// access route declared with `config: { betterAuth: 'access' }`.
httpAdapterSuite(
  'fastify',
  async ({ http, access, fooBar, rateLimit, trustedProxies, operations }) => {
    const app = Fastify()
    // Unknown routes answered before fastify reads their body, as the README recommends.
    app.addHook('onRequest', (request, reply, done) => {
      if (!request.is404) {
        done()
        return
      }
      const error = new InvalidMessageError('path', `no route ${request.method} ${request.url}`)
      void reply
        .code(404)
        .type('application/json')
        .send(JSON.stringify(errorBody(error)))
    })
    await app.register(betterAuth, {
      server: http.server!,
      accessVerifier: access,
      rateLimit,
      trustedProxies,
      ...operations,
    })
    app.post('/foo/bar', { config: { betterAuth: 'access' } }, (request) =>
      fooBar(request.betterAuth!),
    )
    await app.listen({ host: '127.0.0.1', port: 0 })
    const { port } = app.server.address() as { port: number }
    return { send: overTcp(`http://127.0.0.1:${port}`), close: () => app.close() }
  },
)
