import { Blake3Hasher } from '@better-auth/crypto'
import { NodeP256SigningKey, NodeP256Verifier } from '@better-auth/crypto/node'
import { ChainFile, FileKeyVault, KeyChainOperator } from '@better-auth/keys'
import { verifyEndorsement, verifyKeyChain } from '@better-auth/protocol/key-chain'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { EndorsementRoute, RemoteEndorser } from '../src/endorsement.js'

const crypto = { hasher: new Blake3Hasher(), verifier: new NodeP256Verifier() }
const CREDENTIAL = 'c'.repeat(40)
const HOUR = 3_600_000

let dir: string
let operator: KeyChainOperator
let route: EndorsementRoute
let publicKey: string

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'better-auth-endorse-'))
  operator = new KeyChainOperator({
    chain: new ChainFile(join(dir, 'chain.json')),
    vault: new FileKeyVault(join(dir, 'private')),
  })
  await operator.init()
  route = new EndorsementRoute({
    credential: CREDENTIAL,
    endorser: operator,
    maxWindowMs: 2 * HOUR,
    clockSkewMs: 60_000,
  })
  publicKey = await NodeP256SigningKey.generate().public()
})

afterEach(() => rm(dir, { recursive: true, force: true }))

const request = (fields: Record<string, unknown> = {}) =>
  JSON.stringify({
    purpose: 'response',
    publicKey,
    notBefore: new Date(Date.now() - 60_000).toISOString(),
    notAfter: new Date(Date.now() + HOUR).toISOString(),
    ...fields,
  })

const refusal = async (authorization: string | undefined, body: string) => {
  let read = false
  const answer = await route.handle(authorization, () => {
    read = true
    return Promise.resolve(body)
  })
  return {
    status: answer.status,
    code: (JSON.parse(answer.body) as { error: { code: string } }).error.code,
    read,
  }
}

describe('the endorsement route', () => {
  it('endorses a response key and answers the chain it is signed under', async () => {
    const answer = await route.handle(`Bearer ${CREDENTIAL}`, () => Promise.resolve(request()))
    expect(answer.status).toBe(200)
    const { endorsement, chain } = JSON.parse(answer.body) as {
      endorsement: string
      chain: string[]
    }
    const verified = await verifyEndorsement(
      endorsement,
      await verifyKeyChain(chain, crypto),
      crypto.verifier,
    )
    expect(verified.endorsement).toMatchObject({ purpose: 'response', publicKey })
  })

  it('refuses a stranger before reading the body', async () => {
    expect(await refusal(undefined, request())).toEqual({ status: 401, code: 'BA303', read: false })
    expect(await refusal(`Basic ${CREDENTIAL}`, request())).toMatchObject({ code: 'BA303' })
    expect(await refusal(`Bearer ${'d'.repeat(40)}`, request())).toEqual({
      status: 403,
      code: 'BA304',
      read: false,
    })
  })

  it.each([
    ['an access key: that would mint tokens', { purpose: 'access' }],
    [
      'a window longer than the service endorses',
      { notAfter: new Date(Date.now() + 3 * HOUR).toISOString() },
    ],
    ['a window starting long ago', { notBefore: new Date(Date.now() - HOUR).toISOString() }],
    [
      'a window that ends before it starts',
      { notAfter: new Date(Date.now() - 1000).toISOString() },
    ],
    ['a time that is not one', { notBefore: 'yesterday' }],
    ['a key that is not one', { publicKey: 'not a key' }],
  ])('refuses %s (BA101)', async (_name, fields) => {
    expect(await refusal(`Bearer ${CREDENTIAL}`, request(fields))).toMatchObject({
      status: 400,
      code: 'BA101',
    })
  })

  it('refuses a body that is not JSON', async () => {
    expect(await refusal(`Bearer ${CREDENTIAL}`, '{')).toMatchObject({ status: 400, code: 'BA101' })
  })
})

describe('RemoteEndorser', () => {
  const served = (): typeof fetch => async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input))
    if (url.pathname === '/key/set') {
      return new Response(JSON.stringify({ chain: await operator.events(), keys: [] }))
    }
    const headers = new Headers(init?.headers)
    const answer = await route.handle(headers.get('authorization') ?? undefined, () =>
      Promise.resolve(init?.body as string),
    )
    return new Response(answer.body, { status: answer.status })
  }

  it('has response keys endorsed by the auth service, and refuses another chain', async () => {
    const { prefix } = await operator.show()
    const remote = new RemoteEndorser({
      authUrl: 'http://auth.test',
      credential: CREDENTIAL,
      prefix,
      crypto,
      fetch: served(),
    })
    expect(await remote.events()).toEqual(await operator.events())
    const notBefore = new Date(Date.now() - 1000)
    const text = await remote.endorse({
      purpose: 'response',
      publicKey,
      notBefore,
      notAfter: new Date(Date.now() + HOUR),
    })
    expect(
      (await verifyEndorsement(text, await operator.show(), crypto.verifier)).endorsement.publicKey,
    ).toBe(publicKey)
    // The auth service's refusal arrives as its error class.
    await expect(
      remote.endorse({
        purpose: 'access',
        publicKey,
        notBefore,
        notAfter: new Date(Date.now() + HOUR),
      }),
    ).rejects.toMatchObject({ code: 'BA101', context: { remote: true } })
    const pinnedElsewhere = new RemoteEndorser({
      authUrl: 'http://auth.test',
      credential: CREDENTIAL,
      prefix: 'E' + prefix.slice(1, -1) + (prefix.endsWith('A') ? 'B' : 'A'),
      crypto,
      fetch: served(),
    })
    await expect(pinnedElsewhere.events()).rejects.toMatchObject({ code: 'BA701' })
    const wrongCredential = new RemoteEndorser({
      authUrl: 'http://auth.test',
      credential: 'x'.repeat(40),
      prefix,
      crypto,
      fetch: served(),
    })
    await expect(
      wrongCredential.endorse({
        purpose: 'response',
        publicKey,
        notBefore,
        notAfter: new Date(Date.now() + HOUR),
      }),
    ).rejects.toMatchObject({ code: 'BA304' })
  })
})
