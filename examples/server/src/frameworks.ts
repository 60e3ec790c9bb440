import {
  access as expressAccess,
  errorHandler,
  notFound as expressNotFound,
  useBetterAuth,
} from '@better-auth/express'
import {
  access as honoAccess,
  betterAuth as honoRoutes,
  notFound as honoNotFound,
} from '@better-auth/hono'
import type { JsonValue } from '@better-auth/protocol'
import type { AccessVerifier, VerifiedAccess } from '@better-auth/server'
import { BetterAuthHttp, readBody, toResponse, type Failure } from '@better-auth/server/http'
import { nodeAccess, nodeBody, sendAnswer, toNodeHandler } from '@better-auth/server/node'
import express from 'express'
import { Hono } from 'hono'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { DEFAULT_TIMEOUTS, buildCore, fooBarAnswer, operations, type AppOptions } from './app.js'
import { ENDORSE_BODY_LIMIT, ENDORSE_PATH, type EndorsementRoute } from './endorsement.js'

/** The example server on each adapter; fastify (the default) is `buildApp`. */
export type Framework = 'express' | 'hono' | 'node'

type Listener = (request: IncomingMessage, response: ServerResponse) => void

const WRONG_NONCE = '0AAAAAAAAAAAAAAAAAAAAAAA'

export interface Logger {
  (level: 'debug' | 'info' | 'error', message: string, fields?: Record<string, unknown>): void
}

/** The interop HTTP contract on `framework`, as a Node server with the same timeouts and CORS. */
export function buildServer(framework: Framework, options: AppOptions, log: Logger): Server {
  const { server, access } = buildCore(options)
  const http = new BetterAuthHttp({
    server,
    access,
    rateLimit: options.rateLimit,
    trustedProxies: options.trustedProxies,
    onError: (failure) => logFailure(log, failure),
    ...operations(options),
  })
  const badNonce = badNonceRoute(http, access)
  const listener = listenerFor(framework, http, badNonce)
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts }
  const node = createServer(
    {
      requestTimeout: timeouts.requestMs,
      headersTimeout: timeouts.headersMs,
      connectionsCheckingInterval: timeouts.checkIntervalMs,
    },
    withCors(options.corsOrigins ?? [], withEndorsement(options.endorsement, listener)),
  )
  node.setTimeout(timeouts.idleMs)
  return node
}

function listenerFor(framework: Framework, http: BetterAuthHttp, badNonce: Listener): Listener {
  const fooBar = (access: VerifiedAccess) => fooBarAnswer(access.request)
  switch (framework) {
    case 'node': {
      const protocol = toNodeHandler(http)
      const fooBarRoute = nodeAccess(http, fooBar)
      return (request, response) => {
        const path = request.url?.split('?')[0]
        if (request.method === 'POST' && path === '/foo/bar') fooBarRoute(request, response)
        else if (request.method === 'POST' && path === '/bad/nonce') badNonce(request, response)
        else protocol(request, response)
      }
    }
    case 'express': {
      const app = express()
      useBetterAuth(app, http)
      app.post('/foo/bar', expressAccess(http), (request, response) => {
        response.json(fooBar(request.betterAuth!))
      })
      app.post('/bad/nonce', badNonce)
      app.use(expressNotFound(http))
      app.use(errorHandler(http))
      return app
    }
    case 'hono': {
      const app = new Hono()
      app.use(honoRoutes(http))
      app.post('/foo/bar', honoAccess(http), (c) => c.json(fooBar(c.get('betterAuth'))))
      app.post('/bad/nonce', (c) => badNonceAnswer(http, c.req.raw))
      app.notFound(honoNotFound(http))
      return fetchListener((request) => Promise.resolve(app.fetch(request)))
    }
  }
}

/** Answers like `/foo/bar` but echoes a wrong nonce: clients must refuse it (BA203). */
function badNonceRoute(http: BetterAuthHttp, access: AccessVerifier): Listener {
  return (request, response) => {
    void answerWrongNonce(http, access, readBody(nodeBody(request), http.bodyLimit)).then(
      (answer) => sendAnswer(response, answer),
    )
  }
}

function badNonceAnswer(http: BetterAuthHttp, request: Request): Promise<Response> {
  const body = readBody(
    {
      contentType: request.headers.get('content-type'),
      contentLength: request.headers.get('content-length'),
      stream: request.body,
    },
    http.bodyLimit,
  )
  return answerWrongNonce(http, http.accessVerifier!, body).then(toResponse)
}

async function answerWrongNonce(
  http: BetterAuthHttp,
  access: AccessVerifier,
  body: Promise<string>,
) {
  try {
    const verified = await access.verify(await body)
    const signed = await access.respond(WRONG_NONCE, fooBarAnswer(verified.request))
    return { status: 200, contentType: 'application/json', body: signed }
  } catch (error) {
    return http.fail(error)
  }
}

/** A fetch handler on node:http: the request body streams in, never buffered here. */
function fetchListener(fetch: (request: Request) => Promise<Response>): Listener {
  return (request, response) => {
    const hasBody = request.method !== 'GET' && request.method !== 'HEAD'
    const headers = new Headers()
    for (const [name, value] of Object.entries(request.headers)) {
      if (typeof value === 'string') headers.set(name, value)
      else if (Array.isArray(value)) for (const v of value) headers.append(name, v)
    }
    const init: RequestInit & { duplex?: 'half' } = { method: request.method, headers }
    if (hasBody) {
      init.body = webStream(request)
      init.duplex = 'half'
    }
    void fetch(new Request(`http://${request.headers.host ?? 'localhost'}${request.url}`, init))
      .then(async (answer) => {
        answer.headers.forEach((value, name) => response.setHeader(name, value))
        // A body left unread (refused, or never needed) is not drained: the connection closes.
        if (hasBody && !request.readableEnded) response.setHeader('connection', 'close')
        response.writeHead(answer.status)
        response.end(Buffer.from(await answer.arrayBuffer()))
      })
      .catch(() => {
        response.writeHead(500).end()
      })
  }
}

/** The request body as a Web stream that pulls only on demand and, cancelled, just stops reading. */
function webStream(request: IncomingMessage): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      request.pause()
      request.on('data', (chunk: Buffer) => {
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))
        if ((controller.desiredSize ?? 0) <= 0) request.pause()
      })
      request.once('end', () => controller.close())
      request.once('error', (error) => controller.error(error))
    },
    pull() {
      request.resume()
    },
    cancel() {
      request.pause()
    },
  })
}

/** `POST /key/endorse` ahead of the framework, when the auth service endorses application keys. */
function withEndorsement(route: EndorsementRoute | undefined, listener: Listener): Listener {
  if (route === undefined) return listener
  return (request, response) => {
    if (request.method !== 'POST' || request.url?.split('?')[0] !== ENDORSE_PATH) {
      listener(request, response)
      return
    }
    void route
      .handle(request.headers.authorization, () => readBody(nodeBody(request), ENDORSE_BODY_LIMIT))
      .then((answer) => sendAnswer(response, { ...answer, contentType: 'application/json' }))
  }
}

function withCors(origins: readonly string[], listener: Listener): Listener {
  if (origins.length === 0) return listener
  const allowed = new Set(origins)
  return (request, response) => {
    const origin = request.headers.origin
    if (origin !== undefined && (allowed.has(origin) || allowed.has('*'))) {
      response.setHeader('access-control-allow-origin', origin)
      response.setHeader('vary', 'origin')
      if (request.method === 'OPTIONS') {
        response.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS')
        response.setHeader('access-control-allow-headers', 'content-type')
        response.setHeader('access-control-max-age', '600')
        response.writeHead(204).end()
        return
      }
    }
    if (request.method === 'OPTIONS') {
      response.writeHead(204).end()
      return
    }
    listener(request, response)
  }
}

function logFailure(log: Logger, failure: Failure): void {
  switch (failure.kind) {
    case 'unexpected':
      log('error', 'better-auth: unexpected failure', { err: String(failure.error) })
      return
    case 'storage':
      log('error', 'better-auth: storage unavailable', { code: failure.code })
      return
    case 'disconnected':
      log('info', 'better-auth: client disconnected before the request was read')
      return
    case 'refused':
      log('info', 'better-auth: request refused', { code: failure.code })
  }
}

export type { JsonValue }
