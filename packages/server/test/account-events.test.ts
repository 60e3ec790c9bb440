import type { Network } from '@better-auth/client'
import { decodeAccessToken, type AccountEvent, type JsonValue } from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'
import type { AttributesContext, SessionSubject } from '../src/index.js'
import { codeOf, createHarness, hasher, newAccount, tokenEncoder, type Harness } from './harness.js'

/** A network that remembers the last answer to each path, to read the tokens it carried. */
function recording(harness: Harness): { network: Network; last: Map<string, string> } {
  const last = new Map<string, string>()
  return {
    last,
    network: {
      async sendRequest(path, message) {
        const answer = await harness.dispatch(path, message)
        last.set(path, answer)
        return answer
      },
    },
  }
}

async function tokenAttributes(answer: string | undefined): Promise<JsonValue> {
  const parsed = JSON.parse(answer!) as { payload: { response: { access: { token: string } } } }
  const decoded = await decodeAccessToken(parsed.payload.response.access.token, tokenEncoder)
  return decoded.body.attributes
}

describe('in-process events', () => {
  it('hands each committed event to subscribers, as the log holds them', async () => {
    const harness = await createHarness()
    const heard: AccountEvent[] = []
    const unsubscribe = harness.server.subscribe((event) => heard.push(event))
    // A failing listener neither fails the request nor keeps the others from hearing.
    harness.server.subscribe(() => {
      throw new Error('listener bug')
    })
    const { client, identity } = await newAccount(harness)
    await client.rotateDevice()
    await client.createSession()
    await client.refreshSession()
    const history = await harness.server.history!.events(identity)
    expect(history.map(({ sequence: _s, ...event }) => event)).toEqual(heard)
    expect(heard.map((e) => e.type)).toEqual([
      'account-created',
      'device-rotated',
      'session-created',
      'session-refreshed',
    ])
    expect(heard.every((e) => e.at === harness.clock.now)).toBe(true)

    unsubscribe()
    await client.rotateDevice()
    expect(heard).toHaveLength(4)
    expect(await harness.server.history!.events(identity)).toHaveLength(5)
  })

  it('records nothing for a refused request', async () => {
    const harness = await createHarness()
    const { client, identity } = await newAccount(harness)
    const replayed = harness.lastSent('/account/create')
    expect(JSON.parse(await harness.dispatch('/account/create', replayed))).toHaveProperty('error')
    await client.createSession()
    const refresh = harness.lastSent('/session/create')
    expect(JSON.parse(await harness.dispatch('/session/create', refresh))).toHaveProperty('error')
    expect((await harness.server.history!.events(identity)).map((e) => e.type)).toEqual([
      'account-created',
      'session-created',
    ])
  })

  it('refuses a listener that is not a function', async () => {
    const harness = await createHarness()
    expect(() => harness.server.subscribe('nope' as never)).toThrow(
      expect.objectContaining({ code: 'BA001' }),
    )
  })
})

describe('attributes at refresh', () => {
  it('re-evaluates them, so a role change applies at the next refresh', async () => {
    let role = 'user'
    const calls: [SessionSubject, AttributesContext][] = []
    const harness = await createHarness({
      attributes: (subject, context) => {
        calls.push([subject, context])
        return { role }
      },
    })
    const { network, last } = recording(harness)
    const client = harness.newClient({ network })
    const { identity, device } = await client.createAccount(await hasher.sum('recovery'))
    await client.createSession()
    expect(await tokenAttributes(last.get('/session/create'))).toEqual({ role: 'user' })
    role = 'admin'
    await client.refreshSession()
    expect(await tokenAttributes(last.get('/session/refresh'))).toEqual({ role: 'admin' })
    expect(calls).toEqual([
      [{ identity, device }, { session: 'create' }],
      [
        { identity, device },
        { session: 'refresh', current: { role: 'user' } },
      ],
    ])
  })

  it('a provider that fails at refresh leaves the refresh retryable (the access key unspent)', async () => {
    let failing = true
    const harness = await createHarness({
      attributes: (_subject, context) => {
        if (context.session === 'refresh' && failing) throw new Error('role service down')
        return { role: 'user' }
      },
    })
    const client = harness.newClient()
    await client.createAccount(await hasher.sum('recovery'))
    await client.createSession()
    expect(await codeOf(client.refreshSession())).toBe('BA000')
    failing = false
    await client.refreshSession()
  })

  it('keeps them when the provider returns the current ones', async () => {
    const harness = await createHarness({
      attributes: (_subject, context) =>
        context.session === 'refresh' ? context.current : { role: 'kept' },
    })
    const { network, last } = recording(harness)
    const client = harness.newClient({ network })
    await client.createAccount(await hasher.sum('recovery'))
    await client.createSession()
    await client.refreshSession()
    expect(await tokenAttributes(last.get('/session/refresh'))).toEqual({ role: 'kept' })
  })

  it('fails the refresh when the provider throws, and issues no token', async () => {
    let fail = false
    const harness = await createHarness({
      attributes: () => {
        if (fail) throw new Error('directory down')
        return {}
      },
    })
    const { client } = await newAccount(harness)
    await client.createSession()
    fail = true
    expect(await codeOf(client.refreshSession())).not.toBe('ok')
  })
})
