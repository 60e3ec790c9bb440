import {
  ExpiredTokenError,
  InvalidDeviceError,
  InvalidMessageError,
  ReplayError,
  StorageUnavailableError,
} from '@better-auth/protocol'
import { describe, expect, it } from 'vitest'
import { mapError } from './errors.js'

describe('mapError', () => {
  it.each([
    [new InvalidMessageError('message', 'bad'), 400, 'BA101'],
    [new InvalidDeviceError('revoked'), 401, 'BA103'],
    [new ReplayError('access-nonce'), 409, 'BA205'],
    [new ExpiredTokenError('access'), 401, 'BA401'],
    [new StorageUnavailableError('redis', new Error('ECONNRESET 10.0.0.1:6379')), 503, 'BA603'],
  ])('maps %s to its status and code', (error, status, code) => {
    const mapped = mapError(error)
    expect(mapped.status).toBe(status)
    expect(mapped.body.error.code).toBe(code)
    expect(JSON.stringify(mapped.body)).not.toContain('ECONNRESET')
  })

  it('maps fastify request errors to BA101 with their own 4xx status', () => {
    const tooLarge = Object.assign(new Error('Request body is too large'), {
      code: 'FST_ERR_CTP_BODY_TOO_LARGE',
      statusCode: 413,
    })
    expect(mapError(tooLarge)).toMatchObject({ status: 413, body: { error: { code: 'BA101' } } })
  })

  it('hides unexpected failures behind 500 BA000', () => {
    const mapped = mapError(Object.assign(new Error('secret path /etc/x'), { code: 'ENOENT' }))
    expect(mapped).toMatchObject({ status: 500, known: false, body: { error: { code: 'BA000' } } })
    expect(JSON.stringify(mapped.body)).not.toContain('secret')
  })
})
