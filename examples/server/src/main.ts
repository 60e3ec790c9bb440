#!/usr/bin/env node
import { BetterAuthError } from '@better-auth/protocol'
import { mkdir } from 'node:fs/promises'
import { buildApp } from './app.js'
import { USAGE, loadConfig } from './config.js'
import { loadOrCreateKeys } from './keys.js'
import { openStores } from './stores.js'

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    console.log(USAGE)
    return
  }
  const config = loadConfig(process.argv.slice(2), process.env)
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 })
  const keys = await loadOrCreateKeys(config.keysFile, config.crypto)
  const opened = await openStores(config)
  const app = await buildApp({
    keys,
    stores: opened.stores,
    expiry: config.expiry,
    corsOrigins: config.corsOrigins,
    logger: { level: config.logLevel },
    crypto: config.crypto,
  })

  let closing = false
  const shutdown = (signal: string) => {
    if (closing) return
    closing = true
    app.log.info({ signal }, 'shutting down')
    void app
      .close()
      .then(() => opened.close())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          app.log.error({ err: error }, 'shutdown failed')
          process.exit(1)
        },
      )
  }
  process.on('SIGINT', () => shutdown('SIGINT'))
  process.on('SIGTERM', () => shutdown('SIGTERM'))

  await app.listen({ host: config.host, port: config.port })
  app.log.info(
    {
      responseKey: await keys.response.public(),
      stores: opened.description,
      crypto: config.crypto,
    },
    'better-auth example server ready',
  )
}

main().catch((error: unknown) => {
  if (error instanceof BetterAuthError) {
    console.error(`${error.code} ${error.message}`)
  } else {
    console.error(error)
  }
  process.exit(1)
})
