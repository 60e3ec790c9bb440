import { InvalidMessageError, NetworkError, signPayloadText } from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'
import type { Network } from './network.js'
import { FetchNetwork } from './network.js'
import {
  createClient,
  createWorld,
  recoveryPair,
  type World,
} from '../../server/src/testing-internal/client-world.js'

// A response means one thing: the client refuses (BA101) a correctly signed response whose text a
// second reader could take differently, and bytes that are not UTF-8, instead of acting on one
// reading of it.

/** The world's server, with the payload of every response on `path` edited and signed again. */
function rewriting(world: World, path: string, edit: (payloadText: string) => string): Network {
  return {
    async sendRequest(to, message) {
      const text = await world.server.sendRequest(to, message)
      if (to !== path) return text
      const payloadText = text.slice('{"payload":'.length, text.lastIndexOf(',"signature":'))
      return signPayloadText(world.responseKey, edit(payloadText))
    },
  }
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.catch((e: unknown) => e)
  expect(error).toBeInstanceOf(InvalidMessageError)
  return String((error as InvalidMessageError).context['field'])
}

describe('responses: one signature, one meaning', () => {
  it('refuses an access response with a duplicate key in its data', async () => {
    const world = createWorld()
    const network = rewriting(world, '/foo/bar', (text) =>
      text.replace('"response":{', '"response":{"wasFoo":"not what the server meant",'),
    )
    const { client } = await createClient(world, network)
    await client.createAccount((await recoveryPair()).hash)
    await client.createSession()
    expect(await refusal(client.makeAccessRequest('/foo/bar', { foo: 'a', bar: 'b' }))).toBe(
      'message.payload.response.wasFoo',
    )
  })

  it('refuses an access response with a number a double cannot hold', async () => {
    const world = createWorld()
    const network = rewriting(world, '/foo/bar', (text) =>
      text.replace('"response":{', '"response":{"id":9007199254740993,'),
    )
    const { client } = await createClient(world, network)
    await client.createAccount((await recoveryPair()).hash)
    await client.createSession()
    expect(await refusal(client.makeAccessRequest('/foo/bar', { foo: 'a', bar: 'b' }))).toBe(
      'message.payload.response.id',
    )
  })

  it('refuses a session response with two tokens, and stores none', async () => {
    const world = createWorld()
    const network = rewriting(world, '/session/create', (text) =>
      text.replace(/"token":("[^"]+")/, '"token":$1,"token":$1'),
    )
    const { client, stores } = await createClient(world, network)
    await client.createAccount((await recoveryPair()).hash)
    expect(await refusal(client.createSession())).toBe('message.payload.response.access.token')
    expect(await stores.accessToken.get()).toBeUndefined()
  })
})

describe('FetchNetwork: bytes that are not UTF-8', () => {
  const answering = (status: number, body: Uint8Array) =>
    new FetchNetwork('https://server.example', {
      fetch: () => Promise.resolve(new Response(new Blob([new Uint8Array(body)]), { status })),
    })
  const invalid = new Uint8Array([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d]) // {"\xC3("}

  it('refuses a response whose bytes are not UTF-8 (BA101), never repairing them', async () => {
    const error = await answering(200, invalid)
      .sendRequest('/foo/bar', '{}')
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InvalidMessageError)
    expect((error as InvalidMessageError).context['field']).toBe('response')
  })

  it('reports a non-UTF-8 error page as a network failure, like any non-protocol body', async () => {
    await expect(answering(502, invalid).sendRequest('/foo/bar', '{}')).rejects.toBeInstanceOf(
      NetworkError,
    )
  })

  it('passes valid UTF-8 through unchanged, byte order mark included', async () => {
    const text = '\ufeff{"é":"✓"}'
    await expect(
      answering(200, new TextEncoder().encode(text)).sendRequest('/foo/bar', '{}'),
    ).resolves.toBe(text)
  })
})
