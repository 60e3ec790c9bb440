// Bun entry: `bun run bun.js`, configured by environment variables; prints its port.
import { MemoryTimeLockStore } from '@better-auth/server'
import { createApp } from './app.js'

declare const Bun: {
  readonly version: string
  readonly env: Record<string, string | undefined>
  serve(options: {
    hostname: string
    port: number
    fetch: (request: Request) => Promise<Response>
  }): { readonly port: number }
}

const app = await createApp({
  responseKeyPem: Bun.env.RESPONSE_KEY_PEM ?? '',
  accessPublicKey: Bun.env.ACCESS_PUBLIC_KEY ?? '',
  accessNonce: new MemoryTimeLockStore(),
  instance: `bun ${Bun.version}`,
})
const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: app })
console.log(`listening on ${server.port}`)
