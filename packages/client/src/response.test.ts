import { DEFAULT_MAX_MESSAGE_LENGTH, ProtocolError, RemoteError } from '@better-auth/protocol'
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
  it('turns a known code into a RemoteError with the code and message', () => {
    const error = caught(() =>
      throwIfErrorBody(
        '{"error":{"code":"BA302","message":"Link container identity does not match"}}',
      ),
    )
    expect(error).toBeInstanceOf(RemoteError)
    expect(error).toMatchObject({
      code: 'BA302',
      message: 'Link container identity does not match',
    })
    expect((error as RemoteError).context['remote']).toBe(true)
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
    expect(long).toBeInstanceOf(RemoteError)
    expect((long as RemoteError).message.length).toBeLessThan(600)
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
