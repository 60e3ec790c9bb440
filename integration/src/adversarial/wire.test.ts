import { describe, expect, it } from 'vitest'
import { flipCharAt } from './cases.js'
import { lastLine } from './run.js'
import { judge, type WireResponse } from './wire.js'

const response = (status: number, text: string): WireResponse => ({
  kind: 'response',
  status,
  text,
})

describe('judge', () => {
  it('refuses on a JSON error body, with its code, whatever the status', () => {
    expect(judge(response(401, '{"error":{"code":"BA201","message":"x"}}'))).toEqual({
      verdict: 'refused',
      code: 'BA201',
      status: 401,
    })
    // The Go reference answers every failure with 200 and a bare string.
    expect(judge(response(200, '{"error":"an error occured"}'))).toEqual({
      verdict: 'refused',
      code: '"an error occured"',
      status: 200,
    })
  })

  it('refuses on any non-2xx, JSON or not', () => {
    expect(judge(response(413, 'Payload Too Large'))).toMatchObject({
      verdict: 'refused',
      code: 'non-JSON body',
    })
    expect(judge(response(500, '{"payload":{}}'))).toMatchObject({ verdict: 'refused' })
  })

  it('counts a payload, or a 2xx that is no error body, as accepted', () => {
    expect(judge(response(200, '{"payload":{},"signature":"0I"}'))).toMatchObject({
      verdict: 'ACCEPTED',
      code: 'signed payload',
    })
    expect(judge(response(200, 'ok'))).toMatchObject({ verdict: 'ACCEPTED' })
    expect(judge(response(204, ''))).toMatchObject({ verdict: 'ACCEPTED' })
  })

  it('treats a dropped connection as a refusal and says so', () => {
    expect(judge({ kind: 'no-response', reason: 'ECONNRESET: socket hang up' })).toEqual({
      verdict: 'refused',
      code: 'no response (ECONNRESET: socket hang up)',
    })
  })
})

describe('flipCharAt', () => {
  it('changes exactly one character to another base64url character', () => {
    expect(flipCharAt('EAAB', 1)).toBe('EBAB')
    expect(flipCharAt('EXYZ', 2)).toBe('EXAZ')
  })
})

describe('lastLine', () => {
  it('skips stack frames and access-log lines to find the error message', () => {
    const output = [
      'Error: hash mismatch',
      '    at BetterAuthServer.rotate (/x/src/api/server.ts:431:46)',
      '    at async Server.wrapResponse (/x/examples/server.ts:135:14)',
      '127.0.0.1 - - [27/Nov/2026:14:27:58 +0000] "POST /authenticate/finish HTTP/1.1" 200 31 0.0011',
      '127.0.0.1 - "POST /key/response HTTP/1.1" 200 -',
      '',
    ].join('\n')
    expect(lastLine(output)).toBe('Error: hash mismatch')
    expect(lastLine('127.0.0.1 - "POST /session/refresh HTTP/1.1" 200 -\n')).toBeUndefined()
  })
})
