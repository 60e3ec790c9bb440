import { access, betterAuth, notFound } from '@better-auth/hono'
import { createBetterAuth } from '@better-auth/server/node'
import { Hono } from 'hono'

// In-memory stores and fresh keys: give createBetterAuth your keys and stores in production.
const auth = createBetterAuth()

export const app = new Hono()
app.use(betterAuth(auth.http))
app.post('/orders', access(auth.http), (c) => {
  const { request, token } = c.get('betterAuth')
  return c.json({ ordered: request, for: token.identity })
})
app.notFound(notFound(auth.http))
