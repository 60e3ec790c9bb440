import { httpAdapterSuite } from '../testing-internal/http-adapter-suite.js'

// The core itself: `fetch` for the protocol routes, `access` for the application route; the
// peer address is what a runtime would pass beside the request.
httpAdapterSuite('fetch (core)', ({ http, fooBar }) => {
  const fooBarRoute = http.access(fooBar)
  return Promise.resolve({
    send: (request) =>
      new URL(request.url).pathname === '/foo/bar' && request.method === 'POST'
        ? fooBarRoute(request)
        : http.fetch(request, { remoteAddress: '127.0.0.1' }),
    close: () => Promise.resolve(),
  })
})
