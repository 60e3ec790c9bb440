import { createBetterAuth, nodeAccess, toNodeHandler } from '@better-auth/server/node'
import { createServer } from 'node:http'

// In-memory stores and fresh keys: give createBetterAuth your keys and stores in production.
const auth = createBetterAuth()
const protocol = toNodeHandler(auth.http)
const orders = nodeAccess(auth.http, ({ request, token }) => ({
  ordered: request,
  for: token.identity,
}))

export const server = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/orders') orders(req, res)
  else protocol(req, res)
})
