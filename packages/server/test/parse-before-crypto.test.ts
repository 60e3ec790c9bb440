import type { Verifier } from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'
import { AccessVerifier, BetterAuthServer, MemoryTimeLockStore } from '../src/index.js'
import {
  codeOf,
  createHarness,
  newAccount,
  tokenEncoder,
  verifier,
  type Harness,
} from './harness.js'

/** The harness's verifier, counting calls: malformed input must be refused before any. */
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

async function session(harness: Harness) {
  const { client } = await newAccount(harness)
  await client.createSession()
  await client.makeAccessRequest('/foo/bar', { foo: 'a', bar: 'b' })
  await client.refreshSession()
  return { access: harness.lastSent('/foo/bar'), refresh: harness.lastSent('/session/refresh') }
}

describe('malformed input is refused before any signature work (protocol.md)', () => {
  it('an access timestamp that is no calendar date: BA101, no verification at all', async () => {
    const harness = await createHarness()
    const { access } = await session(harness)
    const { calls, counting } = countingVerifier()
    const keyLookups: string[] = []
    const accessVerifier = new AccessVerifier({
      crypto: { verifier: counting },
      encoding: { timestamper: harness.timestamper, tokenEncoder },
      stores: {
        accessNonce: new MemoryTimeLockStore(),
        accessVerificationKeys: {
          get: (identity) => {
            keyLookups.push(identity)
            return Promise.resolve(harness.accessKey)
          },
        },
      },
    })
    const month13 = access.replace(/"timestamp":"(\d{4})-\d{2}-/, '"timestamp":"$1-13-')
    expect(month13).not.toBe(access)
    expect(await codeOf(accessVerifier.verify(month13))).toBe('BA101')
    expect(calls.count).toBe(0)
    expect(keyLookups).toEqual([])
  })

  it('a refresh with a garbage token body: BA101 before any signature check', async () => {
    const harness = await createHarness()
    const { refresh } = await session(harness)
    const { calls, counting } = countingVerifier()
    const server = new BetterAuthServer({
      ...harness.serverOptions,
      crypto: { ...harness.serverOptions.crypto, verifier: counting },
    })
    const garbled = refresh.replace(/("token":"0I[A-Za-z0-9_-]{86})[A-Za-z0-9_-]+"/, '$1AAAA"')
    expect(garbled).not.toBe(refresh)
    expect(await codeOf(server.refreshSession(garbled))).toBe('BA101')
    expect(calls.count).toBe(0)
  })
})
