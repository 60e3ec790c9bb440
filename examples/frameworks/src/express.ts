import { access, notFound, useBetterAuth } from '@better-auth/express'
import { createBetterAuth } from '@better-auth/server/node'
import express from 'express'

// In-memory stores and fresh keys: give createBetterAuth your keys and stores in production.
const auth = createBetterAuth()

export const app: express.Express = express()
app.use(express.json()) // the app's own parser: access routes still verify the signed bytes
useBetterAuth(app, auth.http)
app.post('/orders', access(auth.http), (req, res) => {
  res.json({ ordered: req.betterAuth!.request, for: req.betterAuth!.token.identity })
})
app.use(notFound(auth.http))
