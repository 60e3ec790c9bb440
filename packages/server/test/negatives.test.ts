import {
  buildRequestPayload,
  decodeAccessToken,
  encodeAccessToken,
  parseRequest,
  signPayload,
  type SigningKey,
} from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'
import {
  NONCE,
  codeOf,
  createHarness,
  generateKey,
  handAccount,
  hasher,
  newAccount,
  responseCode,
  tokenEncoder,
  type Harness,
} from './harness.js'

async function rotation(
  account: { device: string; identity: string },
  revealed: SigningKey,
  signer: SigningKey = revealed,
) {
  const following = await generateKey()
  return signPayload(
    signer,
    buildRequestPayload('rotateDevice', NONCE, {
      authentication: {
        device: account.device,
        identity: account.identity,
        publicKey: await revealed.public(),
        rotationHash: await hasher.sum(await following.public()),
      },
    }),
  )
}

async function requestChallenge(harness: Harness, identity: string): Promise<string> {
  const request = buildRequestPayload('requestSession', NONCE, { authentication: { identity } })
  const response = await harness.dispatch('/session/request', JSON.stringify({ payload: request }))
  return JSON.parse(response).payload.response.authentication.nonce as string
}

async function createSessionMessage(
  account: { current: SigningKey; device: string },
  challenge: string,
): Promise<string> {
  const accessKey = await generateKey()
  return signPayload(
    account.current,
    buildRequestPayload('createSession', NONCE, {
      access: {
        publicKey: await accessKey.public(),
        rotationHash: await hasher.sum(await (await generateKey()).public()),
      },
      authentication: { device: account.device, nonce: challenge },
    }),
  )
}

function tamperSignature(message: string): string {
  const at = message.lastIndexOf('"') - 5
  return message.slice(0, at) + (message[at] === 'A' ? 'B' : 'A') + message.slice(at + 1)
}

describe('server refuses, with the exact code', () => {
  it('a bad signature (BA201)', async () => {
    const harness = await createHarness()
    const account = await handAccount(harness)
    const message = tamperSignature(await rotation(account, account.next))
    expect(responseCode(await harness.dispatch('/device/rotate', message))).toBe('BA201')
  })

  it('a signature by another key than the one presented (BA201)', async () => {
    const harness = await createHarness()
    const account = await handAccount(harness)
    const message = await rotation(account, account.next, await generateKey())
    expect(responseCode(await harness.dispatch('/device/rotate', message))).toBe('BA201')
  })

  it('a rotation to a key that was not committed to (BA104)', async () => {
    const harness = await createHarness()
    const account = await handAccount(harness)
    const message = await rotation(account, await generateKey())
    expect(responseCode(await harness.dispatch('/device/rotate', message))).toBe('BA104')
  })

  it('a replayed rotation (BA104), while the real one succeeded', async () => {
    const harness = await createHarness()
    const account = await handAccount(harness)
    const message = await rotation(account, account.next)
    expect(responseCode(await harness.dispatch('/device/rotate', message))).toBe('ok')
    expect(responseCode(await harness.dispatch('/device/rotate', message))).toBe('BA104')
  })

  it('two concurrent rotations revealing the same key: exactly one wins', async () => {
    const harness = await createHarness()
    const account = await handAccount(harness)
    const messages = await Promise.all(
      Array.from({ length: 20 }, () => rotation(account, account.next)),
    )
    const codes = await Promise.all(messages.map((m) => harness.dispatch('/device/rotate', m)))
    const outcomes = codes.map(responseCode)
    expect(outcomes.filter((code) => code === 'ok')).toHaveLength(1)
    expect(outcomes.filter((code) => code === 'BA104')).toHaveLength(19)
  })

  it('a device that is not hash(publicKey + rotationHash) (BA103)', async () => {
    const harness = await createHarness()
    const key = await generateKey()
    const publicKey = await key.public()
    const rotationHash = await hasher.sum(await (await generateKey()).public())
    const recoveryHash = await hasher.sum('recovery')
    const identity = await hasher.sum(publicKey + rotationHash + recoveryHash)
    const message = await signPayload(
      key,
      buildRequestPayload('createAccount', NONCE, {
        authentication: {
          device: await hasher.sum('other'),
          identity,
          publicKey,
          recoveryHash,
          rotationHash,
        },
      }),
    )
    expect(responseCode(await harness.dispatch('/account/create', message))).toBe('BA103')
  })

  it('an identity not derived from the key material (BA102)', async () => {
    const harness = await createHarness()
    const key = await generateKey()
    const publicKey = await key.public()
    const rotationHash = await hasher.sum(await (await generateKey()).public())
    const message = await signPayload(
      key,
      buildRequestPayload('createAccount', NONCE, {
        authentication: {
          device: await hasher.sum(publicKey + rotationHash),
          identity: await hasher.sum('someone else'),
          publicKey,
          recoveryHash: await hasher.sum('recovery'),
          rotationHash,
        },
      }),
    )
    expect(responseCode(await harness.dispatch('/account/create', message))).toBe('BA102')
  })

  it('a duplicate account (BA602)', async () => {
    const harness = await createHarness()
    const account = await handAccount(harness)
    expect(responseCode(await harness.dispatch('/account/create', account.createMessage))).toBe(
      'BA602',
    )
  })

  it('a reused challenge (BA204)', async () => {
    const harness = await createHarness()
    const { client } = await newAccount(harness)
    await client.createSession()
    const create = harness.lastSent('/session/create')
    expect(responseCode(await harness.dispatch('/session/create', create))).toBe('BA204')
  })

  it('an expired challenge (BA204), consumed even though the request failed', async () => {
    const harness = await createHarness()
    const account = await handAccount(harness)
    const challenge = await requestChallenge(harness, account.identity)
    harness.clock.advance(harness.server.expiry.challengeMs)
    const message = await createSessionMessage(account, challenge)
    expect(responseCode(await harness.dispatch('/session/create', message))).toBe('BA204')

    const fresh = await requestChallenge(harness, account.identity)
    const forged = await createSessionMessage({ ...account, current: await generateKey() }, fresh)
    expect(responseCode(await harness.dispatch('/session/create', forged))).toBe('BA201')
    const honest = await createSessionMessage(account, fresh)
    expect(responseCode(await harness.dispatch('/session/create', honest))).toBe('BA204')
  })

  it('a challenge issued for another identity (BA103)', async () => {
    const harness = await createHarness()
    const victim = await newAccount(harness)
    const attacker = await newAccount(harness)
    const challenge = JSON.parse(
      await harness.dispatch(
        '/session/request',
        JSON.stringify({
          payload: buildRequestPayload('requestSession', NONCE, {
            authentication: { identity: victim.identity },
          }),
        }),
      ),
    ).payload.response.authentication.nonce as string
    await attacker.client.createSession()
    const honest = parseRequest('createSession', harness.lastSent('/session/create'))
    // Re-sign the attacker's own request around the victim's challenge.
    const key = await generateKey()
    const forged = await signPayload(
      key,
      buildRequestPayload('createSession', NONCE, {
        access: honest.payload.request.access,
        authentication: { device: honest.payload.request.authentication.device, nonce: challenge },
      }),
    )
    expect(responseCode(await harness.dispatch('/session/create', forged))).toBe('BA103')
  })

  it('a link container for another identity (BA302)', async () => {
    const harness = await createHarness()
    const { client } = await newAccount(harness)
    const other = await newAccount(harness)
    const stranger = harness.newClient()
    const container = await stranger.generateLinkContainer(other.identity)
    expect(await codeOf(client.linkDevice(container))).toBe('BA302')
    // The refused link did not consume the rotation: the device still rotates normally.
    await client.rotateDevice()
  })

  it('recovery with a wrong key (BA104)', async () => {
    const harness = await createHarness()
    const { identity } = await newAccount(harness)
    const fresh = harness.newClient()
    const wrong = await generateKey()
    expect(await codeOf(fresh.recoverAccount(identity, wrong, await hasher.sum('x')))).toBe('BA104')
  })

  it('a refresh that reuses an access key (BA205)', async () => {
    const harness = await createHarness()
    const { client } = await newAccount(harness)
    await client.createSession()
    await client.refreshSession()
    const refresh = harness.lastSent('/session/refresh')
    expect(responseCode(await harness.dispatch('/session/refresh', refresh))).toBe('BA205')
  })

  it('a refresh after the refresh expiry (BA401)', async () => {
    const harness = await createHarness()
    const { client } = await newAccount(harness)
    await client.createSession()
    harness.clock.advance(harness.server.expiry.refreshMs + 1)
    expect(await codeOf(client.refreshSession())).toBe('BA401')
  })

  it('an expired access token (BA401), then fine again after refresh', async () => {
    const harness = await createHarness()
    const { client } = await newAccount(harness)
    await client.createSession()
    harness.clock.advance(harness.server.expiry.accessMs + 1)
    expect(await codeOf(client.makeAccessRequest('/foo/bar', { foo: 'a', bar: 'b' }))).toBe('BA401')
    await client.refreshSession()
    expect(await client.makeAccessRequest('/foo/bar', { foo: 'a', bar: 'b' })).toEqual({
      wasFoo: 'a',
      wasBar: 'b',
    })
  })

  it('a token issued in the future (BA403)', async () => {
    const harness = await createHarness()
    const { client } = await newAccount(harness)
    harness.clock.advance(60_000)
    await client.createSession()
    harness.clock.advance(-60_000)
    expect(await codeOf(client.makeAccessRequest('/foo/bar', { foo: 'a', bar: 'b' }))).toBe('BA403')
  })

  it('a stale (BA501) and a future (BA502) access request', async () => {
    const harness = await createHarness()
    const { accessWindowMs, clockSkewMs } = harness.server.expiry
    for (const [offset, code] of [
      [-(accessWindowMs + 1), 'BA501'],
      [clockSkewMs + 1, 'BA502'],
      [-accessWindowMs, 'ok'],
      [clockSkewMs, 'ok'],
    ] as const) {
      const client = harness.newClient({ clockOffsetMs: offset })
      await client.createAccount(await hasher.sum('recovery'))
      await client.createSession()
      const result = client.makeAccessRequest('/foo/bar', { foo: 'a', bar: 'b' })
      expect(
        await result.then(
          () => 'ok',
          (e: { code: string }) => e.code,
        ),
        `offset ${offset}`,
      ).toBe(code)
    }
  })

  it('a replayed access nonce (BA205)', async () => {
    const harness = await createHarness()
    const { client } = await newAccount(harness)
    await client.createSession()
    await client.makeAccessRequest('/foo/bar', { foo: 'a', bar: 'b' })
    expect(responseCode(await harness.dispatch('/foo/bar', harness.lastSent('/foo/bar')))).toBe(
      'BA205',
    )
  })

  it('a token signed by an unknown server key (BA402)', async () => {
    const harness = await createHarness()
    const elsewhere = await createHarness()
    const { client } = await newAccount(elsewhere)
    await client.createSession()
    await client.makeAccessRequest('/foo/bar', { foo: 'a', bar: 'b' })
    const message = elsewhere.lastSent('/foo/bar')
    expect(responseCode(await harness.dispatch('/foo/bar', message))).toBe('BA402')
  })

  it('a token whose body was tampered with (BA201)', async () => {
    const harness = await createHarness()
    const { client } = await newAccount(harness)
    await client.createSession()
    await client.refreshSession()
    const refresh = parseRequest('refreshSession', harness.lastSent('/session/refresh'))
    const decoded = await decodeAccessToken(refresh.payload.request.access.token, tokenEncoder)
    const forger = { sign: () => Promise.resolve(decoded.signature) } as unknown as SigningKey
    const tampered = await encodeAccessToken(
      { ...decoded.body, attributes: { permissionsByRole: { root: ['everything'] } } },
      forger,
      tokenEncoder,
    )
    const accessKey = await generateKey()
    const message = await signPayload(accessKey, {
      access: {
        nonce: NONCE,
        timestamp: new Date(harness.clock.now).toISOString(),
        token: tampered,
      },
      request: { foo: 'a', bar: 'b' },
    })
    expect(responseCode(await harness.dispatch('/foo/bar', message))).toBe('BA201')
  })

  it('malformed input before any crypto (BA101), and the server keeps answering', async () => {
    const harness = await createHarness()
    for (const bad of ['', 'not json', '{}', '[]', '{"payload":{}}', 'x'.repeat(100_000)]) {
      expect(responseCode(await harness.dispatch('/device/rotate', bad))).toBe('BA101')
    }
    await newAccount(harness)
  })
})

describe('client refuses', () => {
  it('a rotation response whose signature does not verify (BA803 for BA201), and state is unchanged', async () => {
    const harness = await createHarness()
    let tamper = false
    const client = harness.newClient({
      network: {
        async sendRequest(path, message) {
          const response = await harness.dispatch(path, message)
          return tamper ? tamperSignature(response) : response
        },
      },
    })
    await client.createAccount(await hasher.sum('recovery'))
    tamper = true
    const refused = await client.rotateDevice().then(
      () => undefined,
      (error: unknown) => error,
    )
    expect(refused).toMatchObject({ code: 'BA803', context: { reason: 'BA201' } })
    tamper = false
    // The server did rotate; the client did not commit, so its retry is refused as a replay.
    expect(await codeOf(client.rotateDevice())).toBe('BA104')
    // The kept response is the forged one: resuming re-verifies it and still refuses it.
    expect(await codeOf(client.resumeUnverified())).toBe('BA803')
    expect(client.unverifiedRotations()).toEqual([
      expect.objectContaining({ protocol: 'rotateDevice' }),
    ])
  })
})
