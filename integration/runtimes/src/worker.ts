// Cloudflare Workers entry (run here by workerd). Several isolates serve the same application, so
// access nonces are reserved in Durable Objects that all of them share, not in isolate memory.
import { DurableObjectTimeLockStore, type NonceNamespace } from '@better-auth/store-durable-object'
import { createApp } from './app.js'

export { BetterAuthNonceObject } from '@better-auth/store-durable-object'

interface Env {
  readonly RESPONSE_KEY_PEM: string
  readonly ACCESS_PUBLIC_KEY: string
  readonly INSTANCE: string
  readonly NONCES: NonceNamespace
}

// Created on the first request: Workers allow no asynchronous work at module scope.
let app: Promise<(request: Request) => Promise<Response>> | undefined

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    app ??= createApp({
      responseKeyPem: env.RESPONSE_KEY_PEM,
      accessPublicKey: env.ACCESS_PUBLIC_KEY,
      accessNonce: new DurableObjectTimeLockStore({ namespace: env.NONCES }),
      instance: env.INSTANCE,
    })
    return (await app)(request)
  },
}
