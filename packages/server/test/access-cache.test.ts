import {
  decodeAccessToken,
  encodeAccessToken,
  parseAccessRequest,
  signPayload,
  type SigningKey,
  type VerificationKey,
  type VerificationKeyChange,
  type VerificationKeyStore,
} from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'
import { AccessVerifier, MemoryTimeLockStore } from '../src/index.js'
import {
  codeOf,
  createHarness,
  generateKey,
  newAccount,
  tokenEncoder,
  verifier,
  type Harness,
} from './harness.js'

/**
 * An access request whose token reuses the signature of `message`'s token over an edited body,
 * signed by a key of the forger's own that the edited body names.
 */
async function forgedWithSameSignature(
  harness: Harness,
  message: string,
  edit: (body: Record<string, unknown>) => Record<string, unknown>,
): Promise<string> {
  const { access } = parseAccessRequest(message).payload
  const decoded = await decodeAccessToken(access.token, tokenEncoder)
  const forgerKey = await generateKey()
  const reuse = { sign: () => Promise.resolve(decoded.signature) } as unknown as SigningKey
  const body = edit({ ...decoded.body, publicKey: await forgerKey.public() })
  const token = await encodeAccessToken(body as typeof decoded.body, reuse, tokenEncoder)
  expect(token.slice(0, 88)).toBe(access.token.slice(0, 88))
  return signPayload(forgerKey, {
    access: {
      nonce: '0AAAAAAAAAAAAAAAAAAAAAAA',
      timestamp: harness.timestamper.format(harness.timestamper.now()),
      token,
    },
    request: { foo: 'forged', bar: 'x' },
  })
}

/** The server access key, counting how often it verifies a token signature. */
function countingKeys(key: VerificationKey) {
  const counter = { verifies: 0, retired: false }
  const store: VerificationKeyStore = {
    async get(identity) {
      if (counter.retired || identity !== (await key.public())) throw new Error('unknown key')
      return {
        public: () => key.public(),
        verifier: () => key.verifier(),
        verify: (message, signature) => {
          counter.verifies++
          return key.verify(message, signature)
        },
      }
    },
  }
  // A store that tells of withdrawn keys, as a KeySetKeyStore does.
  const listeners = new Set<(change: VerificationKeyChange) => void>()
  store.onChange = (listener) => {
    listeners.add(listener)
    return () => listeners.delete(listener)
  }
  const withdraw = (withdrawn: string[]) => {
    for (const listener of listeners) listener({ withdrawn })
  }
  return { counter, store, withdraw, listeners }
}

/**
 * Three access requests of one session, captured on the way to the harness's own verifier. The
 * verifier under test has its own nonce store, so to it they are all fresh.
 */
async function setup(tokenCacheSize?: number) {
  const harness = await createHarness()
  const { counter, store, withdraw, listeners } = countingKeys(harness.accessKey)
  const accessVerifier = new AccessVerifier({
    crypto: { verifier },
    encoding: { timestamper: harness.timestamper, tokenEncoder },
    stores: { accessNonce: new MemoryTimeLockStore(), accessVerificationKeys: store },
    tokenCacheSize,
  })
  const { client } = await newAccount(harness)
  await client.createSession()
  const messages: string[] = []
  for (let i = 0; i < 3; i++) {
    await client.makeAccessRequest('/foo/bar', { foo: String(i), bar: 'x' })
    messages.push(harness.lastSent('/foo/bar'))
  }
  return { harness, counter, accessVerifier, messages, store, withdraw, listeners }
}

/** A verifier with placeholder stores, for the options checks made at construction. */
function constructed(options: {
  readonly accessVerificationKeys?: VerificationKeyStore
  readonly tokenCacheSize?: number
}): AccessVerifier {
  return new AccessVerifier({
    crypto: { verifier },
    encoding: {
      timestamper: { now: () => new Date(), format: String, parse: () => new Date() },
      tokenEncoder,
    },
    stores: {
      accessNonce: new MemoryTimeLockStore(),
      accessVerificationKeys: options.accessVerificationKeys ?? {
        get: () => Promise.reject(new Error()),
      },
    },
    ...(options.tokenCacheSize === undefined ? {} : { tokenCacheSize: options.tokenCacheSize }),
  })
}

describe('AccessVerifier token cache', () => {
  it('verifies a token signature once, then serves it from the cache', async () => {
    const { counter, accessVerifier, messages } = await setup()
    for (const message of messages) await accessVerifier.verify(message)
    expect(counter.verifies).toBe(1)
  })

  it('still checks every request signature and nonce on a cache hit', async () => {
    const { accessVerifier, messages } = await setup()
    await accessVerifier.verify(messages[0]!)
    expect(await codeOf(accessVerifier.verify(messages[0]!))).toBe('BA205')
    const tampered = messages[1]!.replace('"foo":"1"', '"foo":"9"')
    expect(await codeOf(accessVerifier.verify(tampered))).toBe('BA201')
  })

  it('still enforces expiry for cached tokens', async () => {
    const { accessVerifier, messages, harness } = await setup()
    await accessVerifier.verify(messages[0]!)
    harness.clock.advance(harness.server.expiry.accessMs + 1)
    expect(await codeOf(accessVerifier.verify(messages[1]!))).toBe('BA401')
  })

  it('verifies (and refuses) a forged token sharing a cached signature; the cached entry stays', async () => {
    const { harness, counter, accessVerifier, messages } = await setup()
    await accessVerifier.verify(messages[0]!)
    expect(counter.verifies).toBe(1)

    const elevated = await forgedWithSameSignature(harness, messages[0]!, (body) => ({
      ...body,
      attributes: { permissionsByRole: { root: ['everything'] } },
    }))
    expect(await codeOf(accessVerifier.verify(elevated))).toBe('BA201')
    expect(counter.verifies).toBe(2)

    // Refused on its lifetime before any signature work, and the real entry stays cached.
    const expired = await forgedWithSameSignature(harness, messages[0]!, (body) => ({
      ...body,
      expiry: '2000-01-01T00:00:00.000Z',
    }))
    expect(await codeOf(accessVerifier.verify(expired))).toBe('BA401')
    await accessVerifier.verify(messages[1]!)
    await accessVerifier.verify(messages[2]!)
    expect(counter.verifies).toBe(2)
  })

  it('verifies every time when the cache is off', async () => {
    const { counter, accessVerifier, messages } = await setup(0)
    for (const message of messages) await accessVerifier.verify(message)
    expect(counter.verifies).toBe(3)
  })

  it('forgets cached verifications on clearTokenCache, so a retired key is refused', async () => {
    const { counter, accessVerifier, messages } = await setup()
    await accessVerifier.verify(messages[0]!)
    counter.retired = true
    accessVerifier.clearTokenCache()
    expect(await codeOf(accessVerifier.verify(messages[1]!))).toBe('BA402')
  })

  it('forgets the tokens of a key its store withdraws, with no call by the application', async () => {
    const { harness, counter, accessVerifier, messages, withdraw, listeners } = await setup()
    expect(listeners.size).toBe(1)
    await accessVerifier.verify(messages[0]!)
    // Another key withdrawn: the cached token stays (no second signature verification).
    withdraw([await (await generateKey()).public()])
    await accessVerifier.verify(messages[1]!)
    expect(counter.verifies).toBe(1)
    counter.retired = true
    withdraw([await harness.accessKey.public()])
    expect(await codeOf(accessVerifier.verify(messages[2]!))).toBe('BA402')
  })

  it('does not cache a token whose key was withdrawn while it was being verified', async () => {
    const { harness, counter, accessVerifier, messages, store, withdraw } = await setup()
    const accessKey = await harness.accessKey.public()
    const get = store.get.bind(store)
    // The withdrawal lands while the key lookup is under way, after it found the key.
    store.get = async (identity) => {
      const key = await get(identity)
      withdraw([accessKey])
      return key
    }
    await accessVerifier.verify(messages[0]!)
    store.get = get
    await accessVerifier.verify(messages[1]!)
    expect(counter.verifies).toBe(2)
  })

  it('does not cache a token verified while clearTokenCache ran', async () => {
    const { counter, accessVerifier, messages, store } = await setup()
    const get = store.get.bind(store)
    // The application retires the key and clears the cache while the lookup is under way.
    store.get = async (identity) => {
      const key = await get(identity)
      accessVerifier.clearTokenCache()
      return key
    }
    await accessVerifier.verify(messages[0]!)
    store.get = get
    counter.retired = true
    expect(await codeOf(accessVerifier.verify(messages[1]!))).toBe('BA402')
  })

  it('rejects an onChange that is not a function at construction', () => {
    expect(() =>
      constructed({
        accessVerificationKeys: {
          get: () => Promise.reject(new Error()),
          onChange: 'subscribe' as never,
        },
      }),
    ).toThrow(
      expect.objectContaining({
        code: 'BA001',
        context: expect.objectContaining({ field: 'stores.accessVerificationKeys.onChange' }),
      }),
    )
  })

  it('rejects a bad cache size at construction', () => {
    expect(() => constructed({ tokenCacheSize: -1 })).toThrow(
      expect.objectContaining({
        code: 'BA001',
        context: expect.objectContaining({ field: 'tokenCacheSize' }),
      }),
    )
  })
})
