import { STATUS_BY_CODE } from '@better-auth/server/http'
import { expect, it } from 'vitest'
import { codeOf, post, session, tampered, type Keys } from './harness.js'

/**
 * What every runtime must do: answer our client's signed access request with a response the client
 * verifies (signed with the response key the runtime read from PKCS #8 PEM, echoing the nonce), and
 * refuse the same request sent again, and a tampered one, with the protocol's error answers.
 */
export function describeAccessChecks(
  appUrl: () => string,
  keys: Keys,
  instance: RegExp,
  replayUrl: () => string = appUrl,
): void {
  it('answers a signed access request from our client', async () => {
    const { client } = await session(keys, appUrl)
    for (const round of [1, 2]) {
      const answer = await client.makeAccessRequest<{ echo: unknown; instance: string }>('/echo', {
        hello: 'runtime',
        round,
      })
      expect(answer.echo).toEqual({ hello: 'runtime', round })
      expect(answer.instance).toMatch(instance)
    }
  })

  it('refuses a replayed access request (BA205) and a tampered one', async () => {
    const { client, lastAccessRequest } = await session(keys, appUrl)
    await client.makeAccessRequest('/echo', { pay: 100 })
    const sent = lastAccessRequest()
    const replay = await post(new URL('/echo', replayUrl()).href, sent)
    expect(codeOf(replay.body)).toBe('BA205')
    expect(replay.status).toBe(STATUS_BY_CODE.BA205)
    const forged = await post(new URL('/echo', appUrl()).href, tampered(sent))
    expect(codeOf(forged.body)).toBe('BA201')
    expect(forged.status).toBe(STATUS_BY_CODE.BA201)
    // The session still works after both refusals.
    await expect(client.makeAccessRequest('/echo', { after: 'replay' })).resolves.toMatchObject({
      echo: { after: 'replay' },
    })
  })

  it('answers other paths with the protocol 404, body unread', async () => {
    const other = await post(new URL('/not-a-route', appUrl()).href, 'x'.repeat(100))
    expect(other.status).toBe(404)
    expect(codeOf(other.body)).toBe('BA101')
  })
}
