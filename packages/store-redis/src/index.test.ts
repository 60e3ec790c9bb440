import { ConfigurationError } from '@better-auth/protocol'
import { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { RedisStores } from './index.js'

// Option checks happen before any connection, so these run without a server.

describe('public API', () => {
  it('exports exactly the documented runtime values', async () => {
    expect(Object.keys(await import('./index.js')).sort()).toEqual([
      'RedisRevocationFeed',
      'RedisStores',
    ])
  })
})

describe('RedisStores.connect options', () => {
  const url = 'redis://:secret@127.0.0.1:1'
  const client = new Redis({ lazyConnect: true })

  it.each([
    ['no options', undefined],
    ['neither client nor url', {}],
    ['both client and url', { client, url }],
    ['a client that is not one', { client: {} as Redis }],
    ['a url that is not a URL', { url: ':secret@127.0.0.1:6379' }],
    ['a URL of another scheme', { url: 'http://:secret@127.0.0.1:6379' }],
    ['a prefix that is not a string', { url, prefix: 42 as unknown as string }],
  ])('rejects %s with ConfigurationError', async (_, options) => {
    const error: unknown = await RedisStores.connect(
      options as unknown as Parameters<typeof RedisStores.connect>[0],
    ).then(
      () => expect.unreachable('connect resolved'),
      (caught: unknown) => caught,
    )
    expect(error).toBeInstanceOf(ConfigurationError)
    expect((error as ConfigurationError).code).toBe('BA001')
    expect(JSON.stringify(error)).not.toContain('secret')
    expect((error as ConfigurationError).message).not.toContain('secret')
  })
})
