#!/usr/bin/env node
import { BetterAuthError } from '@better-auth/protocol'
import { mkdir } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { buildApp, type AppOptions } from './app.js'
import { USAGE, loadConfig, type ServerConfig } from './config.js'
import { buildServer, type Logger } from './frameworks.js'
import { NobleP256Verifier, WebCryptoP256Verifier } from '@better-auth/crypto'
import { NodeP256Verifier } from '@better-auth/crypto/node'
import type { Verifier } from '@better-auth/protocol'
import { PrometheusMetrics } from '@better-auth/server/metrics'
import { startKeyRing, type RotatingKeys } from './key-ring.js'
import { loadOrCreateKeys } from './keys.js'
import { buildRateLimiter } from './rate-limit.js'
import { accessRevocation } from './revocation.js'
import { openStores } from './stores.js'
import { logTracer } from './tracing.js'

interface Running {
  readonly log: Logger
  close(): Promise<void>
}

/** fastify logs through its own pino logger; the other frameworks get JSON lines like pino's. */
async function start(config: ServerConfig, options: AppOptions): Promise<Running> {
  if (config.framework === 'fastify') {
    // The tracer logs through fastify's logger, which exists once the app does.
    const sink: { log?: Logger } = {}
    const tracer =
      config.tracing === 'log' ? logTracer((...line) => sink.log?.(...line)) : undefined
    const app = await buildApp({ ...options, tracer, logger: { level: config.logLevel } })
    const log: Logger = (level, message, fields) => app.log[level](fields ?? {}, message)
    sink.log = log
    await app.listen({ host: config.host, port: config.port })
    return { log, close: () => app.close() }
  }
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']
  const log: Logger = (level, message, fields) => {
    if (levels.indexOf(level) > levels.indexOf(config.logLevel)) return
    const pino = level === 'error' ? 50 : level === 'debug' ? 20 : 30
    console.log(JSON.stringify({ level: pino, time: Date.now(), msg: message, ...fields }))
  }
  const tracer = config.tracing === 'log' ? logTracer(log) : undefined
  const server = buildServer(config.framework, { ...options, tracer }, log)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(config.port, config.host, resolve)
  })
  const { port } = server.address() as AddressInfo
  log('info', `Server listening at http://${config.host}:${port}`, { framework: config.framework })
  return {
    log,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)))
        server.closeIdleConnections()
      }),
  }
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    console.log(USAGE)
    return
  }
  const config = loadConfig(process.argv.slice(2), process.env)
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 })
  const app = config.role === 'app'
  // The keys file also seeds the rate-limit counters' secret, so the auth service keeps it.
  const fileKeys = app ? undefined : await loadOrCreateKeys(config.keysFile, config.crypto)
  const opened = await openStores(config)
  const metrics = new PrometheusMetrics()
  const revocation = await accessRevocation(
    config.revocation,
    config.role,
    opened,
    metrics,
    config.revocationChannel,
  )
  let rotating: RotatingKeys | undefined
  if (config.keyRing !== undefined) {
    rotating = await startKeyRing({
      role: config.role,
      ring: config.keyRing,
      store: opened.keySet,
      crypto: config.crypto,
      verifier: verifierOf(config.crypto),
      onError: (error) => console.error('key ring refresh failed:', String(error)),
      metrics: metrics.registry,
    })
  }
  const keys = rotating ?? fileKeys!
  const rateLimit =
    config.rateLimit === undefined || app
      ? undefined
      : await buildRateLimiter(config.rateLimit, opened.rateLimit, config.keysFile)
  // Installed before the server listens: a signal that arrives between "listening" and the end of
  // start-up is then a graceful shutdown as well, not the default abrupt exit.
  let shutdownNow: ((signal: string) => void) | undefined = undefined
  let early: string | undefined
  const onSignal = (signal: string) => {
    if (shutdownNow === undefined) early ??= signal
    else shutdownNow(signal)
  }
  process.on('SIGINT', () => onSignal('SIGINT'))
  process.on('SIGTERM', () => onSignal('SIGTERM'))
  const running = await start(config, {
    keys: { response: keys.response, access: keys.access },
    accessVerificationKeys: rotating?.accessVerificationKeys,
    keySet: rotating?.keySet,
    endorsement: rotating?.endorsement,
    devices: revocation.devices,
    revocations: revocation.revocations,
    metrics,
    stores: opened.stores,
    expiry: config.expiry,
    corsOrigins: config.corsOrigins,
    crypto: config.crypto,
    adminCredential: config.adminCredential,
    rateLimit,
    trustedProxies: config.trustedProxies,
  })

  let closing = false
  const shutdown = (signal: string) => {
    if (closing) return
    closing = true
    running.log('info', 'shutting down', { signal })
    rotating?.stop()
    void running
      .close()
      .then(() => revocation.close())
      .then(() => opened.close())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          running.log('error', 'shutdown failed', { err: String(error) })
          process.exit(1)
        },
      )
  }
  shutdownNow = shutdown
  if (early !== undefined) shutdown(early)

  running.log('info', 'better-auth example server ready', {
    role: config.role,
    responseKey: await keys.response.public(),
    keys: rotating === undefined ? 'keys file' : `rotating, chain ${rotating.prefix}`,
    revocation: revocation.description,
    stores: opened.description,
    crypto: config.crypto,
    framework: config.framework,
    operations: `/health, /ready, /metrics${config.adminCredential === undefined ? '' : ', /admin'}${rotating === undefined || app ? '' : ', /key/set'}${rotating?.endorsement === undefined ? '' : ', /key/endorse'}`,
    rateLimit: rateLimit === undefined ? 'off' : 'on',
  })
}

function verifierOf(backend: ServerConfig['crypto']): Verifier {
  switch (backend) {
    case 'node':
      return new NodeP256Verifier()
    case 'webcrypto':
      return new WebCryptoP256Verifier()
    case 'noble':
      return new NobleP256Verifier()
  }
}

main().catch((error: unknown) => {
  if (error instanceof BetterAuthError) {
    console.error(`${error.code} ${error.message}`)
  } else {
    console.error(error)
  }
  process.exit(1)
})
