import type { RevocationListener } from '@better-auth/protocol'
import { describeRevocationFeed, randomId } from '@better-auth/server/testing'
import { afterAll, describe, expect, it } from 'vitest'
import { PostgresRevocationFeed } from './index.js'
import { DATABASE_URL, e2e, testPool } from './testing-internal/database.js'

const feeds: PostgresRevocationFeed[] = []
const channel = `better_auth_test_${randomId()
  .slice(0, 12)
  .toLowerCase()
  .replace(/[^a-z0-9]/g, '_')}`

function feed(): PostgresRevocationFeed {
  const created = new PostgresRevocationFeed({
    connectionString: DATABASE_URL,
    channel,
    reconnectDelayMs: 50,
  })
  feeds.push(created)
  return created
}

afterAll(async () => {
  await Promise.all(feeds.map((f) => f.close()))
})

async function until(
  condition: () => boolean | Promise<boolean>,
  withinMs = 3000,
): Promise<number> {
  const started = Date.now()
  while (!(await condition())) {
    if (Date.now() - started > withinMs) throw new Error(`not within ${withinMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  return Date.now() - started
}

describe.skipIf(!DATABASE_URL)(e2e('PostgresRevocationFeed'), () => {
  describeRevocationFeed('postgres', () => Promise.resolve(feed()))

  it('reconnects a listener whose connection was terminated, telling it to forget everything', async () => {
    let resets = 0
    const seen: string[] = []
    const listener: RevocationListener = {
      revoked: (revocation) => seen.push(revocation.identity),
      reset: () => resets++,
    }
    const stop = await feed().subscribe(listener)
    const admin = testPool()
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1`, [
      `LISTEN "${channel}"`,
    ])
    await until(() => resets >= 1)
    const identity = `E${randomId()}`
    // Published until heard: the listener may still be reconnecting.
    await until(async () => {
      await feed().publish({ identity })
      await new Promise((resolve) => setTimeout(resolve, 50))
      return seen.includes(identity)
    })
    await admin.query('SELECT pg_notify($1, $2)', [channel, 'not a revocation'])
    await until(() => resets >= 2)
    await admin.end()
    await stop()
  })

  it('refuses a missing URL or a channel that is not an identifier', () => {
    expect(() => new PostgresRevocationFeed({ connectionString: '' })).toThrow(/connectionString/)
    expect(
      () => new PostgresRevocationFeed({ connectionString: DATABASE_URL, channel: 'a;drop' }),
    ).toThrow(/channel/)
  })
})
