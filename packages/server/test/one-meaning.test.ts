import { SecureNoncer } from '@better-auth/crypto'
import {
  buildRequestPayload,
  encodeAccessToken,
  signPayload,
  signPayloadText,
  type SigningKey,
  type Verifier,
} from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'
import { BetterAuthHttp } from '../src/http/index.js'
import { AccessVerifier, StaticVerificationKeyStore } from '../src/index.js'
import {
  codeOf,
  createHarness,
  generateKey,
  hasher,
  tokenEncoder,
  verifier,
  type Harness,
} from './harness.js'

// One signature must mean one message: whatever a reader of the signed text could take in two
// ways (a duplicate key, bytes that are not UTF-8, a number a double cannot hold, nesting no
// reader is obliged to follow) is refused with BA101 before any signature work, and a refused
// request spends nothing: its nonce, or its rotation, still works afterwards.

const noncer = new SecureNoncer()

/** A verifier that counts its calls: refusals must come before any. */
function countingVerifier() {
  const calls = { count: 0 }
  const counting: Verifier = {
    verify: (message, signature, publicKey) => {
      calls.count++
      return verifier.verify(message, signature, publicKey)
    },
  }
  return { calls, counting }
}

/** A client access key with a token the harness's access key issued for it. */
async function accessKit(harness: Harness) {
  const clientKey = await generateKey()
  const now = harness.clock.now
  const token = await encodeAccessToken(
    {
      serverIdentity: await harness.accessKey.public(),
      device: await hasher.sum('device'),
      identity: await hasher.sum('identity'),
      publicKey: await clientKey.public(),
      rotationHash: await hasher.sum('next'),
      issuedAt: new Date(now).toISOString(),
      expiry: new Date(now + 15 * 60_000).toISOString(),
      refreshExpiry: new Date(now + 12 * 3_600_000).toISOString(),
      attributes: {},
    },
    harness.accessKey,
    tokenEncoder,
  )
  const timestamp = new Date(now).toISOString()
  const { calls, counting } = countingVerifier()
  const accessVerifier = new AccessVerifier({
    crypto: { verifier: counting },
    encoding: { timestamper: harness.timestamper, tokenEncoder },
    stores: {
      accessNonce: harness.stores.accessNonce,
      accessVerificationKeys: new StaticVerificationKeyStore([harness.accessKey]),
    },
  })
  return {
    token,
    timestamp,
    calls,
    accessVerifier,
    access: (nonce: string) => `{"nonce":"${nonce}","timestamp":"${timestamp}","token":"${token}"}`,
    sign: (payloadText: string) => signPayloadText(clientKey, payloadText),
  }
}

type Kit = Awaited<ReturnType<typeof accessKit>>

const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`

const malformedAccess: [string, (kit: Kit, nonce: string, other: string) => string][] = [
  [
    'two nonces',
    (k, nonce, other) =>
      `{"access":{"nonce":"${other}","nonce":"${nonce}","timestamp":"${k.timestamp}","token":"${k.token}"},"request":{}}`,
  ],
  [
    'two timestamps',
    (k, nonce) =>
      `{"access":{"nonce":"${nonce}","timestamp":"2000-01-01T00:00:00.000Z","timestamp":"${k.timestamp}","token":"${k.token}"},"request":{}}`,
  ],
  [
    'two tokens',
    (k, nonce) =>
      `{"access":{"nonce":"${nonce}","timestamp":"${k.timestamp}","token":"${k.token}","token":"${k.token}"},"request":{}}`,
  ],
  [
    'two request members',
    (k, nonce) => `{"access":${k.access(nonce)},"request":{"qty":1},"request":{"qty":100}}`,
  ],
  [
    'a duplicate key in application data',
    (k, nonce) => `{"access":${k.access(nonce)},"request":{"order":[{"qty":1,"qty":100}]}}`,
  ],
  ['20 000 nested arrays', (k, nonce) => `{"access":${k.access(nonce)},"request":${deep(20_000)}}`],
  [
    'an integer beyond 2^53 that a double cannot hold',
    (k, nonce) => `{"access":${k.access(nonce)},"request":{"id":9007199254740993}}`,
  ],
  [
    'a decimal that does not read back as itself',
    (k, nonce) => `{"access":${k.access(nonce)},"request":{"price":0.30000000000000001}}`,
  ],
  [
    'a lone surrogate, which has no UTF-8 form',
    (k, nonce) => `{"access":${k.access(nonce)},"request":{"name":"\ud800"}}`,
  ],
]

describe('access requests: one signature, one meaning', () => {
  it.each(malformedAccess)(
    '%s: BA101 before any signature work, and the nonce is not spent',
    async (_name, payload) => {
      const harness = await createHarness()
      const kit = await accessKit(harness)
      const nonce = await noncer.generate128()
      const other = await noncer.generate128()
      const message = await kit.sign(payload(kit, nonce, other))
      expect(await codeOf(kit.accessVerifier.verify(message))).toBe('BA101')
      expect(kit.calls.count).toBe(0)
      for (const unspent of [nonce, other]) {
        const valid = await kit.sign(`{"access":${kit.access(unspent)},"request":{"qty":1}}`)
        await expect(kit.accessVerifier.verify(valid)).resolves.toMatchObject({
          nonce: unspent,
          request: { qty: 1 },
        })
      }
    },
  )

  it(`reads application data nested up to the documented limit`, async () => {
    const harness = await createHarness()
    const kit = await accessKit(harness)
    const nonce = await noncer.generate128()
    const message = await kit.sign(`{"access":${kit.access(nonce)},"request":${deep(64)}}`)
    await expect(kit.accessVerifier.verify(message)).resolves.toMatchObject({ nonce })
  })

  it('hands a route that opts into the raw text the exact JSON of its data, numbers unchecked', async () => {
    const harness = await createHarness()
    const kit = await accessKit(harness)
    const nonce = await noncer.generate128()
    const data = '{ "id": 9007199254740993, "price": 0.30000000000000001 }'
    const message = await kit.sign(`{"access":${kit.access(nonce)},"request":${data}}`)
    expect(await codeOf(kit.accessVerifier.verify(message))).toBe('BA101')
    const verified = await kit.accessVerifier.verify(message, { request: 'text' })
    expect(verified.request).toBe(data)
    expect(verified.nonce).toBe(nonce)
    // Verified like any request: the nonce is now spent.
    expect(await codeOf(kit.accessVerifier.verify(message, { request: 'text' }))).toBe('BA205')
    // Only the number rule is waived: duplicates are refused all the same.
    const twice = await kit.sign(
      `{"access":${kit.access(await noncer.generate128())},"request":{"id":1,"id":2}}`,
    )
    expect(await codeOf(kit.accessVerifier.verify(twice, { request: 'text' }))).toBe('BA101')
  })

  it('refuses an unknown request mode as a configuration error', async () => {
    const harness = await createHarness()
    const kit = await accessKit(harness)
    const message = await kit.sign(
      `{"access":${kit.access(await noncer.generate128())},"request":1}`,
    )
    expect(await codeOf(kit.accessVerifier.verify(message, { request: 'raw' as 'text' }))).toBe(
      'BA001',
    )
  })
})

/** Keys for an account this test signs for itself, so it can sign any text. */
async function ownAccount() {
  const key = await generateKey()
  const next = await generateKey()
  const recovery = await generateKey()
  const publicKey = await key.public()
  const rotationHash = await hasher.sum(await next.public())
  const recoveryHash = await hasher.sum(await recovery.public())
  return {
    key,
    next,
    publicKey,
    rotationHash,
    recoveryHash,
    device: await hasher.sum(publicKey + rotationHash),
    identity: await hasher.sum(publicKey + rotationHash + recoveryHash),
  }
}

async function rotation(account: Awaited<ReturnType<typeof ownAccount>>, next: SigningKey) {
  return {
    device: account.device,
    identity: account.identity,
    publicKey: await account.next.public(),
    rotationHash: await hasher.sum(await next.public()),
  }
}

describe('protocol requests: one signature, one meaning', () => {
  it('createAccount with two identities: BA101, and nothing is registered', async () => {
    const harness = await createHarness()
    const account = await ownAccount()
    const { device, identity, publicKey, recoveryHash, rotationHash } = account
    const other = await hasher.sum('someone else')
    const nonce = await noncer.generate128()
    // The last value is the valid one, which a last-wins parser would register.
    const payloadText = `{"access":{"nonce":"${nonce}"},"request":{"authentication":{"device":"${device}","identity":"${other}","identity":"${identity}","publicKey":"${publicKey}","recoveryHash":"${recoveryHash}","rotationHash":"${rotationHash}"}}}`
    expect(
      await codeOf(harness.server.createAccount(await signPayloadText(account.key, payloadText))),
    ).toBe('BA101')
    const valid = buildRequestPayload('createAccount', nonce, {
      authentication: { device, identity, publicKey, recoveryHash, rotationHash },
    })
    await expect(
      harness.server.createAccount(await signPayload(account.key, valid)),
    ).resolves.toBeTypeOf('string')
  })

  it('rotateDevice with two request members: BA101, and the rotation is not spent', async () => {
    const harness = await createHarness()
    const account = await ownAccount()
    const { device, identity, publicKey, recoveryHash, rotationHash } = account
    const create = buildRequestPayload('createAccount', await noncer.generate128(), {
      authentication: { device, identity, publicKey, recoveryHash, rotationHash },
    })
    await harness.server.createAccount(await signPayload(account.key, create))

    const intended = await rotation(account, await generateKey())
    const hijack = await rotation(account, await generateKey())
    const nonce = await noncer.generate128()
    const payloadText = `{"access":{"nonce":"${nonce}"},"request":{"authentication":${JSON.stringify(hijack)}},"request":{"authentication":${JSON.stringify(intended)}}}`
    expect(
      await codeOf(harness.server.rotateDevice(await signPayloadText(account.next, payloadText))),
    ).toBe('BA101')

    const valid = buildRequestPayload('rotateDevice', nonce, { authentication: intended })
    await expect(
      harness.server.rotateDevice(await signPayload(account.next, valid)),
    ).resolves.toBeTypeOf('string')
  })
})

describe('over HTTP (BetterAuthHttp)', () => {
  async function routes() {
    const harness = await createHarness()
    const kit = await accessKit(harness)
    const access = new AccessVerifier({
      crypto: { verifier, responseKey: harness.responseKey },
      encoding: { timestamper: harness.timestamper, tokenEncoder },
      stores: {
        accessNonce: harness.stores.accessNonce,
        accessVerificationKeys: new StaticVerificationKeyStore([harness.accessKey]),
      },
    })
    const http = new BetterAuthHttp({ access })
    const seen: unknown[] = []
    const orders = http.access((verified) => {
      seen.push(verified.request)
      return { ok: true }
    })
    const ledger = http.access<string>(
      (verified) => {
        seen.push(verified.request)
        return null
      },
      { request: 'text' },
    )
    const post = (body: Uint8Array | string) =>
      new Request('http://server.test/orders', {
        method: 'POST',
        body: typeof body === 'string' ? body : new Blob([new Uint8Array(body)]),
        headers: { 'content-type': 'application/json' },
      })
    return { kit, orders, ledger, post, seen }
  }

  it('refuses a body that is not UTF-8 (400 BA101), and the nonce is not spent', async () => {
    const { kit, orders, post, seen } = await routes()
    const nonce = await noncer.generate128()
    // Signed over U+FFFD, sent with the invalid byte 0xC3 in its place.
    const message = await kit.sign(`{"access":${kit.access(nonce)},"request":{"name":"\ufffd("}}`)
    const [before, after] = message.split('\ufffd(') as [string, string]
    const encode = (text: string) => new TextEncoder().encode(text)
    const bytes = new Uint8Array([...encode(before), 0xc3, 0x28, ...encode(after)])
    const refused = await orders(post(bytes))
    expect(refused.status).toBe(400)
    expect(await refused.text()).toMatch(/"BA101".*UTF-8/)
    expect(seen).toEqual([])
    const valid = await orders(post(await kit.sign(`{"access":${kit.access(nonce)},"request":{}}`)))
    expect(valid.status).toBe(200)
  })

  it("hands a route with { request: 'text' } the exact text of its data", async () => {
    const { kit, orders, ledger, post, seen } = await routes()
    const data = '{"id": 9007199254740993}'
    const message = await kit.sign(
      `{"access":${kit.access(await noncer.generate128())},"request":${data}}`,
    )
    expect((await orders(post(message))).status).toBe(400)
    expect((await ledger(post(message))).status).toBe(200)
    expect(seen).toEqual([data])
  })
})
