import { httpAdapterSuite } from '../testing-internal/http-adapter-suite.js'

// The core itself: `fetch` for the protocol routes, `access` for the application route.
httpAdapterSuite('fetch (core)', ({ http, fooBar }) => {
  const fooBarRoute = http.access(fooBar)
  return Promise.resolve({
    send: (request) =>
      new URL(request.url).pathname === '/foo/bar' && request.method === 'POST'
        ? fooBarRoute(request)
        : http.fetch(request),
    close: () => Promise.resolve(),
  })
})
