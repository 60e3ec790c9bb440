import {
  DEFAULT_MAX_MESSAGE_LENGTH,
  ExpiredTokenError,
  InvalidMessageError,
  MismatchedIdentitiesError,
  ProtocolError,
} from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'
import { throwIfErrorBody } from './response.js'

function caught(run: () => void): unknown {
  try {
    run()
  } catch (error) {
    return error
  }
  throw new Error('expected a throw')
}

describe('throwIfErrorBody', () => {
  it('turns a known code into the class the server threw, with the code and message', () => {
    const error = caught(() =>
      throwIfErrorBody(
        '{"error":{"code":"BA302","message":"Link container identity does not match"}}',
      ),
    )
    expect(error).toBeInstanceOf(MismatchedIdentitiesError)
    expect(error).toMatchObject({
      code: 'BA302',
      name: 'MismatchedIdentitiesError',
      message: 'Link container identity does not match',
      context: { remote: true },
    })
  })

  it("says which token expired, as the server's ExpiredTokenError does", () => {
    const body = '{"error":{"code":"BA401","message":"Token has expired"}}'
    for (const token of ['access', 'refresh'] as const) {
      const error = caught(() => throwIfErrorBody(body, token))
      expect(error).toBeInstanceOf(ExpiredTokenError)
      expect(error).toMatchObject({ code: 'BA401', context: { remote: true, tokenType: token } })
    }
    // Only an expiry names the token.
    const other = caught(() =>
      throwIfErrorBody('{"error":{"code":"BA101","message":"bad"}}', 'access'),
    )
    expect(other).toBeInstanceOf(InvalidMessageError)
    expect(other).toMatchObject({ context: { remote: true } })
    expect((other as InvalidMessageError).context).not.toHaveProperty('tokenType')
  })

  it('tolerates context and a missing message', () => {
    expect(() =>
      throwIfErrorBody('{"error":{"code":"BA401","context":{"tokenType":"access"}}}'),
    ).toThrow('Remote error BA401')
  })

  it('bounds server-chosen text', () => {
    const long = caught(() =>
      throwIfErrorBody(JSON.stringify({ error: { code: 'BA101', message: 'x'.repeat(5000) } })),
    )
    expect(long).toBeInstanceOf(InvalidMessageError)
    expect((long as InvalidMessageError).message.length).toBeLessThan(600)
    const unknown = caught(() =>
      throwIfErrorBody(JSON.stringify({ error: { code: 'Z'.repeat(500), message: 'm' } })),
    )
    expect(unknown).toBeInstanceOf(ProtocolError)
    expect(String((unknown as ProtocolError).context['code']).length).toBeLessThan(40)
  })

  it.each([
    '{"error":{"code":"BA999","message":"x"}}',
    '{"error":{"code":null}}',
    '{"error":[]}',
    '{"error":null}',
  ])('reports %s as a ProtocolError', (body) => {
    expect(() => throwIfErrorBody(body)).toThrow(ProtocolError)
  })

  it.each([
    ['a response', '{"payload":{},"signature":"x"}'],
    ['an error next to a payload', '{"error":{"code":"BA104"},"payload":{}}'],
    ['not JSON', 'nope'],
    ['a JSON string', '"error"'],
    ['a non-string', 42],
    ['an inherited error key', '{"__proto__":{"error":{"code":"BA104"}}}'],
    [
      'an oversized body',
      `{"error":{"code":"BA104","message":"${'x'.repeat(DEFAULT_MAX_MESSAGE_LENGTH)}"}}`,
    ],
  ])('leaves %s to the response parser', (_, body) => {
    expect(() => throwIfErrorBody(body)).not.toThrow()
  })
})
