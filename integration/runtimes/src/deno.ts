// Deno entry: `deno run --allow-net --allow-env deno.js`, configured by environment variables;
// prints its port.
import { MemoryTimeLockStore } from '@better-auth/server'
import { createApp } from './app.js'

declare const Deno: {
  readonly version: { readonly deno: string }
  readonly env: { get(name: string): string | undefined }
  serve(
    options: { hostname: string; port: number; onListen(address: { port: number }): void },
    handler: (request: Request) => Promise<Response>,
  ): unknown
}

const app = await createApp({
  responseKeyPem: Deno.env.get('RESPONSE_KEY_PEM') ?? '',
  accessPublicKey: Deno.env.get('ACCESS_PUBLIC_KEY') ?? '',
  accessNonce: new MemoryTimeLockStore(),
  instance: `deno ${Deno.version.deno}`,
})
Deno.serve(
  {
    hostname: '127.0.0.1',
    port: 0,
    onListen: ({ port }) => console.log(`listening on ${port}`),
  },
  app,
)
