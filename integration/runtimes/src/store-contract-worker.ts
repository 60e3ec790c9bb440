// A Worker that exposes the Durable Object stores' methods over HTTP, so the store contract suite
// (vitest, in Node) drives the real stores and objects inside workerd: the store code and the
// objects run there, the suite only sends each call's arguments and reads its result.
import {
  DurableObjectAuthenticationNonceStore,
  DurableObjectTimeLockStore,
  type NonceNamespace,
} from '@better-auth/store-durable-object'

interface Env {
  readonly NONCES: NonceNamespace
}

interface Call {
  readonly value: string
  readonly identity: string
  readonly expiresAt: number
  readonly now: number
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const call = (await request.json()) as Call
    const locks = new DurableObjectTimeLockStore({ namespace: env.NONCES })
    const nonces = new DurableObjectAuthenticationNonceStore({ namespace: env.NONCES })
    switch (new URL(request.url).pathname) {
      case '/time-lock/reserve':
        return Response.json(await locks.reserve(call.value, call.expiresAt, call.now))
      case '/nonce/put':
        await nonces.put(call.value, call.identity, call.expiresAt, call.now)
        return Response.json(null)
      case '/nonce/consume':
        return Response.json((await nonces.consume(call.value, call.now)) ?? null)
      default:
        return new Response('not found', { status: 404 })
    }
  },
}
