import {
  decodeAccessToken,
  parseAccessRequest,
  type Revocation,
  type RevocationFeed,
  type ServerAuthenticationKeyStore,
} from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'
import {
  AccessVerifier,
  DeviceLivenessCache,
  MemoryRevocationFeed,
  MemoryTimeLockStore,
  StaticVerificationKeyStore,
} from '../src/index.js'
import {
  codeOf,
  createHarness,
  newAccount,
  tokenEncoder,
  verifier,
  type Harness,
} from './harness.js'

type Devices = Pick<ServerAuthenticationKeyStore, 'publicKey'>

/** The authoritative device store, counting the reads that reach it. */
function counted(harness: Harness) {
  const reads: string[] = []
  const devices: Devices = {
    publicKey: (identity, device) => {
      reads.push(device)
      return harness.stores.authenticationKey.publicKey(identity, device)
    },
  }
  return { reads, devices }
}

async function setup(options: { ttlMs?: number; maxEntries?: number } = {}) {
  const feed = new MemoryRevocationFeed()
  const harness = await createHarness({ revocations: feed })
  const { reads, devices } = counted(harness)
  let now = 1_000_000
  const cache = new DeviceLivenessCache({ devices, feed, now: () => now, ...options })
  await cache.start()
  const verifierFor = () =>
    new AccessVerifier({
      crypto: { verifier },
      encoding: { timestamper: harness.timestamper, tokenEncoder },
      stores: {
        accessNonce: new MemoryTimeLockStore(),
        accessVerificationKeys: new StaticVerificationKeyStore([harness.accessKey]),
        devices: cache,
      },
    })
  const access = verifierFor()
  /** Signs `count` fresh access requests with `client`'s current session. */
  const requests = async (
    client: Awaited<ReturnType<typeof newAccount>>['client'],
    count: number,
  ) => {
    const messages: string[] = []
    for (let i = 0; i < count; i++) {
      await client.makeAccessRequest('/foo/bar', { foo: String(i), bar: 'x' })
      messages.push(harness.lastSent('/foo/bar'))
    }
    return messages
  }
  return {
    feed,
    harness,
    reads,
    cache,
    access,
    verifierFor,
    requests,
    advance: (ms: number) => {
      now += ms
    },
  }
}

/** The identity and device an access request's token names. */
async function tokenSubject(message: string): Promise<{ identity: string; device: string }> {
  const { token } = parseAccessRequest(message).payload.access
  const { identity, device } = (await decodeAccessToken(token, tokenEncoder)).body
  return { identity, device }
}

describe('DeviceLivenessCache with a RevocationFeed', () => {
  it('reads the store once per device, then answers the access path from memory', async () => {
    const { harness, reads, access, requests } = await setup()
    const { client } = await newAccount(harness)
    await client.createSession()
    const messages = await requests(client, 5)
    for (const message of messages) await access.verify(message)
    expect(reads).toHaveLength(1)
  })

  it('refuses an unlinked device at once, with no store read, on every verifier', async () => {
    const { harness, reads, access, verifierFor, requests } = await setup()
    const account = await newAccount(harness)
    const added = harness.newClient()
    await account.client.linkDevice(await added.generateLinkContainer(account.identity))
    await added.createSession()
    const [first, second, third] = await requests(added, 3)
    const other = verifierFor()
    await access.verify(first!)
    expect(reads).toHaveLength(1)

    await account.client.unlinkDevice((await tokenSubject(first!)).device)
    expect(await codeOf(access.verify(second!))).toBe('BA103')
    expect(await codeOf(other.verify(third!))).toBe('BA103')
    expect(reads).toHaveLength(1)
  })

  it('forgets every device of a deleted or recovered account, and remembers refusals', async () => {
    const { harness, reads, access, requests } = await setup()
    const { client } = await newAccount(harness)
    await client.createSession()
    const messages = await requests(client, 3)
    await access.verify(messages[0]!)
    await client.deleteAccount()
    expect(await codeOf(access.verify(messages[1]!))).toBe('BA103')
    expect(reads).toHaveLength(2)
    expect(await codeOf(access.verify(messages[2]!))).toBe('BA103')
    expect(reads).toHaveLength(2)
  })

  it('reads again after its lifetime, after a reset, and never caches a read that raced a revocation', async () => {
    const { harness, reads, access, requests, advance, feed, cache } = await setup({ ttlMs: 1000 })
    const { client } = await newAccount(harness)
    await client.createSession()
    const messages = await requests(client, 4)
    await access.verify(messages[0]!)
    advance(1000)
    await access.verify(messages[1]!)
    expect(reads).toHaveLength(2)

    let listener: Parameters<RevocationFeed['subscribe']>[0] | undefined
    const captured: RevocationFeed = {
      publish: (revocation: Revocation) => feed.publish(revocation),
      announceKeySetChange: () => feed.announceKeySetChange(),
      subscribe: (l) => {
        listener = l
        return Promise.resolve(() => Promise.resolve())
      },
    }
    const { identity, device } = await tokenSubject(messages[2]!)
    let slowReads = 0
    let release: () => void = () => undefined
    const gate = new Promise<void>((resolve) => (release = resolve))
    const slow: Devices = {
      publicKey: async (i, d) => {
        slowReads++
        await gate
        return harness.stores.authenticationKey.publicKey(i, d)
      },
    }
    const racing = new DeviceLivenessCache({ devices: slow, feed: captured })
    await racing.start()
    const pending = racing.publicKey(identity, device)
    listener!.revoked({ identity, device: 'another device' })
    release()
    await pending
    // That answer arrived after a revocation it may not reflect: the next lookup reads again.
    await racing.publicKey(identity, device)
    expect(slowReads).toBe(2)
    await racing.publicKey(identity, device)
    expect(slowReads).toBe(2)
    listener!.reset()
    await racing.publicKey(identity, device)
    expect(slowReads).toBe(3)
    await racing.close()
    await cache.close()
  })

  it('bounds what it remembers', async () => {
    const { harness, reads, requests, cache } = await setup({ maxEntries: 1 })
    const first = await newAccount(harness)
    const second = await newAccount(harness)
    await first.client.createSession()
    await second.client.createSession()
    const [a] = await requests(first.client, 1)
    const [b] = await requests(second.client, 1)
    const lookUp = async (message: string) => {
      const { identity, device } = await tokenSubject(message)
      await cache.publicKey(identity, device)
    }
    // b is remembered (no second read); remembering it pushed a out, which is read again.
    for (const message of [a!, b!, b!]) await lookUp(message)
    expect(reads).toHaveLength(2)
    await lookUp(a!)
    expect(reads).toHaveLength(3)
  })

  it('a failed announcement does not fail the request that made the change', async () => {
    const failing: RevocationFeed = {
      publish: () => Promise.reject(new Error('bus down')),
      announceKeySetChange: () => Promise.reject(new Error('bus down')),
      subscribe: () => Promise.resolve(() => Promise.resolve()),
    }
    const harness = await createHarness({ revocations: failing })
    const { client } = await newAccount(harness)
    await expect(client.deleteAccount()).resolves.toBeUndefined()
  })
})
