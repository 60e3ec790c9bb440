// The interop matrix's adversarial suite against this server in the test process, so that the
// refusals it proves (forged token signatures, a link container of another identity, an access
// key that is not the token's commitment, …) count in the server's coverage and kill its mutants.
// The matrix runs the same cases against the built server over the network.
import { NobleP256SigningKey } from '@better-auth/crypto'
import { adversarialCases, runAdversarial } from '@better-auth/integration'
import { memoryServerStores } from '@better-auth/server'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../src/app.js'

let app: FastifyInstance
let url: string
beforeAll(async () => {
  const keys = { response: NobleP256SigningKey.generate(), access: NobleP256SigningKey.generate() }
  app = await buildApp({ keys, stores: memoryServerStores(), corsOrigins: [] })
  url = await app.listen({ host: '127.0.0.1', port: 0 })
})
afterAll(() => app.close())

describe('the adversarial suite in process', () => {
  it('refuses every hostile message and stays up', async () => {
    const results = await runAdversarial(url)
    expect(results.map((r) => r.id)).toEqual(adversarialCases.map((c) => c.id))
    const notRefused = results.filter((r) => r.status !== 'refused' || !r.alive)
    expect(notRefused).toEqual([])
  }, 120_000)
})
