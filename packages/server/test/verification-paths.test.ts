import {
  buildRequestPayload,
  decodeAccessToken,
  encodeAccessToken,
  parseAccessResponse,
  parseResponse,
  protocols,
  signPayload,
  type ProtocolName,
  type ServerRecoveryHashStore,
  type SigningKey,
} from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'
import { BetterAuthServer, errorResponse, signAccessResponse } from '../src/index.js'
import {
  NONCE,
  createHarness,
  generateKey,
  handAccount,
  handAccountRequest,
  hasher,
  responseCode,
  tokenEncoder,
  type Harness,
} from './harness.js'

/** A session created by hand: the test holds the access key and the one it committed to next. */
async function handSession(harness: Harness) {
  const account = await handAccount(harness)
  const request = buildRequestPayload('requestSession', NONCE, {
    authentication: { identity: account.identity },
  })
  const challenge = parseResponse(
    'requestSession',
    await harness.server.requestSession(JSON.stringify({ payload: request })),
  ).payload.response.authentication.nonce
  const accessKey = await generateKey()
  const nextAccessKey = await generateKey()
  const created = await harness.server.createSession(
    await signPayload(
      account.current,
      buildRequestPayload('createSession', NONCE, {
        access: {
          publicKey: await accessKey.public(),
          rotationHash: await hasher.sum(await nextAccessKey.public()),
        },
        authentication: { device: account.device, nonce: challenge },
      }),
    ),
  )
  const token = parseResponse('createSession', created).payload.response.access.token
  return { account, token, nextAccessKey }
}

/** A refreshSession request revealing `revealed`, signed by it, carrying `token`. */
async function refreshMessage(token: string, revealed: SigningKey): Promise<string> {
  return signPayload(
    revealed,
    buildRequestPayload('refreshSession', NONCE, {
      access: {
        publicKey: await revealed.public(),
        rotationHash: await hasher.sum(await (await generateKey()).public()),
        token,
      },
    }),
  )
}

describe('refreshSession checks the token and the access key before spending anything', () => {
  it('refuses a token whose signature is not the server’s (BA201, token), and the key stays unspent', async () => {
    const harness = await createHarness()
    const { token, nextAccessKey } = await handSession(harness)
    const decoded = await decodeAccessToken(token, tokenEncoder)
    // The same body, naming the real server key, signed by someone else.
    const forged = await encodeAccessToken(decoded.body, await generateKey(), tokenEncoder)
    await expect(
      harness.server.refreshSession(await refreshMessage(forged, nextAccessKey)),
    ).rejects.toMatchObject({ code: 'BA201', context: { signed: 'token' } })
    // Refused before the access key was reserved: the genuine refresh still works.
    expect(
      responseCode(await harness.server.refreshSession(await refreshMessage(token, nextAccessKey))),
    ).toBe('ok')
  })

  it('refuses an access key the token did not commit to (BA104), and the committed one stays unspent', async () => {
    const harness = await createHarness()
    const { token, nextAccessKey } = await handSession(harness)
    const stranger = await generateKey()
    await expect(
      harness.server.refreshSession(await refreshMessage(token, stranger)),
    ).rejects.toMatchObject({ code: 'BA104', context: { hashKind: 'access-rotation' } })
    expect(
      responseCode(await harness.server.refreshSession(await refreshMessage(token, nextAccessKey))),
    ).toBe('ok')
  })
})

describe('a refused account change leaves the recovery hash as it was', () => {
  it('createAccount: the key store refuses, the recovery hash is removed, and a retry succeeds', async () => {
    const harness = await createHarness()
    const account = await handAccountRequest()
    const { authenticationKey } = harness.stores
    // The key store already holds the identity (a concurrent or half-finished registration).
    const key = {
      identity: account.identity,
      device: account.device,
      publicKey: account.publicKey,
      rotationHash: account.rotationHash,
    }
    await authenticationKey.registerIdentity(key)
    await expect(harness.server.createAccount(account.createMessage)).rejects.toMatchObject({
      code: 'BA602',
      context: { resource: 'identity' },
    })
    // Without the undo, the recovery hash would now refuse the retry (BA602 from that store).
    await authenticationKey.deleteIdentity(account.identity)
    expect(responseCode(await harness.server.createAccount(account.createMessage))).toBe('ok')
  })

  it('the caller gets the refusal even when undoing the recovery-hash change fails too', async () => {
    const harness = await createHarness()
    const hashes = harness.stores.recoveryHash
    let rotations = 0
    // A recovery-hash backend that goes away after the first write of each request.
    const recoveryHash: ServerRecoveryHashStore = {
      register: (identity, hash) => hashes.register(identity, hash),
      rotate: (identity, expected, next) =>
        ++rotations === 1
          ? hashes.rotate(identity, expected, next)
          : Promise.reject(new Error('backend gone')),
      replace: (identity, next) => hashes.replace(identity, next),
      delete: () => Promise.reject(new Error('backend gone')),
    }
    const server = new BetterAuthServer({
      ...harness.serverOptions,
      stores: { ...harness.stores, recoveryHash },
    })
    const account = await handAccountRequest()
    await harness.stores.authenticationKey.registerIdentity({
      identity: account.identity,
      device: account.device,
      publicKey: account.publicKey,
      rotationHash: account.rotationHash,
    })
    await expect(server.createAccount(account.createMessage)).rejects.toMatchObject({
      code: 'BA602',
    })
    const created = await handAccount(harness)
    const recover = await signPayload(
      created.recovery,
      buildRequestPayload('recoverAccount', NONCE, {
        authentication: {
          device: created.device,
          identity: created.identity,
          publicKey: created.publicKey,
          recoveryHash: await hasher.sum('next recovery'),
          recoveryKey: await created.recovery.public(),
          rotationHash: created.rotationHash,
        },
      }),
    )
    await expect(server.recoverAccount(recover)).rejects.toMatchObject({
      code: 'BA602',
      context: { resource: 'device' },
    })
    expect(rotations).toBe(2)
  })

  it('recoverAccount: the key store refuses, the recovery key is given back, and a retry succeeds', async () => {
    const harness = await createHarness()
    const account = await handAccount(harness)
    const recoveryKey = await account.recovery.public()
    const recover = async (publicKey: string, rotationHash: string) =>
      signPayload(
        account.recovery,
        buildRequestPayload('recoverAccount', NONCE, {
          authentication: {
            device: await hasher.sum(publicKey + rotationHash),
            identity: account.identity,
            publicKey,
            recoveryHash: await hasher.sum(await (await generateKey()).public()),
            recoveryKey,
            rotationHash,
          },
        }),
      )
    // Recovering onto the account's own current device: the key store refuses it (BA602), after
    // the recovery hash was already rotated to the new one.
    await expect(
      harness.server.recoverAccount(await recover(account.publicKey, account.rotationHash)),
    ).rejects.toMatchObject({ code: 'BA602', context: { resource: 'device' } })
    // Without the undo, the recovery key would be spent (BA104) and the account lost.
    const fresh = await generateKey()
    const freshRotation = await hasher.sum(await (await generateKey()).public())
    expect(
      responseCode(
        await harness.server.recoverAccount(await recover(await fresh.public(), freshRotation)),
      ),
    ).toBe('ok')
  })
})

describe('linkDevice', () => {
  it('refuses a valid container of another identity (BA302), and the rotation stays unspent', async () => {
    const harness = await createHarness()
    const account = await handAccount(harness)
    const other = await handAccount(harness)
    const linked = await generateKey()
    const linkedKey = await linked.public()
    const linkedRotation = await hasher.sum(await (await generateKey()).public())
    const container = JSON.parse(
      await signPayload(linked, {
        authentication: {
          device: await hasher.sum(linkedKey + linkedRotation),
          identity: other.identity,
          publicKey: linkedKey,
          rotationHash: linkedRotation,
        },
      }),
    ) as { payload: never; signature: string }
    const authentication = {
      device: account.device,
      identity: account.identity,
      publicKey: await account.next.public(),
      rotationHash: await hasher.sum(await (await generateKey()).public()),
    }
    const link = await signPayload(
      account.next,
      buildRequestPayload('linkDevice', NONCE, { authentication, link: container }),
    )
    await expect(harness.server.linkDevice(link)).rejects.toMatchObject({ code: 'BA302' })
    const rotate = await signPayload(
      account.next,
      buildRequestPayload('rotateDevice', NONCE, { authentication }),
    )
    expect(responseCode(await harness.server.rotateDevice(rotate))).toBe('ok')
  })
})

describe('a server without an account event log', () => {
  it('serves every protocol, records nothing and has no history', async () => {
    const harness = await createHarness()
    const server = new BetterAuthServer({
      ...harness.serverOptions,
      stores: { ...harness.stores, accountEvents: undefined },
    })
    expect(server.history).toBeUndefined()
    const heard: unknown[] = []
    server.subscribe((event) => heard.push(event))
    const paths = new Map(
      Object.entries(protocols).map(([name, { path }]) => [path, name as ProtocolName]),
    )
    const client = harness.newClient({
      network: {
        sendRequest: (path, message) =>
          server.handle(paths.get(path)!, message).catch((error: unknown) => errorResponse(error)),
      },
    })
    const { identity } = await client.createAccount(await hasher.sum('recovery'))
    await client.rotateDevice()
    await client.createSession()
    await client.refreshSession()
    expect(heard).toEqual([])
    expect(await harness.server.history!.events(identity)).toEqual([])
  })
})

describe('answering access requests', () => {
  it('needs the response key: refused before verifying, so the nonce stays unspent', async () => {
    const harness = await createHarness()
    const answering = harness.server.accessVerifier({ accessNonce: harness.stores.accessNonce })
    const client = harness.newClient({
      network: {
        async sendRequest(path, message) {
          if (path !== '/app') return harness.dispatch(path, message)
          // harness.accessVerifier was built without crypto.responseKey.
          expect(harness.accessVerifier.answers).toBe(false)
          await expect(harness.accessVerifier.answer(message, () => 1)).rejects.toMatchObject({
            code: 'BA001',
            context: { field: 'crypto.responseKey' },
          })
          await expect(harness.accessVerifier.respond(NONCE, 1)).rejects.toMatchObject({
            code: 'BA001',
            context: { field: 'crypto.responseKey' },
          })
          // A handler that answers synchronously, and one that answers with a promise.
          return answering.answer<{ n: number }>(message, (access) =>
            access.request.n === 1 ? Promise.resolve({ once: 1 }) : { twice: access.request.n * 2 },
          )
        },
      },
    })
    await client.createAccount(await hasher.sum('recovery'))
    await client.createSession()
    expect(await client.makeAccessRequest('/app', { n: 21 })).toEqual({ twice: 42 })
    expect(await client.makeAccessRequest('/app', { n: 1 })).toEqual({ once: 1 })
  })

  it('signAccessResponse without the server identity asks the key for it', async () => {
    const harness = await createHarness()
    const signed = await signAccessResponse(harness.responseKey, NONCE, { ok: true })
    expect(parseAccessResponse(signed).payload).toEqual({
      access: { nonce: NONCE, serverIdentity: await harness.responseKey.public() },
      response: { ok: true },
    })
  })
})

describe('the access key', () => {
  it('is published for verifiers, and a rotating one needs its verification keys', async () => {
    const harness = await createHarness()
    expect(await harness.server.accessPublicKey()).toBe(await harness.accessKey.public())
    const key = harness.accessKey
    const rotating: SigningKey = {
      sign: (message) => key.sign(message),
      public: () => key.public(),
      verifier: () => key.verifier(),
      verify: (message, signature) => key.verify(message, signature),
      current: () => key,
    }
    // The harness's stores have no accessVerificationKeys.
    const { stores } = harness.serverOptions
    expect(
      () =>
        new BetterAuthServer({
          ...harness.serverOptions,
          crypto: {
            ...harness.serverOptions.crypto,
            keyPairs: { ...harness.serverOptions.crypto.keyPairs, access: rotating },
          },
          stores,
        }),
    ).toThrow(expect.objectContaining({ code: 'BA001' }))
  })
})
