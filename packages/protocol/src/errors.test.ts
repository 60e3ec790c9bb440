import { describe, expect, it } from 'vitest'
import * as errors from './errors.js'
import {
  BetterAuthError,
  ConfigurationError,
  ExpiredTokenError,
  InvalidMessageError,
  StorageUnavailableError,
  ERRORS,
  errorBody,
  isErrorCode,
  remoteError,
  type ErrorCode,
} from './errors.js'

describe('errors', () => {
  it('has exactly one class per code of the ERRORS table, named as the table says', () => {
    const classes = Object.values(errors).filter(
      (value): value is typeof BetterAuthError =>
        typeof value === 'function' && value.prototype instanceof Error,
    )
    const byCode = Object.fromEntries(classes.map((Class) => [Class.code, Class.name]))
    expect(byCode).toEqual(
      Object.fromEntries(Object.entries(errors.ERRORS).map(([code, { name }]) => [code, name])),
    )
    expect(classes).toHaveLength(Object.keys(errors.ERRORS).length)
  })

  it('carry a stable code on the class and the instance, and their own name', () => {
    const error = new ExpiredTokenError('refresh')
    expect(error.code).toBe('BA401')
    expect(ExpiredTokenError.code).toBe('BA401')
    expect(error.name).toBe('ExpiredTokenError')
    expect(error).toBeInstanceOf(BetterAuthError)
    expect(error.context).toEqual({ tokenType: 'refresh' })
  })

  it('serialize as {"error":{code,message,context}}', () => {
    const error = new InvalidMessageError('payload.access', 'missing')
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      error: {
        code: 'BA101',
        message: 'Invalid message: payload.access: missing',
        context: { field: 'payload.access', details: 'missing' },
      },
    })
  })

  it('keep the cause without putting it in the body', () => {
    const cause = new Error('connection refused to postgres://user:secret@host')
    const error = new StorageUnavailableError('postgres', cause)
    expect(error.cause).toBe(cause)
    expect(JSON.stringify(error)).not.toContain('secret')
    expect(JSON.stringify(errorBody(error))).not.toContain('secret')
  })

  it('errorBody hides internals of unexpected failures', () => {
    expect(errorBody(new TypeError('x is undefined at /srv/app.js:12'))).toEqual({
      error: { code: 'BA000', message: 'Internal error' },
    })
    expect(errorBody(new ConfigurationError('expiry.accessMs', 'must be positive'))).toEqual({
      error: { code: 'BA001', message: 'Invalid configuration: expiry.accessMs: must be positive' },
    })
  })

  it("the table names each code's class", () => {
    for (const [code, entry] of Object.entries(ERRORS)) {
      expect(entry.class.code).toBe(code)
      expect(entry.class.name).toBe(entry.name)
    }
  })

  it.each(Object.keys(ERRORS) as ErrorCode[])(
    'remoteError(%s) is the class the server threw, with its code, name and message',
    (code) => {
      const error = remoteError(code, 'as the server said', { tokenType: 'access' })
      expect(error).toBeInstanceOf(ERRORS[code].class)
      expect(error).toBeInstanceOf(BetterAuthError)
      expect(error).toBeInstanceOf(Error)
      expect(error).toMatchObject({ code, name: ERRORS[code].name, message: 'as the server said' })
      expect(error.context).toEqual({ tokenType: 'access', remote: true })
      expect(String(error)).toBe(`${ERRORS[code].name}: as the server said`)
      expect(error.toJSON().error.code).toBe(code)
    },
  )

  it('remote errors are marked remote whatever context the caller passes', () => {
    const error = remoteError('BA204', 'challenge expired', { remote: false })
    expect(error.context).toEqual({ remote: true })
    expect(isErrorCode('BA204')).toBe(true)
    expect(isErrorCode('BA204')).toBe(true)
    expect(isErrorCode('BA999')).toBe(false)
    expect(isErrorCode(42)).toBe(false)
  })
})
