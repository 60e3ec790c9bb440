import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ConfigurationError, InvalidMessageError, NetworkError } from '@better-auth/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { BetterAuthClient } from './client.js'
import { DEFAULT_TIMEOUT_MS, FetchNetwork } from './network.js'
import {
  clientOptions,
  createStores,
  createWorld,
  recoveryPair,
} from '../../server/src/testing-internal/client-world.js'

interface Received {
  method: string | undefined
  url: string | undefined
  headers: IncomingMessage['headers']
  body: string
}

type Handler = (received: Received, response: ServerResponse) => void

const servers: ReturnType<typeof createServer>[] = []

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections()
          server.close(() => resolve())
        }),
    ),
  )
})

/** A throwaway HTTP server on 127.0.0.1; resolves its base URL and the requests it received. */
async function listen(handler: Handler): Promise<{ baseUrl: string; received: Received[] }> {
  const received: Received[] = []
  const server = createServer((request, response) => {
    let body = ''
    request.setEncoding('utf8')
    request.on('data', (chunk: string) => (body += chunk))
    request.on('end', () => {
      const entry = { method: request.method, url: request.url, headers: request.headers, body }
      received.push(entry)
      handler(entry, response)
    })
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { baseUrl: `http://127.0.0.1:${port}`, received }
}

function reply(status: number, body: string, contentType = 'application/json'): Handler {
  return (_, response) => {
    response.writeHead(status, { 'content-type': contentType })
    response.end(body)
  }
}

describe('FetchNetwork', () => {
  it('POSTs the message as JSON to base URL + path and returns the body', async () => {
    const { baseUrl, received } = await listen(reply(200, '{"payload":"ok"}'))
    const network = new FetchNetwork(baseUrl, { headers: { 'x-api-key': 'k1' } })
    await expect(network.sendRequest('/account/create', '{"payload":{}}')).resolves.toBe(
      '{"payload":"ok"}',
    )
    expect(received).toHaveLength(1)
    expect(received[0]).toMatchObject({
      method: 'POST',
      url: '/account/create',
      body: '{"payload":{}}',
    })
    expect(received[0]!.headers['content-type']).toBe('application/json')
    expect(received[0]!.headers['x-api-key']).toBe('k1')
  })

  it('joins a base URL with a path prefix and trailing slashes', async () => {
    const { baseUrl, received } = await listen(reply(200, '{}'))
    await new FetchNetwork(`${baseUrl}/api/auth//`).sendRequest('/session/request', '{}')
    expect(received[0]!.url).toBe('/api/auth/session/request')
  })

  it('sends non-ASCII messages as UTF-8 and decodes UTF-8 responses', async () => {
    const { baseUrl, received } = await listen(
      reply(200, '{"é":"✓"}', 'application/json; charset=utf-8'),
    )
    const text = await new FetchNetwork(baseUrl).sendRequest('/foo/bar', '{"foo":"ü€𝄞"}')
    expect(received[0]!.body).toBe('{"foo":"ü€𝄞"}')
    expect(text).toBe('{"é":"✓"}')
  })

  it.each([400, 401, 403, 409, 500])(
    'returns the JSON error body of an HTTP %i',
    async (status) => {
      const body = '{"error":{"code":"BA104","message":"Hash validation failed"}}'
      const { baseUrl } = await listen(reply(status, body))
      await expect(new FetchNetwork(baseUrl).sendRequest('/device/rotate', '{}')).resolves.toBe(
        body,
      )
    },
  )

  it.each([
    [502, '<html>Bad gateway</html>'],
    [503, ''],
    [404, 'Not Found'],
  ])('reports an HTTP %i without a protocol body as NetworkError', async (status, body) => {
    const { baseUrl } = await listen(reply(status, body, 'text/html'))
    const error = await new FetchNetwork(baseUrl)
      .sendRequest('/device/rotate', '{}')
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(NetworkError)
    expect((error as NetworkError).message).toContain(String(status))
  })

  it('reports a refused connection as NetworkError with the cause', async () => {
    const { baseUrl } = await listen(reply(200, '{}'))
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))))
    const error = await new FetchNetwork(baseUrl).sendRequest('/x', '{}').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(NetworkError)
    expect((error as NetworkError).code).toBe('BA801')
    expect((error as NetworkError).cause).toBeDefined()
  })

  it('times out a server that never answers', async () => {
    const { baseUrl } = await listen(() => undefined)
    const started = Date.now()
    const error = await new FetchNetwork(baseUrl, { timeoutMs: 150 })
      .sendRequest('/session/request', '{}')
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(NetworkError)
    expect((error as NetworkError).message).toContain('150 ms')
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it('times out a body that never finishes', async () => {
    const { baseUrl } = await listen((_, response) => {
      response.writeHead(200, { 'content-type': 'application/json' })
      response.write('{"payload":')
    })
    const error = await new FetchNetwork(baseUrl, { timeoutMs: 150 })
      .sendRequest('/session/request', '{}')
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(NetworkError)
  })

  it('uses an injected fetch, never as a method of the network object', async () => {
    const calls: { url: unknown; init: RequestInit | undefined; self: unknown }[] = []
    const fetchStub = function (this: unknown, url: unknown, init?: RequestInit) {
      calls.push({ url, init, self: this })
      return Promise.resolve(new Response('{"ok":1}', { status: 200 }))
    } as typeof fetch
    const network = new FetchNetwork('https://auth.example.com/', { fetch: fetchStub })
    await expect(network.sendRequest('/foo/bar', 'm')).resolves.toBe('{"ok":1}')
    expect(calls[0]!.url).toBe('https://auth.example.com/foo/bar')
    expect(calls[0]!.init).toMatchObject({ method: 'POST', body: 'm' })
    expect(calls[0]!.init!.signal).toBeInstanceOf(AbortSignal)
    expect(calls[0]!.self).toBeUndefined()
  })

  it('wraps a throwing fetch, and passes its own errors through', async () => {
    const boom = new TypeError('boom')
    const failing = new FetchNetwork('https://a.example', { fetch: () => Promise.reject(boom) })
    const error = await failing.sendRequest('/x', '{}').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(NetworkError)
    expect((error as NetworkError).cause).toBe(boom)
    expect((error as NetworkError).message).not.toContain('a.example')
  })

  it('defaults the timeout to 30 s', () => {
    expect(DEFAULT_TIMEOUT_MS).toBe(30_000)
  })

  it.each([
    ['baseUrl', () => new FetchNetwork('not a url')],
    ['baseUrl', () => new FetchNetwork(42 as never)],
    ['baseUrl', () => new FetchNetwork('/relative')],
    ['options', () => new FetchNetwork('https://a.example', null as never)],
    ['fetch', () => new FetchNetwork('https://a.example', { fetch: 'fetch' as never })],
    ['timeoutMs', () => new FetchNetwork('https://a.example', { timeoutMs: 0 })],
    ['timeoutMs', () => new FetchNetwork('https://a.example', { timeoutMs: 1.5 })],
    ['timeoutMs', () => new FetchNetwork('https://a.example', { timeoutMs: Number.NaN })],
    ['timeoutMs', () => new FetchNetwork('https://a.example', { timeoutMs: 2 ** 31 })],
    ['headers', () => new FetchNetwork('https://a.example', { headers: [] as never })],
    ['headers.x', () => new FetchNetwork('https://a.example', { headers: { x: 1 as never } })],
    [
      'headers.Content-Type',
      () => new FetchNetwork('https://a.example', { headers: { 'Content-Type': 'text/plain' } }),
    ],
  ])('rejects an invalid %s with ConfigurationError', (field, build) => {
    let error: unknown
    try {
      build()
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ConfigurationError)
    expect((error as ConfigurationError).context['field']).toBe(field)
  })

  it.each([
    ['path', undefined, '{}'],
    ['path', 'x', '{}'],
    ['message', '/x', 42],
  ])('rejects an invalid %s argument', async (field, path, message) => {
    const network = new FetchNetwork('https://a.example', {
      fetch: () => Promise.reject(new Error()),
    })
    const error = await network
      .sendRequest(path as never, message as never)
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InvalidMessageError)
    expect((error as InvalidMessageError).context['field']).toBe(field)
  })
})

describe('BetterAuthClient over FetchNetwork and HTTP', () => {
  it('runs create account, session, refresh and access against an HTTP server', async () => {
    const world = createWorld()
    const { baseUrl } = await listen((received, response) => {
      world.server.sendRequest(received.url ?? '', received.body).then(
        (text) => {
          const failed = text.startsWith('{"error"')
          response.writeHead(failed ? 400 : 200, { 'content-type': 'application/json' })
          response.end(text)
        },
        () => {
          response.writeHead(500)
          response.end()
        },
      )
    })
    const stores = createStores()
    await stores.responseKeys.add(world.responseKey)
    const client = new BetterAuthClient(clientOptions(new FetchNetwork(baseUrl), stores))
    await client.createAccount((await recoveryPair()).hash)
    await client.rotateDevice()
    await client.createSession()
    await client.refreshSession()
    await expect(client.makeAccessRequest('/foo/bar', { foo: 'f', bar: 'b' })).resolves.toEqual({
      wasFoo: 'f',
      wasBar: 'b',
    })
    // A protocol failure over HTTP 400 arrives as the server's error.
    await stores.accessKey.initialize()
    await expect(client.refreshSession()).rejects.toMatchObject({
      name: 'InvalidHashError',
      code: 'BA104',
    })
  })
})
