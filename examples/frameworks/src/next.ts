// app/auth/[...path]/route.ts and app/orders/route.ts of a Next.js App Router project, in one file.
import { createBetterAuth } from '@better-auth/server/node'

// In-memory stores and fresh keys: give createBetterAuth your keys and stores in production.
const auth = createBetterAuth({ http: { prefix: '/auth' } })

// app/auth/[...path]/route.ts: the protocol routes and the response key.
export const GET = auth.http.fetch
export const POST = auth.http.fetch

// app/orders/route.ts: an access route.
export const ordersPOST = auth.http.access(({ request, token }) => ({
  ordered: request,
  for: token.identity,
}))
