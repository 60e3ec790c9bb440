import { FetchNetwork, type Network } from '@better-auth/client'
import { STRICT, fetchResponseKey, httpClients, scenarios } from '@better-auth/integration'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type RunningServer } from './process.js'

const databaseUrl = process.env.DATABASE_URL
const redisUrl = process.env.REDIS_URL

const deployments = [
  [
    'postgres',
    databaseUrl !== undefined,
    { DATABASE_URL: databaseUrl ?? '' },
    'accounts: postgres; nonces, time-locks and rate limits: postgres',
  ],
  [
    'redis',
    redisUrl !== undefined,
    { REDIS_URL: redisUrl ?? '' },
    'accounts: redis; nonces, time-locks and rate limits: redis',
  ],
  [
    'postgres + redis',
    databaseUrl !== undefined && redisUrl !== undefined,
    { DATABASE_URL: databaseUrl ?? '', REDIS_URL: redisUrl ?? '' },
    'accounts: postgres; nonces, time-locks and rate limits: redis',
  ],
] as const

let dataDir: string
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'better-auth-stores-'))
})
afterAll(() => rm(dataDir, { recursive: true, force: true }))

for (const [name, available, env, description] of deployments) {
  describe.skipIf(!available)(`example server on ${name} (needs DATABASE_URL / REDIS_URL)`, () => {
    let server: RunningServer
    beforeAll(async () => {
      server = await startServer(
        ['--data-dir', join(dataDir, name.replace(/\W+/g, '-'))],
        20_000,
        env,
      )
    }, 30_000)
    afterAll(() => server?.stop())

    it('runs on the stores it was given', async () => {
      await expect.poll(() => server.output(), { timeout: 5_000 }).toContain(description)
    })

    it.each(scenarios.map((s) => [s.id, s] as const))(
      'passes %s over HTTP',
      async (_id, scenario) => {
        await scenario.run(await httpClients(server.url), STRICT)
      },
    )
  })
}

describe.skipIf(databaseUrl === undefined || redisUrl === undefined)(
  'two server processes sharing one PostgreSQL and Redis',
  () => {
    it('serve one client alternately: sessions created on one are refreshed on the other', async () => {
      const env = { DATABASE_URL: databaseUrl!, REDIS_URL: redisUrl! }
      const keys = ['--keys', join(dataDir, 'shared-keys.json')]
      const first = await startServer(['--data-dir', join(dataDir, 'one'), ...keys], 20_000, env)
      const second = await startServer(['--data-dir', join(dataDir, 'two'), ...keys], 20_000, env)
      try {
        expect(await fetchResponseKey(second.url)).toBe(await fetchResponseKey(first.url))
        const targets = [new FetchNetwork(first.url), new FetchNetwork(second.url)]
        const served: string[] = []
        let turn = 0
        const alternating: Network = {
          sendRequest(path, message) {
            const target = turn++ % 2
            served.push(`${path}@${target}`)
            return targets[target]!.sendRequest(path, message)
          },
        }
        const clients = await httpClients(first.url, { network: alternating })
        for (const scenario of scenarios) await scenario.run(clients, STRICT)
        // The challenge was issued by one process and answered on the other, and so on.
        expect(served).toContain('/session/request@0')
        expect(served.some((entry) => entry.endsWith('@1'))).toBe(true)
      } finally {
        await Promise.all([first.stop(), second.stop()])
      }
    }, 60_000)
  },
)
