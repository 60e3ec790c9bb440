import type { BetterAuthClient, Network } from '@better-auth/client'
import { FetchNetwork } from '@better-auth/client'
import { generateKey, hasher, httpClients } from '@better-auth/integration'
import { devicesOf } from '@better-auth/server'
import { SqliteStores } from '@better-auth/store-sqlite'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { startServer } from './process.js'

const ACCOUNTS = 4
const RUN_MS = 1_500

/** Rotates until the first failure (the server is gone), counting the acknowledged rotations. */
async function rotateUntilFailure(client: BetterAuthClient, acknowledged: { count: number }) {
  try {
    for (;;) {
      await client.rotateDevice()
      acknowledged.count += 1
    }
  } catch {
    // The kill: what matters is what the database holds.
  }
}

describe('a change and its event cannot be separated by a crash (SQLite, kill -9)', () => {
  it('after SIGKILL mid-rotations, every device key in the store is the one its log last gave it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'better-auth-event-crash-'))
    const server = await startServer(['--data-dir', dir])
    try {
      const network: Network = new FetchNetwork(server.url)
      const clients = await httpClients(server.url, { network })
      const accounts = await Promise.all(
        Array.from({ length: ACCOUNTS }, async () => {
          const client = clients.newClient()
          const recovery = await hasher.sum(await (await generateKey()).public())
          const { identity, device } = await client.createAccount(recovery)
          return { client, identity, device, acknowledged: { count: 0 } }
        }),
      )
      const running = accounts.map((a) => rotateUntilFailure(a.client, a.acknowledged))
      await new Promise((resolve) => setTimeout(resolve, RUN_MS))
      // No graceful shutdown: rotations are in flight, some committed and not yet answered.
      expect(await server.stop('SIGKILL')).toBe(null)
      await Promise.all(running)

      const stores = SqliteStores.open({ filename: join(dir, 'better-auth.sqlite') })
      try {
        let rotations = 0
        for (const { identity, device, acknowledged } of accounts) {
          const history = await stores.accountEvents.history(identity)
          const rotated = history.filter((event) => event.type === 'device-rotated').length
          // Every acknowledged rotation is in the log; at most the one in flight is there too.
          expect(rotated).toBeGreaterThanOrEqual(acknowledged.count)
          expect(rotated).toBeLessThanOrEqual(acknowledged.count + 1)
          rotations += rotated
          const [summary] = devicesOf(history)
          expect(summary?.device).toBe(device)
          expect(summary?.state).toBe('active')
          // The key the store holds is the key of the device's last event: neither a committed
          // rotation without its event nor an event without its rotation.
          expect(await stores.authenticationKey.publicKey(identity, device)).toBe(
            summary?.publicKey,
          )
        }
        expect(rotations).toBeGreaterThan(ACCOUNTS)
      } finally {
        await stores.close()
      }
    } finally {
      await server.stop()
      await rm(dir, { recursive: true, force: true })
    }
  }, 60_000)
})
